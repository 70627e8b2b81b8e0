// Package specsecret finds the secret fields of a connector config the way
// Airbyte does: from the connector's spec, where a property marked
// "airbyte_secret": true is secret, also inside the oneOf/anyOf/allOf
// branches connectors use for authentication methods and inside the items
// of arrays (as Airbyte's own masking does). It never guesses from key
// names.
//
// It serves both sides of the Airbyte API: the test server masks what it
// returns and keeps a stored secret when an update sends the mask back
// (copy-on-mask); the connections-as-code planner knows which values it
// cannot compare and must fingerprint.
package specsecret

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Mask is what the Airbyte API shows in place of a secret value.
const Mask = "**********"

// Paths returns the paths of the secret values present in config, sorted.
// spec is the connector's connectionSpecification (a JSON schema). A path
// goes through object keys and, for a secret inside the items of an array,
// the element's index in decimal ("applications", "0", "app_api_key").
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
// the config chose): an object's values with their properties, an array's
// elements with its items.
func walk(schemas []map[string]any, v any, path []string, out *[][]string) {
	if len(path) > 64 { // a self-referencing spec, or a pathological config
		return
	}
	schemas = branches(schemas, 0)
	for _, s := range schemas {
		if b, _ := s["airbyte_secret"].(bool); b {
			*out = append(*out, slices.Clone(path))
			return
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for key, child := range x {
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
	case []any:
		var subs []map[string]any
		for _, s := range schemas {
			if it, ok := s["items"].(map[string]any); ok {
				subs = append(subs, it)
			}
		}
		if len(subs) > 0 {
			for i, child := range x {
				walk(subs, child, append(path, strconv.Itoa(i)), out)
			}
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

// Get returns the value at path in config (an index in a path selects an
// array's element).
func Get(config map[string]any, path []string) (any, bool) {
	var cur any = config
	for _, k := range path {
		var ok bool
		if cur, ok = child(cur, k); !ok {
			return nil, false
		}
	}
	return cur, true
}

// child is the value under key k of an object, or at index k of an array.
func child(v any, k string) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		e, ok := x[k]
		return e, ok
	case []any:
		if i, err := strconv.Atoi(k); err == nil && i >= 0 && i < len(x) {
			return x[i], true
		}
	}
	return nil, false
}

// set puts v at path in config (a deep copy made by Clone), creating
// objects on the way; an array element must exist already (an array is
// never grown).
func set(config map[string]any, path []string, v any) {
	var cur any = config
	for i, k := range path {
		last := i == len(path)-1
		switch x := cur.(type) {
		case map[string]any:
			if last {
				x[k] = v
				return
			}
			next := x[k]
			switch next.(type) {
			case map[string]any, []any:
			default:
				next = map[string]any{}
				x[k] = next
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 || n >= len(x) {
				return
			}
			if last {
				x[n] = v
				return
			}
			cur = x[n]
		default:
			return
		}
	}
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
// back keeps the stored secret. Inside an array, the same path is the same
// index.
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

// Leaves appends to out the texts a masker must know for the secret
// value v: a string itself, a number by its JSON text, and those inside an
// object or array. Booleans and nulls are left out: masking every "true"
// would hide more than the secret.
func Leaves(v any, out []string) []string {
	switch x := v.(type) {
	case string:
		return append(out, x)
	case json.Number:
		return append(out, x.String())
	case float64, float32, int, int64, int32, uint64, uint32:
		b, _ := json.Marshal(x)
		return append(out, string(b))
	case map[string]any:
		for _, e := range x {
			out = Leaves(e, out)
		}
	case []any:
		for _, e := range x {
			out = Leaves(e, out)
		}
	}
	return out
}
