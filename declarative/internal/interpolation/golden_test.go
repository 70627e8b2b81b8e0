package interpolation

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// golden.json holds what Jinja2 and Python made of every template of the manifest corpus and
// of the probes in testdata/probes.txt, evaluated the way the CDK evaluates them (see
// testdata/golden.py, which wrote it).
type goldenFile struct {
	Now        string          `json:"now"`
	Context    json.RawMessage `json:"context"`
	Cases      []goldenCase    `json:"cases"`
	ContextOdd json.RawMessage `json:"context_odd"` // None, empty and oddly typed values
	CasesOdd   []goldenCase    `json:"cases_odd"`   // the corpus templates in that context
}

type goldenCase struct {
	Template string  `json:"template"`
	Rendered *string `json:"rendered"`
	Type     string  `json:"type"`
	Repr     string  `json:"repr"`
	Error    *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// goldenKnown lists the cases this evaluator does not reproduce, each with its reason.
var goldenKnown = map[string]string{
	"{{ config.get }}":                          "Python prints a bound method with its memory address",
	"{{ record.items }}":                        "Python prints a bound method with its memory address",
	"{{ response.data | map(attribute='id') }}": "Python prints a generator with its memory address",
	"{{ today_with_timezone('Nowhere/City') }}": "golden.py uses zoneinfo; the CDK's pytz raises UnknownTimeZoneError('Nowhere/City'), as this evaluator does",
	"{{ '1j' }}":                                "complex numbers have no place in the value model: the text stays a string",
	"{{ '{1, 2}' }}":                            "sets have no place in the value model: the text stays a string",
	"{{ 'set()' }}":                             "sets have no place in the value model: the text stays a string",
	"{{ \"b'x'\" }}":                            "bytes have no place in the value model: the text stays a string",
	"{{ '...' }}":                               "Ellipsis has no place in the value model: the text stays a string",
}

func TestGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var gf goldenFile
	if err := json.Unmarshal(data, &gf); err != nil {
		t.Fatal(err)
	}
	now, err := time.Parse(time.RFC3339, gf.Now)
	if err != nil {
		t.Fatal(err)
	}
	if len(gf.Cases) < 2000 || len(gf.CasesOdd) < 1000 {
		t.Fatalf("golden.json has %d + %d cases", len(gf.Cases), len(gf.CasesOdd))
	}
	for _, set := range []struct {
		name  string
		ctx   json.RawMessage
		cases []goldenCase
	}{{"cases", gf.Context, gf.Cases}, {"cases_odd", gf.ContextOdd, gf.CasesOdd}} {
		failed := 0
		for i, c := range set.cases {
			if reason, ok := goldenKnown[c.Template]; ok {
				t.Logf("%s #%d %q: not compared: %s", set.name, i, c.Template, reason)
				continue
			}
			fresh := func() *Vars { return vectorVars(t, set.ctx, now) }
			if msg := checkGolden(c, fresh); msg != "" {
				failed++
				if failed <= 60 {
					t.Errorf("%s #%d %q: %s", set.name, i, c.Template, msg)
				}
			}
		}
		if failed > 0 {
			t.Errorf("%s: %d of %d cases differ", set.name, failed, len(set.cases))
		}
	}
}

func checkGolden(c goldenCase, fresh func() *Vars) string {
	vs := fresh()
	tmpl, cerr := Compile(c.Template)
	if c.Error != nil {
		err := error(cerr)
		if cerr == nil {
			_, err = tmpl.Eval(vs)
		}
		var e *Error
		if !errors.As(err, &e) {
			return "no error, want " + c.Error.Type + ": " + c.Error.Message
		}
		want := c.Error.Message
		if k := strings.Index(want, "Context: "); k >= 0 {
			want = want[:k+len("Context: ")]
		}
		if e.Type != c.Error.Type || !strings.HasPrefix(e.Message, want) && !strings.HasPrefix(want, e.Message) {
			return "error " + e.Type + ": " + e.Message + "\n\twant " + c.Error.Type + ": " + c.Error.Message
		}
		return ""
	}
	if cerr != nil {
		return "compile: " + cerr.Error()
	}
	got, rerr := tmpl.cdkRender(vs)
	switch {
	case c.Rendered == nil:
		if rerr == nil && got != "" {
			return "rendered " + Repr(got) + ", want nothing (empty or undefined)"
		}
		if rerr != nil && !errors.Is(rerr, ErrUndefined) {
			return "render: " + rerr.Error()
		}
	case rerr != nil:
		return "render: " + rerr.Error()
	case got != *c.Rendered:
		return "rendered " + Repr(got) + "\n\twant     " + Repr(*c.Rendered)
	}
	v, err := tmpl.Eval(fresh())
	if err != nil {
		return "eval: " + err.Error()
	}
	if pyTypeName(v) != c.Type || Repr(v) != c.Repr {
		return "value " + Repr(v) + " (" + pyTypeName(v) + "), want " + c.Repr + " (" + c.Type + ")"
	}
	return ""
}

// TestGoldenDatetimes checks ParseDatetime and FormatDatetime against the CDK's DatetimeParser
// over the cursor formats of the corpus and assorted inputs.
func TestGoldenDatetimes(t *testing.T) {
	data, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var gf struct {
		Datetimes []struct {
			Format, Input, Parsed, Formatted string
			Error                            *struct{ Type, Message string }
		}
	}
	if err := json.Unmarshal(data, &gf); err != nil {
		t.Fatal(err)
	}
	if len(gf.Datetimes) == 0 {
		t.Fatal("no datetime cases")
	}
	for _, c := range gf.Datetimes {
		got, err := ParseDatetime(c.Format, c.Input)
		if c.Error != nil {
			var e *Error
			if !errors.As(err, &e) || e.Type != c.Error.Type && !(c.Error.Type == "ValueError" && e.Type == "ValueError") || e.Message != c.Error.Message {
				t.Errorf("ParseDatetime(%q, %q) = %v, %v; want %s: %s", c.Format, c.Input, got, err, c.Error.Type, c.Error.Message)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDatetime(%q, %q): %v", c.Format, c.Input, err)
			continue
		}
		if iso := string(newAware(got).appendISO(nil, 'T')); iso != c.Parsed {
			t.Errorf("ParseDatetime(%q, %q) = %s, want %s", c.Format, c.Input, iso, c.Parsed)
		}
		if f := FormatDatetime(c.Format, got); f != c.Formatted {
			t.Errorf("FormatDatetime(%q, %s) = %q, want %q", c.Format, c.Parsed, f, c.Formatted)
		}
	}
}
