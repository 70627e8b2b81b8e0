package destination

import (
	"fmt"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// BenchmarkPickManyStreams picks every stream of a catalog of n by name,
// as Write does for Streams(...) over a cache: the cost per stream
// (ns/stream) should not grow with n.
func BenchmarkPickManyStreams(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			all := make([]protocol.ConfiguredStream, n)
			names := make([]string, n)
			for i := range all {
				names[i] = fmt.Sprintf("s%05d", i)
				all[i].Stream.Name = names[i]
			}
			for b.Loop() {
				if got, err := pick("source-many", all, names); err != nil || len(got) != n {
					b.Fatal(len(got), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/stream")
		})
	}
}
