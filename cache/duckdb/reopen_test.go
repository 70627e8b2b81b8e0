package duckdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A query cancelled while DuckDB ran it left the database instance alive
// after the cache closed, on DuckDB 1.5: the next open of the same file in
// the process spun forever inside DuckDB's instance cache, holding its lock,
// so every later open of any file hung too (a cloud test hung for 10
// minutes). DuckDB 2.0 does not leak it. Each round cancels a query on an
// open cache at a random moment, closes the cache and opens the file again.
// Beside the other tests: a stuck open panics the binary after 30 s.
func TestReopenAfterCancelledQuery(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "reopen.duckdb")
	cancelled := 0
	for i := range 400 {
		done := make(chan error, 1)
		go func() {
			b, err := newConnector(path).Connect(context.Background())
			if err != nil {
				done <- err
				return
			}
			db := b.(*database)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(time.Duration(rand.IntN(1500))*time.Microsecond, cancel)
			var threads, limit, catalog string
			var ambiguous bool
			err = db.db.QueryRowContext(ctx, "SELECT current_setting('threads'), current_setting('memory_limit'), current_database(), EXISTS (SELECT 1 FROM duckdb_databases() WHERE database_name = ?)", "main").
				Scan(&threads, &limit, &catalog, &ambiguous)
			cancel()
			if err != nil {
				cancelled++
			}
			done <- db.Close()
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
		case <-time.After(30 * time.Second):
			// The stuck open holds DuckDB's process-wide lock: every
			// other test would hang behind it.
			panic(fmt.Sprintf("round %d: opening %s again after a cancelled query did not return within 30 s", i, path))
		}
	}
	if cancelled == 0 {
		t.Fatal("no query was cancelled: the test proved nothing")
	}
	t.Logf("%d of 400 queries cancelled", cancelled)
}

// A relative cache path in a working directory that was deleted: an error
// that says so and asks for an absolute path, not DuckDB's "Could not get
// working directory!". Not parallel: it changes the working directory.
func TestRelativePathInDeletedWorkingDirectory(t *testing.T) {
	gone := filepath.Join(t.TempDir(), "gone")
	if err := os.Mkdir(gone, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(gone)
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	b, err := newConnector("cache/x.duckdb").Connect(context.Background())
	if err == nil {
		b.Close()
		t.Fatal("a cache opened under a deleted working directory")
	}
	if msg := err.Error(); !strings.Contains(msg, "working directory, which cannot be found") || !strings.Contains(msg, "absolute path") {
		t.Fatalf("error %q does not say the working directory is gone and ask for an absolute path", msg)
	}
}
