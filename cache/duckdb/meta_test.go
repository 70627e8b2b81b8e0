package duckdb_test

import (
	"testing"

	"github.com/x/goairbyte/internal/cachetest"
)

// duckJSONString is a string as DuckDB's to_json writes it.
func duckJSONString(s string) string { return cachetest.JSONString(s, true) }

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
