package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// A later load of a source's merge streams reads each table before it
// writes (the greatest raw id, whether it has rows) and after (whether a
// key is there twice) in statements of many tables, not three statements
// of its own per table. Each such read outside a transaction is a
// transaction of the server's, so the test counts the transactions that
// pg_stat_database records for a later load of 16 and of 48 streams: 3.00
// more a stream before (71 and 167), 0.09 after (25 and 28). What is left
// per stream (its CREATE TABLE IF NOT EXISTS, the check of its raw-id
// index, COPY and DELETE of duplicates) runs inside the load's few
// transactions.
func TestLaterLoadTransactionsPerStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	count := func(streams int) int64 {
		dsn := testenv.Postgres(t)
		var cat []protocol.ConfiguredStream
		var msgs []*protocol.Message
		for i := range streams {
			name := fmt.Sprintf("s%04d", i)
			cat = append(cat, cachetest.Stream(name, `{"id":{"type":"integer"},"a":{"type":"string"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
			msgs = append(msgs, cachetest.Rec(name, `{"id":1,"a":"x"}`), cachetest.Rec(name, `{"id":2,"a":"y"}`), cachetest.StreamState(name, `{"id":2}`))
		}
		load := func() {
			c, err := openDSN(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			res, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-many", Catalog: cachetest.Catalog(cat...), Messages: cachetest.Messages(msgs...)})
			if err != nil || res.Total != int64(2*streams) || res.States != int64(streams) {
				t.Fatalf("load: %v, %+v", err, res)
			}
		}
		load()
		load()
		before := testenv.PostgresTransactions(t, dsn)
		load()
		return testenv.PostgresTransactions(t, dsn) - before
	}
	n16, n48 := count(16), count(48)
	if per := float64(n48-n16) / 32; per > 0.5 {
		t.Errorf("a later load of 16 streams ran %d transactions, of 48 streams %d: %.2f a stream, want at most 0.5", n16, n48, per)
	}
	if testing.Verbose() {
		t.Logf("transactions: %d and %d", n16, n48)
	}
}
