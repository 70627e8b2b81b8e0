package postgres

import (
	"context"
	"testing"

	"github.com/x/goairbyte/internal/testenv"
)

// BenchmarkFence is what the fence adds to a write transaction (see
// database.fence): an empty transaction, begun and committed, without the
// fence and with it.
func BenchmarkFence(b *testing.B) {
	ctx := context.Background()
	be, err := newConnector(testenv.Postgres(b)).Connect(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	db := be.(*database)
	unlock, fence, err := db.LockWatched(ctx, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer unlock()
	for _, fenced := range []bool{false, true} {
		name := "plain"
		if fenced {
			name = "fenced"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				tx, err := db.Begin(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if fenced {
					if lost, err := fence(ctx, tx); err != nil || lost != nil {
						b.Fatal(lost, err)
					}
				}
				if err := tx.Commit(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
