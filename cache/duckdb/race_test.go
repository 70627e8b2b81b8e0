package duckdb_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// Two sources whose first loads of one new stream race in one process: in
// every round one of them is refused with a *TableOwnerError, as it is
// when they run one after the other, never with DuckDB's own error, and
// the table holds one source's rows. DuckDB has no DDL lock: both claims
// run at once, and the one that commits second conflicts with the first.
func TestFirstLoadsOfOneStreamByTwoSourcesRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cat := cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"},"src":{"type":"string"}}`, protocol.SyncFullRefresh, nil))
	for round := range 20 {
		c, err := cache.New(ctx, duckdb.NewConnector(filepath.Join(t.TempDir(), "race.duckdb")))
		if err != nil {
			t.Fatal(err)
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				src := fmt.Sprintf("source-%d", i)
				_, errs[i] = c.Load(ctx, cache.LoadRequest{SourceName: src, Catalog: cat, Strategy: cache.StrategyAppend,
					Messages: cachetest.Messages(cachetest.Rec("users", fmt.Sprintf(`{"id":%d,"src":%q}`, i, src)))})
			})
		}
		wg.Wait()
		var refused int
		for _, err := range errs {
			var oe *cacheerr.TableOwnerError
			switch {
			case errors.As(err, &oe):
				refused++
			case err != nil:
				t.Fatalf("round %d: %v, want a *TableOwnerError", round, err)
			}
		}
		if refused != 1 {
			t.Fatalf("round %d: %d of the two loads refused, want 1", round, refused)
		}
		cachetest.Equal(t, "sources in the table", cachetest.Strings(t, c, `SELECT CAST(count(DISTINCT src) AS VARCHAR) FROM users`), []string{"1"})
		c.Close()
	}
}
