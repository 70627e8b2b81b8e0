package interpolation

import (
	"strings"
	"sync"
)

// Template is a compiled template: parsed once, evaluated many times, safe for concurrent use.
type Template struct {
	src        string
	nodes      []node
	single     expr     // the expression when the template is exactly one {{ expr }}
	plain      bool     // no tags at all: renders to its source
	undeclared []string // names read from the context before any {% set %}
	needMask   uint32   // Var slots among undeclared
	needOther  []string // undeclared names that are no Var
	hasLocals  bool
	// compileErr is the TypeError of Jinja's optimizer (see optimizerError): Jinja meets it
	// while compiling, before the undeclared-variable check.
	compileErr error
}

// Compile parses a template once. It fails with an *Error wrapping ErrSyntax where Jinja fails
// to parse (an unknown filter or test included). Note that the CDK raises such errors only when
// it first evaluates the string; a caller that must behave the same can keep the error and
// return it then.
func Compile(src string) (*Template, error) {
	t := &Template{src: src}
	if !strings.Contains(src, "{{") && !strings.Contains(src, "{%") && !strings.Contains(src, "{#") {
		t.plain = true
		t.nodes = []node{&textNode{normalizeNewlines(src)}}
		return t, nil
	}
	segs, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{segs: segs, locals: map[string]bool{}}
	nodes, _, err := p.parseBody()
	if err != nil {
		return nil, err
	}
	t.nodes = nodes
	markFolds(nodes)
	t.compileErr = optimizerError(nodes)
	t.hasLocals = len(p.locals) > 0
	if t.hasLocals {
		markLocals(nodes, p.locals)
	}
	if len(nodes) == 1 {
		if o, ok := nodes[0].(*outputNode); ok {
			t.single = o.e
		}
	}
	a := &scopeAnalysis{stored: map[string]bool{}, found: map[string]bool{}}
	a.nodes(nodes)
	for name := range a.found {
		if globals[name] != nil {
			continue
		}
		t.undeclared = append(t.undeclared, name)
		if v, ok := varByName[name]; ok {
			t.needMask |= 1 << v
		} else {
			t.needOther = append(t.needOther, name)
		}
	}
	return t, nil
}

// mustCompile is Compile for templates known to be valid; it panics on a syntax error.
func mustCompile(src string) *Template {
	t, err := Compile(src)
	if err != nil {
		panic("interpolation: " + err.Error())
	}
	return t
}

// Source returns the template's text.
func (t *Template) Source() string { return t.src }

// frame is the state of one evaluation. It holds a copy of the caller's Vars, so that the
// caller's Vars (usually on its stack) does not escape to the heap; frames are pooled.
type frame struct {
	vars    Vars
	locals  []namedValue
	folding bool // evaluating a constant at compile time, as Jinja's optimizer does
	// iterations counts the for loops' iterations of this evaluation (maxIterations).
	iterations int
	// madeBytes counts the text and list items its operations made (maxMade).
	madeBytes int
	// compared counts the items its comparisons visited (maxCompared).
	compared int
}

var framePool = sync.Pool{New: func() any { return new(frame) }}

func newFrame(vs *Vars) *frame {
	f := framePool.Get().(*frame)
	f.vars = *vs
	return f
}

// release returns the frame to the pool, dropping what it referenced.
func (f *frame) release() {
	f.vars = Vars{}
	f.folding = false
	f.iterations, f.madeBytes, f.compared = 0, 0, 0
	clear(f.locals)
	f.locals = f.locals[:0]
	framePool.Put(f)
}

func (f *frame) lookupLocal(name string) (Value, bool) {
	for i := len(f.locals) - 1; i >= 0; i-- {
		if f.locals[i].name == name {
			return f.locals[i].v, true
		}
	}
	return nil, false
}

func (f *frame) setLocal(name string, v Value) {
	for i := len(f.locals) - 1; i >= 0; i-- {
		if f.locals[i].name == name {
			f.locals[i].v = v
			return
		}
	}
	f.locals = append(f.locals, namedValue{name, v})
}

// checkDeclared fails as the CDK does when the template reads a variable the context lacks.
func (t *Template) checkDeclared(vs *Vars) error {
	if t.needMask&^vs.set == 0 && len(t.needOther) == 0 {
		return nil
	}
	var missing []string
	for _, name := range t.undeclared {
		if !vs.has(name) {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return undeclaredError(missing, vs)
}

// Render renders the template as Jinja does in the CDK's environment (its filters and macros,
// the sandbox, undefined values printing as nothing), without the CDK's post-processing: an
// exception is returned as an *Error, and the variables it reads must be set in vs.
func (t *Template) Render(vs *Vars) (string, error) {
	if t.plain {
		return t.nodes[0].(*textNode).s, nil
	}
	if t.compileErr != nil {
		return "", t.compileErr
	}
	if err := t.checkDeclared(vs); err != nil {
		return "", err
	}
	f := newFrame(vs)
	b, err := t.renderNodes(f, nil)
	f.release()
	return string(b), err
}

func (t *Template) renderNodes(f *frame, b []byte) ([]byte, error) {
	var err error
	for _, n := range t.nodes {
		if b, err = n.render(f, b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// scopeAnalysis finds the names a template reads from its context, as Jinja's
// meta.find_undeclared_variables does: names read before being set, and names set only inside
// an if (Jinja resolves those from the context).
type scopeAnalysis struct {
	stored map[string]bool
	found  map[string]bool
}

func (a *scopeAnalysis) load(name string) {
	if !a.stored[name] && name != "self" {
		a.found[name] = true
	}
}

func (a *scopeAnalysis) nodes(ns []node) {
	for _, n := range ns {
		switch n := n.(type) {
		case *outputNode:
			a.expr(n.e)
		case *ifNode:
			for _, e := range n.tests[:1] {
				a.expr(e)
			}
			before := a.stored
			var branchStores []string
			visit := func(body []node, tests []expr) {
				a.stored = copySet(before)
				for _, e := range tests {
					a.expr(e)
				}
				a.nodes(body)
				for k := range a.stored {
					if !before[k] {
						branchStores = append(branchStores, k)
					}
				}
			}
			visit(n.bodies[0], nil)
			for i := 1; i < len(n.tests); i++ {
				visit(n.bodies[i], n.tests[i:i+1])
			}
			visit(n.els, nil)
			a.stored = before
			for _, k := range branchStores {
				a.found[k] = true
				a.stored[k] = true
			}
		case *setNode:
			if n.e != nil {
				a.expr(n.e)
			} else {
				a.nodes(n.body)
			}
			if n.attr != "" {
				a.load(n.names[0])
				continue
			}
			for _, nm := range n.names {
				a.stored[nm] = true
			}
		case *forNode:
			a.expr(n.iter)
			before := a.stored
			a.stored = copySet(before)
			for _, nm := range n.names {
				a.stored[nm] = true
			}
			a.stored["loop"] = true
			if n.filter != nil {
				a.expr(n.filter)
			}
			a.nodes(n.body)
			a.stored = before
			a.nodes(n.els)
		}
	}
}

func copySet(m map[string]bool) map[string]bool {
	c := make(map[string]bool, len(m))
	for k := range m {
		c[k] = true
	}
	return c
}

func (a *scopeAnalysis) expr(e expr) {
	if n, ok := e.(*nameExpr); ok {
		a.load(n.name)
		return
	}
	eachChild(e, a.expr)
}

// eachChild calls fn for each direct subexpression of e, in evaluation order.
func eachChild(e expr, fn func(expr)) {
	all := func(es []expr) {
		for _, x := range es {
			fn(x)
		}
	}
	kws := func(ks []kwarg) {
		for _, k := range ks {
			fn(k.e)
		}
	}
	switch e := e.(type) {
	case *getattrExpr:
		fn(e.obj)
	case *getitemExpr:
		fn(e.obj)
		fn(e.key)
	case *sliceExpr:
		all([]expr{e.start, e.stop, e.step})
	case *callExpr:
		fn(e.fn)
		all(e.args)
		kws(e.kwargs)
		all([]expr{e.dynArgs, e.dynKwargs})
	case *filterExpr:
		fn(e.node)
		all(e.args)
		kws(e.kwargs)
	case *testExpr:
		fn(e.node)
		all(e.args)
		kws(e.kwargs)
	case *unaryExpr:
		fn(e.e)
	case *binExpr:
		all([]expr{e.l, e.r})
	case *andExpr:
		all([]expr{e.l, e.r})
	case *orExpr:
		all([]expr{e.l, e.r})
	case *concatExpr:
		all(e.parts)
	case *compareExpr:
		fn(e.first)
		for _, o := range e.ops {
			fn(o.e)
		}
	case *condExpr:
		all([]expr{e.test, e.then, e.els})
	case *listExpr:
		all(e.items)
	case *tupleExpr:
		all(e.items)
	case *dictExpr:
		all(e.keys)
		all(e.vals)
	}
}

// markLocals flags the names that {% set %} or {% for %} may assign, so that only they look at
// the frame's locals first.
func markLocals(ns []node, locals map[string]bool) {
	var walkExpr func(e expr)
	walkExpr = func(e expr) {
		if n, ok := e.(*nameExpr); ok {
			n.local = locals[n.name]
			return
		}
		eachChild(e, walkExpr)
	}
	var walk func(ns []node)
	walk = func(ns []node) {
		for _, n := range ns {
			switch n := n.(type) {
			case *outputNode:
				walkExpr(n.e)
			case *ifNode:
				for _, t := range n.tests {
					walkExpr(t)
				}
				for _, b := range n.bodies {
					walk(b)
				}
				walk(n.els)
			case *setNode:
				walkExpr(n.e)
				walk(n.body)
			case *forNode:
				walkExpr(n.iter)
				walkExpr(n.filter)
				walk(n.body)
				walk(n.els)
			}
		}
	}
	walk(ns)
}
