package duckdb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// TestSpoolGoneAfterLoad: a cache that is never closed (the default cache,
// a server's long-lived one) must not keep the spool files of its loads
// once they end: they held the last chunk's records, and a program that
// exits with the cache open left them in the temp directory. A load that
// fails is held to the same. Not parallel: it sets TMPDIR.
func TestSpoolGoneAfterLoad(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx := context.Background()
	c, err := cache.New(ctx, duckdb.NewConnector(filepath.Join(t.TempDir(), "open.duckdb"), duckdb.WithBatchSize(7)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	left := func(when string) {
		t.Helper()
		if m, _ := filepath.Glob(filepath.Join(tmp, "goairbyte-duckdb-*")); len(m) > 0 {
			var files []string
			for _, d := range m {
				filepath.WalkDir(d, func(p string, _ os.DirEntry, _ error) error { files = append(files, p); return nil })
			}
			t.Fatalf("%s, with the cache still open: left in the temp directory: %v", when, files)
		}
	}
	left("after opening")
	cat := cachetest.Catalog(
		cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, nil, "id"),
		cachetest.Stream("items", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, nil, "id"))
	var msgs []*protocol.Message
	for i := range 40 {
		msgs = append(msgs, cachetest.Rec("users", fmt.Sprintf(`{"id":%d}`, i)), cachetest.Rec("items", fmt.Sprintf(`{"id":%d}`, i)))
		if i%5 == 4 {
			msgs = append(msgs, cachetest.StreamState("users", fmt.Sprintf(`{"id":%d}`, i)))
		}
	}
	for i := range 3 {
		if res := cachetest.MustLoad(t, c, cat, cache.StrategyAppend, msgs...); res.Total != 80 {
			t.Fatalf("load %d: %d records loaded, want 80", i, res.Total)
		}
		left(fmt.Sprintf("after load %d", i+1))
	}
	// A load whose source fails half-way.
	fail := func(yield func(*protocol.Message, error) bool) {
		for _, m := range msgs[:30] {
			if !yield(m, nil) {
				return
			}
		}
		yield(nil, fmt.Errorf("the source broke"))
	}
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: cache.StrategyAppend, Messages: fail}); err == nil {
		t.Fatal("a load whose source failed succeeded")
	}
	left("after a failed load")
}

// TestSpoolInAirbyteTempDir: with PyAirbyte's AIRBYTE_TEMP_DIR set, the
// spool goes there, not to TMPDIR (here a path under a file, where nothing
// can be made), and is gone after the load; one that does not exist fails
// the open with an error naming the variable. Not parallel: it sets both.
func TestSpoolInAirbyteTempDir(t *testing.T) {
	ctx := context.Background()
	own, file := t.TempDir(), filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", filepath.Join(file, "tmp"))
	t.Setenv("AIRBYTE_TEMP_DIR", own)
	c, err := cache.New(ctx, duckdb.NewConnector(filepath.Join(t.TempDir(), "c.duckdb"), duckdb.WithBatchSize(7)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cat := cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, nil, "id"))
	var msgs []*protocol.Message
	for i := range 40 {
		msgs = append(msgs, cachetest.Rec("users", fmt.Sprintf(`{"id":%d}`, i)))
	}
	if res := cachetest.MustLoad(t, c, cat, cache.StrategyAppend, msgs...); res.Total != 40 {
		t.Fatalf("%d records loaded, want 40", res.Total)
	}
	if left, err := os.ReadDir(own); err != nil || len(left) != 0 {
		t.Fatalf("left in AIRBYTE_TEMP_DIR: %v %v", left, err)
	}

	missing := filepath.Join(own, "missing")
	t.Setenv("AIRBYTE_TEMP_DIR", missing)
	c2, err := cache.New(ctx, duckdb.NewConnector(filepath.Join(t.TempDir(), "c2.duckdb")))
	if err == nil {
		c2.Close()
		t.Fatal("opened a cache with no temp directory for its spool")
	}
	if !strings.Contains(err.Error(), "AIRBYTE_TEMP_DIR") || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("want an error naming AIRBYTE_TEMP_DIR and %s, wrapping ErrNotExist, got %v", missing, err)
	}
}
