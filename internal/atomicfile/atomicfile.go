// Package atomicfile replaces a small file so that a reader, or the program
// after a crash or a power loss, finds either the old content or the new,
// never a mix or an empty file: the cursor of a watcher, the state of
// connections as code, the disk copy of the registry.
package atomicfile

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/x/goairbyte/internal/owner"
)

// Write replaces path with data, with permissions perm less the umask (as
// os.WriteFile). It writes a temporary file beside path, flushes it to
// disk, renames it over path and flushes the directory, so that the rename
// itself survives a power loss. The first Write of a path in a process
// removes the temporary files of writers killed before their rename (the
// disk copy of the registry is megabytes).
func Write(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if _, done := swept.LoadOrStore(path, true); !done {
		sweep(path)
	}
	f, err := createTemp(path, perm)
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a failure; gone already after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// tempPrefix begins the names of path's temporary files, before the
// writer's pid and a dash (see internal/owner).
func tempPrefix(path string) string { return "." + filepath.Base(path) + "." }

// createTemp creates a new temporary file for path, beside it, with perm,
// so that the umask applies, which os.CreateTemp (0600) and a later chmod
// (perm exactly) do not do. Its name carries this process's pid, for sweep.
func createTemp(path string, perm os.FileMode) (*os.File, error) {
	prefix := filepath.Join(filepath.Dir(path), owner.Prefix(tempPrefix(path)))
	for try := 0; ; try++ {
		f, err := os.OpenFile(prefix+strconv.FormatUint(rand.Uint64(), 36)+".tmp", os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		return f, err
	}
}

// swept records the paths whose leftovers this process removed already.
var swept sync.Map

// sweep removes the temporary files of path whose writers no longer run.
func sweep(path string) {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, ok := owner.PID(e.Name(), tempPrefix(path))
		if ok && strings.HasSuffix(e.Name(), ".tmp") && e.Type().IsRegular() && pid != os.Getpid() && !owner.Alive(pid) {
			os.Remove(filepath.Join(filepath.Dir(path), e.Name()))
		}
	}
}
