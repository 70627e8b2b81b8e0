package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// TestPrefixes: a table prefix is a space of its own in a PostgreSQL
// schema, and a cache of format 1 is upgraded, once when several open it
// at once (see cachetest.Prefixes).
func TestPrefixes(t *testing.T) {
	t.Parallel()
	cachetest.Prefixes(t, testenv.Postgres, openPrefixed, testenv.BuildBinary(t, "./cmd/source-faker"))
}

// TestNamespaces: a PostgreSQL cache never mixes two namespaces' streams
// of one name in one table, and a cache of format 2 is upgraded (see
// cachetest.Namespaces).
func TestNamespaces(t *testing.T) {
	t.Parallel()
	cachetest.Namespaces(t, testenv.Postgres, openPrefixed)
}

// openPrefixed opens the PostgreSQL cache at dsn with a table prefix.
func openPrefixed(ctx context.Context, dsn, prefix string) (*cache.Cache, error) {
	return cache.New(ctx, postgres.NewConnector(dsn), cache.WithTablePrefix(prefix))
}

// A role that may only read cannot upgrade a cache of format 1 or 2,
// which earlier versions let it open: the error says that the first open
// of this version needs the right to alter the cache's tables; and once
// the owner's open has upgraded it, the reader still opens it and reads
// its states and table owners: the upgrade keeps the internal tables'
// grants (it created the state table anew, which hid it from the reader,
// and the reader's open said that the cache had lost its states).
func TestUpgradeNeedsARoleThatMayWrite(t *testing.T) {
	t.Parallel()
	for _, format := range []int{1, 2} {
		t.Run(fmt.Sprintf("format %d", format), func(t *testing.T) {
			t.Parallel()
			testUpgradeNeedsARoleThatMayWrite(t, format)
		})
	}
}

func testUpgradeNeedsARoleThatMayWrite(t *testing.T, format int) {
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	w, err := openDSN(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { w.Close() }()
	cat := cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
	if _, err := w.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat,
		Messages: cachetest.Messages(cachetest.Rec("users", `{"id":1}`), cachetest.StreamState("users", `{"id":1}`))}); err != nil {
		t.Fatal(err)
	}
	// Format 2, as a version before namespaces were recorded left it.
	downgrade := []string{`ALTER TABLE _airbyte_streams DROP COLUMN namespace`, `UPDATE _airbyte_cache_format SET format = 2`}
	if format == 1 {
		// Format 1, as a version before states were kept per prefix left it.
		downgrade = append(downgrade, `ALTER TABLE _airbyte_state DROP CONSTRAINT _airbyte_state_pkey`, `ALTER TABLE _airbyte_state DROP COLUMN table_prefix`,
			`ALTER TABLE _airbyte_state ADD PRIMARY KEY (source_name, destination_name, stream_name)`, `UPDATE _airbyte_cache_format SET format = 1`)
	}
	_, reader := loginRole(t, w, dsn, "reader", append([]string{`GRANT SELECT ON ALL TABLES IN SCHEMA public TO %s`}, downgrade...)...)
	_, err = openDSN(ctx, reader)
	if err == nil || !strings.Contains(err.Error(), "SQLSTATE 42501") || !strings.Contains(err.Error(), "right to alter the cache's tables, on PostgreSQL as their owner") {
		t.Fatalf("a reader's open of a cache of format %d: %v; want the database's refusal, and that the first open of this version needs the right to alter its tables", format, err)
	}
	t.Logf("a reader's open of a cache of format %d: %v", format, err)
	w.Close()
	if w, err = openDSN(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	r, err := openDSN(ctx, reader)
	if err != nil {
		t.Fatalf("a reader's open once a writer's upgraded the cache: %v", err)
	}
	defer r.Close()
	if st, err := r.SourceState(ctx, "src", nil); err != nil || !strings.Contains(string(st), `{"id":1}`) {
		t.Fatalf("the reader's SourceState: %s, %v", st, err)
	}
	cachetest.Equal(t, "the table owners the reader reads", cachetest.Strings(t, r, `SELECT table_name || '|' || source_name || '|' || COALESCE(namespace, 'NULL') FROM _airbyte_streams`), []string{"users|src|NULL"})
}
