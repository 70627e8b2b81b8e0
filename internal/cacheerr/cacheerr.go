// Package cacheerr holds the error types of package cache and of its
// backends, and the sentinels they match. Package cache re-exports the
// sentinels (and the root package goairbyte re-exports those): users test
// for them with errors.Is and read the message; the types, whose fields
// only repeat what the message says, are internal so that the cache, its
// backends, the source and destination that build the same errors, and
// their tests share them.
package cacheerr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The sentinels: each error type matches its own with errors.Is, whichever
// package made it.
var (
	// ErrStrategy: a write strategy that cannot apply to a stream
	// (*StrategyError).
	ErrStrategy = errors.New("write strategy cannot apply")
	// ErrNameCollision: two names that become the same table or column
	// (two namespaces' streams of one name, in one load or two), or a
	// field named like one of the cache's own columns (*CollisionError).
	ErrNameCollision = errors.New("names collide")
	// ErrInvalidName: a name that cannot become a SQL identifier
	// (*NameError).
	ErrInvalidName = errors.New("name cannot be a SQL identifier")
	// ErrInUse: the cache, or a source's part of it, is in use by another
	// process or load (*InUseError).
	ErrInUse = errors.New("cache in use")
	// ErrOutOfMemory: the database ran out of the memory it may use
	// (*OutOfMemoryError).
	ErrOutOfMemory = errors.New("cache out of memory")
	// ErrDiskFull: the disk that holds the database, or the load's
	// temporary files, is full (*DiskFullError).
	ErrDiskFull = errors.New("disk full")
	// ErrTableOwned: a load into a table that another source loaded
	// (*TableOwnerError).
	ErrTableOwned = errors.New("table belongs to another source")
)

// InUseError reports a cache, or a source's part of it, that another
// process or load is using: a database file another process has open, or
// a source that another load is loading into the cache. Two loads of one
// source at once would write each record twice and race for the same
// states.
type InUseError struct {
	// Path is the database file another process has open; empty when the
	// cache is open and a source's part of it is in use.
	Path string
	// Source is the source that another load is loading, or whose records
	// another Write is writing; empty when the whole file is in use.
	Source string
	// Destination is the destination (its state key) that another Write
	// of Source is writing to; empty for a load.
	Destination string
	// Prefix is the table prefix under which Source is in use (each
	// prefix keeps its own states); empty for none.
	Prefix string
	// Err is the underlying error; it says who holds the lock when the
	// backend can tell.
	Err error
}

// Error says what is in use and what to do.
func (e *InUseError) Error() string {
	under := ""
	if e.Prefix != "" {
		under = fmt.Sprintf(" under table prefix %q", e.Prefix)
	}
	if e.Destination != "" {
		return fmt.Sprintf("cache: source %q is being written to destination %q by another Write, whose state this cache keeps%s (%v); "+
			"wait for that Write to end, then write again: it sends what the other did not get confirmed",
			e.Source, e.Destination, under, e.Err)
	}
	if e.Source != "" {
		return fmt.Sprintf("cache: source %q is being loaded into this cache%s by another load (%v); wait for that load to end, then load again: it resumes from the state the other commits",
			e.Source, under, e.Err)
	}
	return fmt.Sprintf("cache: the file %s is in use by another process (%v); close that program or use another cache", e.Path, e.Err)
}

// Is matches ErrInUse.
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// Unwrap returns the underlying error.
func (e *InUseError) Unwrap() error { return e.Err }

// OutOfMemoryError reports a statement that needed more memory than the
// database may use: a DuckDB cache at its memory limit, or a PostgreSQL
// server that could not allocate memory (SQLSTATE 53200).
type OutOfMemoryError struct {
	// Where is what ran out, such as "the DuckDB cache".
	Where string
	// Limit is the memory limit the cache was opened with, when the
	// backend has one of its own (DuckDB); empty otherwise. A statement
	// on a large record or a wide table may have run with it raised.
	Limit string
	// Remedy says how to give it more memory or need less.
	Remedy string
	// Err is the database's own error.
	Err error
}

// Error says what ran out and what to do.
func (e *OutOfMemoryError) Error() string {
	at := ""
	if e.Limit != "" {
		at = " (its memory limit is " + e.Limit + ", raised for large records and wide tables)"
	}
	// "Run again", not "load again": reads run out of memory too.
	return fmt.Sprintf("%s ran out of memory%s (%v); %s, and run it again: what a load committed stays", e.Where, at, e.Err, e.Remedy)
}

// Is matches ErrOutOfMemory.
func (e *OutOfMemoryError) Is(target error) bool { return target == ErrOutOfMemory }

// Unwrap returns the database's own error.
func (e *OutOfMemoryError) Unwrap() error { return e.Err }

// DiskFullError reports a write that failed because a disk is full.
type DiskFullError struct {
	// Where is what was being written: the database, or the load's spool
	// files (with their directory).
	Where string
	// Remedy says where to free space or what to move, for Where.
	Remedy string
	// Err is the error of the write.
	Err error
}

// Error says which disk is full and what to do.
func (e *DiskFullError) Error() string {
	return fmt.Sprintf("the disk of %s is full (%v); %s, and load again: what was committed stays", e.Where, e.Err, e.Remedy)
}

// Is matches ErrDiskFull.
func (e *DiskFullError) Is(target error) bool { return target == ErrDiskFull }

// Unwrap returns the error of the write.
func (e *DiskFullError) Unwrap() error { return e.Err }

// TableOwnerError reports a load of one source into a table that holds
// another source's records: two sources with a stream of the same name,
// in one cache without table prefixes. The cache refuses to mix them
// (a merge would mix their primary keys).
type TableOwnerError struct {
	// Table is the table's name.
	Table string
	// Stream is the stream of the load that would have written into it.
	Stream string
	// Owner is the source whose records the table holds.
	Owner string
	// Source is the source of the refused load.
	Source string
}

// Error names both sources and the ways out.
func (e *TableOwnerError) Error() string {
	return fmt.Sprintf("cache: table %q holds the records of source %q; source %q cannot load its stream %q into it. "+
		"Give one of the sources a table prefix (cache.WithTablePrefix, or table_prefix= in the cache URL) or a cache of its own, "+
		"or, if the table is shared on purpose, load with Cache.Load and LoadRequest.ShareTables (source.Read does not share tables)", e.Table, e.Owner, e.Source, e.Stream)
}

// Is matches ErrTableOwned.
func (e *TableOwnerError) Is(target error) bool { return target == ErrTableOwned }

// StrategyError reports a write strategy that cannot apply to a stream,
// or a primary key or cursor naming a field its schema lacks.
type StrategyError struct {
	// Stream is the stream's name.
	Stream string
	// Strategy is the strategy asked for (or chosen by auto), a
	// cache.Strategy.
	Strategy string
	// Reason says why it cannot apply and what to do instead.
	Reason string
}

// Error says which strategy cannot apply to which stream, and why.
func (e *StrategyError) Error() string {
	return fmt.Sprintf("cache: stream %q cannot be written with strategy %q: %s", e.Stream, e.Strategy, e.Reason)
}

// Is matches ErrStrategy.
func (e *StrategyError) Is(target error) bool { return target == ErrStrategy }

// NameError reports a stream or field name that cannot become a SQL
// identifier.
type NameError struct {
	// Name is the name as the connector spells it.
	Name string
	// Reason says why it cannot be used.
	Reason string
}

// Error says which name cannot be used and why.
func (e *NameError) Error() string {
	return fmt.Sprintf("cache: name %q cannot be used as a SQL identifier: %s; rename it in the connector or exclude it", e.Name, e.Reason)
}

// Is matches ErrInvalidName.
func (e *NameError) Is(target error) bool { return target == ErrInvalidName }

// CollisionError reports two names that normalise to the same identifier,
// or a field whose name is one the cache reserves for its own columns. The
// cache refuses to merge them silently.
type CollisionError struct {
	// Kind is "stream", "field", "reserved": a field that normalises to
	// one of the cache's own columns (_airbyte_raw_id,
	// _airbyte_extracted_at, _airbyte_meta), whose name is First; or
	// "table": a stream (Second) whose table, with the cache's table
	// prefix, has the name (Identifier) of the table another stream of
	// the source (First) has under another prefix; or "namespace": a
	// stream (Second, in the second namespace) whose table (Identifier)
	// an earlier load recorded for the stream First of the first
	// namespace.
	Kind string
	// First and Second are the two names as the connector spells them.
	First, Second string
	// Identifier is the SQL identifier both normalise to.
	Identifier string
	// Namespaces are the two streams' namespaces, of Kind "stream" and
	// "namespace".
	Namespaces [2]string
}

// Error names both colliding names and their identifier.
func (e *CollisionError) Error() string {
	if e.Kind == "stream" && e.First == e.Second {
		// Only namespaces tell such streams apart, and the cache's tables
		// do not look at namespaces.
		return fmt.Sprintf("cache: the catalog has two streams named %q, in namespaces %s and %s; a cache keeps one table per stream name, "+
			"as PyAirbyte's caches do, and cannot hold both: read one of them at a time (source.Streams with %s), each into a cache "+
			"or table prefix of its own, or write the source into a destination with destination.NoCache, which keeps namespaces",
			e.First, namespaceName(e.Namespaces[0]), namespaceName(e.Namespaces[1]),
			qualifiedChoice(e.Namespaces, e.First))
	}
	if e.Kind == "reserved" {
		what := fmt.Sprintf("field name %q is", e.Second)
		if e.Second != e.Identifier {
			what = fmt.Sprintf("field %q normalises to %q, which is", e.Second, e.Identifier)
		}
		return "cache: the " + what + " reserved for the cache's own column; exclude the field or rename it in the connector"
	}
	if e.Kind == "namespace" {
		return fmt.Sprintf("cache: stream %q of namespace %s would load into table %q, which holds the records of stream %q of namespace %s, loaded earlier; "+
			"a cache keeps one table, and one state, per stream name and would mix the two: read %s under a table prefix of its own "+
			"(cache.WithTablePrefix, or table_prefix= in the cache URL) or into a cache of its own, or, to take the table over "+
			"(its namespace was renamed, say), read it once with the replace strategy (source.ForceFullRefresh with source.Strategy(cache.StrategyReplace)), "+
			"which swaps in its records for the other namespace's and drops that namespace's state",
			e.Second, namespaceName(e.Namespaces[1]), e.Identifier, e.First, namespaceName(e.Namespaces[0]), qualified(e.Namespaces[1], e.Second))
	}
	if e.Kind == "table" {
		return fmt.Sprintf("cache: stream %q would load into table %q, which holds the source's stream %q, loaded under another table prefix "+
			"(two prefixes and stream names that make one table name: \"pfx\" and \"a_users\", \"pfx_a\" and \"users\"); "+
			"give one of the two loads another table prefix, or a cache of its own", e.Second, e.Identifier, e.First)
	}
	return fmt.Sprintf("cache: %s names %q and %q both normalise to the identifier %q; deselect one of them or use a table prefix/another cache", e.Kind, e.First, e.Second, e.Identifier)
}

// namespaceName quotes a stream's namespace, or says it has none.
func namespaceName(ns string) string {
	if ns == "" {
		return "(none)"
	}
	return strconv.Quote(ns)
}

// qualifiedChoice names the two streams called name in namespaces as a
// read selects them: namespace.name, or name for the one without a
// namespace.
func qualifiedChoice(namespaces [2]string, name string) string {
	return qualified(namespaces[0], name) + " or " + qualified(namespaces[1], name)
}

// qualified names the stream called name in namespace ns as a read
// selects it, quoted: namespace.name, or name without a namespace.
func qualified(ns, name string) string {
	if ns == "" {
		return strconv.Quote(name)
	}
	return strconv.Quote(ns + "." + name)
}

// Is matches ErrNameCollision.
func (e *CollisionError) Is(target error) bool { return target == ErrNameCollision }

// ArgumentError is a cache that cannot be opened as it was asked for: a
// URL, a connection string or an option that is not valid, found before
// anything connects. Its message is Err's; goab tells it as a usage error.
type ArgumentError struct {
	Err error
}

func (e *ArgumentError) Error() string { return e.Err.Error() }

// Unwrap returns the error the argument gave.
func (e *ArgumentError) Unwrap() error { return e.Err }

// MissingKeyField returns the *StrategyError of a stream, to be written
// with strategy, whose primary key or cursor begins with a top-level field
// that its JSON schema lacks (has reports whether it has one), nil if
// none: the cache, which makes the stream's table, and a destination
// written without the cache, which would deduplicate or order on a field
// no record has, refuse it alike.
func MissingKeyField(stream, strategy string, pk [][]string, cursor []string, has func(field string) bool) error {
	for _, path := range pk {
		if len(path) > 0 && !has(path[0]) {
			return &StrategyError{Stream: stream, Strategy: strategy, Reason: fmt.Sprintf("its primary key field %q is not a property of its JSON schema; "+
				"key it by fields the stream has (Source.SetPrimaryKey of package source, or the configured catalog's primary_key)", path[0])}
		}
	}
	if len(cursor) > 0 && !has(cursor[0]) {
		return &StrategyError{Stream: stream, Strategy: strategy, Reason: fmt.Sprintf("its cursor field %q is not a property of its JSON schema; "+
			"give it a field the stream has (Source.SetCursorField of package source, or the configured catalog's cursor_field)", cursor[0])}
	}
	return nil
}

// PyAirbyteError reports a schema that holds PyAirbyte's cache: its
// internal tables have the names of the cache's own (_airbyte_streams,
// _airbyte_state) and other columns, so the cache cannot use the schema
// without altering them, and changes nothing. Tables names the internal
// tables found with PyAirbyte's columns, qualified.
type PyAirbyteError struct {
	Schema string
	Tables []string
}

func (e *PyAirbyteError) Error() string {
	have := "has"
	if len(e.Tables) > 1 {
		have = "have"
	}
	return fmt.Sprintf("cache: schema %q holds a PyAirbyte cache: %s %s PyAirbyte's columns, and goairbyte keeps its own internal tables under those names, "+
		"so it would have to alter PyAirbyte's to use this cache; it changed nothing. Open goairbyte's cache in another DuckDB file or PostgreSQL schema: "+
		"PyAirbyte's stream tables stay readable from there with SQL (on DuckDB, ATTACH this file READ_ONLY), and a Load of the STATE messages "+
		"in PyAirbyte's _airbyte_state.state_json, under its source name, makes the source's next read continue from PyAirbyte's position",
		e.Schema, strings.Join(e.Tables, " and "), have)
}
