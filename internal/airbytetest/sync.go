package airbytetest

// This file is the one place where the test server uses the rest of
// goairbyte: a sync runs the faker source (package source) into a DuckDB
// or PostgreSQL cache (packages cache/duckdb and cache/postgres), which
// stands in for Airbyte's destination of the same kind.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/source"
)

// syncPlan is what one attempt runs, copied out of the server's state.
type syncPlan struct {
	faker       string
	jobType     string
	sourceType  string
	sourceCfg   map[string]any
	destType    string
	destCfg     map[string]any
	streams     []string
	strategy    cache.Strategy
	fullRefresh bool
	schema      string
	prefix      string
}

// planSync prepares an attempt; s.mu is held.
func (s *Server) planSync(jobType string, c *connRec, src, dst *actor) (*syncPlan, error) {
	p := &syncPlan{faker: s.faker, jobType: jobType, sourceType: src.Def.Repository, sourceCfg: src.Config,
		destType: dst.Def.Repository, destCfg: dst.Config}
	// The destination prepends the prefix as it is, the cache joins its
	// own with "_": only prefixes ending in "_" (or none) carry over.
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "_") {
		return nil, fmt.Errorf("this test server supports only table prefixes that end in \"_\", not %q", c.Prefix)
	}
	p.prefix = strings.TrimSuffix(c.Prefix, "_")
	if p.sourceType != "airbyte/source-faker" {
		return nil, fmt.Errorf("this test server can run only source-faker, not %s", p.sourceType)
	}
	modes := map[string]bool{}
	for _, st := range c.Streams {
		p.streams = append(p.streams, st["name"].(string))
		m, _ := st["syncMode"].(string)
		modes[m] = true
	}
	// One cache strategy per sync: dedup wins over append over overwrite.
	switch {
	case modes["incremental_deduped_history"] || modes["full_refresh_overwrite_deduped"]:
		p.strategy = cache.StrategyMerge
	case modes["incremental_append"] || modes["full_refresh_append"]:
		p.strategy = cache.StrategyAppend
	default:
		p.strategy, p.fullRefresh = cache.StrategyReplace, true
	}
	if jobType == "refresh" || jobType == "clear" || jobType == "reset" {
		p.fullRefresh = true
	}
	p.schema, _ = dst.Config["schema"].(string)
	if c.NamespaceDefinition == "custom_format" && c.NamespaceFormat != "" {
		p.schema = strings.ReplaceAll(c.NamespaceFormat, "${SOURCE_NAMESPACE}", "")
	}
	return p, nil
}

// run syncs and returns the number of records written.
func (p *syncPlan) run(ctx context.Context) (int64, error) {
	c, err := p.openDestination(ctx)
	if err != nil {
		return 0, &destinationError{err}
	}
	defer c.Close()
	if p.jobType == "clear" || p.jobType == "reset" {
		for _, st := range p.streams {
			if t, err := c.TableName(st); err == nil {
				name := cache.Quote(t)
				if q, ok := c.(interface{ QualifiedName(string) string }); ok {
					name = q.QualifiedName(t)
				}
				if _, err := c.ExecSQL(ctx, "DROP TABLE IF EXISTS "+name); err != nil {
					return 0, &destinationError{err}
				}
			}
		}
		return 0, nil
	}
	src, err := source.New(ctx, "source-faker", source.WithLocalExecutable(p.faker), source.WithConfig(p.sourceCfg), source.WithStreams(p.streams...),
		source.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return 0, err
	}
	opts := []source.ReadOption{source.UseCache(c), source.Strategy(p.strategy), source.NoProgress()}
	if p.fullRefresh {
		opts = append(opts, source.ForceFullRefresh())
	}
	res, err := src.Read(ctx, opts...)
	if err != nil {
		return 0, err
	}
	return res.RecordsProcessed(), nil
}

// openDestination opens the destination's database as a cache.
func (p *syncPlan) openDestination(ctx context.Context) (cache.Cache, error) {
	switch p.destType {
	case "airbyte/destination-duckdb":
		path, _ := p.destCfg["destination_path"].(string)
		if path == "" || strings.HasPrefix(path, "md:") {
			return nil, errors.New("destination_path must be a DuckDB file path on this test server")
		}
		opts := []duckdb.Option{duckdb.WithTablePrefix(p.prefix)}
		if p.schema != "" {
			opts = append(opts, duckdb.WithSchema(p.schema))
		}
		return duckdb.New(ctx, path, opts...)
	case "airbyte/destination-postgres":
		opts := []postgres.Option{postgres.WithTablePrefix(p.prefix)}
		if p.schema != "" {
			opts = append(opts, postgres.WithSchema(p.schema))
		}
		return postgres.New(ctx, PostgresDSN(p.destCfg), opts...)
	}
	return nil, fmt.Errorf("this test server cannot write to %s", p.destType)
}

// PostgresDSN is the URL of the database a destination-postgres config
// names.
func PostgresDSN(cfg map[string]any) string {
	u := url.URL{Scheme: "postgres", Host: fmt.Sprintf("%v:%v", cfg["host"], portOf(cfg["port"])), Path: "/" + fmt.Sprint(cfg["database"])}
	user, _ := cfg["username"].(string)
	if pw, ok := cfg["password"].(string); ok {
		u.User = url.UserPassword(user, pw)
	} else {
		u.User = url.User(user)
	}
	u.RawQuery = "sslmode=disable"
	return u.String()
}

func portOf(v any) any {
	if f, ok := v.(float64); ok {
		return int(f)
	}
	if v == nil {
		return 5432
	}
	return v
}

type destinationError struct{ err error }

func (e *destinationError) Error() string { return "the destination failed: " + e.err.Error() }
func (e *destinationError) Unwrap() error { return e.err }

// classify turns a failed sync into Airbyte's failure reason: what the
// connector reported as its failure type, with its message.
func classify(err error) *failure {
	f := &failure{Origin: "source", Type: "system_error", Message: err.Error()}
	var de *destinationError
	if errors.As(err, &de) {
		f.Origin = "destination"
	}
	var ce *executor.ConnectorError
	if errors.As(err, &ce) && ce.FailureType != "" {
		f.Type = string(ce.FailureType)
		if ce.Message != "" {
			f.Message = ce.Message
		}
	}
	var ve *source.ConfigValidationError
	if errors.As(err, &ve) {
		f.Type = "config_error"
	}
	if !slices.Contains([]string{"config_error", "system_error", "transient_error"}, f.Type) {
		f.Type = "system_error"
	}
	return f
}
