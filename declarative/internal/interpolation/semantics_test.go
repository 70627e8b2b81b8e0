package interpolation

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)

// testVars is a context with config, parameters, stream_slice and record set.
func testVars(t testing.TB) *Vars {
	vs := &Vars{Now: func() time.Time { return testNow }}
	for name, doc := range map[Var]string{
		VarConfig:      `{"start_date": "2024-01-02T03:04:05Z", "n": 5, "s": "a", "flag": true, "empty": ""}`,
		VarParameters:  `{"name": "users"}`,
		VarStreamSlice: `{"start_time": "2024-01-01T00:00:00Z", "id": 3}`,
		VarRecord:      `{"id": 7, "updated_at": "2024-01-05T00:00:00Z", "nested": {"k": [1, 2.0]}}`,
	} {
		v, err := DecodeJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		vs.Set(name, v)
	}
	return vs
}

func mustEval(t *testing.T, src string, vs *Vars) Value {
	t.Helper()
	v, err := mustCompile(src).Eval(vs)
	if err != nil {
		t.Fatalf("Eval(%q): %v", src, err)
	}
	return v
}

func TestEvalPythonSemantics(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"{{ config.n == 5.0 }}", "True"},                                 // 1 == 1.0
		{"{{ 'x' ~ config.flag }}", "'xTrue'"},                            // str(True)
		{"{{ [config.flag, none] }}", "[True, None]"},                     // repr inside containers
		{"{{ 1.0 }}", "1.0"},                                              // float repr
		{"{{ 'x' ~ 1e16 }}", "'x1e+16'"},                                  // float repr, exponent
		{"{{ '%05.2f|%s|%r' % (3.14159, 'a', 'a') }}", "\"03.14|a|'a'\""}, // % formatting
		{"{{ config.n + 's' }}", "\"{{ config.n + 's' }}\""},              // TypeError: the source comes back
		{"{{ config.n < 'a' }}", "\"{{ config.n < 'a' }}\""},              // ordering TypeError, same
		{"{{ record.nested.k[-1] }}", "2.0"},                              // attribute falls back to item
		{"{{ config.missing.deeper }}", "None"},                           // UndefinedError: the default
		{"{{ config.empty or 'x' }}", "'x'"},                              // or returns an operand
		{"{{ '001' }}", "'001'"},                                          // not a literal: stays a string
		{"{{ '2024-01-01' }}", "'2024-01-01'"},
		{"{{ '[1, 2]' }}", "[1, 2]"},
		{"{{ 'None' }}", "None"},
		{"{{ (now_utc() - duration('P1M')).isoformat() }}", "'2024-12-15T12:00:00+00:00'"},
		{"{{ format_datetime(config.start_date, '%s') }}", "1704164645"},
		{`{{ 'n=\u0663\x0b;' | regex_search('=(\d)\s') }}`, "'\u0663'"}, // Python's \d and \s are Unicode
	} {
		if got := Repr(mustEval(t, c.src, testVars(t))); got != c.want {
			t.Errorf("%s = %s, want %s", c.src, got, c.want)
		}
	}
}

func TestVarsPresence(t *testing.T) {
	tmpl := mustCompile("{{ stream_state }}")
	vs := testVars(t)
	_, err := tmpl.Eval(vs)
	if err == nil || !strings.HasPrefix(err.Error(), "ValueError: Jinja macro has undeclared variables: {'stream_state'}. Context: {'config': ") {
		t.Fatalf("unset variable: err = %v", err)
	}
	vs.Set(VarStreamState, nil)
	if v, err := tmpl.Eval(vs); err != nil || v != nil {
		t.Fatalf("variable set to None: %v, %v", v, err)
	}
	if got, _ := tmpl.Render(vs); got != "None" {
		t.Fatalf("Render = %q, want None", got)
	}
	vs.Unset(VarStreamState)
	if _, err := tmpl.Eval(vs); err == nil {
		t.Fatal("Unset did not remove the variable")
	}
	// The aliases of stream_slice exist exactly when it does.
	alias := mustCompile("{{ stream_interval.id }}-{{ stream_partition.id }}")
	if v := mustEval(t, alias.Source(), vs); v != "3-3" {
		t.Fatalf("aliases = %v", v)
	}
	vs.Unset(VarStreamSlice)
	if _, err := alias.Eval(vs); err == nil {
		t.Fatal("aliases defined without stream_slice")
	}
}

func TestNoClock(t *testing.T) {
	vs := testVars(t)
	vs.Now = nil
	_, err := mustCompile("{{ now_utc() }}").Eval(vs)
	var e *Error
	if !errors.As(err, &e) || e.Type != "RuntimeError" {
		t.Fatalf("err = %v", err)
	}
}

func TestErrorKinds(t *testing.T) {
	_, err := Compile("{{ 01 }}")
	if !errors.Is(err, ErrSyntax) {
		t.Errorf("syntax: %v", err)
	}
	_, err = Compile("{{ x | nosuchfilter }}")
	if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "No filter named 'nosuchfilter'") {
		t.Errorf("unknown filter: %v", err)
	}
	_, err = mustCompile("{{ config.missing.deeper }}").Render(testVars(t))
	if !errors.Is(err, ErrUndefined) || err.Error() != "UndefinedError: 'dict object' has no attribute 'missing'" {
		t.Errorf("undefined: %v", err)
	}
	_, err = mustCompile("{{ config.n + 's' }}").Render(testVars(t))
	if !errors.Is(err, ErrType) {
		t.Errorf("type: %v", err)
	}
	_, err = mustCompile("{{ 1 / 0 }}").Eval(testVars(t))
	if !errors.Is(err, ErrEval) || err.Error() != "ZeroDivisionError: division by zero" {
		t.Errorf("eval: %v", err)
	}
}

func TestString(t *testing.T) {
	s, err := NewString("{{ config.missing }}", "")
	if err != nil {
		t.Fatal(err)
	}
	// The default is the string itself, which renders "" again: literal_eval fails, "" stays.
	if v, err := s.Eval(testVars(t)); err != nil || v != "" {
		t.Errorf("empty with itself as default: %#v, %v", v, err)
	}
	s, _ = NewString("{{ config.missing }}", "{{ config.n }}")
	if v, _ := s.Eval(testVars(t)); v != int64(5) {
		t.Errorf("default: %#v", v)
	}
	// An UndefinedError in the default (the string itself) is not caught a second time.
	s, _ = NewString("{{ config.missing.deeper }}", "")
	if _, err := s.Eval(testVars(t)); !errors.Is(err, ErrUndefined) {
		t.Errorf("undefined twice: %v", err)
	}
	// A first value equal to the source marks a plain string: later evaluations skip Jinja,
	// as the CDK's _is_plain_string does, even when the context would now render.
	src := "{{ config.n + config.s }}"
	s, _ = NewString(src, "")
	if v, _ := s.Eval(testVars(t)); v != src {
		t.Fatalf("TypeError: %#v", v)
	}
	vs := testVars(t)
	cfg, _ := DecodeJSON([]byte(`{"n": "x", "s": "y"}`))
	vs.Set(VarConfig, cfg)
	if v, _ := s.Eval(vs); v != src {
		t.Errorf("plain string cache: %#v, want the source", v)
	}
	s, _ = NewString("42", "")
	if v, _ := s.Eval(testVars(t)); v != int64(42) {
		t.Errorf("plain text is literal-evaluated: %#v", v)
	}
}

func TestBoolean(t *testing.T) {
	for src, want := range map[string]bool{
		"{{ 'false' }}": false, "{{ 'False' }}": false, "{{ 0 }}": false, "{{ 0.0 }}": false,
		"{{ [] }}": false, "{{ {} }}": false, "{{ () }}": false, "{{ '' }}": false,
		"{{ config.missing }}": false, "{{ None }}": true, "{{ 'no' }}": true, "{{ [0] }}": true,
		"{{ config.flag }}": true, "{{ record.updated_at >= stream_slice.start_time }}": true,
		"{{ config.missing.deeper }}": false, "{{ -0.0 }}": false, "{{ 2 }}": true,
	} {
		b, err := NewBoolean(src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := b.Eval(testVars(t))
		if err != nil || got != want {
			t.Errorf("%s = %v (%v), want %v", src, got, err, want)
		}
	}
}

func TestMappings(t *testing.T) {
	src, _ := DecodeJSON([]byte(`{"{{ parameters.name }}_id": "{{ stream_slice.id }}", "n": 5, "{{ 1 }}": "{{ 'x' }}", "s": "{{ config.s }}"}`))
	m, err := NewMapping(src.(*Dict))
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Eval(testVars(t), TypeStr, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r := Repr(got); r != "{'users_id': 3, 'n': 5, '1': 'x', 's': 'a'}" {
		t.Errorf("Mapping = %s", r)
	}
	got, _ = m.Eval(testVars(t), TypeStr, TypeStr)
	if r := Repr(got); r != "{'users_id': '3', 'n': 5, '1': 'x', 's': 'a'}" {
		t.Errorf("Mapping with string values = %s", r)
	}
	nsrc, _ := DecodeJSON([]byte(`{"a": {"{{ 'k' }}": "{{ config.n }}", "gone": "{{ config.missing }}", "none": null}, "l": ["{{ 1 + 1 }}", 3, {"x": "{{ None }}"}], "{{ 2 }}": "two"}`))
	nm, err := NewNestedMapping(nsrc)
	if err != nil {
		t.Fatal(err)
	}
	nv, err := nm.Eval(testVars(t))
	if err != nil {
		t.Fatal(err)
	}
	if r := Repr(nv); r != "{'a': {'k': 5}, 'l': [2, 3, {}], 2: 'two'}" {
		t.Errorf("NestedMapping = %s", r)
	}
}

func TestEvalValidTypes(t *testing.T) {
	tmpl := mustCompile("{{ config.n }}")
	for typ, want := range map[Types]Value{0: int64(5), TypeInt: int64(5), TypeStr: "5", TypeFloat: "5", TypeFloat | TypeInt: int64(5)} {
		if v, err := tmpl.EvalWith(testVars(t), EvalOptions{ValidTypes: typ}); err != nil || v != want {
			t.Errorf("valid %b: %#v, want %#v", typ, v, want)
		}
	}
	if v, _ := mustCompile("{{ config.flag }}").EvalWith(testVars(t), EvalOptions{ValidTypes: TypeInt}); v != true {
		t.Errorf("bool is an int for isinstance: %#v", v)
	}
}

func TestValueModel(t *testing.T) {
	d := NewDict(0)
	for i := range 40 {
		d.Set(string(rune('a'+i%26))+strings.Repeat("x", i/26), int64(i))
	}
	if v, ok := d.Get("z"); !ok || v != int64(25) {
		t.Errorf("indexed Get: %v %v", v, ok)
	}
	d.Delete("a")
	if d.Len() != 39 || d.keys[0] != "b" {
		t.Errorf("Delete kept order wrong: %v", d.keys[:2])
	}
	if v, ok := d.Get("bx"); !ok || v != int64(27) {
		t.Errorf("index after Delete: %v %v", v, ok)
	}
	for _, c := range []struct {
		a, b Value
		eq   bool
	}{
		{int64(1), 1.0, true}, {true, int64(1), true}, {"1", int64(1), false}, {nil, false, false},
		{[]Value{int64(1)}, []Value{1.0}, true}, {Tuple{int64(1)}, []Value{int64(1)}, false},
		{math.NaN(), math.NaN(), false},
	} {
		if Equal(c.a, c.b) != c.eq {
			t.Errorf("Equal(%s, %s) != %v", Repr(c.a), Repr(c.b), c.eq)
		}
	}
	for v, want := range map[string]bool{"": false, "0": true} {
		if Truthy(v) != want {
			t.Errorf("Truthy(%q)", v)
		}
	}
	if Truthy(NewDict(0)) || !Truthy([]Value{nil}) || Truthy(0.0) || !Truthy(int64(-1)) {
		t.Error("Truthy of containers and numbers")
	}
	orig, _ := DecodeJSON([]byte(`{"a": [{"b": 1}]}`))
	c := Copy(orig).(*Dict)
	inner, _ := c.Get("a")
	inner.([]Value)[0].(*Dict).Set("b", int64(2))
	if Repr(orig) != "{'a': [{'b': 1}]}" {
		t.Errorf("Copy shares: %s", Repr(orig))
	}
}

func TestJSON(t *testing.T) {
	in := `{"z":1,"a":[1.0,2.5,1e16,12345678901234567890123,-0.0,"é\u2028\ud83d\ude00\"\\",null,true],"m":{}}`
	v, err := DecodeJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := Repr(v); got != `{'z': 1, 'a': [1.0, 2.5, 1e+16, 12345678901234567890123, -0.0, 'é\u2028😀"\\', None, True], 'm': {}}` {
		t.Errorf("decoded %s", got)
	}
	out, err := EncodeJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"z":1,"a":[1.0,2.5,1e+16,12345678901234567890123,-0.0,"é` + "\u2028" + `😀\"\\",null,true],"m":{}}`; string(out) != want {
		t.Errorf("encoded %s\nwant    %s", out, want)
	}
	d := NewDict(0)
	_ = d.put(int64(1), Tuple{true})
	_ = d.put(nil, math.Inf(1))
	if _, err := EncodeJSON(d); err == nil {
		t.Error("infinity encoded")
	}
	_ = d.put(nil, 1.5)
	if out, _ := EncodeJSON(d); string(out) != `{"1":[true],"null":1.5}` {
		t.Errorf("non-string keys: %s", out)
	}
	for _, bad := range []string{`{"a":}`, `[1,]`, `01`, `"\x"`, `{"a" 1}`, `nul`, "\"a\x01\""} {
		if _, err := DecodeJSON([]byte(bad)); err == nil {
			t.Errorf("DecodeJSON(%q) accepted", bad)
		}
	}
	g, err := FromGo(map[string]any{"b": 2.0, "a": []any{1.5, "x", nil, true}})
	if err != nil || Repr(g) != "{'a': [1.5, 'x', None, True], 'b': 2}" {
		t.Errorf("FromGo = %s, %v", Repr(g), err)
	}
}

func TestDuration(t *testing.T) {
	d, err := ParseDuration("P1M")
	if err != nil {
		t.Fatal(err)
	}
	jan31 := time.Date(2024, 1, 31, 10, 0, 0, 0, time.UTC)
	if got, _ := d.AddTo(jan31); !got.Equal(time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("Jan 31 + P1M = %v", got)
	}
	if got, _ := d.SubFrom(time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Mar 31 - P1M = %v", got)
	}
	y, _ := ParseDuration("P1Y2DT1H")
	if got, _ := y.AddTo(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2025, 3, 2, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("Feb 29 2024 + P1Y2DT1H = %v", got)
	}
	if s := y.String(); s != "1 years, 2 days, 1:00:00" {
		t.Errorf("String = %q", s)
	}
	w, _ := ParseDuration("-PT1.5S")
	if w.Micros != -1500000 || w.String() != "-1 day, 23:59:58.500000" {
		t.Errorf("-PT1.5S = %v %q", w.Micros, w.String())
	}
	f, _ := ParseDuration("P1.5M")
	if _, err := f.AddTo(jan31); err == nil {
		t.Error("fractional months added")
	}
	if _, err := ParseDuration("1D"); err == nil {
		t.Error("1D parsed")
	}
}

func TestDatetimeHelpers(t *testing.T) {
	tm, err := ParseDatetime("%Y-%m-%dT%H:%M:%S.%f%z", "2024-01-02T03:04:05.123+0200")
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatDatetime("%Y-%m-%dT%H:%M:%S.%f%z", tm); got != "2024-01-02T03:04:05.123000+0200" {
		t.Errorf("round trip %q", got)
	}
	if got := FormatDatetime("%ms", tm); got != "1704157445123" {
		t.Errorf("%%ms = %q", got)
	}
	naive, _ := ParseDatetime("%Y-%m-%d", "2024-01-02")
	if _, off := naive.Zone(); off != 0 || FormatDatetime("%Y-%m-%dT%H:%M:%S%z", naive) != "2024-01-02T00:00:00+0000" {
		t.Errorf("naive is UTC: %v", naive)
	}
	if _, err := ParseDatetime("%Y-%m-%d", "2024-02-30"); err == nil || err.Error() != "ValueError: day is out of range for month" {
		t.Errorf("Feb 30: %v", err)
	}
}

// TestConcurrentEval evaluates shared templates from several goroutines (run with -race).
func TestConcurrentEval(t *testing.T) {
	filter, _ := NewBoolean("{% set x = record.id %}{{ x > 5 and record.updated_at >= stream_slice.start_time }}")
	s, _ := NewString("{{ format_datetime(config.start_date, '%Y') ~ '-' ~ ('ab' | regex_search('(b)')) }}", "")
	done := make(chan error, 8)
	for range 8 {
		go func() {
			for range 200 {
				vs := testVars(t)
				ok, err := filter.Eval(vs)
				if err != nil || !ok {
					done <- errors.New("filter")
					return
				}
				if v, err := s.Eval(vs); err != nil || v != "2024-b" {
					done <- errors.New("string")
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// A duration longer than a time.Duration's 292 years is a timedelta all the
// same: P200000D wrapped around to a negative step, and days past
// timedelta's range parsed as zero or garbage instead of Python's
// OverflowError.
func TestDurationBeyondTimeDuration(t *testing.T) {
	d, err := ParseDuration("P200000D")
	if err != nil {
		t.Fatal(err)
	}
	jan1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// Python: datetime(2024, 1, 1) + timedelta(days=200000), and minus
	// timedelta(days=200000, hours=1).
	if got, err := d.AddTo(jan1); err != nil || !got.Equal(time.Date(2571, 8, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("2024-01-01 + P200000D = %v, %v", got, err)
	}
	d, _ = ParseDuration("P200000DT1H")
	if got, err := d.SubFrom(jan1); err != nil || !got.Equal(time.Date(1476, 6, 1, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("2024-01-01 - P200000DT1H = %v, %v", got, err)
	}
	d, _ = ParseDuration("P4000000D")
	if got, err := d.AddTo(jan1); err == nil {
		t.Errorf("2024-01-01 + P4000000D = %v, want Python's OverflowError", got)
	}
	// isodate passes the days as a float, unsigned (the sign negates the
	// timedelta after): past a C int, Python's message is about that.
	for s, want := range map[string]string{
		"P1000000000D":           "days=1000000000; must have magnitude <= 999999999",
		"-P1000000000D":          "days=1000000000; must have magnitude <= 999999999",
		"P99999999999999999999D": "Python int too large to convert to C int",
	} {
		if d, err := ParseDuration(s); err == nil || err.Error() != "OverflowError: "+want {
			t.Errorf("ParseDuration(%q) = %v, %v; want Python's OverflowError: %s", s, d, err, want)
		}
	}
}

// A padding width beyond what the evaluator builds is a MemoryError, as a
// repeat or a format width is; cutting the string short would render a
// value Python never gives.
func TestPaddingTooWide(t *testing.T) {
	for _, src := range []string{
		"{{ 'a'.ljust(2000000) }}",
		"{{ 'a'.rjust(10000000000) }}",
		"{{ 'a'.center(2000000, '-') }}",
		"{{ '7'.zfill(2000000) }}",
		"{{ 'a' | center(2000000) }}",
	} {
		_, err := mustCompile(src).Render(testVars(t))
		if !errors.Is(err, ErrEval) || !strings.Contains(err.Error(), "MemoryError") {
			t.Errorf("%s: %v, want a MemoryError", src, err)
		}
	}
	if got := mustEval(t, "{{ 'a'.ljust(1048576) | length }}", testVars(t)); got != int64(1048576) {
		t.Errorf("the widest padding: length %v", got)
	}
}
