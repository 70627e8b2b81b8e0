package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/cachelink"
	"github.com/x/goairbyte/protocol"
)

// Cache is a SQL database that holds synced streams, one table per stream,
// plus the state of every source and destination that used it. A source's
// read loads into it with [Cache.Load]; destinations read it back through
// datasets and keep their own state in it. A Cache is safe for concurrent
// use; several loads may run at once (on PostgreSQL, from several
// processes too).
type Cache struct {
	b      backend.Backend
	prefix string
	// statePrefix keys the states and the loads' locks of this cache:
	// what goes before a normalised stream name in its table names ("" or
	// the prefix ending in "_"; see tablePrefixOf).
	statePrefix string

	mu      sync.Mutex
	loading map[string]bool // locks held (sources being loaded, destinations written), for a backend without a Locker
	// swaps counts the replaces this Cache swapped in, by table, for a
	// backend that is no TableIdentifier (see tableID).
	swaps map[string]*swapCount
	// cleanup closes b once the Cache is unreachable, when set by
	// closeWhenUnreachable; Close stops it. closed says that b is closed,
	// by either.
	cleanup runtime.Cleanup
	closed  *closedSignal
}

// closedSignal is a channel closed once a database is closed.
type closedSignal struct {
	once sync.Once
	ch   chan struct{}
}

func (s *closedSignal) signal() {
	if s != nil {
		s.once.Do(func() { close(s.ch) })
	}
}

// swapCount counts the swaps of one table: begun, and ended (committed
// or not).
type swapCount struct{ begun, ended uint64 }

// swapping notes that a swap of table begins, before its transaction can
// commit; the function it returns notes that it ended, after. It counts
// the swap for tableID.
func (c *Cache) swapping(table string) (ended func()) {
	if ti, ok := c.b.(backend.TableIdentifier); ok {
		return ti.Swapping(table)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.swaps == nil {
		c.swaps = map[string]*swapCount{}
	}
	s := c.swaps[table]
	if s == nil {
		s = &swapCount{}
		c.swaps[table] = s
	}
	s.begun++
	return func() {
		c.mu.Lock()
		s.ended++
		c.mu.Unlock()
	}
}

// tableID identifies the table now named table, so that an export learns
// that a replace swapped another in under its name: the backend's
// identifier when it is a TableIdentifier, otherwise the number of swaps
// of the table this Cache made. "" means that no identifier can be had:
// no such table, or a swap under way, which may commit at any moment.
func (c *Cache) tableID(ctx context.Context, table string) (string, error) {
	if ti, ok := c.b.(backend.TableIdentifier); ok {
		return ti.TableID(ctx, table)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.swaps[table]
	switch {
	case s == nil:
		return "0", nil
	case s.begun != s.ended:
		return "", nil
	}
	return strconv.FormatUint(s.begun, 10), nil
}

// StateKey names one stored state of a cache. Destination is empty for
// the state a source reported while loading into the cache; a destination
// keeps its own state (what it has confirmed) apart under its name. Stream
// is empty for a GLOBAL or LEGACY state. A cache keeps its states under
// its table prefix too (see [WithTablePrefix]): a key names a state of the
// prefix of the Cache it is given to.
type StateKey struct {
	// Source is the source's name, e.g. "source-faker".
	Source string
	// Destination is the destination's name, "" for the source's state.
	Destination string
	// Stream is the stream's name, "" for a GLOBAL or LEGACY state.
	Stream string
}

// Names of the cache's internal tables.
const (
	stateTable   = "_airbyte_state"
	streamsTable = "_airbyte_streams"
	formatTable  = "_airbyte_cache_format"
)

// cacheFormat is the format of what the cache keeps besides the records:
// the internal tables' columns and what their values mean. A change that
// an earlier version would misread must raise it (and teach
// checkInternalTables to upgrade the format before); a cache marked with
// a higher one is refused at open. Every version up to the one that
// introduced the mark wrote format 1, and their caches have no
// _airbyte_cache_format. Format 2 keys the states by table prefix too
// (_airbyte_state.table_prefix): opening a format-1 cache, marked or not,
// upgrades it (see upgradeFormat); the versions that know format 1 only
// refuse a cache of format 2 at open, and those before the mark fail at
// their first commit of a state (table_prefix is NOT NULL). Format 3
// records each stream table's namespace (_airbyte_streams.namespace: NULL
// for a table recorded before, unknown until its next load), so that a
// load of a stream of another namespace is refused rather than mixed into
// the table; opening a cache of format 1 or 2 upgrades it, and the
// versions that know format 2 refuse format 3 at open.
const cacheFormat = 3

// settings are what the options set.
type settings struct {
	prefix, schema       string
	prefixSet, schemaSet bool
}

// Option configures a cache at [Open] or [New].
type Option func(*settings)

// WithTablePrefix puts prefix before every stream table's name, joined by
// "_" unless it ends with one (both "pfx" and "pfx_" make pfx_users). It is
// normalised like a stream name; "" means no prefix.
//
// A prefix is a space of its own in the cache, as in PyAirbyte: the states
// of sources and destinations ([StateKey]) are kept per prefix ("pfx" and
// "pfx_" are one prefix, and "" another), and so is the lock that lets one
// load of a source run at a time. So one connector read with two configs
// (two accounts) under two prefixes of one cache loads into tables of its
// own with a state of its own for each, and the two loads may run at
// once; [Cache.Streams] lists the prefix's streams. The internal tables
// themselves are shared; a table belongs to the source that loaded it,
// whatever the prefix, and to one prefix: a load whose table another
// prefix's stream of the source has ("pfx" with "a_users", "pfx_a" with
// "users": pfx_a_users) is an [ErrNameCollision].
//
// Caches written by versions before states were kept per prefix (format
// 1) are upgraded when opened, and every prefix keeps the states it used:
// each state is kept under every prefix under which its source has a
// table, and a source that has no table keeps its states under the prefix
// of the Cache that upgraded the cache (the first to open it with this
// version). A prefix is read back from its tables' names, so one whose
// names the backend cut within the prefix (on PostgreSQL, a prefix of 54
// bytes or more with a name over 63) is found only when it is the
// upgrading Cache's. A cache so upgraded, or written by this version
// (format 3), is refused by those earlier versions.
func WithTablePrefix(prefix string) Option {
	return func(s *settings) { s.prefix, s.prefixSet = prefix, true }
}

// WithSchema puts the cache's tables into schema (created if missing)
// instead of the backend's default ("main" on DuckDB, "public" on
// PostgreSQL). It applies to [Open] only: [New] gets a connector that
// names its schema itself, and refuses it.
func WithSchema(schema string) Option {
	return func(s *settings) { s.schema, s.schemaSet = schema, true }
}

// Connector says which database a cache is in and how to reach it:
// duckdb.NewConnector and postgres.NewConnector make one for New, without
// I/O. What a backend implements is internal to this module for now. The
// zero Connector reaches nothing, and New refuses it.
type Connector struct{ c backend.Connector }

func init() {
	backend.Link(func(c backend.Connector) Connector { return Connector{c} },
		func(c Connector) backend.Connector { return c.c })
}

// New opens a cache on the backend that conn connects to, such as
// duckdb.NewConnector(path, opts...) or postgres.NewConnector(dsn,
// opts...), and creates the cache's internal tables. The cache owns the
// backend: Close closes it, and so does a failing New.
func New(ctx context.Context, conn Connector, opts ...Option) (*Cache, error) {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	if s.schemaSet {
		return nil, errors.New("cache: WithSchema applies to Open; give the schema to the backend's connector instead (duckdb.WithSchema, postgres.WithSchema)")
	}
	if conn.c == nil {
		return nil, errors.New("cache: New got the zero Connector; make one with duckdb.NewConnector or postgres.NewConnector")
	}
	return newCache(ctx, conn.c, s.prefix)
}

// newCache connects conn and readies the cache.
func newCache(ctx context.Context, conn backend.Connector, prefix string) (*Cache, error) {
	if prefix != "" {
		p, err := NormalizeName(prefix)
		if err != nil {
			return nil, err
		}
		prefix = p
	}
	b, err := conn.Connect(ctx)
	if err != nil {
		return nil, err
	}
	c := &Cache{b: b, prefix: prefix, statePrefix: statePrefix(prefix), loading: map[string]bool{}}
	if err := c.createInternalTables(ctx); err != nil {
		b.Close()
		return nil, c.classify(err)
	}
	return c, nil
}

// stateColumnsFormat1 are the columns of the state table in a cache of
// format 1, which kept states by source name only.
var stateColumnsFormat1 = []string{"source_name", "destination_name", "stream_name", "state_type", "state_json", "updated_at"}

// streamsColumnsFormat2 are the columns of the streams table in a cache of
// format 1 or 2, which did not record namespaces.
var streamsColumnsFormat2 = []string{"table_name", "stream_name", "source_name", "dedupe_from", "staging_table", "updated_at"}

// internalTableColumns are the columns of the internal tables, as the
// cache reads and writes them.
var internalTableColumns = []struct {
	table   string
	columns []string
	lost    string // what a cache without the table has lost, and what loads would do; "" if it may be missing
}{
	{stateTable, append([]string{"table_prefix"}, stateColumnsFormat1...),
		"its states, and every load would read its streams again from the start"},
	{streamsTable, append(slices.Clone(streamsColumnsFormat2), "namespace"),
		"which source owns each table, and any source could load into another's tables"},
	{formatTable, []string{"format"}, ""}, // missing in the caches of earlier versions
}

// createInternalTables creates the internal tables if they are missing,
// upgrades a cache of an earlier format (see upgradeFormat), and refuses
// a cache whose internal tables this version cannot use (see
// checkInternalTables).
func (c *Cache) createInternalTables(ctx context.Context) error {
	if _, format, err := c.checkInternalTables(ctx); err == nil && format == cacheFormat {
		return nil
	}
	// A new cache, or an earlier format; or what looked damaged, which
	// may be an upgrade by another process or Cache that committed while
	// the check read the tables one by one: upgradeFormat checks again
	// under the lock that every upgrade (and creation) holds. Caches that
	// create one DuckDB file's tables at once, unlocked, failed with a
	// write-write conflict on the catalog.
	return c.upgradeFormat(ctx)
}

// createFresh creates the internal tables of a new cache, if they are
// missing, and marks it with its format.
func (c *Cache) createFresh(ctx context.Context) error {
	return c.inDDL(ctx, func() error {
		return c.inDDLTx(ctx, func(tx backend.Tx) error {
			tz := c.b.SQLType(backend.TypeTimestampTZ)
			for _, q := range []string{
				c.createStateTable(`CREATE TABLE IF NOT EXISTS `, tz),
				`CREATE TABLE IF NOT EXISTS ` + c.qual(streamsTable) + ` (table_name VARCHAR NOT NULL PRIMARY KEY, stream_name VARCHAR NOT NULL, source_name VARCHAR NOT NULL, dedupe_from VARCHAR, staging_table VARCHAR, updated_at ` + tz + `, namespace VARCHAR)`,
			} {
				if err := tx.Exec(ctx, q); err != nil {
					return fmt.Errorf("cache: creating internal tables: %w%s", err, c.mayNotCreate(err))
				}
			}
			if err := c.markFormat(ctx, tx); err != nil {
				return fmt.Errorf("cache: creating internal tables: %w", err)
			}
			return nil
		})
	})
}

// mayNotCreate is what to do when err, of creating the internal tables,
// is the database's refusal (SQLSTATE 42501): the role may not create
// tables in the schema, and may not read the internal tables of a cache
// that is there either, which it would not have tried to create
// otherwise (PostgreSQL's information_schema lists only the tables a role
// has a privilege on).
func (c *Cache) mayNotCreate(err error) string {
	var pe interface{ SQLState() string }
	if !errors.As(err, &pe) || pe.SQLState() != "42501" {
		return ""
	}
	return fmt.Sprintf(" (the role may not create tables in schema %q, and may not read the internal tables of a cache there: "+
		"a role that reads a cache another loads needs SELECT on %s, %s and %s besides the stream tables, "+
		"as GRANT SELECT ON ALL TABLES IN SCHEMA gives; or open it as a role that may create tables there)",
		c.b.Schema(), c.qual(stateTable), c.qual(streamsTable), c.qual(formatTable))
}

// checkInternalTables says whether the state and streams tables exist and
// the format the cache is marked with (0: none, an earlier version's
// cache of format 1), and refuses a cache that this version cannot use:
// PyAirbyte's (see pyAirbyteCache); one marked with a newer format; one whose
// state or streams table is missing while the other internal tables are
// there (dropped by hand: created anew, it would lose states or table
// owners without a word); one with a column missing (damaged, or made by
// another program), or with a column the cache does not know and cannot
// fill (NOT NULL with no default). A column that is only extra is
// harmless: the cache names the columns it writes. The state table of a
// cache of format 1 has the columns of that format.
func (c *Cache) checkInternalTables(ctx context.Context) (exist bool, format int64, err error) {
	// One table's columns at a time: on DuckDB, information_schema.columns
	// lists the columns of every table first (at 10,000 tables, opening
	// took 0.5 s more).
	have := map[string]map[string]bool{}
	for _, it := range internalTableColumns {
		cols, err := c.columns(ctx, it.table)
		if err != nil {
			return false, 0, err
		}
		if len(cols) > 0 {
			have[it.table] = map[string]bool{}
		}
		for _, ci := range cols {
			have[it.table][ci.name] = true
		}
	}
	if len(have) == 0 {
		return false, 0, nil
	}
	if err := c.pyAirbyteCache(have); err != nil {
		return false, 0, err
	}
	if have[formatTable]["format"] {
		var marked sql.NullInt64
		if err := c.queryRow(ctx, `SELECT max(format) FROM `+c.qual(formatTable)).Scan(&marked); err != nil {
			return false, 0, err
		}
		if marked.Int64 > cacheFormat {
			return false, 0, fmt.Errorf("cache: %s says the cache has format %d, newer than the %d this version of goairbyte knows: it was written by a newer version; use that version or a later one", c.qual(formatTable), marked.Int64, cacheFormat)
		}
		format = marked.Int64
	}
	const fix = "restore the cache from a backup, or load into a new cache (another file or schema) with a full refresh"
	for _, it := range internalTableColumns {
		if have[it.table] == nil {
			if it.lost == "" {
				continue
			}
			return false, 0, fmt.Errorf("cache: the internal table %s is missing, though the cache's other internal tables are there: the cache lost %s; %s", c.qual(it.table), it.lost, fix)
		}
		columns := it.columns
		if it.table == stateTable && format < 2 {
			columns = stateColumnsFormat1
		}
		if it.table == streamsTable && format < 3 {
			columns = streamsColumnsFormat2
		}
		for _, col := range columns {
			if !have[it.table][col] {
				return false, 0, fmt.Errorf("cache: the internal table %s has no column %s: it was changed by hand or by another program; %s", c.qual(it.table), col, fix)
			}
			delete(have[it.table], col)
		}
		if err := c.checkExtraColumns(ctx, it.table, have[it.table]); err != nil {
			return false, 0, err
		}
	}
	return true, format, nil
}

// pyAirbyteCache is the error of opening a schema where PyAirbyte keeps
// its cache, found by the columns have lists of the internal tables:
// PyAirbyte's _airbyte_streams has catalog_metadata, its _airbyte_state
// (keyed by table_name) last_updated. Using the schema would mean
// altering them, after which PyAirbyte could not open its cache (it
// selects those columns when it does), or misreading them. It returns nil
// when neither table is PyAirbyte's. Nothing is changed: the error comes
// before any statement that writes.
func (c *Cache) pyAirbyteCache(have map[string]map[string]bool) error {
	var tables []string
	if have[streamsTable]["catalog_metadata"] {
		tables = append(tables, c.qual(streamsTable))
	}
	if have[stateTable]["last_updated"] {
		tables = append(tables, c.qual(stateTable))
	}
	if tables == nil {
		return nil
	}
	return &cacheerr.PyAirbyteError{Schema: c.b.Schema(), Tables: tables}
}

// checkExtraColumns refuses the columns of an internal table that the
// cache does not know (extra, none mostly) when it cannot fill them: NOT
// NULL with no default.
func (c *Cache) checkExtraColumns(ctx context.Context, table string, extra map[string]bool) error {
	if len(extra) == 0 {
		return nil
	}
	rows, err := c.Query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? AND is_nullable = 'NO' AND column_default IS NULL ORDER BY ordinal_position`,
		c.b.Schema(), table)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var col string
		if err := rows.Scan(&col); err != nil {
			return err
		}
		if extra[col] {
			return fmt.Errorf("cache: the internal table %s has a column %s that this version of goairbyte does not know and cannot fill (NOT NULL, no default): was the cache written by a newer version? Use that version, or drop the column if it was added by hand", c.qual(table), col)
		}
	}
	return rows.Err()
}

// The pauses of inDDL between two runs of a DDL transaction that found a
// table held: the first, doubled each time up to the last. A pause leaves
// the DDL lock to other loads; a run holds it for at most the backend's
// bound on one wait (PostgreSQL: 200 ms).
const (
	ddlRetryFirst = 50 * time.Millisecond
	ddlRetryMax   = time.Second
)

// inDDL runs ddl, which does its work in a transaction of beginDDL's (or,
// committing early, in several) that it rolls back when it fails. A
// backend whose DDL lock bounds the waits of the transaction for other
// locks fails a statement that would wait longer with an error matching
// ErrInUse (see backend's DDLLock): PostgreSQL, when a reader of the table
// a replace swaps, or another session's open write into the table a new
// column is added to, holds it. ddl then runs again after a pause, until
// ctx ends. Its transaction is rolled back meanwhile, which releases the
// DDL lock: the DDL of other loads, which need none of this table, goes
// on instead of waiting with this one for as long as the reader reads.
func (c *Cache) inDDL(ctx context.Context, ddl func() error) error {
	pause := ddlRetryFirst
	for {
		err := ddl()
		if !errors.Is(err, cacheerr.ErrInUse) {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w; stopped waiting: %w", err, context.Cause(ctx))
		case <-t.C:
		}
		pause = min(2*pause, ddlRetryMax)
	}
}

// beginDDL begins a transaction that may change tables: it takes the
// backend's DDL lock first, so that concurrent loads serialise their DDL.
// A transaction that may wait for another session's table lock runs in
// inDDL.
func (c *Cache) beginDDL(ctx context.Context) (backend.Tx, error) {
	tx, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	if l := c.b.DDLLock(); l != "" {
		if err := tx.Exec(ctx, l); err != nil {
			tx.Rollback(ctx)
			return nil, err
		}
	}
	return tx, nil
}

// begin begins a write transaction. One begun with the context of a lock
// this Cache holds (see lock) runs the lock's fence first, and fails,
// rolled back, when the lock is lost.
func (c *Cache) begin(ctx context.Context) (backend.Tx, error) {
	tx, err := c.b.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if f, _ := ctx.Value(fenceKey{}).(*fence); f != nil && f.c == c {
		lost, err := f.check(ctx, tx)
		if err == nil && lost != nil {
			err = f.lost(lost)
		}
		if err != nil {
			tx.Rollback(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	return tx, nil
}

// fence is what the context of a held lock carries (see lock): the
// backend's fence of the lock, and the error of what runs under it when
// the lock is lost.
type fence struct {
	c     *Cache
	check func(context.Context, backend.Tx) (lost, err error)
	lost  func(reason error) error
}

// fenceKey is the context key of a *fence.
type fenceKey struct{}

// lockSource takes the lock of a source's loads into this cache under
// the state prefix prefix (its own, but for a claim's; see
// takeOverClaims), or returns a *cacheerr.InUseError at once when another
// load holds it. Loads of one source under two prefixes keep their states
// apart, and run at once. With lost, the lock is watched and fenced (see
// Cache.lock).
func (c *Cache) lockSource(ctx context.Context, prefix, source string, lost func(reason error) error) (locked context.Context, unlock func(), err error) {
	return c.lock(ctx, lockName(prefix, "load "+source), &cacheerr.InUseError{Source: source, Prefix: prefix}, lost, lost != nil)
}

// lockWrite takes the lock of the Writes of a source into a destination
// (its state key) whose state this cache keeps, under its prefix, or
// returns a *cacheerr.InUseError at once when another Write holds it: two
// such Writes at once would each send every row not confirmed yet. The
// Write runs with locked, which fences its states (see Cache.lock): once
// the lock is lost, storing fails, so that a state of this Write never
// lands after the next Write read the states. locked is also cancelled,
// with the error saying so as its cause, as soon as the backend finds the
// lock lost, so that the Write stops sending the records the next one
// sends too.
func (c *Cache) lockWrite(ctx context.Context, source, destination string) (locked context.Context, unlock func(), err error) {
	lost := func(reason error) error {
		return fmt.Errorf("cache: the lock of the Writes of source %q into destination %q under table prefix %q was lost while this one ran (%w), so another Write may have started: this one stopped storing states, keeping those it stored; write again once no other Write runs: it resumes from the last stored state", source, destination, c.statePrefix, reason)
	}
	return c.lock(ctx, lockName(c.statePrefix, "write "+source+" to "+destination), &cacheerr.InUseError{Source: source, Destination: destination, Prefix: c.statePrefix}, lost, true)
}

// lockName names the lock of what (a load or a Write) under a state
// prefix: what alone under none, as before states were kept per prefix.
// (A source named "s under table prefix p_" without one shares the lock
// of source s under p_: it is only refused while the other runs.)
func lockName(prefix, what string) string {
	if prefix == "" {
		return what
	}
	return what + " under table prefix " + prefix
}

// lock takes the lock named key: across processes when the backend is a
// Locker, else within this one. When it is held, the error is inUse with
// the cause as its Err.
//
// With lost, on a backend that can lose a lock it holds (a
// backend.LossWatcher), locked carries the lock's fence: a write
// transaction of this Cache begun with it (see begin) fails with lost's
// error for the reason once the lock is lost, so that none commits after
// another process took the lock. With watch, locked is also cancelled,
// with lost's error as its cause, as soon as the backend finds the lock
// lost. Otherwise locked is ctx.
func (c *Cache) lock(ctx context.Context, key string, inUse *cacheerr.InUseError, lost func(reason error) error, watch bool) (locked context.Context, unlock func(), err error) {
	if l, ok := c.b.(backend.LossWatcher); ok && lost != nil {
		locked, cancel := ctx, context.CancelCauseFunc(func(error) {})
		if watch {
			locked, cancel = context.WithCancelCause(ctx)
		}
		f := &fence{c: c, lost: func(reason error) error {
			err := lost(reason)
			cancel(err)
			return err
		}}
		var watcher func(error)
		if watch {
			watcher = func(reason error) { f.lost(reason) }
		}
		unlock, check, err := l.LockWatched(ctx, key, watcher)
		if err != nil {
			cancel(nil)
			if errors.Is(err, cacheerr.ErrInUse) {
				inUse.Err = err
				return nil, nil, inUse
			}
			return nil, nil, err
		}
		f.check = check
		return context.WithValue(locked, fenceKey{}, f), func() {
			unlock()
			cancel(nil)
		}, nil
	}
	if l, ok := c.b.(backend.Locker); ok {
		unlock, err := l.Lock(ctx, key)
		if errors.Is(err, cacheerr.ErrInUse) {
			inUse.Err = err
			return nil, nil, inUse
		}
		return ctx, unlock, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loading[key] {
		inUse.Err = fmt.Errorf("%w: by this process", cacheerr.ErrInUse)
		return nil, nil, inUse
	}
	c.loading[key] = true
	return ctx, func() {
		c.mu.Lock()
		delete(c.loading, key)
		c.mu.Unlock()
	}, nil
}

// classify gives err the backend's type when it says that memory or disk
// ran out (see backend.ErrorClassifier).
func (c *Cache) classify(err error) error {
	if ec, ok := c.b.(backend.ErrorClassifier); ok && err != nil {
		return ec.Classify(err)
	}
	return err
}

// DB is the database/sql handle, for anything the cache does not wrap.
// Its queries take the driver's own placeholders: $1, $2… on PostgreSQL
// ("?" is a syntax error there); ExecSQL, Query and Dataset.Where take "?"
// on every backend. Dataset.QualifiedTableName gives a stream's table.
// The handle closes with the Cache. An Environment's default cache, which
// nobody has to close, closes once nothing refers to its Cache (not its
// Environment, a ReadResult or a Dataset): hold the Cache, not only this
// handle.
func (c *Cache) DB() *sql.DB { return c.b.DB() }

// Close closes the database.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.cleanup.Stop()
	closed := c.closed
	c.mu.Unlock()
	err := c.b.Close()
	closed.signal()
	return err
}

// closeWhenUnreachable has c's database closed once c is unreachable,
// unless Close came first: for the default caches of an Environment,
// which nobody has to close, so that one dropped with its Sources, their
// results and datasets does not keep its database open (a DuckDB file: a
// goroutine, two open files and DuckDB's memory) for as long as the
// process runs. The channel returned is closed once the database is closed,
// by Close or once unreachable: whoever opens its file again waits for it,
// since two handles of one DuckDB file in one process are not safe.
func (c *Cache) closeWhenUnreachable() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	type closing struct {
		b      backend.Backend
		closed *closedSignal
	}
	c.closed = &closedSignal{ch: make(chan struct{})}
	c.cleanup = runtime.AddCleanup(c, func(cl closing) {
		cl.b.Close()
		cl.closed.signal()
	}, closing{c.b, c.closed})
	return c.closed.ch
}

// qual is the quoted, schema-qualified name of a table.
func (c *Cache) qual(table string) string {
	return c.b.Qualify(table)
}

// rebind turns "?" placeholders into the dialect's, leaving alone the "?"
// of quoted text and comments, which are no placeholders on DuckDB either:
// 'strings' (a doubled quote inside), E'strings' (\' too), "identifiers", $tag$dollar
// quotes$tag$, -- line comments and /* block comments */ (nested, as
// PostgreSQL nests them). A "?" rewritten there would also shift the
// numbers of the placeholders after it.
func (c *Cache) rebind(q string) string {
	return rebind(q, c.b.Placeholder)
}

// rebind is Cache.rebind with the dialect's placeholder of the n-th
// argument.
func rebind(q string, placeholder func(n int) string) string {
	if placeholder(1) == "?" || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); {
		end := skipQuoted(q, i)
		if end > i {
			b.WriteString(q[i:end])
			i = end
			continue
		}
		if q[i] == '?' {
			n++
			b.WriteString(placeholder(n))
		} else {
			b.WriteByte(q[i])
		}
		i++
	}
	return b.String()
}

// skipQuoted returns the end of the quoted text or comment that starts at
// q[i] (the end of q when it is not closed), or i when none starts there.
func skipQuoted(q string, i int) int {
	switch ch := q[i]; {
	case ch == '\'' || ch == '"':
		// An E before the quote, not ending a word, makes backslashes
		// escape (PostgreSQL's escape strings).
		escapes := ch == '\'' && i > 0 && (q[i-1] == 'E' || q[i-1] == 'e') && (i == 1 || !isWordByte(q[i-2]))
		for j := i + 1; j < len(q); j++ {
			switch {
			case escapes && q[j] == '\\':
				j++
			case q[j] == ch:
				return j + 1 // a doubled quote reopens at the next byte
			}
		}
		return len(q)
	case ch == '-' && strings.HasPrefix(q[i:], "--"):
		if j := strings.IndexByte(q[i:], '\n'); j >= 0 {
			return i + j + 1
		}
		return len(q)
	case ch == '/' && strings.HasPrefix(q[i:], "/*"):
		depth := 0
		for j := i; j < len(q)-1; j++ {
			switch q[j : j+2] {
			case "/*":
				depth++
				j++
			case "*/":
				depth--
				j++
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(q)
	case ch == '$' && (i == 0 || !isWordByte(q[i-1])):
		// $tag$ … $tag$, the tag empty or a name ($1 is a placeholder).
		j := i + 1
		for j < len(q) && (isWordByte(q[j]) && !(j == i+1 && q[j] >= '0' && q[j] <= '9')) {
			j++
		}
		if j >= len(q) || q[j] != '$' {
			return i
		}
		tag := q[i : j+1]
		if k := strings.Index(q[j+1:], tag); k >= 0 {
			return j + 1 + k + len(tag)
		}
		return len(q)
	}
	return i
}

// isWordByte reports whether b can be part of an SQL word (an identifier,
// a keyword, a number).
func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= 0x80
}

// ExecSQL runs a statement (PyAirbyte's execute_sql). Placeholders are "?"
// on every backend.
func (c *Cache) ExecSQL(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.b.DB().ExecContext(ctx, c.rebind(query), args...)
}

// Query runs a query. Placeholders are "?" on every backend.
func (c *Cache) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.b.DB().QueryContext(ctx, c.rebind(query), args...)
}

// unionRows reads something of n tables in one statement rather than one
// each (a statement cost DuckDB about 1 ms however small its table): the
// UNION ALL of n SELECTs, the i-th being "SELECT <i>" followed by what sel
// writes for table i (its columns, each after a comma, and its FROM) with
// its arguments. Each row is scanned into its table's index and dest, then
// handed to got with the index. It returns how many rows came.
func (c *Cache) unionRows(ctx context.Context, n int, sel func(i int, q *strings.Builder, args *[]any) error,
	dest []any, got func(i int)) (int, error) {
	var q strings.Builder
	var args []any
	for i := range n {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		q.WriteString("SELECT " + strconv.Itoa(i))
		if err := sel(i, &q, &args); err != nil {
			return 0, err
		}
	}
	rows, err := c.Query(ctx, q.String(), args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var i, count int
	scan := append([]any{&i}, dest...)
	for rows.Next() {
		if err := rows.Scan(scan...); err != nil {
			return count, err
		}
		got(i)
		count++
	}
	return count, rows.Err()
}

// queryRow runs a query that returns at most one row.
func (c *Cache) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return c.b.DB().QueryRowContext(ctx, c.rebind(query), args...)
}

// tableName is the unqualified table name of a stream: the prefix and the
// normalised stream name, shortened to the backend's identifier limit.
func (c *Cache) tableName(stream string) (string, error) {
	n, err := NormalizeName(stream)
	if err != nil {
		return "", err
	}
	n = c.statePrefix + n // pfx and pfx_ with users: pfx_users, as in PyAirbyte
	if n == stateTable || n == streamsTable || n == formatTable || strings.HasPrefix(n, stagingPrefix) {
		return "", &cacheerr.NameError{Name: stream, Reason: "it is the name of one of the cache's internal tables"}
	}
	return fitName(n, c.b.MaxIdentifierLength()), nil
}

// namesTable reports whether this Cache names stream's table table: a
// table recorded in _airbyte_streams under its table prefix, not another's.
func (c *Cache) namesTable(stream, table string) bool {
	t, err := c.tableName(stream)
	return err == nil && t == table
}

// byBytes returns expr, a text expression, as one that orders by its
// bytes on every backend, as DuckDB orders text (see
// backend.ByteOrderer).
func (c *Cache) byBytes(expr string) string {
	if bo, ok := c.b.(backend.ByteOrderer); ok {
		return bo.ByBytes(expr)
	}
	return expr
}

// Streams lists the streams that have a table in the cache under its
// table prefix: those whose datasets [Cache.Dataset] opens, in the order
// of their names' bytes, whatever the database's collation. The streams
// of other prefixes are theirs (see [WithTablePrefix]).
func (c *Cache) Streams(ctx context.Context) ([]string, error) {
	// The bookkeeping outlives a table dropped by hand: only the tables
	// there are count.
	rows, err := c.Query(ctx, `SELECT DISTINCT stream_name, table_name FROM `+c.qual(streamsTable)+
		` WHERE table_name IN (SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = ?)`, c.b.Schema())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var stream, table string
		if err := rows.Scan(&stream, &table); err != nil {
			return nil, err
		}
		// Under another prefix, the stream's table has another name.
		if c.namesTable(stream, table) && !slices.Contains(out, stream) {
			out = append(out, stream)
		}
	}
	slices.Sort(out) // by bytes: ORDER BY would follow the collation
	return out, rows.Err()
}

// Dataset returns the dataset of a stream in the cache; a stream that has
// no table is a [*protocol.StreamNotFoundError] (errors.Is
// protocol.ErrStreamNotFound).
func (c *Cache) Dataset(ctx context.Context, stream string) (*Dataset, error) {
	t, err := c.tableName(stream)
	if err != nil {
		return nil, err
	}
	cols, err := c.columns(ctx, t)
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, c.streamNotFound(ctx, stream)
	}
	return &Dataset{c: c, stream: stream, table: t}, nil
}

// streamNotFound is the error of a stream that has no table.
func (c *Cache) streamNotFound(ctx context.Context, stream string) error {
	avail, _ := c.Streams(ctx)
	return &protocol.StreamNotFoundError{Where: "cache", Stream: stream, Available: avail}
}

// columnInfo is a column as information_schema describes it.
type columnInfo struct {
	name, dataType string
}

// columnsQuery lists the columns of the cache's schema in order.
const columnsQuery = `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = ?`

// columns lists a table's columns in order; none if it does not exist.
func (c *Cache) columns(ctx context.Context, table string) ([]columnInfo, error) {
	if l, ok := c.b.(backend.ColumnLister); ok {
		names, types, err := l.TableColumns(ctx, table)
		if err != nil {
			return nil, err
		}
		cols := make([]columnInfo, len(names))
		for i := range names {
			cols[i] = columnInfo{name: names[i], dataType: types[i]}
		}
		return cols, nil
	}
	cols, err := c.tableColumns(ctx, columnsQuery+` AND table_name = ? ORDER BY ordinal_position`, c.b.Schema(), table)
	return cols[table], err
}

// allColumns lists the columns of every table in the cache's schema, by
// table: one query, where a load into a thousand streams would otherwise
// ask a thousand times (each a scan of the catalog).
func (c *Cache) allColumns(ctx context.Context) (map[string][]columnInfo, error) {
	return c.tableColumns(ctx, columnsQuery+` ORDER BY table_name, ordinal_position`, c.b.Schema())
}

// fewTables is the most tables columnsOf looks up one at a time, on a
// backend that is a ColumnLister, rather than list the columns of every
// table. Measured on DuckDB: a table's lookup took 0.7-1.2 ms (0.3-0.7 ms
// for a table that is not there), and listing the columns of a cache of
// four tables 4.2-4.5 ms, 12 ms the first time in a database (DuckDB then
// builds its catalog's views); a load of one stream into a new cache made
// two such lists.
const fewTables = 4

// columnsOf lists the columns of tables, by table (and maybe those of
// others): one by one when they are few and the backend looks one up
// fast, otherwise with allColumns. A table that does not exist has none.
func (c *Cache) columnsOf(ctx context.Context, tables []string) (map[string][]columnInfo, error) {
	tables = slices.Compact(slices.Sorted(slices.Values(tables)))
	if _, ok := c.b.(backend.ColumnLister); !ok || len(tables) > fewTables {
		return c.allColumns(ctx)
	}
	out := make(map[string][]columnInfo, len(tables))
	for _, t := range tables {
		cols, err := c.columns(ctx, t)
		if err != nil {
			return nil, err
		}
		out[t] = cols
	}
	return out, nil
}

// tableColumns runs a columns query.
func (c *Cache) tableColumns(ctx context.Context, query string, args ...any) (map[string][]columnInfo, error) {
	rows, err := c.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]columnInfo{}
	for rows.Next() {
		var table string
		var ci columnInfo
		if err := rows.Scan(&table, &ci.name, &ci.dataType); err != nil {
			return nil, err
		}
		out[table] = append(out[table], ci)
	}
	return out, rows.Err()
}

// State returns the state message stored under key in this cache's table
// prefix, nil if none.
func (c *Cache) State(ctx context.Context, key StateKey) (*protocol.State, error) {
	var raw string
	err := c.queryRow(ctx, `SELECT state_json FROM `+c.qual(stateTable)+` WHERE table_prefix = ? AND source_name = ? AND destination_name = ? AND stream_name = ?`,
		c.statePrefix, key.Source, key.Destination, key.Stream).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeState(key, raw)
}

// decodeState reads the state stored under key.
func decodeState(key StateKey, raw string) (*protocol.State, error) {
	st := new(protocol.State)
	if err := json.Unmarshal([]byte(raw), st); err != nil {
		return nil, fmt.Errorf("cache: stored state for %+v is not valid: %w", key, err)
	}
	return st, nil
}

// states returns the states stored for a source and a destination (""
// for the source's own) under the named streams ("" for a GLOBAL or
// LEGACY state), all when none are named, by stream name: what State
// returns for each of their keys, in one query rather than one per
// stream.
func (c *Cache) states(ctx context.Context, source, destination string, streams []string) (map[string]*protocol.State, error) {
	var want map[string]bool
	if len(streams) > 0 {
		want = make(map[string]bool, len(streams))
		for _, n := range streams {
			want[n] = true
		}
	}
	rows, err := c.Query(ctx, `SELECT stream_name, state_json FROM `+c.qual(stateTable)+` WHERE table_prefix = ? AND source_name = ? AND destination_name = ?`, c.statePrefix, source, destination)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*protocol.State{}
	for rows.Next() {
		var name, raw string
		if err := rows.Scan(&name, &raw); err != nil {
			return nil, err
		}
		if want != nil && !want[name] {
			continue
		}
		st, err := decodeState(StateKey{Source: source, Destination: destination, Stream: name}, raw)
		if err != nil {
			return nil, err
		}
		out[name] = st
	}
	return out, rows.Err()
}

// commitStates stores several states in one transaction, each under its key,
// replacing what was there and, as a load does (putState), the states of
// the other kind for the same source and destination and the streams
// both cover. A destination's Write keeps the states its destination
// echoed this way, in groups, and its source may switch kinds. As each
// may replace states of the other kind, a whole-source state and STREAM
// states of one source and destination are refused together, with nothing
// stored: which one should survive depends on the order they came in,
// which a map does not keep. Store them in separate calls, in that order.
func (c *Cache) commitStates(ctx context.Context, states map[StateKey]*protocol.State) error {
	whole := map[StateKey]bool{} // source and destination: holds a whole-source state
	for k := range states {
		sd := StateKey{Source: k.Source, Destination: k.Destination}
		if seen, ok := whole[sd]; ok && seen != (k.Stream == "") {
			return fmt.Errorf("cache: a whole-source state and STREAM states of source %q (destination %q) came in one call; store the kinds in separate calls, in the order they came", k.Source, k.Destination)
		}
		whole[sd] = k.Stream == ""
	}
	tx, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := c.putStates(ctx, tx, states); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// putState stores a state, a load's or commitStates', and removes the
// states it replaces: the one stored under its key and the source's
// states of the other kind for the streams both cover. A STREAM state
// goes with the LEGACY state, which covers every stream, and with a
// GLOBAL state that holds a part of its stream; a LEGACY state goes with
// every STREAM state, a GLOBAL one with the STREAM states of the streams
// it holds parts of. A source switches kinds for real — a connector
// upgraded off LEGACY state, a database source moved off CDC — and
// SourceState gives a whole-source state precedence for the streams it
// covers, so the one left behind would be passed to every later read,
// and the states the source sends now never would. A source may also
// send both kinds in one read, for streams apart: a version of Airbyte's
// bulk CDK sends a GLOBAL state (the CDC position, with the parts of the
// incremental streams) and STREAM states of the full-refresh streams
// (airbytehq/airbyte, bulk CDK StateManager.checkpoint). Neither covers
// the other's streams, so both are kept: replacing by kind alone dropped
// the CDC position whenever a STREAM state came after it.
func (c *Cache) putState(ctx context.Context, tx backend.Tx, key StateKey, st *protocol.State) error {
	del := `DELETE FROM ` + c.qual(stateTable) + ` WHERE table_prefix = ? AND source_name = ? AND destination_name = ?`
	if key.Stream != "" {
		cond, args := replacedByStreams([]string{key.Stream})
		return c.storeState(ctx, tx, key, st, del+` AND `+cond, append([]any{c.statePrefix, key.Source, key.Destination}, args...)...)
	}
	if st.EffectiveType() == protocol.StateGlobal {
		var names []any
		if st.Global != nil {
			for _, ss := range st.Global.StreamStates {
				names = append(names, ss.StreamDescriptor.Name)
			}
		}
		for part := range slices.Chunk(names, metaRows) {
			args := append([]any{c.statePrefix, key.Source, key.Destination}, part...)
			if err := tx.Exec(ctx, c.rebind(del+` AND stream_name IN (`+placeholders(len(part))+`)`), args...); err != nil {
				return err
			}
		}
		del += ` AND stream_name = ''`
	}
	return c.storeState(ctx, tx, key, st, del, c.statePrefix, key.Source, key.Destination)
}

// replacedByStreams is the condition, on the rows of a source and
// destination in the state table, of the states that STREAM states of
// streams replace (see putState), with its arguments: theirs, the LEGACY
// state, and a GLOBAL state that holds a part of one of them, found in
// its stored JSON by the descriptor json.Marshal writes (partPattern).
func replacedByStreams(streams []string) (string, []any) {
	args := make([]any, 0, 3*len(streams))
	var like strings.Builder
	for _, s := range streams {
		args = append(args, s)
		like.WriteString(` OR state_json LIKE ? ESCAPE '!' OR state_json LIKE ? ESCAPE '!'`)
	}
	for _, s := range streams {
		args = append(args, partPattern(s, "}"), partPattern(s, ","))
	}
	return `(stream_name IN (` + placeholders(len(streams)) + `) OR (stream_name = '' AND (state_type <> 'GLOBAL'` + like.String() + `)))`, args
}

// partPattern is the LIKE pattern of a stored GLOBAL state that holds a
// part of stream: its descriptor's name, followed by next ("}" when the
// descriptor has no namespace, "," when one follows).
func partPattern(stream, next string) string {
	name, _ := json.Marshal(stream) // a string always marshals
	esc := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(`"stream_descriptor":{"name":` + string(name) + next)
	return "%" + esc + "%"
}

// storeState runs the delete that clears st's place, then inserts st.
func (c *Cache) storeState(ctx context.Context, tx backend.Tx, key StateKey, st *protocol.State, del string, args ...any) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := tx.Exec(ctx, c.rebind(del), args...); err != nil {
		return err
	}
	return tx.Exec(ctx, c.rebind(`INSERT INTO `+c.qual(stateTable)+` (table_prefix, source_name, destination_name, stream_name, state_type, state_json, updated_at) VALUES (?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP)`),
		c.statePrefix, key.Source, key.Destination, key.Stream, string(st.EffectiveType()), string(raw))
}

// SourceState is what to pass to a source as --state, from the states
// stored under this cache's table prefix: nil when nothing is stored;
// else the stored LEGACY data blob, or a JSON array of the stored GLOBAL
// message, first, and the STREAM state messages of the named streams (all
// streams when none are named) that it does not hold a part of. A source
// whose reads send both kinds, for streams apart (see putState), gets both
// back, as Airbyte's bulk CDK reads them (InputStateFactory: a GLOBAL
// state and "non-global" STREAM states); a source that sends one kind gets
// that kind. A cache written before loads replaced the other kind
// (versions before 2aa88ac) may hold both for one stream, from a source
// that switched kinds: the kind stored last is the one it sends now.
func (c *Cache) SourceState(ctx context.Context, source string, streams []string) (json.RawMessage, error) {
	rows, err := c.Query(ctx, `SELECT stream_name, state_json, updated_at FROM `+c.qual(stateTable)+` WHERE table_prefix = ? AND source_name = ? AND destination_name = '' ORDER BY `+c.byBytes("stream_name"), c.statePrefix, source)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	want := map[string]bool{}
	for _, n := range streams {
		want[n] = true
	}
	type stored struct {
		name string
		st   *protocol.State
		at   time.Time
	}
	var msgs []stored
	var whole *protocol.State
	var wholeAt time.Time
	for rows.Next() {
		var name, raw string
		var at sql.NullTime
		if err := rows.Scan(&name, &raw, &at); err != nil {
			return nil, err
		}
		st := new(protocol.State)
		if err := json.Unmarshal([]byte(raw), st); err != nil {
			return nil, fmt.Errorf("cache: stored state of source %q stream %q is not valid: %w", source, name, err)
		}
		if name == "" {
			whole, wholeAt = st, at.Time
			continue
		}
		msgs = append(msgs, stored{name, st, at.Time})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Left by an earlier version: the source has sent STREAM states of
	// streams the whole-source state covers since.
	for _, m := range msgs {
		if whole != nil && m.at.After(wholeAt) && covers(whole, m.name) {
			whole = nil
		}
	}
	if whole != nil && whole.EffectiveType() == protocol.StateLegacy {
		return whole.Data, nil
	}
	var out []*protocol.State
	if whole != nil {
		out = append(out, whole)
	}
	for _, m := range msgs {
		if (len(want) == 0 || want[m.name]) && (whole == nil || !covers(whole, m.name)) {
			out = append(out, m.st)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return json.Marshal(out)
}

// init gives package destination, through internal/cachelink, what a
// Write from a cache needs and users do not.
func init() {
	cachelink.Set(cachelink.Ops[*Cache, *Dataset, StateKey]{
		Datasets:  (*Cache).datasets,
		LastRawID: (*Dataset).lastRawID,
		States:    (*Cache).states,
		PutStates: (*Cache).commitStates,
		LockWrite: (*Cache).lockWrite,

		CloseWhenUnreachable: (*Cache).closeWhenUnreachable,
	})
}
