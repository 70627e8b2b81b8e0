package cache

import "github.com/x/goairbyte/internal/cacheerr"

// The sentinels of the cache's errors, for errors.Is: each error the cache
// returns for one of these concepts matches it, whichever backend made it,
// and its message says what happened and what to do. The root package
// goairbyte re-exports them.
var (
	// ErrStrategy: a write strategy that cannot apply to a stream, or a
	// primary key or cursor that names a field the stream's schema lacks.
	ErrStrategy = cacheerr.ErrStrategy
	// ErrNameCollision: two names that become the same table or column
	// (a stream loaded into the table of a stream of its name in another
	// namespace among them), or a field named like one of the cache's own
	// columns.
	ErrNameCollision = cacheerr.ErrNameCollision
	// ErrInvalidName: a name that cannot become a SQL identifier.
	ErrInvalidName = cacheerr.ErrInvalidName
	// ErrInUse: the cache, or a source's part of it (under its table
	// prefix), is in use by another process or load, or by another
	// destination Write of the same source into the same destination whose
	// state the cache keeps. The error wraps the database's own, which
	// says who holds the lock when the backend can tell.
	ErrInUse = cacheerr.ErrInUse
	// ErrOutOfMemory: the database ran out of the memory it may use. The
	// error wraps the database's own.
	ErrOutOfMemory = cacheerr.ErrOutOfMemory
	// ErrDiskFull: a disk the cache writes to is full. The error wraps that
	// of the write (errors.Is(err, syscall.ENOSPC) when the operating
	// system said so).
	ErrDiskFull = cacheerr.ErrDiskFull
	// ErrTableOwned: a load into a table that another source loaded.
	ErrTableOwned = cacheerr.ErrTableOwned
)
