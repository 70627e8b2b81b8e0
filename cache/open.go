package cache

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/cache/internal/registry"
	"github.com/x/goairbyte/internal/cacheerr"
)

// The query parameters Open takes out of every cache URL before the
// backend sees it.
const (
	paramSchema = "schema"
	paramPrefix = "table_prefix"
)

// backendImports names the package that registers each scheme goairbyte
// ships a backend for, for the error about a scheme nobody registered.
var backendImports = map[string]string{
	"duckdb":     "github.com/x/goairbyte/cache/duckdb",
	"postgres":   "github.com/x/goairbyte/cache/postgres",
	"postgresql": "github.com/x/goairbyte/cache/postgres",
}

// Open opens (creating it if needed) the cache the URL names, on the
// backend registered for its scheme — as sql.Open finds a driver, so the
// program imports the backend for its side effect:
//
//	import _ "github.com/x/goairbyte/cache/duckdb"
//
//	c, err := cache.Open(ctx, "duckdb:///var/lib/sync/cache.duckdb")
//
// The URLs of goairbyte's backends:
//
//	duckdb:///abs/path/file.duckdb    a DuckDB file, by absolute path
//	duckdb:rel/path/file.duckdb       a DuckDB file, relative to the working directory
//	duckdb::memory:                   an in-memory DuckDB database, gone when closed
//	postgres://user:pw@host:5432/db   a PostgreSQL database (postgresql:// too)
//
// Two query parameters apply to every backend: schema (the same as
// [WithSchema]) and table_prefix (as [WithTablePrefix]); a URL and an
// option that disagree are an error. The others belong to the backend:
// DuckDB takes memory_limit, write_threads, batch_size and
// string_compression (see package cache/duckdb); PostgreSQL takes the
// connection parameters pgx does (sslmode, connect_timeout, work_mem, …).
// A parameter the backend does not know is an error. Errors never show
// the URL's password.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Cache, error) {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	conn, err := s.connector(rawURL)
	if err != nil {
		return nil, &cacheerr.ArgumentError{Err: err}
	}
	return newCache(ctx, conn, s.prefix)
}

// connector is the backend's connector for rawURL, with the schema and
// table prefix taken into s: everything Open finds wrong before it
// connects.
func (s *settings) connector(rawURL string) (backend.Connector, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error repeats the URL, password and all
		}
		return nil, fmt.Errorf("cache: the cache URL is not valid: %v", err)
	}
	if rawURL == "" {
		return nil, errors.New("cache: no cache URL given; write duckdb:path/file.duckdb, duckdb::memory: or postgres://user@host/db")
	}
	if u.Scheme == "" {
		return nil, fmt.Errorf("cache: the cache URL %q has no scheme; write duckdb:%s for a DuckDB file, or postgres://user@host/db", u.Redacted(), u.Redacted())
	}
	o, ok := registry.Lookup(u.Scheme)
	if !ok {
		return nil, unknownScheme(u.Scheme)
	}
	if err := s.takeURLParams(u); err != nil {
		return nil, err
	}
	return o.(backend.Opener)(u, s.schema)
}

// unknownScheme is the error for a URL scheme no backend registered: it
// names those that are, and the import that would register this one.
func unknownScheme(scheme string) error {
	registered := "none is registered"
	if l := registry.Schemes(); len(l) > 0 {
		registered = "registered: " + strings.Join(l, ", ")
	}
	imp := backendImports[scheme]
	if imp == "" {
		return fmt.Errorf("cache: no cache backend serves URLs of scheme %q (%s); goairbyte's backends are duckdb (import _ %q) and postgres (import _ %q)",
			scheme, registered, backendImports["duckdb"], backendImports["postgres"])
	}
	return fmt.Errorf("cache: no cache backend serves URLs of scheme %q (%s); add import _ %q to the program", scheme, registered, imp)
}

// takeURLParams moves the schema and table prefix from u's query into s,
// refusing a URL and an option that disagree.
func (s *settings) takeURLParams(u *url.URL) error {
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fmt.Errorf("cache: the query of cache URL %s is not valid: %v", u.Redacted(), err)
	}
	take := func(param, option string, val *string, set *bool) error {
		vs, ok := q[param]
		if !ok {
			return nil
		}
		if len(vs) > 1 {
			return fmt.Errorf("cache: the cache URL %s gives %s %d times", u.Redacted(), param, len(vs))
		}
		if *set && *val != vs[0] {
			return fmt.Errorf("cache: the cache URL says %s=%s and the option %s says %q; give one", param, vs[0], option, *val)
		}
		*val, *set = vs[0], true
		q.Del(param)
		return nil
	}
	if err := take(paramSchema, "WithSchema", &s.schema, &s.schemaSet); err != nil {
		return err
	}
	if err := take(paramPrefix, "WithTablePrefix", &s.prefix, &s.prefixSet); err != nil {
		return err
	}
	u.RawQuery = q.Encode()
	return nil
}
