package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// TestLockedDownRole runs the cache as a shared server's DBA has it: a role
// without CREATE on the database, its schema created ahead by the DBA and
// left off its search_path, and the limits a DBA sets on a role. The open
// failed on the schema that was there ("permission denied for database":
// CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the
// schema exists), and each limit's error said what the server said and
// nothing of what to do; now each names the setting and how to change it,
// and the next load, the limit lifted, resumes with nothing lost or
// doubled.
func TestLockedDownRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn, admin := openAdmin(t)
	role, roleDSN := loginRole(t, admin, dsn, "loader", `CREATE SCHEMA team_a AUTHORIZATION %s`, `ALTER ROLE %s SET search_path = public`)
	withSchema := func(schema string) string { return inSchema(t, roleDSN, schema) }
	// Each setting applies from the role's next session: a cache opened
	// afresh for each step.
	alter := func(setting string) {
		t.Helper()
		q := `ALTER ROLE ` + role + ` ` + setting
		if strings.HasPrefix(setting, "ALTER ") {
			q = setting
		}
		if _, err := admin.ExecSQL(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	cat := cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
	// Ids [from, to), a state after each 1,000, pausing a second before
	// the id pause (-1: none).
	msgs := func(from, to, pause int) func(yield func(*protocol.Message, error) bool) {
		return func(yield func(*protocol.Message, error) bool) {
			for i := from; i < to; i++ {
				if i == pause {
					time.Sleep(time.Second)
				}
				if !yield(cachetest.Rec("users", fmt.Sprintf(`{"id":%d}`, i)), nil) {
					return
				}
				if (i+1)%1000 == 0 && !yield(cachetest.StreamState("users", fmt.Sprintf(`{"id":%d}`, i+1)), nil) {
					return
				}
			}
		}
	}
	// load opens the cache afresh and loads the ids after its state up to
	// to; it returns the open's or the load's error.
	load := func(to, pause int) error {
		t.Helper()
		c, err := openDSN(ctx, withSchema("team_a"))
		if err != nil {
			return err
		}
		defer c.Close()
		from := 0
		if st, err := c.State(ctx, cache.StateKey{Source: "s", Stream: "users"}); err != nil {
			t.Fatal(err)
		} else if st != nil {
			fmt.Sscanf(strings.TrimPrefix(string(st.Stream.StreamState), `{"id":`), "%d", &from)
		}
		_, err = c.Load(ctx, cache.LoadRequest{SourceName: "s", Catalog: cat, Messages: msgs(from, to, pause), BatchSize: 100_000})
		return err
	}
	if err := load(2000, -1); err != nil {
		t.Fatalf("opening the cache in the schema the DBA made, and loading: %v", err)
	}
	for _, q := range []string{`ALTER TABLE team_a.users ENABLE ROW LEVEL SECURITY`, `CREATE POLICY evens ON team_a.users USING (id % 2 = 0) WITH CHECK (true)`} {
		if _, err := admin.ExecSQL(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// A schema the DBA did not make: the role may not.
	if _, err := openDSN(ctx, withSchema("team_b")); err == nil || !strings.Contains(err.Error(), `CREATE SCHEMA "team_b" AUTHORIZATION`) {
		t.Fatalf("opening in a schema the role may not create: %v; want the DBA's way out", err)
	}
	steps := []struct {
		setting, reset, want string
		hold                 bool // the DBA holds the table meanwhile
	}{
		{`SET default_transaction_read_only = on`, `RESET default_transaction_read_only`, "default_transaction_read_only = off", false},
		{`SET statement_timeout = '1ms'`, `RESET statement_timeout`, "SET statement_timeout", false},
		// The transaction stays open, idle, while the source takes a
		// second over the records after its first COPY of 25,000 (its
		// states came at once, and do not commit until 100,000 records).
		{`SET idle_in_transaction_session_timeout = '100ms'`, `RESET idle_in_transaction_session_timeout`, "SET idle_in_transaction_session_timeout", false},
		// A VACUUM FULL's lock, held until the load has failed.
		{`SET lock_timeout = '50ms'`, `RESET lock_timeout`, "SET lock_timeout", true},
		// Not a setting of the role: the DBA's row-level security on the
		// table, forced on its owner.
		{`ALTER TABLE team_a.users FORCE ROW LEVEL SECURITY`, `ALTER TABLE team_a.users NO FORCE ROW LEVEL SECURITY`, "NO FORCE ROW LEVEL SECURITY", false},
	}
	to := 2000
	for _, s := range steps {
		alter(s.setting)
		var holder *sql.Tx
		if s.hold {
			var err error
			if holder, err = admin.DB().BeginTx(ctx, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := holder.ExecContext(ctx, `LOCK TABLE team_a.users IN ACCESS EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
		}
		to += 60_000
		err := load(to, to-30_000)
		if holder != nil {
			holder.Rollback()
		}
		if err == nil || !strings.Contains(err.Error(), s.want) {
			t.Errorf("a load with the role's %s: %v; want the setting and how to change it", s.setting, err)
		}
		alter(s.reset)
		if err := load(to, -1); err != nil {
			t.Fatalf("the load after %s: %v", s.reset, err)
		}
	}
	c, err := openDSN(ctx, withSchema("team_a"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cachetest.Equal(t, "rows, distinct ids and the greatest", cachetest.Strings(t, c, `SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || max(id) FROM team_a.users`),
		[]string{fmt.Sprintf("%d %d %d", to, to, to-1)})
	// No connection left for the role.
	alter(`CONNECTION LIMIT 1`)
	if _, err := openDSN(ctx, withSchema("team_a")); err == nil || !strings.Contains(err.Error(), "CONNECTION LIMIT") {
		t.Errorf("opening with a connection limit of 1: %v; want how to raise it", err)
	}
}

// TestPublishedTables runs the cache's loads on tables that a DBA's
// publications (logical replication) name. A replace dropped the table
// from a publication naming it, silently: the new table was in none, and
// replication of the stream stopped. Now a replace keeps the new table in
// a publication the role owns, and is refused before it loads anything
// when the role does not own it, naming the publication. A merge of keys
// the table held, under a publication of all tables, failed on the delete
// of the older rows with the server's "does not have a replica identity"
// only; now the error says how to give the table one.
func TestPublishedTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn, admin := openAdmin(t)
	cat := func(s protocol.SyncMode) *protocol.ConfiguredCatalog {
		return cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"}}`, s, [][]string{{"id"}}, "id"))
	}
	// load loads users 1 and 2; a load that ends well must have written
	// both (a replace swapped in).
	load := func(c *cache.Cache, strategy cache.Strategy) error {
		users := cachetest.Messages(cachetest.Rec("users", `{"id":1}`), cachetest.Rec("users", `{"id":2}`), cachetest.StreamState("users", `{"id":2}`))
		res, err := c.Load(ctx, cache.LoadRequest{SourceName: "s", Catalog: cat(protocol.SyncFullRefresh), Messages: users, Strategy: strategy})
		if err == nil && res.Records["users"] != 2 {
			t.Fatalf("the load wrote %v", res.Records)
		}
		return err
	}
	published := func(c *cache.Cache, table string) []string {
		return cachetest.Strings(t, c, `SELECT pubname FROM pg_publication_tables WHERE tablename = ? ORDER BY 1`, table)
	}
	// The admin's own publication: the replace keeps the new table in it.
	if err := load(admin, cache.StrategyReplace); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecSQL(ctx, `CREATE PUBLICATION users_out FOR TABLE users`); err != nil {
		t.Fatal(err)
	}
	if err := load(admin, cache.StrategyReplace); err != nil {
		t.Fatalf("a replace of a table in the role's own publication: %v", err)
	}
	cachetest.Equal(t, "publications of users after the replace", published(admin, "users"), []string{"users_out"})
	// A loader's table in the DBA's publication: refused, nothing loaded.
	_, loaderDSN := loginRole(t, admin, dsn, "loader", `CREATE SCHEMA team_a AUTHORIZATION %s`)
	loader, err := openDSN(ctx, inSchema(t, loaderDSN, "team_a"))
	if err != nil {
		t.Fatal(err)
	}
	defer loader.Close()
	if err := load(loader, cache.StrategyReplace); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecSQL(ctx, `CREATE PUBLICATION team_a_out FOR TABLE team_a.users`); err != nil {
		t.Fatal(err)
	}
	err = load(loader, cache.StrategyReplace)
	if !errors.Is(err, cache.ErrStrategy) || !strings.Contains(err.Error(), "publication team_a_out") || !strings.Contains(err.Error(), "DROP TABLE") {
		t.Errorf("a replace of a table in another role's publication: %v; want ErrStrategy naming the publication and what to do", err)
	}
	cachetest.Equal(t, "publications of team_a.users after the refused replace", published(admin, "users"), []string{"team_a_out", "users_out"})
	// Every table published, deletes too: a merge of keys the table
	// holds says how to give the table a replica identity.
	if _, err := admin.ExecSQL(ctx, `CREATE PUBLICATION everything FOR ALL TABLES`); err != nil {
		t.Fatal(err)
	}
	if err := load(loader, cache.StrategyMerge); err == nil || !strings.Contains(err.Error(), "REPLICA IDENTITY FULL") {
		t.Errorf("a merge under a publication of deletes: %v; want how to give the table a replica identity", err)
	}
	if _, err := admin.ExecSQL(ctx, `ALTER TABLE team_a.users REPLICA IDENTITY FULL`); err != nil {
		t.Fatal(err)
	}
	if err := load(loader, cache.StrategyMerge); err != nil {
		t.Fatalf("the merge once the table has a replica identity: %v", err)
	}
	cachetest.Equal(t, "rows and distinct ids", cachetest.Strings(t, loader, `SELECT count(*) || ' ' || count(DISTINCT id) FROM team_a.users`), []string{"2 2"})
}

// openAdmin returns a fresh database of t's and a cache on it as the test
// server's user, closed when t ends.
func openAdmin(t *testing.T) (dsn string, admin *cache.Cache) {
	t.Helper()
	dsn = testenv.Postgres(t)
	admin, err := openDSN(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return dsn, admin
}

// inSchema is the postgres:// URL dsn with its schema parameter set.
func inSchema(t *testing.T, dsn, schema string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("schema", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
