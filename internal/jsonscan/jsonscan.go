// Package jsonscan is the JSON scanner under package protocol's fast RECORD
// path, and the string encoder under its Encoder: a strict validator, the
// skips the envelope scan is made of, Field for one member of an object,
// and AppendString. The caches use Field and AppendString too; secrets and
// connector replace a config's strings in its text with ReplaceStrings.
package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// This file is a small JSON validator. It is the part of the fast RECORD
// path that decides whether bytes may be kept: record data goes straight
// into databases, so it must be JSON by the grammar of RFC 8259 and valid
// UTF-8. It is deliberately stricter than encoding/json, which lets invalid
// UTF-8 through inside strings; whatever it rejects the caller hands to the
// encoding/json path instead.
//
// It is also the hottest code of a read (a record is mostly short strings),
// hence its shape: nested values are walked in one loop with the open
// containers kept as bits rather than by recursion, and strings are scanned
// eight bytes at a time.

// MaxDepth bounds nesting so that a hostile line cannot exhaust the stack.
// encoding/json stops at the same depth.
const MaxDepth = 10000

// Masks for the word-at-a-time string scan.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specialInWord returns a word whose high bit is set in (at least) the lowest
// byte of x that ends a plain run of string bytes: '"', '\\', a control
// character or a byte >= 0x80. Bytes above the first special one may be
// flagged spuriously (borrows), which the caller never looks at.
//
// A byte b < 0x80 gets its high bit from b-0x20 only when b < 0x20, and from
// (b^'"')-1 or (b^'\\')-1 only when it is that character; bytes >= 0x80 are
// flagged by x itself, which is why no "& ^x" terms are needed.
func specialInWord(x uint64) uint64 {
	return ((x - lsb*0x20) | ((x ^ (lsb * '"')) - lsb) | ((x ^ (lsb * '\\')) - lsb) | x) & msb
}

// SkipWS returns the index of the first byte at or after i that is not JSON
// whitespace.
func SkipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// SkipString validates the string whose opening quote is at b[i] and returns
// the index just after its closing quote, whether it contained an escape, and
// ok=false if it is not a valid JSON string.
func SkipString(b []byte, i int) (end int, escaped, ok bool) {
	return stringBody(b, i+1, false)
}

// stringBody is SkipString from b[i] inside the string.
func stringBody(b []byte, i int, escaped bool) (end int, _, ok bool) {
	for {
		// Plain bytes, eight at a time while there is room.
		for i+8 <= len(b) {
			m := specialInWord(binary.LittleEndian.Uint64(b[i : i+8]))
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(b) {
			return i, escaped, false
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return i, escaped, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return i, escaped, false
				}
				i += 6
			default:
				return i, escaped, false
			}
		case c < 0x20:
			return i, escaped, false
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return i, escaped, false
			}
			i += n
		default:
			// A plain byte in the tail shorter than a word.
			i++
		}
	}
}

// stringEnd validates the string whose opening quote is at b[i] and returns
// the index after its closing quote, or -1. It is SkipString for the common
// case, a short plain string: the word that holds the closing quote is
// recognised from the masks alone, without going back to the byte.
func stringEnd(b []byte, i int) int {
	i++
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i : i+8])
		q := x ^ (lsb * '"')
		m := ((x - lsb*0x20) | (q - lsb) | ((x ^ (lsb * '\\')) - lsb) | x) & msb
		if m == 0 {
			i += 8
			continue
		}
		// The lowest flagged byte is exact (see specialInWord); it is the
		// closing quote when q has a zero byte there.
		if first := m & -m; (q-lsb)&^q&first != 0 {
			return i + bits.TrailingZeros64(m)>>3 + 1
		}
		i += bits.TrailingZeros64(m) >> 3
		break
	}
	end, _, ok := stringBody(b, i, false)
	if !ok {
		return -1
	}
	return end
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func IsDigit(c byte) bool { return '0' <= c && c <= '9' }

// SkipNumber validates the number starting at b[i] and returns the index
// just after it, or -1.
func SkipNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		for i++; i < len(b) && IsDigit(b[i]); i++ {
		}
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !IsDigit(b[i]) {
			return -1
		}
		for i++; i < len(b) && IsDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !IsDigit(b[i]) {
			return -1
		}
		for i++; i < len(b) && IsDigit(b[i]); i++ {
		}
	}
	return i
}

// skipLiteral checks that lit is at b[i] and returns the index after it, or -1.
func skipLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// SkipValue validates the JSON value starting at b[i] (no leading
// whitespace) and returns the index just after it, or -1 if it is not valid.
// depth is the number of objects and arrays around the value.
func SkipValue(b []byte, i, depth int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		return stringEnd(b, i)
	case c == '{' || c == '[':
		return SkipNested(b, i, depth)
	case c == '-' || IsDigit(c):
		return SkipNumber(b, i)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	}
	return -1
}

// skipKey validates an object key and the colon after it, starting at b[i],
// and returns the index of the value, or -1.
func skipKey(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = stringEnd(b, i); i < 0 {
		return -1
	}
	if i < len(b) && b[i] == ':' { // the compact form, without whitespace
		i++
	} else if i = SkipWS(b, i); i < len(b) && b[i] == ':' {
		i++
	} else {
		return -1
	}
	if i < len(b) && b[i] > ' ' {
		return i
	}
	return SkipWS(b, i)
}

// stackBits is how many levels of nesting SkipNested tracks in one word;
// deeper levels are validated by a nested call.
const stackBits = 64

// SkipNested validates the object or array that opens at b[i] and returns
// the index just after it, or -1. depth is the number of objects and arrays
// around it.
func SkipNested(b []byte, i, depth int) int {
	var objects uint64 // bit l is set when the container at level l is an object
	level := 0         // containers open in this call
	for {
		// b[i] should start a value.
		if i >= len(b) {
			return -1
		}
		switch c := b[i]; c {
		case '{', '[':
			if depth+level >= MaxDepth {
				return -1
			}
			if level == stackBits {
				if i = SkipNested(b, i, depth+level); i < 0 {
					return -1
				}
				break
			}
			end := byte(']')
			if c == '{' {
				end = '}'
			}
			if i = SkipWS(b, i+1); i < len(b) && b[i] == end {
				i++ // empty: a complete value
				break
			}
			if c == '{' {
				objects |= 1 << level
				if i = skipKey(b, i); i < 0 {
					return -1
				}
			} else {
				objects &^= 1 << level
			}
			level++
			continue // the first member's value
		case '"':
			if i = stringEnd(b, i); i < 0 {
				return -1
			}
		case 't':
			if i = skipLiteral(b, i, "true"); i < 0 {
				return -1
			}
		case 'f':
			if i = skipLiteral(b, i, "false"); i < 0 {
				return -1
			}
		case 'n':
			if i = skipLiteral(b, i, "null"); i < 0 {
				return -1
			}
		default:
			if i = SkipNumber(b, i); i < 0 {
				return -1
			}
		}
		// A value has ended: close containers until one goes on.
		for {
			if level == 0 {
				return i
			}
			if i >= len(b) || b[i] <= ' ' {
				if i = SkipWS(b, i); i >= len(b) {
					return -1
				}
			}
			inObject := objects&(1<<(level-1)) != 0
			c := b[i]
			if c == ',' {
				if i++; i < len(b) && b[i] <= ' ' {
					i = SkipWS(b, i)
				}
				if inObject {
					if i = skipKey(b, i); i < 0 {
						return -1
					}
				}
				break // the next member's value
			}
			if inObject && c != '}' || !inObject && c != ']' {
				return -1
			}
			i++
			level--
		}
	}
}

// Valid reports whether b is exactly one JSON value, optionally
// surrounded by whitespace, with every string valid UTF-8.
func Valid(b []byte) bool {
	i := SkipValue(b, SkipWS(b, 0), 0)
	return i >= 0 && SkipWS(b, i) == len(b)
}

// FieldScan is the outcome of [Field].
type FieldScan int

// The outcomes of [Field].
const (
	FieldFound   FieldScan = iota // the member is there; value is its raw JSON
	FieldAbsent                   // obj is an object without the member
	FieldUnknown                  // not decided: malformed JSON, an escaped key, or the member limit reached
)

// Field finds the first top-level member called name in the JSON object
// obj (a Record's Data, say) and returns its raw JSON value. It looks at
// no more than limit members (limit <= 0: all of them), so that a caller
// on a hot path bounds its cost, and it compares keys as they are written:
// an escaped key makes the answer FieldUnknown.
func Field(obj []byte, name string, limit int) (value []byte, scan FieldScan) {
	i := SkipWS(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, FieldUnknown
	}
	i = SkipWS(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil, FieldAbsent
	}
	for n := 0; limit <= 0 || n < limit; n++ {
		key, v, ok := ScanKey(obj, i)
		if !ok {
			return nil, FieldUnknown
		}
		end := SkipValue(obj, v, 1)
		if end < 0 {
			return nil, FieldUnknown
		}
		if string(key) == name {
			return obj[v:end], FieldFound
		}
		next, done, ok := AfterMember(obj, end)
		if !ok {
			return nil, FieldUnknown
		}
		if done {
			return nil, FieldAbsent
		}
		i = next
	}
	return nil, FieldUnknown
}

// ScanKey reads an object key and the colon after it, returning the raw key
// (without quotes) and the index of the value. ok is false for escaped keys
// and malformed input.
func ScanKey(b []byte, i int) (key []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	end, escaped, ok := SkipString(b, i)
	if !ok || escaped {
		return nil, 0, false
	}
	key = b[i+1 : end-1]
	i = SkipWS(b, end)
	if i >= len(b) || b[i] != ':' {
		return nil, 0, false
	}
	return key, SkipWS(b, i+1), true
}

// AfterMember skips the separator after an object member. It returns the
// index of the next key and done=true when the object ended (next is then
// the index after '}').
func AfterMember(b []byte, i int) (next int, done, ok bool) {
	i = SkipWS(b, i)
	if i >= len(b) {
		return 0, false, false
	}
	switch b[i] {
	case ',':
		return SkipWS(b, i+1), false, true
	case '}':
		return i + 1, true, true
	}
	return 0, false, false
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string the way encoding/json does with
// HTML escaping off: control characters escaped, invalid UTF-8 replaced by
// U+FFFD, U+2028 and U+2029 escaped for JavaScript's sake.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += n
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += n
			start = i
			continue
		}
		i += n
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
