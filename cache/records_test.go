package cache_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// TestRecordsInPages: Records reads a table in pages of a bounded number
// of rows, one query each, on both backends: every row once, in arrival
// order although the table stores them in reverse, after a watermark too;
// breaking out releases the queries; and a replace committed between two
// pages stops the read with an error rather than mix the two loads.
func TestRecordsInPages(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *cache.Cache) {
		ctx := context.Background()
		const n, size = 25, 4
		cat := cachetest.Catalog(cachetest.Stream("tally", `{"id":{"type":"integer"},"load":{"type":"string"}}`, protocol.SyncFullRefresh, nil))
		var msgs []*protocol.Message
		for i := 1; i <= n; i++ {
			msgs = append(msgs, cachetest.Rec("tally", fmt.Sprintf(`{"id":%d,"load":"old"}`, i)))
		}
		cachetest.MustLoad(t, c, cat, cache.StrategyReplace, msgs...)
		ds, err := c.Dataset(ctx, "tally")
		if err != nil {
			t.Fatal(err)
		}
		cachetest.ReverseRows(t, c, ds)

		// read reads ds in pages of size rows and checks that it
		// gives the ids from first to n, each once, in raw id order.
		read := func(ds *cache.Dataset, first int) (ids []string) {
			t.Helper()
			pages, recs, err := cache.RecordsInPages(ctx, ds, size)
			if err != nil {
				t.Fatal(err)
			}
			if want := (n - first + size) / size; pages != want {
				t.Errorf("%d rows read in %d pages of %d, want %d", n-first+1, pages, size, want)
			}
			want := first
			for r, err := range recs {
				if err != nil {
					t.Fatal(err)
				}
				id := r["_airbyte_raw_id"].(string)
				if got := fmt.Sprint(r["id"]); got != fmt.Sprint(want) {
					t.Fatalf("row %d is id %s (raw id %s)", want-first+1, got, id)
				}
				if len(ids) > 0 && id <= ids[len(ids)-1] {
					t.Fatalf("raw id %s after %s", id, ids[len(ids)-1])
				}
				ids = append(ids, id)
				want++
			}
			if want != n+1 {
				t.Fatalf("rows %d to %d, want %d to %d", first, want-1, first, n)
			}
			return ids
		}
		ids := read(ds, 1)
		read(ds.After(ids[9]), 11)
		read(ds.After(ids[size-1]), size+1) // a page bound

		// Records itself gives arrival order too.
		i := 0
		for r, err := range ds.Records(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			if r["_airbyte_raw_id"] != ids[i] {
				t.Fatalf("Records: row %d has raw id %v, want %s (arrival order)", i, r["_airbyte_raw_id"], ids[i])
			}
			i++
		}
		if i != n {
			t.Fatalf("Records gave %d rows, want %d", i, n)
		}

		_, recs, err := cache.RecordsInPages(ctx, ds, size)
		if err != nil {
			t.Fatal(err)
		}
		i = 0
		for range recs {
			if i++; i == size+1 {
				break
			}
		}
		if s := c.DB().Stats(); s.InUse != 0 {
			t.Errorf("%d connections in use after breaking out of Records", s.InUse)
		}

		// A replace between pages: the readers hold at most the
		// first three pages when it commits, so the fourth is read
		// from the new table, and is refused.
		_, recs, err = cache.RecordsInPages(ctx, ds, size)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var last error
		for r, err := range recs {
			if err != nil {
				last = err
				break
			}
			if len(got) == 0 {
				cachetest.MustLoad(t, c, cat, cache.StrategyReplace, cachetest.Rec("tally", `{"id":1,"load":"new"}`))
			}
			if r["load"] != "old" {
				t.Fatalf("after %d rows of the old load, a row of the new one: %v", len(got), r)
			}
			got = append(got, r["_airbyte_raw_id"].(string))
		}
		if last == nil || !strings.Contains(last.Error(), "replaced") || len(got) > 3*size {
			t.Fatalf("a replace during the read: %d rows of %d, then %v; want at most %d, then an error saying the stream was replaced", len(got), n, last, 3*size)
		}
		cachetest.Equal(t, "the rows given before the replace", got, ids[:len(got)])
	})
}
