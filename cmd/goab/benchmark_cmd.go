package main

import (
	"context"
	"fmt"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/source"
)

var benchmarkCommand = &command{
	name: "benchmark",
	synopsis: "benchmark [source] [--count N | --config CONFIG] [source flags]\n" +
		"                 [--cache PATH|DSN | --destination NAME --destination-config CONFIG [destination flags]]",
	summary: "Measure how fast records move: a source into the no-op destination (the default: the source and the pipeline alone), " +
		"into a cache (--cache), or a destination fed by a source (--destination). The source defaults to source-faker " +
		"with --count users. Every run reads in full. It prints, per stream, the records, records and megabytes per second " +
		"(from the stream's start to its end) and the time to its first record; then the run's totals over its wall-clock time, " +
		"process start-up included.",
	example: "goab benchmark --local-executable ./source-faker --count 100000\n" +
		"goab benchmark --manifest ./source-pokeapi/manifest.yaml --config '{\"pokemon_name\": \"ditto\"}' --cache ./bench.duckdb\n" +
		"goab benchmark --local-executable ./source-faker --count 100000 --cache ./bench.duckdb\n" +
		"goab benchmark --local-executable ./source-faker --count 100000 \\\n" +
		"    --destination-local-executable ./destination-local-json --destination-config '{\"destination_path\": \"/tmp/bench\"}'",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := newFlagSet(c)
		sc := addSourceFlags(fs)
		df := addDestinationFlags(fs)
		cf := addCacheFlags(fs, "benchmark a read into this cache: a DuckDB file path, a duckdb:PATH URL or a postgres:// DSN")
		count := recordCount(100_000)
		fs.Var(&count, "count", "the faker's count (100000, or 1e5), used when --config is not given")
		pf := addProgressFlag(fs)
		pos, err := parse(c, e, fs, args)
		if err != nil {
			return err
		}
		if len(pos) == 0 && sc.conn.local == "" && sc.conn.dockerImage == "" && sc.manifest == "" {
			pos = []string{"source-faker"}
		}
		if flagGiven(fs, "count") && sc.conn.config != "" {
			return usagef(c.name, "--count is the faker's count when there is no --config; with a --config, set the count there (such as '{\"count\": %d}')", count)
		}
		if sc.conn.config == "" && sc.manifest != "" {
			return usagef(c.name, "--manifest needs the source's --config (--count is the faker's)")
		}
		if sc.conn.config == "" {
			if count < 1 {
				return usagef(c.name, "--count must be at least 1")
			}
			sc.conn.config = fmt.Sprintf(`{"count": %d}`, count)
		}
		toDestination := df.given(fs)
		if toDestination && cf.target != "" {
			return usagef(c.name, "choose --cache or --destination, not both")
		}
		if toDestination {
			if err := needDestinationConfig(c.name, df); err != nil {
				return err
			}
		}
		src, err := sourceFromFlags(ctx, c, e, fs, sc, pos)
		if err != nil {
			return err
		}
		// The final progress snapshot carries the per-stream rates and
		// times to first record.
		var final progress.Snapshot
		popts := pf.options(e, progress.WithListener(func(s progress.Snapshot) {
			if s.Done {
				final = s
			}
		}))
		var (
			counts map[string]int64
			target string
		)
		switch {
		case toDestination:
			dst, err := df.build(ctx, e, c.name, fs)
			if err != nil {
				return err
			}
			res, err := dst.Write(ctx, src, destination.NoCache(), destination.NoStateCache(), destination.ForceFullRefresh(),
				destination.WithProgress(popts...))
			if err != nil {
				return err
			}
			counts, target = res.RecordsSent, dst.Name()
		case cf.target != "":
			cc, err := cf.open(ctx, e, c.name)
			if err != nil {
				return err
			}
			defer cc.Close()
			res, err := src.Read(ctx, source.UseCache(cc), source.ForceFullRefresh(), source.WithProgress(popts...))
			if err != nil {
				return err
			}
			counts, target = res.StreamRecords(), "cache "+cacheName(cf.target)
		default:
			noop, err := goairbyte.NoopDestination(ctx, connector.WithEnvironment(e.conns))
			if err != nil {
				return err
			}
			res, err := noop.Write(ctx, src, destination.NoCache(), destination.NoStateCache(), destination.ForceFullRefresh(),
				destination.WithProgress(popts...))
			if err != nil {
				return err
			}
			counts, target = res.RecordsSent, "the no-op destination"
		}
		return printBenchmark(e, src.Name(), target, counts, final)
	},
}

// printBenchmark prints, per stream, the records moved, the rates and the
// time to its first record, from the final progress snapshot; then the
// totals. A stream's rates run from its start (its STARTED status or first
// record) to its end (COMPLETE status); the total rate is over the whole
// run, process start-up included, as is the time to the first record
// (from the call into the library).
func printBenchmark(e *env, from, to string, counts map[string]int64, final progress.Snapshot) error {
	tw := newTable(e.text, "STREAM", "RECORDS", "REC/S", "MB/S", "FIRST RECORD")
	var total int64
	for _, st := range final.Streams {
		n := counts[st.Name]
		total += n
		first := "-"
		if st.RecordsRead > 0 {
			first = fmt.Sprintf("%.3f s", st.TimeToFirstRecord.Seconds())
		}
		tw.row(st.Name, n, fmt.Sprintf("%.0f", st.RecordsPerSec), fmt.Sprintf("%.2f", st.BytesPerSec/1e6), first)
	}
	if err := tw.flush(); err != nil {
		return err
	}
	secs := final.Elapsed.Seconds()
	arrow := "→"
	if e.ascii {
		arrow = "->"
	}
	_, err := fmt.Fprintf(e.text, "%s %s %s: %s in %.2f s, %.0f rec/s, %.2f MB/s, first record after %.3f s.\n",
		from, arrow, to, records(total), secs, float64(total)/secs, float64(final.Total.BytesRead)/1e6/secs, final.Total.TimeToFirstRecord.Seconds())
	return err
}
