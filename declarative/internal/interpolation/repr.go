package interpolation

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Str returns Python's str(v): what a template prints for v and what the CDK's callers get when
// they do str(...) of an evaluated value (None → "None", True → "True", 1.0 → "1.0", a dict →
// "{'a': 1}").
func Str(v Value) string {
	switch v := v.(type) {
	case string:
		return v
	case *undefined:
		return ""
	}
	return string(appendRepr(nil, v, false))
}

// Repr returns Python's repr(v).
func Repr(v Value) string { return string(appendRepr(nil, v, true)) }

// appendRepr appends repr(v), or str(v) when quote is false (strings then print bare).
func appendRepr(b []byte, v Value, quote bool) []byte { return reprInto(b, v, quote, nil) }

// reprInto is appendRepr with the dicts being printed, to print a dict that contains itself
// as Python does ({...}).
func reprInto(b []byte, v Value, quote bool, path []*Dict) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "None"...)
	case bool:
		if v {
			return append(b, "True"...)
		}
		return append(b, "False"...)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case *big.Int:
		return v.Append(b, 10)
	case float64:
		return appendFloatRepr(b, v)
	case string:
		if !quote {
			return append(b, v...)
		}
		return appendStrRepr(b, v)
	case []Value:
		b = append(b, '[')
		for i, e := range v {
			if len(b) > maxText {
				return b // cut: the evaluator fails a text this long (checkText)
			}
			if i > 0 {
				b = append(b, ", "...)
			}
			b = reprInto(b, e, true, path)
		}
		return append(b, ']')
	case Tuple:
		b = append(b, '(')
		for i, e := range v {
			if len(b) > maxText {
				return b
			}
			if i > 0 {
				b = append(b, ", "...)
			}
			b = reprInto(b, e, true, path)
		}
		if len(v) == 1 {
			b = append(b, ',')
		}
		return append(b, ')')
	case *Dict:
		for _, p := range path {
			if p == v {
				return append(b, "{...}"...)
			}
		}
		path = append(path, v)
		b = append(b, '{')
		for i := range v.Len() {
			if len(b) > maxText {
				return b
			}
			if i > 0 {
				b = append(b, ", "...)
			}
			b = reprInto(b, v.keys[i], true, path)
			b = append(b, ": "...)
			b = reprInto(b, v.vals[i], true, path)
		}
		return append(b, '}')
	case *undefined:
		if quote {
			return append(b, "Undefined"...)
		}
		return b
	case dateTime:
		if quote {
			return v.appendRepr(b)
		}
		return v.appendISO(b, ' ')
	case date:
		if quote {
			return append(b, "datetime.date("+strconv.Itoa(v.y)+", "+strconv.Itoa(int(v.m))+", "+strconv.Itoa(v.d)+")"...)
		}
		return v.appendISO(b)
	case timeDelta:
		if quote {
			return v.appendRepr(b)
		}
		return v.appendStr(b)
	case isoDuration:
		if quote {
			return v.appendRepr(b)
		}
		return v.appendStr(b)
	case *callable:
		return append(b, "<function "+v.name+">"...)
	case *generator:
		return append(b, "<generator object>"...)
	case templateRef:
		return append(b, "<TemplateReference None>"...)
	case dictView:
		b = append(b, "dict_"+v.kind+"("...)
		b = appendRepr(b, v.items(), true)
		return append(b, ')')
	case *Object:
		return objectRepr(b, v)
	case *namespace:
		b = append(b, "<Namespace "...)
		b = appendRepr(b, v.attrs, true)
		return append(b, '>')
	}
	return append(b, "<object>"...)
}

// appendStrRepr appends a Python string literal for s, choosing quotes as Python's repr does.
func appendStrRepr(b []byte, s string) []byte {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	b = append(b, q)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == q || c == '\\':
				b = append(b, '\\', c)
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c < ' ' || c == 0x7f:
				b = append(b, '\\', 'x', hexDigit[c>>4], hexDigit[c&15])
			default:
				b = append(b, c)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			// Not UTF-8: Python would hold a surrogate escape here.
			b = append(b, `\udc`...)
			b = append(b, hexDigit[s[i]>>4], hexDigit[s[i]&15])
			i++
			continue
		}
		i += n
		if unicode.IsPrint(r) {
			b = append(b, s[i-n:i]...)
			continue
		}
		switch {
		case r < 0x100:
			b = append(b, '\\', 'x')
			b = appendHex(b, uint32(r), 2)
		case r < 0x10000:
			b = append(b, '\\', 'u')
			b = appendHex(b, uint32(r), 4)
		default:
			b = append(b, '\\', 'U')
			b = appendHex(b, uint32(r), 8)
		}
	}
	return append(b, q)
}

const hexDigit = "0123456789abcdef"

func appendHex(b []byte, v uint32, width int) []byte {
	for i := width - 1; i >= 0; i-- {
		b = append(b, hexDigit[(v>>(4*uint(i)))&15])
	}
	return b
}

// appendFloatRepr appends Python's repr of a float: the shortest digits that round-trip, in
// fixed notation when the decimal exponent is in [-4, 16), else as 1e+16, 1.5e-07.
func appendFloatRepr(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // [-]d[.ddd]e±XX
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		b = append(b, '-')
	}
	ei := strings.IndexByte(string(e), 'e')
	mant, expStr := e[:ei], e[ei+1:]
	exp, _ := strconv.Atoi(string(expStr))
	var digits []byte
	digits = append(digits, mant[0])
	if len(mant) > 2 {
		digits = append(digits, mant[2:]...)
	}
	decpt := exp + 1
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			b = append(b, '0', '.')
			for range -decpt {
				b = append(b, '0')
			}
			b = append(b, digits...)
		case decpt >= len(digits):
			b = append(b, digits...)
			for range decpt - len(digits) {
				b = append(b, '0')
			}
			b = append(b, '.', '0')
		default:
			b = append(b, digits[:decpt]...)
			b = append(b, '.')
			b = append(b, digits[decpt:]...)
		}
		return b
	}
	b = append(b, digits[0])
	if len(digits) > 1 {
		b = append(b, '.')
		b = append(b, digits[1:]...)
	}
	b = append(b, 'e')
	if exp < 0 {
		b = append(b, '-')
		exp = -exp
	} else {
		b = append(b, '+')
	}
	if exp < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(exp), 10)
}
