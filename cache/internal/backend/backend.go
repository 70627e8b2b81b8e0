// Package backend is what a SQL database implements to hold a goairbyte
// cache, and how it makes itself known — the cache's equivalent of
// database/sql/driver. It is internal for now: only packages under cache/
// implement it (cache/duckdb and cache/postgres), and its interfaces may
// change with them. Users use package cache and import a backend for its
// side effect:
//
//	import _ "github.com/x/goairbyte/cache/duckdb"   // duckdb:… URLs
//	import _ "github.com/x/goairbyte/cache/postgres" // postgres://… URLs
//
// A backend contributes only what differs between databases: a dialect
// (types, placeholders, identifier limits, JSON paths, a DDL lock), a write
// transaction [Tx] with a fast bulk path fed by [Batch] values, and the
// database/sql handle queries go through. Everything else — table names,
// column types, strategies, state, datasets, the export — is written once
// in package cache, on top of this interface.
//
// # Optional capabilities
//
// A backend may do more than the interface asks; package cache finds out by
// type assertion, as database/sql does with its drivers:
//
//   - [BatchSizer]: another number of records per transaction;
//   - [ChunkSizer]: a transaction's records handed over in several chunks;
//   - [TxMemory]: transactions committed early when they write into many
//     tables;
//   - [Locker]: loads of one source serialised across processes;
//   - [ErrorClassifier]: a full memory or disk told apart from other
//     errors;
//   - [RowReader]: query results read faster than through database/sql;
//   - [ColumnLister]: one table's columns found without listing every
//     table's;
//   - [TableIdentifier]: a table swapped in under a name told apart from
//     the one it replaced, whichever cache or process swapped it;
//   - [TableIDQuerier] (on a TableIdentifier): the identifier read as an
//     SQL expression, in one statement for many tables;
//   - [CountCapper]: a count that only tells a table of at most n rows
//     from a larger one stops at n+1 rows;
//   - [RawIDIndexer]: a range of raw ids read through an index rather
//     than a scan of the whole table;
//   - [KeyOrderer] (on a Batch): the batch's primary keys were increasing,
//     so a merge may skip its duplicate check. [KeyTracker] does the
//     bookkeeping.
//
// # Registering
//
// A backend package calls [Register] in its init function with the URL
// schemes it serves; cache.Open then finds it by the scheme of the URL it
// is given. A backend also exports a constructor returning a [Connector]
// (with typed options), which cache.New takes directly.
package backend

import (
	"bytes"
	"context"
	"database/sql"
	"time"

	"github.com/x/goairbyte/protocol"
)

// Backend is what one SQL database contributes to the cache: its dialect,
// a write transaction with a fast bulk path, and the database/sql handle
// users query through.
type Backend interface {
	dialect
	// DB is the database/sql handle behind the cache's queries and
	// datasets.
	DB() *sql.DB
	// Begin starts a write transaction.
	Begin(ctx context.Context) (Tx, error)
	// NewBatch starts an empty batch of records bound for table t.
	NewBatch(t *Table) (Batch, error)
	// Close releases the database.
	Close() error
}

// BatchSizer is implemented by a Backend whose bulk path wants another
// number of records per transaction than the cache's default of 100,000
// (DuckDB writes large transactions straight to its file). A load's own
// batch size still overrides it.
type BatchSizer interface {
	// BatchSize is how many records a load buffers per transaction.
	BatchSize() int
}

// ChunkSizer is implemented by a Backend that wants a transaction's
// records handed to Insert in several smaller batches of at most
// ChunkSize records, so that the database starts on the first of them
// while the load buffers the next (DuckDB, whose transactions are large).
// Memory is bounded by the chunk: at most three exist at once, one being
// inserted, one waiting and one filling.
type ChunkSizer interface {
	// ChunkSize is how many records a load buffers per Insert.
	ChunkSize() int
}

// LoadEnder is implemented by a Backend that keeps files or buffers
// between the batches of a load for the next ones to reuse (DuckDB: its
// spool files, rewritten in place). The cache calls LoadEnded when a load
// ends, whatever its outcome, after its last batch was closed: what the
// backend kept for it must not outlive it, since a cache may stay open
// until the program exits. Batches of other loads may still be open.
type LoadEnder interface {
	// LoadEnded releases what the backend kept for batches to come.
	LoadEnded()
}

// TxMemory is implemented by a Backend whose write transaction holds
// memory for every table it writes into, until it commits and beyond
// (DuckDB keeps a buffer for each column of each such table, and the
// table's last, partial row group until a checkpoint). A load then commits
// its transaction early rather than let the tables written in it hold more
// than the budget, and releases what the commit left: a sync of a
// thousand streams is loaded in several transactions instead of failing
// out of memory.
type TxMemory interface {
	// TxTableMemory is what a transaction holds for table t once it has
	// written into it, in bytes.
	TxTableMemory(t *Table) int64
	// TxMemoryBudget is how much the tables written in one transaction
	// may hold together, in bytes.
	TxMemoryBudget() int64
	// ReleaseTxMemory frees what the committed transactions still hold
	// for the tables they wrote into. It is called after a transaction
	// committed early for the budget.
	ReleaseTxMemory(ctx context.Context) error
}

// WideReader is implemented by a Backend whose memory limit a query of a
// wide table needs raised (DuckDB: every chunk of the query holds a vector
// of every column; at the default limit, 3 records of 3,000 columns could
// not be read).
type WideReader interface {
	// RaiseForColumns raises the limit for a query of n columns, if it
	// needs it, until restore is called.
	RaiseForColumns(ctx context.Context, n int) (restore func(), err error)
	// RaiseAgain raises the limit above the one a query just ran out of
	// memory at, so that it can run again (a record as large as the load
	// raised the limit for is read at a lower one); ok is false when the
	// limit will go no higher.
	RaiseAgain(ctx context.Context) (restore func(), ok bool, err error)
}

// Materializer is implemented by a Backend whose driver holds a query's
// whole result in memory before it gives the first row (DuckDB's):
// Dataset.Records reads its tables in pages of raw ids, so that memory
// stays bounded. A backend whose driver streams a result (PostgreSQL's)
// is read in one query.
type Materializer interface {
	// MaterializesResults marks the backend; it does nothing.
	MaterializesResults()
}

// Locker is implemented by a Backend that can hold a named lock for as long
// as a load runs, across processes (PostgreSQL: a session advisory lock,
// released by the server when the process dies). Package cache takes one
// per (cache, table prefix, source), so that two loads of one source under
// one prefix never interleave.
// Without a Locker the lock holds within the process only, which is
// enough for a database that one process writes at a time.
type Locker interface {
	// Lock takes the lock named key, in the cache's schema, until unlock
	// is called. When another load holds it, Lock returns at once with an
	// error that matches ErrInUse and says, when it can, who holds it; a
	// holder known to be dead, whose lock the database has yet to
	// release, is waited for, and so are the transactions that the fence
	// of a holder that lost it let in (see LossWatcher).
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// LossWatcher is implemented by a Locker whose lock can be lost while it
// is held (PostgreSQL: the session holding it ended, terminated by an
// administrator, a timeout or a cut connection, and another load may take
// it). LockWatched is Lock, and calls lost, once, with the reason, when it
// finds the lock lost before unlock is called; lost may be nil.
//
// fence, run first in a write transaction of the holder, makes the lock
// exact where watching cannot be: it returns a reason in lost when the
// lock is lost, and the transaction must then roll back; otherwise no
// later holder reads anything before the transaction has ended, committed
// or not. err is an error of the check itself.
type LossWatcher interface {
	LockWatched(ctx context.Context, key string, lost func(error)) (unlock func(), fence func(ctx context.Context, tx Tx) (lost, err error), err error)
}

// ByteOrderer is implemented by a Backend whose text compares by a
// collation that may not be bytewise (PostgreSQL's database default, such
// as en_US.UTF-8). Merge orders text cursors through it, and the cache
// the states it gives a source, so that the same records keep the same
// rows, and states come in the same order, on every backend, as DuckDB
// orders text: by its bytes.
type ByteOrderer interface {
	// ByBytes returns expr, a text expression, as one that compares by
	// its bytes.
	ByBytes(expr string) string
}

// ErrorClassifier is implemented by a Backend whose database tells of a
// full memory or disk only in its own error messages. Package cache passes
// the errors of loads (plain queries' too) through it.
type ErrorClassifier interface {
	// Classify returns the backend's typed error for err when err is one
	// of running out of memory or disk (matching ErrOutOfMemory or
	// ErrDiskFull), else err.
	Classify(err error) error
}

// RowReader is implemented by a Backend that reads query results faster
// than database/sql, which copies and boxes every value. The export
// (cache's Dataset.RecordLines) reads through it when the backend has one,
// and through database/sql otherwise or when it answers
// errors.ErrUnsupported; both give the same lines.
type RowReader interface {
	// ReadRows runs query with args and calls fn with each row of the
	// result, in order. types are the Types of the result's columns (as
	// ParseSQLType gives them; TypeJSON columns selected as text). It
	// returns an error wrapping errors.ErrUnsupported, before calling fn,
	// when it cannot bind an argument or read a column as its Type.
	ReadRows(ctx context.Context, query string, args []any, types []Type, fn func(Row) error) error
}

// Row is the current row of a [RowReader]. Each column is read with the
// accessor of its Type, and only when it is not Null: Text for TypeString
// and TypeJSON, Int for TypeInteger, Float for TypeNumber, Bool for
// TypeBoolean, Time for TypeDate, TypeTimestamp, TypeTimestampTZ and
// TypeTime. The string Text returns is valid only until fn returns.
type Row interface {
	// Null reports whether column col is NULL.
	Null(col int) bool
	// Text reads a TypeString or TypeJSON column.
	Text(col int) string
	// Int reads a TypeInteger column.
	Int(col int) int64
	// Float reads a TypeNumber column.
	Float(col int) float64
	// Bool reads a TypeBoolean column.
	Bool(col int) bool
	// Time reads a date, timestamp or time column, in UTC.
	Time(col int) time.Time
}

// ColumnLister is implemented by a Backend that finds one table's columns
// faster than information_schema.columns filtered by the table's name.
// DuckDB builds that view from every column of every table at each query:
// 66 ms a table in a cache of 10,000, so that opening the datasets of all
// the streams cost their number squared.
type ColumnLister interface {
	// TableColumns returns the name and data_type (as
	// information_schema.columns spells it) of each column of table
	// (unqualified, in the cache's schema), in order; none, and no error,
	// when there is no such table.
	TableColumns(ctx context.Context, table string) (names, dataTypes []string, err error)
}

// TableIdentifier is implemented by a Backend that tells a table apart
// from the one a replace later swaps in under its name, so that an export
// reading the table in pages (cache's Dataset.RecordLines) learns of the
// swap rather than mix the two. Without it, package cache counts the swaps
// its Cache makes: enough only when one Cache writes the database.
type TableIdentifier interface {
	// TableID identifies the table now named table (unqualified, in the
	// cache's schema): a table dropped and another renamed to its name
	// gets another identifier. It is "", and no error, when no identifier
	// can be had: no such table, or a swap of it under way.
	TableID(ctx context.Context, table string) (string, error)
	// Swapping is called before a transaction that swaps a table in
	// under the name table can commit, and the function it returns once
	// that transaction ended, committed or not. A backend whose catalog
	// identifies tables (PostgreSQL's oids) has nothing to do; one whose
	// catalog is too slow to ask (DuckDB) counts the swaps instead,
	// across every cache open on its database.
	Swapping(table string) (ended func())
}

// TableIDQuerier is implemented by a TableIdentifier whose TableID asks
// the database: the same identifier as an SQL expression, so that package
// cache reads many tables' identifiers in one statement with its other
// reads of them (cache's Cache.datasets) rather than one statement each.
type TableIDQuerier interface {
	// TableIDSQL returns an SQL expression of text whose value is what
	// TableID(table) returns, with "?" placeholders for args.
	TableIDSQL(table string) (expr string, args []any)
}

// CountCapper is implemented by a Backend on which counting a table's
// rows reads every one of them (PostgreSQL scans the heap): package cache
// then counts no further than it needs to, n+1 rows to tell a table of at
// most n rows from a larger one (cache's Cache.datasets, for an export of
// one page). DuckDB counts fast enough that the cap gains nothing there
// (a 2M-row table: 19.8 ms whole, 19.2 ms capped), and its subquery costs
// a Write of many small streams: 1,000 streams with nothing new took
// 795–1114 µs a stream capped, 730–794 µs whole (three paired rounds of
// destination's BenchmarkWriteManyStreams/noop/again).
type CountCapper interface {
	// CapCounts reports whether counts are to be capped.
	CapCounts() bool
}

// RawIDIndexer is implemented by a Backend on which a range of raw ids (a
// page of cache's Dataset.RecordLines, the rows after a watermark) is read
// by a scan of the whole table unless the table has an index for it
// (PostgreSQL). Package cache has the index made with every
// stream table and staging table, and with an existing table at its next
// load, and brought up to date when a paged read of a table begins.
type RawIDIndexer interface {
	// IndexRawIDs gives table an index on _airbyte_raw_id in tx, a DDL
	// transaction, if it has none and the session may make one (it owns
	// the table): a table it may not index is read as before.
	IndexRawIDs(ctx context.Context, tx Tx, table string) error
	// SwapRawIDIndex renames, in tx, the index of staging, which tx has
	// just renamed to table, to the name IndexRawIDs gives the index of
	// table, so that the next load finds it.
	SwapRawIDIndex(ctx context.Context, tx Tx, staging, table string) error
	// RawIDsToRead brings the index of each of tables, and what the
	// database's planner knows of its raw ids, up to date with the rows
	// loads committed into it, so that a range of them is read through
	// the index. A paged read calls it before it reads its pages, outside
	// any transaction: a load does not pay for an export that may never
	// come.
	RawIDsToRead(ctx context.Context, tables []string) error
}

// SwapKeeper is implemented by a Backend whose tables hold what a
// replace's swap (the table dropped, its staging table renamed to its
// name) would lose with the table (PostgreSQL: the privileges granted on
// it, which the staging table lacks, and the views that read it, which
// stop the drop).
type SwapKeeper interface {
	// ViewsOver returns, in one query, the views that read each of tables
	// (unqualified, in the cache's schema), and the publications naming
	// it that KeepGrants cannot name staging in, sorted by name: a table
	// that nothing reads or names, or that does not exist, is absent.
	ViewsOver(ctx context.Context, tables []string) (map[string][]View, error)
	// KeepGrants grants on staging, in tx, before table is dropped, the
	// privileges granted on table to roles other than its owner, and
	// adds staging to the publications that name table.
	KeepGrants(ctx context.Context, tx Tx, table, staging string) error
}

// View is a view or a materialized view that reads a table, or a
// publication that names it and that the swap cannot name the new table
// in.
type View struct {
	// Name is the view's qualified name, or the publication's name,
	// quoted where it needs to be.
	Name string
	// Materialized says it is a materialized view.
	Materialized bool
	// Publication says it is a publication (logical replication).
	Publication bool
}

// dialect is the small part of SQL that differs between backends.
type dialect interface {
	// Schema is the schema (DuckDB, Postgres) that holds every table.
	Schema() string
	// Qualify is the quoted name of table in the schema, qualified as
	// far as the database needs to find it whatever the schema is called
	// (DuckDB also names the catalog: a schema called like the file's
	// stem or like one of DuckDB's own catalogs is otherwise ambiguous).
	Qualify(table string) string
	// MaxIdentifierLength is the longest identifier in bytes, 0 if unlimited.
	MaxIdentifierLength() int
	// MaxColumns is the most columns a table may have, the cache's own
	// included; 0 if unlimited. A load that would need more is refused
	// before it creates or changes any table.
	MaxColumns() int
	// SQLType is the column type the backend uses for t.
	SQLType(t Type) string
	// ParseSQLType maps a data_type of information_schema.columns back to
	// a Type, so that existing columns keep their type.
	ParseSQLType(dataType string) Type
	// Placeholder is the n-th (1-based) bind parameter: "?" or "$n".
	Placeholder(n int) string
	// JSONKey is an expression of the JSON value at path inside the JSON
	// expression expr (expr itself for an empty path) that is equal for
	// two values when they are the same JSON value, as JSON Schema's
	// equality says (1, 1.0 and 1e0 are one number, "1" is not it), and
	// NULL for a value missing or null: a primary key held as JSON.
	JSONKey(expr string, path []string) string
	// JSONOrder returns expressions of the JSON value at path inside the
	// JSON expression expr (expr itself for an empty path), which order
	// such values alike on every backend, each descending with NULLs
	// last, in turn: numbers, the value when it is a JSON number (else
	// NULL), by its value (equal numbers, however written, tie); then
	// text, the text of any other value (a string's characters,
	// unquoted), to be compared by its bytes.
	JSONOrder(expr string, path []string) (numbers []string, text string)
	// DDLLock is a statement run first in every transaction that changes
	// tables, so that concurrent loads into one database serialise their
	// DDL; "" when the database has a single writer anyway. It may also
	// bound how long the transaction's statements wait for other locks
	// (a table that a reader or a write of another session holds), so
	// that one table's wait does not hold up every load's DDL: Tx.Exec
	// then fails a statement whose lock was not had in time with an error
	// matching ErrInUse, and package cache rolls the transaction back,
	// which releases the DDL lock, and runs it again after a pause.
	DDLLock() string
}

// Tx is a write transaction of a Backend.
type Tx interface {
	// Exec runs a statement. Placeholders are the dialect's.
	Exec(ctx context.Context, query string, args ...any) error
	// Insert bulk-loads batch b into the table named table (unqualified,
	// in the dialect's schema), whose columns are b's table's columns plus
	// the internal ones. A transaction may insert several batches into
	// one table.
	Insert(ctx context.Context, table string, b Batch) error
	// Commit commits the transaction.
	Commit(ctx context.Context) error
	// Rollback abandons the transaction; it is a no-op after Commit.
	Rollback(ctx context.Context) error
}

// Batch collects the records of one stream for one Insert, in the form
// the backend loads fastest (DuckDB: a JSONL spool file; Postgres: COPY
// data).
type Batch interface {
	// Add appends one record with its _airbyte_raw_id; rawID is valid only
	// until Add returns. Data that is not a JSON object is an error.
	Add(rawID []byte, rec *protocol.Record) error
	// Len is the number of records added.
	Len() int
	// Close releases the batch's resources.
	Close() error
}

// KeyOrderer is implemented by a Batch that watches its stream's primary
// key while it encodes records. When a merge stream's keys arrived
// strictly increasing into a table that was empty, no key can be there
// twice, and the load skips the duplicate check, which costs a pass over
// the whole table.
type KeyOrderer interface {
	// KeyOrder returns the first and the last non-NULL primary key of the
	// batch, encoded so that comparing the strings compares the keys (""
	// when every key was NULL), and whether each non-NULL key was greater
	// than the one before it. It returns false when the batch cannot
	// tell, e.g. for composite or nested keys.
	KeyOrder() (first, last string, increasing bool)
}

// KeyTracker follows the order of one batch's primary keys for a
// [KeyOrderer], so that each backend only encodes its keys. The zero
// value is ready to use.
type KeyTracker struct {
	first, last     []byte
	have, unordered bool
}

// Note records the next non-NULL key, encoded so that comparing the bytes
// compares the keys as the database does.
func (k *KeyTracker) Note(key []byte) {
	if k.unordered {
		return
	}
	if k.have && bytes.Compare(key, k.last[1:]) <= 0 {
		k.unordered = true
		return
	}
	// The leading byte keeps an empty key apart from "no key".
	if !k.have {
		k.first, k.have = append(append(k.first[:0], 1), key...), true
	}
	k.last = append(append(k.last[:0], 1), key...)
}

// Unknown records a key the backend cannot encode: the batch is then
// treated as unordered.
func (k *KeyTracker) Unknown() { k.unordered = true }

// Unordered reports whether the order is already lost, so that a backend
// can stop encoding keys.
func (k *KeyTracker) Unordered() bool { return k.unordered }

// KeyOrder is [KeyOrderer.KeyOrder] for the keys noted.
func (k *KeyTracker) KeyOrder() (first, last string, increasing bool) {
	return string(k.first), string(k.last), !k.unordered
}
