package duckdb_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// TestFileThatIsNotADuckDBDatabase: DuckDB opens an existing file of data
// it can read (JSON, CSV, Parquet) as that data in a database in memory,
// so a cache on records.csv loaded, reported its rows and kept nothing.
// A file that is not a DuckDB database is refused, by URL or connector,
// and left as it was; a new file and a database file open.
func TestFileThatIsNotADuckDBDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	for name, content := range map[string]string{"records.json": `{"a": 1}` + "\n", "records.csv": "a,b\n1,2\n", "empty.csv": "", "empty.duckdb": ""} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(content), 0o644)
		for how, open := range map[string]func() (*cache.Cache, error){
			"connector": func() (*cache.Cache, error) { return cache.New(ctx, duckdb.NewConnector(path)) },
			"URL":       func() (*cache.Cache, error) { return cache.Open(ctx, "duckdb://"+path) },
		} {
			c, err := open()
			if err == nil {
				c.Close()
				t.Fatalf("%s by %s: opened", name, how)
			}
			if !strings.Contains(err.Error(), "not a DuckDB database file") || !strings.Contains(err.Error(), path) {
				t.Fatalf("%s by %s: %v, want an error saying the file is no DuckDB database", name, how, err)
			}
			if b, _ := os.ReadFile(path); string(b) != content {
				t.Fatalf("%s by %s: the file changed: %q", name, how, b)
			}
		}
	}
	// A new file, then the database it became, open.
	path := filepath.Join(dir, "cache.duckdb")
	for range 2 {
		c, err := cache.New(ctx, duckdb.NewConnector(path))
		if err != nil {
			t.Fatal(err)
		}
		cat := cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil))
		cachetest.MustLoad(t, c, cat, cache.StrategyAppend, cachetest.Rec("users", `{"id":1}`))
		c.Close()
	}
}
