package progress

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/x/goairbyte/protocol"
)

// The per-record cost a pipeline pays: one Read per record on a stream
// handle, with the tracker's goroutine running.
func BenchmarkStreamRead(b *testing.B) {
	tr := New(OpRead, "source-faker", WithRenderer(nil))
	defer tr.Finish(nil)
	s := tr.Stream("users")
	b.ReportAllocs()
	for b.Loop() {
		s.Read(1, 280)
	}
}

// A record's full bookkeeping on the read path into a cache: read and written.
func BenchmarkStreamReadWritten(b *testing.B) {
	tr := New(OpRead, "source-faker", WithRenderer(nil))
	defer tr.Finish(nil)
	s := tr.Stream("users")
	b.ReportAllocs()
	for b.Loop() {
		s.Read(1, 280)
		s.Written(1)
	}
}

// Several goroutines reporting on the same stream: the worst case, as the
// counters' cache line bounces between cores.
func BenchmarkStreamReadParallel(b *testing.B) {
	tr := New(OpRead, "source-faker", WithRenderer(nil))
	defer tr.Finish(nil)
	s := tr.Stream("users")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Read(1, 280)
		}
	})
}

// Looking a stream up by name per record, which pipelines should avoid by
// keeping the handle.
func BenchmarkTrackerStreamLookup(b *testing.B) {
	tr := New(OpRead, "source-faker", WithRenderer(nil))
	defer tr.Finish(nil)
	tr.Stream("users")
	b.ReportAllocs()
	for b.Loop() {
		tr.Stream("users").Read(1, 280)
	}
}

// The live line of a read of many streams, a few of them running: what the
// renderer builds every tick (250 ms) on a terminal, every 5 s in a log.
func BenchmarkProgressLineManyStreams(b *testing.B) {
	for _, n := range []int{10, 1_000, 10_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			snap := Snapshot{Operation: OpRead, Connector: "source-many", Elapsed: 3 * time.Second}
			for i := range n {
				st := StreamSnapshot{Name: fmt.Sprintf("stream_%05d", i)}
				switch {
				case i < n/2:
					st.Status, st.RecordsRead = protocol.StatusComplete, 100
				case i < n/2+3:
					st.Status, st.RecordsRead, st.RecentRecordsPerSec = protocol.StatusRunning, 50, 1000
				}
				snap.Streams = append(snap.Streams, st)
			}
			var size int
			b.ReportAllocs()
			for b.Loop() {
				size = len(snap.progressLine(unicodeGlyphs.sep, maxLineStreams))
			}
			b.ReportMetric(float64(size), "B/line")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/stream")
		})
	}
}
