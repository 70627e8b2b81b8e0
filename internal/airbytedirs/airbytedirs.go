// Package airbytedirs reads the four variables that tell PyAirbyte where
// things go (its airbyte/constants.py), so that a program ported from
// PyAirbyte keeps its environment:
//
//   - AIRBYTE_PROJECT_DIR: the default parent of the cache root, of the
//     install root and of Docker connectors' /local directories (else the
//     working directory);
//   - AIRBYTE_CACHE_ROOT: the cache root (else $AIRBYTE_PROJECT_DIR/.cache);
//   - AIRBYTE_INSTALL_DIR: where Python connectors' virtualenvs are made
//     (else $AIRBYTE_PROJECT_DIR);
//   - AIRBYTE_TEMP_DIR: the directory of the library's temporary files
//     (else the system's, os.TempDir).
//
// A value is ~-expanded and made absolute; an empty one counts as unset.
// Each function reads the process environment when called: the
// Environment of package connector reads the cache and install roots once,
// when it is made, as PyAirbyte reads them once, at import.
package airbytedirs

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
)

// The variables, as PyAirbyte names them.
const (
	projectDirVar = "AIRBYTE_PROJECT_DIR"
	cacheRootVar  = "AIRBYTE_CACHE_ROOT"
	installDirVar = "AIRBYTE_INSTALL_DIR"
	tempDirVar    = "AIRBYTE_TEMP_DIR"
)

// cacheDirName is the cache root's name in the project directory.
const cacheDirName = ".cache"

// CacheRoot is the directory of the default cache, and of a local cache
// given no directory: $AIRBYTE_CACHE_ROOT, else $AIRBYTE_PROJECT_DIR/.cache,
// else .cache, relative, so that each use finds it under the working
// directory of the moment.
func CacheRoot() string {
	if dir, ok := lookup(cacheRootVar); ok {
		return dir
	}
	if dir, ok := lookup(projectDirVar); ok {
		return filepath.Join(dir, cacheDirName)
	}
	return cacheDirName
}

// ProjectDir is $AIRBYTE_PROJECT_DIR, else "", the working directory:
// PyAirbyte's project directory, under which a Docker connector's /local
// directory is (see package executor).
func ProjectDir() string {
	dir, _ := lookup(projectDirVar)
	return dir
}

// InstallRoot is the directory under which Python connectors' virtualenvs
// are made: $AIRBYTE_INSTALL_DIR, else $AIRBYTE_PROJECT_DIR, else "", which
// the executor takes for the working directory.
func InstallRoot() string {
	if dir, ok := lookup(installDirVar); ok {
		return dir
	}
	dir, _ := lookup(projectDirVar)
	return dir
}

// TempDir is the directory of the library's temporary files:
// $AIRBYTE_TEMP_DIR, else os.TempDir() ($TMPDIR, else /tmp).
func TempDir() string {
	if dir, ok := lookup(tempDirVar); ok {
		return dir
	}
	return os.TempDir()
}

// TempDirs are the directories where the library's temporary files may
// have been made, for the sweeps of what a killed process left: TempDir,
// and the system's when AIRBYTE_TEMP_DIR names another (a run made before
// the variable was set left its files there).
func TempDirs() []string {
	dir, sys := TempDir(), os.TempDir()
	if filepath.Clean(dir) == filepath.Clean(sys) {
		return []string{dir}
	}
	return []string{dir, sys}
}

// MkdirTemp is os.MkdirTemp in TempDir; its error names the directory and
// the variable that chose it.
func MkdirTemp(pattern string) (string, error) {
	dir := TempDir()
	name, err := os.MkdirTemp(dir, pattern)
	if err != nil {
		return "", tempDirError(dir, err)
	}
	return name, nil
}

// CreateTemp is os.CreateTemp in TempDir; its error names the directory
// and the variable that chose it.
func CreateTemp(pattern string) (*os.File, error) {
	dir := TempDir()
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, tempDirError(dir, err)
	}
	return f, nil
}

// tempDirError says, of err from making a temporary file in dir, which
// variable chose dir and what to do; it wraps err.
func tempDirError(dir string, err error) error {
	if _, ok := lookup(tempDirVar); ok {
		return fmt.Errorf("%w: the temp directory %s, from %s, must be a directory this process can write: "+
			"make it, or set %s to another one", err, dir, tempDirVar, tempDirVar)
	}
	return fmt.Errorf("%w: the temp directory %s ($TMPDIR, else /tmp) must be a directory this process can write: "+
		"set TMPDIR, or %s, to a writable one", err, dir, tempDirVar)
}

// lookup returns the variable's value ~-expanded and made absolute; false
// when it is unset or empty.
func lookup(name string) (string, bool) {
	v := os.Getenv(name)
	if v == "" {
		return "", false
	}
	v = expandUser(v)
	if abs, err := filepath.Abs(v); err == nil {
		return abs, true
	}
	// A relative path under a working directory that was deleted: left
	// relative, so that its use fails naming it.
	return filepath.Clean(v), true
}

// expandUser replaces a leading ~ or ~user with that home directory, as
// Python's os.path.expanduser does; a path whose home cannot be found is
// left as it is.
func expandUser(p string) string {
	if !strings.HasPrefix(p, "~") {
		return p
	}
	name, rest, _ := strings.Cut(p[1:], string(filepath.Separator))
	var home string
	if name == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return p
		}
		home = h
	} else {
		u, err := user.Lookup(name)
		if err != nil || u.HomeDir == "" {
			return p
		}
		home = u.HomeDir
	}
	return filepath.Join(home, rest)
}
