package airbytedirs

import (
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// unset clears the four variables for the test (not parallel: it sets
// them).
func unset(t *testing.T) {
	for _, v := range []string{projectDirVar, cacheRootVar, installDirVar, tempDirVar} {
		t.Setenv(v, "")
	}
}

// TestDirs: each directory is its variable, else the project directory's,
// else the default; a value is ~-expanded and made absolute, and an empty
// one is unset.
func TestDirs(t *testing.T) {
	unset(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %q, want %q", what, got, want)
		}
	}

	check("no variable: cache root", CacheRoot(), ".cache")
	check("no variable: install root", InstallRoot(), "")
	check("no variable: temp dir", TempDir(), os.TempDir())

	t.Setenv(projectDirVar, "~/proj")
	check("project: cache root", CacheRoot(), filepath.Join(home, "proj", ".cache"))
	check("project: install root", InstallRoot(), filepath.Join(home, "proj"))

	t.Setenv(cacheRootVar, "rel/cache")
	t.Setenv(installDirVar, "~")
	t.Setenv(tempDirVar, "~/tmp/")
	check("cache root", CacheRoot(), filepath.Join(wd, "rel", "cache"))
	check("install root", InstallRoot(), home)
	check("temp dir", TempDir(), filepath.Join(home, "tmp"))

	if u, err := user.Current(); err == nil && u.HomeDir != "" {
		t.Setenv(cacheRootVar, "~"+u.Username+"/c")
		check("~user", CacheRoot(), filepath.Join(u.HomeDir, "c"))
	}
	t.Setenv(cacheRootVar, "~no-such-user-here/c")
	check("~ of no user", CacheRoot(), filepath.Join(wd, "~no-such-user-here", "c"))

	t.Setenv(cacheRootVar, "")
	check("empty cache root", CacheRoot(), filepath.Join(home, "proj", ".cache"))
}

// TestTempDirs: the sweeps look in AIRBYTE_TEMP_DIR and in the system's
// temp directory, once when they are one.
func TestTempDirs(t *testing.T) {
	unset(t)
	sys := t.TempDir()
	t.Setenv("TMPDIR", sys)
	if got := TempDirs(); len(got) != 1 || got[0] != sys {
		t.Fatalf("no variable: %v", got)
	}
	own := t.TempDir()
	t.Setenv(tempDirVar, own)
	if got := TempDirs(); len(got) != 2 || got[0] != own || got[1] != sys {
		t.Fatalf("AIRBYTE_TEMP_DIR=%s: %v", own, got)
	}
	t.Setenv(tempDirVar, sys+"/")
	if got := TempDirs(); len(got) != 1 {
		t.Fatalf("AIRBYTE_TEMP_DIR=TMPDIR: %v", got)
	}
}

// TestMakeTemp: files and directories go to AIRBYTE_TEMP_DIR; one that
// does not exist, or is a file, is an error naming the variable and the
// directory, and wrapping the cause; without the variable, the error names
// TMPDIR.
func TestMakeTemp(t *testing.T) {
	unset(t)
	own := t.TempDir()
	t.Setenv(tempDirVar, own)
	dir, err := MkdirTemp("x-*")
	if err != nil || filepath.Dir(dir) != own {
		t.Fatalf("MkdirTemp: %s, %v", dir, err)
	}
	f, err := CreateTemp("y-*")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if filepath.Dir(f.Name()) != own {
		t.Fatalf("CreateTemp made %s", f.Name())
	}

	missing := filepath.Join(own, "missing")
	file := filepath.Join(own, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{missing, file} {
		t.Setenv(tempDirVar, bad)
		_, err := MkdirTemp("x-*")
		_, err2 := CreateTemp("y-*")
		for _, err := range []error{err, err2} {
			if err == nil || !strings.Contains(err.Error(), "AIRBYTE_TEMP_DIR") || !strings.Contains(err.Error(), bad) || !errors.As(err, new(*fs.PathError)) {
				t.Errorf("AIRBYTE_TEMP_DIR=%s: want an error naming it, wrapping a *fs.PathError, got %v", bad, err)
			}
		}
	}
	t.Setenv(tempDirVar, "")
	t.Setenv("TMPDIR", missing)
	if _, err := MkdirTemp("x-*"); err == nil || !strings.Contains(err.Error(), "TMPDIR") || !strings.Contains(err.Error(), missing) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("TMPDIR=%s: want an error naming it, got %v", missing, err)
	}
}
