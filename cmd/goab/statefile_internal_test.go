package main

import "testing"

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
