package connector_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/declarative"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/shareddata"
	"github.com/x/goairbyte/registry"
)

// corpusGetSource returns a function that resolves the manifest-only
// connector name of the shared corpus from a manifest directory, as
// GetSource does, and answers Spec.
func corpusGetSource(tb testing.TB, name string) func() {
	dir := shareddata.Need(tb, "manifests/corpus")
	env := connector.NewEnvironment()
	env.SetRegistry(registry.NewLoader(registry.WithOffline(true), registry.WithCacheDir(""), registry.WithManifestDir(dir)))
	ctx := context.Background()
	return func() {
		c, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, name, connector.WithEnvironment(env))
		if err != nil {
			tb.Fatal(err)
		}
		spec, err := c.Spec(ctx)
		if err != nil || len(spec.ConnectionSpecification) == 0 {
			tb.Fatalf("spec %v: %v", spec, err)
		}
	}
}

// TestGetSourceLoadsManifestOnce: resolving a manifest-only connector of
// the registry loads its manifest once, for the engine that runs it and
// for the list of its Python components both. Loading is most of what a
// GetSource allocates, so a GetSource and Spec allocate about what one
// declarative.New does; loading it twice allocated twice as much (57,749
// allocations against 29,534 for source-customer-io).
func TestGetSourceLoadsManifestOnce(t *testing.T) {
	const name = "source-customer-io"
	getSource := corpusGetSource(t, name)
	text, err := os.ReadFile(filepath.Join(shareddata.Need(t, "manifests/corpus"), name, "manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	load := func() {
		if _, err := declarative.New(text); err != nil {
			t.Fatal(err)
		}
	}
	once, got := testing.AllocsPerRun(3, load), testing.AllocsPerRun(3, getSource)
	if got > 1.5*once {
		t.Errorf("GetSource and Spec of %s allocate %.0f times, %.1f times as much as loading its manifest (%.0f): it is loaded more than once", name, got, got/once, once)
	}
}

// BenchmarkGetSourceManifest resolves a manifest-only connector of the
// corpus from a manifest directory and answers Spec: what a program pays
// for each GetSource of one. source-appfigures has the largest manifest
// (1.25 MB of YAML), source-customer-io the median one (35 kB).
func BenchmarkGetSourceManifest(b *testing.B) {
	for _, name := range []string{"source-appfigures", "source-customer-io"} {
		b.Run(name, func(b *testing.B) {
			getSource := corpusGetSource(b, name)
			b.ReportAllocs()
			for b.Loop() {
				getSource()
			}
		})
	}
}
