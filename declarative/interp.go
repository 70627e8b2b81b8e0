package declarative

import (
	"strings"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/declarative/internal/manifest"
)

// vars is the interpolation context of one evaluation. Set exactly the
// variables the CDK passes at the same place: a template reading one that
// is not set fails as in the CDK.
type vars struct {
	interpolation.Vars
	config value
}

// with returns a copy of v changed by f.
func (v *vars) with(f func(*vars)) *vars {
	c := *v
	f(&c)
	return &c
}

// set sets a variable.
func (v *vars) set(k interpolation.Var, val value) { v.Vars.Set(k, val) }

// tmpl is a manifest string compiled once, bound to its component's
// $parameters (what the template sees as parameters). It evaluates as the
// CDK's InterpolatedString (eval), InterpolatedBoolean (evalBool) or a raw
// JinjaInterpolation.eval without default (evalRaw, for mappings).
type tmpl struct {
	src    string
	s      *interpolation.String
	b      *interpolation.Boolean
	params *dict
}

func (t *tmpl) ctx(v *vars) interpolation.Vars {
	vs := v.Vars
	vs.Set(interpolation.VarParameters, t.params)
	return vs
}

// eval is the CDK's InterpolatedString.eval: render, then parse the text
// back into a value (literal_eval); an empty result evaluates the string
// itself as the default.
func (t *tmpl) eval(v *vars) (value, error) {
	vs := t.ctx(v)
	return t.s.Eval(&vs)
}

// validTypes maps AddFields' value_type to the CDK's valid_types.
var validTypes = map[string]interpolation.Types{
	"string":  interpolation.TypeStr,
	"number":  interpolation.TypeFloat,
	"integer": interpolation.TypeInt,
	"boolean": interpolation.TypeBool,
}

// evalTyped is eval with the CDK's valid_types: a value of another type
// stays the rendered string. typ is a JSON-schema type name ("" for any).
func (t *tmpl) evalTyped(v *vars, typ string) (value, error) {
	if typ == "" {
		return t.eval(v)
	}
	vs := t.ctx(v)
	return t.s.Template().EvalWith(&vs, interpolation.EvalOptions{Default: t.s.Template(), ValidTypes: validTypes[typ]})
}

// evalRaw is JinjaInterpolation.eval without a default, as mappings of
// request options use it.
func (t *tmpl) evalRaw(v *vars, valid interpolation.Types) (value, error) {
	vs := t.ctx(v)
	return t.s.Template().EvalWith(&vs, interpolation.EvalOptions{ValidTypes: valid})
}

// evalStr is str() of eval, what the CDK does for URLs, paths, header
// names and tokens.
func (t *tmpl) evalStr(v *vars) (string, error) {
	val, err := t.eval(v)
	if err != nil {
		return "", err
	}
	if s, ok := val.(string); ok {
		return s, nil
	}
	return interpolation.Str(val), nil
}

// evalBool is InterpolatedBoolean.eval; the template must have been
// compiled as a condition (builder.condition).
func (t *tmpl) evalBool(v *vars) (bool, error) {
	vs := t.ctx(v)
	return t.b.Eval(&vs)
}

// mentions reports whether the template's text contains s, the test the
// CDK makes for "stream_state".
func (t *tmpl) mentions(s string) bool { return t != nil && strings.Contains(t.src, s) }

// tmplMapping is an InterpolatedMapping: keys and string values are
// templates; other values are kept as they are.
type tmplMapping struct {
	keys []*tmpl
	vals []any // *tmpl or a constant Value
}

// evalNonNull evaluates the mapping and drops None values (the CDK's
// InterpolatedRequestInputProvider).
func (m *tmplMapping) evalNonNull(v *vars) ([]entry, error) {
	if m == nil {
		return nil, nil
	}
	out := make([]entry, 0, len(m.keys))
	for i, kt := range m.keys {
		kv, err := kt.evalRaw(v, interpolation.TypeStr)
		if err != nil {
			return nil, err
		}
		var val value
		if t, ok := m.vals[i].(*tmpl); ok {
			if val, err = t.evalRaw(v, 0); err != nil {
				return nil, err
			}
		} else {
			val = m.vals[i]
		}
		if val == nil {
			continue
		}
		k, ok := kv.(string)
		if !ok {
			k = interpolation.Str(kv)
		}
		out = append(out, entry{k, val})
	}
	return out, nil
}

func (m *tmplMapping) mentions(s string) bool {
	if m == nil {
		return false
	}
	for i, k := range m.keys {
		if k.mentions(s) {
			return true
		}
		if t, ok := m.vals[i].(*tmpl); ok && t.mentions(s) {
			return true
		}
	}
	return false
}

// tmplNested is an InterpolatedNestedMapping: strings anywhere in nested
// dicts and lists are templates.
type tmplNested struct {
	root any // *tmpl, *nestedDict, []any of those, or a constant
}

type nestedDict struct {
	keys []*tmpl
	vals []any
}

func (n *tmplNested) eval(v *vars) (value, error) { return evalNested(n.root, v) }

func evalNested(node any, v *vars) (value, error) {
	switch x := node.(type) {
	case *tmpl:
		return x.evalRaw(v, 0)
	case *nestedDict:
		// Entries whose value is None are dropped, at every level.
		d := interpolation.NewDict(len(x.keys))
		for i, k := range x.keys {
			val, err := evalNested(x.vals[i], v)
			if err != nil {
				return nil, err
			}
			if val == nil {
				continue
			}
			kval, err := k.evalRaw(v, 0)
			if err != nil {
				return nil, err
			}
			kv, ok := kval.(string)
			if !ok {
				kv = pyJSONKey(kval)
			}
			d.Set(kv, val)
		}
		return d, nil
	case []any:
		out := make([]value, len(x))
		for i, e := range x {
			val, err := evalNested(e, v)
			if err != nil {
				return nil, err
			}
			out[i] = val
		}
		return out, nil
	}
	return node, nil
}

// topMentions reports whether the text of a top-level key or string value
// contains s.
func (n *tmplNested) topMentions(s string) bool {
	switch x := n.root.(type) {
	case *tmpl:
		return x.mentions(s)
	case *nestedDict:
		for i, k := range x.keys {
			if t, ok := x.vals[i].(*tmpl); k.mentions(s) || (ok && t.mentions(s)) {
				return true
			}
		}
	}
	return false
}

// compileNested compiles a manifest value for an InterpolatedNestedMapping.
func (b *builder) compileNested(node any, params *dict) (any, error) {
	switch x := node.(type) {
	case string:
		return b.compile(x, params)
	case *manifest.Map:
		nd := &nestedDict{}
		for _, k := range x.Keys() {
			kt, err := b.compile(k, params)
			if err != nil {
				return nil, err
			}
			e, _ := x.Get(k)
			ev, err := b.compileNested(e, params)
			if err != nil {
				return nil, err
			}
			nd.keys = append(nd.keys, kt)
			nd.vals = append(nd.vals, ev)
		}
		return nd, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			ev, err := b.compileNested(e, params)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	}
	return fromManifest(node), nil
}

// decodeJSON parses JSON into values, keeping key order.
func decodeJSON(b []byte) (value, error) { return interpolation.DecodeJSON(b) }

// encodeJSON writes a record or state as JSON, once.
func encodeJSON(v value) ([]byte, error) { return interpolation.AppendJSON(nil, v) }

// parseDatetime and formatDatetime follow the CDK's DatetimeParser.
func parseDatetime(s, format string) (time.Time, error) {
	return interpolation.ParseDatetime(format, s)
}

func formatDatetime(t time.Time, format string) string {
	return interpolation.FormatDatetime(format, t)
}
