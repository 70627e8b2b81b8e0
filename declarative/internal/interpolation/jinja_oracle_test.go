package interpolation

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The differential test: every case is evaluated by this package and by testdata/jinja_oracle.py,
// which runs the CDK's pipeline with Debian's real Jinja2 3.1.2 and CPython, and the two must
// agree on the value (its Python type and repr) or on the exception class.

// oracleNow is the frozen clock of jinja_oracle.py.
var oracleNow = time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)

// oracleCase is one evaluation: a template in a named context, evaluated as mode says
// (render: Jinja's render alone; eval: JinjaInterpolation.eval; string: InterpolatedString;
// boolean: InterpolatedBoolean), with valid_types for eval.
type oracleCase struct {
	T     string   `json:"t"`
	Ctx   string   `json:"ctx"`
	Mode  string   `json:"mode"`
	Valid []string `json:"valid,omitempty"`
}

// oracleAnswer is a result: a value's Python type and repr, or an exception.
type oracleAnswer struct {
	Type  string `json:"type,omitempty"`
	Repr  string `json:"repr,omitempty"`
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func (a oracleAnswer) String() string {
	if a.Error != nil {
		return a.Error.Type + ": " + a.Error.Message
	}
	return a.Repr + " (" + a.Type + ")"
}

// jinjaOracle is a jinja_oracle.py process and the contexts defined in it.
type jinjaOracle struct {
	*pyOracle
	ctxs map[string]json.RawMessage
}

// startJinjaOracle starts jinja_oracle.py with the contexts of the cases defined.
func startJinjaOracle(t testing.TB, ctxs map[string]json.RawMessage) *jinjaOracle {
	o := &jinjaOracle{startPyOracle(t, "jinja_oracle.py", "jinja2", "dateutil", "isodate"), ctxs}
	for _, name := range slices.Sorted(maps.Keys(ctxs)) {
		o.send(t, map[string]any{"ctx": name, "value": ctxs[name]})
	}
	return o
}

var oracleTypes = map[string]Types{
	"str": TypeStr, "int": TypeInt, "float": TypeFloat, "bool": TypeBool, "NoneType": TypeNone,
	"list": TypeList, "tuple": TypeTuple, "dict": TypeDict,
}

// evalGo is the case evaluated by this package.
func evalGo(t testing.TB, c oracleCase, ctx json.RawMessage) (ans oracleAnswer) {
	defer func() {
		if r := recover(); r != nil {
			ans = oracleAnswer{Type: "panic", Repr: fmt.Sprint(r)}
		}
	}()
	vs := vectorVars(t, ctx, oracleNow)
	var v Value
	var err error
	switch c.Mode {
	case "render":
		var tmpl *Template
		if tmpl, err = Compile(c.T); err == nil {
			v, err = tmpl.Render(vs)
		}
	case "eval":
		var valid Types
		for _, n := range c.Valid {
			valid |= oracleTypes[n]
		}
		var tmpl *Template
		if tmpl, err = Compile(c.T); err == nil {
			v, err = tmpl.EvalWith(vs, EvalOptions{ValidTypes: valid})
		}
	case "string":
		var s *String
		if s, err = NewString(c.T, ""); err == nil {
			v, err = s.Eval(vs)
		}
	case "boolean":
		var b *Boolean
		if b, err = NewBoolean(c.T); err == nil {
			v, err = b.Eval(vs)
		}
	default:
		t.Fatalf("mode %q", c.Mode)
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return oracleAnswer{Type: "non-*Error", Repr: err.Error()}
		}
		ans.Error = &struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		}{e.Type, e.Message}
		return ans
	}
	return oracleAnswer{Type: pyTypeName(v), Repr: Repr(v)}
}

// oracleKnown lists the differences this evaluator keeps on purpose, each with its reason.
var oracleKnown = []struct {
	reason string
	match  func(c oracleCase, goAns, py oracleAnswer) bool
}{
	{"Python prints a bound method, generator or other object with its memory address",
		func(_ oracleCase, _, py oracleAnswer) bool { return strings.Contains(py.Repr, " at 0x") }},
	{"str.encode gives bytes, which have no place in the value model",
		func(c oracleCase, _, _ oracleAnswer) bool { return strings.Contains(c.T, ".encode(") }},
	{"tojson, safe and escape give Markup, a str here; Python's repr of one in a container is Markup('...')",
		func(_ oracleCase, _, py oracleAnswer) bool { return strings.Contains(py.Repr, "Markup(") }},
	{"sets, complex numbers, bytes and Ellipsis have no place in the value model: the text stays a string",
		func(_ oracleCase, _, py oracleAnswer) bool {
			return slices.Contains([]string{"set", "complex", "bytes", "ellipsis", "frozenset"}, py.Type)
		}},
	{"Jinja's compiler writes a folded float constant with repr(), so an infinity or NaN folded " +
		"inside an expression that is not constant as a whole becomes the name inf or nan, a " +
		"NameError when it runs; the evaluator keeps the value",
		func(_ oracleCase, _, py oracleAnswer) bool {
			return py.Error != nil && py.Error.Type == "NameError" &&
				(py.Error.Message == "name 'inf' is not defined" || py.Error.Message == "name 'nan' is not defined")
		}},
	{"literal_eval parses the whole text as Python, then converts it in order: an unhashable key " +
		"or set item met before a part that is no literal (a name, an operator) is a TypeError; the " +
		"evaluator parses literals only and keeps such a text as a string",
		func(c oracleCase, goAns, py oracleAnswer) bool {
			return c.Mode != "render" && py.Error != nil && py.Error.Type == "TypeError" &&
				strings.HasPrefix(py.Error.Message, "unhashable type") && goAns.Type == "str"
		}},
	{"Go's math.Pow is not glibc's pow: a float power may differ in its last bit " +
		"(3 ** 2.5 is ...894 here, ...896 in CPython)",
		func(c oracleCase, goAns, py oracleAnswer) bool {
			return strings.Contains(c.T, "**") && goAns.Error == nil && py.Error == nil &&
				goAns.Type == py.Type && nearFloats(goAns.Repr, py.Repr)
		}},
	{"a negative number to a fractional power is a complex number in Python, which goes on into " +
		"the arithmetic (or is printed); the evaluator has none and raises ValueError at the power",
		func(c oracleCase, goAns, _ oracleAnswer) bool {
			return strings.Contains(c.T, "**") && goAns.Error != nil && strings.Contains(goAns.Error.Message, "complex results")
		}},
}

// agree reports whether the two answers are the same: the same type and repr, or the same
// exception class with the same message (the undeclared-variable message up to the context's
// repr, whose key order follows the caller's keyword arguments).
func agree(goAns, py oracleAnswer) bool {
	if (goAns.Error == nil) != (py.Error == nil) {
		return false
	}
	if py.Error == nil {
		return goAns.Type == py.Type && goAns.Repr == py.Repr
	}
	return goAns.Error.Type == py.Error.Type
}

// oracleContexts are the contexts of the cases: golden.json's two (the corpus's names, with
// ordinary and with odd values) and gen, the generator's.
func oracleContexts(t testing.TB) map[string]json.RawMessage {
	data, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var gf goldenFile
	if err := json.Unmarshal(data, &gf); err != nil {
		t.Fatal(err)
	}
	return map[string]json.RawMessage{"rich": gf.Context, "odd": gf.ContextOdd, "gen": json.RawMessage(genContext)}
}

// runOracle evaluates the cases on both sides and reports every difference not known.
func runOracle(t testing.TB, o *jinjaOracle, cases []oracleCase) (differ, known int) {
	answers := askOracle[oracleCase, oracleAnswer](t, o.pyOracle, cases)
	for i, c := range cases {
		py := answers[i]
		goAns := evalGo(t, c, o.ctxs[c.Ctx])
		if agree(goAns, py) {
			continue
		}
		isKnown := false
		for _, k := range oracleKnown {
			if k.match(c, goAns, py) {
				isKnown = true
				break
			}
		}
		if isKnown {
			known++
			continue
		}
		differ++
		if differ <= 80 {
			t.Errorf("%s %s %q %v:\n\tgo     %v\n\tpython %v", c.Mode, c.Ctx, c.T, c.Valid, goAns, py)
		}
	}
	return differ, known
}

// TestJinjaOracle holds the evaluator to real Jinja2 and CPython: first the shared vectors
// (which validate the harness), then the corpus's templates in two contexts, then the
// generator's cases from a fixed seed (-jinja.oracle.cases and -jinja.oracle.seed run others).
func TestJinjaOracle(t *testing.T) {
	vf := loadVectors(t)
	ctxs := oracleContexts(t)
	ctxs["vectors"] = vf.Context
	o := startJinjaOracle(t, ctxs)
	var cases []oracleCase
	for _, v := range vf.Vectors {
		cases = append(cases, oracleCase{T: v.Expression, Ctx: "vectors", Mode: "eval"})
	}
	for _, s := range corpusTemplates(t) {
		for _, ctx := range []string{"rich", "odd"} {
			cases = append(cases, oracleCase{T: s, Ctx: ctx, Mode: "eval"})
		}
	}
	r := rand.New(rand.NewPCG(*jinjaOracleSeed, 2))
	for range *jinjaOracleCases {
		cases = append(cases, genCase(r))
	}
	differ, known := runOracle(t, o, cases)
	t.Logf("%d cases, %d differ, %d known differences", len(cases), differ, known)
}

// The generated cases of TestJinjaOracle: how many, from which seed.
var (
	jinjaOracleCases = flag.Int("jinja.oracle.cases", 1500, "generated cases of TestJinjaOracle")
	jinjaOracleSeed  = flag.Uint64("jinja.oracle.seed", 7, "seed of TestJinjaOracle's generated cases")
)

// FuzzJinjaOracle feeds the generator's seed, and a template of its own evaluated as it is:
// both are evaluated on both sides.
func FuzzJinjaOracle(f *testing.F) {
	o := startJinjaOracle(f, oracleContexts(f))
	for s := range uint64(8) {
		f.Add(s, s*7919, "{{ config.n + 1 }}")
	}
	f.Add(uint64(9), uint64(9), "{% if record.flag %}a{% endif %}")
	f.Fuzz(func(t *testing.T, s1, s2 uint64, tmpl string) {
		cases := []oracleCase{genCase(rand.New(rand.NewPCG(s1, s2)))}
		if utf8.ValidString(tmpl) && !strings.ContainsRune(tmpl, 0) { // JSON would change it on the way
			cases = append(cases, oracleCase{T: tmpl, Ctx: "gen", Mode: "eval"})
		}
		if differ, _ := runOracle(t, o, cases); differ > 0 {
			t.Fatalf("%d differences", differ)
		}
	})
}

// nearFloats reports whether two reprs differ only in float literals one or two units in the
// last place apart.
func nearFloats(a, b string) bool {
	fa, fb := floatLit.FindAllStringIndex(a, -1), floatLit.FindAllStringIndex(b, -1)
	if len(fa) != len(fb) || len(fa) == 0 {
		return false
	}
	var ra, rb strings.Builder
	last := [2]int{}
	for i := range fa {
		ra.WriteString(a[last[0]:fa[i][0]])
		rb.WriteString(b[last[1]:fb[i][0]])
		x, errx := strconv.ParseFloat(a[fa[i][0]:fa[i][1]], 64)
		y, erry := strconv.ParseFloat(b[fb[i][0]:fb[i][1]], 64)
		if errx != nil || erry != nil || math.Abs(x-y) > 2*(math.Nextafter(x, math.Inf(1))-x) {
			return false
		}
		last = [2]int{fa[i][1], fb[i][1]}
	}
	ra.WriteString(a[last[0]:])
	rb.WriteString(b[last[1]:])
	return ra.String() == rb.String()
}

var floatLit = regexp.MustCompile(`-?\d+\.\d+(?:e[-+]\d+)?`)
