//go:build unix

package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The file's permissions are perm less the umask, as os.WriteFile makes
// them: a user whose umask is 077 gets a file only they can read.
func TestWriteHonoursUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "cursor.json")
	if err := Write(path, []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v (%v) under umask 077, want 0600", fi.Mode().Perm(), err)
	}
}
