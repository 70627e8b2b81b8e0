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
