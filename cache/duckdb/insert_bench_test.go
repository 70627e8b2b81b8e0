package duckdb

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/protocol"
)

// BenchmarkInsertManyTables inserts a batch of 3 records into one of n
// tables, a hundred tables per transaction, as a load into n small
// streams does for each: what one such INSERT costs, apart from the
// load's other statements, should not grow with n.
func BenchmarkInsertManyTables(b *testing.B) {
	for _, n := range []int{100, 1_000, 3_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			bk, err := newConnector(filepath.Join(b.TempDir(), "c.duckdb")).Connect(ctx)
			if err != nil {
				b.Fatal(err)
			}
			db := bk.(*database)
			defer db.Close()
			cols := []backend.Column{{Name: "id", Field: "id", Type: backend.TypeInteger},
				{Name: "a", Field: "a", Type: backend.TypeString}, {Name: "b", Field: "b", Type: backend.TypeNumber}}
			tables := make([]backend.Table, n)
			tx, err := db.DB().BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			for i := range tables {
				tables[i] = backend.Table{Stream: fmt.Sprintf("s%04d", i), Name: fmt.Sprintf("s%04d", i), Columns: cols}
				if _, err := tx.ExecContext(ctx, `CREATE TABLE `+db.Qualify(tables[i].Name)+` (_airbyte_raw_id VARCHAR NOT NULL, `+
					`_airbyte_extracted_at TIMESTAMPTZ, _airbyte_meta JSON, id BIGINT, a VARCHAR, b DOUBLE)`); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			var wtx backend.Tx
			i := 0
			for b.Loop() {
				if wtx == nil {
					if wtx, err = db.Begin(ctx); err != nil {
						b.Fatal(err)
					}
				}
				t := &tables[i%n]
				bt, err := db.NewBatch(t)
				if err != nil {
					b.Fatal(err)
				}
				for j := range 3 {
					rec := &protocol.Record{Stream: t.Stream, EmittedAt: 1, Data: fmt.Appendf(nil, `{"id":%d,"a":"hello","b":1.5}`, j)}
					if err := bt.Add(fmt.Appendf(nil, "%08d-%d", i, j), rec); err != nil {
						b.Fatal(err)
					}
				}
				if err := wtx.Insert(ctx, t.Name, bt); err != nil {
					b.Fatal(err)
				}
				bt.Close()
				if i++; i%100 == 0 {
					if err := wtx.Commit(ctx); err != nil {
						b.Fatal(err)
					}
					wtx = nil
				}
			}
			if wtx != nil {
				if err := wtx.Commit(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
