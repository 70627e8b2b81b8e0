package interpolation

import (
	"math"
	"math/big"
	"strings"
)

// templateRef is Jinja's "self", the reference to the template's blocks; templates here have
// none, so its attributes are undefined.
type templateRef struct{}

// undefined is Jinja's Undefined: what a missing name, key or attribute evaluates to. It prints
// as nothing, is falsy and iterates as empty; most other operations raise UndefinedError.
type undefined struct {
	hint   string
	obj    Value
	hasObj bool
	name   Value
}

func undefinedName(name string) *undefined { return &undefined{name: name} }

func undefinedOf(obj Value, name Value) *undefined {
	return &undefined{obj: obj, hasObj: true, name: name}
}

func (u *undefined) message() string {
	switch {
	case u.hint != "":
		return u.hint
	case !u.hasObj:
		return Repr(u.name) + " is undefined"
	}
	if _, ok := u.name.(string); !ok {
		return objectTypeRepr(u.obj) + " has no element " + Repr(u.name)
	}
	return Repr(objectTypeRepr(u.obj)) + " has no attribute " + Repr(u.name)
}

func (u *undefined) fail() error { return &Error{Type: "UndefinedError", Message: u.message()} }

// objectTypeRepr is Jinja's object_type_repr.
func objectTypeRepr(v Value) string {
	switch v.(type) {
	case nil:
		return "None"
	case dateTime, date, timeDelta, isoDuration:
		return qualifiedTypeName(v) + " object"
	case *undefined:
		return "jinja2.runtime.Undefined object"
	}
	return typeName(v) + " object"
}

// failIfUndefined returns the UndefinedError of v when v is undefined.
func failIfUndefined(v Value) error {
	if u, ok := v.(*undefined); ok {
		return u.fail()
	}
	return nil
}

func (n *textNode) render(_ *frame, b []byte) ([]byte, error) { return append(b, n.s...), nil }

func (n *outputNode) render(f *frame, b []byte) ([]byte, error) {
	v, err := n.e.eval(f)
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok {
		b = append(b, s...)
		return b, checkText(len(b))
	}
	if _, ok := v.(*undefined); ok {
		return b, nil
	}
	b = appendRepr(b, v, false)
	return b, checkText(len(b))
}

func (n *ifNode) render(f *frame, b []byte) ([]byte, error) {
	for i, t := range n.tests {
		v, err := t.eval(f)
		if err != nil {
			return nil, err
		}
		if Truthy(v) {
			return renderAll(f, n.bodies[i], b)
		}
	}
	return renderAll(f, n.els, b)
}

func renderAll(f *frame, ns []node, b []byte) ([]byte, error) {
	var err error
	for _, n := range ns {
		if b, err = n.render(f, b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (n *setNode) render(f *frame, b []byte) ([]byte, error) {
	var v Value
	if n.e != nil {
		var err error
		if v, err = n.e.eval(f); err != nil {
			return nil, err
		}
	} else {
		out, err := renderAll(f, n.body, nil)
		if err != nil {
			return nil, err
		}
		v = string(out)
	}
	if n.attr != "" {
		ns, _ := f.lookupLocal(n.names[0])
		nsp, ok := ns.(*namespace)
		if !ok {
			return nil, newError("TemplateRuntimeError", "cannot assign attribute on non-namespace object")
		}
		nsp.attrs.Set(n.attr, v)
		return b, nil
	}
	if len(n.names) == 1 {
		f.setLocal(n.names[0], v)
		return b, nil
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if len(items) != len(n.names) {
		if len(items) > len(n.names) {
			return nil, valueErrorf("too many values to unpack (expected %d)", len(n.names))
		}
		return nil, valueErrorf("not enough values to unpack (expected %d, got %d)", len(n.names), len(items))
	}
	for i, nm := range n.names {
		f.setLocal(nm, items[i])
	}
	return b, nil
}

func (n *forNode) render(f *frame, b []byte) ([]byte, error) {
	it, err := n.iter.eval(f)
	if err != nil {
		return nil, err
	}
	items, err := iterate(it)
	if err != nil {
		return nil, err
	}
	saved := append([]namedValue(nil), f.locals...)
	defer func() { f.locals = saved }()
	assign := func(item Value) error {
		if len(n.names) == 1 {
			f.setLocal(n.names[0], item)
			return nil
		}
		parts, err := iterate(item)
		if err != nil {
			return err
		}
		if len(parts) != len(n.names) {
			return valueErrorf("not enough values to unpack (expected %d, got %d)", len(n.names), len(parts))
		}
		for i, nm := range n.names {
			f.setLocal(nm, parts[i])
		}
		return nil
	}
	if n.filter != nil {
		var kept []Value
		for _, item := range items {
			if err := f.iterate(); err != nil {
				return nil, err
			}
			if err := assign(item); err != nil {
				return nil, err
			}
			ok, err := n.filter.eval(f)
			if err != nil {
				return nil, err
			}
			if Truthy(ok) {
				kept = append(kept, item)
			}
		}
		items = kept
	}
	if len(items) == 0 {
		return renderAll(f, n.els, b)
	}
	for i, item := range items {
		if err := f.iterate(); err != nil {
			return nil, err
		}
		if err := assign(item); err != nil {
			return nil, err
		}
		loop := NewDict(8)
		loop.Set("index", int64(i+1))
		loop.Set("index0", int64(i))
		loop.Set("revindex", int64(len(items)-i))
		loop.Set("revindex0", int64(len(items)-i-1))
		loop.Set("first", i == 0)
		loop.Set("last", i == len(items)-1)
		loop.Set("length", int64(len(items)))
		var prev, next Value = undefinedName("previtem"), undefinedName("nextitem")
		if i > 0 {
			prev = items[i-1]
		}
		if i+1 < len(items) {
			next = items[i+1]
		}
		loop.Set("previtem", prev)
		loop.Set("nextitem", next)
		f.setLocal("loop", loop)
		if b, err = renderAll(f, n.body, b); err != nil {
			return nil, err
		}
		if err := checkText(len(b)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (e *constExpr) eval(*frame) (Value, error) {
	switch v := e.v.(type) {
	case []Value:
		return append([]Value(nil), v...), nil
	}
	return e.v, nil
}

func (e *nameExpr) eval(f *frame) (Value, error) {
	if e.local {
		if v, ok := f.lookupLocal(e.name); ok {
			return v, nil
		}
	}
	if e.slot >= 0 && f.vars.set&(1<<e.slot) != 0 {
		return f.vars.vals[e.slot], nil
	}
	for _, x := range f.vars.extra {
		if x.name == e.name {
			return x.v, nil
		}
	}
	if g := globals[e.name]; g != nil {
		return g, nil
	}
	if e.name == "self" {
		return templateRef{}, nil
	}
	return undefinedName(e.name), nil
}

func (e *getattrExpr) eval(f *frame) (Value, error) {
	obj, err := e.obj.eval(f)
	if err != nil {
		return nil, err
	}
	return getattr(obj, e.attr)
}

func (e *getitemExpr) eval(f *frame) (Value, error) {
	obj, err := e.obj.eval(f)
	if err != nil {
		return nil, err
	}
	if c, ok := e.key.(*constExpr); ok {
		if s, isStr := c.v.(string); isStr {
			if d, isDict := obj.(*Dict); isDict {
				if v, found := d.Get(s); found {
					return v, nil
				}
			}
		}
	}
	key, err := e.key.eval(f)
	if err != nil {
		return nil, err
	}
	if _, isSlice := e.key.(*sliceExpr); isSlice && !e.fold && !f.folding {
		// Jinja compiles x[a:b] to Python's own subscript, bypassing the sandbox's getitem:
		// config.flag[1:] or none[:1] raise a TypeError. Only its optimizer, which folds
		// constants with the sandbox's getitem, makes an undefined value of (1)[1:].
		return pyGetitem(obj, key)
	}
	return getitem(obj, key)
}

// markFolds finds the slices that Jinja evaluates at compile time. Its optimizer replaces
// every constant expression whose value has a safe repr (None, bool, numbers, str and
// containers of them) by that value, and the compiler prints the top expression of a
// {{ }} when it is constant, whatever its value; both evaluate with the sandbox's getitem.
// So a slice inside a constant expression is folded when an enclosing constant expression
// has such a value, or when the constant reaches up to the {{ }}.
func markFolds(ns []node) {
	var walk func(e expr, anc []expr, output bool)
	walk = func(e expr, anc []expr, output bool) {
		if e == nil {
			return
		}
		anc = append(anc, e)
		if g, ok := e.(*getitemExpr); ok {
			if _, isSlice := g.key.(*sliceExpr); isSlice {
				g.fold = folded(anc, output)
			}
		}
		eachChild(e, func(c expr) { walk(c, anc, output) })
	}
	for _, n := range ns {
		switch n := n.(type) {
		case *outputNode:
			walk(n.e, nil, true)
		case *ifNode:
			for _, e := range n.tests {
				walk(e, nil, false)
			}
			for _, b := range n.bodies {
				markFolds(b)
			}
			markFolds(n.els)
		case *setNode:
			walk(n.e, nil, false)
			markFolds(n.body)
		case *forNode:
			walk(n.iter, nil, false)
			walk(n.filter, nil, false)
			markFolds(n.body)
			markFolds(n.els)
		}
	}
}

// optimizerError is the TypeError Jinja's optimizer raises while compiling the template, or
// nil. Its compiler hands every operator, item or attribute access, filter, test, call and
// conditional to the optimizer, which folds the whole subtree below it, children first; a
// constant dict literal there whose key is unhashable fails dict() with a TypeError that is
// no Impossible, so compiling fails, before the CDK checks for undeclared variables and
// whether or not the dict is ever evaluated. Elsewhere (a dict alone in a {{ }}, in a list,
// in {% set %}, or a {{ }} that is constant as a whole) the dict is built when it runs.
func optimizerError(ns []node) error {
	var walk func(e expr, optimized bool) error
	walk = func(e expr, optimized bool) error {
		if e == nil {
			return nil
		}
		switch e.(type) {
		case *constExpr, *nameExpr, *listExpr, *tupleExpr, *dictExpr, *sliceExpr:
		default:
			optimized = true
		}
		var err error
		eachChild(e, func(c expr) {
			if err == nil {
				err = walk(c, optimized)
			}
		})
		if d, ok := e.(*dictExpr); ok && err == nil && optimized {
			err = foldDictError(d)
		}
		return err
	}
	for _, n := range ns {
		var err error
		switch n := n.(type) {
		case *outputNode:
			// The compiler first tries the whole expression as a constant (a conditional
			// only its branch taken); only when that fails, with any exception, does the
			// optimizer see it.
			if _, ok := constValue(n.e); !ok {
				err = walk(n.e, false)
			}
		case *ifNode:
			for _, e := range n.tests {
				if err = walk(e, false); err != nil {
					break
				}
			}
			for _, b := range n.bodies {
				if err == nil {
					err = optimizerError(b)
				}
			}
			if err == nil {
				err = optimizerError(n.els)
			}
		case *setNode:
			if err = walk(n.e, false); err == nil {
				err = optimizerError(n.body)
			}
		case *forNode:
			if err = walk(n.iter, false); err == nil {
				err = walk(n.filter, false)
			}
			if err == nil {
				err = optimizerError(n.body)
			}
			if err == nil {
				err = optimizerError(n.els)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// foldDictError is the error of Jinja's Dict.as_const, dict() of its pairs in order: the
// first pair that is not constant stops it (Impossible), the first constant one with an
// unhashable key fails it.
func foldDictError(d *dictExpr) error {
	var probe Dict
	for i, k := range d.keys {
		kv, ok := constValue(k)
		if !ok {
			return nil
		}
		vv, ok := constValue(d.vals[i])
		if !ok {
			return nil
		}
		if err := probe.put(kv, vv); err != nil {
			return err
		}
	}
	return nil
}

// folded reports whether Jinja folds the last of anc, a chain of expressions from the top
// of a statement down.
func folded(anc []expr, output bool) bool {
	for i := len(anc) - 1; i >= 0; i-- {
		v, ok := constValue(anc[i])
		if !ok {
			return false // not constant, or left to run: an error comes again at run time
		}
		if safeRepr(v, 0) {
			return true
		}
	}
	return output
}

// safeRepr is Jinja's has_safe_repr: the values its optimizer may turn into constants.
func safeRepr(v Value, depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch x := v.(type) {
	case nil, bool, int64, *big.Int, float64, string:
		return true
	case []Value:
		return safeReprAll(x, depth)
	case Tuple:
		return safeReprAll([]Value(x), depth)
	case *Dict:
		return safeReprAll(x.keys, depth) && safeReprAll(x.vals, depth)
	}
	return false
}

func safeReprAll(vs []Value, depth int) bool {
	for _, v := range vs {
		if !safeRepr(v, depth+1) {
			return false
		}
	}
	return true
}

// constValue is the value of e folded as a constant; ok is false when Jinja cannot fold it.
func constValue(e expr) (v Value, ok bool) {
	if !foldable(e) {
		return nil, false
	}
	f := newFrame(&Vars{})
	f.folding = true
	v, err := e.eval(f)
	f.release()
	return v, err == nil
}

// foldable reports whether Jinja's optimizer can fold e to a constant (the as_const of its
// node): literals and the operators, item and attribute accesses, filters and tests over
// them. Calls and names are not; nor are the filters that take Jinja's context (map,
// select, reject, selectattr, rejectattr, random).
func foldable(e expr) bool {
	switch e := e.(type) {
	case nil, *constExpr:
		return true
	case *nameExpr, *callExpr:
		return false
	case *condExpr: // as_const evaluates the test, then the branch taken only
		test, ok := constValue(e.test)
		switch {
		case !ok:
			return false
		case Truthy(test):
			return foldable(e.then)
		}
		return e.els != nil && foldable(e.els)
	case *andExpr:
		l, ok := constValue(e.l)
		return ok && (!Truthy(l) || foldable(e.r))
	case *orExpr:
		l, ok := constValue(e.l)
		return ok && (Truthy(l) || foldable(e.r))
	case *compareExpr: // as_const stops at the first false comparison, as Python's chain does
		l, ok := constValue(e.first)
		if !ok {
			return false
		}
		for _, o := range e.ops {
			r, ok := constValue(o.e)
			if !ok {
				return false
			}
			res, err := compare(o.op, l, r)
			if err != nil {
				return false
			}
			if !res {
				return true
			}
			l = r
		}
		return true
	case *filterExpr:
		switch e.name {
		case "map", "select", "reject", "selectattr", "rejectattr", "random":
			return false
		}
		if e.node == nil {
			return false
		}
	}
	ok := true
	eachChild(e, func(c expr) {
		if c != nil && !foldable(c) {
			ok = false
		}
	})
	return ok
}

// pySlice is a Python slice object, the key of x[a:b:c].
type pySlice struct{ start, stop, step Value }

func (e *sliceExpr) eval(f *frame) (Value, error) {
	var s pySlice
	for i, x := range []expr{e.start, e.stop, e.step} {
		if x == nil {
			continue
		}
		v, err := x.eval(f)
		if err != nil {
			return nil, err
		}
		switch i {
		case 0:
			s.start = v
		case 1:
			s.stop = v
		default:
			s.step = v
		}
	}
	return s, nil
}

func (e *unaryExpr) eval(f *frame) (Value, error) {
	v, err := e.e.eval(f)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case '!':
		return !Truthy(v), nil
	case '-':
		return negate(v)
	}
	if err := failIfUndefined(v); err != nil {
		return nil, err
	}
	switch v.(type) {
	case bool:
		return boolToInt(v.(bool)), nil
	case int64, *big.Int, float64, timeDelta:
		return v, nil
	}
	return nil, typeErrorf("bad operand type for unary +: '%s'", typeName(v))
}

func boolToInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func negate(v Value) (Value, error) {
	switch v := v.(type) {
	case bool:
		return -boolToInt(v), nil
	case int64:
		if v == math.MinInt64 {
			return new(big.Int).Neg(big.NewInt(v)), nil
		}
		return -v, nil
	case *big.Int:
		return normInt(new(big.Int).Neg(v)), nil
	case float64:
		return -v, nil
	case timeDelta:
		return timeDelta{-v.us}, nil
	case isoDuration:
		return isoDuration{-v.years, -v.months, timeDelta{-v.td.us}}, nil
	case *undefined:
		return nil, v.fail()
	}
	return nil, typeErrorf("bad operand type for unary -: '%s'", typeName(v))
}

func (e *binExpr) eval(f *frame) (Value, error) {
	l, err := e.l.eval(f)
	if err != nil {
		return nil, err
	}
	r, err := e.r.eval(f)
	if err != nil {
		return nil, err
	}
	return f.made(binop(e.op, l, r))
}

func (e *andExpr) eval(f *frame) (Value, error) {
	l, err := e.l.eval(f)
	if err != nil || !Truthy(l) {
		return l, err
	}
	return e.r.eval(f)
}

func (e *orExpr) eval(f *frame) (Value, error) {
	l, err := e.l.eval(f)
	if err != nil || Truthy(l) {
		return l, err
	}
	return e.r.eval(f)
}

func (e *concatExpr) eval(f *frame) (Value, error) {
	var b []byte
	for _, p := range e.parts {
		v, err := p.eval(f)
		if err != nil {
			return nil, err
		}
		if b = appendRepr(b, v, false); len(b) > maxText {
			return nil, errTextTooLong
		}
	}
	return f.made(string(b), nil)
}

func (e *compareExpr) eval(f *frame) (Value, error) {
	l, err := e.first.eval(f)
	if err != nil {
		return nil, err
	}
	for _, o := range e.ops {
		r, err := o.e.eval(f)
		if err != nil {
			return nil, err
		}
		ok, err := f.compare(o.op, l, r)
		if err != nil {
			return nil, err
		}
		if !ok {
			return false, nil
		}
		l = r
	}
	return true, nil
}

func (e *condExpr) eval(f *frame) (Value, error) {
	t, err := e.test.eval(f)
	if err != nil {
		return nil, err
	}
	if Truthy(t) {
		return e.then.eval(f)
	}
	if e.els == nil {
		return &undefined{hint: "the inline if-expression on line 1 evaluated to false and no else section was defined."}, nil
	}
	return e.els.eval(f)
}

func evalAll(f *frame, items []expr) ([]Value, error) {
	l := make([]Value, len(items))
	for i, x := range items {
		v, err := x.eval(f)
		if err != nil {
			return nil, err
		}
		l[i] = v
	}
	return l, nil
}

func (e *listExpr) eval(f *frame) (Value, error) { return evalAll(f, e.items) }

func (e *tupleExpr) eval(f *frame) (Value, error) {
	l, err := evalAll(f, e.items)
	return Tuple(l), err
}

func (e *dictExpr) eval(f *frame) (Value, error) {
	d := NewDict(len(e.keys))
	for i := range e.keys {
		k, err := e.keys[i].eval(f)
		if err != nil {
			return nil, err
		}
		v, err := e.vals[i].eval(f)
		if err != nil {
			return nil, err
		}
		if err := d.put(k, v); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// kwValue is a keyword argument of a call.
type kwValue struct {
	name string
	v    Value
}

func evalArgs(f *frame, args []expr, kwargs []kwarg, dynArgs, dynKwargs expr) ([]Value, []kwValue, error) {
	var pos []Value
	if len(args) > 0 {
		pos = make([]Value, 0, len(args))
	}
	for _, a := range args {
		v, err := a.eval(f)
		if err != nil {
			return nil, nil, err
		}
		pos = append(pos, v)
	}
	var kws []kwValue
	for _, k := range kwargs {
		v, err := k.e.eval(f)
		if err != nil {
			return nil, nil, err
		}
		kws = append(kws, kwValue{k.name, v})
	}
	if dynArgs != nil {
		v, err := dynArgs.eval(f)
		if err != nil {
			return nil, nil, err
		}
		items, err := iterate(v)
		if err != nil {
			return nil, nil, err
		}
		pos = append(pos, items...)
	}
	if dynKwargs != nil {
		v, err := dynKwargs.eval(f)
		if err != nil {
			return nil, nil, err
		}
		d, ok := v.(*Dict)
		if !ok {
			return nil, nil, typeErrorf("argument after ** must be a mapping, not %s", typeName(v))
		}
		for k, x := range d.All() {
			ks, _ := k.(string)
			kws = append(kws, kwValue{ks, x})
		}
	}
	return pos, kws, nil
}

func (e *callExpr) eval(f *frame) (Value, error) {
	if ga, ok := e.fn.(*getattrExpr); ok {
		obj, err := ga.obj.eval(f)
		if err != nil {
			return nil, err
		}
		if m := findMethod(obj, ga.attr); m != nil {
			args, kws, err := evalArgs(f, e.args, e.kwargs, e.dynArgs, e.dynKwargs)
			if err != nil {
				return nil, err
			}
			if _, err := f.made(obj, nil); err != nil { // the method reads its receiver
				return nil, err
			}
			return f.made(m(f, obj, args, kws))
		}
		fn, err := getattr(obj, ga.attr)
		if err != nil {
			return nil, err
		}
		return e.callValue(f, fn)
	}
	fn, err := e.fn.eval(f)
	if err != nil {
		return nil, err
	}
	return e.callValue(f, fn)
}

// callValue calls fn: Jinja's context.call(fn, *args), whose arguments Python evaluates before
// it finds that fn is an Undefined or no callable.
func (e *callExpr) callValue(f *frame, fn Value) (Value, error) {
	args, kws, err := evalArgs(f, e.args, e.kwargs, e.dynArgs, e.dynKwargs)
	if err != nil {
		return nil, err
	}
	if u, ok := fn.(*undefined); ok {
		return nil, u.fail()
	}
	c, ok := fn.(*callable)
	if !ok {
		return nil, typeErrorf("'%s' object is not callable", typeName(fn))
	}
	return f.made(c.fn(f, args, kws))
}

func (e *filterExpr) eval(f *frame) (Value, error) {
	v, err := e.node.eval(f)
	if err != nil {
		return nil, err
	}
	args, kws, err := evalArgs(f, e.args, e.kwargs, nil, nil)
	if err != nil {
		return nil, err
	}
	if _, err := f.made(v, nil); err != nil { // the filter reads its input
		return nil, err
	}
	return f.made(e.fn(f, v, args, kws))
}

func (e *testExpr) eval(f *frame) (Value, error) {
	v, err := e.node.eval(f)
	if err != nil {
		return nil, err
	}
	args, kws, err := evalArgs(f, e.args, e.kwargs, nil, nil)
	if err != nil {
		return nil, err
	}
	ok, err := e.fn(f, v, args, kws)
	return ok, err
}

// getattr is the sandboxed environment's getattr: the Python attribute first (methods of
// str, dict, list, datetime...), then the item of that name, else undefined.
func getattr(obj Value, name string) (Value, error) {
	switch o := obj.(type) {
	case *undefined:
		return nil, o.fail()
	case *Dict:
		if dictMethods[name] == nil {
			if v, ok := o.Get(name); ok {
				return v, nil
			}
			return undefinedOf(obj, name), nil
		}
	}
	if strings.HasPrefix(name, "__") {
		return &undefined{hint: "access to attribute " + Repr(name) + " of " + Repr(typeName(obj)) + " object is unsafe.", obj: obj, hasObj: true, name: name}, nil
	}
	if v, ok := attribute(obj, name); ok {
		return v, nil
	}
	if m := findMethod(obj, name); m != nil {
		return &callable{name: name, fn: func(f *frame, args []Value, kws []kwValue) (Value, error) {
			return m(f, obj, args, kws)
		}}, nil
	}
	if o, ok := obj.(*Object); ok && o.Items != nil {
		obj = o.Items
	}
	switch obj.(type) {
	case *Dict, []Value, Tuple, string:
		v, err := getitem(obj, name)
		if err == nil {
			return v, nil
		}
	case *namespace:
		if v, ok := obj.(*namespace).attrs.Get(name); ok {
			return v, nil
		}
	}
	return undefinedOf(obj, name), nil
}

// getitem is the sandboxed environment's getitem: obj[key], then the attribute of that name
// for a string key, else undefined.
func getitem(obj Value, key Value) (Value, error) {
	v, err := pyGetitem(obj, key)
	if err == nil {
		return v, nil
	}
	if !isType(err, "TypeError") && !isType(err, "KeyError") && !isType(err, "IndexError") {
		return nil, err
	}
	if s, ok := key.(string); ok {
		if _, isDict := obj.(*Dict); isDict && dictMethods[s] == nil {
			return undefinedOf(obj, key), nil
		}
		if v, ok := attribute(obj, s); ok {
			return v, nil
		}
		if m := findMethod(obj, s); m != nil {
			return &callable{name: s, fn: func(f *frame, args []Value, kws []kwValue) (Value, error) {
				return m(f, obj, args, kws)
			}}, nil
		}
	}
	return undefinedOf(obj, key), nil
}

// pyGetitem is Python's obj[key].
func pyGetitem(obj Value, key Value) (Value, error) {
	switch o := obj.(type) {
	case *undefined:
		return nil, o.fail()
	case *Object:
		return objectGetitem(o, key)
	case *Dict:
		if _, isSlice := key.(pySlice); isSlice {
			return nil, typeErrorf("unhashable type: 'slice'")
		}
		v, found, err := o.getAny(key)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, newError("KeyError", "%s", Repr(key))
		}
		return v, nil
	case []Value:
		return seqGetitem(o, key, "list", func(s []Value) Value { return s })
	case Tuple:
		return seqGetitem(o, key, "tuple", func(s []Value) Value { return Tuple(s) })
	case string:
		if sl, ok := key.(pySlice); ok {
			r := []rune(o)
			idx, err := sliceIndices(sl, len(r))
			if err != nil {
				return nil, err
			}
			var sb strings.Builder
			for _, i := range idx {
				sb.WriteRune(r[i])
			}
			return sb.String(), nil
		}
		i, err := indexValue(key, "string")
		if err != nil {
			return nil, err
		}
		r := []rune(o)
		if i < 0 {
			i += len(r)
		}
		if i < 0 || i >= len(r) {
			return nil, newError("IndexError", "string index out of range")
		}
		return string(r[i]), nil
	case *namespace:
		if s, ok := key.(string); ok {
			if v, ok := o.attrs.Get(s); ok {
				return v, nil
			}
		}
	}
	return nil, typeErrorf("'%s' object is not subscriptable", typeName(obj))
}

func seqGetitem(s []Value, key Value, kind string, wrap func([]Value) Value) (Value, error) {
	if sl, ok := key.(pySlice); ok {
		idx, err := sliceIndices(sl, len(s))
		if err != nil {
			return nil, err
		}
		out := make([]Value, len(idx))
		for j, i := range idx {
			out[j] = s[i]
		}
		return wrap(out), nil
	}
	i, err := indexValue(key, kind)
	if err != nil {
		return nil, err
	}
	if i < 0 {
		i += len(s)
	}
	if i < 0 || i >= len(s) {
		return nil, newError("IndexError", "%s index out of range", kind)
	}
	return s[i], nil
}

func indexValue(key Value, kind string) (int, error) {
	switch k := key.(type) {
	case bool:
		return int(boolToInt(k)), nil
	case int64:
		return int(k), nil
	case *big.Int:
		return 0, newError("IndexError", "cannot fit 'int' into an index-sized integer")
	}
	if kind == "string" {
		return 0, typeErrorf("string indices must be integers, not '%s'", typeName(key))
	}
	return 0, typeErrorf("%s indices must be integers or slices, not %s", kind, typeName(key))
}

// sliceIndices returns the positions a Python slice selects in a sequence of length n.
func sliceIndices(s pySlice, n int) ([]int, error) {
	get := func(v Value, def int) (int, bool, error) {
		if v == nil {
			return def, false, nil
		}
		switch x := v.(type) {
		case bool:
			return int(boolToInt(x)), true, nil
		case int64:
			if x > math.MaxInt32 {
				return math.MaxInt32, true, nil
			}
			if x < math.MinInt32 {
				return math.MinInt32, true, nil
			}
			return int(x), true, nil
		}
		return 0, false, typeErrorf("slice indices must be integers or None or have an __index__ method")
	}
	step, _, err := get(s.step, 1)
	if err != nil {
		return nil, err
	}
	if step == 0 {
		return nil, valueErrorf("slice step cannot be zero")
	}
	var start, stop int
	if step > 0 {
		start, _, err = get(s.start, 0)
		if err != nil {
			return nil, err
		}
		stop, _, err = get(s.stop, n)
		if err != nil {
			return nil, err
		}
		start, stop = clampIndex(start, n, 0, n), clampIndex(stop, n, 0, n)
	} else {
		start, _, err = get(s.start, n-1)
		if err != nil {
			return nil, err
		}
		stopDef := -1
		var given bool
		stop, given, err = get(s.stop, 0)
		if err != nil {
			return nil, err
		}
		if s.start != nil {
			start = clampIndex(start, n, -1, n-1)
		}
		if given {
			stop = clampIndex(stop, n, -1, n-1)
		} else {
			stop = stopDef
		}
	}
	var idx []int
	if step > 0 {
		for i := start; i < stop; i += step {
			idx = append(idx, i)
		}
	} else {
		for i := start; i > stop; i += step {
			idx = append(idx, i)
		}
	}
	return idx, nil
}

func clampIndex(i, n, lo, hi int) int {
	if i < 0 {
		i += n
	}
	if i < lo {
		return lo
	}
	if i > hi {
		return hi
	}
	return i
}

// iterate returns the items Python's iter(v) yields: list and tuple items, dict keys, string
// characters; undefined yields nothing.
func iterate(v Value) ([]Value, error) {
	switch v := v.(type) {
	case []Value:
		return v, nil
	case Tuple:
		return v, nil
	case *Dict:
		return v.Keys(), nil
	case string:
		out := make([]Value, 0, len(v))
		for _, r := range v {
			out = append(out, string(r))
		}
		return out, nil
	case *undefined:
		return nil, nil
	case *generator:
		return v.items, nil
	case dictView:
		return v.items(), nil
	}
	return nil, typeErrorf("'%s' object is not iterable", typeName(v))
}
