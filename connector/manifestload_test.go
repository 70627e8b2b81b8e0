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

// TestGetSourceLoadsManifestOnce: resolving a manifest-only connector of
// the registry loads its manifest once, for the engine that runs it and
// for the list of its Python components both. Loading is most of what a
// GetSource allocates, so a GetSource and Spec allocate about what one
// declarative.New does; loading it twice allocated twice as much (57,749
// allocations against 29,534 for source-customer-io).
func TestGetSourceLoadsManifestOnce(t *testing.T) {
	dir := shareddata.Need(t, "manifests/corpus")
	const name = "source-customer-io"
	text, err := os.ReadFile(filepath.Join(dir, name, "manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	env := connector.NewEnvironment()
	env.SetRegistry(registry.NewLoader(registry.WithOffline(true), registry.WithCacheDir(""), registry.WithManifestDir(dir)))
	ctx := context.Background()
	getSource := func() {
		c, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, name, connector.WithEnvironment(env))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Spec(ctx); err != nil {
			t.Fatal(err)
		}
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
