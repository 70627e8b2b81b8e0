package duckdb_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
)

// BenchmarkRecords reads DuckDB tables with Dataset.Records, in pages (see
// cachetest.BenchmarkRecords). The files are loaded once, in
// GOAIRBYTE_BENCH_DIR when it is set, and kept there for the next run.
func BenchmarkRecords(b *testing.B) {
	dir := os.Getenv("GOAIRBYTE_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	cachetest.BenchmarkRecords(b, func(b *testing.B, table string) (*cache.Cache, bool) {
		path := filepath.Join(dir, table+".duckdb")
		_, statErr := os.Stat(path)
		c, err := openPath(context.Background(), path)
		if err != nil {
			b.Fatal(err)
		}
		return c, statErr == nil
	})
}
