package interpolation

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a token inside a tag.
type tokKind uint8

const (
	tEOF tokKind = iota
	tName
	tString
	tInt
	tFloat
	tOp
	tVarEnd   // }}
	tBlockEnd // %}
)

type token struct {
	kind tokKind
	s    string // name, operator, or decoded string
	v    Value  // int64/*big.Int/float64 for numbers
	line int
}

// segment is a piece of the template: text, or the tokens of a {{ }} or {% %} tag.
type segment struct {
	text   string
	isVar  bool
	isStmt bool
	toks   []token
	line   int
}

var (
	floatRe = regexp.MustCompile(`(?i)^(\d+_)*\d+((\.(\d+_)*\d+)?e[+\-]?(\d+_)*\d+|\.(\d+_)*\d+)`)
	intRe   = regexp.MustCompile(`(?i)^(0b(_?[0-1])+|0o(_?[0-7])+|0x(_?[\da-f])+|[1-9](_?\d)*|0(_?0)*)`)
)

var operators = []string{"//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"}

// normalizeNewlines does what Jinja's lexer does first: every \r\n or \r becomes \n and one
// trailing newline is dropped (keep_trailing_newline is off).
func normalizeNewlines(s string) string {
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return strings.TrimSuffix(s, "\n")
}

// lex splits a template into segments as Jinja's lexer does with the default delimiters.
func lex(src string) ([]segment, error) {
	src = normalizeNewlines(src)
	var segs []segment
	line := 1
	pos := 0
	lstripNext := false
	for pos <= len(src) {
		i := nextTagStart(src, pos)
		text := src[pos:]
		if i >= 0 {
			text = src[pos:i]
		}
		if lstripNext {
			text = strings.TrimLeftFunc(text, isSpace)
		}
		if i < 0 {
			if text != "" {
				segs = append(segs, segment{text: text, line: line})
			}
			break
		}
		kind := src[i+1]
		j := i + 2
		if j < len(src) && src[j] == '-' {
			text = strings.TrimRightFunc(text, isSpace)
			j++
		} else if j < len(src) && src[j] == '+' {
			j++
		}
		if text != "" {
			segs = append(segs, segment{text: text, line: line})
		}
		line += strings.Count(src[pos:j], "\n")
		switch kind {
		case '#':
			end := strings.Index(src[j:], "#}")
			if end < 0 {
				return nil, syntaxErrorf("Missing end of comment tag")
			}
			body := src[j : j+end]
			lstripNext = strings.HasSuffix(body, "-")
			line += strings.Count(body, "\n")
			pos = j + end + 2
			continue
		case '%':
			if m := rawStart.FindStringSubmatchIndex(src[j:]); m != nil {
				// {% raw %}...{% endraw %}: the text in between is output as it is.
				bodyStart := j + m[1]
				e := rawEnd.FindStringSubmatchIndex(src[bodyStart:])
				if e == nil {
					return nil, syntaxErrorf("Missing end of raw directive")
				}
				body := src[bodyStart : bodyStart+e[0]]
				if m[3]-m[2] > 2 {
					body = strings.TrimLeftFunc(body, isSpace)
				}
				if e[3] > e[2] {
					body = strings.TrimRightFunc(body, isSpace)
				}
				if body != "" {
					segs = append(segs, segment{text: body, line: line})
				}
				line += strings.Count(src[j:bodyStart+e[1]], "\n")
				lstripNext = e[5] > e[4]
				pos = bodyStart + e[1]
				continue
			}
		}
		toks, n, strip, err := lexTag(src[j:], kind == '{', line, j)
		if err != nil {
			return nil, err
		}
		line += strings.Count(src[j:j+n], "\n")
		segs = append(segs, segment{isVar: kind == '{', isStmt: kind == '%', toks: toks, line: line})
		lstripNext = strip
		pos = j + n
	}
	return segs, nil
}

// nextTagStart finds the next "{{", "{%" or "{#" at or after pos.
func nextTagStart(src string, pos int) int {
	for {
		i := strings.IndexByte(src[pos:], '{')
		if i < 0 || pos+i+1 >= len(src) {
			return -1
		}
		c := src[pos+i+1]
		if c == '{' || c == '%' || c == '#' {
			return pos + i
		}
		pos += i + 1
	}
}

var rawStart = regexp.MustCompile(`^\s*raw\s*(-%\}\s*|%\})`)
var rawEnd = regexp.MustCompile(`\{%(-?)\s*endraw\s*(-?)%\}`)

// lexTag tokenizes the inside of a tag up to its end delimiter. It returns the tokens, the
// bytes consumed (end delimiter included) and whether the end asked to strip the whitespace
// that follows ("-}}", "-%}").
func lexTag(s string, isVar bool, line, base int) ([]token, int, bool, error) {
	var toks []token
	var stack []byte
	endTok, end := tVarEnd, "}}"
	if !isVar {
		endTok, end = tBlockEnd, "%}"
	}
	i := 0
	for {
		for i < len(s) {
			r, n := utf8.DecodeRuneInString(s[i:])
			if !isSpace(r) {
				break
			}
			if r == '\n' {
				line++
			}
			i += n
		}
		if i >= len(s) {
			what := "print"
			if !isVar {
				what = "block"
			}
			return nil, 0, false, syntaxErrorf("unexpected end of template, expected 'end of %s statement'.", what)
		}
		rest := s[i:]
		if len(stack) == 0 {
			if strings.HasPrefix(rest, "-"+end) {
				toks = append(toks, token{kind: endTok, line: line})
				return toks, i + 3, true, nil
			}
			if !isVar && strings.HasPrefix(rest, "+"+end) {
				toks = append(toks, token{kind: endTok, line: line})
				return toks, i + 3, false, nil
			}
			if strings.HasPrefix(rest, end) {
				toks = append(toks, token{kind: endTok, line: line})
				return toks, i + 2, false, nil
			}
		}
		c := rest[0]
		switch {
		case c == '\'' || c == '"':
			str, n, err := lexString(rest)
			if err != nil {
				if n < 0 {
					err = syntaxErrorf("unexpected char %s at %d", Repr(string(c)), base+i)
				}
				return nil, 0, false, err
			}
			toks = append(toks, token{kind: tString, s: str, line: line})
			line += strings.Count(rest[:n], "\n")
			i += n
			continue
		case c >= '0' && c <= '9':
			if !(i > 0 && s[i-1] == '.') {
				if m := floatRe.FindString(rest); m != "" {
					f, err := strconv.ParseFloat(strings.ReplaceAll(m, "_", ""), 64)
					if err != nil {
						return nil, 0, false, syntaxErrorf("invalid float literal %s", m)
					}
					toks = append(toks, token{kind: tFloat, v: f, s: m, line: line})
					i += len(m)
					continue
				}
			}
			m := intRe.FindString(rest)
			v, ok := new(big.Int).SetString(strings.ReplaceAll(m, "_", ""), 0)
			if !ok {
				return nil, 0, false, syntaxErrorf("invalid integer literal %s", m)
			}
			toks = append(toks, token{kind: tInt, v: normInt(v), s: m, line: line})
			i += len(m)
			continue
		}
		if r, n := utf8.DecodeRuneInString(rest); r == '_' || unicode.IsLetter(r) {
			j := n
			for j < len(rest) {
				r2, n2 := utf8.DecodeRuneInString(rest[j:])
				if r2 != '_' && !unicode.IsLetter(r2) && !unicode.IsDigit(r2) && !unicode.Is(unicode.Mn, r2) {
					break
				}
				j += n2
			}
			toks = append(toks, token{kind: tName, s: rest[:j], line: line})
			i += j
			continue
		}
		op := ""
		for _, o := range operators {
			if strings.HasPrefix(rest, o) {
				op = o
				break
			}
		}
		if op == "" {
			r, _ := utf8.DecodeRuneInString(rest)
			return nil, 0, false, syntaxErrorf("unexpected char %s at %d", Repr(string(r)), base+i)
		}
		switch op {
		case "(", "[", "{":
			stack = append(stack, op[0])
		case ")", "]", "}":
			want := map[string]byte{")": '(', "]": '[', "}": '{'}[op]
			if len(stack) == 0 {
				return nil, 0, false, syntaxErrorf("unexpected '%s'", op)
			}
			if stack[len(stack)-1] != want {
				return nil, 0, false, syntaxErrorf("unexpected '%s', expected '%s'", op, string(map[byte]byte{'(': ')', '[': ']', '{': '}'}[stack[len(stack)-1]]))
			}
			stack = stack[:len(stack)-1]
		}
		toks = append(toks, token{kind: tOp, s: op, line: line})
		i += len(op)
	}
}

// lexString reads a quoted string at the start of s and decodes it as Jinja does (Python's
// unicode-escape codec over the text between the quotes).
func lexString(s string) (string, int, error) {
	q := s[0]
	i := 1
	for i < len(s) {
		switch s[i] {
		case '\\':
			i += 2
			continue
		case q:
			v, err := unicodeEscape(s[1:i])
			return v, i + 1, err
		}
		i++
	}
	return "", -1, syntaxErrorf("unterminated string")
}

// unicodeEscape decodes a string token as Jinja does, with Python's unicode-escape codec: the
// same escapes as a Python string literal.
func unicodeEscape(s string) (string, error) {
	v, ok := pyUnescape(s)
	if !ok {
		return "", syntaxErrorf("(unicode error) 'unicodeescape' codec can't decode bytes")
	}
	return v, nil
}
