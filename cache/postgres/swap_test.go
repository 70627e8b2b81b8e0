package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// TestReplaceUnderGrantsAndViews follows an analytics team that reads a
// stream's table as a role of its own and through views: a replace (the
// auto strategy of a stream with neither key nor cursor, every sync) keeps
// the role's grants on the new table, and one whose table a view or a
// materialized view reads is refused before it loads, naming them and
// what to do, where PostgreSQL's refusal to drop the table came once every
// record was in; a view made while the load runs refuses its swap alike.
// The table keeps its rows each time.
func TestReplaceUnderGrantsAndViews(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	c, err := openDSN(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Close() }()
	// Streams before and after items that no view reads: the views are
	// looked up for all three at once.
	cat := cachetest.Catalog(cachetest.Stream("aisles", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil),
		cachetest.Stream("items", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil),
		cachetest.Stream("shelves", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil))
	load := func(n int, during func()) error {
		var msgs []*protocol.Message
		for i := 1; i <= n; i++ {
			for _, s := range []string{"aisles", "items", "shelves"} {
				msgs = append(msgs, cachetest.Rec(s, fmt.Sprintf(`{"id":%d}`, i)))
			}
		}
		seq := cachetest.Messages(msgs...)
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Messages: func(yield func(*protocol.Message, error) bool) {
			for m, err := range seq {
				if !yield(m, err) {
					return
				}
				if during != nil {
					during()
					during = nil
				}
			}
		}})
		return err
	}
	if err := load(2, nil); err != nil {
		t.Fatal(err)
	}
	_, reader := loginRole(t, c, dsn, "analyst", `GRANT SELECT ON items TO %s`, `GRANT UPDATE ON items TO %s WITH GRANT OPTION`, `GRANT INSERT ON items TO PUBLIC`)
	acl := func() string {
		var s string
		if err := c.DB().QueryRowContext(ctx, `SELECT array_to_string(array(SELECT a.privilege_type || ' ' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE r.rolname END || CASE WHEN a.is_grantable THEN ' grantable' ELSE '' END
FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
WHERE c.oid = 'public.items'::regclass AND a.grantee <> c.relowner ORDER BY 1), ', ')`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := acl()
	if err := load(3, nil); err != nil {
		t.Fatal(err)
	}
	if got := acl(); got != before {
		t.Fatalf("grants on items after a replace: %q, want those before it: %q", got, before)
	}
	r, err := pgx.Connect(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	rows := func(r *pgx.Conn) int {
		var n int
		if err := r.QueryRow(ctx, `SELECT count(*) FROM items`).Scan(&n); err != nil {
			t.Fatalf("the analyst's count after a replace: %v", err)
		}
		return n
	}
	if n := rows(r); n != 3 {
		t.Fatalf("the analyst counts %d rows, want 3", n)
	}

	for _, q := range []string{`CREATE VIEW items_v AS SELECT id FROM items`, `CREATE MATERIALIZED VIEW items_mv AS SELECT id FROM items`} {
		if _, err := c.ExecSQL(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	err = load(4, nil)
	if !errors.Is(err, cache.ErrStrategy) || !strings.Contains(err.Error(), `stream "items"`) ||
		!strings.Contains(err.Error(), "materialized view public.items_mv, view public.items_v read its table") ||
		!strings.Contains(err.Error(), "(DROP MATERIALIZED VIEW public.items_mv; DROP VIEW public.items_v)") {
		t.Fatalf("a replace of a table a view and a materialized view read: %v; want an ErrStrategy naming them and what to do", err)
	}
	t.Logf("a replace of a table a view reads: %v", err)
	if n := rows(r); n != 3 {
		t.Fatalf("%d rows after the refused replace, want the 3 before it", n)
	}

	if _, err := c.ExecSQL(ctx, `DROP VIEW items_v; DROP MATERIALIZED VIEW items_mv`); err != nil {
		t.Fatal(err)
	}
	err = load(5, func() {
		if _, err := c.ExecSQL(ctx, `CREATE VIEW items_late AS SELECT id FROM items`); err != nil {
			t.Error(err)
		}
	})
	if !errors.Is(err, cache.ErrStrategy) || !strings.Contains(err.Error(), "public.items_late") {
		t.Fatalf("a replace of a table a view made during the load reads: %v; want an ErrStrategy naming the view", err)
	}
	if n := rows(r); n != 3 {
		t.Fatalf("%d rows after the refused swap, want the 3 before it", n)
	}
	if _, err := c.ExecSQL(ctx, `DROP VIEW items_late`); err != nil {
		t.Fatal(err)
	}
	if err := load(6, nil); err != nil {
		t.Fatal(err)
	}
	if n := rows(r); n != 6 {
		t.Fatalf("the analyst counts %d rows after the views went, want 6", n)
	}
}
