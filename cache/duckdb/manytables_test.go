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
