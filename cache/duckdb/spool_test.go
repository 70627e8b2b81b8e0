package duckdb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
