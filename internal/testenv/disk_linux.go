package testenv

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// SmallDisk mounts a tmpfs of size (such as "4m"), open to every user (a
// PostgreSQL server runs as its own), on a fresh directory, unmounted
// when t ends, and returns the directory: a disk that a test can fill.
// Mounting needs root: without it t is skipped, or fails under
// GOAIRBYTE_REQUIRE_DOCKER=1, as CI runs as root.
func SmallDisk(t testing.TB, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0777"); err != nil {
		unavailable(t, RequireDockerEnv, "testenv: cannot mount a small tmpfs to fill (%v); mounting needs root, as CI runs", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// LeaveFree writes a file into dir that leaves about n bytes free on its
// disk, and returns its path: removing it frees the space again.
func LeaveFree(t testing.TB, dir string, n int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	if free <= n {
		t.Fatalf("testenv: %s has %d bytes free, not more than %d", dir, free, n)
	}
	path := filepath.Join(dir, "filler")
	if err := os.WriteFile(path, make([]byte, free-n), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
