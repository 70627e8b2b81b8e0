package faker

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/x/goairbyte/protocol"
)

// Version is the connector's version, also the tag of its Docker image.
const Version = "0.1.0"

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

// Spec returns the connector's specification: the same options, defaults and
// meaning as Airbyte's source-faker.
func Spec() protocol.ConnectorSpecification {
	var s protocol.ConnectorSpecification
	if err := json.Unmarshal(mustRead("spec.json"), &s); err != nil {
		panic("faker: embedded spec.json: " + err.Error())
	}
	incremental := true
	s.SupportsIncremental = &incremental
	return s
}

// Catalog returns the catalog that discover answers: products, users and
// purchases, each with exactly source-faker's JSON schema, full_refresh and
// incremental sync, the source-defined cursor updated_at and primary key id.
func Catalog() protocol.Catalog {
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
	return c
}

// Config is a parsed, validated source-faker config with defaults applied.
type Config struct {
	// Count is how many users to generate (products: min(Count, 100)).
	Count int64
	// Seed makes the data reproducible; -1 means a random seed per read.
	Seed int64
	// RecordsPerSlice is how many records of a stream come between two
	// STATE messages.
	RecordsPerSlice int64
	// AlwaysUpdated re-emits every record with a fresh updated_at on every
	// read; when false a read given state emits only records not yet covered.
	AlwaysUpdated bool
	// Parallelism is how many goroutines render records.
	Parallelism int
}

// DefaultConfig is the config an empty JSON object means.
func DefaultConfig() Config {
	return Config{Count: 1000, Seed: -1, RecordsPerSlice: 1000, AlwaysUpdated: true, Parallelism: 4}
}

// ConfigProblem is one reason a config is invalid.
type ConfigProblem struct {
	// Field is the config key at fault, e.g. "count" ("" for the whole
	// config).
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// ConfigError reports a config that does not satisfy the spec. It names
// every field at fault and why.
type ConfigError struct {
	Problems []ConfigProblem
}

// Error lists every problem, field by field.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("invalid source-faker config: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		if p.Field == "" {
			b.WriteString(p.Reason)
		} else {
			fmt.Fprintf(&b, "field %q: %s", p.Field, p.Reason)
		}
	}
	b.WriteString(" (fix the config; run `spec` to see the options)")
	return b.String()
}

var (
	compileOnce sync.Once
	specSchema  *jsonschema.Schema
	errCompile  error
)

func compiledSpec() (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		const url = "https://goairbyte.local/faker/spec.json"
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Spec().ConnectionSpecification))
		if err != nil {
			errCompile = err
			return
		}
		c := jsonschema.NewCompiler()
		if err = c.AddResource(url, doc); err != nil {
			errCompile = err
			return
		}
		specSchema, errCompile = c.Compile(url)
	})
	return specSchema, errCompile
}

// ParseConfig validates raw against the spec's connectionSpecification (with
// santhosh-tekuri/jsonschema) and returns it with defaults applied. An invalid
// config is a *ConfigError naming the fields at fault.
func ParseConfig(raw []byte) (Config, error) {
	schema, err := compiledSpec()
	if err != nil {
		return Config{}, fmt.Errorf("faker: compiling the embedded spec: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return Config{}, &ConfigError{Problems: []ConfigProblem{{Reason: "the config is not valid JSON: " + err.Error()}}}
	}
	if _, ok := inst.(map[string]any); !ok {
		return Config{}, &ConfigError{Problems: []ConfigProblem{{Reason: "the config must be a JSON object"}}}
	}
	if err := schema.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return Config{}, &ConfigError{Problems: []ConfigProblem{{Reason: err.Error()}}}
		}
		return Config{}, &ConfigError{Problems: problems(ve)}
	}
	cfg := DefaultConfig()
	m := inst.(map[string]any)
	ints := []struct {
		key string
		dst *int64
	}{{"count", &cfg.Count}, {"seed", &cfg.Seed}, {"records_per_slice", &cfg.RecordsPerSlice}}
	var bad []ConfigProblem
	for _, f := range ints {
		if v, ok := m[f.key]; ok {
			n, ok := toInt64(v)
			if !ok {
				bad = append(bad, ConfigProblem{f.key, "does not fit a 64-bit integer"})
			}
			*f.dst = n
		}
	}
	if v, ok := m["parallelism"]; ok {
		n, ok := toInt64(v)
		if !ok || n > 1024 {
			bad = append(bad, ConfigProblem{"parallelism", "must be at most 1024"})
		}
		cfg.Parallelism = int(n)
	}
	if v, ok := m["always_updated"]; ok {
		cfg.AlwaysUpdated = v.(bool) // the schema guarantees a boolean
	}
	if len(bad) > 0 {
		return Config{}, &ConfigError{Problems: bad}
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

// problems flattens a validation error into its leaf causes, which carry the
// field and the precise reason.
func problems(ve *jsonschema.ValidationError) []ConfigProblem {
	out := ve.BasicOutput()
	seen := map[ConfigProblem]bool{}
	var ps []ConfigProblem
	for _, u := range out.Errors {
		if u.Error == nil {
			continue
		}
		reason := u.Error.String()
		if strings.HasPrefix(reason, "validation failed") || strings.HasPrefix(reason, "doesn't validate") {
			continue
		}
		field := strings.ReplaceAll(strings.TrimPrefix(u.InstanceLocation, "/"), "/", ".")
		p := ConfigProblem{Field: field, Reason: reason}
		if !seen[p] {
			seen[p] = true
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		ps = append(ps, ConfigProblem{Reason: ve.Error()})
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Field < ps[j].Field })
	return ps
}
