package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// SmallDisk mounts a tmpfs of size (such as "8m") on a fresh directory,
// unmounted when t ends, and returns the directory: a disk that a test
// can fill. Mounting needs root: without it the test is skipped, or fails
// under GOAIRBYTE_REQUIRE_DOCKER=1, as CI runs as root.
func SmallDisk(t testing.TB, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		unavailable(t, RequireDockerEnv, "testenv: mounting a small tmpfs needs root; run the test as root (CI does)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		unavailable(t, RequireDockerEnv, "testenv: mounting a tmpfs of %s: %v: %s", size, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("unmounting %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// FillDisk writes a file into dir that leaves about leave bytes free on
// its disk, and returns its path: removing it frees the space again.
func FillDisk(t testing.TB, dir string, leave int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	if free <= leave {
		t.Fatalf("testenv: %s has %d bytes free, not more than %d", dir, free, leave)
	}
	path := filepath.Join(dir, "filler")
	if err := os.WriteFile(path, make([]byte, free-leave), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
