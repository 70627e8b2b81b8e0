package interpolation

import (
	"math"
	"math/big"
	"sync/atomic"
)

// Types is a set of Python types: the CDK's valid_types. A result of literal_eval outside the
// set is dropped for the rendered string.
type Types uint16

// The Python types of Types. As Python's isinstance, TypeInt also admits bools.
const (
	TypeStr Types = 1 << iota
	TypeInt
	TypeFloat
	TypeBool
	TypeNone
	TypeList
	TypeTuple
	TypeDict
)

func (ts Types) admits(v Value) bool {
	if ts == 0 {
		return true
	}
	var t Types
	switch v.(type) {
	case string:
		t = TypeStr
	case bool:
		t = TypeBool | TypeInt
	case int64, *big.Int:
		t = TypeInt
	case float64:
		t = TypeFloat
	case nil:
		t = TypeNone
	case []Value:
		t = TypeList
	case Tuple:
		t = TypeTuple
	case *Dict:
		t = TypeDict
	}
	return ts&t != 0
}

// EvalOptions are the optional arguments of the CDK's JinjaInterpolation.eval.
type EvalOptions struct {
	// Default is evaluated when the template renders to "" or reads something undefined (nil:
	// the result is then None).
	Default *Template
	// ValidTypes restricts what literal_eval may return (0: any type).
	ValidTypes Types
}

// Eval evaluates the template as the CDK's JinjaInterpolation.eval(template, config,
// **context) does: render, then parse the text back with ast.literal_eval ("5" → 5, "True" →
// True, "[1, 2]" → [1, 2], "None" → None, "2024-01-01" and "001" stay strings). A text that is
// empty, or a render that reads an attribute of something undefined, gives None. A render that
// raises a TypeError gives the template's source text unchanged, as in the CDK. Other errors
// (a ValueError, a variable missing from vs) are returned.
func (t *Template) Eval(vs *Vars) (Value, error) { return t.EvalWith(vs, EvalOptions{}) }

// EvalWith is Eval with a default and valid types (JinjaInterpolation.eval's default and
// valid_types arguments).
func (t *Template) EvalWith(vs *Vars, o EvalOptions) (Value, error) {
	for _, e := range vs.extra {
		if e.name == "stream_interval" || e.name == "stream_partition" {
			return nil, valueErrorf("Found reserved keyword %s in interpolation context. This is unexpected and indicative of a bug in the CDK.", e.name)
		}
	}
	v, done, err := t.evalOnce(vs, o.ValidTypes)
	if done || err != nil && !isType(err, "UndefinedError") {
		return v, err
	}
	if o.Default == nil {
		return nil, nil
	}
	s, err := o.Default.cdkRender(vs)
	if err != nil {
		return nil, err
	}
	return finishLiteral(s, o.ValidTypes)
}

// evalOnce renders and literal-evaluates; done is false when the CDK moves on to the default
// (empty text, or an UndefinedError in err).
func (t *Template) evalOnce(vs *Vars, valid Types) (Value, bool, error) {
	if t.plain {
		s := t.nodes[0].(*textNode).s
		if s == "" {
			return nil, false, nil
		}
		v, err := finishLiteral(s, valid)
		return v, true, err
	}
	if t.compileErr != nil { // a TypeError: the source text comes back
		v, err := finishLiteral(t.src, valid)
		return v, true, err
	}
	if err := t.checkDeclared(vs); err != nil {
		return nil, true, err
	}
	if t.single != nil {
		f := newFrame(vs)
		v, err := t.single.eval(f)
		f.release()
		if err != nil {
			if isType(err, "TypeError") {
				v, err := finishLiteral(t.src, valid)
				return v, true, err
			}
			return nil, false, err
		}
		return finishValue(v, valid)
	}
	s, err := t.cdkRenderChecked(vs)
	if err != nil {
		return nil, false, err
	}
	if s == "" {
		return nil, false, nil
	}
	v, err := finishLiteral(s, valid)
	return v, true, err
}

// finishValue is finishLiteral(str(v)) without printing v where the printed form would parse
// back to v itself.
func finishValue(v Value, valid Types) (Value, bool, error) {
	switch x := v.(type) {
	case *undefined:
		return nil, false, nil
	case string:
		if x == "" {
			return nil, false, nil
		}
		r, ok, err := literalEval(x)
		if err != nil {
			return nil, true, err
		}
		if !ok || !valid.admits(r) {
			return v, true, nil // v itself: no new interface for the same string
		}
		return r, true, nil
	case bool, int64, *big.Int, nil:
		if valid.admits(v) {
			return v, true, nil
		}
		return Str(v), true, nil
	case float64:
		if !math.IsInf(x, 0) && !math.IsNaN(x) {
			if valid.admits(v) {
				return v, true, nil
			}
		}
		return Str(v), true, nil
	}
	s := Str(v)
	if err := checkText(len(s)); err != nil {
		return nil, true, err
	}
	r, err := finishLiteral(s, valid)
	return r, true, err
}

// finishLiteral is the CDK's _literal_eval.
func finishLiteral(s string, valid Types) (Value, error) {
	v, ok, err := literalEval(s)
	if err != nil {
		return nil, err
	}
	if !ok || !valid.admits(v) {
		return s, nil
	}
	return v, nil
}

// cdkRender is the CDK's JinjaInterpolation._eval: the undeclared-variable check, then the
// render, whose TypeError gives the source text back.
func (t *Template) cdkRender(vs *Vars) (string, error) {
	if t.plain {
		return t.nodes[0].(*textNode).s, nil
	}
	if t.compileErr != nil { // a TypeError: the source text comes back
		return t.src, nil
	}
	if err := t.checkDeclared(vs); err != nil {
		return "", err
	}
	return t.cdkRenderChecked(vs)
}

func (t *Template) cdkRenderChecked(vs *Vars) (string, error) {
	f := newFrame(vs)
	b, err := t.renderNodes(f, nil)
	f.release()
	if err != nil {
		if isType(err, "TypeError") {
			return t.src, nil
		}
		return "", err
	}
	return string(b), nil
}

// String is the CDK's InterpolatedString: a template whose default is itself, which remembers
// after its first evaluation whether it is a plain string (its value then equals its source
// text and later evaluations return the text without rendering).
type String struct {
	tmpl  *Template
	def   *Template
	plain atomic.Int32 // 0 not known yet, 1 plain, 2 template
}

// NewString compiles an InterpolatedString; def is its default ("" means the string itself,
// as in the CDK).
func NewString(src, def string) (*String, error) {
	t, err := Compile(src)
	if err != nil {
		return nil, err
	}
	d := t
	if def != "" && def != src {
		if d, err = Compile(def); err != nil {
			return nil, err
		}
	}
	return &String{tmpl: t, def: d}, nil
}

// Template returns the compiled template.
func (s *String) Template() *Template { return s.tmpl }

// Eval is InterpolatedString.eval.
func (s *String) Eval(vs *Vars) (Value, error) {
	switch s.plain.Load() {
	case 1:
		return s.tmpl.src, nil
	case 2:
		return s.tmpl.EvalWith(vs, EvalOptions{Default: s.def})
	}
	v, err := s.tmpl.EvalWith(vs, EvalOptions{Default: s.def})
	if err != nil {
		return nil, err
	}
	if str, ok := v.(string); ok && str == s.tmpl.src {
		s.plain.Store(1)
	} else {
		s.plain.Store(2)
	}
	return v, nil
}

// falseTemplate is InterpolatedBoolean's default.
var falseTemplate = mustCompile("False")

// Boolean is the CDK's InterpolatedBoolean: a condition whose evaluated value is false only
// when it equals one of "False", "false", "{}", "[]", "()", "", "0", "0.0", {}, False, [], ()
// (so None, or an undefined attribute rendering "None", counts as true).
type Boolean struct{ tmpl *Template }

// NewBoolean compiles an InterpolatedBoolean.
func NewBoolean(src string) (*Boolean, error) {
	t, err := Compile(src)
	if err != nil {
		return nil, err
	}
	return &Boolean{t}, nil
}

// Eval is InterpolatedBoolean.eval.
func (b *Boolean) Eval(vs *Vars) (bool, error) {
	v, err := b.tmpl.EvalWith(vs, EvalOptions{Default: falseTemplate})
	if err != nil {
		return false, err
	}
	switch x := v.(type) {
	case string:
		switch x {
		case "False", "false", "{}", "[]", "()", "", "0", "0.0":
			return false, nil
		}
		return true, nil
	case []Value, Tuple, *Dict:
		return Truthy(x), nil
	case bool, int64, float64:
		return !Equal(x, false), nil
	}
	return true, nil
}

// Mapping is the CDK's InterpolatedMapping: keys and string values are templates; values of
// other types are kept as they are.
type Mapping struct {
	entries []mappingEntry
}

type mappingEntry struct {
	keySrc Value // the key as written: a template when it is a string
	key    *Template
	val    *Template // nil: raw is kept
	raw    Value
}

// NewMapping compiles a mapping of templates.
func NewMapping(m *Dict) (*Mapping, error) {
	out := &Mapping{}
	for k, v := range m.All() {
		e := mappingEntry{keySrc: k, raw: v}
		if ks, ok := k.(string); ok {
			t, err := Compile(ks)
			if err != nil {
				return nil, err
			}
			e.key = t
		}
		if vs, ok := v.(string); ok {
			t, err := Compile(vs)
			if err != nil {
				return nil, err
			}
			e.val = t
		}
		out.entries = append(out.entries, e)
	}
	return out, nil
}

// Eval is InterpolatedMapping.eval with valid_key_types and valid_value_types (the CDK's
// defaults are TypeStr for keys and any type for values).
func (m *Mapping) Eval(vs *Vars, keyTypes, valueTypes Types) (*Dict, error) {
	out := NewDict(len(m.entries))
	for _, e := range m.entries {
		if e.key == nil {
			return nil, newError("Exception", "Expected a string, got %s", Str(e.keySrc))
		}
		k, err := e.key.EvalWith(vs, EvalOptions{ValidTypes: keyTypes})
		if err != nil {
			return nil, err
		}
		v := e.raw
		if e.val != nil {
			if v, err = e.val.EvalWith(vs, EvalOptions{ValidTypes: valueTypes}); err != nil {
				return nil, err
			}
		}
		if err := out.put(k, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// NestedMapping is the CDK's InterpolatedNestedMapping: every string at any depth (dict keys
// included) is a template; dict entries whose value evaluates to None are dropped.
type NestedMapping struct{ root nested }

type nested struct {
	tmpl  *Template
	raw   Value
	keys  []nested
	vals  []nested
	items []nested
	kind  byte // 's' template, 'd' dict, 'l' list, 'v' other
}

// NewNestedMapping compiles a nested structure of templates.
func NewNestedMapping(v Value) (*NestedMapping, error) {
	n, err := compileNested(v)
	if err != nil {
		return nil, err
	}
	return &NestedMapping{n}, nil
}

func compileNested(v Value) (nested, error) {
	switch x := v.(type) {
	case string:
		t, err := Compile(x)
		return nested{tmpl: t, kind: 's'}, err
	case *Dict:
		n := nested{kind: 'd'}
		for k, val := range x.All() {
			kn, err := compileNested(k)
			if err != nil {
				return n, err
			}
			vn, err := compileNested(val)
			if err != nil {
				return n, err
			}
			n.keys = append(n.keys, kn)
			n.vals = append(n.vals, vn)
		}
		return n, nil
	case []Value:
		n := nested{kind: 'l'}
		for _, it := range x {
			c, err := compileNested(it)
			if err != nil {
				return n, err
			}
			n.items = append(n.items, c)
		}
		return n, nil
	}
	return nested{raw: v, kind: 'v'}, nil
}

// Eval is InterpolatedNestedMapping.eval.
func (m *NestedMapping) Eval(vs *Vars) (Value, error) { return m.root.eval(vs) }

func (n nested) eval(vs *Vars) (Value, error) {
	switch n.kind {
	case 's':
		return n.tmpl.Eval(vs)
	case 'd':
		d := NewDict(len(n.keys))
		for i := range n.keys {
			k, err := n.keys[i].eval(vs)
			if err != nil {
				return nil, err
			}
			v, err := n.vals[i].eval(vs)
			if err != nil {
				return nil, err
			}
			if err := d.put(k, v); err != nil {
				return nil, err
			}
		}
		out := NewDict(d.Len())
		for i := range d.keys {
			if d.vals[i] != nil {
				out.keys = append(out.keys, d.keys[i])
				out.vals = append(out.vals, d.vals[i])
			}
		}
		if out.Len() > indexFrom {
			out.buildIndex()
		}
		return out, nil
	case 'l':
		l := make([]Value, len(n.items))
		for i, it := range n.items {
			v, err := it.eval(vs)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	}
	return n.raw, nil
}
