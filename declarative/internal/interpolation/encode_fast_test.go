package interpolation

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
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

// TestStrPlainIsTheLoopsPlain: the bytes skipPlain passes over (strPlain,
// eight at a time per TestPlain8) are exactly those appendJSONString's loop
// copies as they are in the compact form. So the fast path writes what the
// loop alone would write, byte for byte.
func TestStrPlainIsTheLoopsPlain(t *testing.T) {
	for c := range 256 {
		loop := c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf
		if (strClass[c] == strPlain) != loop {
			t.Errorf("byte %#02x: strPlain %v, plain to the loop %v", c, strClass[c] == strPlain, loop)
		}
	}
}

// TestAppendJSONStringFastPath encodes strings with every kind of byte at
// every offset of the eight-byte steps: the JSON reads back as the string
// (invalid UTF-8 as U+FFFD), and the ASCII-only form is ASCII.
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
		want := []rune(s) // each invalid byte is a U+FFFD, as the encoder writes it
		for _, asciiOnly := range []bool{false, true} {
			got := appendJSONString(nil, s, asciiOnly)
			var back string
			if err := json.Unmarshal(got, &back); err != nil || back != string(want) {
				t.Fatalf("appendJSONString(%q, %v) = %s: reads back as %q (%v)", s, asciiOnly, got, back, err)
			}
			if asciiOnly && strings.IndexFunc(string(got), func(r rune) bool { return r >= utf8.RuneSelf }) >= 0 {
				t.Fatalf("appendJSONString(%q, true) = %s: not ASCII", s, got)
			}
		}
	}
}
