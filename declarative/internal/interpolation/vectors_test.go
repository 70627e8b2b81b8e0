package interpolation

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/shareddata"
)

// sharedManifests is the data set of real manifests and what the Python CDK made of them.
func sharedManifests(t testing.TB) string { return shareddata.Need(t, "manifests") }

type vectorFile struct {
	Now     string          `json:"now"`
	Context json.RawMessage `json:"context"`
	Vectors []struct {
		Expression string          `json:"expression"`
		Rendered   *string         `json:"rendered"`
		Value      json.RawMessage `json:"value"`
		ValueType  string          `json:"value_type"`
		ValueRepr  string          `json:"value_repr"`
		Error      *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"vectors"`
}

// vectorVars builds the context the vectors were recorded with: config, then the other keys as
// keyword arguments.
func vectorVars(t testing.TB, raw json.RawMessage, now time.Time) *Vars {
	ctx, err := DecodeJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	vs := &Vars{Now: func() time.Time { return now }}
	for k, v := range ctx.(*Dict).All() {
		vs.SetName(k.(string), v)
	}
	return vs
}

func loadVectors(t testing.TB) *vectorFile {
	data, err := os.ReadFile(filepath.Join(sharedManifests(t), "interpolation", "vectors.json"))
	if err != nil {
		t.Skipf("no vectors: %v", err)
	}
	var vf vectorFile
	if err := json.Unmarshal(data, &vf); err != nil {
		t.Fatal(err)
	}
	return &vf
}

// pyTypeName is the Python type name the recorder wrote for a value.
func pyTypeName(v Value) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	}
	return typeName(v)
}

// TestVectors checks every vector recorded from the CDK: the rendered text, the final value
// with its Python type, and the exception where the CDK raised one.
func TestVectors(t *testing.T) {
	vf := loadVectors(t)
	now, err := time.Parse(time.RFC3339, vf.Now)
	if err != nil {
		t.Fatal(err)
	}
	if len(vf.Vectors) < 100 {
		t.Fatalf("only %d vectors", len(vf.Vectors))
	}
	for i, vec := range vf.Vectors {
		vs := vectorVars(t, vf.Context, now)
		tmpl, cerr := Compile(vec.Expression)
		if vec.Error != nil {
			var err error = cerr
			if cerr == nil {
				_, err = tmpl.Eval(vs)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("#%d %q: err = %v, want %s", i, vec.Expression, err, vec.Error.Type)
				continue
			}
			// The recorder cut long messages; the undeclared-variable message ends with the
			// context's repr, whose key order follows the caller's keyword arguments.
			want := vec.Error.Message
			if k := strings.Index(want, "Context: "); k >= 0 {
				want = want[:k+len("Context: ")]
			}
			if e.Type != vec.Error.Type || !strings.HasPrefix(e.Message, want) {
				t.Errorf("#%d %q: err = %s: %s\nwant %s: %s", i, vec.Expression, e.Type, e.Message, vec.Error.Type, vec.Error.Message)
			}
			continue
		}
		if cerr != nil {
			t.Errorf("#%d %q: compile: %v", i, vec.Expression, cerr)
			continue
		}
		// rendered: what Jinja printed (null when rendering raised).
		got, rerr := tmpl.cdkRender(vs)
		if vec.Rendered == nil {
			if rerr == nil {
				t.Errorf("#%d %q: rendered %q, want an exception", i, vec.Expression, got)
			}
		} else if rerr != nil || got != *vec.Rendered {
			t.Errorf("#%d %q: rendered %q (%v), want %q", i, vec.Expression, got, rerr, *vec.Rendered)
		}
		v, err := tmpl.Eval(vs)
		if err != nil {
			t.Errorf("#%d %q: eval: %v", i, vec.Expression, err)
			continue
		}
		want, err := DecodeJSON(vec.Value)
		if err != nil {
			t.Fatal(err)
		}
		if pyTypeName(v) != vec.ValueType || !Equal(jsonShape(v), want) || !sameKinds(v, want) {
			t.Errorf("#%d %q: value %s (%s), want %s (%s)", i, vec.Expression, Repr(v), pyTypeName(v), vec.Value, vec.ValueType)
		}
		if vec.ValueRepr != "" && Repr(v) != vec.ValueRepr {
			t.Errorf("#%d %q: repr %s, want %s", i, vec.Expression, Repr(v), vec.ValueRepr)
		}
	}
}

// jsonShape turns tuples into lists, as the recorder's JSON did.
func jsonShape(v Value) Value {
	switch x := v.(type) {
	case Tuple:
		out := make([]Value, len(x))
		for i, e := range x {
			out[i] = jsonShape(e)
		}
		return out
	case []Value:
		out := make([]Value, len(x))
		for i, e := range x {
			out[i] = jsonShape(e)
		}
		return out
	case *Dict:
		d := NewDict(x.Len())
		for k, e := range x.All() {
			_ = d.put(k, jsonShape(e))
		}
		return d
	}
	return v
}

// sameKinds makes Equal strict about int versus float versus bool, which Python's == is not.
func sameKinds(a, b Value) bool {
	switch x := a.(type) {
	case bool, int64, float64:
		return typeName(a) == typeName(b)
	case Tuple:
		return sameKinds([]Value(x), b)
	case []Value:
		y, ok := b.([]Value)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameKinds(x[i], y[i]) {
				return false
			}
		}
	case *Dict:
		y, ok := b.(*Dict)
		if !ok {
			return false
		}
		for i := range x.keys {
			yv, _, _ := y.getAny(x.keys[i])
			if !sameKinds(x.vals[i], yv) {
				return false
			}
		}
	}
	return true
}
