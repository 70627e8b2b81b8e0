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
		"                 [--cache PATH|DSN | --destination NAME --destination-config CONFIG [destination flags]] [--format table|json]",
	summary: "Measure how fast records move: a source into the no-op destination (the default: the source and the pipeline alone), " +
		"into a cache (--cache), or a destination fed by a source (--destination). The source defaults to source-faker " +
		"with --count users. Every run reads in full. It prints, per stream, the records, records and megabytes per second " +
		"(from the stream's start to its end) and the time to its first record; then the run's totals over its wall-clock time, " +
		"process start-up included; with --format json, the same as one JSON document.",
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
		format := formatFlag(fs)
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
		popts := pf.options(e, keepFinal(&final))
		var counts map[string]int64
		doc := benchmarkDoc{Source: src.Name()}
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
			counts, doc.Target, doc.Destination = res.RecordsSent, "destination", dst.Name()
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
			counts, doc.Target, doc.Cache = res.StreamRecords(), "cache", cf.name()
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
			counts, doc.Target, doc.Destination = res.RecordsSent, "no-op", noop.Name()
		}
		doc.measure(counts, final)
		if format.value == "json" {
			return e.printDoc(doc)
		}
		return printBenchmark(e, doc)
	},
}

// benchmarkDoc is benchmark's result, its --format json: per stream the
// records moved, the rates and the time to its first record, from the
// final progress snapshot; then the totals. A stream's rates run from its
// start (its STARTED status or first record) to its end (COMPLETE
// status); the total rate is over the whole run, process start-up
// included, as is the time to the first record (from the call into the
// library). Target is "no-op", "cache" or "destination"; Cache or
// Destination names it (the no-op destination is destination-noop).
type benchmarkDoc struct {
	Source             string            `json:"source"`
	Target             string            `json:"target"`
	Destination        string            `json:"destination"`
	Cache              string            `json:"cache"`
	Streams            []benchmarkStream `json:"streams"`
	Records            int64             `json:"records"`
	Seconds            float64           `json:"seconds"`
	RecordsPerSecond   float64           `json:"records_per_second"`
	BytesPerSecond     float64           `json:"bytes_per_second"`
	FirstRecordSeconds *float64          `json:"first_record_seconds"` // null: no record
}

// benchmarkStream is one stream of a benchmark.
type benchmarkStream struct {
	Stream             string   `json:"stream"`
	Records            int64    `json:"records"`
	RecordsPerSecond   float64  `json:"records_per_second"`
	BytesPerSecond     float64  `json:"bytes_per_second"`
	FirstRecordSeconds *float64 `json:"first_record_seconds"` // null: no record
}

// measure fills in the streams and totals of d from the records moved per
// stream and the run's final progress snapshot.
func (d *benchmarkDoc) measure(counts map[string]int64, final progress.Snapshot) {
	d.Streams = []benchmarkStream{}
	for _, st := range final.Streams {
		s := benchmarkStream{Stream: st.Name, Records: counts[st.Name], RecordsPerSecond: tenth(st.RecordsPerSec), BytesPerSecond: tenth(st.BytesPerSec)}
		if st.RecordsRead > 0 {
			s.FirstRecordSeconds = ptr(seconds(st.TimeToFirstRecord))
		}
		d.Records += s.Records
		d.Streams = append(d.Streams, s)
	}
	d.Seconds = seconds(final.Elapsed)
	d.RecordsPerSecond = perSecond(float64(d.Records), final.Elapsed)
	d.BytesPerSecond = perSecond(float64(final.Total.BytesRead), final.Elapsed)
	if final.Total.RecordsRead > 0 {
		d.FirstRecordSeconds = ptr(seconds(final.Total.TimeToFirstRecord))
	}
}

func ptr[T any](v T) *T { return &v }

// printBenchmark prints the benchmark d as a table and a line of totals.
func printBenchmark(e *env, d benchmarkDoc) error {
	tw := newTable(e.text, "STREAM", "RECORDS", "REC/S", "MB/S", "FIRST RECORD")
	for _, s := range d.Streams {
		first := "-"
		if s.FirstRecordSeconds != nil {
			first = fmt.Sprintf("%.3f s", *s.FirstRecordSeconds)
		}
		tw.row(s.Stream, s.Records, fmt.Sprintf("%.0f", s.RecordsPerSecond), fmt.Sprintf("%.2f", s.BytesPerSecond/1e6), first)
	}
	if err := tw.flush(); err != nil {
		return err
	}
	arrow := "→"
	if e.ascii {
		arrow = "->"
	}
	to := "cache " + d.Cache
	switch d.Target {
	case "no-op":
		to = "the no-op destination"
	case "destination":
		to = d.Destination
	}
	first := 0.0
	if d.FirstRecordSeconds != nil {
		first = *d.FirstRecordSeconds
	}
	_, err := fmt.Fprintf(e.text, "%s %s %s: %s in %.2f s, %.0f rec/s, %.2f MB/s, first record after %.3f s.\n",
		d.Source, arrow, to, records(d.Records), d.Seconds, d.RecordsPerSecond, d.BytesPerSecond/1e6, first)
	return err
}
