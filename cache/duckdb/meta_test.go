package duckdb_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/cachetest"
)

// duckJSONString is a string as DuckDB's to_json writes it: ", \ and the
// control characters escaped (those without a short form as \u00XX in
// upper case), everything else as it is.
func duckJSONString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestMetaAndColumnsExactly pins what an INSERT writes, every column and
// _airbyte_meta to the byte, against what Go expects of each record: the
// meta expression is the costliest part of a small INSERT's SQL, and any
// cheaper form must give the same text. The meta is the JSON text the
// INSERT builds, compact, as to_json wrote it.
func TestMetaAndColumnsExactly(t *testing.T) {
	t.Parallel()
	cachetest.MetaAndColumns(t, open, cachetest.MetaDialect{
		Column: func(col, kind string) string {
			if kind == "timestamptz" {
				col = "timezone('UTC', " + col + ")"
			}
			return "CAST(" + col + " AS VARCHAR)"
		},
		Meta:   "CAST(_airbyte_meta AS VARCHAR)",
		String: duckJSONString,
		Colon:  ":", Comma: ",",
	})
}
