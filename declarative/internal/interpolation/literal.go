package interpolation

import (
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// literalEval is Python's ast.literal_eval(s) for the literals this value model holds: str, int,
// float, bool, None, lists, tuples and dicts of them. ok is false where Python raises
// ValueError or SyntaxError (the CDK then keeps the string) and also for the literals with no
// place here (bytes, sets, complex numbers, Ellipsis), which the CDK's engine never meets in a
// manifest; err is set where Python raises something else (an unhashable dict key or set item).
func literalEval(s string) (v Value, ok bool, err error) {
	s = strings.TrimLeft(s, " \t")
	if quickReject(s) {
		return nil, false, nil
	}
	p := &litParser{src: s}
	if !p.skipLeading() {
		return nil, false, nil
	}
	v, ok, err = p.tupleOrExpr(true)
	if !ok || err != nil {
		return nil, false, err
	}
	p.skip(false)
	if p.pos != len(p.src) {
		return nil, false, nil
	}
	if p.unhashable != nil {
		return nil, false, p.unhashable
	}
	if p.sawSet {
		return nil, false, nil // a set: no place in this value model
	}
	return v, true, nil
}

// setLiteral stands for a set in the text: it has no place in this value model, and
// literalEval gives up on a text holding one, but as an item of a set or a key of a dict it
// is unhashable, as Python's is. "{{ 1 }}", the source text the CDK keeps after a TypeError,
// is a set in a set: a TypeError from literal_eval.
type setLiteral struct{}

// unhashableLiteral is the name of v's type when Python cannot hash it, or "".
func unhashableLiteral(v Value) string {
	switch v := v.(type) {
	case []Value:
		return "list"
	case *Dict:
		return "dict"
	case setLiteral:
		return "set"
	case Tuple:
		for _, e := range v {
			if name := unhashableLiteral(e); name != "" {
				return name
			}
		}
	}
	return ""
}

// set parses the rest of a set literal whose first item is first, and notes the first
// unhashable item, as set() of the items would fail.
func (p *litParser) set(first Value) (Value, bool, error) {
	p.sawSet = true
	items := []Value{first}
	for p.peek() == ',' {
		p.pos++
		if p.peek() == '}' {
			break
		}
		v, ok, err := p.value()
		if !ok || err != nil {
			return nil, false, err
		}
		items = append(items, v)
	}
	if p.peek() != '}' {
		return nil, false, nil
	}
	p.pos++
	p.depth--
	for _, it := range items {
		if name := unhashableLiteral(it); name != "" && p.unhashable == nil {
			p.unhashable = typeErrorf("unhashable type: '%s'", name)
		}
	}
	return setLiteral{}, true, nil
}

// quickReject tells, from the first character, that s cannot be a literal. Most rendered
// strings (URLs, dates, names) stop here.
func quickReject(s string) bool {
	if s == "" {
		return true
	}
	c := s[0]
	switch {
	case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == '(', c == '[', c == '{', c == '\'', c == '"', c == '\n', c == '\r', c == '\f', c == '#', c == '\\':
		return false
	case c == 'T', c == 'F', c == 'N':
		return !(strings.HasPrefix(s, "True") || strings.HasPrefix(s, "False") || strings.HasPrefix(s, "None"))
	case strings.IndexByte("rRuUbBfF", c) >= 0:
		i := 1
		for i < len(s) && i < 3 && strings.IndexByte("rRuUbBfF", s[i]) >= 0 {
			i++
		}
		return i >= len(s) || (s[i] != '\'' && s[i] != '"')
	}
	return true
}

type litParser struct {
	src   string
	pos   int
	depth int // bracket nesting: newlines are whitespace inside brackets
	// unhashable is the TypeError of the first unhashable dict key. Python parses the whole
	// text before it converts anything, so the error counts only when the rest is a literal
	// too: "{{ ({[1]: 2}).split() }}" is a ValueError (the CDK keeps the string).
	unhashable error
	sawSet     bool // the text holds a set
}

// skipLeading skips the blank lines before the expression; the first line that holds code
// must not be indented (Python raises IndentationError).
func (p *litParser) skipLeading() bool {
	for {
		lineStart := p.pos
		for p.pos < len(p.src) && strings.IndexByte(" \t\f", p.src[p.pos]) >= 0 {
			p.pos++
		}
		if p.pos < len(p.src) && p.src[p.pos] == '#' {
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		}
		if p.pos < len(p.src) && (p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
			p.pos++
			continue
		}
		if p.pos < len(p.src) && p.src[p.pos] == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '\n' {
			p.pos += 2
			continue
		}
		if lineStart > 0 && strings.ContainsAny(p.src[lineStart:p.pos], " \t") {
			return false
		}
		return true
	}
}

// skip skips whitespace, comments and line continuations; newlines too when inside brackets or
// when trailing is set (after the expression only blank lines may follow).
func (p *litParser) skip(stopAtNewline bool) {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\f':
			p.pos++
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '\n':
			p.pos += 2
		case (c == '\n' || c == '\r') && (p.depth > 0 || !stopAtNewline):
			p.pos++
		default:
			return
		}
	}
}

func (p *litParser) peek() byte {
	p.skip(true)
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

// tupleOrExpr parses expr (',' expr)* [','], a tuple when a comma appears.
func (p *litParser) tupleOrExpr(top bool) (Value, bool, error) {
	first, ok, err := p.value()
	if !ok || err != nil {
		return nil, false, err
	}
	if p.peek() != ',' {
		return first, true, nil
	}
	items := Tuple{first}
	for p.peek() == ',' {
		p.pos++
		c := p.peek()
		if c == 0 || c == ')' || c == '\n' || c == '\r' {
			break
		}
		v, ok, err := p.value()
		if !ok || err != nil {
			return nil, false, err
		}
		items = append(items, v)
	}
	return items, true, nil
}

func (p *litParser) value() (Value, bool, error) {
	if p.depth >= 200 {
		// Python's parser refuses 200 nested brackets ("too many nested parentheses").
		return nil, false, nil
	}
	c := p.peek()
	switch {
	case c == '(':
		p.pos++
		p.depth++
		if p.peek() == ')' {
			p.pos++
			p.depth--
			return Tuple{}, true, nil
		}
		v, ok, err := p.tupleOrExpr(false)
		if !ok || err != nil {
			return nil, false, err
		}
		if p.peek() != ')' {
			return nil, false, nil
		}
		p.pos++
		p.depth--
		return v, true, nil
	case c == '[':
		p.pos++
		p.depth++
		items := []Value{}
		for p.peek() != ']' {
			v, ok, err := p.value()
			if !ok || err != nil {
				return nil, false, err
			}
			items = append(items, v)
			if p.peek() == ',' {
				p.pos++
				continue
			}
			if p.peek() != ']' {
				return nil, false, nil
			}
		}
		p.pos++
		p.depth--
		return items, true, nil
	case c == '{':
		p.pos++
		p.depth++
		d := NewDict(4)
		for pairs := 0; p.peek() != '}'; pairs++ {
			k, ok, err := p.value()
			if !ok || err != nil {
				return nil, false, err
			}
			if c := p.peek(); c == ',' || c == '}' {
				if pairs == 0 {
					return p.set(k)
				}
				return nil, false, nil
			}
			if p.peek() != ':' {
				return nil, false, nil
			}
			p.pos++
			v, ok, err := p.value()
			if !ok || err != nil {
				return nil, false, err
			}
			if name := unhashableLiteral(k); name != "" && p.unhashable == nil {
				p.unhashable = typeErrorf("unhashable type: '%s'", name)
			} else if err := d.put(k, v); err != nil && p.unhashable == nil {
				p.unhashable = err
			}
			if p.peek() == ',' {
				p.pos++
				continue
			}
			if p.peek() != '}' {
				return nil, false, nil
			}
		}
		p.pos++
		p.depth--
		return d, true, nil
	case c == '-' || c == '+':
		p.pos++
		p.skip(true)
		n, ok := p.number()
		if !ok {
			return nil, false, nil
		}
		if c == '-' {
			v, err := negate(n)
			return v, err == nil, nil
		}
		return n, true, nil
	case c >= '0' && c <= '9' || c == '.':
		n, ok := p.number()
		return n, ok, nil
	case c == '\'' || c == '"' || stringPrefixAt(p.src, p.pos):
		return p.strings()
	}
	for _, kw := range []struct {
		s string
		v Value
	}{{"True", true}, {"False", false}, {"None", nil}} {
		if strings.HasPrefix(p.src[p.pos:], kw.s) && !identAt(p.src, p.pos+len(kw.s)) {
			p.pos += len(kw.s)
			return kw.v, true, nil
		}
	}
	return nil, false, nil
}

// stringPrefixAt reports whether a string prefix (r, u, b, f and their pairs) and a quote
// start at s[i].
func stringPrefixAt(s string, i int) bool {
	for j := i; j < len(s) && j < i+3; j++ {
		switch {
		case s[j] == '\'' || s[j] == '"':
			return j > i
		case strings.IndexByte("rRuUbBfF", s[j]) < 0:
			return false
		}
	}
	return false
}

func identAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r > 0x7f
}

// number reads a Python int or float token (not complex: that fails).
func (p *litParser) number() (Value, bool) {
	s := p.src[p.pos:]
	i := 0
	digits := func(ok func(byte) bool) bool {
		start := i
		for i < len(s) && (ok(s[i]) || s[i] == '_' && i > start && i+1 < len(s) && ok(s[i+1])) {
			i++
		}
		return i > start
	}
	dec := func(c byte) bool { return c >= '0' && c <= '9' }
	if len(s) > 1 && s[0] == '0' && strings.IndexByte("xXoObB", s[1]) >= 0 {
		i = 2
		base := map[byte]int{'x': 16, 'o': 8, 'b': 2}[s[1]|0x20]
		if i < len(s) && s[i] == '_' {
			i++
		}
		if !digits(func(c byte) bool { return digitIn(c, base) }) {
			return nil, false
		}
		if identAt(s, i) {
			return nil, false
		}
		n, ok := new(big.Int).SetString(strings.ReplaceAll(s[2:i], "_", ""), base)
		if !ok {
			return nil, false
		}
		p.pos += i
		return normInt(n), true
	}
	intPart := digits(dec)
	isFloat := false
	if i < len(s) && s[i] == '.' {
		i++
		isFloat = true
		fracPart := digits(dec)
		if !intPart && !fracPart {
			return nil, false
		}
	} else if !intPart {
		return nil, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits(dec) {
			i = j
		} else {
			isFloat = true
		}
	}
	if identAt(s, i) {
		// 1j (complex), 1_ , 1x ...
		return nil, false
	}
	tok := strings.ReplaceAll(s[:i], "_", "")
	p.pos += i
	if !isFloat {
		if len(tok) > 1 && tok[0] == '0' && strings.TrimLeft(tok, "0") != "" {
			return nil, false
		}
		if len(tok) > maxIntDigits {
			return nil, false // Python refuses to convert it (sys.get_int_max_str_digits)
		}
		n, _ := new(big.Int).SetString(tok, 10)
		return normInt(n), true
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil && !isRangeErr(err) {
		return nil, false
	}
	return f, true
}

func digitIn(c byte, base int) bool {
	switch {
	case c >= '0' && c <= '9':
		return int(c-'0') < base
	case c|0x20 >= 'a' && c|0x20 <= 'f':
		return base == 16
	}
	return false
}

// strings reads one or more adjacent string literals and joins them.
func (p *litParser) strings() (Value, bool, error) {
	var b strings.Builder
	n := 0
	for {
		c := p.peek()
		if !(c == '\'' || c == '"' || stringPrefixAt(p.src, p.pos)) {
			break
		}
		s, ok := p.stringLit()
		if !ok {
			return nil, false, nil
		}
		b.WriteString(s)
		n++
	}
	if n == 0 {
		return nil, false, nil
	}
	return b.String(), true, nil
}

func (p *litParser) stringLit() (string, bool) {
	s := p.src[p.pos:]
	i := 0
	raw := false
	for i < len(s) && i < 2 && strings.IndexByte("rRuUbBfF", s[i]) >= 0 {
		switch s[i] | 0x20 {
		case 'r':
			raw = true
		case 'b', 'f':
			// bytes and f-strings have no place here (f-strings are no literals at all)
			return "", false
		}
		i++
	}
	if i >= len(s) || (s[i] != '\'' && s[i] != '"') {
		return "", false
	}
	if i == 2 && (s[0]|0x20) == 'u' || i == 2 && (s[1]|0x20) == 'u' {
		return "", false
	}
	q := s[i : i+1]
	if strings.HasPrefix(s[i:], q+q+q) {
		q = q + q + q
	}
	i += len(q)
	start := i
	for {
		if i >= len(s) {
			return "", false
		}
		if strings.HasPrefix(s[i:], q) {
			break
		}
		switch s[i] {
		case '\\':
			i += 2
			continue
		case '\n', '\r':
			if len(q) == 1 {
				return "", false
			}
		}
		i++
	}
	body := s[start:i]
	p.pos += i + len(q)
	if strings.IndexByte(body, '\r') >= 0 {
		body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n")
	}
	if raw {
		return body, true
	}
	return pyUnescape(body)
}

// pyUnescape decodes the escapes of a Python str literal; an unknown escape stays as it is.
func pyUnescape(s string) (string, bool) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", false
		}
		switch e := s[i]; e {
		case '\n':
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(s[i:j], 8, 32)
			b.WriteRune(rune(v))
			i = j - 1
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+n >= len(s) {
				return "", false
			}
			v, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
			if err != nil || v > 0x10ffff {
				return "", false
			}
			b.WriteRune(rune(v))
			i += n
		case 'N':
			return "", false
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String(), true
}
