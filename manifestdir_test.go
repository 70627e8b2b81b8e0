package goairbyte_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/declarative"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/registry"
)

// itemsManifest reads the records of GET <base>/items, under "data".
const itemsManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
streams:
  - type: DeclarativeStream
    name: items
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}}}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "{{ config['base'] }}", path: /items, http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
spec:
  type: Spec
  connection_specification: {type: object, required: [base], properties: {base: {type: string}}}
`

// A source the registry does not list, whose manifest is in the manifest
// directory (<dir>/<name>/manifest.yaml), runs natively by its name; a
// name in neither place fails saying where it was looked for.
func TestManifestDirServesUnlistedSource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [{"id": 1}, {"id": 2}]}`)
	}))
	defer api.Close()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "source-mything"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "source-mything", "manifest.yaml"), []byte(itemsManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "source-mine"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "source-mine", "manifest.yaml"), []byte(customManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	fixture, _ := filepath.Abs("registry/testdata/oss_registry.json")
	env := goairbyte.NewEnvironment()
	env.SetRegistry(registry.NewLoader(registry.WithLocalRegistry(fixture), registry.WithCacheDir(""), registry.WithManifestDir(dir)))

	src, err := goairbyte.GetSource(ctx, "source-mything", connector.WithEnvironment(env), connector.WithConfig(map[string]any{"base": api.URL}))
	if err != nil {
		t.Fatal(err)
	}
	if k := core.ConnOf(src.Connector).Executor().Method().Kind; k != executor.KindInProcess {
		t.Fatalf("source-mything runs as %s (%s), want natively in process", src, k)
	}
	n := 0
	for _, err := range src.Records(ctx, "items") {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d records, want 2", n)
	}

	// Python components: with no image to run them, the engine refuses
	// their streams, as for a manifest given with WithManifest.
	mine, err := goairbyte.GetSource(ctx, "source-mine", connector.WithEnvironment(env), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatalf("a manifest with Python components: %v", err)
	}
	var ue *declarative.UnsupportedError
	if err := mine.Check(ctx); !errors.As(err, &ue) {
		t.Fatalf("a manifest with Python components: Check: %v, want the *declarative.UnsupportedError", err)
	}

	_, err = goairbyte.GetSource(ctx, "source-otherthing", connector.WithEnvironment(env))
	var nf *registry.NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("a name in neither place: %v, want a *registry.NotFoundError naming the manifest directory", err)
	}
}
