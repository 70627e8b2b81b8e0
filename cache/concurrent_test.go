package cache_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// A merge load's batches are visible to readers as they commit, beside the
// older rows of the same keys: the duplicates go only at its end, as the
// package documentation says. Datasets read while the load runs, from
// several goroutines, see whole batches, never part of one.
func TestDatasetReadWhileAMergeLoads(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *cache.Cache) {
		ctx := context.Background()
		const n, batch = 40, 10
		cat := cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"},"v":{"type":"integer"}}`,
			protocol.SyncIncremental, [][]string{{"id"}}, "v"))
		version := func(v int) []*protocol.Message {
			var msgs []*protocol.Message
			for id := 1; id <= n; id++ {
				msgs = append(msgs, cachetest.Rec("users", fmt.Sprintf(`{"id":%d,"v":%d}`, id, v)))
			}
			return msgs
		}
		cachetest.MustLoad(t, c, cat, cache.StrategyMerge, version(1)...)

		committed, looked := make(chan struct{}), make(chan struct{})
		msgs := func(yield func(*protocol.Message, error) bool) {
			for i, m := range version(2) {
				if i == 2*batch {
					<-looked // two batches are committed: let the readers look
				}
				if !yield(m, nil) {
					return
				}
			}
		}
		var once sync.Once
		seen := make([][2]int64, 4)
		var readers sync.WaitGroup
		for r := range seen {
			readers.Go(func() {
				<-committed
				ds, err := c.Dataset(ctx, "users")
				if err != nil {
					t.Error(err)
					return
				}
				for rec, err := range ds.Records(ctx) {
					if err != nil {
						t.Error(err)
						return
					}
					seen[r][0]++
					if fmt.Sprint(rec["v"]) == "2" {
						seen[r][1]++
					}
				}
			})
		}
		done := make(chan struct{})
		go func() {
			readers.Wait()
			close(looked)
			close(done)
		}()
		res, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: cache.StrategyMerge, BatchSize: batch,
			Messages: msgs, Committed: func(records map[string]int64, _ []cache.StateKey) {
				if records["users"] > 0 {
					once.Do(func() { close(committed) })
				}
			}})
		<-done
		if err != nil || res.Records["users"] != n {
			t.Fatalf("load: %v, %v", res, err)
		}
		for r, s := range seen {
			if s[1] == 0 || s[1]%batch != 0 || s[0] != n+s[1] {
				t.Errorf("reader %d saw %d rows, %d of them new: want %d old rows and whole batches of %d new ones", r, s[0], s[1], n, batch)
			}
		}
		ds, _ := c.Dataset(ctx, "users")
		if got, err := ds.Count(ctx); err != nil || got != n {
			t.Errorf("after the load: %d rows (%v), want %d", got, err, n)
		}
	})
}
