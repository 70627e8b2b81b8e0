package backend

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// The sentinels of what a backend reports about its database rather than
// about the data: a backend's error for one of these matches it with
// errors.Is. Package cache, and the root package goairbyte, re-export
// them.
var (
	// ErrInUse: the cache, or a source's part of it, is in use by another
	// process or load.
	ErrInUse = errors.New("cache in use")
	// ErrOutOfMemory: the database ran out of the memory it may use.
	ErrOutOfMemory = errors.New("cache out of memory")
	// ErrDiskFull: the disk that holds the database, or the load's
	// temporary files, is full.
	ErrDiskFull = errors.New("disk full")
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
	// Source is the source that another load is loading; empty when the
	// whole file is in use.
	Source string
	// Err is the underlying error; it says who holds the lock when the
	// backend can tell.
	Err error
}

// Error says what is in use and what to do.
func (e *InUseError) Error() string {
	if e.Source != "" {
		return fmt.Sprintf("cache: source %q is being loaded into this cache by another load (%v); wait for that load to end, then load again: it resumes from the state the other commits",
			e.Source, e.Err)
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
	// backend has one of its own (DuckDB); empty otherwise.
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
		at = " at its limit of " + e.Limit
	}
	return fmt.Sprintf("%s ran out of memory%s (%v); %s, and load again: what was committed stays", e.Where, at, e.Err, e.Remedy)
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
	// Err is the error of the write.
	Err error
}

// Error says which disk is full and what to do.
func (e *DiskFullError) Error() string {
	return fmt.Sprintf("the disk of %s is full (%v); free space there, or move the cache (or TMPDIR, for temporary files) to a larger disk, and load again: what was committed stays",
		e.Where, e.Err)
}

// Is matches ErrDiskFull.
func (e *DiskFullError) Is(target error) bool { return target == ErrDiskFull }

// Unwrap returns the error of the write.
func (e *DiskFullError) Unwrap() error { return e.Err }

// IsNoSpace reports whether err says that a device has no space left:
// ENOSPC from the operating system, or its message in a database's own
// error (DuckDB: "Could not write file …: No space left on device").
func IsNoSpace(err error) bool {
	return err != nil && (errors.Is(err, syscall.ENOSPC) || strings.Contains(strings.ToLower(err.Error()), syscall.ENOSPC.Error()))
}
