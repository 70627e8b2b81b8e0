package source_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/source"
)

// pruneManifest has three streams of the same records, GET <base>/items
// under "data": one whose schema declares id, one that declares no
// property and allows any (open), and one that declares none and allows
// none.
const pruneManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [declared]}
definitions:
  retriever:
    type: SimpleRetriever
    requester: {type: HttpRequester, url_base: "{{ config['base'] }}", path: /items, http_method: GET}
    record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
streams:
  - {type: DeclarativeStream, name: declared, retriever: {$ref: "#/definitions/retriever"},
     schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}}}}}
  - {type: DeclarativeStream, name: open, retriever: {$ref: "#/definitions/retriever"},
     schema_loader: {type: InlineSchemaLoader, schema: {type: object, additionalProperties: true, properties: {}}}}
  - {type: DeclarativeStream, name: closed, retriever: {$ref: "#/definitions/retriever"},
     schema_loader: {type: InlineSchemaLoader, schema: {type: object, additionalProperties: false, properties: {}}}}
spec:
  type: Spec
  connection_specification: {type: object, required: [base], properties: {base: {type: string}}}
`

// TestRecordsPruneByTheSchema: Map keeps the fields a stream's schema
// declares; a stream that declares none keeps every field when its schema
// allows any (as the caches keep it whole) and none when it allows none
// (as the caches store none); KeepUndeclaredFields keeps every field of
// each.
func TestRecordsPruneByTheSchema(t *testing.T) {
	t.Parallel()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [{"id": 1, "x": "two"}]}`)
	}))
	defer api.Close()
	ctx := context.Background()
	src, err := source.New(ctx, "source-prune", connector.WithManifest([]byte(pruneManifest)), connector.WithConfig(map[string]any{"base": api.URL}))
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]any{"id": int64(1), "x": "two"}
	for _, c := range []struct {
		stream string
		opts   []source.RecordOption
		want   map[string]any
	}{
		{"declared", nil, map[string]any{"id": int64(1)}},
		{"open", nil, all},
		{"closed", nil, map[string]any{}},
		{"declared", []source.RecordOption{source.KeepUndeclaredFields()}, all},
		{"closed", []source.RecordOption{source.KeepUndeclaredFields()}, all},
	} {
		n := 0
		for rec, err := range src.Records(ctx, c.stream, c.opts...) {
			if err != nil {
				t.Fatalf("%s: %v", c.stream, err)
			}
			n++
			if got := rec.Map(); !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s (%d options): Map %v, want %v", c.stream, len(c.opts), got, c.want)
			}
			if _, ok := rec.Get("x"); ok != (c.want["x"] != nil) {
				t.Errorf("%s (%d options): Get(x) found %v", c.stream, len(c.opts), ok)
			}
		}
		if n != 1 {
			t.Errorf("%s: %d records", c.stream, n)
		}
	}
}
