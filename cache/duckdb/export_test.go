package duckdb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/internal/cachetest"
)

// TestRecordLinesReplacedThroughAnotherCache: two caches open on one file
// share its database, so a replace loaded through one while the other
// exports the stream is a swap the export must learn of too.
func TestRecordLinesReplacedThroughAnotherCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "two.duckdb")
	var cs [2]*cache.Cache
	for i := range cs {
		c, err := cache.New(ctx, duckdb.NewConnector(path))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cs[i] = c
	}
	cachetest.RecordLinesReplacedBy(t, cs[0], cs[1])
}
