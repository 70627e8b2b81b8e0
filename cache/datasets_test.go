package cache_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// Datasets gives what Dataset gives for each stream, in order, with the
// greatest raw id each table held, over more streams than one statement
// reads; a stream without a table fails it as Dataset fails, naming it.
// States gives what State gives for each stream asked for, leaving the
// other streams' and the other destinations' states out.
func TestDatasetsAndStates(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *cache.Cache) {
		ctx := context.Background()
		const n = 40 // more than one statement's tables
		var cat []protocol.ConfiguredStream
		var msgs []*protocol.Message
		var names []string
		for i := range n {
			s := fmt.Sprintf("s%02d", i)
			names = append(names, s)
			cat = append(cat, cachetest.Stream(s, `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil))
			for j := range i % 3 { // s00 has no rows
				msgs = append(msgs, cachetest.Rec(s, fmt.Sprintf(`{"id":%d}`, j)))
			}
		}
		if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cachetest.Catalog(cat...), Strategy: cache.StrategyAppend,
			Messages: cachetest.Messages(msgs...)}); err != nil {
			t.Fatal(err)
		}
		names[0], names[n-1] = names[n-1], names[0]
		dss, err := cacheOps.Datasets(c, ctx, names)
		if err != nil {
			t.Fatal(err)
		}
		for i, ds := range dss {
			if ds.Stream() != names[i] {
				t.Fatalf("dataset %d is of stream %s, want %s", i, ds.Stream(), names[i])
			}
			var want string
			for r, err := range ds.After("").RecordLines(ctx, nil) {
				if err != nil {
					t.Fatal(err)
				}
				want = r.RawID
			}
			if last, known := cacheOps.LastRawID(ds); last != want || !known {
				t.Errorf("stream %s: LastRawID %q, %v; its last row's raw id is %q", names[i], last, known, want)
			}
		}
		if ds, err := c.Dataset(ctx, "s01"); err != nil {
			t.Fatal(err)
		} else if _, known := cacheOps.LastRawID(ds); known {
			t.Errorf("a dataset made by Dataset knows its table's last raw id")
		}
		_, err = cacheOps.Datasets(c, ctx, append(names, "nope"))
		var nf *protocol.StreamNotFoundError
		if !errors.As(err, &nf) || nf.Stream != "nope" {
			t.Errorf("Datasets of a stream without a table: %v, want a StreamNotFoundError naming it", err)
		}

		// A replace that swaps a table in after Datasets read its
		// greatest raw id is found out by the export, which does not
		// read the bounds of its one page again.
		items := cachetest.Catalog(cachetest.Stream("items", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil))
		cachetest.MustLoad(t, c, items, cache.StrategyReplace, cachetest.Rec("items", `{"id":1}`))
		before, err := cacheOps.Datasets(c, ctx, []string{"items"})
		if err != nil {
			t.Fatal(err)
		}
		cachetest.MustLoad(t, c, items, cache.StrategyReplace, cachetest.Rec("items", `{"id":2}`))
		var lines []string
		var exportErr error
		for r, err := range before[0].After("").RecordLines(ctx, nil) {
			if err != nil {
				exportErr = err
				break
			}
			lines = append(lines, string(r.Data))
		}
		if len(lines) > 0 || exportErr == nil || !strings.Contains(exportErr.Error(), "was replaced") {
			t.Errorf("export of a table replaced since Datasets: rows %q, error %v; want no row and the error of a replace", lines, exportErr)
		}

		for k, v := range map[cache.StateKey]string{
			{Source: "src", Destination: "d", Stream: "s01"}:  `{"a":1}`,
			{Source: "src", Destination: "d", Stream: "s02"}:  `{"a":2}`,
			{Source: "src", Destination: "d2", Stream: "s03"}: `{"a":3}`,
			{Source: "src", Stream: "s04"}:                    `{"a":4}`,
		} {
			if err := cacheOps.PutStates(c, ctx, map[cache.StateKey]*protocol.State{k: streamState(k.Stream, v)}); err != nil {
				t.Fatal(err)
			}
		}
		for _, names := range [][]string{nil, {"s01", "s03", "s04"}} {
			got, err := cacheOps.States(c, ctx, "src", "d", names)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"s01": `{"a":1}`, "s02": `{"a":2}`}
			if names != nil {
				delete(want, "s02")
			}
			if len(got) != len(want) {
				t.Errorf("States for %v: %d states, want %d", names, len(got), len(want))
			}
			for s, v := range want {
				one, err := c.State(ctx, cache.StateKey{Source: "src", Destination: "d", Stream: s})
				if err != nil {
					t.Fatal(err)
				}
				if got[s] == nil || string(got[s].Stream.StreamState) != v || string(one.Stream.StreamState) != v {
					t.Errorf("States for %v, stream %s: %+v, want %s as State gives", names, s, got[s], v)
				}
			}
		}
	})
}

// A table of exactly a page is exported in one page without reading its
// bounds, one of a page and a row in two, and one of a page of raw ids
// and a row without (written by hand) in one, each row once and in order,
// whatever count of the table Datasets reads (PostgreSQL's stops past a
// page).
func TestDatasetsPageCount(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *cache.Cache) {
		ctx := context.Background()
		sizes := map[string]int{"page": cache.ExportPageSize, "more": cache.ExportPageSize + 1, "nulls": cache.ExportPageSize + 1}
		var cat []protocol.ConfiguredStream
		for s := range sizes {
			cat = append(cat, cachetest.Stream(s, `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil))
		}
		msgs := func(yield func(*protocol.Message, error) bool) {
			for s, n := range sizes {
				for i := range n {
					if !yield(cachetest.Rec(s, fmt.Sprintf(`{"id":%d}`, i)), nil) {
						return
					}
				}
			}
		}
		if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cachetest.Catalog(cat...), Strategy: cache.StrategyAppend, Messages: msgs}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ExecSQL(ctx, `ALTER TABLE nulls ALTER COLUMN _airbyte_raw_id DROP NOT NULL`); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ExecSQL(ctx, `UPDATE nulls SET _airbyte_raw_id = NULL WHERE _airbyte_raw_id = (SELECT min(_airbyte_raw_id) FROM nulls)`); err != nil {
			t.Fatal(err)
		}
		names := []string{"page", "more", "nulls"}
		dss, err := cacheOps.Datasets(c, ctx, names)
		if err != nil {
			t.Fatal(err)
		}
		for i, ds := range dss {
			want := map[string]int{"page": 1, "more": 2, "nulls": 1}[names[i]]
			if one := cache.OnePage(ds); one != (names[i] != "more") {
				t.Errorf("stream %s of %d rows: Datasets found it a table of one page: %v", names[i], sizes[names[i]], one)
			}
			if pages, err := cache.ExportPages(ctx, ds); err != nil {
				t.Fatal(err)
			} else if pages != want {
				t.Errorf("stream %s of %d rows: exported in %d pages, want %d", names[i], sizes[names[i]], pages, want)
			}
			n, prev := 0, ""
			for r, err := range ds.After("").RecordLines(ctx, nil) {
				if err != nil {
					t.Fatal(err)
				}
				if n > 0 && r.RawID <= prev {
					t.Fatalf("stream %s: raw id %q after %q", names[i], r.RawID, prev)
				}
				n, prev = n+1, r.RawID
			}
			if last, _ := cacheOps.LastRawID(ds); n != sizes[names[i]] || prev != last {
				t.Errorf("stream %s: exported %d rows up to %q, want %d up to %q", names[i], n, prev, sizes[names[i]], last)
			}
		}
	})
}

// A Dataset is a view of its stream's table as it is when it is read, not
// as it was when the Dataset was made: Records (and Columns) read the
// column list each time, since a later load may add a column (a source's
// schema grew) or replace the table with other columns and types. A list
// kept by the Dataset would leave the new column out, and select a column
// no longer there (or read a JSON column as text).
func TestDatasetSeesItsTableChange(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *cache.Cache) {
		ctx := context.Background()
		load := func(st cache.Strategy, props, data string) {
			t.Helper()
			cachetest.MustLoad(t, c, cachetest.Catalog(cachetest.Stream("users", props, protocol.SyncFullRefresh, nil)), st, cachetest.Rec("users", data))
		}
		last := func(ds *cache.Dataset) map[string]any {
			t.Helper()
			var rec map[string]any
			for r, err := range ds.Records(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				rec = r
			}
			return rec
		}
		load(cache.StrategyAppend, `{"id":{"type":"integer"}}`, `{"id":1}`)
		ds, err := c.Dataset(ctx, "users")
		if err != nil {
			t.Fatal(err)
		}
		if r := last(ds); r["id"] != int64(1) {
			t.Fatalf("first read: %v", r)
		}
		load(cache.StrategyAppend, `{"id":{"type":"integer"},"name":{"type":"string"}}`, `{"id":2,"name":"b"}`)
		if r := last(ds.After("")); r["name"] != "b" {
			t.Fatalf("after a column was added: %v, want name b", r)
		}
		load(cache.StrategyReplace, `{"id":{"type":"string"},"tags":{"type":"array"}}`, `{"id":"x","tags":["a"]}`)
		r := last(ds)
		if _, ok := r["name"]; ok || r["id"] != "x" || fmt.Sprint(r["tags"]) != "[a]" {
			t.Fatalf("after the table was replaced: %v, want id x, tags [a] and no name", r)
		}
	})
}
