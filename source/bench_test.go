package source_test

import (
	"context"
	"testing"
	"time"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/connectors/faker"
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
	b.Run("inprocess", func(b *testing.B) {
		bench(b, inProcessFaker(b, cfg))
	})
}

// BenchmarkReadFakerDuckDB reads the faker's users and purchases, count
// 1,000,000 each, into a fresh DuckDB cache: the faker as a local
// executable, and in process (the default for GetSource("source-faker")).
func BenchmarkReadFakerDuckDB(b *testing.B) {
	const count = 1_000_000
	cfg := connector.WithConfig(map[string]any{"count": count, "seed": 1, "records_per_slice": 1000})
	bench := func(b *testing.B, src *source.Source) {
		ctx := context.Background()
		if err := src.SelectStreams(ctx, "users", "purchases"); err != nil {
			b.Fatal(err)
		}
		var elapsed time.Duration
		for b.Loop() {
			b.StopTimer()
			c := openDuckDB(b)
			b.StartTimer()
			start := time.Now()
			res, err := src.Read(ctx, source.UseCache(c), source.ForceFullRefresh())
			if err != nil || res.RecordsProcessed() != 2*count {
				b.Fatalf("read %v, %v", res, err)
			}
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(2*count*b.N)/elapsed.Seconds(), "rec/s")
	}
	b.Run("local", func(b *testing.B) { bench(b, localRunner(b).newSource(b, cfg)) })
	b.Run("inprocess", func(b *testing.B) {
		bench(b, inProcessFaker(b, cfg))
	})
}

// inProcessFaker is the faker run in process, as GetSource runs it.
func inProcessFaker(b *testing.B, opts ...connector.Option) *source.Source {
	src, err := source.New(context.Background(), "source-faker", append(opts, connector.WithGoConnector(faker.New()))...)
	if err != nil {
		b.Fatal(err)
	}
	return src
}
