package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzValidJSON checks the hand-written validator against encoding/json:
// it accepts exactly the JSON texts that are also valid UTF-8 (it is
// stricter only about invalid UTF-8 inside strings).
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, ` {"a" : [1, -0.5e+3, "x\u00e9", true, false, null]} `,
		`{"a":1,}`, `[1,]`, `"\ud800"`, "\"\xff\"", `01`, `1.`, `-`, `{"a"}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`"abcdefgh\"ijklmnop"`, `"abcdefg\\"`, "\"abcdefgh\x01\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := Valid(b)
		want := json.Valid(b) && utf8.Valid(b)
		if got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json and utf8.Valid say %v", b, got, want)
		}
	})
}

// FuzzField checks Field against encoding/json: a member it finds is valid
// JSON and present in the object, one it says is absent is not there, and
// on a valid object without escaped keys it always decides.
func FuzzField(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"name":"a"}`, ` { "a" : [1,{"id":2}] , "id" : "x\"y" } `, `{"a":1,"id":2,"id":3}`,
		`{}`, `{"i\u0064":1}`, `{"a":tru,"id":1}`, `[1]`, `{"id":nul}`, `{"id":1`, `{"id":1}x`,
	} {
		f.Add([]byte(s), "id", 0)
	}
	f.Fuzz(func(t *testing.T, obj []byte, name string, limit int) {
		v, scan := Field(obj, name, limit)
		var m map[string]json.RawMessage
		valid := Valid(obj) && json.Unmarshal(obj, &m) == nil && m != nil
		switch scan {
		case FieldFound:
			if !Valid(v) {
				t.Fatalf("Field(%q, %q) found invalid JSON %q", obj, name, v)
			}
			if valid {
				if _, ok := m[name]; !ok {
					t.Fatalf("Field(%q, %q) found %q, encoding/json has no such member", obj, name, v)
				}
			}
		case FieldAbsent:
			// Field reads the object and no further: what follows it is
			// not its business.
			var first map[string]json.RawMessage
			if err := json.NewDecoder(bytes.NewReader(obj)).Decode(&first); err != nil || first == nil {
				t.Fatalf("Field(%q, %q) = absent on what does not start with an object: %v", obj, name, err)
			}
			if _, ok := first[name]; ok {
				t.Fatalf("Field(%q, %q) = absent, encoding/json has the member", obj, name)
			}
		case FieldUnknown:
			if valid && limit <= 0 && !bytes.Contains(obj, []byte(`\`)) {
				t.Fatalf("Field(%q, %q) undecided on a valid object without escapes", obj, name)
			}
		}
	})
}
