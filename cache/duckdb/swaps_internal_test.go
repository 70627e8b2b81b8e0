package duckdb

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// The swap counts of a database file's tables go when its last cache
// closes: a server that loads into a fresh file, or an in-memory cache,
// per sync kept an entry per replaced table of each for as long as it ran.
// Not parallel: it counts the process's entries.
func TestSwapCountsGoWithTheirDatabase(t *testing.T) {
	count := func() int {
		swaps.Lock()
		defer swaps.Unlock()
		return len(swaps.count)
	}
	before := count()
	ctx := context.Background()
	cat := cachetest.Catalog(cachetest.Stream("items", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil))
	file := filepath.Join(t.TempDir(), "swaps.duckdb")
	for _, path := range []string{":memory:", file, file} {
		c, err := cache.New(ctx, NewConnector(path))
		if err != nil {
			t.Fatal(err)
		}
		// Two caches on one file share its counts: the first closing keeps
		// them for the other.
		other, err := cache.New(ctx, NewConnector(path))
		if err != nil {
			t.Fatal(err)
		}
		cachetest.MustLoad(t, c, cat, cache.StrategyReplace, cachetest.Rec("items", `{"id":1}`))
		c.Close()
		c.Close() // a second Close leaves other's counts alone
		if path != ":memory:" && count() == before {
			t.Fatalf("%s: the swap counts went while another cache has the file open", path)
		}
		other.Close()
		if n := count(); n != before {
			t.Fatalf("%s: %d swap counts after its caches closed, %d before", path, n, before)
		}
	}
}
