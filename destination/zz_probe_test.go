package destination_test

import (
	"context"

	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/source"
)

func TestZZProbe(t *testing.T) {
	ctx := context.Background()
	src, _ := source.New(ctx, "source-faker",
		source.WithLocalExecutable(testenv.BuildBinary(t, "./cmd/source-faker")),
		source.WithConfig(map[string]any{"count": 200000, "seed": 1, "records_per_slice": 1000}), source.WithStreams("users"))
	c := openCache(t)
	rr, err := src.Read(ctx, source.UseCache(c), source.Strategy(cache.StrategyAppend))
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := rr.Stream(ctx, "users")
	tbl := ds.QualifiedTableName()
	qs := []string{
		"SELECT sum(length(l)) FROM (" + cache.ZZSQL(ds) + " FROM " + tbl + ")",
		"SELECT sum(length(l)) FROM (" + cache.ZZSQL(ds) + " FROM " + tbl + " ORDER BY _airbyte_raw_id)",
		"SELECT sum(length(l)) FROM (" + cache.ZZSQL(ds) + " FROM " + tbl + " WHERE _airbyte_raw_id <= (SELECT max(_airbyte_raw_id) FROM (SELECT _airbyte_raw_id FROM " + tbl + " ORDER BY 1 LIMIT 50000)) ORDER BY _airbyte_raw_id)",
		"SELECT count(*) FROM (SELECT id FROM (SELECT _airbyte_raw_id AS id, row_number() OVER (ORDER BY _airbyte_raw_id) AS rn FROM " + tbl + ") WHERE rn % 50000 = 0)",
		"SELECT sum(length(l)) FROM (SELECT to_json(struct_pack(id, created_at,updated_at,name,title,age,email,telephone,gender,language,academic_degree,nationality,occupation,height,blood_type,weight,address))::VARCHAR AS l FROM " + tbl + ")",
	}
	{
		rows, err := c.DB().QueryContext(ctx, "EXPLAIN ANALYZE SELECT sum(length(l)) FROM (" + cache.ZZSQL(ds) + " FROM " + tbl + " ORDER BY _airbyte_raw_id)")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a, b string
			rows.Scan(&a, &b)
			t.Log(b)
		}
		rows.Close()
	}
	best := make([]time.Duration, len(qs))
	for range 3 {
		for i, q := range qs {
			t0 := time.Now()
			var v any
			if err := c.DB().QueryRowContext(ctx, q).Scan(&v); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(t0); best[i] == 0 || d < best[i] {
				best[i] = d
			}
		}
	}
	for i, q := range qs {
		t.Log(best[i], q[:min(len(q), 110)])
	}
	t0 := time.Now()
	n := 0
	for _, err := range ds.After("").RecordLines(ctx, nil) {
		if err != nil {
			t.Fatal(n, err)
		}
		n++
	}
	t.Log(n, time.Since(t0))
}
