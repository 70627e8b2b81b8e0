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

// link holds package cache's two conversions between a Connector and its
// public Connector type, which wraps one: cache sets them in its init
// function (this package cannot import cache), so that a backend's
// NewConnector can return cache.Connector while the type shows users
// nothing of this package.
var link any

// linkFuncs are the conversions Link records, in terms of cache.Connector (T).
type linkFuncs[T any] struct {
	wrap   func(Connector) T
	unwrap func(T) Connector
}

// Link records package cache's conversions; its init function calls it.
func Link[T any](wrap func(Connector) T, unwrap func(T) Connector) {
	link = linkFuncs[T]{wrap, unwrap}
}

// Wrap returns c as package cache's Connector (T), for a backend's
// NewConnector. It panics if cache is not linked in or T is not its
// Connector.
func Wrap[T any](c Connector) T { return link.(linkFuncs[T]).wrap(c) }

// Unwrap returns the Connector that package cache's Connector (T) wraps,
// nil for the zero one.
func Unwrap[T any](c T) Connector { return link.(linkFuncs[T]).unwrap(c) }
