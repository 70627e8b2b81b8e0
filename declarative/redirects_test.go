package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// redirectManifest reads items from config's base_url behind an API key in a header, with a
// request header of the manifest's own holding the key too.
const redirectManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
spec:
  type: Spec
  connection_specification:
    type: object
    properties:
      base_url: {type: string}
      api_key: {type: string, airbyte_secret: true}
streams:
  - type: DeclarativeStream
    name: items
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}}}}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: "{{ config['base_url'] }}"
        path: /items
        request_headers: {X-Token: "token {{ config['api_key'] }}"}
        authenticator:
          type: ApiKeyAuthenticator
          api_token: "{{ config['api_key'] }}"
          inject_into: {type: RequestOption, inject_into: header, field_name: X-Api-Key}
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [items]}
`

// TestRedirectToAnotherHostDropsManifestHeaders has the tenant's API answer 302 to another
// host (localhost for 127.0.0.1): the request there must carry neither the authenticator's
// X-Api-Key nor the manifest's own header, which net/http forwarded, while a redirect on the
// same host keeps them, and the client's own CheckRedirect still decides.
func TestRedirectToAnotherHostDropsManifestHeaders(t *testing.T) {
	const key = "tenant-key-5f3a"
	var mu sync.Mutex
	got := map[string]http.Header{}
	record := func(name string, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got[name] = r.Header.Clone()
	}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("other", r)
		w.Write([]byte(`{"items": [{"id": 2}]}`))
	}))
	defer other.Close()
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/items":
			record("first", r)
			http.Redirect(w, r, "/moved", http.StatusFound)
		case "/moved":
			record("same host", r)
			http.Redirect(w, r, otherURL+"/elsewhere", http.StatusFound)
		}
	}))
	defer api.Close()
	config, _ := json.Marshal(map[string]string{"base_url": api.URL, "api_key": key})
	read := func(opts ...Option) ([]json.RawMessage, error) { return readRedirectManifest(t, config, opts...) }
	msgs, err := read()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rawStrings(msgs), "\n"), `{"id":2}`) {
		t.Fatalf("the redirected read gave no record: %s", strings.Join(rawStrings(msgs), "\n"))
	}
	for _, hop := range []string{"first", "same host"} {
		if got[hop].Get("X-Api-Key") != key || got[hop].Get("X-Token") != "token "+key {
			t.Errorf("the %s request lost the manifest's headers: %v", hop, got[hop])
		}
	}
	for name, vals := range got["other"] {
		if strings.Contains(strings.Join(vals, ","), key) {
			t.Errorf("the redirect to another host carried the key in %s: %v", name, vals)
		}
	}

	// A client whose CheckRedirect refuses every redirect is obeyed.
	refuse := errors.New("no redirects for tenants")
	delete(got, "other")
	_, err = read(WithHTTPClient(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return refuse }}), withSleep(noSleep))
	if err == nil || !strings.Contains(err.Error(), refuse.Error()) {
		t.Errorf("the client's CheckRedirect refused, yet the read gave %v", err)
	}
	if got["other"] != nil {
		t.Errorf("the other host was reached although the client refused redirects")
	}
}

// readRedirectManifest reads redirectManifest's stream in full with config.
func readRedirectManifest(t *testing.T, config json.RawMessage, opts ...Option) ([]json.RawMessage, error) {
	t.Helper()
	src, err := New([]byte(redirectManifest), opts...)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := src.Discover(context.Background(), config)
	if err != nil {
		t.Fatal(err)
	}
	cc := &protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{Stream: cat.Streams[0], SyncMode: protocol.SyncFullRefresh}}}
	return readAll(context.Background(), src, config, cc, nil)
}

func rawStrings(ms []json.RawMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m)
	}
	return out
}

// TestSchemeNoAdapterSendsFailsAtOnce gives a url_base whose scheme net/http does not send
// (file://, gopher://): as the CDK maps requests' InvalidSchema, the read fails at once as a
// config_error, where it was retried as a dropped connection for 30 seconds.
func TestSchemeNoAdapterSendsFailsAtOnce(t *testing.T) {
	for _, base := range []string{"file:///etc/passwd", "gopher://127.0.0.1:70"} {
		config, _ := json.Marshal(map[string]string{"base_url": base, "api_key": "k"})
		msgs, err := readRedirectManifest(t, config, withSleep(noSleep))
		all := strings.Join(rawStrings(msgs), "\n")
		if err == nil || !strings.Contains(all, `"failure_type":"config_error"`) || !strings.Contains(all, "InvalidSchema") || strings.Contains(all, "retrying") {
			t.Errorf("%s: got %v\n%s\nwant a config_error naming InvalidSchema, with no retry", base, err, all)
		}
	}
}
