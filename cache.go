package goairbyte

import (
	"context"
	"os"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/airbytedirs"
	"github.com/x/goairbyte/internal/cachename"
	"github.com/x/goairbyte/internal/core"
)

// DefaultCache returns the default Environment's default cache, the DuckDB
// file default_cache/default_cache.duckdb in $AIRBYTE_CACHE_ROOT, else in
// $AIRBYTE_PROJECT_DIR/.cache, else in ./.cache under the working
// directory, as PyAirbyte's get_default_cache (Environment.SetCacheDir
// moves it). It is opened once per process and shared by every Read and
// Write that is given no cache. Nobody has to close it; closing it
// releases the file, and the next use opens it again. A program may exit
// with it open: its loads remove their spool files from the temp directory
// as they end, and what they committed since the last checkpoint is in the
// write-ahead log beside the file (default_cache.duckdb.wal), which the
// next open replays. To copy the file alone, close the cache first.
func DefaultCache(ctx context.Context) (*cache.Cache, error) {
	return core.EnvOf(connector.DefaultEnvironment()).DefaultCache(ctx)
}

// NewLocalCache opens (creating it if needed) a DuckDB cache called name in
// dir: the file dir/name/name.duckdb. The name may hold only letters,
// digits and underscores; an empty name gets a fresh unique one, "cache_"
// and a lower-case ULID (PyAirbyte's is the ULID alone).
// An empty dir means the cache root, as PyAirbyte's new_local_cache has
// it: $AIRBYTE_CACHE_ROOT, else $AIRBYTE_PROJECT_DIR/.cache, else ./.cache.
// The caller closes the cache.
func NewLocalCache(ctx context.Context, name, dir string, opts ...duckdb.Option) (*cache.Cache, error) {
	if err := cachename.Validate(name); err != nil {
		return nil, err
	}
	if name == "" {
		name = cachename.New()
	}
	if dir == "" {
		dir = airbytedirs.CacheRoot()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return cache.New(ctx, duckdb.NewConnector(cachename.Path(dir, name), opts...))
}

// NewPostgresCache opens a PostgreSQL cache from a DSN
// ("postgres://user:password@host:5432/db" or "host=… user=…"), in the
// schema public unless postgres.WithSchema or the DSN's schema parameter
// ("…/db?schema=airbyte") says otherwise; postgres.Config
// builds the DSN from the parts of the connection. Several programs may
// share one such cache. The caller closes it.
func NewPostgresCache(ctx context.Context, dsn string, opts ...postgres.Option) (*cache.Cache, error) {
	return cache.New(ctx, postgres.NewConnector(dsn, opts...))
}
