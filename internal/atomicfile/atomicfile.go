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
)

// Write replaces path with data, with permissions perm less the umask (as
// os.WriteFile). It writes a temporary file beside path, flushes it to
// disk, renames it over path and flushes the directory, so that the rename
// itself survives a power loss.
func Write(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := createTemp(dir, "."+filepath.Base(path)+".", perm)
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

// createTemp creates a new file prefix<random>.tmp in dir with perm, so
// that the umask applies, which os.CreateTemp (0600) and a later chmod
// (perm exactly) do not do.
func createTemp(dir, prefix string, perm os.FileMode) (*os.File, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		return f, err
	}
}
