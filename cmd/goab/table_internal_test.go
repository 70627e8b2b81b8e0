package main

import (
	"fmt"
	"testing"
)

// BenchmarkSortedKeysManyStreams is the per-stream table of a write of n
// streams: the cost per stream (ns/stream) should not grow with n.
func BenchmarkSortedKeysManyStreams(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			sent, confirmed := map[string]int64{}, map[string]int64{}
			for i := range n {
				sent[fmt.Sprintf("s%05d", i)] = 1
				confirmed[fmt.Sprintf("s%05d", i)] = 1
			}
			for b.Loop() {
				if got := sortedKeys(sent, confirmed); len(got) != n {
					b.Fatal(len(got))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/stream")
		})
	}
}
