package goairbyte_test

import (
	"context"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/registry"
)

// Our own connectors say who they are in one place: Connector.DocsURL and
// Version give, before the spec is known and after, what the registry's
// built-in entry says (its documentation and its image's tag), whichever
// way the connector runs; the no-op destination, which the registry does
// not list, keeps one documentation URL before and after its spec. The
// in-process faker said Airbyte's page and no version, where the registry
// says pkg.go.dev and 0.1.0.
func TestOwnConnectorsIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := goairbyte.NewEnvironment()
	env.SetRegistry(registry.NewLoader(registry.WithOffline(true), registry.WithCacheDir("")))
	type conn interface {
		DocsURL() string
		Version(context.Context) string
	}
	ways := map[string][]connector.Option{"in process": nil}
	for _, name := range []string{"source-faker", "destination-local-json"} {
		ways[name+" as an executable"] = []connector.Option{connector.WithLocalExecutable(testenv.BuildBinary(t, "./cmd/"+name))}
	}
	for _, name := range []string{"source-faker", "destination-local-json", "source-declarative-manifest", "destination-noop"} {
		entry, err := env.Registry().Lookup(ctx, name)
		if name == "destination-noop" {
			entry = nil
		} else if err != nil {
			t.Fatal(err)
		}
		for way, opts := range ways {
			if way != "in process" && way[:len(name)] != name {
				continue
			}
			opts = append(opts, connector.WithEnvironment(env), connector.WithConfig(map[string]any{}))
			var c conn
			var spec func() (string, error)
			if entry != nil && entry.Kind == registry.KindSource {
				src, err := goairbyte.GetSource(ctx, name, opts...)
				if err != nil {
					t.Fatal(err)
				}
				c, spec = src, func() (string, error) { s, err := src.Spec(ctx); return s.DocumentationURL, err }
			} else {
				dst, err := goairbyte.GetDestination(ctx, name, opts...)
				if err != nil {
					t.Fatal(err)
				}
				c, spec = dst, func() (string, error) { s, err := dst.Spec(ctx); return s.DocumentationURL, err }
			}
			before := c.DocsURL()
			specURL, err := spec()
			if err != nil {
				t.Fatal(err)
			}
			if after := c.DocsURL(); before != after || specURL != after {
				t.Errorf("%s %s: DocsURL %q before the spec, %q after, the spec's %q", name, way, before, after, specURL)
			}
			if entry == nil {
				continue
			}
			if before != entry.DocumentationURL {
				t.Errorf("%s %s: DocsURL %q, the registry's %q", name, way, before, entry.DocumentationURL)
			}
			if v := c.Version(ctx); way == "in process" && v != entry.DockerImageTag {
				t.Errorf("%s %s: Version %q, the registry's %q", name, way, v, entry.DockerImageTag)
			}
		}
	}
}
