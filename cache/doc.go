// Package cache stores synced streams in a SQL database — DuckDB or
// PostgreSQL — with one processor (names, types, strategies, state,
// datasets, the export) written once for every database. It is shaped like
// database/sql: this package is what programs use, and a backend (package
// cache/duckdb, which needs cgo, or cache/postgres, pure Go) registers
// itself for URL schemes when it is imported. What a backend implements
// (the backend SPI, as database/sql/driver is database/sql's) is internal
// for now: the backends are the two of this module.
//
// # Opening
//
// [Open] takes a URL and finds the backend registered for its scheme:
//
//	import _ "github.com/x/goairbyte/cache/duckdb"
//
//	c, err := cache.Open(ctx, "duckdb:.cache/mycache/mycache.duckdb")
//	// or "duckdb::memory:", or "postgres://user:pw@host/db?schema=airbyte" with cache/postgres imported
//	if err != nil { ... }
//	defer c.Close()
//
// [New] takes a backend's connector instead, for its typed options:
//
//	c, err := cache.New(ctx, duckdb.NewConnector(path, duckdb.WithMemoryLimit("1GB")))
//
// # Loading
//
// [Cache.Load] consumes a connector's messages and writes them into the
// cache:
//
//	state, _ := c.SourceState(ctx, "source-faker", nil) // pass as --state
//	res, err := c.Load(ctx, cache.LoadRequest{
//		SourceName: "source-faker", Catalog: catalog, Messages: msgs,
//	})
//
// RECORDs are buffered per stream (never unmarshalled into maps on the hot
// path) and written in transactions of LoadRequest.BatchSize records, else
// the backend's own size (DuckDB writes 500,000 so that each transaction
// fills whole row groups), else 100,000. A writer goroutine inserts them
// while the next records are buffered, in chunks of at most the backend's
// chunk size, so that the database starts on the first chunk at once. A
// STATE is written in the same transaction as every record that arrived
// before it, so a committed state never covers a record that is not
// durable; for a replace stream the state waits for the final swap. A
// STATE that comes 30 s or more after its transaction began commits it,
// however few records it holds, so a slow source's load cancelled or
// killed midway keeps what it read up to a recent state. If the
// process is killed, the next load passes the last committed state and
// loses nothing before it; append streams may then hold the records after
// it again, once more for each killed load that committed them (merge
// removes them).
//
// # Strategies
//
// [StrategyAuto] merges streams with a primary key, appends streams with a
// cursor and replaces the others. [StrategyMerge] keeps one row per primary
// key (composite and nested keys work) — the newest by cursor (a text
// cursor compared by its bytes, whatever the database's collation, as
// DuckDB compares text; one held as JSON — nested, undeclared, or of
// several types — a number by its value, above any other value, which
// compares by its text's bytes: 1, 1.0 and 1e0 tie), then by arrival
// (_airbyte_raw_id), duplicates within one sync included; rows whose key
// (or a part of it) is NULL (or JSON null) are kept as they are, so each
// load that sends such a row adds it once more, a full refresh too. Only the keys a load wrote
// are deduplicated: rows that an append or a replace left with a key twice
// stay until a merge loads that key. A key held as JSON (an
// open stream's, an undeclared field's, one inside an object) is compared
// as a JSON value on both backends: 1, 1.0 and 1e0 are one key, the
// string "1" another. On DuckDB an object or array key is compared by its
// text, and a number beyond 2^53 written with a fraction or an exponent
// as a double (PostgreSQL's jsonb compares both by value). The older rows of a key are
// removed when the load ends, not batch by batch (that would cost a
// delete per batch): while a merge load runs, readers of its table see
// the batches it committed beside the older rows of the same keys.
//
// PyAirbyte's merge keeps the row that arrived last; this one keeps the
// greatest cursor, and arrival decides only among equal (or absent)
// cursors. The cursor is the source's own word on which version of a
// record is newer, and arrival order is not: connectors read partitions in
// parallel and re-read overlapping windows, and a full refresh may send
// — from a lagging replica, or a paginated API that changes under it — a
// version older than one the cache holds. So no read, full or incremental,
// can roll a row back to an older version. A source whose cursor can go
// backwards for a real change (a record restored with its old updated_at)
// keeps the larger cursor's row: read such a source with replace for a
// full refresh. [StrategyReplace] loads into a
// staging table and swaps it in with the states in one transaction, so
// readers never see a half table; it is refused for an incremental stream
// unless LoadRequest.FullRefresh is set. A stream is swapped in only when
// the messages tell it was read to its end: the connector reported it
// COMPLETE, or reported no status at all and sent a record or a state of
// it. Otherwise — a connector that exits 0 having sent nothing, or one
// that reported the stream started and never complete — the table is
// kept as it was and the stream is listed in LoadResult.Unfinished. The
// swap drops the table and renames the staging table to its name: on
// PostgreSQL the privileges granted on the table (to roles other than its
// owner, or PUBLIC; not column privileges) are granted on the new one in
// the same transaction, and a replace of a table that a view or a
// materialized view reads, which PostgreSQL will not drop, is refused with
// ErrStrategy naming the views, before anything is loaded (and at the
// swap, of a view made meanwhile). DuckDB's views name the table and read
// the new one.
//
// LoadResult counts the records the cache holds now (committed, and
// swapped in) apart from the records read: a cancelled or failed load
// reads more than it keeps.
//
// # Tables, names and types
//
// Each stream gets a table named by [NormalizeName] (PyAirbyte's rule:
// lower case, [a-z0-9_] kept, everything else "_", a leading digit
// prefixed), after an optional table prefix and shortened with a hash
// suffix to the backend's identifier limit (63 bytes on PostgreSQL). Two
// streams or two fields that normalise alike are an [ErrNameCollision], and
// so are two streams of the same name in different namespaces (tables are
// keyed by stream name, as in PyAirbyte), in one load or across loads: a
// table is recorded with the namespace of the stream that loads it ("" for
// none, a namespace of its own), and a load of its name in another
// namespace (west.tags into the table of east.tags) is refused before it
// writes, with an error that names both streams, unless its strategy is
// replace (see State and metadata); identifiers are always quoted.
// Columns follow the JSON schema's top-level properties (date-time is a
// timestamp with time zone, objects and arrays JSON/JSONB, unions and
// unknown types JSON), plus _airbyte_raw_id (a ULID, increasing in arrival
// order), _airbyte_extracted_at (from emitted_at; when the load read the
// record if its emitted_at is 0, unknown) and _airbyte_meta
// ({"changes": [...]}). Record fields the schema does not declare are not
// stored, except in an open stream: one whose schema declares no
// top-level property and does not say "additionalProperties": false (57
// streams of 31 of the 372 corpus connectors, 43 of them keyed;
// PyAirbyte keeps nothing of them). Its table has, besides the cache's
// three columns, one column per top-level field of its primary key and
// cursor (JSON/JSONB, as a field of an empty schema) and _airbyte_data
// (JSON on DuckDB, JSONB on PostgreSQL), the record's whole data; key and
// cursor columns are copies, so merge, replace and the export's
// watermark work on them as on any stream (a JSON cursor orders as
// Strategies says, alike on both backends). Dataset.Records and
// RecordLines give a row whose _airbyte_data is not NULL as that object
// (with the cache's own columns, in Records), other rows from their
// columns: a stream that turns from open to declared, or back, keeps what
// each load stored. _airbyte_data is reserved: a declared field that
// normalises to it is an [ErrNameCollision] (no corpus catalog declares
// one). PostgreSQL allows 1,600 columns, the cache's three included: a
// stream that would need more is refused, naming it, before any table is
// made or changed (DuckDB has no such limit).
//
// "integer" is BIGINT and "number" DOUBLE (PyAirbyte: DECIMAL(38,9)), decided on
// what real sources send. The catalogs of 353 of Airbyte's manifest-only
// connectors (3,275 streams) declare 7,375 "number" properties against
// 1,633 "integer", and the "number" ones are ids (692; 818 of the 2,914
// primary keys), amounts, exchange rates, coordinates and epoch times,
// whose recorded reads carry integers and fractions alike. PyAirbyte's
// DECIMAL(38,9) (since 0.10.4; a bare DECIMAL, DECIMAL(18,3) on DuckDB,
// before) keeps nine decimals (1.0123456789 becomes 1.012345679) and
// integers below 10^29 only, a larger one failing its load. DOUBLE keeps 15
// to 17 significant digits at any scale and integers exact up to 2^53; an
// integer above that in a "number" field loses its last digits, so declare
// such a field "integer". A field with airbyte_type big_integer (none of
// those connectors has one) may exceed 64 bits: it is text, exact, as
// PyAirbyte's fallback makes it too.
//
// A value that does not fit its column (text in an integer column, a
// malformed timestamp, in a table made by another tool an integer beyond
// its INTEGER column or a text longer than its varchar(5)) never fails the
// load: the column is NULL and the field is listed in
// _airbyte_meta.changes as NULLED with reason DESTINATION_TYPECAST_ERROR,
// after any change the source reported itself.
//
// Numbers and booleans follow one rule on every backend. An integer
// column takes a whole number written as one — a JSON integer, or a
// string of digits with an optional minus sign (no "+", leading zero,
// fraction, exponent or white space) — within 64 bits; 6.5, 1.0, 1e3 and
// 9223372036854775808 do not fit. A number column takes a JSON number, or
// a string holding one as DuckDB's cast reads it (white space around it,
// "_" between digits, "+5", ".5" and "5." are read; hexadecimal is not),
// rounded to the nearest double; a value beyond the double's range (1e400)
// or not finite ("NaN", "Infinity") does not fit, one too small to tell
// from zero (1e-400) is 0; the integer -0 is 0, the fraction -0.0 (or
// the string "-0") -0. A boolean column takes true and false, the
// numbers 1 and 0, and the strings true, t, yes, y, 1, false, f, no, n, 0
// in any case. A date-time column takes a bare date as its midnight, and a
// date column a date-time as the date it spells (in its own zone), as
// both databases read them: sources send each where their schema says
// the other. A time column takes a date-time's time of day (on its own
// clock) and a bare date's midnight, as DuckDB reads them, on PostgreSQL
// too; a time with a time zone keeps a bare time's offset (Z is +00) and
// takes a date-time's time of day in UTC. 24:00:00 is the next day's
// midnight in a date-time, and 00:00:00 in a time column (RFC 3339 has
// no hour 24); a leap second (23:59:60, which RFC 3339 has) does not fit,
// as DuckDB's cast takes none. Both backends read what DuckDB's cast reads: fields of one
// digit (2024-1-5, 1:2:3), "/" between the parts of a date, an offset with
// seconds (+05:30:15) and " UTC" after a date-time; a zone by another name
// (" Europe/Paris") DuckDB alone reads (in a date-time column as ICU
// does: New York's 01:30 on the night its clocks go back is the second,
// 06:30 UTC, and 02:30 on the night they go forward, which no clock
// showed, 07:30 UTC); a word after the time that names
// no zone (" PM", " BC") does not fit, where DuckDB's cast dropped it
// unread (01:30:00 PM was 01:30). Date, timestamp and date-time columns take the years 0000 to
// 9999 (a date-time's instant in UTC), the years RFC 3339 writes and the
// export writes back; infinity, -infinity and years of five digits or
// with a minus sign do not fit, although both databases hold some of
// them. Times keep microseconds: a finer fraction is cut, not rounded, so
// 23:59:59.9999999 stays in its day (23:59:59.999999). Neither backend
// keeps the offset a date-time was written with: a date-time column holds
// its instant (10:00+02:00 reads back as 08:00 UTC), and a
// timestamp_without_timezone column the wall-clock time as written, the
// offset dropped (10:00+02:00 is 10:00). A date-time or time written
// without a zone is in UTC, whatever the program's TZ, PostgreSQL's
// TimeZone (the server's, the database's or the role's) or a SET TimeZone
// of the user's on a connection of the cache.
// A field given twice in one record's data keeps its first value. Text is
// valid UTF-8: invalid bytes (replaced by the protocol decoder) and the
// escape of a lone UTF-16 surrogate ("\udcff", which Python's json.dumps
// writes for a byte it cannot decode) become U+FFFD, in every column and
// key, so that no single value can fail its batch. A field whose name
// holds a NUL ("a\u0000b", which no SQL text can hold) loads into its
// normalised column like any other, and where its name is written into
// _airbyte_meta the NUL is U+FFFD. A value holding a NUL (in a string, or
// a key or string of a JSON value) is kept by DuckDB; PostgreSQL's text
// and jsonb cannot hold one, so there the value is NULL and noted as one
// that does not fit its column.
//
// JSON columns keep values, not their text (the sign of a zero in them
// neither keeps: DuckDB's -0 may be PostgreSQL's 0, and the other way).
// DuckDB writes JSON compact,
// a key given twice twice, and each fraction as a double (the digits
// beyond the 17th rounded; integers exact at any size). PostgreSQL's
// jsonb keeps numbers exact but writes them without an exponent (1e2 is
// 100), sorts an object's keys (shorter first), keeps the last value of a
// key given twice, and puts a space after each ":" and ",".
// A text column given another JSON value (a number, an object) holds its
// JSON text: on PostgreSQL as the source wrote it (compacted), on DuckDB
// as its JSON writes it (a number as a double: 1.50 is 1.5, 1E2 100.0).
//
// Schema evolution: a property that is new in the catalog adds a column.
// An existing column keeps its type when the schema changes it; values are
// converted to the existing type, and those that do not convert are kept
// as NULL with a note, as above. Properties that disappear keep their
// column, NULL for new rows. A merge stream's primary key and cursor are
// the exception: a declared type their column cannot hold (a cursor turned
// from integer to date-time, a key from integer to string or number) is an
// ErrStrategy before the load writes anything, since a NULL key is never
// deduplicated and a NULL cursor orders below the older rows, which the
// merge would keep in place of the records read; a type the column holds
// (integer into a number column, a date into a date-time one, anything
// into text or JSON) loads. A primary key that gained a field with no
// column in a table holding rows is an ErrStrategy too: the column, added
// NULL in those rows, would keep each of them beside the new row of its
// key. Replace streams always get the current schema, since their table is
// rebuilt. So, after a source changed a
// property's type, read the stream again in full with replace
// (source.ForceFullRefresh with source.Strategy(cache.StrategyReplace)) to
// give its column the new type and the values noted NULL back; a full refresh
// under merge or append keeps the old type. The replaced table holds every
// record the read sent, as PyAirbyte's replace does: for a keyed stream whose
// full read sends a key twice (a source that replays changes), read it once
// more in full under merge (source.ForceFullRefresh alone), which keeps one
// row per key again. (A source.Source remembers the
// catalog it discovered until SetConfig or Discover: a long-running program
// calls Discover to see a changed schema.)
//
// # State and metadata
//
// The internal table _airbyte_state holds state messages keyed by the
// cache's table prefix, source name, destination name and stream (a
// [StateKey] names the last three; a Cache applies its own prefix): the
// source's state as loaded into the cache under an empty destination name,
// and each destination's own state (what it has confirmed) under its name,
// apart. A table prefix ([WithTablePrefix]) is a space of its own, as in
// PyAirbyte: one connector read with two configs (two accounts) under two
// prefixes of one cache keeps a state for each, in the prefix's key, the
// text before the stream name in its tables' names ("" without a prefix;
// "pfx_" for "pfx" and "pfx_"), and so is a destination's watermark. A
// load's state replaces the source's states of the other kind for the
// streams both cover (a LEGACY state covers every stream, a GLOBAL one the
// streams it holds parts of), so that a source that switches kinds
// (upgraded off LEGACY state, moved off CDC) is given what it sent last,
// and one that sends both in a read (a GLOBAL state for its CDC streams,
// STREAM states for the others, as a version of Airbyte's bulk CDK does)
// keeps both and is given both: [Cache.SourceState].
// _airbyte_streams records each stream table's source, stream and
// namespace, and the merge and staging bookkeeping that makes a killed
// load recoverable. A table keeps one state per stream name, the state of
// the namespace recorded for it: a load of another namespace's stream of
// that name would mix two namespaces' records in it, and be given the
// other's state (a connector that finds its state by name alone would
// skip the records below the other's cursor), so it is an
// [ErrNameCollision] before anything is written; read it under a table
// prefix of its own. A replace takes the table over instead (its
// namespace renamed, say): the other namespace's state for the stream is
// dropped in the transaction that readies the load's tables, before any
// state is read for the connector, and the table is recorded for the new namespace in the
// swap's (a replace not swapped in leaves the table to the other
// namespace, without its state: its next load reads from the start). A
// table recorded before the cache had format 3 has an unknown namespace
// (NULL), which its next load records, whatever it is; that load is not
// given the source's state for the stream when the state's stream
// descriptor names another namespace (one that names none is given). A
// table belongs to the source that loaded it first (a load killed or
// failed before it created the table leaves a claim that the next load of
// another source takes over, and a source's load forgets the tables
// recorded as its own under its prefix that no longer exist, and drops
// the staging tables its killed loads left there; a load of it under
// another prefix may be running): another source's load into
// it (two sources with a stream "users" in one cache) is a
// [ErrTableOwned] error that suggests a table prefix, unless
// LoadRequest.ShareTables says the table is shared on purpose (between
// sources: a stream of another namespace is refused with or without it).
// Two prefixes and streams of one source that make one table name ("pfx" and
// "a_users", "pfx_a" and "users": pfx_a_users) would mix two accounts'
// records under two states: the second load is an [ErrNameCollision]
// (unless LoadRequest.ShareTables), and takes over a claim only. Loads of
// one source into one cache under one table prefix run one at a time:
// another is an [ErrInUse] (on PostgreSQL across processes, through a
// session advisory lock: a load whose lock's session ended stops with an
// error that says the lock was lost, within 0.2 s, and none of its
// transactions commits once another load has taken the lock, as each
// checks first that the lock is still held, and a load that takes the lock
// waits for those that checked before the loss). Loads of
// different sources, or of one source under two
// prefixes, run at once; on PostgreSQL, a replace's swap waits
// for the readers of its table, and a new column for the open writes into
// it, by trying again until they are done (or the load's context ends),
// so that meanwhile the other loads change their own tables.
//
// _airbyte_cache_format holds the format of these tables: 3 since
// _airbyte_streams records the tables' namespaces; 2 since states are
// kept per table prefix; 1 before, in every cache earlier versions wrote,
// the first ones without the mark. Opening a cache of format 1 or 2
// upgrades it, once however many processes open it at once, in one
// transaction (a process killed in it leaves the cache as it was, and the
// next open upgrades), which adds the namespace column to
// _airbyte_streams (NULL, unknown, in the rows there) and, from format 1,
// alters _airbyte_state (on PostgreSQL both in place, so that
// the roles granted to read them still may, and views over them still stand:
// that first open needs the tables' owner, and a role that may only read
// is refused until then). From format 1, every prefix keeps the states it used, as each
// state, shared by all prefixes until then, is kept under every prefix
// under which its source has a table in _airbyte_streams (the prefix read
// back from the table's name; one that the backend cut within the prefix,
// only if the upgrading Cache's prefix gives it); the states of a source
// that has no table go to the prefix of the Cache that upgrades. The earlier
// versions that check the mark refuse a cache of a newer format than
// theirs, which they would misread, when they open it; those before the
// mark fail at their first commit of a state (the records it covers are
// not committed). A process of format 1 that has the cache open when
// another upgrades it (workers sharing a PostgreSQL cache) fails at its
// next commit of a state in the same way, and one of format 2 loads on
// without recording or checking namespaces: stop them before the first
// process of this version opens the cache, and upgrade them together.
// Opening a cache checks the tables: a newer format, a missing internal
// table or column, or a column the cache cannot fill is refused with an
// error that says what to do, before any load could read its streams from
// the start or write into another source's table.
//
// # PyAirbyte's caches
//
// PyAirbyte keeps two internal tables named like this package's in the
// schema of its cache (DuckDBCache's main, PostgresCache's airbyte_raw):
// _airbyte_streams (stream_name, source_name, table_name,
// catalog_metadata: each stream's JSON schema) and _airbyte_state
// (source_name, stream_name, table_name, state_json, last_updated: the
// last STREAM state message of each table, keyed by the table's name, so
// that two sources with a stream of one name keep one state), beside
// _airbyte_destination_state. Opening a schema that holds them is refused
// with an error that names PyAirbyte and what to do, before any statement
// that writes: using it would mean altering PyAirbyte's tables, after
// which PyAirbyte could not open its cache. Open this package's cache in
// another DuckDB file or PostgreSQL schema. PyAirbyte's stream tables are
// plain tables there for SQL (a DuckDB file attached READ_ONLY; a schema
// named): a column per property, number DECIMAL(38,9), objects and arrays
// JSON (json, not jsonb, on PostgreSQL), _airbyte_meta {} and
// _airbyte_raw_id a UUIDv7 (a ULID before July 2024), which orders
// against this package's ULIDs by the date it was made, not by arrival:
// one made since 14 August 2026 ("01a…") sorts after them ("01K…"), so
// copy PyAirbyte's rows without their raw ids. Its states are Airbyte STATE
// messages: each state_json, decoded into a protocol.State and given to
// [Cache.Load] with the connector's name and configured catalog, is what
// the source's next read is given, which continues where PyAirbyte
// stopped. PyAirbyte cannot open a cache of this package: its cache,
// when made, selects _airbyte_streams.catalog_metadata, which this
// package's table lacks, and fails; SQL reads the stream tables.
//
// # Reading
//
// [Cache.Dataset] gives a [Dataset] per stream: Records, Count, Columns,
// chainable Where("age > ?", 30) and After(rawID), which yields the rows
// after a watermark — what a destination has not yet confirmed — and
// RecordLines, the rows as RECORD messages. Records and RecordLines give
// the rows in arrival order, read in pages by ranges of raw ids, so that
// memory stays bounded whatever the table's size (DuckDB's driver holds a
// whole query result in memory); Records on PostgreSQL, whose driver
// streams, reads in one query. On PostgreSQL every stream table, and
// every staging table of a replace, has a BRIN index on _airbyte_raw_id
// (named after the table, with "-raw-id"), so that a page reads the
// blocks of its range rather than the whole table; an export of more
// than one page first summarises the blocks loads appended, and analyzes
// the raw id of a table of 1 MB or more that has no statistics of it
// (without them the planner scans the table), so that loads do not pay
// for an export that may never come. A table
// an earlier version made gets the index at its next load, which builds
// it in its DDL transaction (a read of the table); until then, and in a
// table the loading role does not own, a page scans the table (and an
// export by a role that does not own it reads the blocks appended since
// the owner's last export). Earlier
// versions read and write the indexed tables as before (a replace of
// theirs swaps in a table without it, indexed at the next load of this
// version), so the index did not change the cache's format. A stream the
// cache does not hold is a *protocol.StreamNotFoundError, which matches
// protocol.ErrStreamNotFound (goairbyte.ErrStreamNotFound) as every
// not-found error of the library does. DB, ExecSQL and Query give plain SQL access ("?"
// placeholders on every backend).
package cache
