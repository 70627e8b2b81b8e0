package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// A page of an export reads the blocks of its range of raw ids, not the
// whole table, once the export began (an export of more than one page
// brings the index up to date with what loads appended, so that loads do
// not pay for it; the loads here are larger than a page): after a
// load into a new table, into one that has rows (its new blocks), after a
// replace swapped a table in, and into a table an earlier version made,
// without the index, which its next load gives it. The plan is checked,
// not the time: a scan of the whole table reads every block.
func TestPagesReadTheirRange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := open(t)
	props := `{"id":{"type":"integer"},"name":{"type":"string"},"email":{"type":"string"},"city":{"type":"string"}}`
	const batch = 55_000 // more than an export's page of 50,000
	loaded := 0
	load := func(st cache.Strategy) {
		t.Helper()
		from := loaded
		if st == cache.StrategyReplace {
			from = 0
		}
		msgs := func(yield func(*protocol.Message, error) bool) {
			for i := from; i < loaded+batch; i++ {
				data := fmt.Sprintf(`{"id":%d,"name":"user %d","email":"user%d@example.com","city":"Zürich"}`, i, i, i)
				if !yield(cachetest.Rec("users", data), nil) || (i == from && !yield(cachetest.Rec("small", `{"id":1}`), nil)) {
					return
				}
			}
		}
		// Another stream beside, whose table stays small: the load
		// brings both up to date in one statement.
		cat := cachetest.Catalog(cachetest.Stream("users", props, protocol.SyncFullRefresh, nil), cachetest.Stream("small", props, protocol.SyncFullRefresh, nil))
		if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "s", Catalog: cat, Strategy: st, FullRefresh: true, Messages: msgs}); err != nil {
			t.Fatal(err)
		}
		loaded += batch
	}
	check := func(label string) {
		t.Helper()
		// An export begins: its first line is enough.
		for _, err := range mustDataset(t, c, "users").RecordLines(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		var blocks int
		if err := c.DB().QueryRowContext(ctx, `SELECT pg_relation_size('users') / 8192`).Scan(&blocks); err != nil {
			t.Fatal(err)
		}
		bound := func(n int) string {
			return cachetest.Strings(t, c, `SELECT _airbyte_raw_id FROM users ORDER BY 1 OFFSET ? LIMIT 1`, n)[0]
		}
		// A tenth of the rows, in the middle of the table, as a page
		// (pageQuery in package cache), and the first page, which also
		// takes rows without a raw id.
		lo, hi := bound(loaded*4/10), bound(loaded/2)
		for _, page := range []struct {
			where string
			args  []any
		}{
			{`("_airbyte_raw_id" > $1 AND "_airbyte_raw_id" <= $2)`, []any{lo, hi}},
			{`("_airbyte_raw_id" IS NULL OR "_airbyte_raw_id" <= $1)`, []any{bound(loaded / 10)}},
		} {
			var out string
			if err := c.DB().QueryRowContext(ctx, `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM users WHERE `+page.where, page.args...).Scan(&out); err != nil {
				t.Fatal(err)
			}
			var plans []struct{ Plan planNode }
			if err := json.Unmarshal([]byte(out), &plans); err != nil || len(plans) != 1 {
				t.Fatalf("%s: plan %s: %v", label, out, err)
			}
			p := plans[0].Plan
			if scan := p.find("Seq Scan"); scan != nil {
				t.Errorf("%s: %s: a scan of the whole table: %s", label, page.where, out)
			}
			// A tenth of the rows, and the index's ranges of blocks at
			// both ends of it, read whole: under a third of the
			// table's blocks (168 of 1,048 in the first check). A scan
			// reads them all, and so does an index whose new blocks
			// were not summarised.
			read := p.SharedHitBlocks + p.SharedReadBlocks
			t.Logf("%s: %s read %d blocks of %d", label, page.where, read, blocks)
			if read > blocks/3 {
				t.Errorf("%s: %s read %d blocks of the table's %d, for a tenth of its rows: %s", label, page.where, read, blocks, out)
			}
			if p.ActualRows < loaded/10-1 || p.ActualRows > loaded/10+1 {
				t.Errorf("%s: %s gave %d rows, want %d", label, page.where, p.ActualRows, loaded/10)
			}
		}
		cachetest.Equal(t, label+": indexes of users", cachetest.Strings(t, c, `SELECT indexname FROM pg_indexes WHERE tablename = 'users'`), []string{"users-raw-id"})
	}
	load(cache.StrategyAppend)
	check("a new table")
	load(cache.StrategyAppend)
	load(cache.StrategyAppend)
	check("rows appended")
	load(cache.StrategyReplace)
	check("a table swapped in")
	// A table as an earlier version made it: no index, no statistics.
	for _, q := range []string{`DROP INDEX "users-raw-id"`, `ALTER TABLE users ALTER COLUMN _airbyte_raw_id SET STATISTICS -1`, `ANALYZE users`} {
		if _, err := c.ExecSQL(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	load(cache.StrategyAppend)
	check("a table an earlier version made, loaded again")
	n := 0
	for _, err := range mustDataset(t, c, "users").RecordLines(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != loaded {
		t.Fatalf("the export gave %d rows, want %d", n, loaded)
	}
}

// planNode is a node of EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON): its
// counts are its subtree's.
type planNode struct {
	NodeType         string     `json:"Node Type"`
	ActualRows       int        `json:"Actual Rows"`
	SharedHitBlocks  int        `json:"Shared Hit Blocks"`
	SharedReadBlocks int        `json:"Shared Read Blocks"`
	Plans            []planNode `json:"Plans"`
}

// find returns the first node of type typ in the subtree, nil if none.
func (p *planNode) find(typ string) *planNode {
	if p.NodeType == typ {
		return p
	}
	for i := range p.Plans {
		if f := p.Plans[i].find(typ); f != nil {
			return f
		}
	}
	return nil
}

func mustDataset(t *testing.T, c *cache.Cache, stream string) *cache.Dataset {
	t.Helper()
	ds, err := c.Dataset(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}
