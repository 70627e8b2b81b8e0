package backend

import (
	"context"
	"net/url"

	"github.com/x/goairbyte/cache/internal/registry"
)

// Connector opens a Backend, as database/sql/driver's Connector opens
// connections: a backend package's constructor returns one, configured
// but not yet connected, and cache.New connects it. The cache owns the
// Backend it gets and closes it.
type Connector interface {
	// Connect opens the database.
	Connect(ctx context.Context) (Backend, error)
}

// Opener turns a cache URL of a scheme the backend registered into a
// Connector, without I/O: it validates the URL and its query parameters
// and fails on anything it does not know. schema is the schema the cache's
// tables go into, "" for the backend's default; package cache has taken
// it (and the table prefix) out of the URL already.
type Opener func(u *url.URL, schema string) (Connector, error)

// Register makes the backend open serve cache URLs of scheme (such as
// "duckdb" or "postgres"). It is called from the backend package's init
// function and panics if scheme is registered twice or open is nil, as
// database/sql.Register does.
func Register(scheme string, open Opener) {
	if open == nil {
		panic("cache: backend.Register of scheme " + scheme + " with a nil Opener")
	}
	registry.Register(scheme, open)
}
