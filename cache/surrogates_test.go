package cache

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestReplaceLoneSurrogates(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":"plain"}`:                 `{"a":"plain"}`,
		`{"a":"x\udcff"}`:               `{"a":"x\ufffd"}`,
		`{"a":"\uD800"}`:                `{"a":"\ufffd"}`,
		`{"a":"\ud83d\ude00"}`:          `{"a":"\ud83d\ude00"}`,
		`{"a":"\ud800\u0041"}`:          `{"a":"\ufffd\u0041"}`,
		`{"a":"\udcff\ud800"}`:          `{"a":"\ufffd\ufffd"}`,
		`{"a":"\ud800\ud800\udc00"}`:    `{"a":"\ufffd\ud800\udc00"}`,
		`{"a":"a\\udcff"}`:              `{"a":"a\\udcff"}`,
		`{"a":"\"\udcff\n"}`:            `{"a":"\"\ufffd\n"}`,
		`{"\udcff":[1,{"b":"\ud800"}]}`: `{"\ufffd":[1,{"b":"\ufffd"}]}`,
		`{"a":"\u00e9\u2028\ud800"}`:    `{"a":"\u00e9\u2028\ufffd"}`,
		`{"a":"cut \ud800\u`:            `{"a":"cut \ufffd\u`,
	} {
		orig := []byte(in)
		got := string(replaceLoneSurrogates(orig))
		if got == "" {
			got = in
		}
		if got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
		if string(orig) != in {
			t.Errorf("%s: the input was changed", in)
		}
	}
}

// encoding/json decodes a lone surrogate escape as U+FFFD, as the cache
// stores it: for any valid JSON, the data before and after the
// replacement must decode alike, and the replacement must leave no escape
// a strict reader (DuckDB's) refuses.
func FuzzReplaceLoneSurrogates(f *testing.F) {
	for _, s := range []string{`"x\udcff"`, `["\ud83d\ude00","\ud800\u0041"]`, `{"\udcff":"a\\udcff"}`, `"\uD800\uDC00\uDBFF"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var before any
		if json.Unmarshal([]byte(in), &before) != nil {
			return
		}
		out := replaceLoneSurrogates([]byte(in))
		if out == nil {
			out = []byte(in)
		}
		var after any
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("%s became invalid: %s: %v", in, out, err)
		}
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("%s decodes to %v, its replacement %s to %v", in, before, out, after)
		}
		if again := replaceLoneSurrogates(out); again != nil {
			t.Fatalf("%s: a lone surrogate left in %s", in, out)
		}
	})
}
