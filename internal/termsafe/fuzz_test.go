package termsafe

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzString checks that what String and Writer produce is valid UTF-8
// without a character a terminal could act on (Writer keeps \n and \t), and
// that text with nothing to escape is kept as it is.
func FuzzString(f *testing.F) {
	for _, s := range []string{"plain", "bad \x1b[31mred", "c1 \u009b2J \x7f", "bidi \u202eevil", "invalid \xff\xc3 byte", "\ufffd", "a\tb\nc\rd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(what, out string, ok func(rune) bool) {
			if !utf8.ValidString(out) {
				t.Fatalf("%s(%q) = %q: invalid UTF-8", what, s, out)
			}
			for _, r := range out {
				if !ok(r) && unsafe(r) {
					t.Fatalf("%s(%q) = %q: holds %U", what, s, out, r)
				}
			}
			if strings.IndexFunc(s, func(r rune) bool { return !ok(r) && unsafe(r) }) < 0 && out != s {
				t.Fatalf("%s(%q) = %q: changed text with nothing to escape", what, s, out)
			}
		}
		check("String", String(s), func(rune) bool { return false })
		var b strings.Builder
		if n, err := NewWriter(&b).Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
		check("Writer", b.String(), func(r rune) bool { return r == '\n' || r == '\t' })
	})
}

// FuzzAppendJSON checks that AppendJSON keeps the value of valid JSON,
// leaves nothing a terminal could act on but newlines and tabs, and keeps
// JSON with nothing to escape as it is.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{`{"a":"plain"}`, "{\"csi\":\"\u009b2J\"}\r\n", "[\"\u202e\",\"\\\"\xff\"]", `"\u001b"`, "\"\U000e0001\"", "1 2\n3"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out := AppendJSON(nil, b)
		if !needsJSONEscape(b) && !bytes.Equal(out, b) {
			t.Fatalf("AppendJSON(%q) = %q: changed JSON with nothing to escape", b, out)
		}
		if !json.Valid(b) {
			return
		}
		for _, r := range string(out) {
			if r != '\n' && r != '\t' && unsafe(r) {
				t.Fatalf("AppendJSON(%q) = %q: holds %U", b, out, r)
			}
		}
		if !reflect.DeepEqual(decodeAll(t, b), decodeAll(t, out)) {
			t.Fatalf("AppendJSON(%q) = %q: another value", b, out)
		}
	})
}

// decodeAll decodes the JSON values in b, one after the other.
func decodeAll(t *testing.T, b []byte) []any {
	var vs []any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // 1E1000 is valid JSON
	for {
		var v any
		if err := dec.Decode(&v); err == io.EOF {
			return vs
		} else if err != nil {
			t.Fatalf("decoding %q: %v", b, err)
		}
		vs = append(vs, v)
	}
}
