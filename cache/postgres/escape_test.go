package postgres

import (
	"encoding/json"
	"strings"
	"testing"
)

// holdsNUL reports whether a decoded JSON value holds a NUL in a string or
// a key.
func holdsNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.ContainsRune(v, 0)
	case []any:
		for _, e := range v {
			if holdsNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range v {
			if strings.ContainsRune(k, 0) || holdsNUL(e) {
				return true
			}
		}
	}
	return false
}

// escapesNUL says of valid JSON what decoding it says: whether a string or
// a key holds a NUL.
func FuzzEscapesNUL(f *testing.F) {
	for _, s := range []string{`"\u0000"`, `"\\u0000"`, `"\\\u0000"`, `"\\\\u0000"`, `{"a\u0000":1}`, `["\"\u0000"]`,
		`"\u00000"`, `"\\"`, `"a\\"`, `"\n\u0000"`, `"\/u0000"`, `["u0000"]`, `"\u0001"`, `{"k":"C:\\u0000x"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, js string) {
		var v any
		if json.Unmarshal([]byte(js), &v) != nil {
			return
		}
		if got, want := escapesNUL([]byte(js)), holdsNUL(v); got != want {
			t.Errorf("escapesNUL(%s) = %v, want %v", js, got, want)
		}
	})
}
