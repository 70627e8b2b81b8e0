// Package filelock serializes processes on one machine around a shared
// file: two goab runs from cron, a service and a CI job in one home
// directory. The lock is the operating system's (flock on Unix, LockFileEx
// on Windows), held through an open file: the kernel releases it when the
// holder exits, even when killed with -9, so that no stale lock is ever
// left to clean up. The lock file itself stays (removing it would let a
// waiter lock a file no longer at that path); it is empty.
package filelock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// pollInterval is how often a waiting Lock tries again. The locks are held
// for seconds (an apply, a pip install), so a tenth of a second is
// unnoticeable and costs nothing.
const pollInterval = 100 * time.Millisecond

// waitNotice is how long a Lock waits before it says, once, what it waits
// for: the locks are held for seconds, and a process that waits that long
// without a word looks hung (a pip install can hold a venv for minutes).
// A second is beyond the hold of a quick apply or a check of a venv, so
// the line appears only when a real wait begins.
const waitNotice = time.Second

// errBusy is what tryLock returns when another holder has the lock.
var errBusy = errors.New("filelock: held by another")

// Lock takes the exclusive lock of path (created if missing), waiting while
// another process — or another Lock in this one — holds it, until ctx ends.
// A wait of more than a second is logged to logger (when not nil), once,
// saying what waits (what) and for which file: at Warn level, which a
// program such as goab shows by default, since a process that waits
// without a word looks hung. The returned
// function releases it.
func Lock(ctx context.Context, path string, logger *slog.Logger, what string) (unlock func(), err error) {
	return lock(ctx, path, true, logger, what)
}

// RLock takes a shared lock of path: any number of shared holders at once,
// none while an exclusive one holds it. It waits and logs as Lock does.
func RLock(ctx context.Context, path string, logger *slog.Logger, what string) (unlock func(), err error) {
	return lock(ctx, path, false, logger, what)
}

func lock(ctx context.Context, path string, exclusive bool, logger *slog.Logger, what string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock file %s: %w", path, err)
	}
	var t *time.Ticker
	var since time.Time
	for {
		err := tryLock(f, exclusive)
		if err == nil {
			break
		}
		if !errors.Is(err, errBusy) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if t == nil {
			t = time.NewTicker(pollInterval)
			defer t.Stop()
			since = time.Now()
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the lock %s, which another process holds: %w", path, ctx.Err())
		case <-t.C:
		}
		if logger != nil && !since.IsZero() && time.Since(since) >= waitNotice {
			logger.Warn("waiting for a lock that another process or run holds", "for", what, "lock", path)
			since = time.Time{} // once
		}
	}
	// Closing the file releases the lock.
	return func() { f.Close() }, nil
}

// TryLock takes the exclusive lock of the file at path, which must exist,
// without waiting: ok is false when another holder has it. The returned
// function releases it.
func TryLock(path string) (unlock func(), ok bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, false, err
	}
	switch err := tryLock(f, true); {
	case err == nil:
		return func() { f.Close() }, true, nil
	case errors.Is(err, errBusy):
		f.Close()
		return nil, false, nil
	default:
		f.Close()
		return nil, false, fmt.Errorf("locking %s: %w", path, err)
	}
}
