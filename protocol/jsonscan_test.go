package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestValidatorNesting checks the validator's walk of nested values against
// encoding/json: around the 64 levels it keeps in one word, with objects and
// arrays mixed, and at encoding/json's depth limit, where both must agree.
func TestValidatorNesting(t *testing.T) {
	nest := func(n int, open, close, inner string) string {
		var b strings.Builder
		for i := range n {
			if i%2 == 0 {
				b.WriteString(open)
			} else {
				b.WriteString(`[`)
			}
		}
		b.WriteString(inner)
		for i := n - 1; i >= 0; i-- {
			if i%2 == 0 {
				b.WriteString(close)
			} else {
				b.WriteString(`]`)
			}
		}
		return b.String()
	}
	for _, n := range []int{1, 2, 63, 64, 65, 66, 127, 128, 129, 500, maxDepth - 1, maxDepth, maxDepth + 1} {
		for _, s := range []string{
			nest(n, `{"k":`, `}`, `1`),
			nest(n, `{"k":`, `}`, `[]`),
			nest(n, `{"k": `, ` , "z" : "y"}`, `{"a":[1,{"b":null}],"c":"d"}`),
			nest(n, `{"k":`, `}`, `1,`), // a trailing comma deep inside
			nest(n, `{"k":`, `]`, `1`),  // mismatched closers
			nest(n, `{"k":`, `}`, `"x`), // an unterminated string
		} {
			if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
				t.Errorf("depth %d: validJSON(%.80q...) = %v, encoding/json says %v", n, s, got, want)
			}
		}
	}
	// The data of a record sits two levels down: a record whose data
	// reaches encoding/json's limit must go to the slow path, which rejects
	// the line, and both paths agree.
	for _, extra := range []int{-1, 0, 1} {
		data := nest(maxDepth-2+extra, `{"k":`, `}`, `1`)
		line := []byte(`{"type":"RECORD","record":{"stream":"s","data":` + data + `,"emitted_at":1}}`)
		var fr fastRecord
		if got, want := scanRecordLine(line, &fr), json.Valid(line); got != want {
			t.Errorf("record data %d levels deep: fast path %v, encoding/json valid %v", maxDepth-2+extra, got, want)
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
