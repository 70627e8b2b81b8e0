// Package duckdb is the DuckDB backend of the cache: a single database
// file, the embedded default. It needs cgo. Import it for its side effect
// to open caches by URL:
//
//	import _ "github.com/x/goairbyte/cache/duckdb"
//
//	c, err := cache.Open(ctx, "duckdb:.cache/mycache/mycache.duckdb?memory_limit=1GB")
//
// or call [NewConnector] for typed options:
//
//	c, err := cache.New(ctx, duckdb.NewConnector(path, duckdb.WithMemoryLimit("1GB")))
//
// # URLs
//
// duckdb:///abs/path/file.duckdb names a file by absolute path,
// duckdb:rel/path/file.duckdb one relative to the working directory, and
// duckdb::memory: an in-memory database, gone when the cache is closed.
// The file and its directories are created if needed; an existing file
// that is not a DuckDB database (empty, or JSON, CSV or Parquet data, which
// DuckDB would read into a database in memory) is refused. Query parameters:
// schema and table_prefix (see cache.Open), and memory_limit (such as
// 1GB), write_threads, batch_size and string_compression (true or false),
// as the options of the same names below.
//
// # How it loads
//
// Records are spooled in chunks of 50,000 to JSONL files in the temp
// directory (rewritten in place, chunk after chunk, and removed when the
// load ends) and loaded with DuckDB's own read_json, one
// INSERT … SELECT per chunk — several times faster than the appender —
// with every typed column read as text and converted with TRY_CAST, so a
// value that does not fit becomes NULL with a note in _airbyte_meta instead
// of failing the load. Its sessions' TimeZone is UTC, the zone of a
// date-time or time written without one (DuckDB's default is the
// program's local zone); a user may SET another on a connection for their
// own queries, and a write transaction sets UTC for its time and then
// gives theirs back. Write transactions run with one DuckDB thread (see
// [WithWriteThreads]) while the Go side spools the next chunk, and
// DuckDB's memory is bounded ([WithMemoryLimit]), so a load's footprint
// does not grow with the data. A destination fed from the cache reads the
// rows through DuckDB's C API, in place, rather than through database/sql,
// which copies and boxes every value: that halves the export's CPU
// (in-memory databases excepted).
//
// # Memory
//
// DuckDB's memory_limit ([WithMemoryLimit], 128MB by default, or half
// the memory the process may use where that is less, as in a container of
// 128 MiB, where 128MB got goab killed) bounds its buffers. Three kinds of load need more than a limit's share, and get
// it: a record needs about five times its size while it is loaded and
// committed, and a table of more than 100 columns about 768 KB per
// column, so the transaction of a chunk holding a record too large for
// the limit, or bound for a table too wide, runs with the limit raised to
// what it needs (a 100 MB record: 532 MB; 1,500 columns: 1.2 GB) and
// restored after, and so do the cache's reads of such a table (Records,
// and the export a destination's Write takes, whose pages then hold fewer
// rows); a read cannot know how large a table's records are, so one
// that runs out of memory runs again at twice the limit, up to four times
// the configured one (a 100 MB record, loaded at 532 MB, is read at 256
// MB); and a transaction holds memory for every table it
// writes into until a checkpoint, so a load into many streams commits
// and checkpoints whenever the tables of its transaction would hold more
// than a quarter of the limit; the deletes that deduplicate merge streams
// are committed in groups the same way. What still does not fit is a
// error matching cache.ErrOutOfMemory that names the options raising the
// limit. No raise goes past DuckDB's own default limit, 80% of the memory
// the process may use (a container's limit counted: 819 MB in 1 GiB),
// unless the configured limit is higher: a load of 1,500 columns, raised
// to 1.2 GB, was killed in a container of 1 GiB, and loads at 819 MB
// (50,000 records, peak RSS 1,017 MB).
//
// Outside the limit, a process that keeps a cache open sees DuckDB's own
// memory rise over its first few thousand loads and then level off.
// DuckDB's buffer pool queues every temporary buffer a query makes (a hash
// join makes 16) for eviction, and keeps 100 to 200 bytes of each after
// the buffer is freed, until its queues are long enough to purge: tens of
// thousands of entries. It is DuckDB's doing, whatever the statement (a
// join loop in plain SQL grows alike on 1.5.5 and 2.0): the cache cannot
// avoid it, and closing the cache gives that memory back. Measured on
// DuckDB 2.0, 100 faker users merged by each load into a cache kept open:
// what DuckDB had allocated outside its buffers went from 6 MB to 30 MB
// after 1,000 loads, 42 MB after 4,000, and stayed at 41–44 MB from 5,000
// loads to 10,000. A join in plain SQL, run 60,000 times, levels off at
// 43–48 MB from the 20,000th run.
//
// A DuckDB file has one writer process: a second process opening a file in
// use gets an error matching cache.ErrInUse. A full disk under the file or
// the spool files is an error matching cache.ErrDiskFull.
//
// A fatal error — a checkpoint that cannot write the file on a full disk,
// or that runs out of memory — makes DuckDB invalidate the database:
// every later statement on it fails until the file is opened again. The
// statement that met the error returns it; the cache then opens the file
// again by itself, with no log line (the program learnt of the error from
// that statement), as soon as the queries and transactions still open on
// the invalidated database have ended (until then they fail, saying so),
// so the next operation — on the same Cache and the same *sql.DB — runs
// on the file as DuckDB last committed it, its write-ahead log replayed. A commit whose checkpoint
// failed so ("COMMIT succeeded and is durable, but the autocheckpoint
// failed") succeeds: its transaction is in the log. An in-memory cache is
// not opened again: its data went with the database.
package duckdb

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/duckfile"
	"github.com/x/goairbyte/internal/jsonscan"
	"github.com/x/goairbyte/internal/owner"
	"github.com/x/goairbyte/protocol"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"
)

func init() { backend.Register("duckdb", openURL) }

// memoryPath is the path DuckDB takes for an in-memory database.
const memoryPath = ":memory:"

type options struct {
	schema       string
	memoryLimit  string
	writeThreads int
	batchSize    int
	compress     bool
	err          error // the first option that does not fit
}

// Option configures a DuckDB cache.
type Option func(*options)

// defaultBatchSize is how many records a load into DuckDB writes per
// transaction. DuckDB writes the rows of a transaction straight into the
// database file only in full row groups (122,880 rows per table); the rest
// it keeps in memory and, at commit, appends to the table a second time and
// checkpoints a third. With 100,000-record transactions that second and
// third pass cost as much CPU as the insert itself; at 500,000 the commit
// is nearly free (measured on faker users + purchases: commit CPU 2.1 s →
// 0.07 s for 2M records). Memory does not grow: the batch is spooled to a
// temporary file, not held in memory.
const defaultBatchSize = 500_000

// insertChunk is how many records each INSERT of a transaction reads from
// one spool file. DuckDB starts on the first chunk while the next is
// spooled, instead of idling until a whole transaction's records are
// there, and the spool files stay small enough to be rewritten in place
// (see spoolFile). Measured on faker users + purchases, 2M records: ten
// 50,000-record INSERTs per transaction cost DuckDB under 10% more than one
// 500,000-record INSERT.
const insertChunk = 50_000

// ChunkSize makes the backend a backend.ChunkSizer.
func (b *database) ChunkSize() int { return insertChunk }

// WithBatchSize sets how many records a load writes per transaction
// (default 500,000; a load's own LoadRequest.BatchSize overrides it).
// States are committed with the records they cover, so smaller batches
// commit states more often. n must be positive.
func WithBatchSize(n int) Option {
	return func(o *options) {
		if n <= 0 {
			o.fail(fmt.Errorf("duckdb: WithBatchSize(%d): the batch size must be positive", n))
		}
		o.batchSize = n
	}
}

// defaultStringCompression is whether DuckDB compresses string columns
// (FSST and dictionary compression) as loads write them. Off by default,
// for load speed: measured on faker users + purchases, 2M records, string
// compression took 2 of 10 CPU-seconds (263k → 352k records/s) — and the
// file was 2.9 times larger without it (434 MB instead of 148 MB). Numbers,
// dates and timestamps are always compressed.
const defaultStringCompression = false

// WithStringCompression turns DuckDB's string compression (FSST and
// dictionary) on or off for what this cache writes (default off): on makes
// the file about a third the size and loads about a quarter slower. Rows
// written while it was off stay uncompressed even after a CHECKPOINT,
// until they are rewritten (for example by a replace load or CREATE TABLE
// … AS).
func WithStringCompression(on bool) Option { return func(o *options) { o.compress = on } }

// defaultWriteThreads is how many threads DuckDB uses inside a write
// transaction (a batch's INSERT … SELECT read_json, the final dedupe).
// DuckDB's calling thread busy-waits for its workers, so on a small machine
// more threads cost CPU without saving time, and the connector and the
// protocol decoder need the other cores: measured on 2 cores, 2 threads
// took 1.5–2x the CPU of 1 for the same or a longer load. Even alone (the
// spooled chunks of 1M faker users replayed with nothing else running),
// DuckDB took 4.3–4.5 s with 2 threads against 3.0–3.7 s with 1.
const defaultWriteThreads = 1

// WithWriteThreads sets DuckDB's threads during write transactions
// (default 1); n <= 0 keeps DuckDB's own setting (one per core). Queries
// outside write transactions always use DuckDB's own setting.
func WithWriteThreads(n int) Option { return func(o *options) { o.writeThreads = n } }

// defaultMemoryLimit bounds DuckDB's own memory (its buffer pool, sorts and
// window functions spill to disk beyond it), so that a load's footprint
// does not grow with the data. DuckDB's default is 80% of RAM. Bulk inserts
// also buffer a single row group (write_buffer_row_group_count = 1, not
// 5) before writing it. Measured: faker users + purchases, 10M records,
// peak RSS of the loading process 277 MB (482 MB with 192MB and DuckDB's
// row-group buffering).
const defaultMemoryLimit = "128MB"

// defaultLimit is the memory limit of a cache given none: defaultMemoryLimit,
// or half the memory the process may use where that is less (a container's
// limit below 256 MB). The rest of a load's footprint is its own (goab's
// peak RSS was 245 MB for 2M faker records at 128MB, 191 MB at 64MB): in a
// container of 128 MiB a goab read of 1M faker users and purchases at
// 128MB, 96MB or 80MB was killed by the kernel (exit 137, no word said),
// at 60MB to 67MB it loaded, and at 53MB it failed with DuckDB's out of
// memory error, which names the option that raises the limit.
func defaultLimit() string {
	if pm := processMemory(); pm > 0 {
		// processMemory is DuckDB's default: 80% of what the process may use.
		if half := pm * 5 / 8; half < 128_000_000 {
			return strconv.FormatInt(half/1_000_000, 10) + "MB"
		}
	}
	return defaultMemoryLimit
}

// neverSkipWAL is DuckDB's auto_checkpoint_skip_wal_threshold as the
// cache sets it: the largest, so that a commit always writes the
// write-ahead log. A commit that takes the log beyond DuckDB's checkpoint
// threshold (checkpoint_threshold, 16MB) checkpoints; by default, when the
// commit would log more than 100,000 bytes, DuckDB then skips the log, and
// the transaction is seen committed by other connections while the
// checkpoint still writes it. Killed then, the cache reopened without it:
// loading 5,000-record commits of 2 MB, killed as soon as a reader saw
// each state, the 8th (the one that took the log past 16MB) was lost.
// Logging those commits costs them the log's write, no more than a commit
// below the threshold; the checkpoint after them was there before.
const neverSkipWAL = "18446744073709551615"

// WithMemoryLimit sets DuckDB's memory_limit, such as "1GB" (default
// 128MB, or half the memory the process may use where that is less: a
// container's limit below 256 MB). A limit DuckDB would not parse fails the cache before the file
// is opened.
func WithMemoryLimit(limit string) Option {
	return func(o *options) {
		if limit == "" {
			o.fail(errors.New("duckdb: WithMemoryLimit(\"\"): give a limit such as 1GB"))
		} else if err := checkMemoryLimit(limit); err != nil {
			o.fail(fmt.Errorf("duckdb: WithMemoryLimit(%q): %w; give a number and a unit such as 512MB, 1GB or 2GiB", limit, err))
		}
		o.memoryLimit = limit
	}
}

// memoryUnits are the units of a memory limit DuckDB knows, lower case,
// with their multipliers.
var memoryUnits = map[string]float64{
	"b": 1, "byte": 1, "bytes": 1,
	"k": 1e3, "kb": 1e3, "kilobyte": 1e3, "kilobytes": 1e3,
	"m": 1e6, "mb": 1e6, "megabyte": 1e6, "megabytes": 1e6,
	"g": 1e9, "gb": 1e9, "gigabyte": 1e9, "gigabytes": 1e9,
	"t": 1e12, "tb": 1e12, "terabyte": 1e12, "terabytes": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// checkMemoryLimit parses a memory limit as DuckDB's SET memory_limit
// does, so that a limit it would refuse is refused before the database is
// opened: a percentage of the machine's memory from 0 to 100 ending in
// '%'; "null", "none" or a leading '-' for no limit; else, after white space, a number of digits, '.', 'e' and
// '-' that must parse as a float, then, after white space, a unit up to the
// next white space (the rest is ignored). TestMemoryLimitSyntax holds it
// to what DuckDB says of the same strings.
func checkMemoryLimit(s string) error {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' }
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		num := strings.TrimFunc(pct, func(r rune) bool { return r < utf8.RuneSelf && isSpace(byte(r)) })
		n, err := strconv.ParseFloat(num, 64)
		if err != nil || strings.ContainsAny(num, "xX") || n < 0 || n > 100 { // DuckDB reads no hexadecimal
			return fmt.Errorf("%q is not a percentage from 0 to 100", pct)
		}
		return nil
	}
	if s == "null" || s == "none" || strings.HasPrefix(s, "-") {
		return nil
	}
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	start := i
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == 'e' || s[i] == 'E' || s[i] == '-') {
		i++
	}
	if i == start {
		return errors.New("the limit has no number")
	}
	n, err := strconv.ParseFloat(s[start:i], 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", s[start:i])
	}
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	start = i
	for i < len(s) && !isSpace(s[i]) {
		i++
	}
	unit := strings.ToLower(s[start:i])
	mult, ok := memoryUnits[unit]
	switch {
	case !ok && unit == "":
		return errors.New("the limit has no unit")
	case !ok:
		return fmt.Errorf("the unit %q is not known (KB, MB, GB, TB for powers of 1000, KiB, MiB, GiB, TiB for powers of 1024, or %% of the machine's memory)", s[start:i])
	case n*mult >= 1<<64:
		return errors.New("the limit is too large")
	}
	return nil
}

// WithSchema sets the schema of every table ("main" by default); it is
// created if missing.
func WithSchema(schema string) Option {
	return func(o *options) {
		if schema != "" {
			o.schema = schema
		}
	}
}

func (o *options) fail(err error) {
	if o.err == nil && err != nil {
		o.err = err
	}
}

// isLockConflict reports DuckDB's refusal to open a file another process
// holds: an IO error about the file lock. The type is checked, not only the
// words, so that a path that happens to contain "lock" is not taken for one.
func isLockConflict(err error) bool {
	var de *duckdbdriver.Error
	return errors.As(err, &de) && de.Type == duckdbdriver.ErrorTypeIO &&
		strings.Contains(de.Msg, "Could not set lock on file")
}

// outOfMemoryRemedy is what a DuckDB cache out of memory needs. A record
// needs about five times its size while it is loaded, and the load raises
// the limit for a chunk that holds one too large for it: what is left is a
// limit too low for the work (such as deduplicating hundreds of tables).
const outOfMemoryRemedy = `raise the limit: duckdb.WithMemoryLimit("1GB"), memory_limit=1GB in a duckdb: cache URL, or goab --memory-limit 1GB`

// Classify makes the backend a backend.ErrorClassifier: DuckDB's errors
// for a full memory or disk become the cache's typed errors.
func (b *database) Classify(err error) error {
	var de *duckdbdriver.Error
	switch {
	case err == nil || errors.Is(err, cacheerr.ErrOutOfMemory) || errors.Is(err, cacheerr.ErrDiskFull):
		return err
	case errors.As(err, &de) && de.Type == duckdbdriver.ErrorTypeOutOfMemory:
		return b.outOfMemory(err)
	case backend.IsNoSpace(err):
		return &cacheerr.DiskFullError{Where: "the DuckDB file " + b.path, Remedy: "free space on it, or move the cache file to a larger one", Err: err}
	}
	return err
}

// outOfMemory is err, DuckDB's out of memory, as the cache's error that
// names the options raising the limit.
func (b *database) outOfMemory(err error) error {
	return &cacheerr.OutOfMemoryError{Where: "the DuckDB cache " + b.path, Limit: b.limitSetting, Remedy: outOfMemoryRemedy, Err: err}
}

// TableColumns makes the backend a backend.ColumnLister: pragma_table_info
// looks up the one table, where information_schema.columns lists the
// columns of every table of the database first (measured, at 10,000
// tables: 0.9 ms against 66 ms) and gives the same data_type.
func (b *database) TableColumns(ctx context.Context, table string) (names, dataTypes []string, err error) {
	rows, err := b.db.QueryContext(ctx, `SELECT name, type FROM pragma_table_info(?)`, b.Qualify(table))
	var de *duckdbdriver.Error
	if errors.As(err, &de) && de.Type == duckdbdriver.ErrorTypeCatalog {
		return nil, nil, nil // no such table (or schema)
	}
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, dataType string
		if err := rows.Scan(&name, &dataType); err != nil {
			return nil, nil, err
		}
		names, dataTypes = append(names, name), append(dataTypes, dataType)
	}
	return names, dataTypes, rows.Err()
}

// connector opens one DuckDB database file.
type connector struct {
	path string
	o    options
}

// NewConnector returns the connector of the DuckDB file at path (":memory:"
// for an in-memory database), for cache.New. The file and its parent
// directories are created when the cache opens; an option that does not
// fit fails it then.
func NewConnector(path string, opts ...Option) cache.Connector {
	return backend.Wrap[cache.Connector](newConnector(path, opts...))
}

// newConnector is NewConnector's connector, as the backend sees it.
func newConnector(path string, opts ...Option) *connector {
	c := &connector{path: path, o: options{schema: "main", writeThreads: defaultWriteThreads,
		batchSize: defaultBatchSize, compress: defaultStringCompression}}
	for _, f := range opts {
		f(&c.o)
	}
	c.o.fail(checkPath(path))
	return c
}

// checkPath refuses a path that DuckDB's driver would misread: it takes
// what follows a "?" as its own options, and parses the path as a URL.
func checkPath(path string) error {
	switch path {
	case "":
		return errors.New("duckdb: no database file given; name one, or \":memory:\" for an in-memory database")
	case memoryPath:
		return nil
	}
	if strings.Contains(path, "?") {
		return fmt.Errorf("duckdb: the path %q holds a \"?\", which DuckDB's driver reads as the start of its options; use another file name", path)
	}
	if _, err := url.Parse(path); err != nil {
		return fmt.Errorf("duckdb: DuckDB's driver cannot read the path %q (%v); use another file name", path, errors.Unwrap(err))
	}
	return nil
}

// urlParams are the query parameters a duckdb: URL may carry, each
// turned into its option.
var urlParams = map[string]func(v string) (Option, error){
	"memory_limit": func(v string) (Option, error) { return WithMemoryLimit(v), nil },
	"write_threads": func(v string) (Option, error) {
		n, err := strconv.Atoi(v)
		return WithWriteThreads(n), err
	},
	"batch_size": func(v string) (Option, error) {
		n, err := strconv.Atoi(v)
		return WithBatchSize(n), err
	},
	"string_compression": func(v string) (Option, error) {
		on, err := strconv.ParseBool(v)
		return WithStringCompression(on), err
	},
}

// openURL is the backend.Opener of duckdb: URLs.
func openURL(u *url.URL, schema string) (backend.Connector, error) {
	path, err := urlPath(u)
	if err != nil {
		return nil, err
	}
	opts := []Option{WithSchema(schema)}
	for k, vs := range u.Query() {
		param, ok := urlParams[k]
		if !ok {
			known := append(slices.Sorted(maps.Keys(urlParams)), "schema", "table_prefix")
			return nil, fmt.Errorf("duckdb: the URL parameter %q is not known; use %s", k, strings.Join(known, ", "))
		}
		if len(vs) > 1 {
			return nil, fmt.Errorf("duckdb: the URL gives %s %d times", k, len(vs))
		}
		o, err := param(vs[0])
		if err != nil {
			return nil, fmt.Errorf("duckdb: the URL parameter %s=%s is not valid: %w", k, vs[0], err)
		}
		opts = append(opts, o)
	}
	c := newConnector(path, opts...)
	if c.o.err != nil {
		// A parameter's value the option refuses: said before anything
		// connects, as the URL's other mistakes are.
		return nil, c.o.err
	}
	return c, nil
}

// urlPath is the database file a duckdb: URL names.
func urlPath(u *url.URL) (string, error) {
	const forms = "write duckdb:///abs/path.duckdb, duckdb:rel/path.duckdb or duckdb::memory:"
	if u.User != nil || u.Host != "" {
		return "", fmt.Errorf("duckdb: the URL %s names a host; DuckDB files are local: %s", u.Redacted(), forms)
	}
	if u.Fragment != "" {
		return "", fmt.Errorf("duckdb: the URL %s has a fragment (#%s); %s", u.Redacted(), u.Fragment, forms)
	}
	path := u.Path
	if u.Opaque != "" {
		p, err := url.PathUnescape(u.Opaque)
		if err != nil {
			return "", fmt.Errorf("duckdb: the path of URL %s is not valid: %w", u.Redacted(), err)
		}
		path = p
	}
	if path == "" || strings.HasSuffix(path, "/") {
		return "", fmt.Errorf("duckdb: the URL %s names no file; %s", u.Redacted(), forms)
	}
	return path, nil
}

// Connect opens (creating if needed) the database file and readies it.
func (c *connector) Connect(ctx context.Context) (backend.Backend, error) {
	if c.o.err != nil {
		return nil, &cacheerr.ArgumentError{Err: c.o.err}
	}
	o, path := &c.o, c.path
	if path != memoryPath && !filepath.IsAbs(path) {
		// DuckDB's own error for a relative path whose working directory
		// was deleted says only "Could not get working directory!".
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("duckdb: the cache file %s is relative to the working directory, which cannot be found (%w): give an absolute path", path, err)
		}
		path = abs
	}
	if path != memoryPath {
		defer openingFile(path)()
		if err := duckfile.Check(path); err != nil {
			return nil, fmt.Errorf("duckdb: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("duckdb: creating the cache directory: %w", err)
		}
	}
	// TimeZone: DuckDB takes the process's local zone by default, and reads
	// a date-time or time without a zone in it; the cache's rule (and
	// PostgreSQL's loader) read it as UTC, whatever TZ the program has.
	limitSetting := o.memoryLimit
	if limitSetting == "" {
		limitSetting = defaultLimit()
	}
	init := "SET memory_limit = " + literal(limitSetting) + "; SET write_buffer_row_group_count = 1; SET TimeZone = 'UTC'; SET auto_checkpoint_skip_wal_threshold = " + neverSkipWAL
	if !o.compress {
		init += "; SET disabled_compression_methods = 'fsst,dictionary,dict_fsst'"
	}
	conn, err := newReopener(path, func(ex driver.ExecerContext) error {
		_, err := ex.ExecContext(context.Background(), init, nil)
		return err
	})
	if err != nil {
		if isLockConflict(err) {
			return nil, &cacheerr.InUseError{Path: path, Err: err}
		}
		return nil, fmt.Errorf("duckdb: opening %s: %w", path, err)
	}
	db := sql.OpenDB(conn)
	sweepSpools.Do(func() { owner.Sweep(spoolPrefix, func(dir string) { os.RemoveAll(dir) }) })
	// The spool directory is made by the first batch of each load and
	// removed at its end; a temp directory where it cannot be made fails
	// the open, not the first load.
	spool, release, err := makeSpoolDir()
	if err != nil {
		db.Close()
		return nil, err
	}
	os.RemoveAll(spool)
	release()
	b := &database{db: db, schema: o.schema, writeThreads: o.writeThreads, batchSize: o.batchSize, path: path, file: path, limitSetting: limitSetting}
	if path == memoryPath {
		b.file = fmt.Sprintf("%s %p", memoryPath, b) // each in-memory cache is a database of its own
	} else if real, err := filepath.EvalSymlinks(path); err == nil {
		b.file = real
	}
	swaps.Lock()
	swaps.open[b.file]++
	swaps.Unlock()
	// Without it the export reads through database/sql: slower, the same
	// lines.
	b.rows, _ = openRowReader(path, conn)
	conn.dropIdle = b.dropIdle
	// DuckDB reads a two-part name as catalog.schema when it can: a schema
	// with the name of a catalog (the file's stem, temp, system) needs the
	// catalog too. Names the user sees stay two-part otherwise.
	var catalog, limit string
	var ambiguous bool
	if err := db.QueryRowContext(ctx, "SELECT current_setting('threads'), current_setting('memory_limit'), current_database(), EXISTS (SELECT 1 FROM duckdb_databases() WHERE lower(database_name) = lower(?))", o.schema).
		Scan(&b.readThreads, &limit, &catalog, &ambiguous); err != nil {
		b.Close()
		return nil, fmt.Errorf("duckdb: reading settings: %w", err)
	}
	if b.memoryLimit, err = parseSize(limit); err != nil {
		b.Close()
		return nil, fmt.Errorf("duckdb: reading the memory limit: %w", err)
	}
	b.ceiling = processMemory
	b.qualifier = backend.Quote(o.schema) + "."
	if ambiguous {
		b.qualifier = backend.Quote(catalog) + "." + b.qualifier
	}
	if o.schema != "main" {
		if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+strings.TrimSuffix(b.qualifier, ".")); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// dropIdle closes the idle connections of the database, once a fatal
// error invalidated it, so that it can be opened again (see reopener).
func (b *database) dropIdle() {
	b.db.SetMaxIdleConns(-1)
	b.db.SetMaxIdleConns(idleConns)
	if b.rows != nil {
		b.rows.dropIdle()
	}
}

// idleConns is database/sql's default of idle connections kept.
const idleConns = 2

// makeSpoolDir makes a spool directory in the temp directory
// ($AIRBYTE_TEMP_DIR, else the system's).
// It holds its owner's lock until release (see internal/owner), so that
// the sweep of another process, in a container restarted on the same
// volume too, leaves it while this one lives and removes it once killed.
func makeSpoolDir() (dir string, release func(), err error) {
	dir, release, err = owner.MkdirTemp(owner.Prefix(spoolPrefix) + "*")
	if err != nil {
		return "", nil, fmt.Errorf("duckdb: creating the spool directory: %w", err)
	}
	return dir, release, nil
}

// spoolPrefix begins the name of every cache's spool directory, in the
// temporary directory; the owner's pid follows it (see internal/owner).
const spoolPrefix = "goairbyte-duckdb-"

// sweepSpools removes, once per process, the spool directories of
// processes that no longer run: a load killed with -9 leaves its spool
// files (as large as a chunk of records) behind.
// opening holds a lock per file being opened in the process, from the
// check that it is a DuckDB file to the end of Connect: DuckDB writes a
// new file's header while it opens it, and two opens of one new file at
// once (a service's goroutines, each opening its tenant's cache) failed
// one in eight times, 5 of 320 opens: the second found the file empty
// ("is empty, not a DuckDB database file") or DuckDB refused it ("Unique
// file handle conflict: ... is already attached"). Opens of different
// files do not wait for each other.
var opening = struct {
	sync.Mutex
	files map[string]*openingLock
}{files: map[string]*openingLock{}}

type openingLock struct {
	sync.Mutex
	waiters int
}

// openingFile takes the opening lock of path and returns its release.
func openingFile(path string) (release func()) {
	opening.Lock()
	l := opening.files[path]
	if l == nil {
		l = &openingLock{}
		opening.files[path] = l
	}
	l.waiters++
	opening.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		opening.Lock()
		if l.waiters--; l.waiters == 0 {
			delete(opening.files, path)
		}
		opening.Unlock()
	}
}

var sweepSpools sync.Once

// database is a DuckDB database holding a cache; it implements
// backend.Backend. Its path is not kept: DuckDB knows it.
type database struct {
	db     *sql.DB
	rows   *rowReader // nil when the database cannot be read directly
	schema string
	// qualifier is what goes before a table's name: the schema, and the
	// catalog too when the schema has the name of a catalog.
	qualifier string

	batchSize int
	path      string // as given, made absolute: for messages
	// file names the database file for the locks and counts of this
	// process (processKey): its path with symbolic links resolved, so
	// that two caches opened on one file by two paths share them.
	file         string
	memoryLimit  int64  // DuckDB's memory_limit, in bytes
	limitSetting string // as configured, such as 128MB
	// raisers count the INSERTs whose transactions run with the memory
	// limit raised to raisedTo for a large record (see raiseMemory).
	raisers  int
	raisedTo int64
	// ceiling returns the bound of every raise: DuckDB's own default
	// limit, 80% of the memory the process may use (see processMemory); 0
	// is no bound. It is asked only when a raise is needed: reading it opens a database in
	// memory, which a small Read would pay for (measured: a Read of 20,000
	// faker records 6 % slower when every cache asked at its opening).
	ceiling func() int64

	// DuckDB's threads setting is global: the first open write
	// transaction lowers it to writeThreads, the last one restores
	// readThreads.
	writeThreads int
	readThreads  int64
	mu           sync.Mutex
	writers      int
	// The spool directory ("" when there is none: no load is running)
	// and the files and line buffers kept in it for reuse until the
	// load ends (see spoolFile and LoadEnded); spoolRelease lets go of
	// the directory's owner lock once it is removed.
	spool        string
	spoolRelease func()
	seq          int
	spare        []spool

	isClosed atomic.Bool // Close was called
}

func (b *database) DB() *sql.DB { return b.db }

// BatchSize makes the backend a backend.BatchSizer.
func (b *database) BatchSize() int { return b.batchSize }

// txColumnMemory is what an open write transaction holds per column of
// each table it has written into, until it commits: a vector of 2,048
// values. Measured with DuckDB's duckdb_memory(): 102 KB per table of 3
// VARCHAR columns, 272 KB for 8, 1,700 KB for 50. At the default memory
// limit (128MB) a transaction into 1,000 tables of 8 columns (5 fields and
// the 3 internal columns) failed out of memory at the 430th table.
const txColumnMemory = 34 << 10

// txMemoryShare is the share of the memory limit the tables written in one
// transaction may hold; the rest is for the INSERTs themselves (read_json
// buffers, the chunk being converted) and the cache's queries.
const txMemoryShare = 4

// TxTableMemory makes the backend a backend.TxMemory.
func (b *database) TxTableMemory(t *backend.Table) int64 {
	return int64(len(t.Columns)+3) * txColumnMemory
}

// TxMemoryBudget makes the backend a backend.TxMemory.
func (b *database) TxMemoryBudget() int64 { return b.memoryLimit / txMemoryShare }

// parseSize reads a size as DuckDB prints its settings, such as "122.0
// MiB" or "1.5 GiB".
func parseSize(s string) (int64, error) {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), " ")
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("the size %q is not a number of bytes", s)
	}
	mult, ok := memoryUnits[strings.ToLower(unit)]
	if unit == "" {
		mult, ok = 1, true
	}
	if !ok {
		return 0, fmt.Errorf("the size %q has an unknown unit", s)
	}
	return int64(f * mult), nil
}

// keptSpoolFiles is how many spool files a cache keeps for reuse during a
// load: a load has at most three chunks at once, each with a file per
// stream it holds.
const keptSpoolFiles = 8

// spoolFile returns a spool file to write a batch into, from the end,
// reusing one a finished batch of the load gave back. Rewriting a file in
// place reuses its pages in the kernel's page cache; a fresh file needs
// new pages for every byte, which cost this machine's kernel about as much
// CPU as DuckDB spends parsing the records. The files are kept only while
// a load runs: LoadEnded removes them, with their directory.
func (b *database) spoolFile() (spool, error) {
	b.mu.Lock()
	if n := len(b.spare); n > 0 {
		var sp spool
		sp, b.spare = b.spare[n-1], b.spare[:n-1]
		b.mu.Unlock()
		if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
			sp.f.Close()
			os.Remove(sp.f.Name())
			return spool{}, err
		}
		return sp, nil
	}
	// Under the lock: LoadEnded removes the directory when it is empty.
	defer b.mu.Unlock()
	if b.spool == "" {
		dir, release, err := makeSpoolDir()
		if err != nil {
			return spool{}, err
		}
		b.spool, b.spoolRelease = dir, release
	}
	b.seq++
	f, err := os.OpenFile(filepath.Join(b.spool, fmt.Sprintf("batch-%d.jsonl", b.seq)), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	return spool{f: f}, err
}

// spool is a batch's spool file and the buffer of lines not yet written
// to it. Both are reused: a load runs through a few dozen batches, and
// growing a fresh buffer for each was a sixth of its allocations
// (measured on faker users + purchases, 2M records: 200 MB of 1.5 GB).
type spool struct {
	f   *os.File
	buf []byte
}

// releaseSpool gives a batch's file back for reuse, or removes it when
// enough are kept.
func (b *database) releaseSpool(sp spool) error {
	if cap(sp.buf) > 2*spoolFlush {
		sp.buf = nil // grown by a huge line: left to the collector
	}
	sp.buf = sp.buf[:0]
	b.mu.Lock()
	if len(b.spare) < keptSpoolFiles {
		b.spare = append(b.spare, sp)
		sp.f = nil
	}
	b.mu.Unlock()
	if sp.f == nil {
		return nil
	}
	err := sp.f.Close()
	os.Remove(sp.f.Name())
	return err
}

// LoadEnded makes the backend a backend.LoadEnder: the spool files kept
// for reuse are removed, and their directory when no other load's batch
// has a file in it. A cache that is never closed (the default cache, a
// server's) leaves nothing in the temp directory between loads, nor when
// the program exits.
func (b *database) LoadEnded() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dropSpare()
	if b.spool != "" && owner.RemoveEmpty(b.spool) {
		b.spoolRelease()
		b.spool, b.spoolRelease = "", nil
	}
}

// dropSpare closes and removes the spool files kept for reuse; b.mu is
// held.
func (b *database) dropSpare() {
	for _, sp := range b.spare {
		sp.f.Close()
		os.Remove(sp.f.Name())
	}
	clear(b.spare)
	b.spare = b.spare[:0]
}

func (b *database) Close() error {
	if b.rows != nil {
		b.rows.close()
	}
	err := b.db.Close()
	b.closed()
	b.mu.Lock()
	b.dropSpare()
	if b.spool != "" {
		os.RemoveAll(b.spool)
		b.spoolRelease()
		b.spool, b.spoolRelease = "", nil
	}
	b.mu.Unlock()
	return err
}

func (b *database) Schema() string                { return b.schema }
func (b *database) Qualify(table string) string   { return b.qualifier + backend.Quote(table) }
func (b *database) MaxIdentifierLength() int      { return 0 }
func (b *database) MaxColumns() int               { return 0 }
func (b *database) Placeholder(int) string        { return "?" }
func (b *database) DDLLock() string               { return "" }
func (b *database) SQLType(t backend.Type) string { return sqlTypes[t] }

// ownTypes are the names DuckDB gives the types of sqlTypes, in upper
// case: a column of another type was made by someone else.
var ownTypes = map[string]bool{"JSON": true, "VARCHAR": true, "BIGINT": true, "DOUBLE": true, "BOOLEAN": true, "DATE": true,
	"TIMESTAMP": true, "TIMESTAMP WITH TIME ZONE": true, "TIMESTAMPTZ": true, "TIME": true, "TIME WITH TIME ZONE": true, "TIMETZ": true}

var sqlTypes = map[backend.Type]string{
	backend.TypeJSON: "JSON", backend.TypeString: "VARCHAR", backend.TypeInteger: "BIGINT",
	backend.TypeNumber: "DOUBLE", backend.TypeBoolean: "BOOLEAN", backend.TypeDate: "DATE",
	backend.TypeTimestamp: "TIMESTAMP", backend.TypeTimestampTZ: "TIMESTAMPTZ",
	backend.TypeTime: "TIME", backend.TypeTimeTZ: "TIMETZ",
}

func (b *database) ParseSQLType(dt string) backend.Type {
	switch strings.ToUpper(dt) {
	case "JSON":
		return backend.TypeJSON
	case "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT":
		return backend.TypeInteger
	case "DOUBLE", "FLOAT", "REAL":
		return backend.TypeNumber
	case "BOOLEAN":
		return backend.TypeBoolean
	case "DATE":
		return backend.TypeDate
	case "TIMESTAMP":
		return backend.TypeTimestamp
	case "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ":
		return backend.TypeTimestampTZ
	case "TIME":
		return backend.TypeTime
	case "TIME WITH TIME ZONE", "TIMETZ":
		return backend.TypeTimeTZ
	}
	return backend.TypeString
}

// jsonAt is the JSON value at path inside expr.
func jsonAt(expr string, path []string) string {
	if len(path) == 0 {
		return expr
	}
	return "json_extract(" + expr + ", " + literal(jsonPath(path)) + ")"
}

// The expressions below read the JSON text as it is where that is enough,
// and have DuckDB parse it (json_type, json_extract_string, a cast of
// JSON) only where not: it parses JSON text anew in each call, and a merge
// computes a key or a cursor of every row of the table. Parsing only, a
// merge of 200,000 rows of an open stream loaded again took 2.6 s where
// comparing the keys' text took 0.7–1.0 s; reading the text first, 0.9–1.0
// s (BenchmarkMergeOpenStreamAgain).

// jsonIsNumber says whether the JSON value v is a number: a JSON number,
// and nothing else, starts with - or a digit.
func jsonIsNumber(v string) string {
	return "regexp_matches(CAST(" + v + " AS VARCHAR), '^\\s*[-0-9]')"
}

// jsonPlainInteger and jsonPlainString say whether the JSON value v is
// an integer written with digits only, and a string without an escape:
// their text is their value.
func jsonPlainInteger(v string) string {
	return "regexp_full_match(CAST(" + v + " AS VARCHAR), '0|-?[1-9][0-9]*')"
}

func jsonPlainString(v string) string {
	return "regexp_full_match(CAST(" + v + " AS VARCHAR), '\"[^\"\\\\]*\"')"
}

// jsonString is the characters of the JSON string v.
func jsonString(v string) string {
	t := "CAST(" + v + " AS VARCHAR)"
	return "CASE WHEN " + jsonPlainString(v) + " THEN substr(" + t + ", 2, length(" + t + ") - 2) ELSE json_extract_string(" + v + ", '$') END"
}

// jsonDouble and jsonWhole are the JSON number v as a double (NULL if v is
// no number), and, if it is whole, as the exact integer it writes (1.0,
// 1e0 and 1 are 1; 2^53+1 and 10^30 exact), NULL beyond 128 bits.
func jsonDouble(v string) string {
	return "CASE WHEN " + jsonIsNumber(v) + " THEN TRY_CAST(" + v + " AS DOUBLE) END"
}

func jsonWhole(v string) string {
	d := jsonDouble(v)
	return "CASE WHEN " + jsonPlainInteger(v) + " THEN TRY_CAST(CAST(" + v + " AS VARCHAR) AS HUGEINT)" +
		" WHEN " + d + " = trunc(" + d + ") THEN TRY_CAST(json_extract_string(" + v + ", '$') AS HUGEINT) END"
}

// JSONKey writes a number as its value, after n: a whole one as its
// integer's digits (1, 1.0 and 1e0 are all n1), any other as DuckDB writes
// the double; a string as its characters, after s; any other value as its
// JSON text. DuckDB compares JSON as text, where 1 and 1.0 differ and "é"
// written \u00e9 is not "é".
func (b *database) JSONKey(expr string, path []string) string {
	v := jsonAt(expr, path)
	return "CASE WHEN " + jsonPlainInteger(v) + " THEN 'n' || CAST(" + v + " AS VARCHAR)" +
		" WHEN " + jsonPlainString(v) + " OR json_type(" + v + ") = 'VARCHAR' THEN 's' || " + jsonString(v) +
		" WHEN " + jsonIsNumber(v) + " THEN 'n' || coalesce(CAST(" + jsonWhole(v) + " AS VARCHAR), CAST(" + jsonDouble(v) + " AS VARCHAR))" +
		" WHEN json_type(" + v + ") <> 'NULL' THEN CAST(" + v + " AS VARCHAR) END"
}

// JSONOrder orders numbers as doubles, then, among equal doubles, a whole
// one by its exact value, so that integers beyond 2^53 order as on
// PostgreSQL.
func (b *database) JSONOrder(expr string, path []string) (numbers []string, text string) {
	v := jsonAt(expr, path)
	return []string{jsonDouble(v), jsonWhole(v)}, "CASE WHEN NOT " + jsonIsNumber(v) + " THEN " + jsonString(v) + " END"
}

// jsonPath is DuckDB's JSON path of the members named path.
func jsonPath(path []string) string {
	p := "$"
	for _, k := range path {
		p += "." + strconv.Quote(k)
	}
	return p
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (b *database) Begin(ctx context.Context) (backend.Tx, error) {
	if err := b.enterWrite(ctx); err != nil {
		return nil, err
	}
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		b.leaveWrite()
		return nil, err
	}
	t := &txn{tx: tx, b: b}
	if err := t.inUTC(ctx); err != nil {
		_ = tx.Rollback()
		b.leaveWrite()
		return nil, fmt.Errorf("duckdb: setting the TimeZone of a write to UTC: %w", err)
	}
	return t, nil
}

// inUTC sets the session's TimeZone to UTC for the transaction, where a
// user's SET TimeZone on the connection (for their own queries) would
// have the loads read a date-time or time without a zone in theirs: with
// Asia/Kolkata, 2024-03-10T01:30:00 loaded as 20:00 UTC the day before.
// restoreZone gives the user's zone back. A SET is not undone by a
// rollback in DuckDB. When the zone is UTC already it costs one query a
// transaction: 0.4-0.9 ms on a busy 2-core machine, where a load's
// transactions hold up to 500,000 records each.
func (t *txn) inUTC(ctx context.Context) error {
	var zone string
	if err := t.tx.QueryRowContext(ctx, "SELECT current_setting('TimeZone')").Scan(&zone); err != nil || zone == "UTC" {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, "SET TimeZone = 'UTC'"); err != nil {
		return err
	}
	t.zone = zone
	return nil
}

// restoreZone sets the session's TimeZone back to the one inUTC found,
// before the transaction lets its connection go. Best effort: a
// connection whose transaction failed may refuse it, and keeps UTC.
func (t *txn) restoreZone() {
	if t.zone != "" && !t.done {
		_, _ = t.tx.ExecContext(context.Background(), "SET TimeZone = "+literal(t.zone))
		t.zone = ""
	}
}

// enterWrite lowers DuckDB's threads for the first open write transaction.
func (b *database) enterWrite(ctx context.Context) error {
	if b.writeThreads <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.writers == 0 && int64(b.writeThreads) != b.readThreads {
		if _, err := b.db.ExecContext(ctx, "SET threads = "+strconv.Itoa(b.writeThreads)); err != nil {
			return fmt.Errorf("duckdb: setting threads for a write: %w", err)
		}
	}
	b.writers++
	return nil
}

// leaveWrite restores DuckDB's threads when the last write transaction ends.
func (b *database) leaveWrite() {
	if b.writeThreads <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writers--
	if b.writers == 0 && int64(b.writeThreads) != b.readThreads {
		// Best effort: a failure leaves fewer threads for queries, never
		// wrong results.
		_, _ = b.db.ExecContext(context.Background(), "SET threads = "+strconv.FormatInt(b.readThreads, 10))
	}
}

type txn struct {
	tx   *sql.Tx
	b    *database
	done bool
	// restores undo the memory limits raised for the transaction's large
	// records (see raiseMemory).
	restores []func()
	// zone is the session's TimeZone before inUTC, when it was not UTC.
	zone string
}

// end releases the transaction's hold on the write threads and on any
// raised memory limit, once.
func (t *txn) end() {
	if !t.done {
		t.done = true
		t.b.leaveWrite()
		for _, restore := range t.restores {
			restore()
		}
		t.restores = nil
	}
}

func (t *txn) Exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.ExecContext(ctx, q, args...)
	return t.b.Classify(err)
}
func (t *txn) Commit(context.Context) error {
	t.restoreZone()
	defer t.end()
	return t.b.Classify(t.tx.Commit())
}

// locks are the loads running in this process, by database file, schema
// and lock name. A DuckDB file has one writing process, so a lock within
// the process is enough; it is per file rather than per cache, because
// two caches opened on one file share its database.
var locks = struct {
	sync.Mutex
	held map[string]bool
}{held: map[string]bool{}}

// Lock makes the backend a backend.Locker.
func (b *database) Lock(_ context.Context, key string) (unlock func(), err error) {
	name := b.processKey(key)
	locks.Lock()
	defer locks.Unlock()
	if locks.held[name] {
		return nil, fmt.Errorf("%w: by this process", cacheerr.ErrInUse)
	}
	locks.held[name] = true
	return func() {
		locks.Lock()
		delete(locks.held, name)
		locks.Unlock()
	}, nil
}

// processKey names key in the cache's schema of its database, the same
// for every cache open on the file in this process.
func (b *database) processKey(key string) string {
	return b.file + "\x00" + b.schema + "\x00" + key
}

// swaps counts the swaps of each table (by processKey) begun and ended in
// this process, where every write of a DuckDB file is made.
// Its entries for a file go when the last cache open on the file closes
// (open counts them): no export is then under way.
var swaps = struct {
	sync.Mutex
	count map[string]*[2]uint64 // begun, ended
	open  map[string]int        // caches open by database file
}{count: map[string]*[2]uint64{}, open: map[string]int{}}

// closed forgets the swap counts of b's file when b was the last cache
// open on it; b's later Closes do nothing.
func (b *database) closed() {
	if b.isClosed.Swap(true) {
		return
	}
	swaps.Lock()
	defer swaps.Unlock()
	if swaps.open[b.file]--; swaps.open[b.file] > 0 {
		return
	}
	delete(swaps.open, b.file)
	prefix := b.file + "\x00"
	for k := range swaps.count {
		if strings.HasPrefix(k, prefix) {
			delete(swaps.count, k)
		}
	}
}

// TableID makes the backend a backend.TableIdentifier. DuckDB's catalog
// has oids, but finding one table's costs a scan of every table's entry
// (duckdb_tables(): 100 ms at 10,000 tables, against 1 ms for reading a
// page of 50,000 rows); the swaps are counted instead, as this process
// makes them all.
func (b *database) TableID(_ context.Context, table string) (string, error) {
	swaps.Lock()
	defer swaps.Unlock()
	c := swaps.count[b.processKey(table)]
	switch {
	case c == nil:
		return "0", nil
	case c[0] != c[1]:
		return "", nil
	}
	return strconv.FormatUint(c[0], 10), nil
}

// Swapping counts a swap of table for TableID.
func (b *database) Swapping(table string) (ended func()) {
	key := b.processKey(table)
	swaps.Lock()
	defer swaps.Unlock()
	c := swaps.count[key]
	if c == nil {
		c = new([2]uint64)
		swaps.count[key] = c
	}
	c[0]++
	return func() {
		swaps.Lock()
		c[1]++
		swaps.Unlock()
	}
}

// ReleaseTxMemory makes the backend a backend.TxMemory: a checkpoint
// writes to the file what committed transactions left in memory, the rows
// inserted into a table short of a full row group, and the deletes.
// Measured: after a transaction into 112 tables of 8 columns committed, 61
// MB of such data remained; a load into 300 tables ran out of memory at
// 128MB without checkpoints, and so did the deduplication of 1,000 merged
// tables at the 461st. A checkpoint after 112 tables took 0.2–0.6 s.
func (b *database) ReleaseTxMemory(ctx context.Context) error {
	if _, err := b.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("duckdb: checkpointing: %w", err)
	}
	return nil
}
func (t *txn) Rollback(context.Context) error {
	t.restoreZone()
	defer t.end()
	if err := t.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

// Insert loads the batch's spool file with read_json. Every typed column
// is read as VARCHAR and converted with TRY_CAST, so no value can fail the
// load; a value that was present but did not convert is NULL in its column
// and listed in _airbyte_meta.changes with reason DESTINATION_TYPECAST_ERROR,
// after any changes the source itself reported.
//
// A small batch's INSERT costs what DuckDB spends on the statement, not on
// its rows, and that does not grow with the tables (see
// BenchmarkInsertManyTables). Measured on 2 cores, 3 records of 3 fields:
// 3.7 ms in a database of 100 tables, 3.9 ms of 1,000, 4.8 ms of 3,000,
// whether the transaction wrote into 100 tables before or 1,000; the same
// INSERT prepared once and run again took 1.8 ms instead of 3.6, so half
// is parsing, binding and planning. A load into many small streams pays it
// once per stream.
func (t *txn) Insert(ctx context.Context, table string, cb backend.Batch) error {
	bt := cb.(*batch)
	if err := bt.flush(); err != nil {
		return err
	}
	// A reused file may be longer than this batch.
	if err := bt.f.Truncate(bt.size); err != nil {
		return err
	}
	// The raised limit holds until the transaction ends: DuckDB 2.0
	// allocates a block as large as the record again when it commits.
	restore, err := t.b.raiseMemory(ctx, max(recordMemory(bt.max), tableMemory(len(bt.t.Columns))))
	if err != nil {
		return err
	}
	t.restores = append(t.restores, restore)
	if _, err := t.tx.ExecContext(ctx, bt.insertSQL(table)); err != nil {
		if n, ok := bt.firstInvalidLine(); ok {
			// read_json leaves a line it cannot read all NULL, which
			// DuckDB reports as the NOT NULL raw id: say what it was.
			return fmt.Errorf("the data of record %d of the batch (counting from 1) is not a valid JSON object: %w", n, err)
		}
		return t.b.Classify(err)
	}
	return nil
}

// recordMemory is the memory an INSERT needs for a record of n bytes:
// read_json's buffers hold several copies of it while the record's value
// takes another. Measured on DuckDB 2.0 at its memory limits: a 100 MB
// record loads at 532 MB and not at 432 MB; a 40 MB record at 232 MB and
// not at 192 MB (DuckDB 1.5 needed about three times the record).
func recordMemory(n int) int64 { return 5*int64(n) + 32<<20 }

// tableMemory is the memory a statement on a table of n user columns
// needs: an INSERT's read_json and conversions hold vectors of every
// column, the transaction an append buffer for each, the checkpoint after
// the commit a block for each, and a query's chunks a vector of every
// column it reads. Sources send streams of hundreds or thousands of fields
// (Salesforce objects, HubSpot's flattened properties). Measured on DuckDB
// 2.0, records with a third of their fields set, at the default limit:
// with 256 KB a column above 64 MB, and no raise up to 250 columns,
// 130,000 records of 180 columns, 20,000 of 300 and 130,000 of 500 failed
// their INSERT out of memory (or their commit's checkpoint, which leaves
// the database invalidated until it is opened again, when the transaction
// was cut short), and 3 records of 3,000 columns loaded but could not be
// read. With 384 KB a column 240 columns failed; with 512 KB 240, 500 and
// 1,500 columns loaded 130,000 records (peak RSS 270, 370 and 800 MB), and
// with 768 KB they did with values of 60 bytes too. Up to wideTable
// columns the default limit holds, and a limit set lower is the user's to
// keep: 0.
func tableMemory(n int) int64 {
	if n <= wideTable {
		return 0
	}
	return 64<<20 + int64(n)*768<<10
}

// wideTable is the most user columns a table has for tableMemory to be
// 0: 130,000 records of 100 columns (and of 150) load at the default
// limit, of 180 do not.
const wideTable = 100

// raiseMemory raises DuckDB's memory limit to need bytes, if it is lower,
// until restore is called: a record larger than the limit allows, or a
// table wider, loads rather than failing its batch at every retry. The limit is the
// database's (DuckDB has no other), so concurrent transactions share the
// raised limit, and the last of them restores the configured one.
func (b *database) raiseMemory(ctx context.Context, need int64) (restore func(), err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if need > max(b.memoryLimit, b.raisedTo) {
		need = b.capped(need)
	}
	if need <= max(b.memoryLimit, b.raisedTo) {
		if b.raisers == 0 {
			return func() {}, nil
		}
		// Raised already: counting this INSERT as a raiser holds the raised
		// limit until it is done too.
	} else {
		if _, err := b.db.ExecContext(ctx, "SET memory_limit = '"+strconv.FormatInt(need, 10)+"B'"); err != nil {
			return nil, fmt.Errorf("duckdb: raising the memory limit for a large record: %w", err)
		}
		b.raisedTo = need
	}
	b.raisers++
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.raisers--; b.raisers == 0 {
			// Best effort, as for the threads: a failure leaves the limit
			// higher, never wrong results.
			_, _ = b.db.ExecContext(context.Background(), "SET memory_limit = "+literal(b.limitSetting))
			b.raisedTo = 0
		}
	}, nil
}

// capped is need, or b.ceiling when that is lower (but never below the
// configured limit): a raise past the memory the process may use gets it
// killed, as a load of 1,500 columns (raised to 1.2 GB) was in a container
// of 1 GiB, where at the ceiling of 819 MB it loads or fails with an
// error. b.mu is held.
func (b *database) capped(need int64) int64 {
	if c := b.ceiling(); c > 0 {
		return min(need, max(c, b.memoryLimit))
	}
	return need
}

// processMemory is the memory limit DuckDB sets when none is given: 80%
// of the memory the process may use, the machine's or, in a container,
// its cgroup's (v1 and v2; 819 MB in a container of 1 GiB); 0 when it
// cannot be read. Read once, from an in-memory database.
var processMemory = sync.OnceValue(func() int64 {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return 0
	}
	defer db.Close()
	var limit string
	if err := db.QueryRow("SELECT current_setting('memory_limit')").Scan(&limit); err != nil {
		return 0
	}
	n, err := parseSize(limit)
	if err != nil {
		return 0
	}
	return n
})

// firstInvalidLine finds, after a failed insert, the first spooled line
// that is not valid JSON: record data that never went through the protocol
// decoder (which validates it) can be anything. Every line opens as an
// object (Add writes the internal fields first), so data that is valid JSON
// but no object, such as [2], also leaves its line invalid.
func (bt *batch) firstInvalidLine() (int, bool) {
	r := bufio.NewReaderSize(io.NewSectionReader(bt.f, 0, bt.size), 1<<20)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(line) == 0 {
			return 0, false
		}
		if !json.Valid(line) {
			return n, true
		}
		if err != nil {
			return 0, false
		}
	}
}

// batch is a JSONL spool file: each line is the record's data object with
// the internal fields spliced in front, so the data is never parsed in Go.
type batch struct {
	b *database
	t *backend.Table
	// spool's buf holds the lines not yet written to its file. It grows
	// with them, up to spoolFlush, so that the many small batches of a
	// load into hundreds of streams take little memory (a fixed 1 MB
	// buffer each took 600 MB for 1,000 streams).
	spool
	n    int
	size int64 // bytes spooled
	max  int   // longest line, to size read_json's buffer
	keys keyOrder
	// metaKey is the key the source's own changes are spliced under:
	// keyMeta, unless the stream declares a field of that name.
	metaKey string
	// readKeys are the keys read_json reads the columns under: each field's
	// own, but a spliced one for a field whose name holds a NUL, which
	// no SQL text can (see nulFields).
	readKeys []string
	// nul are the columns of such fields.
	nul []int
}

// keyOrder follows the order of a single top-level primary key while a
// batch is spooled, without parsing the records: the key is found among
// the first keyScanLimit members of the data; a key further on, or one
// DuckDB could convert in another way than it is written (an integer that
// is not a plain literal, a string with escapes, a value of another JSON
// type), makes the batch unordered, and the load then checks for
// duplicates in the database.
type keyOrder struct {
	field string // "" when the key is not a single top-level integer or text column
	typ   backend.Type
	cur   []byte
	backend.KeyTracker
}

// keyScanLimit is how many members of a record's data are looked at for
// its primary key.
const keyScanLimit = 16

func (k *keyOrder) note(data []byte) {
	if k.field == "" || k.Unordered() {
		return
	}
	v, scan := jsonscan.Field(data, k.field, keyScanLimit)
	switch {
	case scan == jsonscan.FieldAbsent || (scan == jsonscan.FieldFound && string(v) == "null"):
		return // a NULL key: never deduplicated
	case scan != jsonscan.FieldFound:
		k.Unknown()
		return
	}
	switch k.typ {
	case backend.TypeInteger:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			k.Unknown()
			return
		}
		// Big-endian with the sign bit flipped: bytes compare as numbers.
		k.cur = binary.BigEndian.AppendUint64(k.cur[:0], uint64(n)^(1<<63))
		k.Note(k.cur)
	default:
		if len(v) < 2 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 {
			k.Unknown()
			return
		}
		k.Note(v[1 : len(v)-1]) // VARCHAR compares bytes
	}
}

// KeyOrder implements backend.KeyOrderer.
func (bt *batch) KeyOrder() (first, last string, increasing bool) {
	if bt.keys.field == "" {
		return "", "", false
	}
	return bt.keys.KeyTracker.KeyOrder()
}

func (b *database) NewBatch(t *backend.Table) (backend.Batch, error) {
	sp, err := b.spoolFile()
	if err != nil {
		return nil, err
	}
	bt := &batch{b: b, t: t, spool: sp, metaKey: keyMeta}
	// read_json refuses a column named twice, in any case: a declared
	// field of the spliced name (unlike the internal columns' names) is
	// the user's.
	for slices.ContainsFunc(t.Columns, func(c backend.Column) bool { return strings.EqualFold(c.Field, bt.metaKey) }) {
		bt.metaKey += "_"
	}
	bt.readKeys = make([]string, len(t.Columns))
	for i, c := range t.Columns {
		bt.readKeys[i] = c.Field
		if strings.IndexByte(c.Field, 0) >= 0 {
			bt.readKeys[i] = keyField + strconv.Itoa(i)
			for slices.ContainsFunc(t.Columns, func(c backend.Column) bool { return strings.EqualFold(c.Field, bt.readKeys[i]) }) {
				bt.readKeys[i] += "_"
			}
			bt.nul = append(bt.nul, i)
		}
	}
	if len(t.PrimaryKey) == 1 && len(t.PrimaryKey[0]) == 1 {
		for _, c := range t.Columns {
			if c.Field == t.PrimaryKey[0][0] && (c.Type == backend.TypeInteger || c.Type == backend.TypeString) {
				bt.keys.field, bt.keys.typ = c.Field, c.Type
			}
		}
	}
	return bt, nil
}

// Spliced keys; a declared field named like keyID or keyAt is refused as
// a collision with the internal columns, one named like keyMeta moves the
// batch's key (batch.metaKey), and these keys are read first.
const (
	keyID   = backend.ColumnRawID
	keyAt   = backend.ColumnExtractedAt
	keyMeta = "_airbyte_source_meta"
	// keyField is followed by the column's index.
	keyField = "_airbyte_field_"
)

// spoolFlush is how many bytes of lines a batch buffers before it writes
// them to its spool file.
const spoolFlush = 1 << 20

// flush writes the buffered lines to the spool file.
func (bt *batch) flush() error {
	_, err := bt.f.Write(bt.buf)
	bt.buf = bt.buf[:0]
	if backend.IsNoSpace(err) {
		return &cacheerr.DiskFullError{Where: "the load's spool files in " + filepath.Dir(bt.f.Name()),
			Remedy: "free space there, or point AIRBYTE_TEMP_DIR (else TMPDIR) at a directory on a larger disk", Err: err}
	}
	return err
}

func (bt *batch) Add(rawID []byte, rec *protocol.Record) error {
	start := len(bt.buf)
	l := append(bt.buf, `{"`+keyID+`":"`...)
	l = append(l, rawID...)
	l = append(l, `","`+keyAt+`":`...)
	l = strconv.AppendInt(l, rec.EmittedAt, 10)
	if rec.Meta != nil && len(rec.Meta.Changes) > 0 {
		l = append(append(append(l, `,"`...), bt.metaKey...), `":[`...)
		for i, c := range rec.Meta.Changes {
			if i > 0 {
				l = append(l, ',')
			}
			l = append(l, `{"field":`...)
			l = appendJSONText(l, noNUL(c.Field))
			l = append(l, `,"change":`...)
			l = appendJSONText(l, string(c.Change))
			l = append(l, `,"reason":`...)
			l = appendJSONText(l, string(c.Reason))
			l = append(l, '}')
		}
		l = append(l, ']')
	} else if bytes.Contains(rec.Data, []byte(bt.metaKey)) || bytes.Contains(rec.Data, []byte(`\u`)) {
		// read_json keeps a key's first value: a member of the data under
		// the spliced key (undeclared, or the stream would have moved the
		// key), as written or through \u escapes, must not pass for the
		// source's changes.
		l = append(append(append(l, `,"`...), bt.metaKey...), `":null`...)
	}
	// The data's opening brace is replaced by the internal fields: anything
	// else must not be spliced (the decoder only passes objects, but a
	// hand-built record may hold anything).
	d := rec.Data
	i := skipSpace(d, 0)
	if i == len(d) || d[i] != '{' {
		return errors.New("record data is not a valid JSON object")
	}
	if len(bt.nul) > 0 {
		l = bt.nulFields(l, d)
	}
	if i = skipSpace(d, i+1); i < len(d) && d[i] != '}' {
		l = append(l, ',')
	}
	l = append(l, d[i:]...)
	l = append(l, '\n')
	bt.buf = l
	bt.keys.note(rec.Data)
	bt.n++
	bt.max = max(bt.max, len(l)-start)
	bt.size += int64(len(l) - start)
	if len(l) >= spoolFlush {
		return bt.flush()
	}
	return nil
}

// nulFields splices the values of the fields whose name holds a NUL
// under their keys in bt.readKeys, in front of the data, so that they come
// first (read_json keeps a key's first value) and a member of the data
// named like one is never read in its place: null when the record has no
// such field. Only data that holds an escaped NUL is parsed; data that
// does not parse is left to read_json, which then fails on it.
func (bt *batch) nulFields(l, data []byte) []byte {
	values := map[string]json.RawMessage{}
	if bytes.Contains(data, []byte(`\u0000`)) {
		dec := json.NewDecoder(bytes.NewReader(data))
		_, err := dec.Token() // the object's {
		for err == nil && dec.More() {
			var tok json.Token
			var v json.RawMessage
			if tok, err = dec.Token(); err == nil {
				err = dec.Decode(&v)
			}
			if k, ok := tok.(string); ok && err == nil && values[k] == nil {
				values[k] = v
			}
		}
	}
	for _, i := range bt.nul {
		v, ok := values[bt.t.Columns[i].Field]
		if !ok {
			v = json.RawMessage("null")
		}
		l = append(append(append(append(l, ',', '"'), bt.readKeys[i]...), '"', ':'), v...)
	}
	return l
}

// noNUL replaces each NUL in a field's name by U+FFFD where the name is
// written into _airbyte_meta, as the PostgreSQL backend does, whose jsonb
// cannot hold a NUL; DuckDB's SQL text cannot either.
func noNUL(field string) string { return strings.ReplaceAll(field, "\x00", "\uFFFD") }

// appendJSONText appends s as a JSON string, written as DuckDB's to_json
// writes one: only ", \ and the control characters escaped, those
// without a short form as \u00XX in upper case, and each invalid UTF-8
// byte as U+FFFD. _airbyte_meta is built as text from such strings (see
// insertSQL), and must read as to_json would have written it.
func appendJSONText(l []byte, s string) []byte {
	l = append(l, '"')
	for _, r := range s {
		switch r {
		case '"':
			l = append(l, `\"`...)
		case '\\':
			l = append(l, `\\`...)
		case '\b':
			l = append(l, `\b`...)
		case '\f':
			l = append(l, `\f`...)
		case '\n':
			l = append(l, `\n`...)
		case '\r':
			l = append(l, `\r`...)
		case '\t':
			l = append(l, `\t`...)
		default:
			if r < 0x20 {
				l = append(l, '\\', 'u', '0', '0', "0123456789ABCDEF"[r>>4], "0123456789ABCDEF"[r&15])
			} else {
				l = utf8.AppendRune(l, r)
			}
		}
	}
	return append(l, '"')
}

// skipSpace returns the index of the first byte of d at or after i that
// is not JSON whitespace.
func skipSpace(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

func (bt *batch) Len() int { return bt.n }

func (bt *batch) Close() error { return bt.b.releaseSpool(bt.spool) }

// dateRange bounds the values of date and timestamp columns: from
// 0000-01-01 (1 BC) to before 10000-01-01, in UTC for a timestamptz.
var dateRange = map[backend.Type][2]string{
	backend.TypeDate:        {"DATE '0000-01-01'", "DATE '10000-01-01'"},
	backend.TypeTimestamp:   {"TIMESTAMP '0000-01-01 00:00:00'", "TIMESTAMP '10000-01-01 00:00:00'"},
	backend.TypeTimestampTZ: {"TIMESTAMPTZ '0000-01-01 00:00:00+00'", "TIMESTAMPTZ '10000-01-01 00:00:00+00'"},
}

// insertSQL is INSERT INTO table SELECT … FROM read_json(spool file).
func (bt *batch) insertSQL(table string) string {
	s := insertStatement{
		cols:  []string{backend.Quote(backend.ColumnRawID), backend.Quote(backend.ColumnExtractedAt), backend.Quote(backend.ColumnMeta)},
		reads: []string{literal(keyID) + ": 'VARCHAR'", literal(keyAt) + ": 'BIGINT'", literal(bt.metaKey) + ": 'VARCHAR'"}, // the array's JSON text
		inner: []string{backend.Quote(keyID), backend.Quote(keyAt), backend.Quote(bt.metaKey)},
	}
	for i, c := range bt.t.Columns {
		s.column(i, c, bt.readKeys[i])
	}
	q := "INSERT INTO " + bt.b.Qualify(table) + " (" + strings.Join(s.cols, ", ") + ") SELECT " +
		backend.Quote(keyID) + ", to_timestamp(" + backend.Quote(keyAt) + " / 1000), " + s.meta(bt.metaKey)
	for _, o := range s.outer {
		q += ", " + o
	}
	// ignore_errors lets a record whose data gives a field twice load with
	// the first value, which would otherwise fail the whole batch; the
	// spool holds only valid JSON objects, so it hides nothing else (a line
	// DuckDB could not read would break the NOT NULL raw id).
	q += " FROM (SELECT " + strings.Join(s.inner, ", ") + " FROM read_json(" + literal(bt.f.Name()) +
		", format = 'newline_delimited', ignore_errors = true, maximum_object_size = " + strconv.Itoa(max(1<<20, bt.max+1<<16)) + ", columns = {" + strings.Join(s.reads, ", ") + "}))"
	return q
}

// insertStatement holds the parts of an insertSQL as they are built, one
// column at a time: the table's columns, the keys read_json reads with
// their types, the inner SELECT's values (as read, r<i>, and converted,
// c<i>), the outer SELECT's, and, for each conversion that can fail, the
// condition of its failure and the note it adds to _airbyte_meta.
type insertStatement struct {
	cols, reads, inner, outer, notes, failed []string
}

// column adds column i, read under key.
func (s *insertStatement) column(i int, c backend.Column, key string) {
	s.cols = append(s.cols, backend.Quote(c.Name))
	read := "VARCHAR"
	if c.Type == backend.TypeJSON {
		read = "JSON"
	}
	s.reads = append(s.reads, literal(key)+": '"+read+"'")
	src := backend.Quote(key)
	conv := fmt.Sprintf("c%d", i)
	// A column of a type the cache would not make (a table someone
	// else made: INTEGER, DECIMAL(10,2), UUID) takes the value
	// converted to the cache's type and then to its own, and one its
	// type does not take is NULL with a note, as any value that does
	// not fit: assigned as it is, it failed the whole batch.
	foreign := c.SQLType != "" && !ownTypes[strings.ToUpper(c.SQLType)]
	switch {
	case (c.Type == backend.TypeJSON || c.Type == backend.TypeString) && !foreign:
		s.inner = append(s.inner, src+" AS "+conv)
	case c.Type == backend.TypeJSON || c.Type == backend.TypeString:
		s.checked(i, conv, c.Field, src, "TRY_CAST("+src+" AS "+c.SQLType+")")
	default:
		cast := typedCast(c.Type, src)
		if foreign {
			cast = "TRY_CAST(" + cast + " AS " + c.SQLType + ")"
		}
		s.checked(i, conv, c.Field, src, cast)
	}
	s.outer = append(s.outer, conv)
}

// checked adds the value of column i as read (r<i>) and as cast (conv),
// and a DESTINATION_TYPECAST_ERROR note on field for a row where the
// first is there and the second is NULL.
func (s *insertStatement) checked(i int, conv, field, src, cast string) {
	s.inner = append(s.inner, src+" AS r"+strconv.Itoa(i), cast+" AS "+conv)
	fail := fmt.Sprintf("(r%d IS NOT NULL AND %s IS NULL)", i, conv)
	s.failed = append(s.failed, fail)
	s.notes = append(s.notes, "CASE WHEN "+fail+" THEN "+literal(string(appendJSONText([]byte(`{"field":`), noNUL(field)))+`,"change":"NULLED","reason":"DESTINATION_TYPECAST_ERROR"}`)+" END")
}

// typedCast converts src, read as text, to a column of type t (neither
// JSON nor string), or NULL when it is not a value of the type by the
// cache's rules.
func typedCast(t backend.Type, src string) string {
	cast := "TRY_CAST(" + src + " AS " + sqlTypes[t] + ")"
	switch t {
	case backend.TypeInteger:
		// The cache's rule (see package cache): a whole number
		// written as one. A cast to BIGINT also reads 6.5 (as 7),
		// 1e3, 0x10, "007" and " 5"; only the text it turns back
		// into is the value as written. (read_json gives a JSON
		// integer as its digits, and -0 as 0.)
		cast = "CASE WHEN CAST(" + cast + " AS VARCHAR) = " + src + " THEN " + cast + " END"
	case backend.TypeNumber:
		// 1e400 casts to infinity, "NaN" to NaN: neither is a number.
		cast = "CASE WHEN isfinite(" + cast + ") THEN " + cast + " END"
	case backend.TypeTime, backend.TypeTimeTZ:
		// A bare 24:00:00 is 00:00:00 (see package cache): DuckDB
		// holds 24:00:00, which its driver and export give as
		// 00:00:00 (a date-time's 24:00 is already the next day's
		// midnight).
		clock := "regexp_replace(" + src + `, '^(\s*)24:00(:00(\.(0{6}[0-9]*|0{0,5}))?)?($|[^0-9.:])', '\100:00\2\5')`
		cast = "TRY_CAST(" + clock + " AS " + sqlTypes[t] + ")"
		if t == backend.TypeTimeTZ {
			// DuckDB's cast reads a Z after a date-time and after
			// a bare time for a time column, but not after a bare
			// time for a timetz one ("12:00:00Z"): read it as +00
			// there.
			cast = "COALESCE(" + cast + ", TRY_CAST(regexp_replace(" + clock + `, '^\s*([0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2}(\.[0-9]*)?)?)[Zz]\s*$', '\1+00')` + " AS TIMETZ))"
		}
	case backend.TypeDate, backend.TypeTimestamp, backend.TypeTimestampTZ:
		// The years 0000 to 9999 (see package cache): DuckDB also
		// reads infinity, -infinity and years of five digits or
		// with a minus sign.
		lo, hi := dateRange[t][0], dateRange[t][1]
		cast = "CASE WHEN " + cast + " >= " + lo + " AND " + cast + " < " + hi + " THEN " + cast + " END"
	}
	if t == backend.TypeDate || t == backend.TypeTimestamp || t == backend.TypeTime {
		cast = knownZone(src, cast)
	}
	return cast
}

// knownZone is cast, or NULL where src has a word after its time that is
// not a time zone. DuckDB's cast to DATE, TIMESTAMP and TIME takes any
// word after a time as a zone name and drops it unread, so "01:30:00 PM"
// was 01:30, "2024-03-10 01:30:00 BC" the year 2024 and "10:00 later"
// 10:00, where the TIMESTAMPTZ and TIMETZ casts (and PostgreSQL's loader)
// give NULL. A zone it knows (" UTC", " Europe/Paris", a Z) is kept
// dropped, as package cache says. The word is looked for only in a value
// holding white space: on 2M values on one thread, a cast to TIMESTAMP took
// 108-123 ms, with the look 375-408 ms, and with the look only after
// white space 209-222 ms (RFC 3339's "T", no space) or 375-408 (a space
// before the time).
func knownZone(src, cast string) string {
	spaced := "contains(" + src + ", ' ')"
	for _, c := range []string{"9", "10", "11", "12", "13"} {
		spaced += " OR contains(" + src + ", chr(" + c + "))"
	}
	word := "regexp_extract(" + src + `, ':[0-9]+(\.[0-9]*)?\s+([^\s+\-]\S*)\s*$', 2)`
	return "CASE WHEN (" + spaced + ") AND " + word + " NOT IN ('', 'Z', 'z') AND TRY_CAST('2000-01-01 00:00:00 ' || " + word + " AS TIMESTAMPTZ) IS NULL THEN NULL ELSE " + cast + " END"
}

// meta is the _airbyte_meta value: the source's changes, read under
// metaKey, and the notes of the casts that failed.
func (s *insertStatement) meta(metaKey string) string {
	// Nearly every row has no change to note: those get a constant, and
	// only the others build their list (CASE evaluates a branch for the
	// rows that take it only). The list is built as text: the source's
	// changes are read as the JSON text of their array, and each note is a
	// constant object, so the statement binds no struct type, lambda or
	// to_json. Measured on 2 cores, paired: preparing the INSERT of a
	// table of 3 fields took 1.34–1.42 ms instead of 1.60–1.70 (4 pairs;
	// 5 more on a busier machine, 1.72–2.36 against 2.06–2.73, all
	// faster), and a first load into 1,000 streams of 3 records 7.00 s
	// instead of 8.66 (means of 10 pairs, 9 faster). Rows
	// cost the same within the noise: the faker's 1M records 6.96 s and
	// 6.83 (means of 13 pairs), one INSERT of 300,000 rows 387 ms and 376
	// (10 pairs, 4 faster). TestMetaAndColumnsExactly holds the text to
	// what to_json wrote.
	meta := `CAST('{"changes":' || ` + backend.Quote(metaKey) + ` || '}' AS JSON)`
	clean := backend.Quote(metaKey) + " IS NULL"
	if len(s.notes) > 0 {
		meta = `CAST('{"changes":[' || concat_ws(',', ` + backend.Quote(metaKey) + "[2:-2], " + strings.Join(s.notes, ", ") + `) || ']}' AS JSON)`
		clean += " AND NOT (" + strings.Join(s.failed, " OR ") + ")"
	}
	return "CASE WHEN " + clean + ` THEN '{"changes":[]}'::JSON ELSE ` + meta + " END"
}
