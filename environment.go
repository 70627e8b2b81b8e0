package goairbyte

import (
	"context"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/connectors/faker"
	"github.com/x/goairbyte/connectors/localjson"
	"github.com/x/goairbyte/connectors/manifestsource"
	"github.com/x/goairbyte/connectors/noop"
	"github.com/x/goairbyte/internal/cachename"
	"github.com/x/goairbyte/internal/core"
)

// Environment is what the connectors of a program (or of one tenant of a
// server) share: registry, secret managers, in-process connectors, default
// cache, logger and progress output; see [connector.Environment]. Pass one
// to GetSource and GetDestination with connector.WithEnvironment.
type Environment = connector.Environment

// defaultCacheName is the name of the default DuckDB cache, as in
// PyAirbyte: the file <cache dir>/default_cache/default_cache.duckdb.
const defaultCacheName = "default_cache"

func init() { wire(connector.DefaultEnvironment()) }

// DefaultEnvironment returns the process-wide Environment, which every
// Source and Destination uses unless given another one. This package
// wires into it what needs cgo or our own connectors: the DuckDB default
// cache and the connectors that run in process (source-faker,
// destination-local-json, destination-noop, source-declarative-manifest).
// A secret its managers do not have is looked up in the process's
// environment variables, ./.env and an interactive prompt, as PyAirbyte
// looks it up.
func DefaultEnvironment() *Environment { return connector.DefaultEnvironment() }

// NewEnvironment returns an Environment of its own, wired as the default
// one is (DuckDB default cache, in-process connectors) but sharing nothing
// with it: its own registry, secret managers, default cache handle, a
// silent logger and no progress output until its setters say otherwise.
// Its secrets come from its own managers (AddSecretManager) only, never
// from the process's environment variables, .env file or prompt: a
// tenant's secret_reference::NAME cannot read the server's.
func NewEnvironment() *Environment {
	env := connector.NewEnvironment()
	wire(env)
	return env
}

// wire registers the DuckDB default cache and goairbyte's own connectors,
// which then run in process with nothing to install: source-faker,
// destination-local-json, destination-noop and source-declarative-manifest
// (the manifest in its config, as Airbyte's image of that name takes it).
func wire(env *Environment) {
	core.EnvOf(env).SetDefaultCache(func(ctx context.Context, dir string) (*cache.Cache, error) {
		return cache.New(ctx, duckdb.NewConnector(cachename.Path(dir, defaultCacheName)))
	})
	env.RegisterConnector("source-faker", func() any { return faker.New() })
	env.RegisterConnector("destination-local-json", func() any { return localjson.New() })
	env.RegisterConnector(noop.Name, func() any { return noop.Destination{} })
	env.RegisterConnector("source-declarative-manifest", func() any { return manifestsource.New() })
}
