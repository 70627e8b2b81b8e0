// Package owner names temporary files and directories after the process
// that owns them, so that the next process can remove what a process
// killed with -9 left behind: a name is a prefix, the owner's pid and a
// dash ("goairbyte-1234-…"), and Sweep removes those of owners that no
// longer run.
//
// A pid tells a dead owner only in the owner's pid namespace: in a
// container every goab is PID 1, and so was the one killed before it on
// the same volume (OOM, docker kill, a node drained), and another
// replica's pids mean nothing here. So a directory made with MkdirTemp
// holds a lock file its owner keeps locked for as long as it lives; the
// kernel releases the lock when the owner exits, killed too, in whatever
// namespace, and Sweep removes a directory whose lock it can take. Only a
// directory without one (an earlier release's) is judged by its pid.
package owner

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/x/goairbyte/internal/airbytedirs"
	"github.com/x/goairbyte/internal/filelock"
)

// lockName is the lock file in a directory made with MkdirTemp.
const lockName = ".owner"

// MkdirTemp makes a directory with airbytedirs.MkdirTemp(pattern), a
// pattern that begins with Prefix, and holds its lock file until release
// is called, once the directory is removed (or the process exits). The
// directory is made under a hidden name and renamed once locked, so that
// no sweep sees it without its lock. A file system that cannot lock
// leaves the directory without one, and so does Windows, which removes no
// file held open.
func MkdirTemp(pattern string) (dir string, release func(), err error) {
	if runtime.GOOS == "windows" {
		dir, err = airbytedirs.MkdirTemp(pattern)
		return dir, func() {}, err
	}
	staged, err := airbytedirs.MkdirTemp("." + pattern)
	if err != nil {
		return "", nil, err
	}
	release = func() {}
	path := filepath.Join(staged, lockName)
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
		unlock, ok, err := filelock.TryLock(path)
		if err == nil && ok {
			release = unlock
		} else {
			_ = os.Remove(path) // judged by its pid, as before
		}
	}
	dir = filepath.Join(filepath.Dir(staged), strings.TrimPrefix(filepath.Base(staged), "."))
	if err := os.Rename(staged, dir); err != nil {
		release()
		os.RemoveAll(staged)
		return "", nil, err
	}
	return dir, release, nil
}

// RemoveEmpty removes dir, made with MkdirTemp, when it holds nothing but
// its lock file, and reports whether it did; the caller then releases the
// lock.
func RemoveEmpty(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return os.IsNotExist(err)
	}
	for _, e := range entries {
		if e.Name() != lockName {
			return false
		}
	}
	return os.RemoveAll(dir) == nil
}

// Prefix is the start of a temporary name owned by this process: prefix,
// then this process's pid and a dash.
func Prefix(prefix string) string { return prefix + strconv.Itoa(os.Getpid()) + "-" }

// PID returns the owner's pid in a temporary name made with Prefix(prefix).
func PID(name, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(digits)
	return pid, err == nil && pid > 0
}

// Alive reports whether a process with this pid runs on this host; a
// zombie (dead, not yet reaped by its parent) does not.
func Alive(pid int) bool { return pid > 0 && alive(pid) }

// Sweep calls remove with the path of every directory in the temporary
// directories (airbytedirs.TempDirs: $AIRBYTE_TEMP_DIR and the system's)
// whose name was made with Prefix(prefix) by a process that no longer
// runs, and returns how many there were: one whose lock file nobody
// holds, or, without a lock file, named with the pid of no process here.
func Sweep(prefix string, remove func(path string)) int {
	n := 0
	for _, dir := range airbytedirs.TempDirs() {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			pid, ok := PID(e.Name(), prefix)
			if !ok || !e.IsDir() {
				continue
			}
			path := filepath.Join(dir, e.Name())
			unlock, free, err := filelock.TryLock(filepath.Join(path, lockName))
			switch {
			case err == nil && !free:
				continue // its owner lives, here or in another pid namespace
			case err == nil:
				remove(path)
				unlock()
				n++
				continue
			}
			if pid != os.Getpid() && !Alive(pid) {
				remove(path)
				n++
			}
		}
	}
	return n
}
