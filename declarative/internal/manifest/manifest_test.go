package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/shareddata"
)

// corpusManifests lists the manifests of the shared data set of real
// connectors (see its README).
func corpusManifests(t testing.TB) []string {
	t.Helper()
	dir := shareddata.Need(t, "manifests/corpus")
	paths, err := filepath.Glob(filepath.Join(dir, "*", "manifest.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests in %s", dir)
	}
	return paths
}

func TestCorpusLoads(t *testing.T) {
	for _, p := range corpusManifests(t) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(filepath.Dir(p))
		if _, err := Load(data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := JSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReferencesAndParameters(t *testing.T) {
	src := `
version: 6.7.0
definitions:
  requester:
    type: HttpRequester
    url_base: https://api.example.com
    http_method: GET
  base:
    type: DeclarativeStream
    retriever:
      requester:
        $ref: "#/definitions/requester"
        path: "/{{ parameters.path }}"
      record_selector:
        extractor:
          field_path: []
    schema_loader:
      type: InlineSchemaLoader
      schema:
        type: object
        $parameters: {kept: true}
  nested/key: direct
  nested:
    key: via-path
streams:
  - $ref: "#/definitions/base"
    name: users
    $parameters:
      path: users
      primary_key: id
check:
  stream_names: ["#/streams/0/name"]
metadata: {x_direct: "#/definitions/nested/key"}
`
	m, err := Load([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	stream := m.Root.List("streams")[0].(*Map)
	if got := stream.String("primary_key"); got != "id" {
		t.Errorf("primary_key from $parameters = %q", got)
	}
	req := stream.Map("retriever").Map("requester")
	if got := req.String("url_base"); got != "https://api.example.com" {
		t.Errorf("url_base through $ref = %q", got)
	}
	if got := req.String("type"); got != "HttpRequester" {
		t.Errorf("requester type = %q", got)
	}
	if got, _ := json.Marshal(req.Keys()); string(got) != `["type","url_base","http_method","path","primary_key","$parameters"]` {
		t.Errorf("requester keys = %s", got)
	}
	ext := stream.Map("retriever").Map("record_selector").Map("extractor")
	if got := ext.String("type"); got != "DpathExtractor" {
		t.Errorf("default extractor type = %q", got)
	}
	if got := mustJSON(t, ext.Map("$parameters")); got != `{"path":"users","primary_key":"id"}` {
		t.Errorf("extractor $parameters = %s", got)
	}
	schema := stream.Map("schema_loader").Map("schema")
	if got := mustJSON(t, schema); got != `{"type":"object","$parameters":{"kept":true}}` {
		t.Errorf("a JSON schema must be left alone: %s", got)
	}
	if got := m.Root.Map("metadata").String("x_direct"); got != "direct" {
		t.Errorf("a whole-path key wins over a nested path: %q", got)
	}
	if got := mustJSON(t, m.Root.Map("check")); got != `{"stream_names":["users"],"type":"CheckStream"}` {
		t.Errorf("check = %s", got)
	}
}

func TestValidationNamesThePath(t *testing.T) {
	src := `
version: 6.7.0
check: {stream_names: [a]}
streams:
  - type: DeclarativeStream
    name: a
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://x", http_method: TELEPORT}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: []}}
`
	_, err := Load([]byte(src))
	ve, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	found := false
	for _, p := range ve.Problems {
		if p.Path == "$.streams[0].retriever.requester.http_method" {
			found = true
		}
	}
	if !found {
		t.Errorf("no problem names the http_method path: %v", err)
	}
}

// A component whose type is right but a required field misspelt is
// reported as missing that field, not as a type that must be another
// component's (the schema's anyOf of CustomRecordExtractor and
// DpathExtractor); a type no alternative has lists them all, once.
func TestValidationNamesTheMeantComponent(t *testing.T) {
	const src = `
version: 6.7.0
check: {stream_names: [a]}
streams:
  - type: DeclarativeStream
    name: a
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://x"}
      record_selector: {type: RecordSelector, extractor: {type: %s}}
`
	for extractor, want := range map[string]string{
		"DpathExtractor, feild_path: [data]": "manifest: validation against the component schema failed: " +
			"$.streams[0].retriever.record_selector.extractor: missing property 'field_path'",
		"DpathExtracter, field_path: [data]": "manifest: validation against the component schema failed: " +
			"$.streams[0].retriever.record_selector.extractor.type: value must be one of 'CustomRecordExtractor', 'DpathExtractor'",
	} {
		_, err := Load([]byte(fmt.Sprintf(src, extractor)))
		if err == nil || err.Error() != want {
			t.Errorf("extractor {type: %s}:\n got %v\nwant %s", extractor, err, want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	for name, src := range map[string]string{
		"circular":   "version: 6.0.0\na: '#/b'\nb: '#/a'\nstreams: [{$ref: '#/a'}]\ncheck: {stream_names: []}",
		"undefined":  "version: 6.0.0\nstreams: ['#/nope']\ncheck: {stream_names: []}",
		"no streams": "version: 6.0.0\ncheck: {stream_names: []}\nstreams: []",
		"too old":    "version: 0.28.0\ncheck: {stream_names: [a]}\nstreams: [{type: DeclarativeStream, name: a, retriever: {type: SimpleRetriever, requester: {type: HttpRequester, url_base: x, path: y}, record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: []}}}}]",
		"not yaml":   "a: [",
	} {
		if _, err := Load([]byte(src)); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// repeated builds a manifest whose definitions d1…d9 each hold ten copies of
// the one before, written with use: "*d0" for YAML aliases or "'#/d0'" for
// references. Expanded, it would hold ten billion values.
func repeated(use func(level int) string, anchor func(level int) string) string {
	var b strings.Builder
	b.WriteString("version: 6.0.0\ncheck: {stream_names: []}\nd0: " + anchor(0) + "[x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "d%d: %s[", i, anchor(i))
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(use(i - 1))
		}
		b.WriteString("]\n")
	}
	b.WriteString("streams: [" + use(9) + "]\n")
	return b.String()
}

// TestExpansionIsBounded loads manifests that expand exponentially, through
// YAML aliases and through references: each must fail fast with an error
// that says why, instead of exhausting the memory of the program.
func TestExpansionIsBounded(t *testing.T) {
	for name, src := range map[string]string{
		"aliases": repeated(func(l int) string { return fmt.Sprintf("*d%d", l) },
			func(l int) string { return fmt.Sprintf("&d%d ", l) }),
		"references": repeated(func(l int) string { return fmt.Sprintf("'#/d%d'", l) },
			func(int) string { return "" }),
		"$ref": repeated(func(l int) string { return fmt.Sprintf("{$ref: '#/d%d'}", l) },
			func(int) string { return "" }),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load([]byte(src))
			var me *Error
			if !errors.As(err, &me) || !strings.Contains(err.Error(), "expands to more than 2,000,000 values") {
				t.Fatalf("Load: %v, want an *Error on the expansion", err)
			}
		})
	}
}

// TestLongValueIsRefusedAsSuch loads a manifest that is too large as
// written: the error must be the expansion's, not "not valid YAML".
func TestLongValueIsRefusedAsSuch(t *testing.T) {
	src := "version: 6.0.0\nstreams: []\nbig: [" + strings.Repeat("1, ", maxValues) + "1]\n"
	_, err := Load([]byte(src))
	if err == nil || strings.Contains(err.Error(), "not valid YAML") || !strings.Contains(err.Error(), "expands to more than") {
		t.Fatalf("Load: %v", err)
	}
}
