package airbytetest

// A sync runs the faker source into a DuckDB or PostgreSQL destination
// through package fakersync.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/x/goairbyte/internal/fakersync"
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
	strategy    fakersync.Strategy
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
		p.strategy = fakersync.Merge
	case modes["incremental_append"] || modes["full_refresh_append"]:
		p.strategy = fakersync.Append
	default:
		p.strategy, p.fullRefresh = fakersync.Replace, true
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
	d := fakersync.Destination{Schema: p.schema, Prefix: p.prefix}
	switch p.destType {
	case "airbyte/destination-duckdb":
		path, _ := p.destCfg["destination_path"].(string)
		if path == "" || strings.HasPrefix(path, "md:") {
			return 0, &fakersync.DestinationError{Err: errors.New("destination_path must be a DuckDB file path on this test server")}
		}
		d.DuckDBPath = path
	case "airbyte/destination-postgres":
		d.PostgresDSN = PostgresDSN(p.destCfg)
	default:
		return 0, &fakersync.DestinationError{Err: fmt.Errorf("this test server cannot write to %s", p.destType)}
	}
	return fakersync.Run(ctx, fakersync.Request{Faker: p.faker, Config: p.sourceCfg, Streams: p.streams, Destination: d,
		Strategy: p.strategy, FullRefresh: p.fullRefresh, Clear: p.jobType == "clear" || p.jobType == "reset"})
}

// PostgresDSN is the URL of the database a destination-postgres config
// names.
func PostgresDSN(cfg map[string]any) string {
	port := 5432
	if f, ok := cfg["port"].(float64); ok {
		port = int(f)
	}
	pw, _ := cfg["password"].(string)
	mode := "disable"
	if m, ok := cfg["ssl_mode"].(map[string]any); ok && m["mode"] != nil {
		mode = fmt.Sprint(m["mode"])
	}
	return fakersync.PostgresDSN(fmt.Sprint(cfg["host"]), port, fmt.Sprint(cfg["database"]), fmt.Sprint(cfg["username"]), pw, mode)
}

// classify turns a failed sync into Airbyte's failure reason.
func classify(err error) *failure {
	typ, origin, msg := fakersync.FailureType(err)
	return &failure{Origin: origin, Type: typ, Message: msg}
}
