package cache_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// A slow source's read cancelled midway keeps its records up to the last
// state committed: a state that comes a while after its transaction began
// commits it, though the batch is far from full. The cache's clock is
// stepped a minute a call, so each state comes "a while" after the one
// before.
func TestSlowReadCancelledKeepsItsStates(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	calls := 0
	t.Cleanup(cache.SetClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return start.Add(time.Duration(calls) * time.Minute)
	}))
	eachBackend(t, func(t *testing.T, c *cache.Cache) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		committed := make(chan int, 10) // the states of each commit
		msgs := func(yield func(*protocol.Message, error) bool) {
			for page := range 5 {
				for i := range 3 {
					if !yield(cachetest.Rec("items", fmt.Sprintf(`{"id":%d}`, page*3+i)), nil) {
						return
					}
				}
				if !yield(cachetest.StreamState("items", fmt.Sprintf(`{"page":%d}`, page)), nil) {
					return
				}
				if page == 2 {
					// The third state is committed (or, before states
					// committed on time, nothing is): the user stops the read.
					timeout := time.After(10 * time.Second)
				wait:
					for got := 0; got < 3; got++ {
						select {
						case <-committed:
						case <-timeout:
							break wait
						}
					}
					cancel()
					<-ctx.Done()
					yield(nil, ctx.Err())
					return
				}
			}
		}
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", BatchSize: 1000,
			Catalog:  cachetest.Catalog(cachetest.Stream("items", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, nil, "id")),
			Strategy: cache.StrategyAppend, Messages: msgs,
			Committed: func(_ map[string]int64, states []cache.StateKey) {
				for range states {
					select {
					case committed <- 1:
					default:
					}
				}
			}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the cancelled load returned %v", err)
		}
		st, err := c.State(context.Background(), cache.StateKey{Source: "src", Stream: "items"})
		if err != nil {
			t.Fatal(err)
		}
		if st == nil || string(st.Stream.StreamState) != `{"page":2}` {
			t.Fatalf("the state kept is %v, want the third, {\"page\":2}", st)
		}
		ds, err := c.Dataset(context.Background(), "items")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := ds.Count(context.Background()); err != nil || n != 9 {
			t.Fatalf("the cache holds %d rows (%v), want the 9 read before the third state", n, err)
		}
	})
}
