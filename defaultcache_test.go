package goairbyte_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte"
)

// TestDefaultCacheWhereItCannotBe: the default cache lives under the
// working directory; when that directory was deleted, or the cache's
// directory cannot be made there, the error says where the cache was to
// be and how to put it elsewhere. A child process, as it changes its
// working directory.
func TestDefaultCacheWhereItCannotBe(t *testing.T) {
	if os.Getenv("GOAIRBYTE_DEFAULTCACHE_CHILD") == "1" {
		defaultCacheWhereItCannotBe(t)
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDefaultCacheWhereItCannotBe$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "GOAIRBYTE_DEFAULTCACHE_CHILD=1", "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

func defaultCacheWhereItCannotBe(t *testing.T) {
	ctx := context.Background()
	want := func(err error, what string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "SetCacheDir") || !strings.Contains(err.Error(), "UseCache") || !strings.Contains(err.Error(), what) {
			t.Fatalf("want an error naming %s, SetCacheDir and UseCache, got %v", what, err)
		}
		t.Log(err)
	}

	// ".cache" is a file: the cache's directory cannot be made.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".cache"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	_, err := goairbyte.NewEnvironment().DefaultCache(ctx)
	want(err, filepath.Join(dir, ".cache"))

	// The working directory is gone.
	gone := filepath.Join(dir, "gone")
	if err := os.Mkdir(gone, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(gone); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	_, err = goairbyte.NewEnvironment().DefaultCache(ctx)
	want(err, "working directory")
}
