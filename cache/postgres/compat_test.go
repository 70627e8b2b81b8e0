package postgres_test

import (
	"context"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/postgres"
	"testing"

	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
)

// TestCompat opens PostgreSQL schemas that earlier versions of goairbyte
// wrote and continues them (see cachetest.Compat).
func TestCompat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds earlier versions of goairbyte")
	}
	cachetest.Compat(t, "postgres", testenv.Postgres, openPrefixed, testenv.BuildBinary(t, "./cmd/source-faker"))
}

// TestDamaged opens PostgreSQL schemas whose internal tables were changed
// by hand (see cachetest.Damaged).
func TestDamaged(t *testing.T) {
	t.Parallel()
	cachetest.Damaged(t, testenv.Postgres, openDSN)
}

// TestPyAirbyte opens a PostgreSQL schema that PyAirbyte's PostgresCache
// filled (airbyte_raw; see cachetest.PyAirbyte): refused, unchanged; a
// cache in the database's public schema continues.
func TestPyAirbyte(t *testing.T) {
	t.Parallel()
	cachetest.PyAirbyte(t, cachetest.PyAirbyteTarget{
		Fresh:  testenv.Postgres,
		Raw:    cachetest.RawDB("pgx"),
		Schema: "airbyte_raw",
		Open: func(ctx context.Context, dsn string) (*cache.Cache, error) {
			return cache.New(ctx, postgres.NewConnector(dsn, postgres.WithSchema("airbyte_raw")))
		},
		Beside: openDSN,
		Reach:  func(string) ([]string, string) { return nil, "airbyte_raw." },
	})
}
