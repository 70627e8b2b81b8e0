package main

import (
	"context"
	"flag"
	"slices"
	"strings"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/progress"
)

// destinationFlags choose the destination of sync and benchmark: the
// connector flags with the prefix "destination-", plus its name.
type destinationFlags struct {
	conn       *connectorFlags
	localMount string
}

func addDestinationFlags(fs *flag.FlagSet) *destinationFlags {
	df := &destinationFlags{conn: addConnectorFlags(fs, "destination-", "destination")}
	fs.StringVar(&df.conn.name, "destination", "", "the destination connector's name, such as destination-local-json")
	fs.StringVar(&df.localMount, "destination-local-mount", "", "mount this host directory at /local in the destination's container")
	return df
}

// given reports whether any destination flag was used.
func (df *destinationFlags) given(fs *flag.FlagSet) bool {
	used := false
	fs.Visit(func(f *flag.Flag) {
		if len(f.Name) >= len("destination") && f.Name[:len("destination")] == "destination" {
			used = true
		}
	})
	return used
}

// build makes the destination the flags describe.
func (df *destinationFlags) build(ctx context.Context, e *env, cmd string, fs *flag.FlagSet) (*destination.Destination, error) {
	f := df.conn
	f.visited(fs)
	name, err := f.connectorName(cmd, f.name)
	if err != nil {
		return nil, err
	}
	return newDestination(ctx, e, cmd, name, f, df.localMount)
}

// destinationFromFlags builds a destination from the unprefixed connector
// flags (goab validate destination-x ...).
func destinationFromFlags(ctx context.Context, c *command, e *env, fs *flag.FlagSet, f *connectorFlags, pos []string) (*destination.Destination, error) {
	f.visited(fs)
	if len(pos) > 1 {
		return nil, usagef(c.name, "unexpected arguments %q after the connector name %q", strings.Join(pos[1:], " "), pos[0])
	}
	return newDestination(ctx, e, c.name, pos[0], f, "")
}

// needDestinationConfig refuses a destination without --destination-config
// before anything runs: a destination cannot write without its config, and
// the library finds out only when the write begins, after the source has
// been read.
func needDestinationConfig(cmd string, df *destinationFlags) error {
	if strings.TrimSpace(df.conn.config) == "" {
		return usagef(cmd, "--destination-config is required: the destination's config, a JSON or YAML file or inline JSON such as '{\"destination_path\": \"/tmp/out\"}'")
	}
	return nil
}

// newDestination builds the destination name with the options f says.
func newDestination(ctx context.Context, e *env, cmd, name string, f *connectorFlags, localMount string) (*destination.Destination, error) {
	opts, err := connectorOptions(ctx, e, cmd, f)
	if err != nil {
		return nil, err
	}
	e.specArgs[name] = f.specArgs("")
	if localMount != "" {
		opts = append(opts, connector.WithLocalMount(localMount))
	}
	d, err := destination.New(ctx, name, opts...)
	if err != nil {
		return nil, connectorError(cmd, name, f.prefix, err)
	}
	if err := askSecrets(ctx, d.Connector); err != nil {
		return nil, err
	}
	return d, nil
}

// writeOptions turns the read flags into write options.
func (rf *readFlags) writeOptions() []destination.WriteOption {
	opts := []destination.WriteOption{destination.Strategy(cache.Strategy(rf.strategy.value))}
	if rf.fullRefresh {
		opts = append(opts, destination.ForceFullRefresh())
	}
	return opts
}

var syncCommand = &command{
	name: "sync",
	synopsis: "sync <source> --config CONFIG [source flags] --destination NAME --destination-config CONFIG [destination flags]\n" +
		"                 [--cache PATH|DSN | --no-cache] [--streams a,b] [--full-refresh] [--strategy S] [--format table|json] [--no-progress]",
	summary: "Sync a source into a destination connector: read into a cache first (incrementally, so a failed write resumes) or, with --no-cache, " +
		"piped straight through. Only what the destination has not confirmed is sent. It prints, per stream, the records sent and confirmed; " +
		"with --format json, one JSON document with the totals, the states confirmed, the time, the destination and the cache.",
	example: "goab sync source-faker --local-executable ./source-faker --config '{\"count\": 1000}' \\\n" +
		"    --destination destination-local-json --destination-local-executable ./destination-local-json \\\n" +
		"    --destination-config '{\"destination_path\": \"/tmp/out\"}' --cache ./sync.duckdb",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := newFlagSet(c)
		sc := addSourceFlags(fs)
		df := addDestinationFlags(fs)
		cf := addCacheFlags(fs, "the cache the source is read into and the destination's state is kept in: a DuckDB file path, a duckdb:PATH URL or a postgres:// DSN; a URL may set schema= and table_prefix= (default: default_cache/default_cache.duckdb in $AIRBYTE_CACHE_ROOT, else in ./.cache)")
		rf := addReadFlags(fs)
		noCache := fs.Bool("no-cache", false, "pipe the source's records straight into the destination (the state is still kept in the cache)")
		format := formatFlag(fs)
		pf := addProgressFlag(fs)
		src, err := newSource(ctx, c, e, fs, sc, args, func() error {
			if !df.given(fs) {
				return usagef(c.name, "--destination is required (such as destination-local-json), or --destination-local-executable or --destination-docker-image")
			}
			return needDestinationConfig(c.name, df)
		})
		if err != nil {
			return err
		}
		dst, err := df.build(ctx, e, c.name, fs)
		if err != nil {
			return err
		}
		cc, err := cf.open(ctx, e, c.name)
		if err != nil {
			return err
		}
		defer cc.Close()
		opts := rf.writeOptions()
		if *noCache {
			opts = append(opts, destination.NoCache(), destination.StateCache(cc))
		} else {
			opts = append(opts, destination.UseCache(cc))
		}
		var final progress.Snapshot
		opts = append(opts, destination.WithProgress(pf.options(e, keepFinal(&final))...))
		res, err := dst.Write(ctx, src, opts...)
		if err != nil {
			return err
		}
		doc := newSyncDoc(res, cf.name(), final)
		if format.value == "json" {
			return e.printDoc(doc)
		}
		return printWriteSummary(e, doc)
	},
}

// syncDoc is sync's --format json: per stream the records sent and
// confirmed, the totals, the STATE messages sent and confirmed, the
// write's time (the progress summary's), the destination and the cache
// (of the records, or with --no-cache of the state only).
type syncDoc struct {
	Source           string       `json:"source"`
	Destination      string       `json:"destination"`
	Cache            string       `json:"cache"`
	Streams          []syncStream `json:"streams"`
	RecordsSent      int64        `json:"records_sent"`
	RecordsConfirmed int64        `json:"records_confirmed"`
	StatesSent       int          `json:"states_sent"`
	StatesConfirmed  int          `json:"states_confirmed"`
	Seconds          float64      `json:"seconds"`
	RecordsPerSecond float64      `json:"records_per_second"`
}

// syncStream is one stream written.
type syncStream struct {
	Stream           string `json:"stream"`
	RecordsSent      int64  `json:"records_sent"`
	RecordsConfirmed int64  `json:"records_confirmed"`
}

// newSyncDoc describes the write res into the cache named cacheName,
// whose final progress snapshot is final; its streams are sorted by name.
func newSyncDoc(res *destination.WriteResult, cacheName string, final progress.Snapshot) syncDoc {
	doc := syncDoc{
		Source: res.SourceName, Destination: res.DestinationName, Cache: cacheName, Streams: []syncStream{},
		RecordsSent: res.TotalSent(), RecordsConfirmed: res.TotalConfirmed(),
		StatesSent: res.StatesSent, StatesConfirmed: res.StatesConfirmed,
		Seconds: seconds(final.Elapsed), RecordsPerSecond: perSecond(float64(res.TotalSent()), final.Elapsed),
	}
	for _, name := range sortedKeys(res.RecordsSent, res.RecordsConfirmed) {
		doc.Streams = append(doc.Streams, syncStream{Stream: name, RecordsSent: res.RecordsSent[name], RecordsConfirmed: res.RecordsConfirmed[name]})
	}
	return doc
}

// printWriteSummary prints one line per stream written: records sent and
// confirmed by the destination. The totals, the time and the rate are the
// progress summary's, on stderr, as for read: a second summary on stdout
// showed the same line twice at the terminal.
func printWriteSummary(e *env, doc syncDoc) error {
	tw := newTable(e.text, "STREAM", "RECORDS SENT", "CONFIRMED")
	for _, s := range doc.Streams {
		tw.row(s.Stream, s.RecordsSent, s.RecordsConfirmed)
	}
	return tw.flush()
}

// sortedKeys returns the keys of the maps, sorted.
func sortedKeys(ms ...map[string]int64) []string {
	seen := map[string]bool{} // not a scan of keys: a write of thousands of streams
	var keys []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}
