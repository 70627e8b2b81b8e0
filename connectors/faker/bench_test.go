package faker_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/x/goairbyte/connectors/faker"
	"github.com/x/goairbyte/protocol"
)

// countingDiscard is io.Discard that counts bytes.
type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// benchmarkRead runs whole reads of one stream into a discarding writer and
// reports records/s: the connector's own speed, with no process or pipe.
func benchmarkRead(b *testing.B, stream string) {
	const count = 200_000
	for _, p := range []int{1, 4} {
		b.Run(fmt.Sprintf("parallelism=%d", p), func(b *testing.B) {
			cfg := faker.Config{Count: count, Seed: 1, RecordsPerSlice: 1000, AlwaysUpdated: true, Parallelism: p}
			cat := faker.ConfiguredCatalog(protocol.SyncFullRefresh, stream)
			w := &countingDiscard{}
			b.ResetTimer()
			for b.Loop() {
				if err := faker.Read(context.Background(), w, cfg, cat, nil); err != nil {
					b.Fatal(err)
				}
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)*count/sec, "records/s")
			b.ReportMetric(float64(w.n)/sec/1e6, "MB/s")
		})
	}
}

func BenchmarkReadUsers(b *testing.B)     { benchmarkRead(b, "users") }
func BenchmarkReadPurchases(b *testing.B) { benchmarkRead(b, "purchases") }
