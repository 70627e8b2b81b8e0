package source_test

import (
	"context"
	"testing"

	"github.com/x/goairbyte/internal/testconnectors/resumable"
	"github.com/x/goairbyte/source"
)

// TestReadPassesNoStateOfFullRefreshStreams: the state of a stream read in
// full is not given back to the next read, as the Airbyte platform deletes
// it before each new sync. A resumable full-refresh stream of the Python
// CDK whose state says it was read to its end reads nothing when given
// that state, and its replaced table would be left empty; the incremental
// stream beside it still gets its state and reads nothing new. Both with
// per-stream states and with a GLOBAL one.
func TestReadPassesNoStateOfFullRefreshStreams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, global := range []bool{false, true} {
		name := "stream states"
		if global {
			name = "global state"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := openDuckDB(t)
			src, err := resumable.NewSource(global)
			if err != nil {
				t.Fatal(err)
			}
			for read := 1; read <= 3; read++ {
				res, err := src.Read(ctx, source.UseCache(c), source.NoProgress())
				if err != nil {
					t.Fatal(err)
				}
				if n := count(t, ctx, res, "pages"); n != resumable.Pages*resumable.PageSize {
					t.Errorf("read %d: pages holds %d rows, want %d", read, n, resumable.Pages*resumable.PageSize)
				}
				if n := count(t, ctx, res, "events"); n != 2 {
					t.Errorf("read %d: events holds %d rows, want 2 (the incremental stream's state was not passed)", read, n)
				}
			}
		})
	}
}
