package destination_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/source"
)

// Two accounts of one connector (the faker with two counts), each read
// into its own table prefix of one cache and written from there into one
// destination: each account's Write sends its own records, as the
// destination's confirmed state (its watermark) is kept per prefix, as
// the source's is; a second round sends nothing. Before, the second
// account's read started from the first's state, and its Write from the
// first's watermark.
func TestWriteTwoAccountsUnderTwoPrefixes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	open := prefixOpener(t, filepath.Join(t.TempDir(), "c.duckdb"))
	counts := map[string]int{"acct_a": 300, "acct_b": 200}
	results := map[string]*source.ReadResult{}
	for _, prefix := range []string{"acct_b", "acct_a"} {
		rr, err := newFaker(t, counts[prefix], "users").Read(ctx, source.UseCache(open(prefix)))
		if err != nil {
			t.Fatal(err)
		}
		if n := rr.RecordsProcessed(); n != int64(counts[prefix]) {
			t.Fatalf("%s's read: %d records, want %d", prefix, n, counts[prefix])
		}
		results[prefix] = rr
	}
	dir := t.TempDir()
	dst := newLocalJSON(t, dir, nil)
	for round, want := range []map[string]int64{{"acct_a": 300, "acct_b": 200}, {"acct_a": 0, "acct_b": 0}} {
		for _, prefix := range []string{"acct_a", "acct_b"} {
			res, err := dst.Write(ctx, results[prefix], destination.Strategy(cache.StrategyAppend))
			if err != nil {
				t.Fatal(err)
			}
			if res.RecordsSent["users"] != want[prefix] || res.RecordsConfirmed["users"] != want[prefix] {
				t.Fatalf("round %d, %s's Write: sent %v, confirmed %v, want %d", round+1, prefix, res.RecordsSent, res.RecordsConfirmed, want[prefix])
			}
		}
	}
	if n, _ := fileIDs(t, dir, "users"); n != 500 {
		t.Fatalf("the destination got %d lines, want the 300 and 200 of the two accounts", n)
	}
}

// Two accounts of one connector written straight into one destination
// (NoCache), each with a StateCache under a table prefix of its own in
// one cache file: each account's read starts from its own state (what the
// destination confirmed of it), as the docs of StateCache say; the second
// round sends nothing. Under one prefix the two would share a state, and
// the second account's read would start where the first's ended.
func TestWriteNoCacheTwoAccountsUnderTwoStateCachePrefixes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	open := prefixOpener(t, filepath.Join(t.TempDir(), "state.duckdb"))
	counts := map[string]int{"acct_a": 300, "acct_b": 200}
	caches := map[string]*cache.Cache{"acct_a": open("acct_a"), "acct_b": open("acct_b")}
	dir := t.TempDir()
	dst := newLocalJSON(t, dir, nil)
	for round, want := range []map[string]int64{{"acct_a": 300, "acct_b": 200}, {"acct_a": 0, "acct_b": 0}} {
		for _, prefix := range []string{"acct_a", "acct_b"} {
			res, err := dst.Write(ctx, newFaker(t, counts[prefix], "users"), destination.NoCache(), destination.StateCache(caches[prefix]),
				destination.Strategy(cache.StrategyAppend))
			if err != nil {
				t.Fatal(err)
			}
			if res.RecordsSent["users"] != want[prefix] {
				t.Fatalf("round %d, %s's Write: sent %v, want %d", round+1, prefix, res.RecordsSent, want[prefix])
			}
		}
	}
	if n, _ := fileIDs(t, dir, "users"); n != 500 {
		t.Fatalf("the destination got %d lines, want the 300 and 200 of the two accounts", n)
	}
}

// prefixOpener opens the DuckDB cache at path under a table prefix, a
// Cache closed when the test ends.
func prefixOpener(t *testing.T, path string) func(prefix string) *cache.Cache {
	return func(prefix string) *cache.Cache {
		t.Helper()
		c, err := cache.New(context.Background(), duckdb.NewConnector(path), cache.WithTablePrefix(prefix))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
}
