package source_test

import (
	"context"
	"testing"

	"github.com/x/goairbyte/internal/testconnectors/usercursor"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// TestReadKeyedStreamWithoutCursor: a stream with a primary key and no
// cursor (a table of one of Airbyte's Java database sources in standard
// mode) is read in full and merged by its key, as a source has nothing to
// read it incrementally by: the Java CDK fails such a read ("No cursor
// field specified for stream attempting to do incremental."), the bulk CDK
// refuses or reads it in full, and the Airbyte platform refuses to
// configure it. With a cursor set it is read incrementally.
func TestReadKeyedStreamWithoutCursor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openDuckDB(t)
	src, err := usercursor.NewSource(3)
	if err != nil {
		t.Fatal(err)
	}
	read := func(rows int, wantMode protocol.SyncMode, wantRead, wantRows int64) {
		t.Helper()
		if err := src.SetConfig(map[string]any{"count": rows}); err != nil {
			t.Fatal(err)
		}
		res, err := src.Read(ctx, source.UseCache(c), source.NoProgress())
		if err != nil {
			t.Fatal(err)
		}
		cs := res.Catalog().Streams[0]
		if cs.SyncMode != wantMode || cs.DestinationSyncMode != protocol.DestinationAppendDedup {
			t.Errorf("configured %s / %s, want %s / append_dedup", cs.SyncMode, cs.DestinationSyncMode, wantMode)
		}
		if n := res.StreamRecordsRead()["rows"]; n != wantRead {
			t.Errorf("read %d records, want %d", n, wantRead)
		}
		if n := count(t, ctx, res, "rows"); n != wantRows {
			t.Errorf("rows holds %d rows, want %d", n, wantRows)
		}
	}
	read(3, protocol.SyncFullRefresh, 3, 3)
	read(5, protocol.SyncFullRefresh, 5, 5) // merged by id: no row twice
	src.SetCursorField("rows", "id")
	read(5, protocol.SyncIncremental, 5, 5) // no state yet
	read(6, protocol.SyncIncremental, 1, 6) // the row after the state
}
