package source

import (
	"fmt"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// BenchmarkGlobalStatesManyStreams follows a read of n streams whose
// connector sends a GLOBAL state after each stream's snapshot, as CDC
// database sources do: the cost per state (ns/state) should not grow with
// the number of streams.
func BenchmarkGlobalStatesManyStreams(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			streams := make([]string, n)
			for i := range streams {
				streams[i] = fmt.Sprintf("s%05d", i)
			}
			global := &protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateGlobal,
				Global: &protocol.GlobalState{SharedState: []byte(`{"lsn":1}`)}}}
			for b.Loop() {
				t := newStreamTracker("source-many", streams)
				for range n {
					t.observe(global)
				}
				if !t.streamStated(streams[n-1]) {
					b.Fatal("a GLOBAL state did not cover the last stream")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/state")
		})
	}
}
