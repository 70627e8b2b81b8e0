package progress

import "testing"

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
