package manifest

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// componentSchemaYAML is declarative_component_schema.yaml of the Python CDK
// 6.31.1 (MIT licence, see LICENSE.txt beside it), the schema every manifest
// is validated against.
//
//go:embed declarative_component_schema.yaml
var componentSchemaYAML []byte

// newerSchemaYAML holds the definitions of CDK 7.28.2 that the engine runs
// (config_normalization_rules and its components).
//
//go:embed newer_schema.yaml
var newerSchemaYAML []byte

var componentSchema = sync.OnceValues(func() (*componentSchemaSet, error) {
	doc, err := parseYAML(componentSchemaYAML)
	if err != nil {
		return nil, fmt.Errorf("manifest: the embedded component schema does not parse: %w", err)
	}
	root, ok := doc.(*Map)
	if !ok {
		return nil, errors.New("manifest: the embedded component schema is not a mapping")
	}
	if err := withImplementedNewer(root); err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	const url = "declarative_component_schema.json"
	if err := c.AddResource(url, plain(root)); err != nil {
		return nil, fmt.Errorf("manifest: the embedded component schema: %w", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("manifest: the embedded component schema does not compile: %w", err)
	}
	set := &componentSchemaSet{schema: sch, types: map[string]bool{}}
	for _, name := range root.Map("definitions").Keys() {
		set.types[name] = true
	}
	return set, nil
})

// componentSchemaSet is the compiled schema and the names of its component
// definitions.
type componentSchemaSet struct {
	schema *jsonschema.Schema
	types  map[string]bool
}

// withImplementedNewer changes the 6.31.1 schema as CDK 7.28.2's schema
// changed it where the engine runs what the change allows: an
// HttpRequester has a url (a string, as url_base) and needs neither
// url_base nor path; a Spec has config_normalization_rules, whose
// components (newer_schema.yaml) are defined as CDK 7.28.2 defines them;
// a stream of the manifest may be a StateDelegatingStream; the manifest may
// have an api_budget.
func withImplementedNewer(root *Map) error {
	defs := root.Map("definitions")
	hr := defs.Map("HttpRequester")
	if hr == nil || hr.Map("properties") == nil || defs.Map("Spec").Map("properties") == nil {
		return errors.New("manifest: the embedded component schema has no HttpRequester or Spec")
	}
	url := NewMap()
	url.Set("type", "string")
	hr.Map("properties").Set("url", url)
	hr.Set("required", []any{"type"})
	doc, err := parseYAML(newerSchemaYAML)
	newer, ok := doc.(*Map)
	if err != nil || !ok {
		return fmt.Errorf("manifest: the embedded newer schema does not parse: %v", err)
	}
	if streams := root.Map("properties").Map("streams"); streams != nil {
		streams.Set("items", mustGet(newer, "stream_items"))
	}
	for _, k := range newer.Map("source_properties").Keys() {
		root.Map("properties").Set(k, mustGet(newer.Map("source_properties"), k))
	}
	for _, k := range newer.Map("spec_properties").Keys() {
		defs.Map("Spec").Map("properties").Set(k, mustGet(newer.Map("spec_properties"), k))
	}
	for _, k := range newer.Map("definitions").Keys() {
		defs.Set(k, mustGet(newer.Map("definitions"), k))
	}
	return nil
}

// isComponentType reports whether name is a component type of the schema
// (a definition such as "HttpRequester"), as opposed to a JSON-schema type
// word like "object".
func isComponentType(name string) bool {
	set, err := componentSchema()
	return err == nil && set.types[name]
}

// validate checks the resolved manifest against the component schema.
func validate(root *Map) error {
	set, err := componentSchema()
	if err != nil {
		return err
	}
	err = set.schema.Validate(plain(root))
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &Error{Message: "validation against the component schema failed: " + err.Error()}
	}
	return &ValidationError{Problems: leafProblems(ve)}
}

// leafProblems flattens a validation error tree into its deepest causes,
// which name the JSON path that is wrong. When alternatives (anyOf) all
// fail, those whose type the component names are the ones meant: a
// DpathExtractor missing its field_path is reported as such, not as a
// type that must be CustomRecordExtractor. Of the rest, the alternatives
// that got furthest into the document are kept.
func leafProblems(ve *jsonschema.ValidationError) []Problem {
	var leaves []*jsonschema.ValidationError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, e)
			return
		}
		causes := e.Causes
		if _, ok := e.ErrorKind.(*kind.AnyOf); ok {
			causes = typeMatched(e)
		}
		for _, c := range causes {
			walk(c)
		}
	}
	walk(ve)
	deepest := 0
	for _, l := range leaves {
		deepest = max(deepest, len(l.InstanceLocation))
	}
	seen := map[string]bool{}
	var out []Problem
	for _, l := range leaves {
		if len(l.InstanceLocation) < deepest {
			continue
		}
		p := Problem{Path: jsonPath(l.InstanceLocation), Message: leafMessage(l)}
		key := p.Path + "\x00" + p.Message
		if !seen[key] {
			seen[key] = true
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return mergeAlternatives(out)
}

// mergeAlternatives makes the problems "value must be 'A'" and "value must
// be 'B'" of one path (a component type none of the alternatives has) one
// problem: "value must be one of 'A', 'B'". out is sorted by path.
func mergeAlternatives(out []Problem) []Problem {
	const must = "value must be "
	var merged []Problem
	for _, p := range out {
		if n := len(merged); n > 0 && merged[n-1].Path == p.Path &&
			strings.HasPrefix(p.Message, must+"'") && strings.HasPrefix(merged[n-1].Message, must) {
			prev := &merged[n-1]
			if !strings.HasPrefix(prev.Message, must+"one of ") {
				prev.Message = must + "one of " + strings.TrimPrefix(prev.Message, must)
			}
			prev.Message += ", " + strings.TrimPrefix(p.Message, must)
			continue
		}
		merged = append(merged, p)
	}
	return merged
}

// typeMatched returns the alternatives of the failed anyOf e whose errors
// do not include the component's type field (a branch for another
// component type), or all of them when none or every one is of another type.
func typeMatched(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	typeLoc := append(slices.Clip(e.InstanceLocation), "type")
	var wrongType func(e *jsonschema.ValidationError) bool
	wrongType = func(e *jsonschema.ValidationError) bool {
		switch e.ErrorKind.(type) {
		case *kind.Enum, *kind.Const:
			if slices.Equal(e.InstanceLocation, typeLoc) {
				return true
			}
		}
		return slices.ContainsFunc(e.Causes, wrongType)
	}
	var matched []*jsonschema.ValidationError
	for _, c := range e.Causes {
		if !wrongType(c) {
			matched = append(matched, c)
		}
	}
	if len(matched) == 0 {
		return e.Causes
	}
	return matched
}

func leafMessage(e *jsonschema.ValidationError) string {
	var b strings.Builder
	// Error() renders "jsonschema validation failed with ...\n- at '...': msg";
	// the kind alone reads better beside our own path.
	b.WriteString(e.ErrorKind.LocalizedString(printer))
	return b.String()
}

// jsonPath renders an instance location as a JSONPath such as
// $.streams[2].retriever.requester.
func jsonPath(loc []string) string {
	var b bytes.Buffer
	b.WriteString("$")
	for _, seg := range loc {
		if isIndex(seg) {
			b.WriteString("[" + seg + "]")
		} else if isIdent(seg) {
			b.WriteString("." + seg)
		} else {
			fmt.Fprintf(&b, "[%q]", seg)
		}
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || r == '$' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}
