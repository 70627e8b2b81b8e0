package postgres_test

import (
	"bytes"
	"encoding/json"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/cachetest"
)

// pgJSONString is a string as PostgreSQL's jsonb output writes it.
func pgJSONString(s string) string { return cachetest.JSONString(s, false) }

// jsonbText is the JSON text js as PostgreSQL's jsonb gives it back: an
// object's keys sorted by length, then by their bytes, a key given twice
// holding its last value; ": " and ", " between members and elements;
// numbers as numeric writes them (no exponent, the scale the text gave).
func jsonbText(js string) string {
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	var b strings.Builder
	jsonbValue(&b, dec)
	return b.String()
}

func jsonbValue(b *strings.Builder, dec *json.Decoder) {
	tok, err := dec.Token()
	if err != nil {
		panic(err)
	}
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '[' {
			b.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					b.WriteString(", ")
				}
				jsonbValue(b, dec)
			}
			dec.Token()
			b.WriteByte(']')
			return
		}
		members := map[string]string{}
		for dec.More() {
			k, _ := dec.Token()
			var v strings.Builder
			jsonbValue(&v, dec)
			members[k.(string)] = v.String() // the last wins
		}
		dec.Token()
		keys := make([]string, 0, len(members))
		for k := range members {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if len(keys[i]) != len(keys[j]) {
				return len(keys[i]) < len(keys[j])
			}
			return keys[i] < keys[j]
		})
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pgJSONString(k) + ": " + members[k])
		}
		b.WriteByte('}')
	case json.Number:
		b.WriteString(numericText(string(tok)))
	case string:
		b.WriteString(pgJSONString(tok))
	case bool:
		b.WriteString(strconv.FormatBool(tok))
	case nil:
		b.WriteString("null")
	}
}

// numericText is a JSON number as PostgreSQL's numeric writes it: without
// an exponent, with as many decimals as the text gave less its exponent.
func numericText(s string) string {
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		exp, _ = strconv.Atoi(s[i+1:])
	}
	scale := 0
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		scale = len(mant) - i - 1
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r.FloatString(max(0, scale-exp))
}

// float8Text is a double as PostgreSQL writes it: the shortest digits that
// read back the same, in exponent form below 1e-4 and from 1e15 on.
func float8Text(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(err)
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if f != 0 && (exp < -4 || exp >= 15) {
		return e
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// TestMetaAndColumnsExactly pins what a load writes, every column and
// _airbyte_meta to the byte, against what Go expects of each record (the
// DuckDB backend's test, the same cases). What PostgreSQL writes
// differently is its text of the same values: _airbyte_meta is jsonb,
// which PostgreSQL gives back with a space after each ":" and "," and its
// own escapes; a JSON column is jsonb too, so its keys come back sorted by
// length, a key given twice keeps its last value and numbers lose their
// exponent; a double is written without DuckDB's ".0"; a text column
// given another JSON value holds the text the source wrote, compacted,
// where DuckDB writes its own. And text and jsonb cannot hold a NUL: a
// value holding one is NULL with a note (NoNUL), where DuckDB keeps it.
func TestMetaAndColumnsExactly(t *testing.T) {
	t.Parallel()
	cachetest.MetaAndColumns(t, open, cachetest.MetaDialect{
		Column: func(col, kind string) string {
			if kind == "timestamptz" {
				col = "(" + col + " AT TIME ZONE 'UTC')"
			}
			return "CAST(" + col + " AS text)"
		},
		Meta:   "CAST(_airbyte_meta AS text)",
		String: pgJSONString,
		Colon:  ": ", Comma: ", ",
		NoNUL: true,
		Value: func(kind, js, want string) string {
			switch kind {
			case "number":
				return float8Text(want)
			case "json":
				return jsonbText(js)
			case "string":
				if js != "" && js[0] != '"' { // a JSON value's text, as the source wrote it
					var b bytes.Buffer
					if err := json.Compact(&b, []byte(js)); err != nil {
						panic(err)
					}
					return b.String()
				}
			}
			return want
		},
	})
}
