package executor

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A process that runs for weeks (a server) prunes its log directory again
// as it goes, not only the first time it opens a log there: otherwise the
// files of every Source it ever built pile up for as long as it runs.
func TestPruneLogsAgainLater(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	old := func(name string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("==== old run\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		at := now.Add(-logRetention - time.Hour)
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
		return p
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	first := old("source-a-1.log")
	pruneLogs(dir, now)
	if exists(first) {
		t.Fatal("the first prune kept a log older than the retention")
	}
	second := old("source-a-2.log")
	pruneLogs(dir, now.Add(time.Minute))
	if !exists(second) {
		t.Fatal("the directory was pruned again a minute later: once per log opened is too often")
	}
	pruneLogs(dir, now.Add(pruneEvery+time.Minute))
	if exists(second) {
		t.Fatalf("a log older than the retention is still there %v after the last prune", pruneEvery+time.Minute)
	}
}
