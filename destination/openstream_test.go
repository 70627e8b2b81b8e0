package destination_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/source"
)

// openManifest reads the records of GET <base>/events, under "data", into
// a stream keyed by id whose schema declares no property.
const openManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [events]}
streams:
  - type: DeclarativeStream
    name: events
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, additionalProperties: true, properties: {}}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "{{ config['base'] }}", path: /events, http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
spec:
  type: Spec
  connection_specification: {type: object, required: [base], properties: {base: {type: string}}}
`

// TestWriteOpenStreamFromCache: a stream whose schema declares no property
// goes through the cache to the destination whole: each record the
// destination gets is the one the source sent, merged on its key.
func TestWriteOpenStreamFromCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	records := []string{
		`{"id":1,"name":"Zoë","nested":{"a":[1,"日本",null]},"big":123456789012345678901234567890}`,
		`{"id":2,"ok":true,"none":null}`,
		`{"id":1,"name":"Zoë again","more":{"x":{}}}`,
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data": [%s, %s, %s]}`, records[0], records[1], records[2])
	}))
	defer api.Close()
	src, err := source.New(ctx, "source-open", connector.WithManifest([]byte(openManifest)), connector.WithConfig(map[string]any{"base": api.URL}))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := newLocalJSON(t, out, nil).Write(ctx, src, destination.UseCache(openCache(t))); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(out, "_airbyte_raw_events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			Data json.RawMessage `json:"_airbyte_data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		got = append(got, canonical(t, line.Data))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{canonical(t, []byte(records[1])), canonical(t, []byte(records[2]))}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("the destination got\n%q\nwant\n%q", got, want)
	}
}

// canonical is a JSON text with its keys sorted and its numbers as
// written.
func canonical(t *testing.T, text []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
