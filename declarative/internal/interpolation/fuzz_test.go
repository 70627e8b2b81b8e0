package interpolation

import (
	"encoding/json"
	"os"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzSeeds are the templates of golden.json: every template of the corpus and the probes.
func fuzzSeeds(f *testing.F) (json.RawMessage, []string) {
	data, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		f.Fatal(err)
	}
	var gf goldenFile
	if err := json.Unmarshal(data, &gf); err != nil {
		f.Fatal(err)
	}
	seeds := make([]string, len(gf.Cases))
	for i, c := range gf.Cases {
		seeds[i] = c.Template
	}
	return gf.Context, seeds
}

// FuzzTemplate compiles and evaluates arbitrary templates: errors are fine, panics are not.
func FuzzTemplate(f *testing.F) {
	ctx, seeds := fuzzSeeds(f)
	for _, s := range seeds {
		f.Add(s)
	}
	now := time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := Compile(src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Compile(%q): error of type %T: %v", src, err, err)
			}
			return
		}
		vs := vectorVars(t, ctx, now)
		_, _ = tmpl.Render(vs)
		vs = vectorVars(t, ctx, now)
		v, err := tmpl.Eval(vs)
		if err == nil {
			_ = Repr(v)
			_, _ = EncodeJSON(v)
		}
		b, err := NewBoolean(src)
		if err != nil {
			t.Fatalf("NewBoolean(%q) failed where Compile did not: %v", src, err)
		}
		_, _ = b.Eval(vectorVars(t, ctx, now))
	})
}

// FuzzLiteralEval parses arbitrary text as literal_eval: a result must print back to a text
// that parses to an equal value.
func FuzzLiteralEval(f *testing.F) {
	for _, s := range []string{"1", "-1.5e3", "'a'", "[1, (2,), {'a': None}]", "{1: 2}", "0x1F", "1_000", "'\\x41'", "r'\\d'", "(1,)", "True"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // a Python str is always text; rendered templates are valid UTF-8
		}
		v, ok, err := literalEval(s)
		if err != nil || !ok {
			return
		}
		again, ok, err := literalEval(Repr(v))
		if !ok || err != nil || !Equal(v, again) && Repr(v) != "nan" {
			t.Fatalf("literalEval(%q) = %s, whose repr parses to %s (%v, %v)", s, Repr(v), Repr(again), ok, err)
		}
	})
}

// FuzzDecodeJSON checks DecodeJSON against encoding/json's notion of valid JSON, that its strings
// are UTF-8 and that what it reads encodes back to the same value.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[1.5,"x",null,true]}`, "{\"\xff\": \"a\xc3\"}", "[\"\xe9\\n\"]", `[]`, `"\ud83d\ude00"`, `1e400`, `12345678901234567890`, `{"a":1,"a":2}`, `-0`, `0.1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeJSON(data)
		if err != nil {
			if json.Valid(data) && len(data) < 1000 {
				t.Fatalf("DecodeJSON(%q) failed on valid JSON: %v", data, err)
			}
			return
		}
		if s, ok := invalidUTF8(v); ok {
			t.Fatalf("DecodeJSON(%q) kept a string that is not UTF-8: %q", data, s)
		}
		out, err := EncodeJSON(v)
		if err != nil {
			return // NaN and infinities, which Python reads but JSON cannot hold
		}
		again, err := DecodeJSON(out)
		if err != nil || !Equal(v, again) {
			t.Fatalf("DecodeJSON(%q) = %s, encoded %s, decoded again %s (%v)", data, Repr(v), out, Repr(again), err)
		}
	})
}

// FuzzStrptimeFastPath keeps strptime's fast path honest: wherever it parses a text, the regular
// expression that decides otherwise must read the same datetime.
func FuzzStrptimeFastPath(f *testing.F) {
	for _, c := range [][2]string{
		{"%Y-%m-%dT%H:%M:%S.%f%z", "2024-01-02T03:04:05.123+0000"}, {"%Y-%m-%d", "2024-1-2"},
		{"%d/%m/%Y %H:%M", " 2/01/2024  3:04"}, {"%Y%m%d", "20240102"}, {"%y-%m-%dT%H:%M:%S%z", "24-12-31T23:59:61-05:30"},
		{"%Y-%m-%dT%H:%M:%SZ", "2024-02-29T00:00:00z"}, {"%Y-%m-%d %H:%M:%S.%f+00:00", "2024-01-02 03:04:05.000001+00:00"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, format, s string) {
		p := fastProgramFor(format)
		if p == nil {
			return
		}
		fast, ok := p.run(s)
		if !ok {
			return
		}
		slow, err := strptimeRegexp(s, format)
		if err != nil || !slow.t.Equal(fast.t) || slow.aware != fast.aware || slow.t.Location().String() != fast.t.Location().String() {
			t.Fatalf("%q with %q: fast %v (%v), regular expression %v (%v) %v", s, format, fast.t, fast.aware, slow.t, slow.aware, err)
		}
	})
}

// invalidUTF8 returns a string of v (keys included) that is not UTF-8.
func invalidUTF8(v Value) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, !utf8.ValidString(x)
	case []Value:
		for _, e := range x {
			if s, ok := invalidUTF8(e); ok {
				return s, true
			}
		}
	case *Dict:
		for i, k := range x.keys {
			if s, ok := invalidUTF8(k); ok {
				return s, true
			}
			if s, ok := invalidUTF8(x.vals[i]); ok {
				return s, true
			}
		}
	}
	return "", false
}
