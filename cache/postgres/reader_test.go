package postgres_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// TestReaderOfStreamTablesOnly opens a cache as an analyst's role granted
// SELECT on a stream's table only: the open fails (it cannot read the
// internal tables, and so tries to create them), saying which grants the
// role lacks, where it said only that the role may not create tables; given
// them, it opens and reads the stream.
func TestReaderOfStreamTablesOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	w, err := openDSN(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cat := cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
	if _, err := w.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat,
		Messages: cachetest.Messages(cachetest.Rec("users", `{"id":1}`), cachetest.StreamState("users", `{"id":1}`))}); err != nil {
		t.Fatal(err)
	}
	role, reader := loginRole(t, w, dsn, "analyst", `GRANT SELECT ON users TO %s`)
	_, err = openDSN(ctx, reader)
	if err == nil || !strings.Contains(err.Error(), "permission denied") || !strings.Contains(err.Error(), `SELECT on "public"."_airbyte_state", "public"."_airbyte_streams" and "public"."_airbyte_cache_format"`) {
		t.Fatalf("opening as a role that may read a stream's table only: %v; want the database's refusal and the grants the role lacks", err)
	}
	t.Logf("opening as a role that may read a stream's table only: %v", err)
	if _, err := w.ExecSQL(ctx, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO `+role); err != nil {
		t.Fatal(err)
	}
	r, err := openDSN(ctx, reader)
	if err != nil {
		t.Fatalf("opening once granted SELECT on every table: %v", err)
	}
	defer r.Close()
	ds, err := r.Dataset(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ds.Count(ctx); err != nil || n != 1 {
		t.Fatalf("the analyst's count: %d, %v; want 1", n, err)
	}
}

// loginRole makes a login role of the server of dsn, named after the
// database c has open and suffix (roles are the server's, shared by the
// tests' databases), with USAGE on schema public, runs each of stmts with
// %s as the role, and returns the role and a DSN that logs in as it. The
// role is dropped when the test ends.
func loginRole(t *testing.T, c *cache.Cache, dsn, suffix string, stmts ...string) (role, roleDSN string) {
	t.Helper()
	ctx := context.Background()
	var db string
	if err := c.DB().QueryRowContext(ctx, `SELECT current_database()`).Scan(&db); err != nil {
		t.Fatal(err)
	}
	role = db + "_" + suffix
	if _, err := c.ExecSQL(ctx, `CREATE ROLE `+role+` LOGIN`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Before testenv drops the database: the role's grants in it
		// go first, then the role.
		if c, err := openDSN(context.Background(), dsn); err == nil {
			c.ExecSQL(context.Background(), `DROP OWNED BY `+role)
			c.ExecSQL(context.Background(), `DROP ROLE `+role)
			c.Close()
		}
	})
	for _, q := range append([]string{`GRANT USAGE ON SCHEMA public TO %s`}, stmts...) {
		q = strings.ReplaceAll(q, "%s", role)
		if _, err := c.ExecSQL(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	return role, u.String()
}
