// Package fakersync runs the syncs of goairbyte's fake remote services:
// goairbyte's faker source, read into a DuckDB file or a PostgreSQL schema
// through the cache packages, which stand in for the service's destination
// of the same kind. It is the one place where those servers use the rest of
// goairbyte.
package fakersync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/shareddata"
	"github.com/x/goairbyte/source"
)

// Destination is where a sync writes: a DuckDB file or a PostgreSQL
// database, a schema ("" for the backend's default) and a table prefix
// (joined to the stream name with "_").
type Destination struct {
	DuckDBPath  string
	PostgresDSN string
	Schema      string
	Prefix      string
}

// Request is one sync.
type Request struct {
	Faker       string // the source-faker executable
	Config      map[string]any
	Streams     []string
	Destination Destination
	Strategy    Strategy // Append, Merge or Replace
	FullRefresh bool     // ignore the stored state
	// Clear drops the streams' tables instead of syncing.
	Clear bool
}

// Strategy is how a sync writes a stream's table.
type Strategy = cache.Strategy

// Strategies a request may name.
const (
	Append  = cache.StrategyAppend
	Merge   = cache.StrategyMerge
	Replace = cache.StrategyReplace
)

// DestinationError is a failure of the destination side.
type DestinationError struct{ Err error }

// Error says the destination failed.
func (e *DestinationError) Error() string { return "the destination failed: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *DestinationError) Unwrap() error { return e.Err }

// Open opens a destination as a cache.
func Open(ctx context.Context, d Destination) (*cache.Cache, error) {
	switch {
	case d.DuckDBPath != "":
		var opts []duckdb.Option
		if d.Schema != "" {
			opts = append(opts, duckdb.WithSchema(d.Schema))
		}
		return cache.New(ctx, duckdb.NewConnector(d.DuckDBPath, opts...), cache.WithTablePrefix(d.Prefix))
	case d.PostgresDSN != "":
		var opts []postgres.Option
		if d.Schema != "" {
			opts = append(opts, postgres.WithSchema(d.Schema))
		}
		return cache.New(ctx, postgres.NewConnector(d.PostgresDSN, opts...), cache.WithTablePrefix(d.Prefix))
	}
	return nil, errors.New("no DuckDB path or PostgreSQL DSN")
}

// Run syncs and returns the number of records written.
func Run(ctx context.Context, r Request) (int64, error) {
	c, err := Open(ctx, r.Destination)
	if err != nil {
		return 0, &DestinationError{err}
	}
	defer c.Close()
	if r.Clear {
		for _, st := range r.Streams {
			ds, err := c.Dataset(ctx, st)
			if err != nil {
				continue // no table: nothing to clear
			}
			if _, err := c.ExecSQL(ctx, "DROP TABLE IF EXISTS "+ds.QualifiedTableName()); err != nil {
				return 0, &DestinationError{err}
			}
		}
		return 0, nil
	}
	src, err := source.New(ctx, "source-faker", connector.WithLocalExecutable(r.Faker), connector.WithConfig(r.Config),
		connector.WithStreams(r.Streams...), connector.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return 0, err
	}
	opts := []source.ReadOption{source.UseCache(c), source.Strategy(r.Strategy), source.NoProgress()}
	if r.FullRefresh {
		opts = append(opts, source.ForceFullRefresh())
	}
	res, err := src.Read(ctx, opts...)
	if err != nil {
		return 0, err
	}
	return res.RecordsProcessed(), nil
}

// FailureType says what kind of failure err is, in Airbyte's terms: what
// the connector reported (config_error, system_error, transient_error), a
// config_error when goairbyte refused the config, else system_error; and
// whether the destination or the source failed.
func FailureType(err error) (typ, origin, message string) {
	typ, origin, message = "system_error", "source", err.Error()
	var de *DestinationError
	if errors.As(err, &de) {
		origin = "destination"
	}
	var ce *executor.ConnectorError
	if errors.As(err, &ce) && ce.FailureType != "" {
		typ = string(ce.FailureType)
		if ce.Message != "" {
			message = ce.Message
		}
	}
	var ve *connector.ConfigValidationError
	if errors.As(err, &ve) {
		typ = "config_error"
	}
	return typ, origin, message
}

// PostgresDSN builds a postgres:// URL from parts.
func PostgresDSN(host string, port int, database, user, password, sslmode string) string {
	u := url.URL{Scheme: "postgres", Host: fmt.Sprintf("%s:%d", host, port), Path: "/" + database, RawQuery: "sslmode=" + sslmode}
	if password != "" {
		u.User = url.UserPassword(user, password)
	} else {
		u.User = url.User(user)
	}
	return u.String()
}

// Properties lists the top-level properties of a faker stream's JSON
// schema, from shared/faker/schemas (the files the faker embeds), sorted.
func Properties(stream string) ([]string, error) {
	p, err := shareddata.Path("faker/schemas/" + stream + ".json")
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var sch struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(b, &sch); err != nil {
		return nil, fmt.Errorf("faker schema %s: %w", stream, err)
	}
	out := make([]string, 0, len(sch.Properties))
	for name := range sch.Properties {
		out = append(out, name)
	}
	slices.Sort(out)
	return out, nil
}
