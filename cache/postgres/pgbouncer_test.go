package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// A DBA puts PgBouncer in front of the server. In session mode every open
// failed with PgBouncer's "unsupported startup parameter: work_mem", the
// work_mem the cache sent in its connections' startup packet, saying
// nothing of what to do; now the cache sets it once connected, and loads
// through PgBouncer as it does straight. In transaction (and statement)
// mode the open succeeded, and the load's session advisory lock stayed on
// a server session that PgBouncer handed on: the load failed with "context
// canceled" and left the source locked for as long as PgBouncer kept that
// session. Now the open fails, naming the pool mode and what to do, before
// the cache takes any lock.
func TestPgBouncer(t *testing.T) {
	t.Parallel()
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	cat := cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
	msgs := func(from, to int) func(yield func(*protocol.Message, error) bool) {
		return func(yield func(*protocol.Message, error) bool) {
			for i := from; i < to; i++ {
				if !yield(cachetest.Rec("users", fmt.Sprintf(`{"id":%d}`, i)), nil) {
					return
				}
			}
			yield(cachetest.StreamState("users", fmt.Sprintf(`{"id":%d}`, to)), nil)
		}
	}
	t.Run("session", func(t *testing.T) {
		c, err := openDSN(ctx, testenv.PgBouncer(t, dsn, "session"))
		if err != nil {
			t.Fatalf("opening the cache through PgBouncer in session mode: %v", err)
		}
		defer c.Close()
		for _, r := range [][2]int{{0, 1000}, {1000, 2500}} {
			if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "s", Catalog: cat, Messages: msgs(r[0], r[1]), BatchSize: 500}); err != nil {
				t.Fatalf("loading ids %d to %d through PgBouncer: %v", r[0], r[1], err)
			}
		}
		cachetest.Equal(t, "rows and distinct ids", cachetest.Strings(t, c, `SELECT CAST(count(*) AS text) || ' ' || CAST(count(DISTINCT id) AS text) FROM users`), []string{"2500 2500"})
		cachetest.Equal(t, "work_mem", cachetest.Strings(t, c, `SHOW work_mem`), []string{"64MB"})
	})
	for _, mode := range []string{"transaction", "statement"} {
		t.Run(mode, func(t *testing.T) {
			c, err := openDSN(ctx, testenv.PgBouncer(t, dsn, mode))
			if err == nil {
				c.Close()
				t.Fatalf("the cache opened through PgBouncer in %s mode", mode)
			}
			if msg := err.Error(); !strings.Contains(msg, "pool_mode = "+mode) || !strings.Contains(msg, "pool_mode=session") || !strings.Contains(msg, "directly") {
				t.Fatalf("the error does not name the pool mode and what to do: %v", err)
			}
			// No session of the server holds a lock the open took.
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var locks int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&locks); err != nil || locks != 0 {
				t.Fatalf("%d advisory locks held after the open failed (%v)", locks, err)
			}
		})
	}
}
