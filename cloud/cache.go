package cloud

// This file is the package's one use of the cache packages: opening a
// DuckDB or PostgreSQL destination as a goairbyte cache.

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/cache/postgres"
)

// CacheOption supplies what the server does not return.
type CacheOption func(*cacheSettings)

type cacheSettings struct {
	password string
	path     string
}

// WithPassword gives the PostgreSQL destination's password, which the
// server returns masked.
func WithPassword(password string) CacheOption {
	return func(c *cacheSettings) { c.password = password }
}

// WithDuckDBPath opens this DuckDB file instead of the destination_path the
// server reports (for a server whose paths are not this machine's).
func WithDuckDBPath(path string) CacheOption { return func(c *cacheSettings) { c.path = path } }

// Cache opens the destination the sync wrote to — a DuckDB file or a
// PostgreSQL schema — as a goairbyte cache whose datasets are the synced
// tables (with the connection's prefix). The caller closes it.
func (r *SyncResult) Cache(ctx context.Context, opts ...CacheOption) (*cache.Cache, error) {
	var cs cacheSettings
	for _, o := range opts {
		o(&cs)
	}
	d, err := r.conn.w.client.Destination(ctx, r.conn.info.DestinationID)
	if err != nil {
		return nil, err
	}
	schema, _ := d.Configuration["schema"].(string)
	if r.conn.info.NamespaceDefinition == "custom_format" && r.conn.info.NamespaceFormat != "" {
		// Airbyte puts each stream's namespace where the format says
		// ${SOURCE_NAMESPACE}, and nothing for a stream without one: the
		// usual case, and the one a cache of one schema can follow.
		schema = strings.ReplaceAll(r.conn.info.NamespaceFormat, "${SOURCE_NAMESPACE}", "")
	}
	// Airbyte prepends the prefix as it is; the cache joins its prefix
	// with "_". The two agree for the usual prefixes ending in "_".
	prefix := strings.TrimSuffix(r.conn.info.Prefix, "_")
	if prefix == r.conn.info.Prefix && prefix != "" {
		return nil, fmt.Errorf("cloud: connection prefix %q does not end in \"_\"; a goairbyte cache cannot name its tables as Airbyte does", prefix)
	}
	switch d.DestinationType {
	case "duckdb":
		path := cs.path
		if path == "" {
			path, _ = d.Configuration["destination_path"].(string)
		}
		var opts []duckdb.Option
		if schema != "" {
			opts = append(opts, duckdb.WithSchema(schema))
		}
		return cache.New(ctx, duckdb.NewConnector(path, opts...), cache.WithTablePrefix(prefix))
	case "postgres":
		if cs.password == "" {
			return nil, fmt.Errorf("cloud: the PostgreSQL destination %q needs its password: pass WithPassword", d.Name)
		}
		u := url.URL{Scheme: "postgres", User: url.UserPassword(fmt.Sprint(d.Configuration["username"]), cs.password),
			Host: fmt.Sprintf("%v:%v", d.Configuration["host"], jsonInt(d.Configuration["port"], 5432)),
			Path: "/" + fmt.Sprint(d.Configuration["database"]), RawQuery: "sslmode=" + sslMode(d.Configuration)}
		var opts []postgres.Option
		if schema != "" {
			opts = append(opts, postgres.WithSchema(schema))
		}
		return cache.New(ctx, postgres.NewConnector(u.String(), opts...), cache.WithTablePrefix(prefix))
	}
	return nil, fmt.Errorf("cloud: destination %q is %s; only duckdb and postgres destinations open as a cache", d.Name, d.DestinationType)
}

func jsonInt(v any, def int) int {
	if f, ok := v.(float64); ok {
		return int(f)
	}
	return def
}

// sslMode maps destination-postgres's ssl_mode to libpq's sslmode.
func sslMode(cfg map[string]any) string {
	m, _ := cfg["ssl_mode"].(map[string]any)
	if mode, _ := m["mode"].(string); mode != "" {
		return mode
	}
	return "disable"
}
