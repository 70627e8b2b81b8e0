package destination_test

import (
	"context"

	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"

	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/source"
)

const benchUsers = 1_000_000

func benchWrite(b *testing.B, opts func(b *testing.B) []destination.WriteOption) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		src, err := source.New(ctx, "source-faker",
			connector.WithLocalExecutable(testenv.BuildBinary(b, "./cmd/source-faker")),
			connector.WithConfig(map[string]any{"count": benchUsers, "seed": 1, "records_per_slice": 1000}), connector.WithStreams("users"))
		if err != nil {
			b.Fatal(err)
		}
		dst, err := destination.New(ctx, "destination-local-json",
			connector.WithLocalExecutable(testenv.BuildBinary(b, "./cmd/destination-local-json")),
			connector.WithConfig(map[string]any{"destination_path": b.TempDir()}))
		if err != nil {
			b.Fatal(err)
		}
		o := opts(b)
		b.StartTimer()
		res, err := dst.Write(ctx, src, o...)
		if err != nil {
			b.Fatal(err)
		}
		if res.RecordsConfirmed["users"] != benchUsers {
			b.Fatalf("confirmed %v", res.RecordsConfirmed)
		}
	}
	b.ReportMetric(float64(benchUsers)*float64(b.N)/b.Elapsed().Seconds(), "rec/s")
}

// The write benchmarks use the append strategy: with merge (auto for users)
// the local-JSON destination's own end-of-sync deduplication of the file
// dominates, which measures the destination rather than the pipeline.

// BenchmarkWriteNoCache: faker users → local-JSON, streamed.
func BenchmarkWriteNoCache(b *testing.B) {
	benchWrite(b, func(*testing.B) []destination.WriteOption {
		return []destination.WriteOption{destination.NoCache(), destination.NoStateCache(), destination.Strategy(cache.StrategyAppend)}
	})
}

// BenchmarkWriteThroughCache: faker users → DuckDB cache → local-JSON.
func BenchmarkWriteThroughCache(b *testing.B) {
	benchWrite(b, func(b *testing.B) []destination.WriteOption {
		c := openCache(b)
		return []destination.WriteOption{destination.UseCache(c), destination.Strategy(cache.StrategyAppend)}
	})
}

// BenchmarkNoopNoCache: faker users → the in-process no-op destination.
func BenchmarkNoopNoCache(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		src, err := source.New(ctx, "source-faker",
			connector.WithLocalExecutable(testenv.BuildBinary(b, "./cmd/source-faker")),
			connector.WithConfig(map[string]any{"count": benchUsers, "seed": 1, "records_per_slice": 1000}), connector.WithStreams("users"))
		if err != nil {
			b.Fatal(err)
		}
		res, err := noop(b).Write(ctx, src, destination.NoCache(), destination.NoStateCache())
		if err != nil || res.RecordsConfirmed["users"] != benchUsers {
			b.Fatalf("%v %v", res.RecordsConfirmed, err)
		}
	}
	b.ReportMetric(float64(benchUsers)*float64(b.N)/b.Elapsed().Seconds(), "rec/s")
}

// cachedUsers reads benchUsers faker users into a fresh DuckDB cache, once
// per benchmark, outside its timer.
func cachedUsers(b *testing.B) *source.ReadResult {
	b.Helper()
	ctx := context.Background()
	src, err := source.New(ctx, "source-faker",
		connector.WithLocalExecutable(testenv.BuildBinary(b, "./cmd/source-faker")),
		connector.WithConfig(map[string]any{"count": benchUsers, "seed": 1, "records_per_slice": 1000}), connector.WithStreams("users"))
	if err != nil {
		b.Fatal(err)
	}
	res, err := src.Read(ctx, source.UseCache(openCache(b)), source.Strategy(cache.StrategyAppend), source.NoProgress())
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// BenchmarkWriteFromCache: the write half of WriteThroughCache alone —
// cached users → local-JSON, every row each time.
func BenchmarkWriteFromCache(b *testing.B) {
	ctx := context.Background()
	res := cachedUsers(b)
	dst, err := destination.New(ctx, "destination-local-json",
		connector.WithLocalExecutable(testenv.BuildBinary(b, "./cmd/destination-local-json")),
		connector.WithConfig(map[string]any{"destination_path": b.TempDir()}))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		out, err := dst.Write(ctx, res, destination.NoStateCache(), destination.Strategy(cache.StrategyAppend))
		if err != nil {
			b.Fatal(err)
		}
		if out.RecordsConfirmed["users"] != benchUsers {
			b.Fatalf("confirmed %v", out.RecordsConfirmed)
		}
	}
	b.ReportMetric(float64(benchUsers)*float64(b.N)/b.Elapsed().Seconds(), "rec/s")
}

// BenchmarkRecordLines: the cache's export alone — cached users → RECORD
// lines, discarded.
func BenchmarkRecordLines(b *testing.B) {
	ctx := context.Background()
	ds, err := cachedUsers(b).Stream(ctx, "users")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		n, size := 0, 0
		for r, err := range ds.After("").RecordLines(ctx, nil) {
			if err != nil {
				b.Fatal(err)
			}
			n++
			size += len(r.Line)
		}
		if n != benchUsers {
			b.Fatalf("%d lines", n)
		}
		b.SetBytes(int64(size))
	}
	b.ReportMetric(float64(benchUsers)*float64(b.N)/b.Elapsed().Seconds(), "rec/s")
}

// BenchmarkEchoEveryRecord: faker users, a state after every record,
// streamed into the in-process no-op destination, which echoes each: the
// cost of storing the destination's states in a DuckDB state cache.
func BenchmarkEchoEveryRecord(b *testing.B) {
	const users = 20_000
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		src, err := source.New(ctx, "source-faker",
			connector.WithLocalExecutable(testenv.BuildBinary(b, "./cmd/source-faker")),
			connector.WithConfig(map[string]any{"count": users, "seed": 1, "records_per_slice": 1}), connector.WithStreams("users"))
		if err != nil {
			b.Fatal(err)
		}
		c := openCache(b)
		b.StartTimer()
		res, err := noop(b).Write(ctx, src, destination.NoCache(), destination.StateCache(c), destination.Strategy(cache.StrategyAppend))
		if err != nil || res.RecordsConfirmed["users"] != users || res.StatesConfirmed < users {
			b.Fatalf("%v %d states: %v", res.RecordsConfirmed, res.StatesConfirmed, err)
		}
	}
	b.ReportMetric(float64(users)*float64(b.N)/b.Elapsed().Seconds(), "rec/s")
}
