package cache_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// TestRawIDsAfterAClockStepBack: a load whose clock is behind the last
// one's (an NTP correction, a restored VM, another machine loading into
// the same PostgreSQL cache) still gives its rows raw ids above every row
// already there. They are arrival order: a destination exports the rows
// after its watermark (Dataset.After), and a merge keeps a key's row that
// arrived last. Not parallel: it sets the package's clock.
func TestRawIDsAfterAClockStepBack(t *testing.T) {
	ctx := context.Background()
	for name, open := range map[string]func(t *testing.T) *cache.Cache{
		"duckdb": func(t *testing.T) *cache.Cache {
			c, err := cache.New(ctx, duckdb.NewConnector(filepath.Join(t.TempDir(), "clock.duckdb")))
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		"postgres": func(t *testing.T) *cache.Cache {
			c, err := cache.New(ctx, postgres.NewConnector(testenv.Postgres(t)))
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := open(t)
			defer c.Close()
			start := time.Now()
			clock := start
			defer cache.SetClock(func() time.Time { return clock })()
			ids := func(stream string) (ids, data []string) {
				t.Helper()
				ds, err := c.Dataset(ctx, stream)
				if err != nil {
					t.Fatal(err)
				}
				for r, err := range ds.RecordLines(ctx, nil) {
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, r.RawID)
					data = append(data, string(r.Data))
				}
				return ids, data
			}
			after := func(stream, watermark string) (data []string) {
				t.Helper()
				ds, err := c.Dataset(ctx, stream)
				if err != nil {
					t.Fatal(err)
				}
				for r, err := range ds.After(watermark).RecordLines(ctx, nil) {
					if err != nil {
						t.Fatal(err)
					}
					data = append(data, string(r.Data))
				}
				return data
			}
			check := func(what string, got, want []string) {
				t.Helper()
				if !slices.Equal(got, want) {
					t.Errorf("%s:\n got  %q\n want %q", what, got, want)
				}
			}
			props := `{"id":{"type":"integer"},"v":{"type":"string"}}`
			appendCat := cachetest.Catalog(cachetest.Stream("events", props, protocol.SyncFullRefresh, nil))
			mergeCat := cachetest.Catalog(cachetest.Stream("users", props, protocol.SyncIncremental, [][]string{{"id"}}))
			replaceCat := cachetest.Catalog(cachetest.Stream("items", props, protocol.SyncFullRefresh, nil))

			cachetest.MustLoad(t, c, appendCat, cache.StrategyAppend, cachetest.Rec("events", `{"id":1,"v":"a"}`), cachetest.Rec("events", `{"id":2,"v":"a"}`))
			cachetest.MustLoad(t, c, mergeCat, cache.StrategyMerge, cachetest.Rec("users", `{"id":1,"v":"old"}`))
			cachetest.MustLoad(t, c, replaceCat, cache.StrategyReplace, cachetest.Rec("items", `{"id":1,"v":"old"}`))
			first, _ := ids("events")
			watermark := first[len(first)-1]
			itemsWatermark, _ := ids("items")

			clock = start.Add(-time.Hour) // the clock steps back an hour
			cachetest.MustLoad(t, c, appendCat, cache.StrategyAppend, cachetest.Rec("events", `{"id":3,"v":"b"}`), cachetest.Rec("events", `{"id":4,"v":"b"}`))
			cachetest.MustLoad(t, c, mergeCat, cache.StrategyMerge, cachetest.Rec("users", `{"id":1,"v":"new"}`))
			cachetest.MustLoad(t, c, replaceCat, cache.StrategyReplace, cachetest.Rec("items", `{"id":2,"v":"new"}`))

			all, data := ids("events")
			if !slices.IsSorted(all) || !slices.Equal(data, []string{`{"id":1,"v":"a"}`, `{"id":2,"v":"a"}`, `{"id":3,"v":"b"}`, `{"id":4,"v":"b"}`}) {
				t.Errorf("rows in raw-id order: %q, want the second load's after the first's", data)
			}
			check("rows after the first load's last raw id", after("events", watermark), []string{`{"id":3,"v":"b"}`, `{"id":4,"v":"b"}`})
			_, users := ids("users")
			check("merged rows", users, []string{`{"id":1,"v":"new"}`})
			check("replaced rows after the old table's last raw id", after("items", itemsWatermark[0]), []string{`{"id":2,"v":"new"}`})
		})
	}
}
