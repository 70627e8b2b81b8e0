package interpolation

import (
	"math/rand/v2"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// TestPlain8 holds the eight-bytes-at-a-time test to strClass, byte by
// byte: every byte value at every position, and random words.
func TestPlain8(t *testing.T) {
	want := func(x uint64) bool {
		for i := range 8 {
			if strClass[byte(x>>(8*i))] != strPlain {
				return false
			}
		}
		return true
	}
	const filler = 0x6161616161616161 // "aaaaaaaa"
	for pos := range 8 {
		for c := range 256 {
			x := filler&^(0xff<<(8*pos)) | uint64(c)<<(8*pos)
			if plain8(x) != want(x) {
				t.Fatalf("plain8(%#016x) = %v, byte %#02x at %d", x, plain8(x), c, pos)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		x := r.Uint64()
		if r.IntN(2) == 0 {
			x &= 0x7f7f7f7f7f7f7f7f // ASCII, where the other classes hide
		}
		if plain8(x) != want(x) {
			t.Fatalf("plain8(%#016x) = %v", x, plain8(x))
		}
	}
}

// TestAppendJSONStringFastPath compares appendJSONString with the byte by
// byte encoder it replaced (refJSONString), on strings with every kind of
// byte at every offset of the eight-byte steps.
func TestAppendJSONStringFastPath(t *testing.T) {
	specials := []string{`"`, `\`, "\n", "\x00", "\x1f", "\x7f", "é", "😀", "\xff", "\xe9", "\u2028", string(utf16.Decode([]uint16{0xd800}))}
	var inputs []string
	for n := range 20 {
		for _, sp := range specials {
			for at := 0; at <= n; at++ {
				base := []byte("abcdefghijklmnopqrstuvwxyz"[:n])
				inputs = append(inputs, string(base[:at])+sp+string(base[at:]))
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
			if r.IntN(4) > 0 {
				b[i] = byte(0x20 + r.IntN(0x60))
			}
		}
		inputs = append(inputs, string(b))
	}
	for _, s := range inputs {
		for _, asciiOnly := range []bool{false, true} {
			got, want := appendJSONString(nil, s, asciiOnly), refJSONString(nil, s, asciiOnly)
			if string(got) != string(want) {
				t.Fatalf("appendJSONString(%q, %v) = %s, want %s", s, asciiOnly, got, want)
			}
		}
	}
}

// refJSONString is appendJSONString as it was before its fast path.
func refJSONString(b []byte, s string, asciiOnly bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
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
