package protocol

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// This file is a small recursive-descent JSON validator. It is the part of
// the fast RECORD path that decides whether bytes may be kept: record data
// goes straight into databases, so it must be JSON by the grammar of RFC 8259
// and valid UTF-8. It is deliberately stricter than encoding/json, which lets
// invalid UTF-8 through inside strings; whatever it rejects the caller hands
// to the encoding/json path instead.

// maxDepth bounds nesting so that a hostile line cannot exhaust the stack.
// encoding/json stops at the same depth.
const maxDepth = 10000

// Masks for the word-at-a-time string scan.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specialInWord returns a word whose high bit is set in (at least) the lowest
// byte of x that ends a plain run of string bytes: '"', '\\', a control
// character or a byte >= 0x80. Bytes above the first special one may be
// flagged spuriously (borrows), which the caller never looks at.
func specialInWord(x uint64) uint64 {
	q := x ^ (lsb * '"')
	s := x ^ (lsb * '\\')
	return (((x - lsb*0x20) & ^x) | ((q - lsb) & ^q) | ((s - lsb) & ^s) | x) & msb
}

// skipWS returns the index of the first byte at or after i that is not JSON
// whitespace.
func skipWS(b []byte, i int) int {
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

// skipString validates the string whose opening quote is at b[i] and returns
// the index just after its closing quote, whether it contained an escape, and
// ok=false if it is not a valid JSON string.
func skipString(b []byte, i int) (end int, escaped, ok bool) {
	i++ // opening quote
	for {
		// Plain bytes, eight at a time while there is room.
		for i+8 <= len(b) {
			m := specialInWord(binary.LittleEndian.Uint64(b[i:]))
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

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skipNumber validates the number starting at b[i] and returns the index
// just after it, or -1.
func skipNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
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

// skipValue validates the JSON value starting at b[i] (no leading
// whitespace) and returns the index just after it, or -1 if it is not valid.
func skipValue(b []byte, i, depth int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		end, _, ok := skipString(b, i)
		if !ok {
			return -1
		}
		return end
	case c == '{':
		return skipObject(b, i, depth+1)
	case c == '[':
		return skipArray(b, i, depth+1)
	case c == '-' || isDigit(c):
		return skipNumber(b, i)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	}
	return -1
}

func skipObject(b []byte, i, depth int) int {
	if depth > maxDepth {
		return -1
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return -1
		}
		end, _, ok := skipString(b, i)
		if !ok {
			return -1
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return -1
		}
		if i = skipValue(b, skipWS(b, i+1), depth); i < 0 {
			return -1
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

func skipArray(b []byte, i, depth int) int {
	if depth > maxDepth {
		return -1
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1
	}
	for {
		if i = skipValue(b, i, depth); i < 0 {
			return -1
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

// validJSON reports whether b is exactly one JSON value, optionally
// surrounded by whitespace, with every string valid UTF-8.
func validJSON(b []byte) bool {
	i := skipValue(b, skipWS(b, 0), 0)
	return i >= 0 && skipWS(b, i) == len(b)
}
