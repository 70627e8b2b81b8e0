package duckdb_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
)

// The bookkeeping of a load (claims, _airbyte_streams rows, watermarks,
// states) takes a few statements whatever the number of streams: one per
// stream cost about 0.9 ms each, over 5 s for a load of 1,000 streams.
// A first load and a load again into the same tables are counted, in
// DuckDB's query log, for 10 and for 40 streams.
func TestBookkeepingStatementsDoNotGrowWithStreams(t *testing.T) {
	t.Parallel()
	count := func(streams int) (first, again int) {
		return loadTwiceCounting(t, streams, `SELECT count(*) FROM duckdb_logs WHERE type = 'QueryLog' AND (message LIKE '%_airbyte_streams%' OR message LIKE '%_airbyte_state%')`)
	}
	first10, again10 := count(10)
	first40, again40 := count(40)
	if first40 != first10 || again40 != again10 {
		t.Errorf("statements on _airbyte_streams and _airbyte_state: first load %d for 10 streams, %d for 40; again %d and %d: they grow with the streams",
			first10, first40, again10, again40)
	}
}

// A later load of a source's streams (their tables exist, merge, states
// present) reads each table before it writes (the greatest raw id, whether
// it has rows) and after (whether a key is there twice). Those reads go
// in statements of many tables, so that what is left per stream is its
// CREATE TABLE IF NOT EXISTS, its INSERT and its duplicates' DELETE: three
// statements, six entries of DuckDB's query log (a prepare and a run
// each). One read per table and check cost about 1.5 and 2 ms, and each
// stream had three: twelve entries. The load is counted for 16 and for 48
// streams, whose records (sent again) are duplicates.
func TestLaterLoadStatementsPerStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	count := func(streams int) int {
		cat, msgs := manyStreams(streams, 2)
		c, err := openPath(ctx, filepath.Join(t.TempDir(), "c.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for range 2 {
			if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-many", Catalog: cat, Messages: cachetest.Messages(msgs...)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.ExecSQL(ctx, `CALL enable_logging('QueryLog')`); err != nil {
			t.Fatal(err)
		}
		res, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-many", Catalog: cat, Messages: cachetest.Messages(msgs...)})
		if err != nil || res.Total != int64(2*streams) || res.States != int64(streams) {
			t.Fatalf("later load: %v, %+v", err, res)
		}
		var n int
		if err := c.DB().QueryRowContext(ctx, `SELECT count(*) FROM duckdb_logs WHERE type = 'QueryLog'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		// The merge kept one row per key.
		var rows int
		if err := c.DB().QueryRowContext(ctx, `SELECT count(*) FROM s0000`).Scan(&rows); err != nil || rows != 2 {
			t.Fatalf("rows of s0000 after three loads: %d, %v; want 2", rows, err)
		}
		return n
	}
	n16, n48 := count(16), count(48)
	if per := float64(n48-n16) / 32; per > 6.5 {
		t.Errorf("a later load of 16 streams logged %d statements, of 48 streams %d: %.2f a stream, want at most 6.5 "+
			"(CREATE TABLE IF NOT EXISTS, INSERT and DELETE, a prepare and a run each, and a share of the reads of many tables)", n16, n48, per)
	}
}

// The duplicate checks of a load's merge streams run as one statement;
// when it fails, the error still names the stream whose check failed, as
// each stream's own statement did. Here a table is dropped by hand once
// the load's records are committed and before its checks.
func TestDuplicateCheckErrorNamesItsStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cat, msgs := manyStreams(3, 2)
	c, err := openPath(ctx, filepath.Join(t.TempDir(), "c.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-many", Catalog: cat, Messages: cachetest.Messages(msgs...)}); err != nil {
		t.Fatal(err)
	}
	var dropErr error
	dropped := false
	_, err = c.Load(ctx, cache.LoadRequest{SourceName: "source-many", Catalog: cat, Messages: cachetest.Messages(msgs...),
		Committed: func(map[string]int64, []cache.StateKey) {
			if !dropped {
				dropped = true
				_, dropErr = c.ExecSQL(ctx, `DROP TABLE s0001`)
			}
		}})
	if dropErr != nil {
		t.Fatal(dropErr)
	}
	if err == nil || !strings.Contains(err.Error(), `looking for duplicates in stream "s0001"`) {
		t.Errorf("load whose table s0001 was dropped before its duplicate check: %v, want an error naming stream s0001", err)
	}
}

// A load of a few streams looks their tables up one by one, with
// pragma_table_info, rather than listing the columns of every table of
// the cache: information_schema.columns cost 4 ms even in a new cache (12
// ms the first time), against about 1 ms a table. A load of many streams
// lists them all, once before its DDL and once after. Both are counted in
// DuckDB's query log, first loads and loads again.
func TestColumnListsOfALoad(t *testing.T) {
	t.Parallel()
	lists := func(streams int) (first, again int) {
		// A statement is logged twice: prepared and run.
		return loadTwiceCounting(t, streams, `SELECT count(*) // 2 FROM duckdb_logs WHERE type = 'QueryLog' AND message LIKE '%information_schema.columns%'`)
	}
	if first, again := lists(1); first != 0 || again != 0 {
		t.Errorf("a load of one stream listed every table's columns %d times, again %d times; want none", first, again)
	}
	if first, again := lists(12); first != 2 || again != 2 {
		t.Errorf("a load of 12 streams listed every table's columns %d times, again %d times; want 2 (before and after its DDL)", first, again)
	}
}

// loadTwiceCounting loads streams streams of two records and a state each
// into a new cache twice, and returns what query, a count over DuckDB's
// query log, counts for the first load and for the load again.
func loadTwiceCounting(t *testing.T, streams int, query string) (first, again int) {
	t.Helper()
	ctx := context.Background()
	cat, msgs := manyStreams(streams, 2)
	c, err := openPath(ctx, filepath.Join(t.TempDir(), "c.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecSQL(ctx, `CALL enable_logging('QueryLog')`); err != nil {
		t.Fatal(err)
	}
	var n [2]int
	for i := range n {
		if _, err := c.ExecSQL(ctx, `CALL truncate_duckdb_logs()`); err != nil {
			t.Fatal(err)
		}
		res, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-many", Catalog: cat, Messages: cachetest.Messages(msgs...)})
		if err != nil || res.Total != int64(2*streams) || res.States != int64(streams) {
			t.Fatalf("load: %v, %+v", err, res)
		}
		if err := c.DB().QueryRowContext(ctx, query).Scan(&n[i]); err != nil {
			t.Fatal(err)
		}
	}
	return n[0], n[1]
}
