// Package envtest gives a test a goairbyte Environment of its own.
package envtest

import (
	"context"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/cachename"
	"github.com/x/goairbyte/internal/core"
)

// New returns a connector.Environment of the test's own, whose
// default cache is a DuckDB file in a temp directory of the test: tests
// that read "into the default cache" then run in parallel without sharing
// one. The cache is closed when the test ends.
func New(t testing.TB) *connector.Environment {
	t.Helper()
	env := connector.NewEnvironment()
	env.SetCacheDir(t.TempDir())
	core.EnvOf(env).SetDefaultCache(func(ctx context.Context, dir string) (*cache.Cache, error) {
		c, err := cache.New(ctx, duckdb.NewConnector(cachename.Path(dir, "default_cache")))
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
		return c, err
	})
	return env
}
