package declarative

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// schemaNormalizer is the record selector's schema_normalization "Default"
// (the CDK's TypeTransformer with DefaultSchemaNormalization): each value
// the stream's schema describes, through properties and items, is
// converted to its declared type where Python's conversion succeeds
// (str(), float(), int(), strtobool/bool(), a scalar wrapped in a list).
type schemaNormalizer struct {
	root *dict // the stream's JSON schema, for $ref
}

func newSchemaNormalizer(schema value) *schemaNormalizer {
	d, ok := schema.(*dict)
	if !ok || d.Len() == 0 {
		return nil
	}
	return &schemaNormalizer{root: d}
}

func (n *schemaNormalizer) apply(record *dict) { n.walk(record, n.root, 0) }

// resolve follows a local $ref ("#/definitions/x").
func (n *schemaNormalizer) resolve(schema *dict) *dict {
	ref, ok := schema.Get("$ref")
	if !ok {
		return schema
	}
	s, _ := ref.(string)
	if !strings.HasPrefix(s, "#/") {
		return schema
	}
	var cur value = n.root
	for _, p := range strings.Split(s[2:], "/") {
		next, ok := dictGet(cur, p)
		if !ok {
			return schema
		}
		cur = next
	}
	if d, ok := cur.(*dict); ok {
		return d
	}
	return schema
}

func (n *schemaNormalizer) walk(instance value, schema *dict, depth int) {
	if schema == nil || depth > 64 {
		return
	}
	schema = n.resolve(schema)
	if props, ok := schema.Get("properties"); ok {
		if obj, isDict := instance.(*dict); isDict {
			if pd, ok := props.(*dict); ok {
				for _, p := range entries(pd) {
					val, present := obj.Get(p.key)
					sub, isSchema := p.val.(*dict)
					if !present || !isSchema {
						continue
					}
					sub = n.resolve(sub)
					val = defaultConvert(val, sub)
					obj.Set(p.key, val)
					n.walk(val, sub, depth+1)
				}
			}
		}
	}
	if items, ok := schema.Get("items"); ok {
		if list, isList := instance.([]value); isList {
			if sub, isSchema := items.(*dict); isSchema {
				sub = n.resolve(sub)
				for i, e := range list {
					list[i] = defaultConvert(e, sub)
					n.walk(list[i], sub, depth+1)
				}
			}
		}
	}
	for _, alt := range []string{"allOf", "anyOf", "oneOf"} {
		if l, ok := schema.Get(alt); ok {
			branches, _ := l.([]value)
			for _, b := range branches {
				if bd, ok := b.(*dict); ok {
					n.walk(instance, bd, depth+1)
				}
			}
		}
	}
}

// defaultConvert is TypeTransformer.default_convert.
func defaultConvert(v value, schema *dict) value {
	t, _ := schema.Get("type")
	var types []string
	switch x := t.(type) {
	case string:
		types = []string{x}
	case []value:
		for _, e := range x {
			if s, ok := e.(string); ok {
				types = append(types, s)
			}
		}
	}
	if v == nil && slices.Contains(types, "null") {
		return nil
	}
	target := ""
	if s, ok := t.(string); ok {
		target = s
	} else {
		var nonNull []string
		for _, s := range types {
			if s != "null" {
				nonNull = append(nonNull, s)
			}
		}
		if len(nonNull) != 1 {
			return v
		}
		target = nonNull[0]
	}
	switch target {
	case "string":
		if s, ok := v.(string); ok {
			return s
		}
		return interpolation.Str(v)
	case "number":
		if f, ok := pyFloat(v); ok {
			return f
		}
	case "integer":
		if i, ok := pyInt(v); ok {
			return i
		}
	case "boolean":
		if s, ok := v.(string); ok {
			switch strings.ToLower(s) {
			case "y", "yes", "t", "true", "on", "1":
				return true
			case "n", "no", "f", "false", "off", "0":
				return false
			}
			return v
		}
		return interpolation.Truthy(v)
	case "array":
		items, _ := dictGet(schema, "items")
		it, _ := dictGet(items, "type")
		l, isList := it.([]value)
		if !isList {
			return v
		}
		for _, e := range l {
			s, _ := e.(string)
			switch s {
			case "string", "number", "integer", "boolean", "null":
			default:
				return v
			}
		}
		switch v.(type) {
		case string, float64, int64, bool, nil:
			return []value{v}
		}
	}
	return v
}

// pyFloat is Python's float(v), reporting whether it succeeds.
func pyFloat(v value) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case string:
		s := strings.ReplaceAll(strings.TrimSpace(x), "_", "")
		switch strings.ToLower(strings.TrimLeft(s, "+-")) {
		case "inf", "infinity":
			if strings.HasPrefix(s, "-") {
				return math.Inf(-1), true
			}
			return math.Inf(1), true
		case "nan":
			return math.NaN(), true
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !strings.Contains(err.Error(), "range") {
			return 0, false
		}
		return f, true
	}
	return 0, false
}

// pyInt is Python's int(v), reporting whether it succeeds.
func pyInt(v value) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false
		}
		return int64(x), true
	case string:
		s := strings.ReplaceAll(strings.TrimSpace(x), "_", "")
		i, err := strconv.ParseInt(s, 10, 64)
		return i, err == nil
	}
	return 0, false
}
