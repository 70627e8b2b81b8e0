package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// urlManifest is a manifest of CDK 7.x whose one stream's requester has
// the given fields, paginated by a next-page URL put in the path.
func urlManifest(requester string) string {
	return `
version: 7.10.1
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
streams:
  - type: DeclarativeStream
    name: items
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, http_method: GET, ` + requester + `}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestPath}
        pagination_strategy: {type: CursorPagination, cursor_value: "{{ response.next }}", stop_condition: "{{ not response.next }}"}
spec: {type: Spec, connection_specification: {type: object}}
`
}

// TestRequesterURL pins CDK 7.28.2's HttpRequester._get_url and _join_url
// (airbyte_cdk/sources/declarative/requesters/http_requester.py) for the
// requesters only newer CDKs accept, a url or no path, and CDK 6.31.1's
// for a url_base with a path: the first page's request, then the next
// page's, whose URL the paginator strips of the requester's url (else its
// url_base) to make the path (create_simple_retriever's _get_url: url or
// url_base).
func TestRequesterURL(t *testing.T) {
	api := func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.RawQuery, "page=2") {
			fmt.Fprint(w, `{"data": [{"id": 2}]}`)
			return
		}
		fmt.Fprint(w, `{"data": [{"id": 1}], "next": "https://api.example.com/v2/items?page=2"}`)
	}
	for _, c := range []struct{ requester, first, second string }{
		// url alone: requested as it is, no slash added.
		{`url: "https://api.example.com/v2/items"`, "GET /v2/items", "GET /v2/items/?page=2"},
		// url and a path: the path joined to url with a slash.
		// The next page's path, "/items?page=2" once url is stripped, is
		// absolute: urljoin keeps only the host of url.
		{`url: "https://api.example.com/v2", path: "/items"`, "GET /v2/items", "GET /items?page=2"},
		// url_base without a path: url_base as it is (CDK 6.31.1 would
		// add a slash, but refuses a requester without a path).
		{`url_base: "https://api.example.com/v2/items"`, "GET /v2/items", "GET /v2/items/?page=2"},
		// url_base and path, as in CDK 6.31.1: os.path.join(url_base, "")
		// then the path.
		{`url_base: "https://api.example.com/v2", path: "/items"`, "GET /v2/items", "GET /items?page=2"},
		{`url_base: "https://api.example.com/v2/items", path: ""`, "GET /v2/items/", "GET /v2/items/?page=2"},
	} {
		run := runFeature(t, urlManifest(c.requester), `{}`, "", api)
		if run.err != nil {
			t.Errorf("%s: %v", c.requester, run.err)
			continue
		}
		sameStrings(t, c.requester, run.requests, []string{c.first, c.second})
	}
}

// TestNewerFieldRefused: a field only CDKs newer than 6.31.1 know, which
// the engine does not run, leaves Spec and Discover working (it does not
// change the catalog) and makes Check and Read return an
// *UnsupportedError naming it, before any request; a
// newer component type or a field the 6.31.1 schema cannot validate
// without makes New return one.
func TestNewerFieldRefused(t *testing.T) {
	requests := 0
	client := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		requests++
		return nil, errors.New("no request was expected")
	})}
	withField := strings.Replace(urlManifest(`url_base: "https://api.example.com", path: /items`),
		"extractor: {type: DpathExtractor, field_path: [data]}", "extractor: {type: DpathExtractor, field_path: [data]}, transform_before_filtering: true", 1)
	src, err := New([]byte(withField), WithHTTPClient(client))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Spec(context.Background()); err != nil {
		t.Errorf("Spec: %v", err)
	}
	const want = "RecordSelector transform_before_filtering (added to the CDK after 6.31.1) at $.streams[0].retriever.record_selector.transform_before_filtering"
	if _, err := src.Discover(context.Background(), json.RawMessage(`{}`)); err != nil {
		t.Errorf("Discover: %v", err)
	}
	for name, err := range map[string]error{
		"Check": src.Check(context.Background(), json.RawMessage(`{}`)),
		"Read":  src.Read(context.Background(), json.RawMessage(`{}`), allStreams(src), nil, func(*protocol.Message) error { return nil }),
	} {
		var ue *UnsupportedError
		if !errors.As(err, &ue) || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an *UnsupportedError saying %s", name, err, want)
		}
	}
	withType := strings.Replace(urlManifest(`url_base: "https://api.example.com", path: /items`),
		"type: InlineSchemaLoader", "type: InlineSchemaLoader}\n    incremental_sync: {type: IncrementingCountCursor, cursor_field: id", 1)
	_, err = New([]byte(withType), WithHTTPClient(client))
	var ue *UnsupportedError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "IncrementingCountCursor (added to the CDK after 6.31.1) at $.streams[0].incremental_sync") {
		t.Errorf("New with an IncrementingCountCursor: %v, want an *UnsupportedError naming it", err)
	}
	if requests != 0 {
		t.Errorf("%d requests were sent", requests)
	}
}

// TestNewerPartsBesidePythonComponents: a manifest that uses newer parts
// and Python components still lists its Python components, from the
// function PythonComponents (which GetSource calls to pick the connector's
// Docker image, whose CDK runs both) and in New's *UnsupportedError.
func TestNewerPartsBesidePythonComponents(t *testing.T) {
	text := strings.Replace(urlManifest(`url_base: "https://api.example.com", path: /items`),
		"type: InlineSchemaLoader", "type: InlineSchemaLoader}\n    transformations: [{type: CustomTransformation, class_name: source_x.components.Fix}]\n    incremental_sync: {type: IncrementingCountCursor, cursor_field: id", 1)
	got, err := PythonComponents([]byte(text))
	if want := []string{"source_x.components.Fix at $.streams[0].transformations[0]"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("PythonComponents = %v, %v; want %v", got, err, want)
	}
	_, err = New([]byte(text))
	for _, want := range []string{"CustomTransformation (Python class source_x.components.Fix) at $.streams[0].transformations[0]", "IncrementingCountCursor (added to the CDK after 6.31.1) at $.streams[0].incremental_sync"} {
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(fmt.Sprint(err), want) {
			t.Errorf("New: %v, want an *UnsupportedError saying %s", err, want)
		}
	}
}
