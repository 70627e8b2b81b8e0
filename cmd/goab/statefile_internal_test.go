package main

import (
	"os"
	"path/filepath"
	"testing"
)

// A connections file's default state file replaces .yaml or .yml; it was
// connections.yml.state.json for a .yml file.
func TestDefaultStateFile(t *testing.T) {
	for in, want := range map[string]string{
		"connections.yaml":       "connections.state.json",
		"dir/connections.yml":    "dir/connections.state.json",
		"connections":            "connections.state.json",
		"my.connections.json":    "my.connections.json.state.json",
		"dir.yaml/connections":   "dir.yaml/connections.state.json",
		"/abs/path/prod.v2.yaml": "/abs/path/prod.v2.state.json",
	} {
		if got := defaultStateFile(in); got != want {
			t.Errorf("defaultStateFile(%q) = %q, want %q", in, got, want)
		}
	}
}

// The state an earlier version kept for a .yml file, under its whole name,
// is used while the new name does not exist.
func TestDefaultStateFileOfEarlierVersions(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "connections.yml")
	old := file + ".state.json"
	os.WriteFile(old, []byte("{}"), 0o600)
	if got := defaultStateFile(file); got != old {
		t.Errorf("with only the earlier state file: %q, want %q", got, old)
	}
	now := filepath.Join(dir, "connections.state.json")
	os.WriteFile(now, []byte("{}"), 0o600)
	if got := defaultStateFile(file); got != now {
		t.Errorf("with both: %q, want %q", got, now)
	}
}
