package source

import (
	"fmt"
	"strings"
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

// warnings records what a streamTracker warns.
type warnings []string

func (w *warnings) Warn(msg string, args ...any) {
	*w = append(*w, strings.TrimSpace(fmt.Sprintln(append([]any{msg}, args...)...)))
}

// A connector that says nothing of its streams (neither a status nor a
// state) gets one warning, whatever their number: with 3,000 streams it
// was 3,000 lines on the terminal. The warning names the first few and
// counts them all; of one stream it names that one.
func TestSilentStreamsWarnOnce(t *testing.T) {
	for _, tc := range []struct {
		streams int
		want    string
	}{
		{1, "the connector reported neither a status nor a state for the stream; it cannot be told complete (a connector marks a stream done with a STATE of it or a TRACE STREAM_STATUS COMPLETE, as the Python CDK and goairbyte's kit do for every stream of a read that succeeds) connector source-x stream s0000"},
		{3, "the connector reported neither a status nor a state for 3 streams; they cannot be told complete (a connector marks a stream done with a STATE of it or a TRACE STREAM_STATUS COMPLETE, as the Python CDK and goairbyte's kit do for every stream of a read that succeeds) connector source-x streams s0000, s0001, s0002"},
		{3000, "the connector reported neither a status nor a state for 3,000 streams; they cannot be told complete (a connector marks a stream done with a STATE of it or a TRACE STREAM_STATUS COMPLETE, as the Python CDK and goairbyte's kit do for every stream of a read that succeeds) connector source-x streams s0000, s0001, s0002, s0003, s0004, s0005, s0006, s0007, s0008, s0009 and 2,990 more"},
	} {
		names := make([]string, tc.streams+1)
		for i := range names {
			names[i] = fmt.Sprintf("s%04d", i)
		}
		tr := newStreamTracker("source-x", names)
		// The last stream has a state: no warning for it.
		tr.observe(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
			Stream: &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: names[tc.streams]}}}})
		var w warnings
		if err := tr.finish(&w); err != nil {
			t.Fatal(err)
		}
		if len(w) != 1 || w[0] != tc.want {
			t.Errorf("%d silent streams: warnings %q, want one: %q", tc.streams, w, tc.want)
		}
	}
}
