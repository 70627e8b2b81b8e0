package duckdb_test

import (
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
	cachetest.Compat(t, "duckdb", func(t testing.TB) string { return filepath.Join(t.TempDir(), "old.duckdb") },
		openPrefixed, testenv.BuildBinary(t, "./cmd/source-faker"))
}

// TestDamaged opens DuckDB files whose internal tables were changed by
// hand (see cachetest.Damaged).
func TestDamaged(t *testing.T) {
	t.Parallel()
	cachetest.Damaged(t, func(t testing.TB) string { return filepath.Join(t.TempDir(), "d.duckdb") }, openPath)
}
