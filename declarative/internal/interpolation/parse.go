package interpolation

import (
	"fmt"
	"strings"
)

// expr is a compiled expression.
type expr interface {
	eval(f *frame) (Value, error)
}

// node is a compiled template statement.
type node interface {
	render(f *frame, b []byte) ([]byte, error)
}

type (
	constExpr struct{ v Value }
	nameExpr  struct {
		name  string
		slot  int  // Var index of a context variable, or -1
		local bool // assigned by {% set %} somewhere in the template
	}
	getattrExpr struct {
		obj  expr
		attr string
	}
	getitemExpr struct {
		obj, key expr
		fold     bool // a slice Jinja's optimizer folds to a constant (see markFolds)
	}
	sliceExpr struct{ start, stop, step expr }
	callExpr  struct {
		fn        expr
		args      []expr
		kwargs    []kwarg
		dynArgs   expr
		dynKwargs expr
	}
	kwarg struct {
		name string
		e    expr
	}
	filterExpr struct {
		node   expr // nil for a {% filter %} block's input (unused)
		name   string
		fn     filterFunc
		args   []expr
		kwargs []kwarg
	}
	testExpr struct {
		node   expr
		name   string
		fn     testFunc
		args   []expr
		kwargs []kwarg
	}
	unaryExpr struct {
		op byte // '-', '+', '!' (not)
		e  expr
	}
	binExpr struct {
		op   string // + - * / // % **
		l, r expr
	}
	andExpr    struct{ l, r expr }
	orExpr     struct{ l, r expr }
	concatExpr struct{ parts []expr }
	compareOp  struct {
		op string // == != < <= > >= in notin
		e  expr
	}
	compareExpr struct {
		first expr
		ops   []compareOp
	}
	condExpr  struct{ test, then, els expr }
	listExpr  struct{ items []expr }
	tupleExpr struct{ items []expr }
	dictExpr  struct{ keys, vals []expr }
)

type (
	textNode   struct{ s string }
	outputNode struct{ e expr }
	ifNode     struct {
		tests  []expr // if, then each elif
		bodies [][]node
		els    []node
	}
	setNode struct {
		names []string // one name, or several for tuple unpacking
		attr  string   // namespace attribute: {% set ns.attr = ... %}
		e     expr
		body  []node // block set: {% set x %}...{% endset %}
	}
	forNode struct {
		names  []string
		iter   expr
		filter expr
		body   []node
		els    []node
	}
)

// parser turns the segments of a template into nodes.
type parser struct {
	segs   []segment
	si     int
	toks   []token
	ti     int
	locals map[string]bool // names assigned anywhere, for name resolution
	nest   int             // expression nesting, bounded as Python's recursion is
}

// maxNesting bounds how deeply expressions nest; Jinja's parser hits Python's recursion limit
// not far beyond.
const maxNesting = 200

func (p *parser) cur() token {
	if p.ti < len(p.toks) {
		return p.toks[p.ti]
	}
	return token{kind: tEOF}
}

func (p *parser) peek(n int) token {
	if p.ti+n < len(p.toks) {
		return p.toks[p.ti+n]
	}
	return token{kind: tEOF}
}

func (p *parser) next() token {
	t := p.cur()
	p.ti++
	return t
}

func (p *parser) isOp(s string) bool {
	t := p.cur()
	return t.kind == tOp && t.s == s
}

func (p *parser) isName(s string) bool {
	t := p.cur()
	return t.kind == tName && t.s == s
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of template"
	case tName:
		return t.s
	case tString:
		return "string"
	case tInt:
		return "integer"
	case tFloat:
		return "float"
	case tVarEnd:
		return "end of print statement"
	case tBlockEnd:
		return "end of statement block"
	}
	return t.s
}

func (p *parser) fail(format string, args ...any) error {
	return syntaxErrorf(format, args...)
}

func (p *parser) expectOp(s string) error {
	if !p.isOp(s) {
		return p.fail("expected token '%s', got '%s'", s, describe(p.cur()))
	}
	p.ti++
	return nil
}

func (p *parser) expectName() (string, error) {
	t := p.cur()
	if t.kind != tName {
		return "", p.fail("expected token 'name', got '%s'", describe(t))
	}
	p.ti++
	return t.s, nil
}

func (p *parser) expectEnd(kind tokKind) error {
	t := p.cur()
	if t.kind != kind {
		want := "end of print statement"
		if kind == tBlockEnd {
			want = "end of statement block"
		}
		return p.fail("expected token '%s', got '%s'", want, describe(t))
	}
	p.ti++
	return nil
}

// parseTemplate parses segments until one of the given block names starts a statement (or the
// end); it returns the nodes and the name that stopped it.
func (p *parser) parseBody(ends ...string) ([]node, string, error) {
	var nodes []node
	for p.si < len(p.segs) {
		seg := p.segs[p.si]
		p.si++
		switch {
		case seg.isVar:
			p.toks, p.ti = seg.toks, 0
			e, err := p.parseTuple(true, true, false)
			if err != nil {
				return nil, "", err
			}
			if err := p.expectEnd(tVarEnd); err != nil {
				return nil, "", err
			}
			if c, ok := e.(*constExpr); ok {
				if s, isStr := c.v.(string); isStr {
					nodes = append(nodes, &textNode{s})
					continue
				}
			}
			nodes = append(nodes, &outputNode{e})
		case seg.isStmt:
			p.toks, p.ti = seg.toks, 0
			name := p.cur()
			if name.kind != tName {
				return nil, "", p.fail("tag name expected")
			}
			for _, e := range ends {
				if name.s == e {
					p.ti++
					return nodes, e, nil
				}
			}
			n, err := p.parseStatement()
			if err != nil {
				return nil, "", err
			}
			nodes = append(nodes, n)
		default:
			nodes = append(nodes, &textNode{seg.text})
		}
	}
	if len(ends) > 0 {
		return nil, "", p.fail("Unexpected end of template. Jinja was looking for the following tags: %s.", quoteList(ends))
	}
	return nodes, "", nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return strings.Join(q, " or ")
}

func (p *parser) parseStatement() (node, error) {
	name := p.next().s
	switch name {
	case "if":
		return p.parseIf()
	case "set":
		return p.parseSet()
	case "for":
		return p.parseFor()
	case "elif", "else", "endif", "endfor", "endset":
		return nil, p.fail("Encountered unknown tag '%s'.", name)
	case "block", "extends", "print", "macro", "include", "from", "import", "call", "filter", "with", "autoescape", "do", "break", "continue":
		return nil, p.fail("the '%s' tag is not supported by this evaluator (no manifest uses it)", name)
	}
	return nil, p.fail("Encountered unknown tag '%s'.", name)
}

func (p *parser) parseIf() (node, error) {
	n := &ifNode{}
	for {
		test, err := p.parseTuple(false, false, false)
		if err != nil {
			return nil, err
		}
		if err := p.expectEnd(tBlockEnd); err != nil {
			return nil, err
		}
		body, end, err := p.parseBody("elif", "else", "endif")
		if err != nil {
			return nil, err
		}
		n.tests = append(n.tests, test)
		n.bodies = append(n.bodies, body)
		switch end {
		case "elif":
			continue
		case "else":
			if err := p.expectEnd(tBlockEnd); err != nil {
				return nil, err
			}
			els, _, err := p.parseBody("endif")
			if err != nil {
				return nil, err
			}
			n.els = els
		}
		return n, p.expectEnd(tBlockEnd)
	}
}

func (p *parser) parseSet() (node, error) {
	n := &setNode{}
	first, err := p.expectName()
	if err != nil {
		return nil, err
	}
	if p.isOp(".") {
		p.ti++
		attr, err := p.expectName()
		if err != nil {
			return nil, err
		}
		n.names, n.attr = []string{first}, attr
	} else {
		n.names = []string{first}
		for p.isOp(",") {
			p.ti++
			if p.isOp("=") {
				break
			}
			nm, err := p.expectName()
			if err != nil {
				return nil, err
			}
			n.names = append(n.names, nm)
		}
		if len(n.names) > 1 || p.peek(-1).s == "," {
			n.names = append([]string(nil), n.names...)
		}
	}
	for _, nm := range n.names {
		if n.attr == "" {
			p.locals[nm] = true
		}
	}
	if p.isOp("=") {
		p.ti++
		e, err := p.parseTuple(true, true, false)
		if err != nil {
			return nil, err
		}
		n.e = e
		return n, p.expectEnd(tBlockEnd)
	}
	if err := p.expectEnd(tBlockEnd); err != nil {
		return nil, err
	}
	body, _, err := p.parseBody("endset")
	if err != nil {
		return nil, err
	}
	n.body = body
	return n, p.expectEnd(tBlockEnd)
}

func (p *parser) parseFor() (node, error) {
	n := &forNode{}
	for {
		nm, err := p.expectName()
		if err != nil {
			return nil, err
		}
		n.names = append(n.names, nm)
		p.locals[nm] = true
		if !p.isOp(",") {
			break
		}
		p.ti++
	}
	if !p.isName("in") {
		return nil, p.fail("expected token 'in', got '%s'", describe(p.cur()))
	}
	p.ti++
	it, err := p.parseTuple(false, false, true)
	if err != nil {
		return nil, err
	}
	n.iter = it
	if p.isName("if") {
		p.ti++
		if n.filter, err = p.parseExpression(true); err != nil {
			return nil, err
		}
	}
	if p.isName("recursive") {
		return nil, p.fail("recursive loops are not supported by this evaluator")
	}
	if err := p.expectEnd(tBlockEnd); err != nil {
		return nil, err
	}
	p.locals["loop"] = true
	body, end, err := p.parseBody("endfor", "else")
	if err != nil {
		return nil, err
	}
	n.body = body
	if end == "else" {
		if err := p.expectEnd(tBlockEnd); err != nil {
			return nil, err
		}
		if n.els, _, err = p.parseBody("endfor"); err != nil {
			return nil, err
		}
	}
	return n, p.expectEnd(tBlockEnd)
}

// parseTuple is Jinja's parse_tuple: expressions separated by commas make a tuple.
func (p *parser) parseTuple(withCondExpr, explicitOK, stopAtIf bool) (expr, error) {
	var items []expr
	isTuple := false
	for {
		if len(items) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		if p.tupleEnd(stopAtIf) {
			break
		}
		var e expr
		var err error
		e, err = p.parseExpression(withCondExpr)
		if err != nil {
			return nil, err
		}
		items = append(items, e)
		if p.isOp(",") {
			isTuple = true
		} else {
			break
		}
	}
	if !isTuple {
		if len(items) > 0 {
			return items[0], nil
		}
		if !explicitOK {
			return nil, p.fail("Expected an expression, got '%s'", describe(p.cur()))
		}
		return nil, p.fail("Expected an expression, got '%s'", describe(p.cur()))
	}
	return &tupleExpr{items}, nil
}

func (p *parser) tupleEnd(stopAtIf bool) bool {
	t := p.cur()
	switch t.kind {
	case tVarEnd, tBlockEnd, tEOF:
		return true
	case tOp:
		return t.s == ")"
	case tName:
		return stopAtIf && (t.s == "if" || t.s == "recursive")
	}
	return false
}

func (p *parser) parseExpression(withCondExpr bool) (expr, error) {
	p.nest++
	defer func() { p.nest-- }()
	if p.nest > maxNesting {
		return nil, p.fail("expression nested too deeply")
	}
	if withCondExpr {
		return p.parseCondExpr()
	}
	return p.parseOr()
}

func (p *parser) parseCondExpr() (expr, error) {
	e1, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	for p.isName("if") {
		p.ti++
		e2, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		var e3 expr
		if p.isName("else") {
			p.ti++
			if e3, err = p.parseCondExpr(); err != nil {
				return nil, err
			}
		}
		e1 = &condExpr{test: e2, then: e1, els: e3}
	}
	return e1, nil
}

// leftAssoc parses next (op next)* where match recognises (and consumes) an operator, building
// left-associative nodes.
func (p *parser) leftAssoc(next func() (expr, error), match func() (string, bool), build func(op string, l, r expr) expr) (expr, error) {
	l, err := next()
	if err != nil {
		return nil, err
	}
	for {
		op, ok := match()
		if !ok {
			return l, nil
		}
		r, err := next()
		if err != nil {
			return nil, err
		}
		l = build(op, l, r)
	}
}

// matchName consumes a keyword operator.
func (p *parser) matchName(name string) func() (string, bool) {
	return func() (string, bool) {
		if p.isName(name) {
			p.ti++
			return name, true
		}
		return "", false
	}
}

// matchOps consumes one of the operator tokens.
func (p *parser) matchOps(ops ...string) func() (string, bool) {
	return func() (string, bool) {
		for _, o := range ops {
			if p.isOp(o) {
				p.ti++
				return o, true
			}
		}
		return "", false
	}
}

func binNode(op string, l, r expr) expr { return &binExpr{op, l, r} }

func (p *parser) parseOr() (expr, error) {
	return p.leftAssoc(p.parseAnd, p.matchName("or"), func(_ string, l, r expr) expr { return &orExpr{l, r} })
}

func (p *parser) parseAnd() (expr, error) {
	return p.leftAssoc(p.parseNot, p.matchName("and"), func(_ string, l, r expr) expr { return &andExpr{l, r} })
}

func (p *parser) parseNot() (expr, error) {
	if p.isName("not") {
		p.ti++
		e, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &unaryExpr{'!', e}, nil
	}
	return p.parseCompare()
}

func (p *parser) parseCompare() (expr, error) {
	e, err := p.parseMath1()
	if err != nil {
		return nil, err
	}
	var ops []compareOp
	for {
		t := p.cur()
		var op string
		switch {
		case t.kind == tOp && (t.s == "==" || t.s == "!=" || t.s == "<" || t.s == "<=" || t.s == ">" || t.s == ">="):
			op = t.s
			p.ti++
		case p.isName("in"):
			op = "in"
			p.ti++
		case p.isName("not") && p.peek(1).kind == tName && p.peek(1).s == "in":
			op = "notin"
			p.ti += 2
		default:
			if len(ops) == 0 {
				return e, nil
			}
			return &compareExpr{e, ops}, nil
		}
		r, err := p.parseMath1()
		if err != nil {
			return nil, err
		}
		ops = append(ops, compareOp{op, r})
	}
}

func (p *parser) parseMath1() (expr, error) {
	return p.leftAssoc(p.parseConcat, p.matchOps("+", "-"), binNode)
}

func (p *parser) parseConcat() (expr, error) {
	e, err := p.parseMath2()
	if err != nil {
		return nil, err
	}
	parts := []expr{e}
	for p.isOp("~") {
		p.ti++
		e, err := p.parseMath2()
		if err != nil {
			return nil, err
		}
		parts = append(parts, e)
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return &concatExpr{parts}, nil
}

func (p *parser) parseMath2() (expr, error) {
	return p.leftAssoc(p.parsePow, p.matchOps("*", "/", "//", "%"), binNode)
}

func (p *parser) parsePow() (expr, error) {
	return p.leftAssoc(func() (expr, error) { return p.parseUnary(true) }, p.matchOps("**"), binNode)
}

func (p *parser) parseUnary(withFilter bool) (expr, error) {
	p.nest++
	defer func() { p.nest-- }()
	if p.nest > maxNesting {
		return nil, p.fail("expression nested too deeply")
	}
	var e expr
	var err error
	switch {
	case p.isOp("-"):
		p.ti++
		if e, err = p.parseUnary(false); err != nil {
			return nil, err
		}
		e = &unaryExpr{'-', e}
	case p.isOp("+"):
		p.ti++
		if e, err = p.parseUnary(false); err != nil {
			return nil, err
		}
		e = &unaryExpr{'+', e}
	default:
		if e, err = p.parsePrimary(); err != nil {
			return nil, err
		}
	}
	if e, err = p.parsePostfix(e); err != nil {
		return nil, err
	}
	if withFilter {
		return p.parseFilterExpr(e)
	}
	return e, nil
}

func (p *parser) parsePrimary() (expr, error) {
	t := p.cur()
	switch t.kind {
	case tName:
		p.ti++
		switch t.s {
		case "true", "True":
			return &constExpr{true}, nil
		case "false", "False":
			return &constExpr{false}, nil
		case "none", "None":
			return &constExpr{nil}, nil
		}
		return p.newName(t.s), nil
	case tString:
		p.ti++
		s := t.s
		for p.cur().kind == tString {
			s += p.next().s
		}
		return &constExpr{s}, nil
	case tInt, tFloat:
		p.ti++
		return &constExpr{t.v}, nil
	case tOp:
		switch t.s {
		case "(":
			p.ti++
			if p.isOp(")") {
				p.ti++
				return &tupleExpr{}, nil
			}
			e, err := p.parseTuple(true, true, false)
			if err != nil {
				return nil, err
			}
			return e, p.expectOp(")")
		case "[":
			return p.parseList()
		case "{":
			return p.parseDict()
		}
	}
	return nil, p.fail("unexpected '%s'", describe(t))
}

func (p *parser) newName(name string) *nameExpr {
	slot := -1
	if v, ok := varByName[name]; ok {
		slot = int(v)
	}
	return &nameExpr{name: name, slot: slot}
}

func (p *parser) parseList() (expr, error) {
	p.ti++
	var items []expr
	for !p.isOp("]") {
		if len(items) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
			if p.isOp("]") {
				break
			}
		}
		e, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		items = append(items, e)
	}
	p.ti++
	return &listExpr{items}, nil
}

func (p *parser) parseDict() (expr, error) {
	p.ti++
	d := &dictExpr{}
	for !p.isOp("}") {
		if len(d.keys) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
			if p.isOp("}") {
				break
			}
		}
		k, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(":"); err != nil {
			return nil, err
		}
		v, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		d.keys = append(d.keys, k)
		d.vals = append(d.vals, v)
	}
	p.ti++
	return d, nil
}

func (p *parser) parsePostfix(e expr) (expr, error) {
	for {
		var err error
		switch {
		case p.isOp(".") || p.isOp("["):
			if e, err = p.parseSubscript(e); err != nil {
				return nil, err
			}
		case p.isOp("("):
			if e, err = p.parseCall(e); err != nil {
				return nil, err
			}
		default:
			return e, nil
		}
	}
}

func (p *parser) parseFilterExpr(e expr) (expr, error) {
	for {
		var err error
		switch {
		case p.isOp("|"):
			if e, err = p.parseFilter(e); err != nil {
				return nil, err
			}
		case p.isName("is"):
			if e, err = p.parseTest(e); err != nil {
				return nil, err
			}
		case p.isOp("("):
			if e, err = p.parseCall(e); err != nil {
				return nil, err
			}
		default:
			return e, nil
		}
	}
}

func (p *parser) parseSubscript(obj expr) (expr, error) {
	t := p.next()
	if t.s == "." {
		a := p.next()
		switch a.kind {
		case tName:
			return &getattrExpr{obj, a.s}, nil
		case tInt:
			return &getitemExpr{obj: obj, key: &constExpr{a.v}}, nil
		}
		return nil, p.fail("expected name or number")
	}
	var args []expr
	for !p.isOp("]") {
		if len(args) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		a, err := p.parseSubscribed()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	p.ti++
	if len(args) == 1 {
		return &getitemExpr{obj: obj, key: args[0]}, nil
	}
	return &getitemExpr{obj: obj, key: &tupleExpr{args}}, nil
}

func (p *parser) parseSubscribed() (expr, error) {
	var args [3]expr
	if p.isOp(":") {
		p.ti++
	} else {
		e, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		if !p.isOp(":") {
			return e, nil
		}
		p.ti++
		args[0] = e
	}
	if !p.isOp(":") && !p.isOp("]") && !p.isOp(",") {
		e, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		args[1] = e
	}
	if p.isOp(":") {
		p.ti++
		if !p.isOp("]") && !p.isOp(",") {
			e, err := p.parseExpression(true)
			if err != nil {
				return nil, err
			}
			args[2] = e
		}
	}
	return &sliceExpr{args[0], args[1], args[2]}, nil
}

func (p *parser) parseCallArgs() ([]expr, []kwarg, expr, expr, error) {
	if err := p.expectOp("("); err != nil {
		return nil, nil, nil, nil, err
	}
	var args []expr
	var kwargs []kwarg
	var dynArgs, dynKwargs expr
	requireComma := false
	bad := func() error { return p.fail("invalid syntax for function call expression") }
	for !p.isOp(")") {
		if requireComma {
			if err := p.expectOp(","); err != nil {
				return nil, nil, nil, nil, err
			}
			if p.isOp(")") {
				break
			}
		}
		switch {
		case p.isOp("*"):
			if dynArgs != nil || dynKwargs != nil {
				return nil, nil, nil, nil, bad()
			}
			p.ti++
			e, err := p.parseExpression(true)
			if err != nil {
				return nil, nil, nil, nil, err
			}
			dynArgs = e
		case p.isOp("**"):
			if dynKwargs != nil {
				return nil, nil, nil, nil, bad()
			}
			p.ti++
			e, err := p.parseExpression(true)
			if err != nil {
				return nil, nil, nil, nil, err
			}
			dynKwargs = e
		case p.cur().kind == tName && p.peek(1).kind == tOp && p.peek(1).s == "=":
			if dynKwargs != nil {
				return nil, nil, nil, nil, bad()
			}
			key := p.next().s
			p.ti++
			e, err := p.parseExpression(true)
			if err != nil {
				return nil, nil, nil, nil, err
			}
			kwargs = append(kwargs, kwarg{key, e})
		default:
			if dynArgs != nil || dynKwargs != nil || len(kwargs) > 0 {
				return nil, nil, nil, nil, bad()
			}
			e, err := p.parseExpression(true)
			if err != nil {
				return nil, nil, nil, nil, err
			}
			args = append(args, e)
		}
		requireComma = true
	}
	p.ti++
	return args, kwargs, dynArgs, dynKwargs, nil
}

func (p *parser) parseCall(fn expr) (expr, error) {
	args, kwargs, da, dk, err := p.parseCallArgs()
	if err != nil {
		return nil, err
	}
	return &callExpr{fn: fn, args: args, kwargs: kwargs, dynArgs: da, dynKwargs: dk}, nil
}

func (p *parser) dottedName() (string, error) {
	name, err := p.expectName()
	if err != nil {
		return "", err
	}
	for p.isOp(".") {
		p.ti++
		n, err := p.expectName()
		if err != nil {
			return "", err
		}
		name += "." + n
	}
	return name, nil
}

func (p *parser) parseFilter(e expr) (expr, error) {
	for p.isOp("|") {
		p.ti++
		name, err := p.dottedName()
		if err != nil {
			return nil, err
		}
		fn, ok := filters[name]
		if !ok {
			if unsupportedFilters[name] {
				return nil, p.fail("the filter '%s' is not supported by this evaluator (no manifest uses it)", name)
			}
			return nil, newError("TemplateAssertionError", "No filter named '%s'.", name)
		}
		f := &filterExpr{node: e, name: name, fn: fn}
		if p.isOp("(") {
			args, kwargs, da, dk, err := p.parseCallArgs()
			if err != nil {
				return nil, err
			}
			if da != nil || dk != nil {
				return nil, p.fail("*args and **kwargs in filter calls are not supported by this evaluator")
			}
			f.args, f.kwargs = args, kwargs
		}
		e = f
	}
	return e, nil
}

func (p *parser) parseTest(e expr) (expr, error) {
	p.ti++ // is
	negated := false
	if p.isName("not") {
		p.ti++
		negated = true
	}
	name, err := p.dottedName()
	if err != nil {
		return nil, err
	}
	fn, ok := tests[name]
	if !ok {
		return nil, newError("TemplateAssertionError", "No test named '%s'.", name)
	}
	t := &testExpr{node: e, name: name, fn: fn}
	c := p.cur()
	switch {
	case p.isOp("("):
		args, kwargs, da, dk, err := p.parseCallArgs()
		if err != nil {
			return nil, err
		}
		if da != nil || dk != nil {
			return nil, p.fail("*args and **kwargs in tests are not supported by this evaluator")
		}
		t.args, t.kwargs = args, kwargs
	case (c.kind == tName || c.kind == tString || c.kind == tInt || c.kind == tFloat ||
		c.kind == tOp && (c.s == "(" || c.s == "[" || c.s == "{")) &&
		!(c.kind == tName && (c.s == "else" || c.s == "or" || c.s == "and")):
		if c.kind == tName && c.s == "is" {
			return nil, p.fail("You cannot chain multiple tests with is")
		}
		a, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		if a, err = p.parsePostfix(a); err != nil {
			return nil, err
		}
		t.args = []expr{a}
	}
	if negated {
		return &unaryExpr{'!', t}, nil
	}
	return t, nil
}

// String helpers for error messages.
func (t token) String() string { return fmt.Sprintf("%v:%s", t.kind, t.s) }
