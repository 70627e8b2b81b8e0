package postgres_test

import (
	"context"
	"database/sql"
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
	dsn := testenv.Postgres(t)
	admin, err := openDSN(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	role, roleDSN := loginRole(t, admin, dsn, "loader", `CREATE SCHEMA team_a AUTHORIZATION %s`, `ALTER ROLE %s SET search_path = public`)
	withSchema := func(schema string) string {
		u, err := url.Parse(roleDSN)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("schema", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	// Each setting applies from the role's next session: a cache opened
	// afresh for each step.
	alter := func(setting string) {
		t.Helper()
		if _, err := admin.ExecSQL(ctx, `ALTER ROLE `+role+` `+setting); err != nil {
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
	}
	to := 2000
	for _, s := range steps {
		alter(s.setting)
		var holder *sql.Tx
		if s.hold {
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
