package connector_test

import (
	"context"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/shareddata"
	"github.com/x/goairbyte/registry"
)

// BenchmarkGetSourceManifest resolves a manifest-only connector of the
// corpus from a manifest directory and answers Spec: what a program pays
// for each GetSource of one. source-appfigures has the largest manifest
// (1.25 MB of YAML), source-customer-io the median one (35 kB).
func BenchmarkGetSourceManifest(b *testing.B) {
	dir := shareddata.Need(b, "manifests/corpus")
	for _, name := range []string{"source-appfigures", "source-customer-io"} {
		b.Run(name, func(b *testing.B) {
			env := connector.NewEnvironment()
			env.SetRegistry(registry.NewLoader(registry.WithOffline(true), registry.WithCacheDir(""), registry.WithManifestDir(dir)))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				c, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, name, connector.WithEnvironment(env))
				if err != nil {
					b.Fatal(err)
				}
				spec, err := c.Spec(ctx)
				if err != nil || len(spec.ConnectionSpecification) == 0 {
					b.Fatalf("spec %v: %v", spec, err)
				}
			}
		})
	}
}
