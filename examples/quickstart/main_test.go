package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestQuickstart runs the example in a temporary working directory (so the
// default cache lands there) and checks every line it prints.
func TestQuickstart(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx := context.Background()

	var out bytes.Buffer
	if err := run(ctx, &out, 50); err != nil {
		t.Fatalf("quickstart: %v\n%s", err, out.String())
	}
	got := out.String()
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 10 {
		t.Fatalf("quickstart printed %d lines, want 10:\n%s", len(lines), got)
	}
	if !regexp.MustCompile(`^Read \d+ records from source-faker$`).MatchString(lines[0]) {
		t.Errorf("first line %q", lines[0])
	}
	for _, l := range []string{"stream users: 50 rows in the cache (50 read now)", "stream products: 50 rows in the cache (50 read now)"} {
		if !strings.Contains(got, l+"\n") {
			t.Errorf("output lacks %q:\n%s", l, got)
		}
	}
	userLine := regexp.MustCompile(`^  user \d+: \S.* <\S+@\S+>, age \d+$`)
	for _, l := range lines[5:] {
		if !userLine.MatchString(l) {
			t.Errorf("user line %q does not look like a user", l)
		}
	}
	if _, err := os.Stat(filepath.Join(".cache", "default_cache", "default_cache.duckdb")); err != nil {
		t.Errorf("the default cache file is missing: %v", err)
	}
}
