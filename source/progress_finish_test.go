package source

import (
	"io"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/progress"
)

// finish counts a stream's states committed only when the cache committed
// them: not for a replace stream the load left unfinished, nor then a
// GLOBAL state; GLOBAL states and what a failed load committed go to the
// totals.
func TestProgressFinishCountsOnlyCommittedStates(t *testing.T) {
	cases := []struct {
		name       string
		lr         cache.LoadResult
		ok         bool
		wantStream map[string]int64
		wantTotal  int64
	}{
		{"all committed", cache.LoadResult{States: 6}, true, map[string]int64{"users": 3, "products": 2}, 6},
		{"products unfinished", cache.LoadResult{States: 4, Unfinished: []string{"products"}}, true, map[string]int64{"users": 3, "products": 0}, 3},
		{"failed load", cache.LoadResult{States: 2}, false, map[string]int64{"users": 0, "products": 0}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := progress.New(progress.OpRead, "test", progress.WithOutput(io.Discard), progress.WithLiveProgress(false))
			p := newReadProgress(tr, []string{"users", "products"})
			p.states["users"], p.states["products"], p.states[""] = 3, 2, 1
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
