// Package specsecret finds the secret fields of a connector config the way
// Airbyte does: from the connector's spec, where a property marked
// "airbyte_secret": true is secret, also inside the oneOf/anyOf/allOf
// branches connectors use for authentication methods. It never guesses from
// key names.
//
// It serves both sides of the Airbyte API: the test server masks what it
// returns and keeps a stored secret when an update sends the mask back
// (copy-on-mask); the connections-as-code planner knows which values it
// cannot compare and must fingerprint.
package specsecret

import (
	"encoding/json"
	"slices"
	"strings"
)

// Mask is what the Airbyte API shows in place of a secret value.
const Mask = "**********"

// Paths returns the paths of the secret values present in config, sorted.
// spec is the connector's connectionSpecification (a JSON schema).
func Paths(spec json.RawMessage, config map[string]any) [][]string {
	var schema map[string]any
	if json.Unmarshal(spec, &schema) != nil {
		return nil
	}
	var out [][]string
	walk([]map[string]any{schema}, config, nil, &out)
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(strings.Join(a, "\x00"), strings.Join(b, "\x00")) })
	return out
}

// walk descends config with every schema that may describe it at this
// level (all branches of a oneOf, since the server does not tell which one
// the config chose).
func walk(schemas []map[string]any, v any, path []string, out *[][]string) {
	schemas = branches(schemas, 0)
	for _, s := range schemas {
		if b, _ := s["airbyte_secret"].(bool); b {
			*out = append(*out, slices.Clone(path))
			return
		}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return
	}
	for key, child := range obj {
		var subs []map[string]any
		for _, s := range schemas {
			if props, ok := s["properties"].(map[string]any); ok {
				if p, ok := props[key].(map[string]any); ok {
					subs = append(subs, p)
				}
			}
		}
		if len(subs) > 0 {
			walk(subs, child, append(path, key), out)
		}
	}
}

// branches returns schemas with their combinator branches, to any depth
// (bounded against self-referencing specs).
func branches(schemas []map[string]any, depth int) []map[string]any {
	if depth > 16 {
		return schemas
	}
	out := slices.Clone(schemas)
	for _, s := range schemas {
		for _, kw := range []string{"oneOf", "anyOf", "allOf"} {
			list, _ := s[kw].([]any)
			var sub []map[string]any
			for _, b := range list {
				if m, ok := b.(map[string]any); ok {
					sub = append(sub, m)
				}
			}
			out = append(out, branches(sub, depth+1)...)
		}
	}
	return out
}

// Get returns the value at path in config.
func Get(config map[string]any, path []string) (any, bool) {
	var cur any = config
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// set puts v at path in config (a deep copy made by Clone), creating
// objects on the way.
func set(config map[string]any, path []string, v any) {
	cur := config
	for _, k := range path[:len(path)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[k] = next
		}
		cur = next
	}
	cur[path[len(path)-1]] = v
}

// Clone deep-copies a JSON object.
func Clone(config map[string]any) map[string]any {
	if config == nil {
		return nil
	}
	return cloneValue(config).(map[string]any)
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneValue(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = cloneValue(e)
		}
		return l
	}
	return v
}

// Masked returns a copy of config with every secret value replaced by Mask.
func Masked(spec json.RawMessage, config map[string]any) map[string]any {
	out := Clone(config)
	for _, p := range Paths(spec, config) {
		set(out, p, Mask)
	}
	return out
}

// KeepMasked returns a copy of update in which every secret field that
// holds Mask takes the value stored has at the same path: sending the mask
// back keeps the stored secret.
func KeepMasked(spec json.RawMessage, update, stored map[string]any) map[string]any {
	out := Clone(update)
	for _, p := range Paths(spec, update) {
		if v, _ := Get(update, p); v == Mask {
			if old, ok := Get(stored, p); ok {
				set(out, p, old)
			}
		}
	}
	return out
}
