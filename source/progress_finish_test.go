package source

import (
	"io"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/progress"
)

// finish counts a stream's states committed only when the cache committed
// them: not for a replace stream the load left unfinished, nor then a
// GLOBAL state; GLOBAL states go to the totals. What committed reported as
// transactions landed is not counted twice, and after a failure it is all
// that was committed.
func TestProgressFinishCountsOnlyCommittedStates(t *testing.T) {
	cases := []struct {
		name       string
		lr         cache.LoadResult
		ok         bool
		live       []cache.StateKey // reported by committed before finish
		wantStream map[string]int64
		wantTotal  int64
	}{
		{"all committed", cache.LoadResult{States: 6}, true, nil, map[string]int64{"users": 3, "products": 2}, 6},
		{"products unfinished", cache.LoadResult{States: 4, Unfinished: []string{"products"}}, true, nil, map[string]int64{"users": 3, "products": 0}, 3},
		{"some landed first", cache.LoadResult{States: 6}, true, []cache.StateKey{{Stream: "users"}, {Stream: ""}},
			map[string]int64{"users": 3, "products": 2}, 6},
		{"failed load", cache.LoadResult{States: 2}, false, []cache.StateKey{{Stream: "users"}, {Stream: "users"}},
			map[string]int64{"users": 2, "products": 0}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := progress.New(progress.OpRead, "test", progress.WithOutput(io.Discard), progress.WithLiveProgress(false))
			p := newReadProgress(tr, []string{"users", "products"})
			p.states["users"], p.states["products"], p.states[""] = 3, 2, 1
			if c.live != nil {
				p.committed(nil, c.live)
			}
			p.finish(&c.lr, c.ok)
			snap := tr.Snapshot()
			for _, st := range snap.Streams {
				if st.StatesCommitted != c.wantStream[st.Name] {
					t.Errorf("%s: %d states committed, want %d", st.Name, st.StatesCommitted, c.wantStream[st.Name])
				}
			}
			if snap.Total.StatesCommitted != c.wantTotal {
				t.Errorf("total %d states committed, want %d", snap.Total.StatesCommitted, c.wantTotal)
			}
		})
	}
}
