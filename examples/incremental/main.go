// Command incremental shows incremental reads: the cache keeps the state
// each read ends with, so the next read of the same source asks the
// connector only for what is new.
//
//	go run ./examples/incremental             # 1,000 users, then 2,000
//	go run ./examples/incremental -count 50
//
// The faker with always_updated false behaves like an append-only API:
// given the state of an earlier read ({"id": last id, ...} per stream) it
// emits only the records with a higher id. The example reads count users
// (and their purchases, and the 100 products) into a DuckDB cache, raises
// count to twice as many and reads again: the second read gets only the
// new users and purchases, and no products at all.
//
// Each run uses a fresh cache in a temporary directory, so its output is
// the same every time; a program that keeps its cache file (as the
// quickstart does with the default cache) resumes across runs in the same
// way.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/source"
)

func main() {
	count := flag.Int("count", 1000, "number of users the first read gets; the second gets twice as many")
	flag.Parse()
	// A library is silent unless asked: show the live progress line and
	// the summary of every read and write on stderr.
	goairbyte.DefaultEnvironment().SetProgress()
	if err := mainErr(*count); err != nil {
		log.Fatal(err)
	}
}

func mainErr(count int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, err := os.MkdirTemp("", "goairbyte-incremental-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	return run(ctx, os.Stdout, dir, count)
}

// run reads the faker twice into a cache under dir, the second time with
// twice the count, and prints what each read added.
func run(ctx context.Context, w io.Writer, dir string, count int) error {
	c, err := goairbyte.NewLocalCache(ctx, "incremental", dir)
	if err != nil {
		return err
	}
	defer c.Close()

	src, err := goairbyte.GetSource(ctx, "source-faker", // our faker: runs in process
		connector.WithConfig(map[string]any{"count": count, "seed": 42, "always_updated": false}))
	if err != nil {
		return err
	}
	for i, n := range []int{count, 2 * count} {
		if i > 0 {
			// Same source, new config: the state stays in the cache,
			// keyed by the source's name.
			if err := src.SetConfig(map[string]any{"count": n, "seed": 42, "always_updated": false}); err != nil {
				return err
			}
		}
		res, err := src.Read(ctx, source.UseCache(c))
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "read %d (count %d): %d new records\n", i+1, n, res.RecordsProcessed())
		for _, name := range res.ProcessedStreams() {
			ds, err := res.Stream(ctx, name)
			if err != nil {
				return err
			}
			rows, err := ds.Count(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "  %-9s +%-6d %d rows in the cache\n", name, res.StreamRecords()[name], rows)
		}
	}
	return nil
}
