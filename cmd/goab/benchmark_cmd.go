package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/source"
)

var benchmarkCommand = &command{
	name: "benchmark",
	synopsis: "benchmark [source] [--count N | --config CONFIG] [source flags]\n" +
		"                 [--cache PATH|DSN | --destination NAME --destination-config CONFIG [destination flags]]",
	summary: "Measure how fast records move: a source into the no-op destination (the default: the source and the pipeline alone), " +
		"into a cache (--cache), or a destination fed by a source (--destination). The source defaults to source-faker " +
		"with --count users. Every run reads in full. It prints the records of each stream and the run's records per second over " +
		"its wall-clock time, process start-up included.",
	example: "goab benchmark --local-executable ./source-faker --count 100000\n" +
		"goab benchmark --local-executable ./source-faker --count 100000 --cache ./bench.duckdb\n" +
		"goab benchmark --local-executable ./source-faker --count 100000 \\\n" +
		"    --destination-local-executable ./destination-local-json --destination-config '{\"destination_path\": \"/tmp/bench\"}'",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := newFlagSet(c)
		sc := addSourceFlags(fs)
		df := addDestinationFlags(fs)
		cf := addCacheFlags(fs, "benchmark a read into this cache: a DuckDB file path or a postgres:// DSN")
		count := fs.Int("count", 100_000, "the faker's count, used when --config is not given")
		pos, err := parse(c, e, fs, args)
		if err != nil {
			return err
		}
		if len(pos) == 0 && sc.conn.local == "" && sc.conn.dockerImage == "" {
			pos = []string{"source-faker"}
		}
		if sc.conn.config == "" {
			if *count < 1 {
				return usagef(c.name, "--count must be at least 1")
			}
			sc.conn.config = fmt.Sprintf(`{"count": %d}`, *count)
		}
		toDestination := df.given(fs)
		if toDestination && cf.target != "" {
			return usagef(c.name, "choose --cache or --destination, not both")
		}
		src, err := sourceFromFlags(ctx, c, fs, sc, pos)
		if err != nil {
			return err
		}
		var (
			counts map[string]int64
			took   time.Duration
			target string
		)
		switch {
		case toDestination:
			dst, err := df.build(ctx, c.name, fs)
			if err != nil {
				return err
			}
			start := time.Now()
			res, err := dst.Write(ctx, src, destination.NoCache(), destination.NoStateCache(), destination.ForceFullRefresh())
			if err != nil {
				return err
			}
			counts, took, target = res.RecordsSent, time.Since(start), dst.Name()
		case cf.target != "":
			cc, err := cf.open(ctx, c.name)
			if err != nil {
				return err
			}
			defer cc.Close()
			start := time.Now()
			res, err := src.Read(ctx, source.UseCache(cc), source.ForceFullRefresh())
			if err != nil {
				return err
			}
			counts, took, target = res.StreamRecords(), time.Since(start), "cache "+cf.target
		default:
			start := time.Now()
			res, err := destination.Noop().Write(ctx, src, destination.NoCache(), destination.NoStateCache(), destination.ForceFullRefresh())
			if err != nil {
				return err
			}
			counts, took, target = res.RecordsSent, time.Since(start), "the no-op destination"
		}
		return printBenchmark(e, src.Name(), target, counts, took)
	},
}

// printBenchmark prints records and rates per stream and in total. The
// rates are over the whole run (process start-up included), since the
// library does not yet report per-stream timings.
func printBenchmark(e *env, from, to string, counts map[string]int64, took time.Duration) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tRECORDS")
	var total int64
	for _, name := range sortedKeys(counts) {
		fmt.Fprintf(tw, "%s\t%d\n", name, counts[name])
		total += counts[name]
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "%s → %s: %d records in %.2f s, %.0f rec/s.\n",
		from, to, total, took.Seconds(), float64(total)/took.Seconds())
	return err
}
