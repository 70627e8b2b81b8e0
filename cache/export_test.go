package cache_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// TestRecordLinesPages exports more rows than several pages hold: every row
// once, in order, across page bounds, also after a watermark that is a
// page bound; breaking out early ends cleanly.
func TestRecordLinesPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, err := cache.New(ctx, duckdb.NewConnector(filepath.Join(t.TempDir(), "pages.duckdb")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const stream = "many"
	total := 2*cache.ExportPageSize + 7
	msgs := func(yield func(*protocol.Message, error) bool) {
		for i := range total {
			if !yield(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: stream,
				Data: json.RawMessage(fmt.Sprintf(`{"Id":%d}`, i+1)), EmittedAt: 1700000000000}}, nil) {
				return
			}
		}
	}
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cachetest.ExportCatalog(stream), FullRefresh: true, Messages: msgs}); err != nil {
		t.Fatal(err)
	}
	ds, err := c.Dataset(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	check := func(after string, from int) (ids []string) {
		t.Helper()
		want := from
		for r, err := range ds.After(after).RecordLines(ctx, cachetest.ExportKeys) {
			if err != nil {
				t.Fatal(err)
			}
			want++
			if exp := fmt.Sprintf(`"data":{"Id":%d}`, want); !bytes.Contains(r.Line, []byte(exp)) {
				t.Fatalf("row %d: %s, want %s", want, r.Line, exp)
			}
			ids = append(ids, r.RawID)
		}
		if want != total {
			t.Fatalf("after %q: rows up to %d, want %d", after, want, total)
		}
		return ids
	}
	ids := check("", 0)
	check(ids[cache.ExportPageSize-1], cache.ExportPageSize)
	check(ids[cache.ExportPageSize+3], cache.ExportPageSize+4)

	// Stored in reverse: the lines still come in raw id order.
	cachetest.ReverseRows(t, c, ds)
	check("", 0)
	check(ids[cache.ExportPageSize+3], cache.ExportPageSize+4)
	n := 0
	for range ds.After("").RecordLines(ctx, nil) {
		if n++; n == cache.ExportPageSize+1 {
			break
		}
	}
}
