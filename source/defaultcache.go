package source

import (
	"context"
	"path/filepath"
	"sync"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
)

// The default caches opened by this process, by absolute file path. A DuckDB
// file can be open once per process, so every Read and Write that uses the
// default cache shares one handle; it stays open for the life of the
// process.
var (
	defaultMu     sync.Mutex
	defaultCaches = map[string]*cache.Cache{}
)

// DefaultCache returns the default cache: the DuckDB file
// ./.cache/default_cache/default_cache.duckdb under the working directory,
// created if needed. It is opened once per process and shared; closing it
// is allowed (the next call opens it again).
func DefaultCache(ctx context.Context) (*cache.Cache, error) {
	return sharedCache(ctx, duckdb.PathFor(".cache", "default_cache"))
}

// sharedCache opens the DuckDB cache at path once per process.
func sharedCache(ctx context.Context, path string) (*cache.Cache, error) {
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if c, ok := defaultCaches[path]; ok {
		if c.DB().PingContext(ctx) == nil {
			return c, nil
		}
		delete(defaultCaches, path)
	}
	c, err := cache.New(ctx, duckdb.NewConnector(path))
	if err != nil {
		return nil, err
	}
	defaultCaches[path] = c
	return c, nil
}
