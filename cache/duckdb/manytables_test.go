package duckdb_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// BenchmarkDatasetManyTables opens the dataset of one stream in a cache of
// n tables, as ReadResult.Streams and a destination's Write from a cache do
// for each of their streams: the cost of one should not grow with n.
func BenchmarkDatasetManyTables(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			c, err := openPath(ctx, filepath.Join(b.TempDir(), "c.duckdb"))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			tx, err := c.DB().BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			for i := range n {
				if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE s%05d (_airbyte_raw_id VARCHAR, id BIGINT)`, i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				if _, err := c.Dataset(ctx, fmt.Sprintf("s%05d", i%n)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// TestDatasetColumnsAsInformationSchema checks that Dataset.Columns, which
// looks the one table up with pragma_table_info, gives what
// information_schema.columns gives for every kind of column, in a schema
// of the cache's own, and that a table that is not there is no stream.
func TestDatasetColumnsAsInformationSchema(t *testing.T) {
	ctx := context.Background()
	c, err := cache.New(ctx, duckdb.NewConnector(filepath.Join(t.TempDir(), "c.duckdb"), duckdb.WithSchema("air")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecSQL(ctx, `CREATE TABLE air.mixed (_airbyte_raw_id VARCHAR, a JSON, b VARCHAR, c BIGINT, d DOUBLE, e BOOLEAN, f DATE, g TIMESTAMP, `+
		`h TIMESTAMPTZ, i TIME, j TIMETZ, k DECIMAL(18,3), l INTEGER[], m STRUCT(x INT), "Odd Name" UUID)`); err != nil {
		t.Fatal(err)
	}
	ds, err := c.Dataset(ctx, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ds.Columns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := c.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'air' AND table_name = 'mixed' ORDER BY ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var want []cache.ColumnInfo
	for rows.Next() {
		var ci cache.ColumnInfo
		if err := rows.Scan(&ci.Name, &ci.Type); err != nil {
			t.Fatal(err)
		}
		want = append(want, ci)
	}
	if !slices.Equal(got, want) || len(want) != 15 {
		t.Errorf("columns\n got  %v\n want %v", got, want)
	}
	if _, err := c.Dataset(ctx, "absent"); !errors.Is(err, protocol.ErrStreamNotFound) {
		t.Errorf("dataset of a table that is not there: %v, want a stream not found", err)
	}
}

// manyStreams is a catalog of n incremental streams with a primary key,
// and a read of each records of every stream, each stream's followed by
// its state.
func manyStreams(n, each int) (*protocol.ConfiguredCatalog, []*protocol.Message) {
	var cat []protocol.ConfiguredStream
	var msgs []*protocol.Message
	for i := range n {
		name := fmt.Sprintf("s%04d", i)
		cat = append(cat, cachetest.Stream(name, `{"id":{"type":"integer"},"a":{"type":"string"},"b":{"type":"number"}}`,
			protocol.SyncIncremental, [][]string{{"id"}}, "id"))
		for j := range each {
			msgs = append(msgs, cachetest.Rec(name, fmt.Sprintf(`{"id":%d,"a":"hello","b":1.5}`, j)))
		}
		msgs = append(msgs, cachetest.StreamState(name, fmt.Sprintf(`{"id":%d}`, each-1)))
	}
	return cachetest.Catalog(cat...), msgs
}

// BenchmarkLoadManyStreams loads 1,000 streams of 3 records each into a
// new cache (first) and again into the tables the first load made
// (again): what a load costs per stream beyond its records. It reports
// the statements DuckDB logged per stream (prepare and run each log one).
//
// A load again runs three statements per stream: CREATE TABLE IF NOT
// EXISTS in prepare's DDL transaction (the table may have been dropped
// since the columns were read), the INSERT of its records, and, its
// records being duplicates of the first load's, the DELETE of the older
// rows. Its reads of each table (the greatest raw id and whether it has
// rows, before; whether a key is there twice, after) run in statements of
// 32 and 16 tables; they were three statements more per stream, 12.21
// logged per stream before, 6.40 after.
func BenchmarkLoadManyStreams(b *testing.B) {
	const streams, each = 1_000, 3
	cat, msgs := manyStreams(streams, each)
	for _, again := range []bool{false, true} {
		b.Run(map[bool]string{false: "first", true: "again"}[again], func(b *testing.B) {
			ctx := context.Background()
			load := func(c *cache.Cache) {
				res, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-many", Catalog: cat, Messages: cachetest.Messages(msgs...)})
				if err != nil || res.Total != streams*each || res.States != streams {
					b.Fatalf("load: %v, %+v", err, res)
				}
			}
			fresh := func() *cache.Cache {
				c, err := openPath(ctx, filepath.Join(b.TempDir(), "c.duckdb"))
				if err != nil {
					b.Fatal(err)
				}
				if again {
					load(c)
				}
				return c
			}
			for b.Loop() {
				b.StopTimer()
				c := fresh()
				b.StartTimer()
				load(c)
				b.StopTimer()
				c.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/streams, "µs/stream")
			c := fresh()
			defer c.Close()
			if _, err := c.ExecSQL(ctx, `CALL enable_logging('QueryLog')`); err != nil {
				b.Fatal(err)
			}
			load(c)
			var n int
			if err := c.DB().QueryRowContext(ctx, `SELECT count(*) FROM duckdb_logs WHERE type = 'QueryLog'`).Scan(&n); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/streams, "logged/stream")
		})
	}
}
