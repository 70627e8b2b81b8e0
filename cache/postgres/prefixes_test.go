package postgres_test

import (
	"context"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
)

// TestPrefixes: a table prefix is a space of its own in a PostgreSQL
// schema, and a cache of format 1 is upgraded, once when several open it
// at once (see cachetest.Prefixes).
func TestPrefixes(t *testing.T) {
	t.Parallel()
	cachetest.Prefixes(t, testenv.Postgres, func(ctx context.Context, dsn, prefix string) (*cache.Cache, error) {
		return cache.New(ctx, postgres.NewConnector(dsn), cache.WithTablePrefix(prefix))
	}, testenv.BuildBinary(t, "./cmd/source-faker"))
}
