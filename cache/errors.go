package cache

import (
	"errors"
	"fmt"

	"github.com/x/goairbyte/cache/internal/backend"
)

// The sentinels of the cache's errors, for errors.Is: each error type
// matches its own, whichever backend made it. The root package goairbyte
// re-exports them.
var (
	// ErrStrategy: a write strategy that cannot apply to a stream
	// (*StrategyError).
	ErrStrategy = errors.New("write strategy cannot apply")
	// ErrNameCollision: two names that become the same table or column, or
	// a field named like one of the cache's own columns (*CollisionError).
	ErrNameCollision = errors.New("names collide")
	// ErrInvalidName: a name that cannot become a SQL identifier
	// (*NameError).
	ErrInvalidName = errors.New("name cannot be a SQL identifier")
	// ErrInUse: the cache, or a source's part of it, is in use by another
	// process or load (*InUseError).
	ErrInUse = backend.ErrInUse
	// ErrOutOfMemory: the database ran out of the memory it may use
	// (*OutOfMemoryError).
	ErrOutOfMemory = backend.ErrOutOfMemory
	// ErrDiskFull: a disk the cache writes to is full (*DiskFullError).
	ErrDiskFull = backend.ErrDiskFull
	// ErrTableOwned: a load into a table that another source loaded
	// (*TableOwnerError).
	ErrTableOwned = errors.New("table belongs to another source")
)

// InUseError reports a cache file another process has open, or a load
// that did not start because another load of the same source into the
// same cache is running, in this process or another.
type InUseError = backend.InUseError

// OutOfMemoryError reports a statement that needed more memory than the
// cache's database may use, and what to do.
type OutOfMemoryError = backend.OutOfMemoryError

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
		"or set LoadRequest.ShareTables if the table is shared on purpose", e.Table, e.Owner, e.Source, e.Stream)
}

// Is matches ErrTableOwned.
func (e *TableOwnerError) Is(target error) bool { return target == ErrTableOwned }

// DiskFullError reports a write that failed because a disk is full.
type DiskFullError = backend.DiskFullError

// StrategyError reports a write strategy that cannot apply to a stream.
type StrategyError struct {
	// Stream is the stream's name.
	Stream string
	// Strategy is the strategy asked for (or chosen by auto).
	Strategy Strategy
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
	// Kind is "stream", "field", or "reserved": a field that normalises to
	// one of the cache's own columns (_airbyte_raw_id,
	// _airbyte_extracted_at, _airbyte_meta), whose name is First.
	Kind string
	// First and Second are the two names as the connector spells them.
	First, Second string
	// Identifier is the SQL identifier both normalise to.
	Identifier string
}

// Error names both colliding names and their identifier.
func (e *CollisionError) Error() string {
	if e.Kind == "stream" && e.First == e.Second {
		// Only namespaces tell such streams apart, and neither stream
		// selection nor the cache's tables look at namespaces.
		return fmt.Sprintf("cache: the catalog has two streams named %q (in different namespaces); a cache keeps one table per stream name and cannot hold both", e.First)
	}
	if e.Kind == "reserved" {
		what := fmt.Sprintf("field name %q is", e.Second)
		if e.Second != e.Identifier {
			what = fmt.Sprintf("field %q normalises to %q, which is", e.Second, e.Identifier)
		}
		return "cache: the " + what + " reserved for the cache's own column; exclude the field or rename it in the connector"
	}
	return fmt.Sprintf("cache: %s names %q and %q both normalise to the identifier %q; deselect one of them or use a table prefix/another cache", e.Kind, e.First, e.Second, e.Identifier)
}

// Is matches ErrNameCollision.
func (e *CollisionError) Is(target error) bool { return target == ErrNameCollision }
