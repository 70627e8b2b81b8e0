package destination_test

import (
	"bufio"
	"os"
	"context"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/source"
)

func BenchmarkZZSplit(b *testing.B) {
	ctx := context.Background()
	src, _ := source.New(ctx, "source-faker",
		source.WithLocalExecutable(testenv.BuildBinary(b, "./cmd/source-faker")),
		source.WithConfig(map[string]any{"count": benchUsers, "seed": 1, "records_per_slice": 1000}), source.WithStreams("users"))
	dst, _ := destination.New(ctx, "destination-local-json",
		destination.WithLocalExecutable(testenv.BuildBinary(b, "./cmd/destination-local-json")),
		destination.WithConfig(map[string]any{"destination_path": b.TempDir()}))
	c := openCache(b)
	t0 := time.Now()
	rr, err := src.Read(ctx, source.UseCache(c), source.Strategy(cache.StrategyAppend))
	if err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	ds, _ := rr.Stream(ctx, "users")
	f, _ := os.Create("/tmp/zz_lines.jsonl")
	w := bufio.NewWriterSize(f, 1<<20)
	for r, err := range ds.After("").RecordLines(ctx, nil) {
		if err != nil {
			b.Fatal(err)
		}
		w.Write(r.Line)
	}
	w.Flush()
	f.Close()
	b.Logf("export only %v", time.Since(t1))
	t1 = time.Now()
	res, err := dst.Write(ctx, rr, destination.Strategy(cache.StrategyAppend))
	if err != nil {
		b.Fatal(err)
	}
	t2 := time.Now()
	b.Logf("read %v write %v confirmed %d", t1.Sub(t0), t2.Sub(t1), res.TotalConfirmed())
}
