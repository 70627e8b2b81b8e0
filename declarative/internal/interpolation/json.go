package interpolation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeJSON parses one JSON document into the value model as Python's json.loads does:
// objects become *Dict with their key order (a repeated key keeps its first position and its
// last value), integers int64 (*big.Int beyond), numbers with a fraction or exponent float64.
func DecodeJSON(data []byte) (Value, error) {
	// One copy of the document as a string: strings without escapes are substrings of it.
	d := jsonDecoder{data: data, src: string(data)}
	// About one string per two quotes: size the string slab once.
	d.strs = make([]string, 0, bytes.Count(data, quote)/2+1)
	sp := stackPool.Get().(*[]Value)
	d.stack = (*sp)[:0]
	defer func() {
		if cap(d.stack) > 1<<12 {
			return // an outsized stack is left to the collector
		}
		clear(d.stack[:cap(d.stack)]) // an error leaves entries behind
		*sp = d.stack[:0]
		stackPool.Put(sp)
	}()
	d.ws()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.ws()
	if d.pos != len(d.data) {
		return nil, d.errorf("extra data")
	}
	return v, nil
}

// stackPool holds the decoders' scratch stacks: the entries of open objects and arrays.
var stackPool = sync.Pool{New: func() any { s := make([]Value, 0, 64); return &s }}

// maxJSONDepth bounds nesting, as Python's recursion limit does.
const maxJSONDepth = 10000

type jsonDecoder struct {
	data  []byte
	src   string // data as a string
	pos   int
	stack []Value // the entries of the objects and arrays being read (key, value, key, ...)
	slabs
}

// JSONError is a malformed JSON document: what is wrong and at which byte offset.
type JSONError struct {
	Msg    string
	Offset int
}

// Error describes the problem and where it is.
func (e *JSONError) Error() string {
	return fmt.Sprintf("invalid JSON: %s at offset %d", e.Msg, e.Offset)
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return &JSONError{Msg: fmt.Sprintf(format, args...), Offset: d.pos}
}

func (d *jsonDecoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (Value, error) {
	if depth > maxJSONDepth {
		return nil, d.errorf("nesting too deep")
	}
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		d.pos++
		base := len(d.stack)
		d.ws()
		if d.pos < len(d.data) && d.data[d.pos] == '}' {
			d.pos++
			return NewDict(0), nil
		}
		for {
			d.ws()
			if d.pos >= len(d.data) || d.data[d.pos] != '"' {
				return nil, d.errorf("expecting property name enclosed in double quotes")
			}
			k, err := d.strValue()
			if err != nil {
				return nil, err
			}
			d.ws()
			if d.pos >= len(d.data) || d.data[d.pos] != ':' {
				return nil, d.errorf("expecting ':' delimiter")
			}
			d.pos++
			d.ws()
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			d.stack = append(d.stack, k, v)
			d.ws()
			if d.pos >= len(d.data) {
				return nil, d.errorf("unexpected end of input")
			}
			if d.data[d.pos] == ',' {
				d.pos++
				continue
			}
			if d.data[d.pos] == '}' {
				d.pos++
				return d.popObject(base), nil
			}
			return nil, d.errorf("expecting ',' delimiter")
		}
	case c == '[':
		d.pos++
		base := len(d.stack)
		d.ws()
		if d.pos < len(d.data) && d.data[d.pos] == ']' {
			d.pos++
			return []Value{}, nil
		}
		for {
			d.ws()
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			d.stack = append(d.stack, v)
			d.ws()
			if d.pos >= len(d.data) {
				return nil, d.errorf("unexpected end of input")
			}
			if d.data[d.pos] == ',' {
				d.pos++
				continue
			}
			if d.data[d.pos] == ']' {
				d.pos++
				list := append([]Value(nil), d.stack[base:]...)
				clear(d.stack[base:])
				d.stack = d.stack[:base]
				return list, nil
			}
			return nil, d.errorf("expecting ',' delimiter")
		}
	case c == '"':
		return d.strValue()
	case c == 't':
		return d.literal("true", true)
	case c == 'f':
		return d.literal("false", false)
	case c == 'n':
		return d.literal("null", nil)
	case c == 'N':
		return d.literal("NaN", math.NaN())
	case c == 'I':
		return d.literal("Infinity", math.Inf(1))
	case c == '-' || c >= '0' && c <= '9':
		if c == '-' && d.pos+1 < len(d.data) && d.data[d.pos+1] == 'I' {
			d.pos++
			return d.literal("Infinity", math.Inf(-1))
		}
		return d.number()
	}
	return nil, d.errorf("expecting value")
}

// popObject builds the dict of the entries pushed since base: slices of the exact size, a
// repeated key keeping its first position and its last value, as json.loads does.
func (d *jsonDecoder) popObject(base int) *Dict {
	entries := d.stack[base:]
	n := len(entries) / 2
	// Keys and values share one allocation; the three-index slices keep an append to the keys
	// from running into the values.
	both := make([]Value, 2*n)
	obj := &Dict{keys: both[:0:n], vals: both[n : n : 2*n]}
	defer func() {
		if len(obj.keys) > indexFrom {
			obj.buildIndex()
		}
	}()
	for i := 0; i < len(entries); i += 2 {
		k := entries[i].(string)
		if j := obj.find(k); j >= 0 {
			obj.vals[j] = entries[i+1]
			continue
		}
		obj.keys = append(obj.keys, entries[i])
		obj.vals = append(obj.vals, entries[i+1])
	}
	clear(entries)
	d.stack = d.stack[:base]
	return obj
}

func (d *jsonDecoder) literal(word string, v Value) (Value, error) {
	if len(d.data)-d.pos >= len(word) && string(d.data[d.pos:d.pos+len(word)]) == word {
		d.pos += len(word)
		return v, nil
	}
	return nil, d.errorf("expecting value")
}

func (d *jsonDecoder) number() (Value, error) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	digitsFrom := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	if d.pos == digitsFrom || d.data[digitsFrom] == '0' && d.pos-digitsFrom > 1 {
		if d.pos == digitsFrom {
			return nil, d.errorf("expecting value")
		}
		// JSON forbids leading zeros: Python reads "0" and fails on what follows.
		d.pos = digitsFrom + 1
		return int64(0), nil
	}
	isFloat := false
	if d.pos+1 < len(d.data) && d.data[d.pos] == '.' && d.data[d.pos+1] >= '0' && d.data[d.pos+1] <= '9' {
		isFloat = true
		d.pos++
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		j := d.pos + 1
		if j < len(d.data) && (d.data[j] == '+' || d.data[j] == '-') {
			j++
		}
		if j < len(d.data) && d.data[j] >= '0' && d.data[j] <= '9' {
			isFloat = true
			d.pos = j
			for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
				d.pos++
			}
		}
	}
	tok := d.src[start:d.pos]
	if isFloat {
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil && !isRangeErr(err) {
			return nil, d.errorf("invalid number %s", tok)
		}
		return d.slabs.float(f), nil
	}
	if len(tok) <= 18 {
		n, _ := strconv.ParseInt(tok, 10, 64)
		return d.slabs.int(n), nil
	}
	if digits := len(strings.TrimPrefix(tok, "-")); digits > maxIntDigits {
		return nil, d.errorf("Exceeds the limit (%d digits) for integer string conversion: value has %d digits", maxIntDigits, digits)
	}
	b, _ := new(big.Int).SetString(tok, 10)
	return normInt(b), nil
}

// maxIntDigits is Python's default limit on the digits of an int read from text.
const maxIntDigits = 4300

// strValue reads a string into the string slab.
func (d *jsonDecoder) strValue() (Value, error) {
	s, err := d.str()
	if err != nil {
		return nil, err
	}
	return d.slabs.str(s), nil
}

var quote = []byte{'"'}

// str reads a JSON string. Bytes that are not UTF-8 become U+FFFD, as requests decodes a body
// it cannot read as UTF-8 (errors="replace") before json.loads sees it.
func (d *jsonDecoder) str() (string, error) {
	s, ascii, err := d.rawStr()
	if err != nil || ascii || utf8.ValidString(s) {
		return s, err
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += n
	}
	return b.String(), nil
}

func (d *jsonDecoder) rawStr() (s string, ascii bool, err error) {
	d.pos++ // opening quote
	start := d.pos
	ascii = true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch strClass[c] {
		case strPlain:
			d.pos++
			continue
		case strHigh:
			ascii = false
			d.pos++
			continue
		}
		if c == '"' {
			d.pos++
			return d.src[start : d.pos-1], ascii, nil
		}
		if c == '\\' {
			break
		}
		return "", false, d.errorf("invalid control character")
	}
	buf := append([]byte(nil), d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(buf), false, nil
		case c < 0x20:
			return "", false, d.errorf("invalid control character")
		case c != '\\':
			buf = append(buf, c)
			d.pos++
			continue
		}
		if d.pos+1 >= len(d.data) {
			break
		}
		e := d.data[d.pos+1]
		d.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", false, d.errorf("invalid \\uXXXX escape")
			}
			if utf16.IsSurrogate(r) && r < 0xdc00 && d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
				save := d.pos
				d.pos += 2
				if r2, ok := d.hex4(); ok && r2 >= 0xdc00 && r2 <= 0xdfff {
					r = utf16.DecodeRune(r, r2)
				} else {
					d.pos = save
				}
			}
			// A lone surrogate has no UTF-8 form: it becomes U+FFFD.
			buf = utf8.AppendRune(buf, r)
		default:
			return "", false, d.errorf("invalid \\escape")
		}
	}
	return "", false, d.errorf("unterminated string")
}

// The classes of a string's bytes for rawStr's scan: plain ASCII goes on, a byte with the high
// bit set goes on but the string needs a UTF-8 check, anything else ('"', '\\', a control
// character) stops the scan. Plain ASCII is also what the compact encoding writes as it is.
const (
	strPlain = iota
	strHigh
	strStop
)

var strClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c == '"' || c == '\\' || c < 0x20:
			t[c] = strStop
		case c >= 0x80:
			t[c] = strHigh
		}
	}
	return t
}()

func (d *jsonDecoder) hex4() (rune, bool) {
	if d.pos+4 > len(d.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(d.data[d.pos:d.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	d.pos += 4
	return rune(n), true
}

// EncodeJSON writes v as compact JSON: dict keys in order, floats as Python's repr writes them
// (1.0, 1e+16), non-ASCII characters as UTF-8. Keys that are not strings are written as
// Python's json module writes them (1 → "1", True → "true", None → "null"). It fails for values
// JSON cannot hold (NaN and infinities included, as the CDK's serializer does).
func EncodeJSON(v Value) ([]byte, error) { return AppendJSON(nil, v) }

// AppendJSON appends the encoding of v (see EncodeJSON) to dst.
func AppendJSON(dst []byte, v Value) ([]byte, error) {
	return appendJSON(dst, v, false, false, false, 0, nil)
}

// appendPyJSON writes what Python's json.dumps(v) writes: ", " and ": " separators, non-ASCII
// escaped, optionally sorted keys.
func appendPyJSON(dst []byte, v Value, sortKeys, _ bool) ([]byte, error) {
	if printsTooLong(v) {
		return nil, errTextTooLong
	}
	return appendJSON(dst, v, true, sortKeys, true, 0, nil)
}

func appendJSON(b []byte, v Value, pretty, sortKeys, allowNaN bool, depth int, path []*Dict) ([]byte, error) {
	if depth > maxDepth {
		return nil, valueErrorf("Circular reference detected")
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		if x {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case *big.Int:
		return x.Append(b, 10), nil
	case float64:
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			if !allowNaN {
				return nil, valueErrorf("Out of range float values are not JSON compliant")
			}
			if math.IsNaN(x) {
				return append(b, "NaN"...), nil
			}
			if x > 0 {
				return append(b, "Infinity"...), nil
			}
			return append(b, "-Infinity"...), nil
		}
		return appendFloatRepr(b, x), nil
	case string:
		return appendJSONString(b, x, pretty), nil
	case []Value:
		return appendJSONList(b, x, pretty, sortKeys, allowNaN, depth, path)
	case Tuple:
		return appendJSONList(b, x, pretty, sortKeys, allowNaN, depth, path)
	case *generator:
		return appendJSONList(b, x.items, pretty, sortKeys, allowNaN, depth, path)
	case *Dict:
		if !sortKeys && !pretty {
			return appendJSONDictInOrder(b, x, allowNaN, depth, path)
		}
		for _, p := range path {
			if p == x {
				return nil, valueErrorf("Circular reference detected")
			}
		}
		path = append(path, x)
		keys := make([]string, x.Len())
		for i, k := range x.keys {
			switch kk := k.(type) {
			case string:
				keys[i] = kk
			case nil, bool, int64, *big.Int, float64:
				kb, _ := appendJSON(nil, kk, false, false, true, depth, nil)
				keys[i] = string(kb)
			default:
				return nil, typeErrorf("keys must be str, int, float, bool or None, not %s", typeName(k))
			}
		}
		order := make([]int, len(keys))
		for i := range order {
			order[i] = i
		}
		if sortKeys {
			sort.SliceStable(order, func(i, j int) bool { return keys[order[i]] < keys[order[j]] })
		}
		b = append(b, '{')
		var err error
		for n, i := range order {
			if n > 0 {
				b = append(b, ',')
				if pretty {
					b = append(b, ' ')
				}
			}
			b = appendJSONString(b, keys[i], pretty)
			b = append(b, ':')
			if pretty {
				b = append(b, ' ')
			}
			if b, err = appendJSON(b, x.vals[i], pretty, sortKeys, allowNaN, depth+1, path); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return nil, typeErrorf("Object of type %s is not JSON serializable", typeName(v))
}

// appendJSONDictInOrder writes a dict compactly in its own order, without building the key list
// the sorted form needs.
func appendJSONDictInOrder(b []byte, x *Dict, allowNaN bool, depth int, path []*Dict) ([]byte, error) {
	for _, p := range path {
		if p == x {
			return nil, valueErrorf("Circular reference detected")
		}
	}
	path = append(path, x)
	b = append(b, '{')
	var err error
	for i, k := range x.keys {
		if i > 0 {
			b = append(b, ',')
		}
		switch kk := k.(type) {
		case string:
			b = appendJSONString(b, kk, false)
		case nil, bool, int64, *big.Int, float64:
			kb, _ := appendJSON(nil, kk, false, false, true, depth, nil)
			b = appendJSONString(b, string(kb), false)
		default:
			return nil, typeErrorf("keys must be str, int, float, bool or None, not %s", typeName(k))
		}
		b = append(b, ':')
		if b, err = appendJSON(b, x.vals[i], false, false, allowNaN, depth+1, path); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func appendJSONList(b []byte, l []Value, pretty, sortKeys, allowNaN bool, depth int, path []*Dict) ([]byte, error) {
	b = append(b, '[')
	var err error
	for i, e := range l {
		if i > 0 {
			b = append(b, ',')
			if pretty {
				b = append(b, ' ')
			}
		}
		if b, err = appendJSON(b, e, pretty, sortKeys, allowNaN, depth+1, path); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// skipPlain returns the index of the first byte of s from i on that is not plain ASCII (see
// strClass), or len(s).
func skipPlain(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if !plain8(uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56) {
			break
		}
	}
	for i < len(s) && strClass[s[i]] == strPlain {
		i++
	}
	return i
}

// plain8 reports whether the eight bytes of x are all plain ASCII: none has the high bit set,
// is below 0x20, or is '"' or '\\' (the bit tricks of "has a zero byte" and "has a byte less
// than n", which are exact for the question "any?").
func plain8(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	q, bs := x^(lo*'"'), x^(lo*'\\')
	return (x|(x-lo*0x20)&^x|(q-lo)&^q|(bs-lo)&^bs)&hi == 0
}

// appendJSONString writes a JSON string; asciiOnly escapes every non-ASCII character as
// Python's json.dumps does by default.
func appendJSONString(b []byte, s string, asciiOnly bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if !asciiOnly {
			// The compact form writes plain ASCII as it is: eight bytes at a time, then one
			// table look-up per byte.
			i = skipPlain(s, i)
			if i == len(s) {
				break
			}
		}
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf && !(asciiOnly && c == 0x7f) {
			i++
			continue
		}
		if c >= utf8.RuneSelf && !asciiOnly {
			if r, n := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || n > 1 {
				i += n
				continue
			}
		}
		b = append(b, s[start:i]...)
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			i += n
			start = i
			switch {
			case r == utf8.RuneError && n == 1:
				b = append(b, `\ufffd`...)
			case r >= 0x10000:
				r1, r2 := utf16.EncodeRune(r)
				b = append(b, '\\', 'u')
				b = appendHex(b, uint32(r1), 4)
				b = append(b, '\\', 'u')
				b = appendHex(b, uint32(r2), 4)
			default:
				b = append(b, '\\', 'u')
				b = appendHex(b, uint32(r), 4)
			}
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigit[c>>4], hexDigit[c&15])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// FromGo converts ordinary Go data into the value model: map[string]any (keys sorted, since a
// Go map has no order; decode with DecodeJSON to keep a document's order), []any, strings,
// bools, nil, json.Number, json.RawMessage, all integer kinds, and floats. A float64 with an
// integral value becomes an int, because that is what Python's json.loads makes of the number
// encoding/json decoded into it ("5" → 5); use json.Number or DecodeJSON to keep 5.0 a float.
func FromGo(v any) (Value, error) {
	switch x := v.(type) {
	case nil, bool, string, int64, *big.Int, *Dict, Tuple:
		return x, nil
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint:
		return normInt(new(big.Int).SetUint64(uint64(x))), nil
	case uint64:
		return normInt(new(big.Int).SetUint64(x)), nil
	case float32:
		return FromGo(float64(x))
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
		return x, nil
	case json.Number:
		return DecodeJSON([]byte(x))
	case json.RawMessage:
		return DecodeJSON(x)
	case []any:
		out := make([]Value, len(x))
		for i, e := range x {
			c, err := FromGo(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := NewDict(len(keys))
		for _, k := range keys {
			c, err := FromGo(x[k])
			if err != nil {
				return nil, err
			}
			d.Set(k, c)
		}
		return d, nil
	}
	return nil, fmt.Errorf("interpolation: cannot convert %T to a value", v)
}
