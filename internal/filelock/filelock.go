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
	"os"
	"time"
)

// pollInterval is how often a waiting Lock tries again. The locks are held
// for seconds (an apply, a pip install), so a tenth of a second is
// unnoticeable and costs nothing.
const pollInterval = 100 * time.Millisecond

// errBusy is what tryLock returns when another holder has the lock.
var errBusy = errors.New("filelock: held by another")

// Lock takes the exclusive lock of path (created if missing), waiting while
// another process — or another Lock in this one — holds it, until ctx ends.
// The returned function releases it.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	return lock(ctx, path, true)
}

// RLock takes a shared lock of path: any number of shared holders at once,
// none while an exclusive one holds it.
func RLock(ctx context.Context, path string) (unlock func(), err error) {
	return lock(ctx, path, false)
}

func lock(ctx context.Context, path string, exclusive bool) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock file %s: %w", path, err)
	}
	var t *time.Ticker
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
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the lock %s, which another process holds: %w", path, ctx.Err())
		case <-t.C:
		}
	}
	// Closing the file releases the lock.
	return func() { f.Close() }, nil
}
