package source_test

import (
	"context"
	"testing"
	"time"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/source"
)

// BenchmarkRecordsFakerUsers reads the faker's users stream, count
// 1,000,000, through Records: one op is one full read. The figure to report
// is rec/s (targets: 600k local, 250k Docker on a 2-core machine).
func BenchmarkRecordsFakerUsers(b *testing.B) {
	const count = 1_000_000
	bench := func(b *testing.B, src *source.Source) {
		ctx := context.Background()
		if _, err := src.DiscoveredCatalog(ctx); err != nil { // spec and discover are not what we measure
			b.Fatal(err)
		}
		b.ResetTimer()
		start := time.Now()
		total := 0
		for b.Loop() {
			n := 0
			for _, err := range src.Records(ctx, "users") {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != count {
				b.Fatalf("read %d records, want %d", n, count)
			}
			total += n
		}
		b.ReportMetric(float64(total)/time.Since(start).Seconds(), "rec/s")
	}
	cfg := connector.WithConfig(map[string]any{"count": count, "seed": 1})
	b.Run("local", func(b *testing.B) { bench(b, localRunner(b).newSource(b, cfg)) })
	b.Run("docker", func(b *testing.B) { bench(b, dockerRunner(b).newSource(b, cfg)) })
}
