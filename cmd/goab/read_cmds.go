package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/internal/airbytedirs"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/cachename"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/duckfile"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/secrets"
	"github.com/x/goairbyte/source"
)

// cacheFlags choose the cache of read, sync and benchmark.
type cacheFlags struct {
	target      string
	schema      string
	memoryLimit string
}

func addCacheFlags(fs *flag.FlagSet, help string) *cacheFlags {
	cf := &cacheFlags{}
	fs.StringVar(&cf.target, "cache", "", help)
	fs.StringVar(&cf.schema, "schema", "", "the cache's schema (default: main for DuckDB, public for Postgres)")
	fs.StringVar(&cf.memoryLimit, "memory-limit", "", "the memory limit of a DuckDB cache, such as 1GB (default 128MB, or half a container's memory limit below 256 MB)")
	return cf
}

// isPostgres reports whether a --cache value is a PostgreSQL DSN rather
// than a DuckDB file path.
func isPostgres(target string) bool {
	return strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://") ||
		strings.Contains(target, "dbname=") || strings.Contains(target, "host=")
}

// open opens the cache the flags name, with no --cache the default cache
// of e's Environment. The caller closes it: a DuckDB file left open ends
// the process with its last commits in the write-ahead log beside it, so
// that a copy of the file alone lacks them. A
// --cache or --schema the cache refuses before connecting (a URL
// parameter it does not know or whose value is not valid, a connection
// string that does not parse, a table prefix that is no name) is a usage
// error, as the flags' other mistakes are.
func (cf *cacheFlags) open(ctx context.Context, e *env, cmd string) (*cache.Cache, error) {
	c, err := cf.openCache(ctx, e, cmd)
	if ae := (*cacheerr.ArgumentError)(nil); errors.As(err, &ae) || errors.Is(err, cache.ErrInvalidName) {
		// A memory limit DuckDB would not parse came from --memory-limit
		// (which goab puts in a duckdb: URL too) or the URL's memory_limit.
		flag := "memory_limit="
		if cf.memoryLimit != "" {
			flag = "--memory-limit "
		}
		msg := memoryLimitOption.ReplaceAllString(secrets.MaskError(err).Error(), flag+"$1")
		return nil, usagef(cmd, "%s", msg)
	}
	return c, err
}

// memoryLimitOption is the duckdb option that a memory limit's error
// names, with the limit.
var memoryLimitOption = regexp.MustCompile(`WithMemoryLimit\("((?:[^"\\]|\\.)*)"\)`)

func (cf *cacheFlags) openCache(ctx context.Context, e *env, cmd string) (*cache.Cache, error) {
	var dopts []duckdb.Option
	if cf.memoryLimit != "" {
		dopts = append(dopts, duckdb.WithMemoryLimit(cf.memoryLimit))
	}
	switch {
	case cf.target == "":
		if cf.schema != "" {
			return nil, usagef(cmd, "--schema needs --cache")
		}
		if cf.memoryLimit != "" {
			// The default cache, opened here with the limit.
			c, err := goairbyte.NewLocalCache(ctx, "default_cache", "", dopts...)
			if err != nil {
				return nil, defaultCacheError(err)
			}
			return c, nil
		}
		return core.EnvOf(e.conns).DefaultCache(ctx)
	case cacheURL(cf.target) != nil:
		return cf.openURL(ctx, cmd, cacheURL(cf.target))
	case isPostgres(cf.target):
		if cf.memoryLimit != "" {
			return nil, usagef(cmd, "--memory-limit applies to DuckDB caches; PostgreSQL's memory is the server's")
		}
		var opts []postgres.Option
		if cf.schema != "" {
			opts = append(opts, postgres.WithSchema(cf.schema))
		}
		return cache.New(ctx, postgres.NewConnector(cf.target, opts...))
	default:
		if _, query, ok := strings.Cut(cf.target, "?"); ok && cacheParams(query) {
			return nil, usagef(cmd, "--cache %s: a file path takes no parameters; to give them, write it as a duckdb: URL: duckdb:%s", cf.target, cf.target)
		}
		if err := duckDBFile(cmd, cf.target); err != nil {
			return nil, err
		}
		if cf.schema != "" {
			dopts = append(dopts, duckdb.WithSchema(cf.schema))
		}
		return cache.New(ctx, duckdb.NewConnector(cf.target, dopts...))
	}
}

// cacheURL returns a --cache value parsed as a URL when it has a scheme
// (duckdb:, postgres://, or a typo of one), nil when it is a file path or
// a key=value DSN. A one-letter scheme is a Windows drive, not a URL.
func cacheURL(target string) *url.URL {
	u, err := url.Parse(target)
	if err != nil || len(u.Scheme) < 2 {
		return nil
	}
	return u
}

// openURL opens a --cache given as a URL as cache.Open does, so that
// duckdb: URLs and the schema and table_prefix parameters mean what they
// mean to the library; a scheme of no cache (a typo such as postgress://)
// is a usage error, where it would have named a DuckDB file.
func (cf *cacheFlags) openURL(ctx context.Context, cmd string, u *url.URL) (*cache.Cache, error) {
	var opts []cache.Option
	if cf.schema != "" {
		if s := u.Query().Get("schema"); s != "" && s != cf.schema {
			return nil, usagef(cmd, "--schema %s and the --cache URL's schema=%s disagree; give one", cf.schema, s)
		}
		opts = append(opts, cache.WithSchema(cf.schema))
	}
	switch u.Scheme {
	case "duckdb":
		path := u.Path
		if p, err := url.PathUnescape(u.Opaque); err == nil && p != "" {
			path = p
		}
		if err := duckDBFile(cmd, path); err != nil {
			return nil, err
		}
		if cf.memoryLimit != "" {
			q := u.Query()
			if l := q.Get("memory_limit"); l != "" && l != cf.memoryLimit {
				return nil, usagef(cmd, "--memory-limit %s and the --cache URL's memory_limit=%s disagree; give one", cf.memoryLimit, l)
			}
			q.Set("memory_limit", cf.memoryLimit)
			u.RawQuery = q.Encode()
		}
	case "postgres", "postgresql":
		if cf.memoryLimit != "" {
			return nil, usagef(cmd, "--memory-limit applies to DuckDB caches; PostgreSQL's memory is the server's")
		}
	default:
		return nil, usagef(cmd, "--cache %s: no cache has URLs of scheme %q; give a DuckDB file path, a duckdb:PATH URL or a postgres:// DSN", u.Redacted(), u.Scheme)
	}
	return cache.Open(ctx, u.String(), opts...)
}

// cacheName is a --cache value as goab may print it: a DSN's password is
// xxxxx, in a URL (as url.URL.Redacted has it) or a key=value DSN.
func cacheName(target string) string {
	if u := cacheURL(target); u != nil {
		return u.Redacted()
	}
	return dsnPassword.ReplaceAllString(target, "${1}xxxxx")
}

// name is the cache as goab may print it: the --cache value named by
// cacheName, or the default cache's file.
func (cf *cacheFlags) name() string {
	if cf.target == "" {
		return cachename.Path(airbytedirs.CacheRoot(), "default_cache")
	}
	return cacheName(cf.target)
}

// dsnPassword is the password of a key=value DSN, bare or quoted.
var dsnPassword = regexp.MustCompile(`(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// cacheParams reports whether query is a cache URL's parameters (schema=,
// table_prefix=, memory_limit=), given on a DuckDB file path.
func cacheParams(query string) bool {
	q, err := url.ParseQuery(query)
	return err == nil && (q.Has("schema") || q.Has("table_prefix") || q.Has("memory_limit"))
}

// duckDBFile refuses a DuckDB --cache that names a directory, as if goab
// made its file in it, with the file to name instead (DuckDB's own error
// says only that it could not read the directory); and one that names a
// file of another kind (see internal/duckfile), as a usage error.
func duckDBFile(cmd, path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return usagef(cmd, "--cache %s is a directory; a DuckDB cache is a file: name one, such as %s", path, filepath.Join(path, "goab.duckdb"))
	}
	if err := duckfile.Check(path); err != nil {
		return usagef(cmd, "--cache %v", err)
	}
	return nil
}

// What to do when the default cache, under the working directory or in
// AIRBYTE_CACHE_ROOT, cannot be opened: goab's words for the library's,
// which name Go calls (see cliAdvice).
const (
	cacheDirGone       = "run goab from a directory that exists, or name the cache with --cache: an absolute DuckDB file path or a postgres:// DSN"
	cacheDirUnwritable = "run goab from a directory it can write (or set AIRBYTE_CACHE_ROOT to one), or name the cache with --cache: a DuckDB file path elsewhere or a postgres:// DSN"
)

// defaultCacheError says, of err from opening the default cache with
// --memory-limit, where the cache was to be and what to do, as the
// library's Environment.DefaultCache does when goab opens it without.
func defaultCacheError(err error) error {
	root := airbytedirs.CacheRoot()
	dir, aerr := filepath.Abs(root)
	switch {
	case aerr != nil:
		return fmt.Errorf("the default cache is in %s under the working directory, which cannot be found (%w): %s", root, aerr, cacheDirGone)
	case errors.As(err, new(*fs.PathError)):
		return fmt.Errorf("%w; the default cache is in %s: %s", err, dir, cacheDirUnwritable)
	}
	return err
}

// readFlags are read's own flags, shared with sync through a cache.
type readFlags struct {
	fullRefresh bool
	strategy    *choice
}

func addReadFlags(fs *flag.FlagSet) *readFlags {
	rf := &readFlags{}
	fs.BoolVar(&rf.fullRefresh, "full-refresh", false, "read every stream in full, ignoring the state the cache keeps; a stream with a cursor and no primary key is appended to, so its table gets every record again: add --strategy replace to start it afresh")
	rf.strategy = choiceFlag(fs, "strategy", string(cache.StrategyAuto), "how streams are written into their tables",
		string(cache.StrategyAuto), string(cache.StrategyAppend), string(cache.StrategyMerge), string(cache.StrategyReplace))
	return rf
}

// options turns the read flags into read options into the cache c.
func (rf *readFlags) options(c *cache.Cache) []source.ReadOption {
	opts := []source.ReadOption{source.Strategy(cache.Strategy(rf.strategy.value))}
	if rf.fullRefresh {
		opts = append(opts, source.ForceFullRefresh())
	}
	return append(opts, source.UseCache(c))
}

var readCommand = &command{
	name:     "read",
	synopsis: "read <connector> --config CONFIG [--cache PATH|DSN] [--streams a,b] [--full-refresh] [--strategy S] [--format table|json] [--no-progress] [connector flags]",
	summary: "Read a source into a cache (a DuckDB file or a Postgres database) and print what each stream loaded: a table on stdout " +
		"(STREAM, RECORDS LOADED, ROWS IN TABLE, TABLE), the totals, time and rate in the summary line on stderr; with --format json, " +
		"one JSON document on stdout with the streams, the totals, the time and the cache. Streams that support it are read incrementally.",
	example: "goab read source-faker --local-executable ./source-faker --config '{\"count\": 1000}' --cache ./faker.duckdb\n" +
		"goab read source-faker --config config.yaml --cache postgres://user:pw@localhost:5432/db --schema airbyte --format json",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := newFlagSet(c)
		sc := addSourceFlags(fs)
		cf := addCacheFlags(fs, "the cache: a DuckDB file path, a duckdb:PATH URL or a postgres:// DSN; a URL may set schema= and table_prefix= (default: default_cache/default_cache.duckdb in $AIRBYTE_CACHE_ROOT, else in ./.cache)")
		rf := addReadFlags(fs)
		format := formatFlag(fs)
		pf := addProgressFlag(fs)
		src, err := newSource(ctx, c, e, fs, sc, args, nil)
		if err != nil {
			return err
		}
		cc, err := cf.open(ctx, e, c.name)
		if err != nil {
			return err
		}
		defer cc.Close()
		var final progress.Snapshot
		opts := append(rf.options(cc), source.WithProgress(pf.options(e, keepFinal(&final))...))
		res, err := src.Read(ctx, opts...)
		if err != nil {
			return err
		}
		streams, err := readStreams(ctx, res)
		if err != nil {
			return err
		}
		if format.value == "json" {
			doc := readDoc{Source: src.Name(), Cache: cf.name(), Streams: streams, Seconds: seconds(final.Elapsed)}
			for _, s := range streams {
				doc.RecordsLoaded += s.RecordsLoaded
				doc.Rows += s.Rows
			}
			doc.RecordsPerSecond = perSecond(float64(doc.RecordsLoaded), final.Elapsed)
			return e.printDoc(doc)
		}
		// The total, the time and the rate are in the progress summary
		// line on stderr, which a terminal shows next to this table (a
		// second summary here would only repeat it).
		tw := newTable(e.text, "STREAM", "RECORDS LOADED", "ROWS IN TABLE", "TABLE")
		for _, s := range streams {
			tw.row(s.Stream, s.RecordsLoaded, s.Rows, s.Table)
		}
		return tw.flush()
	},
}

// readDoc is read's --format json: the streams read, their totals, the
// read's time (the progress summary's) and the cache, named as goab may
// print it.
type readDoc struct {
	Source           string       `json:"source"`
	Cache            string       `json:"cache"`
	Streams          []readStream `json:"streams"`
	RecordsLoaded    int64        `json:"records_loaded"`
	Rows             int64        `json:"rows"`
	Seconds          float64      `json:"seconds"`
	RecordsPerSecond float64      `json:"records_per_second"`
}

// readStream is one stream read: records loaded now, rows in its table
// (this read's and earlier ones), and the table.
type readStream struct {
	Stream        string `json:"stream"`
	RecordsLoaded int64  `json:"records_loaded"`
	Rows          int64  `json:"rows"`
	Table         string `json:"table"`
}

// readStreams counts, for each stream read in catalog order, the records
// loaded and the rows its table holds.
func readStreams(ctx context.Context, res *source.ReadResult) ([]readStream, error) {
	counts := res.StreamRecords()
	// All at once: res.Stream looks each name up in the processed streams.
	datasets, err := res.Streams(ctx)
	if err != nil {
		return nil, err
	}
	streams := []readStream{}
	for _, name := range res.ProcessedStreams() {
		ds := datasets[name]
		rows, err := ds.Count(ctx)
		if err != nil {
			return nil, err
		}
		streams = append(streams, readStream{Stream: name, RecordsLoaded: counts[name], Rows: rows, Table: ds.QualifiedTableName()})
	}
	return streams, nil
}

// records says how many records: "1 record", "2 records".
func records[N int | int64](n N) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}
