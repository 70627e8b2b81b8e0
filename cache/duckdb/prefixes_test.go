package duckdb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
)

// TestPrefixes: a table prefix is a space of its own in a DuckDB file, and
// a file of format 1 is upgraded (see cachetest.Prefixes).
func TestPrefixes(t *testing.T) {
	t.Parallel()
	cachetest.Prefixes(t, func(t testing.TB) string { return filepath.Join(t.TempDir(), "p.duckdb") },
		openPrefixed, testenv.BuildBinary(t, "./cmd/source-faker"))
}

// openPrefixed opens the DuckDB file at path with a table prefix.
func openPrefixed(ctx context.Context, path, prefix string) (*cache.Cache, error) {
	return cache.New(ctx, duckdb.NewConnector(path), cache.WithTablePrefix(prefix))
}

// TestNamespaces: a DuckDB file never mixes two namespaces' streams of one
// name in one table, and a file of format 2 is upgraded (see
// cachetest.Namespaces).
func TestNamespaces(t *testing.T) {
	t.Parallel()
	cachetest.Namespaces(t, func(t testing.TB) string { return filepath.Join(t.TempDir(), "n.duckdb") }, openPrefixed)
}
