package manifest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var printer = message.NewPrinter(language.English)

// Manifest is a loaded manifest: references resolved, default component
// types filled in, $parameters pushed down into every component, and
// validated against the component schema. Root must not be modified.
type Manifest struct {
	// Root is the resolved manifest, the document the CDK builds from.
	Root *Map
	// Newer lists the components and fields of Root that only CDKs newer
	// than 6.31.1 know (see NewerError).
	Newer []Component
}

// NewerError is a manifest that does not validate against the 6.31.1
// schema because it uses components or fields only newer CDKs know.
type NewerError struct {
	// Components lists them, as newerComponents does.
	Components []Component
	// Validation is what the 6.31.1 schema found.
	Validation error
	// Manifest is the manifest prepared but not validated, to list its
	// other components (Python classes) from.
	Manifest *Manifest
}

// Error names the newer components and fields.
func (e *NewerError) Error() string {
	var b strings.Builder
	b.WriteString("manifest: uses what only CDKs newer than 6.31.1 know: ")
	for i, c := range e.Components {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.Type + " at " + c.Path)
	}
	return b.String()
}

// Load parses a manifest (YAML or JSON) and prepares it as the Python CDK's
// ManifestDeclarativeSource does before building any component: it resolves
// "#/..." references and $ref, fills in default types, pushes $parameters
// down, checks that there is a stream, validates against the component
// schema and checks the manifest's version. Errors are *Error or
// *ValidationError.
func Load(data []byte) (*Manifest, error) {
	doc, err := parseYAML(data)
	if me := (*Error)(nil); errors.As(err, &me) {
		return nil, me // the expansion budget, already explained
	}
	if err != nil {
		return nil, &Error{Message: "the manifest is not valid YAML: " + err.Error()}
	}
	root, ok := doc.(*Map)
	if !ok {
		return nil, &Error{Message: "the manifest is not a YAML mapping"}
	}
	return fromMap(root)
}

// fromMap prepares an already parsed manifest, like Load.
func fromMap(root *Map) (*Manifest, error) {
	root = Clone(root).(*Map)
	if !root.Has("type") {
		root.Set("type", "DeclarativeSource")
	}
	resolved, err := resolveRefs(root)
	if err != nil {
		return nil, err
	}
	prepared := propagate("", resolved, NewMap())
	if !truthy(mustGet(prepared, "streams")) && !truthy(mustGet(prepared, "dynamic_streams")) {
		return nil, &ValidationError{Problems: []Problem{{Path: "$", Message: "a valid manifest should have at least one stream defined"}}}
	}
	newer := newerComponents(prepared)
	if err := validate(prepared); err != nil {
		if len(newer) > 0 {
			// The newer CDK's schema is what the manifest was written for:
			// what it uses that 6.31.1 lacks is the answer, not the
			// problems that lack makes the 6.31.1 schema find.
			return nil, &NewerError{Components: newer, Validation: err, Manifest: &Manifest{Root: prepared, Newer: newer}}
		}
		return nil, err
	}
	if err := checkVersion(prepared); err != nil {
		return nil, err
	}
	return &Manifest{Root: prepared, Newer: newer}, nil
}

func mustGet(m *Map, k string) any {
	v, _ := m.Get(k)
	return v
}

func checkVersion(root *Map) error {
	v, ok := root.Get("version")
	s, isStr := v.(string)
	if !ok || !isStr {
		return &Error{Message: "the manifest has no version"}
	}
	major, minor, ok := parseVersion(s)
	if !ok {
		return &Error{Message: fmt.Sprintf("the manifest version %q is not a valid version", s)}
	}
	if major == 0 && minor < 29 {
		return &Error{Message: fmt.Sprintf("the manifest version %s predates the low-code framework's beta (0.29.0) and is incompatible", s)}
	}
	return nil
}

// parseVersion reads the major and minor numbers of a PEP 440 version.
func parseVersion(s string) (major, minor int, ok bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.SplitN(s, ".", 3)
	digits := func(p string) (int, bool) {
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		if end == 0 {
			return 0, false
		}
		n, err := strconv.Atoi(p[:end])
		return n, err == nil
	}
	if major, ok = digits(parts[0]); !ok {
		return 0, 0, false
	}
	if len(parts) > 1 {
		if minor, ok = digits(parts[1]); !ok {
			return 0, 0, false
		}
	}
	return major, minor, true
}

// Component is one component of a manifest: a mapping with a type that
// names a definition of the component schema, or a class_name (Python).
type Component struct {
	// Path is where the component sits in the resolved manifest, as a
	// JSONPath such as $.streams[0].retriever.requester.authenticator.
	Path string
	// Type is the component's type, e.g. "HttpRequester" or "CustomRequester".
	Type string
	// ClassName is the Python class a custom component names, if any.
	ClassName string
	// Node is the component's mapping in the resolved manifest.
	Node *Map
}

// builtSections are the top-level keys of a manifest the CDK builds
// components from; definitions, schemas and metadata are only data.
var builtSections = map[string]bool{
	"check": true, "streams": true, "dynamic_streams": true, "spec": true,
	"concurrency_level": true, "api_budget": true,
}

// Components lists every component the CDK would build from the resolved
// manifest, in document order (definitions that nothing uses are not
// built). JSON schemas inside the manifest are not descended into.
func (m *Manifest) Components() []Component {
	var out []Component
	var walk func(v any, path []string)
	walk = func(v any, path []string) {
		switch v := v.(type) {
		case *Map:
			// Direct reads: listing components does not consult their
			// properties (see TraceReads).
			ts, _ := v.vals["type"].(string)
			cls, _ := v.vals["class_name"].(string)
			if cls != "" || (ts != "" && isComponentType(ts)) {
				out = append(out, Component{Path: jsonPath(path), Type: ts, ClassName: cls, Node: v})
			} else if ts != "" && len(path) > 0 {
				// A JSON schema or plain data: not a component tree.
				return
			}
			for _, k := range v.Keys() {
				if k == parametersKey {
					continue
				}
				walk(v.vals[k], append(path, k))
			}
		case []any:
			for i, e := range v {
				walk(e, append(path, strconv.Itoa(i)))
			}
		}
	}
	for _, k := range m.Root.Keys() {
		if builtSections[k] {
			v, _ := m.Root.Get(k)
			walk(v, []string{k})
		}
	}
	return out
}

// Error is a manifest that cannot be loaded: bad YAML, a broken reference,
// an unsupported version.
type Error struct {
	// Message says what is wrong.
	Message string
}

// Error returns the message, prefixed with the package.
func (e *Error) Error() string { return "manifest: " + e.Message }

// ValidationError is a manifest that does not match the component schema.
type ValidationError struct {
	// Problems are the deepest failures found, each naming its JSON path.
	Problems []Problem
}

// Problem is one way a manifest fails the component schema.
type Problem struct {
	// Path is the JSONPath of the offending value, e.g. $.streams[0].name.
	Path string
	// Message says what is wrong with it.
	Message string
}

// Error lists the problems, one per line after the first.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("manifest: validation against the component schema failed")
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.Path + ": " + p.Message)
	}
	return b.String()
}
