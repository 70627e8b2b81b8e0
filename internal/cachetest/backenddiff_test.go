package cachetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Environment variables of TestBackendsAgree: another seed, and more rounds,
// for hunting. CI runs the default seed's few rounds.
const (
	diffSeedEnv   = "GOAIRBYTE_BACKENDDIFF_SEED"
	diffRoundsEnv = "GOAIRBYTE_BACKENDDIFF_ROUNDS"
)

// TestBackendsAgree loads the same generated streams — schemas of the
// types Airbyte sources declare, records whose values fit them or do not —
// into a DuckDB and a PostgreSQL cache with each strategy, and reads them
// back through the public API: Dataset.Records, Dataset.RecordLines and
// the LoadResult must be the same on both, value by value. The
// differences the package doc allows (how each writes a JSON value's text)
// are not looked at: Records and RecordLines' data are compared as the
// values encoding/json decodes.
func TestBackendsAgree(t *testing.T) {
	seed, rounds := uint64(20261207), 8
	if s := os.Getenv(diffSeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", diffSeedEnv, err)
		}
		seed = v
	}
	if s := os.Getenv(diffRoundsEnv); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s: %v", diffRoundsEnv, err)
		}
		rounds = v
	}
	dc, pc := openBoth(t)
	t.Logf("seed %d, %d rounds (%s, %s)", seed, rounds, diffSeedEnv, diffRoundsEnv)
	cases, diffs, loadsRun, unfinished := 0, 0, 0, 0
	seq := 0
	for r := range rounds {
		rng := rand.New(rand.NewPCG(seed, uint64(r)))
		g := genStream(rng)
		for _, st := range []cache.Strategy{cache.StrategyAppend, cache.StrategyMerge, cache.StrategyReplace} {
			name := fmt.Sprintf("r%d_%s", r, st)
			// The second load's schema may have changed: a property of
			// another type, one more, one fewer.
			gens := [2]*gen{g, g}
			if rng.IntN(3) == 0 {
				gens[1] = g.evolve(rng)
			}
			loads := make([][]*protocol.Message, 2)
			cats := make([]*protocol.ConfiguredCatalog, 2)
			for l, gl := range gens {
				loads[l] = gl.load(rng, name, &seq, l)
				cats[l] = gl.catalog(name, st)
			}
			var outs [2]diffOutput
			for i, c := range []*cache.Cache{dc, pc} {
				outs[i] = diffLoad(t, c, cats, st, name, loads)
			}
			cases += len(outs[0].rows) + len(outs[0].lines)
			for _, r := range outs[0].results {
				loadsRun++
				if !strings.Contains(r, "unfinished []") {
					unfinished++
				}
			}
			if d := compareOutputs(outs[0], outs[1], g.describe(loads)); len(d) > 0 {
				diffs += len(d)
				t.Errorf("seed %d round %d %s: schema %s, then %s\n%s", seed, r, st, g.propsJSON, gens[1].propsJSON, strings.Join(d, "\n"))
			}
		}
	}
	t.Logf("%d loads (%d with a stream left unfinished), %d rows and record lines compared, %d differences", loadsRun, unfinished, cases, diffs)
}

// openBoth opens the caches the backends' outputs are compared in: a
// DuckDB file, and a PostgreSQL database of collatedDatabase. They are
// closed when t ends.
func openBoth(t *testing.T) (dc, pc *cache.Cache) {
	ctx := context.Background()
	var err error
	dc, err = cache.New(ctx, duckdb.NewConnector(filepath.Join(t.TempDir(), "d.duckdb")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	pc, err = cache.New(ctx, postgres.NewConnector(collatedDatabase(t, testenv.Postgres(t))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return dc, pc
}

// collatedDatabase returns the DSN of a new database on dsn's server whose
// default collation is ICU's en-US, as a production database's often is
// (en_US.UTF-8), and not bytewise as the test databases' C: the same records
// must come back the same from it too. It is dropped when t ends. A server
// without ICU gives dsn itself.
func collatedDatabase(t *testing.T, dsn string) string {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	name := fmt.Sprintf("diff_icu_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.utf8'"); err != nil {
		t.Logf("comparing in a database of collation C: no ICU database on this server: %v", err)
		return dsn
	}
	t.Cleanup(func() {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// diffOutput is what one backend gave back for a stream.
type diffOutput struct {
	results []string          // each load's LoadResult, or its error
	kinds   map[string]string // each column's kind: json, text or other
	rows    []diffRow         // Dataset.Records in arrival order
	lines   []diffRow         // Dataset.RecordLines
}

// diffRow is a row read back: its columns' values (the row's
// _airbyte_raw_id left out: each backend makes its own) and its changes.
type diffRow struct {
	seq     string
	values  map[string]any
	changes []any
	other   string // what else a record line holds, or an error
}

// diffLoad runs loads into c and reads the stream back.
func diffLoad(t *testing.T, c *cache.Cache, cats []*protocol.ConfiguredCatalog, st cache.Strategy, stream string, loads [][]*protocol.Message) diffOutput {
	t.Helper()
	ctx := context.Background()
	out := diffOutput{kinds: map[string]string{}}
	for l, msgs := range loads {
		res, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cats[l], Strategy: st, FullRefresh: st == cache.StrategyReplace, Messages: cachetest.Messages(msgs...)})
		if err != nil {
			out.results = append(out.results, "error: "+err.Error())
			continue
		}
		out.results = append(out.results, fmt.Sprintf("records %v total %d read %v total %d states %d unfinished %v unknown %d records %d states",
			res.Records, res.Total, res.RecordsRead, res.TotalRead, res.States, res.Unfinished, res.UnknownStreamRecords, res.UnknownStreamStates))
	}
	ds, err := c.Dataset(ctx, stream)
	if err != nil {
		out.results = append(out.results, "dataset: "+err.Error())
		return out
	}
	cols, err := ds.Columns(ctx)
	if err != nil {
		out.results = append(out.results, "columns: "+err.Error())
		return out
	}
	// Each column's type, as both databases name it alike.
	types := map[string]string{"JSON": "json", "JSONB": "json", "VARCHAR": "text", "TEXT": "text", "CHARACTER VARYING": "text",
		"BIGINT": "bigint", "DOUBLE": "double", "DOUBLE PRECISION": "double", "BOOLEAN": "boolean", "DATE": "date",
		"TIMESTAMP": "timestamp", "TIMESTAMP WITHOUT TIME ZONE": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz",
		"TIME": "time", "TIME WITHOUT TIME ZONE": "time", "TIME WITH TIME ZONE": "timetz"}
	for _, col := range cols {
		kind, ok := types[strings.ToUpper(col.Type)]
		if !ok {
			kind = "unknown " + col.Type
		}
		out.kinds[col.Name] = kind
	}
	for row, err := range ds.After("").Records(ctx) {
		if err != nil {
			out.rows = append(out.rows, diffRow{other: "error: " + err.Error()})
			break
		}
		delete(row, "_airbyte_raw_id")
		r := diffRow{seq: canon(row["seq"], true), values: row}
		if meta, ok := row["_airbyte_meta"].(map[string]any); ok {
			r.changes, _ = meta["changes"].([]any)
			delete(row, "_airbyte_meta")
		} else {
			r.other = fmt.Sprintf("_airbyte_meta %#v", row["_airbyte_meta"])
		}
		out.rows = append(out.rows, r)
	}
	for line, err := range ds.RecordLines(ctx, nil) {
		if err != nil {
			out.lines = append(out.lines, diffRow{other: "error: " + err.Error()})
			break
		}
		var msg struct {
			Record struct {
				Data      map[string]any `json:"data"`
				EmittedAt int64          `json:"emitted_at"`
				Meta      *struct {
					Changes []any `json:"changes"`
				} `json:"meta"`
			} `json:"record"`
		}
		dec := json.NewDecoder(bytes.NewReader(line.Line))
		dec.UseNumber()
		if err := dec.Decode(&msg); err != nil {
			out.lines = append(out.lines, diffRow{other: fmt.Sprintf("bad line %q: %v", line.Line, err)})
			continue
		}
		r := diffRow{values: msg.Record.Data, other: fmt.Sprintf("emitted_at %d", msg.Record.EmittedAt)}
		for k, v := range r.values {
			r.values[k] = floats(v)
		}
		r.seq = canon(r.values["seq"], true)
		if msg.Record.Meta != nil {
			r.changes = msg.Record.Meta.Changes
		}
		out.lines = append(out.lines, r)
	}
	return out
}

// floats replaces each json.Number in v that a float64 holds by that
// float64, as Dataset.Records gives JSON.
func floats(v any) any {
	switch v := v.(type) {
	case json.Number:
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return f
		}
	case map[string]any:
		for k, e := range v {
			v[k] = floats(e)
		}
	case []any:
		for i, e := range v {
			v[i] = floats(e)
		}
	}
	return v
}

// canon writes a value read back so that equal values of either backend
// write alike: its Go type, then the value (a time in UTC; maps with their
// keys sorted; a number beyond a double as its value to 20 digits). The
// sign of a zero is kept only if signed: PostgreSQL's jsonb has no -0.
func canon(v any, signed bool) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		_, off := v.Zone()
		return fmt.Sprintf("time:%s@%d", v.UTC().Format(time.RFC3339Nano), off)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%q:%s", k, canon(v[k], signed))
		}
		b.WriteString("}")
		return b.String()
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = canon(e, signed)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case string:
		return strconv.Quote(v)
	case float64:
		if v == 0 && !signed {
			v = 0
		}
		return fmt.Sprintf("float64:%v", v)
	case json.Number:
		f, _, err := big.ParseFloat(string(v), 10, 200, big.ToNearestEven)
		if err != nil {
			return "json.Number:" + string(v)
		}
		return "json.Number:" + f.Text('g', 20)
	default:
		return fmt.Sprintf("%T:%v", v, v)
	}
}

// compareRows lists the differences between DuckDB's rows d and
// PostgreSQL's p, leaving out those the package doc allows: a value that
// holds a NUL, which PostgreSQL keeps as NULL with a note, and a text
// column's JSON text of a value that is no string, which each backend
// writes its own way.
func compareRows(what string, kinds map[string]string, d, p []diffRow, describe func(seq, col string) (string, json.RawMessage)) []string {
	var out []string
	if len(d) != len(p) {
		out = append(out, fmt.Sprintf("  %s: duckdb %d, postgres %d", what, len(d), len(p)))
	}
	for i := range min(len(d), len(p)) {
		dr, pr := d[i], p[i]
		if dr.other != pr.other {
			out = append(out, fmt.Sprintf("  %s %d:\n    duckdb   %s\n    postgres %s", what, i, short(dr.other), short(pr.other)))
		}
		keys := map[string]bool{}
		for k := range dr.values {
			keys[k] = true
		}
		for k := range pr.values {
			keys[k] = true
		}
		sorted := slices.Sorted(maps.Keys(keys))
		nul := map[string]bool{}
		for _, k := range sorted {
			dv, pv := canon(dr.values[k], kinds[k] != "json"), canon(pr.values[k], kinds[k] != "json")
			if dv == pv {
				continue
			}
			schema, in := describe(dr.seq, k)
			if strings.Contains(dv, `\x00`) && pv == "NULL" {
				nul[k] = true
				continue
			}
			if kinds[k] == "text" && len(in) > 0 && in[0] != '"' && sameJSON(dr.values[k], pr.values[k]) {
				continue
			}
			out = append(out, fmt.Sprintf("  %s %d column %s %s given %s:\n    duckdb   %s\n    postgres %s", what, i, k, schema, short(string(in)), short(dv), short(pv)))
		}
		var pc []any
		for _, c := range pr.changes {
			if m, ok := c.(map[string]any); ok && nul[fmt.Sprint(m["field"])] && m["change"] == "NULLED" {
				continue
			}
			pc = append(pc, c)
		}
		if dc, pcs := canon(dr.changes, true), canon(pc, true); dc != pcs {
			_, in := describe(dr.seq, "")
			out = append(out, fmt.Sprintf("  %s %d changes, record %s:\n    duckdb   %s\n    postgres %s", what, i, short(string(in)), dc, pcs))
		}
	}
	return out
}

// sameJSON says whether two texts are the same JSON value.
func sameJSON(a, b any) bool {
	as, ok1 := a.(string)
	bs, ok2 := b.(string)
	if !ok1 || !ok2 {
		return false
	}
	var av, bv any
	da, db := json.NewDecoder(strings.NewReader(as)), json.NewDecoder(strings.NewReader(bs))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&av) != nil || db.Decode(&bv) != nil {
		return false
	}
	return canon(floats(av), false) == canon(floats(bv), false)
}

// compareOutputs lists the differences between DuckDB's output d and
// PostgreSQL's p.
func compareOutputs(d, p diffOutput, describe func(seq, col string) (string, json.RawMessage)) []string {
	var out []string
	if !slices.Equal(d.results, p.results) {
		out = append(out, fmt.Sprintf("  load results:\n    duckdb   %q\n    postgres %q", d.results, p.results))
	}
	if !maps.Equal(d.kinds, p.kinds) {
		out = append(out, fmt.Sprintf("  columns:\n    duckdb   %v\n    postgres %v", d.kinds, p.kinds))
	}
	out = append(out, compareRows("row", d.kinds, d.rows, p.rows, describe)...)
	return append(out, compareRows("record line", d.kinds, d.lines, p.lines, describe)...)
}

// short cuts a long value for a readable failure.
func short(s string) string {
	if len(s) > 400 {
		return s[:200] + fmt.Sprintf("…(%d bytes)…", len(s)-400) + s[len(s)-200:]
	}
	return s
}

// genProp is a generated property: its schema, and the kind of values
// that fit it.
type genProp struct {
	name, schema, kind string
}

// gen is a generated stream.
type gen struct {
	props []genProp
	// id (the primary key under merge) and cur (the cursor): a schema
	// and the values a record gives.
	id, cur genKey
	// props as a JSON object, the stream's properties.
	propsJSON string
}

// genKey is a primary key's or a cursor's schema and values.
type genKey struct {
	schema string
	values []string
}

// keyKinds are the primary keys generated: few values, so that merge
// finds the same key again, some that only a collation tells apart.
var keyKinds = []genKey{
	{`{"type":["null","integer"]}`, []string{`0`, `1`, `2`, `3`, `4`, `5`, `6`, `7`, `null`}},
	{`{"type":["null","string"]}`, []string{`"a"`, `"A"`, `"b"`, `"é"`, `"e"`, `"a "`, `""`, `"ß"`, `"ss"`, `null`}},
}

// cursorKinds are the cursors generated: ties, and values that order
// differently by bytes, by a collation or as instants.
var cursorKinds = []genKey{
	{`{"type":"integer"}`, []string{`0`, `1`, `2`, `3`}},
	{`{"type":"string"}`, []string{`"a"`, `"B"`, `"b"`, `"é"`, `"f"`, `"2024-1-5"`, `"2024-01-05"`, `"Z"`, `"_"`, `"-"`, `"10"`, `"9"`, `"a b"`, `"ab"`}},
	{`{"type":"string","format":"date-time"}`, []string{`"2024-01-05T10:00:00Z"`, `"2024-01-05T12:00:00+02:00"`, `"2024-01-06"`, `"garbage"`, `"2024-01-05T09:00:00-01:00"`, `null`}},
	{`{"type":"number"}`, []string{`1`, `1.5`, `"2"`, `-0`, `0`, `1e400`, `0.1`, `null`}},
}

// propKinds are the property schemas generated, each with the kind of
// value that fits it.
var propKinds = []struct{ schema, kind string }{
	{`{"type":"string"}`, "string"},
	{`{"type":["null","string"]}`, "string"},
	{`{"type":"integer"}`, "integer"},
	{`{"type":["null","integer"]}`, "integer"},
	{`{"type":"number","airbyte_type":"integer"}`, "integer"},
	{`{"type":"number"}`, "number"},
	{`{"type":["null","number"]}`, "number"},
	{`{"type":"boolean"}`, "boolean"},
	{`{"type":["boolean","null"]}`, "boolean"},
	{`{"type":"object"}`, "object"},
	{`{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":true}`, "object"},
	{`{"type":["null","object"],"additionalProperties":false}`, "object"},
	{`{"type":"array","items":{"type":"string"}}`, "array"},
	{`{"type":["null","array"]}`, "array"},
	{`{"type":"string","format":"date"}`, "date"},
	{`{"type":"string","format":"date-time"}`, "datetime"},
	{`{"type":"string","format":"date-time","airbyte_type":"timestamp_with_timezone"}`, "datetime"},
	{`{"type":"string","format":"date-time","airbyte_type":"timestamp_without_timezone"}`, "datetime"},
	{`{"type":["null","string"],"format":"date-time"}`, "datetime"},
	{`{"type":"string","format":"time"}`, "time"},
	{`{"type":"string","format":"time","airbyte_type":"time_with_timezone"}`, "time"},
	{`{"type":"string","format":"time","airbyte_type":"time_without_timezone"}`, "time"},
	{`{"type":"string","airbyte_type":"big_integer"}`, "integer"},
	{`{"type":["string","integer"]}`, "any"},
	{`{"type":["null","string","integer"]}`, "any"},
	{`{"anyOf":[{"type":"string"},{"type":"integer"}]}`, "any"},
	{`{"oneOf":[{"type":"null"},{"type":"number"}]}`, "any"},
	{`{}`, "any"},
	{`{"description":"no type"}`, "any"},
}

// valuesByKind are JSON values of each kind; "any" values are drawn from
// all of them.
var valuesByKind = map[string][]string{
	"string": {`""`, `"abc"`, `"NaN"`, `"Infinity"`, `"-Infinity"`, `"42"`, `"-7"`, `"007"`, `" 3.5 "`, `"true"`, `"yes"`,
		`"a\u0000b"`, `"\udcff"`, `"x\ud800y"`, `"\ud83d\ude00"`, `"😀 ünïcödé ✓"`, `"tab\there\nnewline"`, `"quote\" and \\ backslash"`,
		`"1e3"`, `"null"`, `"{\"a\":1}"`, `"\u00e9"`, `"\u2028"`, `"\ufeffbom"`, `"  "`},
	"integer": {`0`, `-0`, `1`, `-1`, `42`, `9223372036854775807`, `-9223372036854775808`, `9223372036854775808`,
		`-9223372036854775809`, `123456789012345678901234567890`, `"123"`, `"-5"`, `1.0`, `1e3`, `2.5`, `"007"`, `" 5"`, `"+5"`, `-0.0`},
	"number": {`1.5`, `-2.25`, `1e3`, `1E-7`, `6.02214076e23`, `0.1`, `3.141592653589793238462643383279`, `1e400`, `-1e400`, `1e-400`,
		`-0.0`, `-0`, `1.0`, `123456789012345678901234567890`, `9007199254740993`, `"2.5"`, `"NaN"`, `"Infinity"`, `"-inf"`, `" 3.5\t"`,
		`"1_000.5"`, `"+.5"`, `"5."`, `"0x10"`, `1.7976931348623157e308`, `4.9e-324`, `2.2250738585072014e-308`, `0.30000000000000004`,
		`100000000000000000000000`, `1E+2`, `-1.5e-10`},
	"boolean": {`true`, `false`, `1`, `0`, `2`, `"yes"`, `"N"`, `"TRUE"`, `"f"`, `"on"`, `" true"`, `1.0`, `"t"`},
	"object": {`{}`, `{"a":1}`, `{"a":{"b":[1,2,{"c":null}]}}`, `{"a":1,"a":2}`, `{"k\u0000":1}`, `{"x":"\udcff"}`, `{"x":"a\u0000b"}`,
		`{"n":1.50,"e":1E2,"big":123456789012345678901234567890,"f":0.1}`, `{"b":1,"a":2,"aa":3}`, `{"":""}`, `{"z":-0.0,"y":-0}`,
		`{"s":"😀","t":"\ud83d\ude00"}`, `{"a":[],"b":{}}`},
	"array": {`[]`, `[1,"a",null]`, `[[[]]]`, `[{}]`, `["\udcff"]`, `["a\u0000b"]`, `[1.50,1E2,-0.0]`, `[true,false]`},
	"date": {`"2024-02-29"`, `"2023-02-29"`, `"0000-01-01"`, `"9999-12-31"`, `"10000-01-01"`, `"-0001-01-01"`, `"infinity"`,
		`"2024-03-05T23:30:00-05:00"`, `"2024-03-05 10:00:00"`, `"2024-13-01"`, `"2024-1-5"`, `"20240305"`, `"1969-12-31"`, `"0001-01-01"`,
		`"2024-03-05T01:00:00+09:00"`, `"yesterday"`, `"2024-03-05Z"`, `"2024/1/5"`, `"2024-01/05"`, `"2024-01-05T24:00:00"`,
		`"0000-02-29"`, `"1900-02-29"`, `"2000-02-29"`, `"9999-12-31T24:00:00Z"`},
	"datetime": {`"2024-03-05T10:00:00Z"`, `"2024-03-05T10:00:00+05:45"`, `"2024-03-05T10:00:00.123456789-03:30"`, `"2024-03-05T10:00:00.5+14:00"`,
		`"2024-03-05T10:00:00-12:00"`, `"2024-03-05 10:00:00+02"`, `"2024-03-05"`, `"2024-03-05T10:00:00"`, `"0000-01-01T00:00:00Z"`,
		`"9999-12-31T23:59:59.999999Z"`, `"9999-12-31T23:59:59-01:00"`, `"0000-01-01T00:30:00+01:00"`, `"10000-01-01T00:00:00Z"`,
		`"infinity"`, `"-infinity"`, `"2024-02-30T00:00:00Z"`, `"2024-03-05T24:00:00Z"`, `"2024-03-05T10:00:00+0530"`, `"2024-03-05T10:00Z"`,
		`"1969-12-31T23:59:59.999999999Z"`, `"2016-12-31T23:59:60Z"`, `"2024-03-05T10:00:00+05:30:15"`, `"2024-03-05t10:00:00z"`,
		`"2024-03-05T10:00:00 UTC"`, `"2024-03-05T10:00:00.1234567Z"`, `"1700000000"`, `1700000000`,
		`"2024/01/05"`, `" 2024-01-05 "`, `"2024-01-05 10:00:00 +02:00"`, `"2024-01-05T10:00:00.+02"`, `"02024-01-05"`,
		`"2024-01-05T10:00:00+05"`, `"2024-01-05T10:00:00-00:00"`, `"2024-01-05\t10:00:00"`, `"2024-01-05T10:00:00+16:00"`,
		`"2024-1-5T1:2:3.5+01:30"`, `"2024-01-05 10:00:00 utc"`, `"2024-02-29T24:00:00+01:00"`, `"2023-12-31T23:59:59.9999999-00:30"`},
	"time": {`"12:34:56"`, `"23:59:59.9999999"`, `"24:00:00"`, `"12:00:00+05:30"`, `"12:00:00Z"`, `"12:00"`, `"2024-03-05T10:00:00+02:00"`,
		`"2024-03-05"`, `"25:00:00"`, `"12:60:00"`, `"00:00:00.000001"`, `"noon"`, `"12:00:00-12:00"`, `"1:2:3"`,
		`"12:00:00z"`, `"12:00:00 UTC"`, `"12:00:00-15:59"`, `"12:00:00+16:00"`, `"12:00:00.1234567+05:30"`, `" 12:00:00"`, `"12:00:00 "`,
		`"12:00:00+0530"`, `"12:00:00+05"`, `"12:00:00+05:30:15"`, `"24:00"`, `"24:00:00Z"`, `"24:00:00.000000001"`, `"23:59:60"`, `"12:00:00."`, `"12:5"`},
}

// deepValue is a JSON value nested depth levels.
func deepValue(rng *rand.Rand, depth int) string {
	var b strings.Builder
	var closes []byte
	for range depth {
		if rng.IntN(2) == 0 {
			b.WriteString(`{"d":`)
			closes = append(closes, '}')
		} else {
			b.WriteString(`[`)
			closes = append(closes, ']')
		}
	}
	b.WriteString(`1`)
	for i := len(closes) - 1; i >= 0; i-- {
		b.WriteByte(closes[i])
	}
	return b.String()
}

// genValue is a value for a property of kind: usually one of its kind,
// sometimes any value at all.
func genValue(rng *rand.Rand, kind string) string {
	switch rng.IntN(20) {
	case 0:
		return `null`
	case 1:
		return deepValue(rng, 1+rng.IntN(300))
	case 2:
		return strconv.Quote(strings.Repeat("long ✓ ", 1+rng.IntN(20000)))
	case 3:
		return strconv.FormatInt(int64(rng.Uint64()), 10)
	case 4:
		return strconv.FormatFloat(rng.NormFloat64()*float64(rng.Uint64()>>rng.IntN(64)), 'g', -1, 64)
	case 5, 6, 7:
		kind = "any"
	}
	pool := valuesByKind[kind]
	if kind == "any" {
		kinds := make([]string, 0, len(valuesByKind))
		for k := range valuesByKind {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		pool = valuesByKind[kinds[rng.IntN(len(kinds))]]
	}
	return pool[rng.IntN(len(pool))]
}

// genStream generates a stream's properties: an integer id (the primary
// key under merge), an integer cursor, and some of propKinds.
func genStream(rng *rand.Rand) *gen {
	g := &gen{id: keyKinds[rng.IntN(len(keyKinds))], cur: cursorKinds[rng.IntN(len(cursorKinds))]}
	n := 2 + rng.IntN(8)
	for i := range n {
		k := propKinds[rng.IntN(len(propKinds))]
		g.props = append(g.props, genProp{name: fmt.Sprintf("p%d", i), schema: k.schema, kind: k.kind})
	}
	g.setPropsJSON()
	return g
}

// setPropsJSON writes the stream's properties as a JSON object.
func (g *gen) setPropsJSON() {
	parts := []string{`"seq":{"type":"integer"}`, `"id":` + g.id.schema, `"cur":` + g.cur.schema}
	for _, p := range g.props {
		parts = append(parts, strconv.Quote(p.name)+":"+p.schema)
	}
	g.propsJSON = "{" + strings.Join(parts, ",") + "}"
}

// catalog is the stream's catalog under strategy st.
func (g *gen) catalog(name string, st cache.Strategy) *protocol.ConfiguredCatalog {
	switch st {
	case cache.StrategyMerge:
		return cachetest.Catalog(cachetest.Stream(name, g.propsJSON, protocol.SyncIncremental, [][]string{{"id"}}, "cur"))
	case cache.StrategyAppend:
		return cachetest.Catalog(cachetest.Stream(name, g.propsJSON, protocol.SyncIncremental, nil, "cur"))
	default:
		return cachetest.Catalog(cachetest.Stream(name, g.propsJSON, protocol.SyncFullRefresh, nil))
	}
}

// load generates the messages of the stream's load l.
func (g *gen) load(rng *rand.Rand, name string, seq *int, l int) []*protocol.Message {
	var msgs []*protocol.Message
	// A status of the stream: started and complete, started only (a
	// replace is then not swapped in), or none.
	status := rng.IntN(3)
	if status > 0 {
		msgs = append(msgs, cachetest.Status(name, protocol.StatusStarted))
	}
	for range rng.IntN(25) {
		if rng.IntN(20) == 0 {
			// A record and a state of a stream not in the catalog.
			msgs = append(msgs, cachetest.Rec("not_"+name, `{"seq":-1}`), cachetest.StreamState("not_"+name, `{}`))
		}
		var fields []string
		if rng.IntN(15) > 0 {
			fields = append(fields, `"id":`+g.id.values[rng.IntN(len(g.id.values))])
		}
		fields = append(fields, `"cur":`+g.cur.values[rng.IntN(len(g.cur.values))], `"seq":`+strconv.Itoa(*seq))
		*seq++
		for _, p := range g.props {
			if rng.IntN(8) == 0 {
				continue // missing
			}
			fields = append(fields, strconv.Quote(p.name)+":"+genValue(rng, p.kind))
		}
		if rng.IntN(4) == 0 {
			fields = append(fields, `"extra":`+genValue(rng, "any"))
		}
		rng.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
		rec := cachetest.Rec(name, "{"+strings.Join(fields, ",")+"}")
		if rng.IntN(6) == 0 && len(g.props) > 0 {
			// A change the source reported itself.
			rec.Record.Meta = &protocol.RecordMeta{Changes: []protocol.RecordMetaChange{{Field: g.props[rng.IntN(len(g.props))].name,
				Change: protocol.ChangeTruncated, Reason: protocol.ReasonSourceFieldSizeLimitation}}}
		}
		msgs = append(msgs, rec)
	}
	if rng.IntN(5) > 0 {
		msgs = append(msgs, cachetest.StreamState(name, fmt.Sprintf(`{"load":%d}`, l)))
	}
	if status == 1 {
		msgs = append(msgs, cachetest.Status(name, protocol.StatusComplete))
	}
	return msgs
}

// evolve returns the stream with its schema changed as a source's can
// change between reads: a property of another type, a new one, one gone.
func (g *gen) evolve(rng *rand.Rand) *gen {
	e := &gen{props: slices.Clone(g.props), id: g.id, cur: g.cur}
	if len(e.props) > 0 {
		i := rng.IntN(len(e.props))
		k := propKinds[rng.IntN(len(propKinds))]
		e.props[i].schema, e.props[i].kind = k.schema, k.kind
	}
	if len(e.props) > 1 && rng.IntN(2) == 0 {
		i := rng.IntN(len(e.props))
		e.props = append(e.props[:i], e.props[i+1:]...)
	}
	k := propKinds[rng.IntN(len(propKinds))]
	e.props = append(e.props, genProp{name: "q0", schema: k.schema, kind: k.kind})
	e.setPropsJSON()
	return e
}

// describe returns a function that gives the schema of a column and the
// value the record seq (as canon writes it) of loads gave it; the record's
// data for the column "".
func (g *gen) describe(loads [][]*protocol.Message) func(seq, col string) (string, json.RawMessage) {
	values := describeRecords(loads)
	return func(seq, col string) (string, json.RawMessage) {
		_, in := values(seq, col)
		for _, p := range g.props {
			if col != "" && p.name == col {
				return p.schema, in
			}
		}
		return "", in
	}
}
