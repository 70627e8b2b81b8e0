package faker

import (
	"bytes"
	"embed"
	"encoding/json"
	"math"

	"github.com/x/goairbyte/internal/builtin"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// Version is the connector's version, also the tag of its Docker image.
const Version = builtin.FakerVersion

// The embedded files are copies of Airbyte source-faker's spec, stream
// schemas and product list, so a fresh clone needs nothing outside the module.
//
//go:embed spec.json products.json schemas/*.json
var files embed.FS

func mustRead(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("faker: embedded file missing: " + err.Error())
	}
	return b
}

// streamNames lists the streams in the order a read emits them.
var streamNames = []string{"products", "users", "purchases"}

// spec returns the connector's specification: the same options, defaults
// and meaning as Airbyte's source-faker. Each call returns a fresh value,
// since a caller may keep it.
func spec() *protocol.ConnectorSpecification {
	// Compact: the raw blobs are written as they are, and a message is
	// one line.
	var compact bytes.Buffer
	if err := json.Compact(&compact, mustRead("spec.json")); err != nil {
		panic("faker: embedded spec.json: " + err.Error())
	}
	var s protocol.ConnectorSpecification
	if err := json.Unmarshal(compact.Bytes(), &s); err != nil {
		panic("faker: embedded spec.json: " + err.Error())
	}
	incremental := true
	s.SupportsIncremental = &incremental
	// This connector's documentation, not Airbyte's source-faker's.
	s.DocumentationURL = builtin.FakerDocs
	return &s
}

// catalog returns the catalog that discover answers: products, users and
// purchases, each with exactly source-faker's JSON schema, full_refresh and
// incremental sync, the source-defined cursor updated_at and primary key id.
func catalog() *protocol.Catalog {
	yes := true
	var c protocol.Catalog
	for _, name := range streamNames {
		var compact bytes.Buffer
		if err := json.Compact(&compact, mustRead("schemas/"+name+".json")); err != nil {
			panic("faker: embedded schema " + name + ": " + err.Error())
		}
		c.Streams = append(c.Streams, protocol.Stream{
			Name:                    name,
			JSONSchema:              compact.Bytes(),
			SupportedSyncModes:      []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental},
			SourceDefinedCursor:     &yes,
			DefaultCursorField:      []string{"updated_at"},
			SourceDefinedPrimaryKey: [][]string{{"id"}},
			IsResumable:             &yes,
		})
	}
	return &c
}

// config is a parsed, validated source-faker config with defaults applied.
type config struct {
	// count is how many users to generate (products: min(count, 100)).
	count int64
	// seed makes the data reproducible; -1 means a random seed per read.
	seed int64
	// recordsPerSlice is how many records of a stream come between two
	// STATE messages.
	recordsPerSlice int64
	// alwaysUpdated re-emits every record with a fresh updated_at on every
	// read; when false a read given state emits only records not yet covered.
	alwaysUpdated bool
	// parallelism is how many goroutines render records.
	parallelism int
}

// defaultConfig is the config an empty JSON object means.
func defaultConfig() config {
	return config{count: 1000, seed: -1, recordsPerSlice: 1000, alwaysUpdated: true, parallelism: 4}
}

// parseConfig validates raw against the spec (kit.ValidateConfig) and
// returns it with defaults applied. An invalid config is a
// *kit.InvalidConfigError naming the fields at fault.
func parseConfig(raw []byte) (config, error) {
	if err := kit.ValidateConfig(spec(), raw); err != nil {
		return config{}, err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return config{}, err // cannot happen: ValidateConfig decoded it
	}
	cfg := defaultConfig()
	ints := []struct {
		key string
		dst *int64
	}{{"count", &cfg.count}, {"seed", &cfg.seed}, {"records_per_slice", &cfg.recordsPerSlice}}
	var bad []kit.ConfigProblem
	for _, f := range ints {
		if v, ok := m[f.key]; ok {
			n, ok := toInt64(v)
			if !ok {
				bad = append(bad, kit.ConfigProblem{Field: f.key, Reason: "does not fit a 64-bit integer"})
			}
			*f.dst = n
		}
	}
	if v, ok := m["parallelism"]; ok {
		n, ok := toInt64(v)
		if !ok || n > 1024 {
			bad = append(bad, kit.ConfigProblem{Field: "parallelism", Reason: "must be at most 1024"})
		}
		cfg.parallelism = int(n)
	}
	if v, ok := m["always_updated"]; ok {
		cfg.alwaysUpdated = v.(bool) // the schema guarantees a boolean
	}
	if len(bad) > 0 {
		return config{}, &kit.InvalidConfigError{Problems: bad}
	}
	return cfg, nil
}

// toInt64 converts a schema-validated integer (a json.Number) to int64.
func toInt64(v any) (int64, bool) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if n, err := num.Int64(); err == nil {
		return n, true
	}
	// 5.0 is an integer to JSON schema.
	f, err := num.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
		return 0, false
	}
	return int64(f), true
}
