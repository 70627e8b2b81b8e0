package destination_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// cachedStreams is a cached input over streams loaded straight into a
// cache, as a *source.ReadResult is.
type cachedStreams struct {
	c       *cache.Cache
	catalog *protocol.ConfiguredCatalog
	streams []string
}

func (r *cachedStreams) SourceName() string                   { return "source-many" }
func (r *cachedStreams) Cache() *cache.Cache                  { return r.c }
func (r *cachedStreams) Catalog() *protocol.ConfiguredCatalog { return r.catalog }
func (r *cachedStreams) ProcessedStreams() []string           { return r.streams }

// loadManyStreams loads n merge streams of each records into c.
func loadManyStreams(tb testing.TB, c *cache.Cache, n, each int) *cachedStreams {
	tb.Helper()
	var cat []protocol.ConfiguredStream
	var msgs []*protocol.Message
	var names []string
	for i := range n {
		name := fmt.Sprintf("s%04d", i)
		names = append(names, name)
		cat = append(cat, cachetest.Stream(name, `{"id":{"type":"integer"},"a":{"type":"string"},"b":{"type":"number"}}`,
			protocol.SyncIncremental, [][]string{{"id"}}, "id"))
		for j := range each {
			msgs = append(msgs, cachetest.Rec(name, fmt.Sprintf(`{"id":%d,"a":"hello","b":1.5}`, j)))
		}
		msgs = append(msgs, cachetest.StreamState(name, fmt.Sprintf(`{"id":%d}`, each-1)))
	}
	catalog := cachetest.Catalog(cat...)
	res, err := c.Load(context.Background(), cache.LoadRequest{SourceName: "source-many", Catalog: catalog, Messages: cachetest.Messages(msgs...)})
	if err != nil || res.Total != int64(n*each) {
		tb.Fatalf("load: %v, %+v", err, res)
	}
	return &cachedStreams{c: c, catalog: catalog, streams: names}
}

// writeMany writes in into dst under key and checks what it sent.
func writeMany(tb testing.TB, dst *destination.Destination, in *cachedStreams, key string, wantSent int64) {
	tb.Helper()
	res, err := dst.Write(context.Background(), in, destination.StateKey(key), destination.NoProgress())
	if err != nil {
		tb.Fatal(err)
	}
	if res.TotalSent() != wantSent || res.TotalConfirmed() != wantSent {
		tb.Fatalf("write %s: sent %d, confirmed %d; want %d", key, res.TotalSent(), res.TotalConfirmed(), wantSent)
	}
}

// duckdbStatements counts the statements DuckDB's query log holds (a
// prepare and a run each log one) and empties it.
func duckdbStatements(tb testing.TB, c *cache.Cache) int {
	tb.Helper()
	ctx := context.Background()
	var n int
	if err := c.DB().QueryRowContext(ctx, `SELECT count(*) FROM duckdb_logs WHERE type = 'QueryLog'`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	if _, err := c.ExecSQL(ctx, `CALL truncate_duckdb_logs()`); err != nil {
		tb.Fatal(err)
	}
	return n
}

// BenchmarkWriteManyStreams writes 1,000 streams of 3 rows each from a
// DuckDB cache into the in-process no-op destination and into local-JSON:
// a first Write (the destination has confirmed nothing) and a Write again
// with nothing new. It reports the time and the statements DuckDB logged
// per stream.
//
// Per stream a Write ran five statements on a first Write: its table's
// columns (Cache.Dataset, to fail before the destination starts when the
// stream has no table), its stored state (the watermark), and its export's
// three — the columns again (the export encodes what the table has when it
// starts), the bounds of its pages, its one page; and four on a Write with
// nothing new, the page left out. The table check and the watermark now go
// in statements of many streams (cacheOps.Datasets, which also reads each
// table's greatest raw id, its count of raw ids and its identifier, and
// cacheOps.States); a stream whose greatest raw id is its watermark has no
// export at all, and the export of one of no more than a page reads no
// bounds. Paired runs, 1x, three rounds, old then new: noop first 6.6,
// 5.1, 4.9 s against 2.5, 2.7, 2.3 s; noop again 5.1, 4.3, 3.4 s against
// 0.75, 0.67, 0.71 s; local-JSON first 11.3, 7.7, 6.5 s against 4.6, 4.5,
// 4.7 s; local-JSON again 6.0, 6.3, 5.6 s against 3.4, 3.0, 3.2 s (the
// destination's own work per stream, a file each, is most of what is
// left). Logged entries per stream: 10.0 and 8.0 before, 4.1 and 0.07
// after.
func BenchmarkWriteManyStreams(b *testing.B) {
	const streams, each = 1_000, 3
	c := openCache(b)
	in := loadManyStreams(b, c, streams, each)
	dsts := map[string]func() *destination.Destination{
		"noop": func() *destination.Destination { return noop(b) },
		"localjson": func() *destination.Destination {
			d, err := destination.New(context.Background(), "destination-local-json",
				connector.WithLocalExecutable(testenv.BuildBinary(b, "./cmd/destination-local-json")),
				connector.WithConfig(map[string]any{"destination_path": b.TempDir()}))
			if err != nil {
				b.Fatal(err)
			}
			return d
		},
	}
	keys := 0
	for _, dname := range []string{"noop", "localjson"} {
		for _, again := range []bool{false, true} {
			b.Run(dname+"/"+map[bool]string{false: "first", true: "again"}[again], func(b *testing.B) {
				dst := dsts[dname]()
				prepare := func() string {
					keys++
					key := fmt.Sprintf("k%d", keys)
					if again {
						writeMany(b, dst, in, key, streams*each)
					}
					return key
				}
				want := int64(streams * each)
				if again {
					want = 0
				}
				for b.Loop() {
					b.StopTimer()
					key := prepare()
					b.StartTimer()
					writeMany(b, dst, in, key, want)
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/streams, "µs/stream")
				key := prepare()
				if _, err := c.ExecSQL(context.Background(), `CALL enable_logging('QueryLog')`); err != nil {
					b.Fatal(err)
				}
				duckdbStatements(b, c)
				writeMany(b, dst, in, key, want)
				b.ReportMetric(float64(duckdbStatements(b, c))/streams, "logged/stream")
				if _, err := c.ExecSQL(context.Background(), `CALL disable_logging()`); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// A Write from a cache reads every stream's table, its greatest raw id
// and stored watermark in statements of many streams: what is left per
// stream is its export (its columns and its one page: cacheOps.Datasets
// found that it has no more than a page), and nothing for a stream the
// destination has confirmed to its newest row. Each stream's table and
// watermark had statements of their own, and its export read its pages'
// bounds: DuckDB logged 10.4 entries a stream (a prepare and a run each)
// for a first Write and 8.0 for a Write with nothing new; 4.1 and 0.06
// after. Counted for 16 and for 48 streams.
func TestWriteStatementsPerStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	count := func(streams int) (first, again int) {
		c := openCache(t)
		in := loadManyStreams(t, c, streams, 2)
		dst := noop(t)
		if _, err := c.ExecSQL(ctx, `CALL enable_logging('QueryLog')`); err != nil {
			t.Fatal(err)
		}
		duckdbStatements(t, c)
		writeMany(t, dst, in, "k", int64(2*streams))
		first = duckdbStatements(t, c)
		writeMany(t, dst, in, "k", 0)
		return first, duckdbStatements(t, c)
	}
	first16, again16 := count(16)
	first48, again48 := count(48)
	if per := float64(first48-first16) / 32; per > 4.5 {
		t.Errorf("a first Write of 16 streams logged %d statements, of 48 streams %d: %.2f a stream, want at most 4.5 (the export's two statements, a prepare and a run each)",
			first16, first48, per)
	}
	if per := float64(again48-again16) / 32; per > 0.5 {
		t.Errorf("a Write with nothing new of 16 streams logged %d statements, of 48 streams %d: %.2f a stream, want at most 0.5", again16, again48, per)
	}
	if testing.Verbose() {
		t.Logf("logged: first %d and %d, again %d and %d", first16, first48, again16, again48)
	}
}

// The same on PostgreSQL, where each statement outside a transaction is a
// transaction of the server's: a first Write ran 7.0 transactions a stream
// (its table's columns, its stored state, its export's table id, columns,
// bounds, page and table id again) and a Write with nothing new 5.0; 3.0
// (the export's columns, page and table id after it) and 0.03 after.
func TestWriteTransactionsPerStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	count := func(streams int) (first, again int64) {
		dsn := testenv.Postgres(t)
		open := func() *cache.Cache {
			c, err := cache.New(ctx, postgres.NewConnector(dsn))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		c := open()
		in := loadManyStreams(t, c, streams, 2)
		c.Close()
		dst := noop(t)
		var n [2]int64
		for i, want := range []int64{int64(2 * streams), 0} {
			before := testenv.PostgresTransactions(t, dsn)
			in.c = open()
			writeMany(t, dst, in, "k", want)
			in.c.Close()
			n[i] = testenv.PostgresTransactions(t, dsn) - before
		}
		return n[0], n[1]
	}
	first16, again16 := count(16)
	first48, again48 := count(48)
	if per := float64(first48-first16) / 32; per > 3.5 {
		t.Errorf("a first Write of 16 streams ran %d transactions, of 48 streams %d: %.2f a stream, want at most 3.5", first16, first48, per)
	}
	if per := float64(again48-again16) / 32; per > 0.5 {
		t.Errorf("a Write with nothing new of 16 streams ran %d transactions, of 48 streams %d: %.2f a stream, want at most 0.5", again16, again48, per)
	}
	if testing.Verbose() {
		t.Logf("transactions: first %d and %d, again %d and %d", first16, first48, again16, again48)
	}
}
