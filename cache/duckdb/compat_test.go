package duckdb_test

import (
	"context"
	"github.com/x/goairbyte/cache"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
)

// TestCompat opens DuckDB files that earlier versions of goairbyte wrote
// and continues them (see cachetest.Compat).
func TestCompat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds earlier versions of goairbyte")
	}
	t.Parallel()
	cachetest.Compat(t, "duckdb", func(t testing.TB) string { return filepath.Join(t.TempDir(), "old.duckdb") },
		openPrefixed, testenv.BuildBinary(t, "./cmd/source-faker"))
}

// TestDamaged opens DuckDB files whose internal tables were changed by
// hand (see cachetest.Damaged).
func TestDamaged(t *testing.T) {
	t.Parallel()
	cachetest.Damaged(t, func(t testing.TB) string { return filepath.Join(t.TempDir(), "d.duckdb") }, openPath)
}

// TestPyAirbyte opens a DuckDB file that PyAirbyte filled (see
// cachetest.PyAirbyte): refused, unchanged; a file beside it continues.
func TestPyAirbyte(t *testing.T) {
	t.Parallel()
	cachetest.PyAirbyte(t, cachetest.PyAirbyteTarget{
		Fresh:  func(t testing.TB) string { return filepath.Join(t.TempDir(), "default_cache.duckdb") },
		Raw:    cachetest.RawDB("duckdb"),
		Schema: "main",
		Open:   openPath,
		Beside: func(ctx context.Context, path string) (*cache.Cache, error) {
			return openPath(ctx, filepath.Join(filepath.Dir(path), "goairbyte.duckdb"))
		},
		Reach: func(path string) ([]string, string) {
			return []string{`ATTACH '` + path + `' AS pyairbyte (READ_ONLY)`}, "pyairbyte.main."
		},
	})
}
