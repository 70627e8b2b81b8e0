package cache_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// TestRecordsSameValuesOnEveryBackend: Dataset.Records gives a row's
// values as the same Go values on DuckDB and PostgreSQL, JSON columns
// included (decoded, where pgx gave PostgreSQL's jsonb as its text in
// []byte while DuckDB's driver decodes it): a program that moves its cache
// from one database to the other reads its rows alike.
func TestRecordsSameValuesOnEveryBackend(t *testing.T) {
	t.Parallel()
	want := map[string]any{
		"id":   int64(1),
		"obj":  map[string]any{"a": float64(1.5), "b": "x", "n": nil, "deep": []any{true, float64(2)}},
		"arr":  []any{float64(1), "y"},
		"num":  1.5,
		"ok":   true,
		"s":    "z",
		"ts":   time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC),
		"meta": map[string]any{"changes": []any{}},
		"u":    "hello", // a union: a JSON column holding a string
	}
	eachBackend(t, func(t *testing.T, c *cache.Cache) {
		ctx := context.Background()
		props := `{"id":{"type":"integer"},"obj":{"type":"object"},"arr":{"type":"array"},"num":{"type":"number"},` +
			`"ok":{"type":"boolean"},"s":{"type":"string"},"ts":{"type":"string","format":"date-time"},"u":{"type":["string","integer"]}}`
		if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Strategy: cache.StrategyAppend,
			Catalog: cachetest.Catalog(cachetest.Stream("t", props, protocol.SyncFullRefresh, nil)),
			Messages: cachetest.Messages(cachetest.Rec("t",
				`{"id":1,"obj":{"a":1.5,"b":"x","n":null,"deep":[true,2]},"arr":[1,"y"],"num":1.5,"ok":true,"s":"z","ts":"2020-01-02T03:04:05Z","u":"hello"}`)),
		}); err != nil {
			t.Fatal(err)
		}
		ds, err := c.Dataset(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for row, err := range ds.Records(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			row["meta"] = row["_airbyte_meta"]
			if ts, ok := row["ts"].(time.Time); ok {
				row["ts"] = ts.UTC()
			}
			for k, w := range want {
				if !reflect.DeepEqual(row[k], w) {
					t.Errorf("%s: %s", k, fmt.Sprintf("%#v, want %#v", row[k], w))
				}
			}
		}
		if n != 1 {
			t.Fatalf("%d rows", n)
		}
	})
}
