package kit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"github.com/x/goairbyte/protocol"
)

// ValidateConfig checks config against the spec's connectionSpecification
// (a JSON schema; Airbyte's own keywords such as airbyte_secret are
// ignored, and "format" is not asserted, as in the Python CDK) and returns an *[InvalidConfigError] naming every field at fault
// when it does not satisfy it. A config must be a JSON object. The reasons
// never quote a value of a field the spec marks airbyte_secret (they name
// the rule it breaks), nor any string of the config. A
// connectionSpecification that is not a usable JSON schema is the
// connector's bug: a plain error.
//
// Serve calls it before check, discover, read and write; an in-process
// runner calls it before calling the connector's methods.
func ValidateConfig(spec *protocol.ConnectorSpecification, config json.RawMessage) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(config))
	if err != nil {
		return &InvalidConfigError{Problems: []ConfigProblem{{Reason: notJSON(err)}}}
	}
	if _, ok := inst.(map[string]any); !ok {
		return &InvalidConfigError{Problems: []ConfigProblem{{Reason: "the config must be a JSON object"}}}
	}
	if spec == nil || len(bytes.TrimSpace(spec.ConnectionSpecification)) == 0 {
		return nil
	}
	schema, doc, err := compileSpec(spec.ConnectionSpecification)
	if err != nil {
		return err
	}
	err = schema.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &InvalidConfigError{Problems: []ConfigProblem{{Reason: err.Error()}}}
	}
	return &InvalidConfigError{Problems: problems(ve, doc)}
}

// specURL is the made-up location the connection specification is compiled
// under; relative references inside it resolve against it.
const specURL = "https://goairbyte.invalid/connectionSpecification.json"

// compileSpec compiles the connection specification and returns it
// decoded too.
func compileSpec(raw json.RawMessage) (*jsonschema.Schema, any, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("kit: the spec's connectionSpecification is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	// "format" is an annotation, never a rule: draft-07, which Airbyte's
	// specs declare, lets a validator assert it, but the Python CDK and
	// PyAirbyte never do, and specs rely on that ("format": "date-time"
	// with a pattern that also allows "", for a start date left empty).
	// The library asserts draft-07 formats unless each is replaced.
	for name := range formatNames(doc) {
		c.RegisterFormat(&jsonschema.Format{Name: name, Validate: func(any) error { return nil }})
	}
	c.UseRegexpEngine(lenientRegexp)
	if err := c.AddResource(specURL, doc); err != nil {
		return nil, nil, fmt.Errorf("kit: the spec's connectionSpecification: %w", err)
	}
	s, err := c.Compile(specURL)
	if err != nil {
		return nil, nil, fmt.Errorf("kit: the spec's connectionSpecification is not a usable JSON schema: %w", err)
	}
	return s, doc, nil
}

// lenientRegexp compiles a schema's pattern with Go's regexp. A pattern Go
// cannot compile (a lookahead: Python's validators take them) is left
// unenforced: one rule lost, where an error would make the whole spec
// unusable and every command of the connector fail.
func lenientRegexp(pattern string) (jsonschema.Regexp, error) {
	if re, err := regexp.Compile(pattern); err == nil {
		return re, nil
	}
	return unenforcedPattern(pattern), nil
}

// unenforcedPattern is a pattern Go cannot compile: it matches everything.
type unenforcedPattern string

func (p unenforcedPattern) String() string        { return string(p) }
func (unenforcedPattern) MatchString(string) bool { return true }

// formatNames returns the values of every "format" keyword in a decoded
// schema (and of any property so named: an unused format costs nothing).
func formatNames(schema any) map[string]bool {
	names := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if f, ok := x.(string); ok && k == "format" {
					names[f] = true
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(schema)
	return names
}

// secretAt reports whether the config value at loc lies in a property the
// schema marks airbyte_secret (in any branch of oneOf, anyOf or allOf).
func secretAt(schema any, loc []string) bool {
	s, ok := schema.(map[string]any)
	if !ok {
		return false
	}
	if s["airbyte_secret"] == true {
		return true
	}
	for _, k := range []string{"oneOf", "anyOf", "allOf"} {
		branches, _ := s[k].([]any)
		for _, b := range branches {
			if secretAt(b, loc) {
				return true
			}
		}
	}
	if len(loc) == 0 {
		return false
	}
	if props, ok := s["properties"].(map[string]any); ok && secretAt(props[loc[0]], loc[1:]) {
		return true
	}
	return secretAt(s["items"], loc[1:]) // loc[0] is then an index
}

// problems flattens a validation error into its leaves, which carry the
// field and the precise reason, sorted by field. doc is the schema, to
// tell secret fields, whose reasons name the rule but not the value.
func problems(ve *jsonschema.ValidationError, doc any) []ConfigProblem {
	var ps []ConfigProblem
	seen := map[ConfigProblem]bool{}
	add := func(p ConfigProblem) {
		if !seen[p] {
			seen[p] = true
			ps = append(ps, p)
		}
	}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		field := strings.Join(e.InstanceLocation, ".")
		if secretAt(doc, e.InstanceLocation) && !isNameOnly(e.ErrorKind) {
			rule := strings.Join(e.ErrorKind.KeywordPath(), "/")
			add(ConfigProblem{Field: field, Reason: fmt.Sprintf("the secret value does not satisfy %q (value hidden)", rule)})
			return
		}
		switch k := e.ErrorKind.(type) {
		case *kind.Required:
			for _, m := range k.Missing {
				add(ConfigProblem{Field: join(field, m), Reason: "is required"})
			}
		case *kind.AdditionalProperties:
			for _, m := range k.Properties {
				add(ConfigProblem{Field: join(field, m), Reason: "is not an option of this connector"})
			}
		case *kind.Pattern:
			// The library's text quotes the value.
			add(ConfigProblem{Field: field, Reason: fmt.Sprintf("does not match the pattern %q", k.Want)})
		case *kind.Format:
			add(ConfigProblem{Field: field, Reason: "is not a valid " + k.Want})
		default:
			add(ConfigProblem{Field: field, Reason: reason(e.ErrorKind)})
		}
	}
	walk(ve)
	if len(ps) == 0 {
		ps = append(ps, ConfigProblem{Reason: "does not satisfy the spec"})
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Field < ps[j].Field })
	return ps
}

// isNameOnly tells the failures whose reasons name properties, never
// values.
func isNameOnly(k jsonschema.ErrorKind) bool {
	switch k.(type) {
	case *kind.Required, *kind.AdditionalProperties, *kind.Dependency, *kind.DependentRequired:
		return true
	}
	return false
}

func join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// reason is the library's English text for one kind of failure.
func reason(k jsonschema.ErrorKind) string {
	out := (&jsonschema.ValidationError{ErrorKind: k}).BasicOutput()
	if out.Error == nil {
		return "does not satisfy the spec"
	}
	return out.Error.String()
}

// notJSON says where a config stops being JSON without quoting it: the
// decoder's own words name the offending character, which may be the first
// of a secret written without quotes.
func notJSON(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("the config is not valid JSON (at byte %d)", se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "the config is not valid JSON (it ends too early)"
	}
	return "the config is not valid JSON"
}
