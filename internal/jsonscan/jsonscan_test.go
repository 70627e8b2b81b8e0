package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestValidatorNesting checks the validator's walk of nested values against
// encoding/json: around the 64 levels it keeps in one word, with objects and
// arrays mixed, and at encoding/json's depth limit, where both must agree.
func TestValidatorNesting(t *testing.T) {
	for _, n := range []int{1, 2, 63, 64, 65, 66, 127, 128, 129, 500, MaxDepth - 1, MaxDepth, MaxDepth + 1} {
		for _, s := range []string{
			Nest(n, `{"k":`, `}`, `1`),
			Nest(n, `{"k":`, `}`, `[]`),
			Nest(n, `{"k": `, ` , "z" : "y"}`, `{"a":[1,{"b":null}],"c":"d"}`),
			Nest(n, `{"k":`, `}`, `1,`), // a trailing comma deep inside
			Nest(n, `{"k":`, `]`, `1`),  // mismatched closers
			Nest(n, `{"k":`, `}`, `"x`), // an unterminated string
		} {
			if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
				t.Errorf("depth %d: Valid(%.80q...) = %v, encoding/json says %v", n, s, got, want)
			}
		}
	}
}

func TestField(t *testing.T) {
	for _, c := range []struct {
		obj, name string
		limit     int
		want      string
		scan      FieldScan
	}{
		{`{"id":1,"name":"a"}`, "id", 0, "1", FieldFound},
		{` { "a" : [1,{"id":2}] , "id" : "x\"y" } `, "id", 0, `"x\"y"`, FieldFound},
		{`{"a":1,"id":2,"id":3}`, "id", 0, "2", FieldFound},
		{`{"a":1}`, "id", 0, "", FieldAbsent},
		{`{}`, "id", 0, "", FieldAbsent},
		{`{"a":1,"b":2,"id":3}`, "id", 2, "", FieldUnknown},
		{`{"a":1,"b":2,"id":3}`, "id", 3, "3", FieldFound},
		{`{"i\u0064":1}`, "id", 0, "", FieldUnknown},
		{`{"a":tru,"id":1}`, "id", 0, "", FieldUnknown},
		{`[1]`, "id", 0, "", FieldUnknown},
		{`{"id":nul}`, "id", 0, "", FieldUnknown},
	} {
		v, scan := Field([]byte(c.obj), c.name, c.limit)
		if string(v) != c.want || scan != c.scan {
			t.Errorf("Field(%s, %q, %d) = %q, %v; want %q, %v", c.obj, c.name, c.limit, v, scan, c.want, c.scan)
		}
	}
}

func TestValidator(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `""`, `0`, `-0`, `-0.0e-0`, `1E+9`, `true`, `false`, `null`, ` { "a" : [ 1 , "x" ] } `,
		`"\"\\\/\b\f\n\r\t\u00e9"`, `"é😀"`, `{"a":{"b":{"c":[[],{}]}}}`, `12345678901234567890123`,
		`{`, `}`, `[1,]`, `{"a"}`, `{"a":}`, `{,}`, `01`, `1.`, `.1`, `-`, `1e`, `+1`, `tru`, `nul`, `"a`,
		`"\q"`, `"\u12"`, "\"\x1f\"", `{"a":1}x`, `[1 2]`, `{"a":1 "b":2}`, `NaN`, `{1:2}`, ``, ` `,
	} {
		if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("Valid(%q) = %v, encoding/json says %v", s, got, want)
		}
	}
	// Stricter than encoding/json: invalid UTF-8 and UTF-8 surrogates.
	for _, s := range []string{"\"\xff\"", "\"\xed\xa0\x80\"", "\"a\xc3\"", "{\"\xc3(\":1}"} {
		if Valid([]byte(s)) {
			t.Errorf("Valid(%q) accepted invalid UTF-8", s)
		}
	}
	// Strings longer than a word with a special byte at every offset.
	for n := 0; n < 20; n++ {
		for _, c := range []string{`"`, `\\`, "\x01", "é", "\xff"} {
			s := `"` + strings.Repeat("a", n) + c + strings.Repeat("b", 9) + `"`
			if got, want := Valid([]byte(s)), json.Valid([]byte(s)) && c != "\xff"; got != want {
				t.Errorf("Valid(%q) = %v, want %v", s, got, want)
			}
		}
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\s/", "\x00\x07\b\f\n\r\t\x1f\x7f", "<>&", "é😀\u2028\u2029", "\xff\xfe", "a\xc3", "\xed\xa0\x80"} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := AppendString(nil, s); string(got) != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want.String())
		}
	}
}
