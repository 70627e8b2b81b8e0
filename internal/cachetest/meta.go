package cachetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/protocol"
)

// MetaDialect is how one backend writes the text that MetaAndColumns
// compares: what Go expects of every record is the same on every backend,
// and only its spelling differs.
type MetaDialect struct {
	// Column is the SQL text of the column quoted (a quoted identifier) of
	// kind kind (see kindOf), read as text; a timestamptz in UTC.
	Column func(quoted, kind string) string
	// Meta is the SQL text of _airbyte_meta read as text.
	Meta string
	// String is s as a JSON string in the backend's text of JSON.
	String func(s string) string
	// Colon and Comma separate the members of the backend's text of a
	// JSON object, and Comma the elements of an array.
	Colon, Comma string
	// NoNUL says text and JSON columns cannot hold a NUL (U+0000):
	// PostgreSQL's text and jsonb refuse it, so a value holding one is
	// NULL with a note instead of failing its whole batch. DuckDB holds it.
	NoNUL bool
	// Value is the backend's text of the value js (JSON, not null) of a
	// column of kind kind, which DuckDB writes as want; nil if the backend
	// writes the same.
	Value func(kind, js, want string) string
}

// metaField is a declared field: its name and its JSON schema.
type metaField struct{ name, schema string }

// Schemas of the field types, one per column type.
const (
	sInt    = `{"type":"integer"}`
	sNum    = `{"type":"number"}`
	sBool   = `{"type":"boolean"}`
	sDate   = `{"type":"string","format":"date"}`
	sTS     = `{"type":"string","format":"date-time","airbyte_type":"timestamp_without_timezone"}`
	sTSTZ   = `{"type":"string","format":"date-time"}`
	sTime   = `{"type":"string","format":"time"}`
	sTimeTZ = `{"type":"string","format":"time","airbyte_type":"time_with_timezone"}`
	sStr    = `{"type":"string"}`
	sJSON   = `{"type":"object"}`
	sUnion  = `{"type":["string","integer"]}`
)

// kindOf is the kind of column of a field with JSON schema schema, as a
// MetaDialect is told it: integer, number, boolean, date, timestamp,
// timestamptz (a date-time with its zone), time, timetz, string or json.
func kindOf(schema string) string {
	switch schema {
	case sInt:
		return "integer"
	case sNum:
		return "number"
	case sBool:
		return "boolean"
	case sDate:
		return "date"
	case sTS:
		return "timestamp"
	case sTSTZ:
		return "timestamptz"
	case sTime:
		return "time"
	case sStr:
		return "string"
	case sTimeTZ:
		return "timetz"
	}
	return "json"
}

// metaCell is one field of a record: the JSON value written (absent when
// js is ""), and the column's text as Go expects it, or that the value
// does not convert (NULL with a note).
type metaCell struct {
	js   string
	want string
	fail bool
	nul  bool
}

func ok(js, want string) metaCell { return metaCell{js: js, want: want} }
func bad(js string) metaCell      { return metaCell{js: js, fail: true} }

// nul is a cell whose value holds a NUL, which DuckDB's text and JSON hold
// and PostgreSQL's do not (see MetaDialect.NoNUL).
func nul(js, want string) metaCell { return metaCell{js: js, want: want, nul: true} }

// deepJSON is v at the bottom of arrays nested deeper than fastjson parses
// (its MaxDepth, 300).
func deepJSON(v string) string { return strings.Repeat("[", 310) + v + strings.Repeat("]", 310) }

var (
	null   = metaCell{js: "null", want: "NULL"}
	absent = metaCell{want: "NULL"}
)

// metaRecord is a record: its cells in the fields' order, and the changes
// the source reported in its meta.
type metaRecord struct {
	cells   []metaCell
	changes []protocol.RecordMetaChange
	// extra are members of the data that no field declares.
	extra string
}

// wantMeta is _airbyte_meta as the cache documents it: the source's
// changes, then a NULLED DESTINATION_TYPECAST_ERROR note for each field,
// in the fields' order, whose value was there and did not convert; a NUL
// in a field's name is U+FFFD.
func (d MetaDialect) wantMeta(fields []metaField, r metaRecord) string {
	var notes []string
	note := func(field, change, reason string) {
		notes = append(notes, `{"field"`+d.Colon+d.String(strings.ReplaceAll(field, "\x00", "\uFFFD"))+
			d.Comma+`"change"`+d.Colon+d.String(change)+d.Comma+`"reason"`+d.Colon+d.String(reason)+`}`)
	}
	for _, c := range r.changes {
		note(c.Field, string(c.Change), string(c.Reason))
	}
	for i, c := range r.cells {
		if c.fail || c.nul && d.NoNUL {
			note(fields[i].name, "NULLED", "DESTINATION_TYPECAST_ERROR")
		}
	}
	return `{"changes"` + d.Colon + `[` + strings.Join(notes, d.Comma) + `]}`
}

// MetaAndColumns pins what a load writes, every column and _airbyte_meta
// to the byte, against what Go expects of each record: the source's
// changes, each type's cast failures, names with quotes, NUL and control
// characters, names like the meta key of DuckDB's INSERT, undeclared
// members named like it, 300 columns.
func MetaAndColumns(t *testing.T, open Opener, d MetaDialect) {
	typed := []metaField{{"i", sInt}, {"n", sNum}, {"b", sBool}, {"d", sDate}, {"ts", sTS}, {"tz", sTSTZ}, {"tm", sTime}, {"s", sStr}, {"j", sJSON}, {"u", sUnion}}
	good := []metaCell{ok(`5`, "5"), ok(`1.5`, "1.5"), ok(`true`, "true"), ok(`"2024-02-29"`, "2024-02-29"), ok(`"2024-01-01T10:00:00"`, "2024-01-01 10:00:00"),
		ok(`"2024-01-01T10:00:00+02:00"`, "2024-01-01 08:00:00"), ok(`"10:30:00"`, "10:30:00"), ok(`"hello"`, "hello"), ok(`{"a":[1,2]}`, `{"a":[1,2]}`), ok(`7`, "7")}
	with := func(base []metaCell, at map[int]metaCell) []metaCell {
		out := append([]metaCell(nil), base...)
		for i, c := range at {
			out[i] = c
		}
		return out
	}
	nulled := func(field string) protocol.RecordMetaChange {
		return protocol.RecordMetaChange{Field: field, Change: protocol.ChangeNulled, Reason: protocol.ReasonSourceSerializationError}
	}
	truncated := func(field string) protocol.RecordMetaChange {
		return protocol.RecordMetaChange{Field: field, Change: protocol.ChangeTruncated, Reason: protocol.ReasonSourceFieldSizeLimitation}
	}
	odd := []metaField{{`q"uote`, sInt}, {"sp ace", sNum}, {"ünï", sBool}, {"a\x00b", sInt}, {"new\nline", sDate}, {`back\slash`, sTSTZ}, {"ctl\x01", sInt}, {"ctl2\x1f", sInt}}

	wide := make([]metaField, 300)
	wideGood := make([]metaCell, 300)
	wideBad := make([]metaCell, 300)
	for i := range wide {
		switch i % 5 {
		case 0:
			wide[i], wideGood[i], wideBad[i] = metaField{fmt.Sprintf("i%03d", i), sInt}, ok(fmt.Sprint(i), fmt.Sprint(i)), ok(fmt.Sprint(-i), fmt.Sprint(-i))
		case 1:
			wide[i], wideGood[i], wideBad[i] = metaField{fmt.Sprintf("n%03d", i), sNum}, ok(`0.25`, "0.25"), null
		case 2:
			wide[i], wideGood[i], wideBad[i] = metaField{fmt.Sprintf("d%03d", i), sDate}, ok(`"1999-12-31"`, "1999-12-31"), absent
		default:
			wide[i], wideGood[i], wideBad[i] = metaField{fmt.Sprintf("s%03d", i), sStr}, ok(`"v"`, "v"), ok(`"w"`, "w")
		}
	}
	for _, i := range []int{0, 1, 2, 150, 295, 297} {
		wideBad[i] = bad(`"oops"`)
	}
	wideBad[3] = ok(`"oops"`, "oops") // a string column takes anything

	cases := []struct {
		name    string
		fields  []metaField
		records []metaRecord
	}{
		{"clean", typed, []metaRecord{
			{cells: good},
			{cells: with(good, map[int]metaCell{0: ok(`-0`, "0"), 1: ok(`-2`, "-2.0"), 2: ok(`false`, "false"), 7: ok(`12`, "12"), 9: ok(`"x"`, `"x"`)})},
			{cells: []metaCell{null, null, null, null, null, null, null, null, null, null}},
			{cells: []metaCell{absent, absent, absent, absent, absent, absent, absent, absent, absent, absent}},
			{cells: good, changes: []protocol.RecordMetaChange{}},
		}},
		{"source changes", typed, []metaRecord{
			{cells: good, changes: []protocol.RecordMetaChange{nulled("j")}},
			{cells: with(good, map[int]metaCell{9: null}), changes: []protocol.RecordMetaChange{truncated("s"), nulled("u"), nulled("not declared")}},
			{cells: good, extra: `"_airbyte_source_meta":[{"field":"fake","change":"NULLED","reason":"X"}]`, changes: []protocol.RecordMetaChange{nulled("i")}},
			{cells: good, extra: `"_airbyte_source_meta":[{"field":"fake","change":"NULLED","reason":"X"}]`},
			{cells: good, extra: `"_airbyte_source_met\u0061":[{"field":"fake","change":"NULLED","reason":"X"}]`},
			{cells: good, extra: `"_airbyte_source_meta":"not a list"`},
			{cells: good, extra: `"_AIRBYTE_Source_Meta":[{"field":"fake2","change":"NULLED","reason":"X"}]`},
			// Changes and reasons the protocol does not list, and empty ones,
			// are kept as the source wrote them.
			{cells: good, changes: []protocol.RecordMetaChange{{Field: "", Change: "WEIRD", Reason: "ü\"\\\u2028"}, {Field: "x.y[0]", Change: "", Reason: ""}}},
		}},
		{"casts", typed, []metaRecord{
			{cells: with(good, map[int]metaCell{0: bad(`6.5`)})},
			{cells: with(good, map[int]metaCell{0: bad(`"x"`)})},
			{cells: with(good, map[int]metaCell{0: bad(`9223372036854775808`)})},
			{cells: with(good, map[int]metaCell{0: bad(`true`)})},
			{cells: with(good, map[int]metaCell{1: bad(`"many"`)})},
			{cells: with(good, map[int]metaCell{1: bad(`1e400`)})},
			{cells: with(good, map[int]metaCell{2: bad(`"maybe"`)})},
			{cells: with(good, map[int]metaCell{3: bad(`"yesterday"`)})},
			{cells: with(good, map[int]metaCell{3: bad(`"10000-01-01"`)})},
			{cells: with(good, map[int]metaCell{4: bad(`"nope"`)})},
			{cells: with(good, map[int]metaCell{4: bad(`"infinity"`)})},
			{cells: with(good, map[int]metaCell{5: bad(`"nope"`)})},
			{cells: with(good, map[int]metaCell{6: bad(`"25:99"`)})},
			{cells: with(good, map[int]metaCell{0: bad(`"x"`), 2: bad(`3`), 5: bad(`[1]`)})},
			{cells: []metaCell{bad(`1.5`), bad(`"n"`), bad(`"b"`), bad(`"d"`), bad(`"t"`), bad(`"z"`), bad(`"m"`), ok(`{}`, "{}"), ok(`[]`, "[]"), null}},
			{cells: good},
		}},
		{"both", typed, []metaRecord{
			{cells: with(good, map[int]metaCell{1: bad(`"many"`)}), changes: []protocol.RecordMetaChange{nulled("j")}},
			{cells: with(good, map[int]metaCell{0: bad(`0.5`), 6: bad(`"x"`)}), changes: []protocol.RecordMetaChange{truncated("s"), nulled("i")}},
		}},
		{"odd names", odd, []metaRecord{
			{cells: []metaCell{ok(`1`, "1"), ok(`2.5`, "2.5"), ok(`true`, "true"), ok(`4`, "4"), ok(`"2020-01-01"`, "2020-01-01"), ok(`"2020-01-01T00:00:00Z"`, "2020-01-01 00:00:00"), ok(`3`, "3"), ok(`4`, "4")}},
			{cells: []metaCell{bad(`"x"`), bad(`"y"`), bad(`"z"`), bad(`"w"`), bad(`"v"`), bad(`"u"`), bad(`"t"`), bad(`"s"`)}},
			{cells: []metaCell{bad(`"x"`), null, absent, bad(`1.5`), ok(`"2020-01-02"`, "2020-01-02"), null, absent, null},
				changes: []protocol.RecordMetaChange{nulled(`q"uote`), nulled("a\x00b"), truncated("ctl\x01"), nulled("ctl2\x1f"), nulled("new\nline"), nulled(`back\slash`)}},
		}},
		{"meta key", []metaField{{"id", sInt}, {"_airbyte_source_meta", sStr}, {"_AIRBYTE_SOURCE_META_", sInt}}, []metaRecord{
			{cells: []metaCell{ok(`1`, "1"), ok(`"a"`, "a"), ok(`2`, "2")}},
			{cells: []metaCell{ok(`2`, "2"), ok(`"b"`, "b"), bad(`"c"`)}, changes: []protocol.RecordMetaChange{nulled("_airbyte_source_meta")}},
			{cells: []metaCell{ok(`3`, "3"), ok(`[{"field":"f","change":"NULLED","reason":"R"}]`, `[{"field":"f","change":"NULLED","reason":"R"}]`), absent}},
		}},
		{"strings only", []metaField{{"s", sStr}, {"j", sJSON}, {"x", `{}`}}, []metaRecord{
			{cells: []metaCell{ok(`"a"`, "a"), ok(`{"k":1}`, `{"k":1}`), ok(`[1,"2"]`, `[1,"2"]`)}},
			{cells: []metaCell{ok(`1.5`, "1.5"), null, absent}, changes: []protocol.RecordMetaChange{truncated("s"), nulled("j")}},
			{cells: []metaCell{absent, absent, absent}},
		}},
		{"text and JSON", []metaField{{"s", sStr}, {"j", sJSON}, {"x", `{}`}, {"u", sUnion}}, []metaRecord{
			{cells: []metaCell{nul(`"a\u0000b"`, "a\x00b"), nul(`{"k":"a\u0000b"}`, `{"k":"a\u0000b"}`), nul(`["\u0000"]`, `["\u0000"]`), nul(`"a\u0000b"`, `"a\u0000b"`)}},
			{cells: []metaCell{nul(`"\\\u0000"`, "\\\x00"), nul(`{"a\u0000":1}`, `{"a\u0000":1}`), nul(`"\\\u0000"`, `"\\\u0000"`), ok(`"\\u0000"`, `"\\u0000"`)}},
			// A backslash written as \\ before u0000 is no NUL.
			{cells: []metaCell{ok(`"C:\\u0000x"`, `C:\u0000x`), ok(`{"p":"C:\\u0000x"}`, `{"p":"C:\\u0000x"}`), ok(`["\\\\u0000"]`, `["\\\\u0000"]`), ok(`"\\\\u0000"`, `"\\\\u0000"`)}},
			// Strings with control characters, quotes and backslashes, and
			// a DEL, as JSON values on their own.
			{cells: []metaCell{ok(`"a\u0001b"`, "a\x01b"), ok(`"a\u0001\u001fb\t"`, `"a\u0001\u001Fb\t"`), ok(`"q\"\u007f\\"`, `"q\"`+"\x7f"+`\\"`), ok(`"\u0007\u000b"`, `"\u0007\u000B"`)}},
			{cells: []metaCell{ok(`{ "k" : "\u0000" , "a":1}`, `{"k":"\u0000","a":1}`), ok(`{"b":1,"a":[ ],"a":2}`, `{"b":1,"a":[],"a":2}`),
				ok(`{"n":12345678901234567890123,"f":1.50,"e":1e2,"z":-0,"g":1.5E-1}`, `{"n":12345678901234567890123,"f":1.5,"e":100.0,"z":0,"g":0.15}`), ok(`{"a\u0001":"\u0002"}`, `{"a\u0001":"\u0002"}`)}},
			{cells: []metaCell{ok(`"\u00e9\/\u2028\ud83d\ude00"`, "é/\u2028😀"), ok(`"\u00e9\/\u2028"`, "\"é/\u2028\""), ok(`[1, 2]`, `[1,2]`), ok(`"\ud83d\ude00"`, `"😀"`)}},
			{cells: []metaCell{ok(`[1, 2]`, `[1,2]`), ok(`-0.0`, `-0.0`), ok(`0.1e1`, `1.0`), ok(`12345678901234567890`, `12345678901234567890`)}},
			// A text column given another JSON value holds its JSON text:
			// DuckDB's as its JSON writes it (a number as a double, escapes
			// it need not write decoded), PostgreSQL's as the source wrote
			// it, compacted.
			{cells: []metaCell{ok(`1.50`, "1.5"), ok(`"1.50"`, `"1.50"`), absent, absent}},
			{cells: []metaCell{ok(`1E2`, "100.0"), absent, absent, ok(`-0`, "0")}},
			{cells: []metaCell{ok(`-0`, "0"), absent, absent, ok(`true`, "true")}},
			{cells: []metaCell{ok(`true`, "true"), absent, absent, absent}},
			{cells: []metaCell{ok(`{"b":1, "a":[ 2 ]}`, `{"b":1,"a":[2]}`), absent, absent, absent}},
			{cells: []metaCell{ok(`0.12345678901234567890123`, "0.12345678901234568"), absent, absent, absent}},
			{cells: []metaCell{ok(`{"x":"\u00e9\u0001\/"}`, `{"x":"é\u0001/"}`), absent, absent, absent}},
			// A fraction in JSON is a double in DuckDB's JSON (its digits
			// beyond the 17th are rounded), and exact in PostgreSQL's jsonb
			// (numeric); integers are exact in both, however large.
			{cells: []metaCell{ok(`"0.12345678901234567890123"`, "0.12345678901234567890123"), ok(`{"x":0.12345678901234567890123}`, `{"x":0.12345678901234568}`),
				ok(`[12345678901234567890123.5,1e400]`, `[1.2345678901234568e22,1e400]`), ok(`[18446744073709551616,-9223372036854775809,9007199254740993]`, `[18446744073709551616,-9223372036854775809,9007199254740993]`)}},
		}},
		// Records nested deeper than fastjson parses (the PostgreSQL
		// backend's slower path).
		{"deep", []metaField{{"s", sStr}, {"j", sJSON}, {"i", sInt}, {"u", sUnion}}, []metaRecord{
			{cells: []metaCell{ok(deepJSON(`"C:\\u0000x"`), deepJSON(`"C:\\u0000x"`)), ok(deepJSON(`{"p":"C:\\u0000x"}`), deepJSON(`{"p":"C:\\u0000x"}`)), bad(`"x"`), ok(`"C:\\u0000x"`, `"C:\\u0000x"`)}},
			{cells: []metaCell{ok(`"a"`, "a"), nul(deepJSON(`"\u0000"`), deepJSON(`"\u0000"`)), ok(`1`, "1"), nul(`"\u0000"`, `"\u0000"`)}, changes: []protocol.RecordMetaChange{nulled("s")}},
			{cells: []metaCell{ok(`"a\u0001\u0007\u000b\"b"`, "a\x01\x07\x0b\"b"), ok(deepJSON(`1`), deepJSON(`1`)), bad(`"\u0001"`), ok(`"a\u0001\"b\udb40\udc01"`, `"a\u0001\"b`+"\U000E0001"+`"`)}},
			{cells: []metaCell{nul(`"a\u0000"`, "a\x00"), ok(deepJSON(`1`), deepJSON(`1`)), ok(`-0`, "0"), ok(`"\u00e9\ud83d\ude00"`, `"é😀"`)}},
		}},
		// Fractions of a second beyond the microsecond are cut, as
		// DuckDB's casts cut them: rounded, the last microsecond of 9999
		// would fall in the year 10000 and a time's in 24:00:00.
		{"times", []metaField{{"d", sDate}, {"ts", sTS}, {"tz", sTSTZ}, {"tm", sTime}}, []metaRecord{
			{cells: []metaCell{ok(`"2024-01-01T10:00:00.1234565Z"`, "2024-01-01"), ok(`"2024-01-01T10:00:00.1234565"`, "2024-01-01 10:00:00.123456"), ok(`"2024-01-01T10:00:00.1234565Z"`, "2024-01-01 10:00:00.123456"), ok(`"10:00:00.1234567"`, "10:00:00.123456")}},
			{cells: []metaCell{ok(`"9999-12-31T23:59:59.9999999Z"`, "9999-12-31"), ok(`"9999-12-31T23:59:59.9999999"`, "9999-12-31 23:59:59.999999"), ok(`"9999-12-31T23:59:59.9999999Z"`, "9999-12-31 23:59:59.999999"), ok(`"23:59:59.9999999"`, "23:59:59.999999")}},
			{cells: []metaCell{ok(`"1969-12-31"`, "1969-12-31"), ok(`"1969-12-31T23:59:59.9999999"`, "1969-12-31 23:59:59.999999"), ok(`"1999-12-31T23:59:59.123456789-05:30"`, "2000-01-01 05:29:59.123456"), ok(`"00:00:00.0000009"`, "00:00:00")}},
			// Without seconds, as both databases read them. A date-time
			// column holds the instant (read here in UTC), a timestamp
			// without zone the wall-clock time as written, its offset
			// dropped, on both backends.
			{cells: []metaCell{ok(`"2024-01-01 10:00"`, "2024-01-01"), ok(`"2024-01-01T10:00"`, "2024-01-01 10:00:00"), ok(`"2024-01-01 10:00"`, "2024-01-01 10:00:00"), ok(`"10:00"`, "10:00:00")}},
			{cells: []metaCell{ok(`"2024-01-01T23:00-0330"`, "2024-01-01"), ok(`"2024-01-01 10:00+02:00"`, "2024-01-01 10:00:00"), ok(`"2024-01-01T10:00-0330"`, "2024-01-01 13:30:00"), ok(`"10:00:00+0200"`, "10:00:00")}},
			{cells: []metaCell{ok(`"2024-01-01T10:00Z"`, "2024-01-01"), ok(`"2024-01-01 10:00+02"`, "2024-01-01 10:00:00"), ok(`"2024-01-01 10:00+02"`, "2024-01-01 08:00:00"), ok(`"10:00:00.5-0330"`, "10:00:00.5")}},
			// A time column takes a date-time's time of day, on its own
			// clock, and a bare date's midnight, as DuckDB reads them.
			{cells: []metaCell{absent, absent, absent, ok(`"2024-01-01T10:00:00+02:00"`, "10:00:00")}},
			{cells: []metaCell{absent, absent, absent, ok(`"2024-01-01"`, "00:00:00")}},
			{cells: []metaCell{absent, absent, absent, ok(`"2024-01-01 10:00:00.5Z"`, "10:00:00.5")}},
			{cells: []metaCell{absent, absent, absent, ok(`"9999-12-31T23:59:59.9999999-12:00"`, "23:59:59.999999")}},
		}},
		// Members matched to fields by their exact, unescaped name: the
		// first of a member given twice is kept, another case is another
		// (undeclared) field.
		{"members", []metaField{{"Ab", sInt}, {"s", sStr}, {"j", sJSON}}, []metaRecord{
			{cells: []metaCell{ok(`1`, "1"), ok(`"first"`, "first"), ok(`{"k":1}`, `{"k":1}`)}, extra: `"Ab":2,"s":"second","j":{"k":2}`},
			{cells: []metaCell{bad(`"x"`), absent, absent}, extra: `"Ab":3`},
			{cells: []metaCell{absent, absent, absent}, extra: `"ab":4,"AB":5,"S":"x","J":[1]`},
			{cells: []metaCell{ok(`8`, "8"), ok(`"plain"`, "plain"), null}, extra: `"\u0041\u0062":6,"\u0073":"esc","j":[2]`},
			// Written only as escapes, the extra members are the fields'.
			{cells: []metaCell{{want: "6"}, {want: "esc"}, absent}, extra: `"\u0041\u0062":6,"\u0073":"esc"`},
			{cells: []metaCell{null, null, absent}, extra: `"Ab":7,"s":"z"`},
		}},
		// A table made by an earlier load with other types (see priors):
		// each value is converted to the column's type, and one that
		// does not convert is NULL with a note.
		{"evolved", []metaField{{"a", sInt}, {"b", sStr}, {"c", sStr}, {"d", sStr}, {"e", sInt}, {"f", sStr}, {"g", sInt}}, []metaRecord{
			{cells: []metaCell{ok(`5`, "5"), ok(`"12"`, "12"), ok(`"abc"`, `"abc"`), ok(`"2024-01-01T10:00:00+02:00"`, "2024-01-01 08:00:00"), ok(`7`, "7.0"), ok(`"yes"`, "true"), ok(`1`, "1")}},
			{cells: []metaCell{ok(`"x"`, "x"), bad(`"x"`), ok(`1`, `1`), bad(`"nope"`), ok(`"1.5"`, "1.5"), bad(`"maybe"`), bad(`"y"`)}},
			{cells: []metaCell{ok(`{"k":1}`, `{"k":1}`), bad(`1.5`), ok(`[1, "a"]`, `[1,"a"]`), ok(`"2024-01-01"`, "2024-01-01 00:00:00"), bad(`1e400`), ok(`"0"`, "false"), absent}},
		}},
		// A time with its zone. (DuckDB refuses 10:00:00Z, which
		// PostgreSQL reads as +00, and gives a date-time's time in UTC,
		// where PostgreSQL keeps its zone: not pinned here.)
		{"timetz", []metaField{{"t", sTimeTZ}}, []metaRecord{
			{cells: []metaCell{ok(`"10:00:00+02:00"`, "10:00:00+02")}},
			{cells: []metaCell{ok(`"10:00:00"`, "10:00:00+00")}},
			{cells: []metaCell{ok(`"10:00"`, "10:00:00+00")}},
			{cells: []metaCell{ok(`"10:00:00.1234567-03:30"`, "10:00:00.123456-03:30")}},
			{cells: []metaCell{ok(`"10:00:00+0200"`, "10:00:00+02")}},
			{cells: []metaCell{ok(`"2024-01-01"`, "00:00:00+00")}},
			{cells: []metaCell{bad(`"10:00:00+20:00"`)}},
			{cells: []metaCell{bad(`"noon"`)}},
		}},
		{"wide", wide, []metaRecord{{cells: wideGood}, {cells: wideBad}, {cells: wideBad, changes: []protocol.RecordMetaChange{nulled("s003")}}, {cells: wideGood}}},
	}
	// priors are the fields of a first load of a case, whose table the
	// case's records are then loaded into.
	priors := map[string][]metaField{
		"evolved": {{"a", sStr}, {"b", sInt}, {"c", sJSON}, {"d", sTSTZ}, {"e", sNum}, {"f", sBool}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := open(t)
			prior := priors[tc.name]
			if prior != nil {
				var props []string
				for _, f := range prior {
					k, _ := json.Marshal(f.name)
					props = append(props, string(k)+":"+f.schema)
				}
				m := Rec("t", "{}")
				m.Record.EmittedAt = 1
				MustLoad(t, c, Catalog(Stream("t", "{"+strings.Join(props, ",")+"}", protocol.SyncFullRefresh, nil)), cache.StrategyAppend, m)
			}
			kinds := make([]string, len(tc.fields))
			var props, cols []string
			for i, f := range tc.fields {
				k, _ := json.Marshal(f.name)
				props = append(props, string(k)+":"+f.schema)
				col, err := cache.NormalizeName(f.name)
				if err != nil {
					t.Fatal(err)
				}
				kinds[i] = kindOf(f.schema)
				for _, p := range prior {
					if p.name == f.name {
						kinds[i] = kindOf(p.schema)
					}
				}
				cols = append(cols, d.Column(`"`+col+`"`, kinds[i]))
			}
			var msgs []*protocol.Message
			var want []string
			for n, r := range tc.records {
				var members, row []string
				for i, cell := range r.cells {
					if cell.js != "" {
						k, _ := json.Marshal(tc.fields[i].name)
						members = append(members, string(k)+":"+cell.js)
					}
					switch {
					case cell.fail || cell.nul && d.NoNUL:
						row = append(row, "NULL")
					case d.Value != nil && cell.want != "NULL":
						row = append(row, d.Value(kinds[i], cell.js, cell.want))
					default:
						row = append(row, cell.want)
					}
				}
				if r.extra != "" {
					members = append(members, r.extra)
				}
				m := Rec("t", "{"+strings.Join(members, ",")+"}")
				m.Record.EmittedAt = int64(n+1) * 1000
				if r.changes != nil {
					m.Record.Meta = &protocol.RecordMeta{Changes: r.changes}
				}
				msgs = append(msgs, m)
				want = append(want, d.wantMeta(tc.fields, r)+"|"+strings.Join(row, "|"))
			}
			MustLoad(t, c, Catalog(Stream("t", "{"+strings.Join(props, ",")+"}", protocol.SyncFullRefresh, nil)),
				cache.StrategyAppend, msgs...)
			got := Strings(t, c, `SELECT `+d.Meta+`, `+strings.Join(cols, ", ")+` FROM t ORDER BY _airbyte_extracted_at`)
			if prior != nil && len(got) > 0 {
				got = got[1:] // the first load's record
			}
			if len(got) != len(want) {
				t.Fatalf("%d rows, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("record %d:\n got  %q\n want %q", i, got[i], want[i])
				}
			}
		})
	}
}

// JSONString is s as a database's JSON writer writes a string: ", \ and
// the control characters escaped, those without a short form as \u00xx
// (upper-case hex digits for DuckDB's to_json, lower-case for
// PostgreSQL's jsonb output), everything else as it is.
func JSONString(s string, upperHex bool) string {
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
			switch {
			case r >= 0x20:
				b.WriteRune(r)
			case upperHex:
				fmt.Fprintf(&b, `\u%04X`, r)
			default:
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
