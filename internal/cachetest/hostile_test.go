package cachetest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/connectors/localjson"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// hostileValues are JSON values that each backend could take its own way:
// integers at and beyond 64 bits and 2^53, one number written three ways,
// zeros with a sign, long and exponent forms, strings that look like
// numbers, dates, times and booleans, instants before 1970 and after
// 9999, fractions finer than the microsecond, NUL and lone surrogates,
// a long string, and empty, nested, reordered and repeated objects.
var hostileValues = []string{
	`0`, `-0`, `-0.0`, `1`, `1.0`, `1e0`, `1E+2`, `1e-7`, `2.5`, `0.1`,
	`9007199254740992`, `9007199254740993`, `9007199254740993.0`, `9223372036854775807`, `9223372036854775808`,
	`-9223372036854775808`, `-9223372036854775809`, `123456789012345678901234567890`, `1.23456789012345678901234567890e29`,
	`1e308`, `1e400`, `-1e-400`,
	`"1"`, `"1.0"`, `"-0"`, `"1e0"`, `"0x10"`, `" 7 "`, `"9223372036854775808"`,
	`"2024-01-05"`, `"2024-01-05T10:00:00+02:00"`, `"2024-01-05T10:00:00"`, `"2024-01-05T10:00:00.123456789Z"`,
	`"2024-01-05 10:00:00.1234567-03:30"`, `"1969-07-20T20:17:40Z"`, `"1900-01-01"`, `"0001-01-01T00:00:00Z"`,
	`"9999-12-31T23:59:59.9999999Z"`, `"10000-01-01"`, `"12000-06-01T00:00:00Z"`, `"-0044-03-15"`,
	`"12:34:56"`, `"12:34:56.123456789"`, `"12:34:56+05:30"`, `"23:59:60"`,
	`"true"`, `"false"`, `"t"`, `"yes"`, `"TRUE"`, `"no"`, `"1"`,
	`"a\u0000b"`, `"\ud800"`, `"x\udfffy"`, `"\ud83d\ude00"`, `"\u00e9"`, `"e\u0301"`, `""`,
	strconv.Quote(strings.Repeat("long ✓ ", 30000)),
	`true`, `false`, `null`, `{}`, `[]`, `{"a":{"b":1}}`, `[1,"1",1.0,1e0]`, `{"b":1,"a":2}`, `{"a":1,"a":2}`, `{"k":"a\u0000b"}`,
}

// hostileCase is a stream and the records of its loads.
type hostileCase struct {
	name     string
	schema   string // the stream's JSON schema
	pk       [][]string
	cursor   []string
	strategy cache.Strategy
	loads    [][]string // each load's records' data, without "seq"
}

// hostileCases are the streams TestBackendsAgreeOnHostileRecords loads.
func hostileCases() []hostileCase {
	// Every value in a column of every type.
	var all []string
	for _, v := range hostileValues {
		var fields []string
		for _, f := range []string{"i", "n", "bi", "s", "b", "d", "ts", "tn", "t", "tz", "o", "a", "u"} {
			fields = append(fields, `"`+f+`":`+v)
		}
		all = append(all, strings.Join(fields, ","))
	}
	typed := hostileCase{name: "typed", strategy: cache.StrategyAppend, schema: `{"type":"object","properties":{"seq":{"type":"integer"},` +
		`"i":{"type":"integer"},"n":{"type":"number"},"bi":{"type":"string","airbyte_type":"big_integer"},"s":{"type":"string"},` +
		`"b":{"type":"boolean"},"d":{"type":"string","format":"date"},"ts":{"type":"string","format":"date-time"},` +
		`"tn":{"type":"string","format":"date-time","airbyte_type":"timestamp_without_timezone"},"t":{"type":"string","format":"time"},` +
		`"tz":{"type":"string","format":"time","airbyte_type":"time_with_timezone"},"o":{"type":"object"},"a":{"type":"array"},"u":{}}}`,
		loads: [][]string{all}}
	open := hostileCase{name: "open", strategy: cache.StrategyAppend, schema: `{"type":"object"}`, loads: [][]string{all}}

	// Keys that are one number written several ways, a string of its
	// digits, both zeros, integers 2^53 apart by one and beyond 64 bits;
	// each twice, with the cursor tied, greater and smaller. Objects and
	// arrays are left out, and numbers beyond 2^53 written with a fraction
	// or an exponent: as keys, DuckDB compares the first by their text and
	// reads the others as doubles (README, "State and write strategies"),
	// PostgreSQL compares all by value.
	keyValues := []string{`1`, `1.0`, `1e0`, `"1"`, `0`, `-0`, `0.0`, `9007199254740992`, `9007199254740993`, `"a"`, `"A"`, `"\u00e9"`, `"é"`, `null`,
		`123456789012345678901234567890`, `1e30`, `1000000000000000000000000000000`, `1e400`, `1.5`, `1.50`, `true`, `"true"`}
	var keyLoads [2][]string
	for l := range 2 {
		for i, k := range keyValues {
			keyLoads[l] = append(keyLoads[l], fmt.Sprintf(`"id":%s,"cur":%d,"v":"load %d key %d"`, k, (i+l)%3, l, i))
		}
	}
	var cases []hostileCase
	for _, id := range []string{`{"type":"number"}`, `{"type":"integer"}`, `{"type":["string","number"]}`, `{}`} {
		cases = append(cases, hostileCase{name: fmt.Sprintf("key%d", len(cases)), strategy: cache.StrategyMerge, pk: [][]string{{"id"}}, cursor: []string{"cur"},
			schema: `{"type":"object","properties":{"seq":{"type":"integer"},"id":` + id + `,"cur":{"type":"integer"},"v":{"type":"string"}}}`,
			loads:  keyLoads[:]})
	}
	// A string key given numbers: their text is the key, which DuckDB
	// writes as it writes a double (1.0 and 1e0 are both 1.0), PostgreSQL
	// as the source did (README, "JSON columns keep values, not text"), so
	// only strings and integers are sent.
	var stringKeys [2][]string
	for l := range 2 {
		for i, k := range keyValues {
			if k[0] == '"' || k == "null" || k == "true" || (!strings.ContainsAny(k, ".eE") && k != "-0") {
				stringKeys[l] = append(stringKeys[l], fmt.Sprintf(`"id":%s,"cur":%d,"v":"load %d key %d"`, k, (i+l)%3, l, i))
			}
		}
	}
	cases = append(cases, hostileCase{name: "stringkey", strategy: cache.StrategyMerge, pk: [][]string{{"id"}}, cursor: []string{"cur"},
		schema: `{"type":"object","properties":{"seq":{"type":"integer"},"id":{"type":"string"},"cur":{"type":"integer"},"v":{"type":"string"}}}`,
		loads:  stringKeys[:]})
	cases = append(cases, hostileCase{name: "openkey", strategy: cache.StrategyMerge, pk: [][]string{{"id"}}, cursor: []string{"cur"},
		schema: `{"type":"object"}`, loads: keyLoads[:]})
	// A composite key: one field typed, one held as JSON.
	cases = append(cases, hostileCase{name: "pairkey", strategy: cache.StrategyMerge, pk: [][]string{{"k"}, {"id"}}, cursor: []string{"cur"},
		schema: `{"type":"object","properties":{"seq":{"type":"integer"},"k":{"type":"integer"},"id":{},"cur":{"type":"integer"},"v":{"type":"string"}}}`,
		loads:  [][]string{slices.Clone(keyLoads[0]), slices.Clone(keyLoads[1])}})
	for l := range cases[len(cases)-1].loads {
		for i := range cases[len(cases)-1].loads[l] {
			cases[len(cases)-1].loads[l][i] = fmt.Sprintf(`"k":%d,`, i%2) + cases[len(cases)-1].loads[l][i]
		}
	}

	// Nested keys and cursors: the same values one level down, with
	// cursors tied, of two types, null and missing.
	var nested [2][]string
	curs := []string{`1`, `1.0`, `2`, `"2"`, `null`, `"10"`, `"9"`, `10`, `9`}
	for l := range 2 {
		for i, k := range keyValues {
			c := `"c":` + curs[(i+l)%len(curs)]
			if (i+l)%7 == 6 {
				c = `"d":1`
			}
			nested[l] = append(nested[l], fmt.Sprintf(`"o":{"id":%s,%s},"v":"load %d key %d"`, k, c, l, i))
		}
	}
	cases = append(cases, hostileCase{name: "nested", strategy: cache.StrategyMerge, pk: [][]string{{"o", "id"}}, cursor: []string{"o", "c"},
		schema: `{"type":"object","properties":{"seq":{"type":"integer"},"o":{"type":"object"},"v":{"type":"string"}}}`, loads: nested[:]})

	// Ties on the cursor: the same key and cursor (a date-time written
	// with two offsets, a number written two ways), null and missing.
	cases = append(cases, hostileCase{name: "ties", strategy: cache.StrategyMerge, pk: [][]string{{"id"}}, cursor: []string{"cur"},
		schema: `{"type":"object","properties":{"seq":{"type":"integer"},"id":{"type":"integer"},"cur":{"type":"string","format":"date-time"},"v":{"type":"string"}}}`,
		loads: [][]string{
			{`"id":1,"cur":"2024-01-05T10:00:00Z","v":"a"`, `"id":1,"cur":"2024-01-05T12:00:00+02:00","v":"b"`, `"id":2,"cur":null,"v":"a"`, `"id":2,"v":"b"`,
				`"id":3,"cur":"2024-01-05T10:00:00.0000001Z","v":"a"`, `"id":3,"cur":"2024-01-05T10:00:00Z","v":"b"`},
			{`"id":1,"cur":"2024-01-05T09:00:00-01:00","v":"c"`, `"id":2,"cur":"garbage","v":"c"`, `"id":3,"cur":"2024-01-05T10:00:00.0000009Z","v":"c"`},
		}})
	cases = append(cases, hostileCase{name: "numties", strategy: cache.StrategyMerge, pk: [][]string{{"id"}}, cursor: []string{"cur"},
		schema: `{"type":"object","properties":{"seq":{"type":"integer"},"id":{"type":"integer"},"cur":{},"v":{"type":"string"}}}`,
		loads: [][]string{
			{`"id":1,"cur":1,"v":"a"`, `"id":1,"cur":1.0,"v":"b"`, `"id":2,"cur":"1","v":"a"`, `"id":2,"cur":1,"v":"b"`, `"id":3,"cur":-0,"v":"a"`, `"id":3,"cur":0,"v":"b"`,
				`"id":4,"cur":9007199254740993,"v":"a"`, `"id":4,"cur":9007199254740992,"v":"b"`, `"id":5,"cur":1e400,"v":"a"`, `"id":5,"cur":1e300,"v":"b"`,
				`"id":6,"cur":123456789012345678901234567891,"v":"a"`, `"id":6,"cur":123456789012345678901234567890,"v":"b"`, `"id":7,"cur":true,"v":"a"`, `"id":7,"cur":"true","v":"b"`,
				`"id":8,"cur":1e30,"v":"a"`, `"id":8,"cur":1000000000000000000000000000000,"v":"b"`, `"id":9,"cur":[1],"v":"a"`, `"id":9,"cur":"[1]","v":"b"`},
			{`"id":1,"cur":1e0,"v":"c"`, `"id":2,"cur":"1","v":"c"`, `"id":3,"cur":0.0,"v":"c"`, `"id":4,"cur":9007199254740992.0,"v":"c"`, `"id":5,"cur":-1e400,"v":"c"`,
				`"id":6,"cur":123456789012345678901234567889,"v":"c"`, `"id":7,"cur":false,"v":"c"`, `"id":8,"cur":1E+30,"v":"c"`},
		}})

	// Fields whose names differ only in case, or normalise to one column.
	cases = append(cases, hostileCase{name: "names", strategy: cache.StrategyAppend,
		schema: `{"type":"object","properties":{"seq":{"type":"integer"},"Name":{"type":"string"},"name":{"type":"string"},"a-b":{"type":"integer"},"a_b":{"type":"integer"}}}`,
		loads:  [][]string{{`"Name":"x","name":"y","a-b":1,"a_b":2`}}})
	cases = append(cases, hostileCase{name: "onecase", strategy: cache.StrategyAppend,
		schema: `{"type":"object","properties":{"seq":{"type":"integer"},"Name":{"type":"string"},"a-b":{"type":"integer"}}}`,
		loads:  [][]string{{`"Name":"x","name":"y","a-b":1,"a_b":2`, `"NAME":"z"`}}})
	return append([]hostileCase{typed, open}, cases...)
}

// catalog is the case's configured catalog.
func (hc hostileCase) catalog() *protocol.ConfiguredCatalog {
	mode := protocol.SyncIncremental
	if hc.strategy == cache.StrategyReplace {
		mode = protocol.SyncFullRefresh
	}
	return cachetest.Catalog(protocol.ConfiguredStream{
		Stream: protocol.Stream{Name: hc.name, JSONSchema: json.RawMessage(hc.schema),
			SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental}},
		SyncMode: mode, PrimaryKey: hc.pk, CursorField: hc.cursor, DestinationSyncMode: protocol.DestinationAppend,
	})
}

// cachedLoad is what Destination.Write takes: streams loaded with
// Cache.Load.
type cachedLoad struct {
	c       *cache.Cache
	catalog *protocol.ConfiguredCatalog
}

func (l cachedLoad) SourceName() string                   { return "src" }
func (l cachedLoad) Cache() *cache.Cache                  { return l.c }
func (l cachedLoad) Catalog() *protocol.ConfiguredCatalog { return l.catalog }
func (l cachedLoad) ProcessedStreams() []string           { return []string{l.catalog.Streams[0].Stream.Name} }

// TestBackendsAgreeOnHostileRecords loads the same hostile records
// (hostileValues in columns of every type, keys and cursors one value
// written several ways, nested, tied, names that make one column, open
// streams) into a DuckDB and a PostgreSQL cache, and compares what comes
// back: the LoadResults, Dataset.Records, Dataset.RecordLines, what a
// destination-local-json Write from the cache writes, and a SELECT of the
// table's typed columns. It leaves out only the differences the README
// gives ("JSON columns keep values, not text", "Text"), as
// TestBackendsAgree does.
func TestBackendsAgreeOnHostileRecords(t *testing.T) {
	dc, pc := openBoth(t)
	for _, hc := range hostileCases() {
		t.Run(hc.name, func(t *testing.T) {
			var loads [][]*protocol.Message
			seq := 0
			for _, recs := range hc.loads {
				var msgs []*protocol.Message
				for _, r := range recs {
					msgs = append(msgs, cachetest.Rec(hc.name, fmt.Sprintf(`{"seq":%d,%s}`, seq, r)))
					seq++
				}
				loads = append(loads, append(msgs, cachetest.StreamState(hc.name, `{}`)))
			}
			cat := hc.catalog()
			cats := slices.Repeat([]*protocol.ConfiguredCatalog{cat}, len(loads))
			var outs [2]diffOutput
			var written, selected [2][]diffRow
			for i, c := range []*cache.Cache{dc, pc} {
				outs[i] = diffLoad(t, c, cats, hc.strategy, hc.name, loads)
				written[i] = hostileWrite(t, c, cat)
				selected[i] = hostileSelect(t, c, hc.name)
			}
			describe := describeRecords(loads)
			if _, open := outs[0].kinds["_airbyte_data"]; open {
				// An open stream's fields are values of its JSON column.
				for _, o := range [][]diffRow{outs[0].rows, outs[1].rows, outs[0].lines, outs[1].lines, written[0], written[1]} {
					for _, r := range o {
						for k := range r.values {
							if _, ok := outs[0].kinds[k]; !ok {
								outs[0].kinds[k], outs[1].kinds[k] = "json", "json"
							}
						}
					}
				}
				// A record holding a NUL anywhere is NULL on PostgreSQL,
				// with a note: its _airbyte_data cannot hold it. The rows
				// are in arrival order, DuckDB's keep their seq.
				var nul []int
				for i, r := range outs[0].rows {
					if _, data := describe(r.seq, ""); bytes.Contains(data, []byte(`\u0000`)) {
						nul = append(nul, i)
					}
				}
				for i := range 2 {
					outs[i].rows, outs[i].lines = without(outs[i].rows, nul), without(outs[i].lines, nul)
					written[i], selected[i] = without(written[i], nul), without(selected[i], nul)
				}
			}
			d := compareOutputs(outs[0], outs[1], describe)
			d = append(d, compareRows("written record", outs[0].kinds, written[0], written[1], describe)...)
			d = append(d, compareRows("selected row", outs[0].kinds, selected[0], selected[1], describe)...)
			if len(d) > 0 {
				t.Errorf("%s:\n%s", hc.schema, strings.Join(d, "\n"))
			}
			if len(outs[0].rows) == 0 && !strings.HasPrefix(outs[0].results[0], "error") {
				t.Errorf("no rows read back from DuckDB: %q", outs[0].results)
			}
		})
	}
}

// without returns rows without those at the indexes drop.
func without(rows []diffRow, drop []int) []diffRow {
	var out []diffRow
	for i, r := range rows {
		if !slices.Contains(drop, i) {
			out = append(out, r)
		}
	}
	return out
}

// describeRecords is what compareRows takes to describe a value: the
// value the record seq of loads gave column col, its data for col "".
func describeRecords(loads [][]*protocol.Message) func(seq, col string) (string, json.RawMessage) {
	inputs := map[string]map[string]json.RawMessage{}
	data := map[string]json.RawMessage{}
	for _, msgs := range loads {
		for _, m := range msgs {
			if m.Record == nil {
				continue
			}
			fields := map[string]json.RawMessage{}
			_ = json.Unmarshal(m.Record.Data, &fields)
			seq := "int64:" + string(fields["seq"])
			inputs[seq], data[seq] = fields, m.Record.Data
		}
	}
	return func(seq, col string) (string, json.RawMessage) {
		seq = strings.Replace(strings.Replace(seq, "float64:", "int64:", 1), "json.Number:", "int64:", 1)
		if col == "" {
			return "", data[seq]
		}
		return "", inputs[seq][col]
	}
}

// hostileWrite writes the stream of cat from c into a destination-local-json
// in process and returns the records of its file, as the destination
// received them.
func hostileWrite(t *testing.T, c *cache.Cache, cat *protocol.ConfiguredCatalog) []diffRow {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	dst, err := destination.New(ctx, "destination-local-json", connector.WithGoConnector(localjson.New()),
		connector.WithConfig(map[string]any{"destination_path": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Write(ctx, cachedLoad{c: c, catalog: cat}, destination.NoStateCache()); err != nil {
		return []diffRow{{other: "write: " + err.Error()}}
	}
	f, err := os.Open(filepath.Join(dir, "_airbyte_raw_"+cat.Streams[0].Stream.Name+".jsonl"))
	if err != nil {
		return []diffRow{{other: "written file: " + err.Error()}}
	}
	defer f.Close()
	var out []diffRow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var line struct {
			Data map[string]any `json:"_airbyte_data"`
		}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&line); err != nil {
			out = append(out, diffRow{other: fmt.Sprintf("bad line %q: %v", sc.Text(), err)})
			continue
		}
		for k, v := range line.Data {
			line.Data[k] = floats(v)
		}
		out = append(out, diffRow{seq: canon(line.Data["seq"], true), values: line.Data})
	}
	if err := sc.Err(); err != nil {
		out = append(out, diffRow{other: "reading the written file: " + err.Error()})
	}
	return out
}

// hostileSelect selects the columns of stream's table with SQL, in
// arrival order, each value as the database/sql driver gives it made
// comparable: JSON decoded, an instant in UTC, a time of day as its text.
func hostileSelect(t *testing.T, c *cache.Cache, stream string) []diffRow {
	t.Helper()
	ctx := context.Background()
	ds, err := c.Dataset(ctx, stream)
	if err != nil {
		return []diffRow{{other: "dataset: " + err.Error()}}
	}
	cols, err := ds.Columns(ctx)
	if err != nil {
		return []diffRow{{other: "columns: " + err.Error()}}
	}
	// A JSON column as its text: DuckDB's driver decodes JSON into a
	// float64, and fails on a number beyond one (1e400).
	var sel []string
	isJSON := map[string]bool{}
	for _, col := range cols {
		q := `"` + col.Name + `"`
		if t := strings.ToUpper(col.Type); t == "JSON" || t == "JSONB" {
			q = "CAST(" + q + " AS VARCHAR) AS " + q
			isJSON[col.Name] = true
		}
		sel = append(sel, q)
	}
	rows, err := c.Query(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+ds.QualifiedTableName()+" ORDER BY _airbyte_raw_id")
	if err != nil {
		return []diffRow{{other: "select: " + err.Error()}}
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	var out []diffRow
	for rows.Next() {
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return append(out, diffRow{other: "scan: " + err.Error()})
		}
		r := diffRow{values: map[string]any{}}
		for i, ct := range types {
			name := ct.Name()
			switch name {
			case "_airbyte_raw_id", "_airbyte_extracted_at":
				continue
			}
			dbType := strings.ToUpper(ct.DatabaseTypeName())
			if isJSON[name] {
				dbType = "JSON"
			}
			r.values[name] = selectedValue(dbType, vals[i])
		}
		if meta, ok := r.values["_airbyte_meta"].(map[string]any); ok {
			r.changes, _ = meta["changes"].([]any)
			delete(r.values, "_airbyte_meta")
		}
		r.seq = canon(r.values["seq"], true)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		out = append(out, diffRow{other: "rows: " + err.Error()})
	}
	return out
}

// selectedValue makes a value a driver scanned comparable across the two
// databases: JSON (text to DuckDB's driver, bytes to pgx's) decoded as
// Dataset.Records decodes it, an instant in UTC, a time of day (a
// time.Time to DuckDB's driver, text to pgx's) as its text, a BIGINT as
// an int64.
func selectedValue(dbType string, v any) any {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch dbType {
	case "JSON", "JSONB":
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case nil:
			return nil
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Sprintf("unmarshalable %T", v)
			}
			s = string(b)
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var d any
		if err := dec.Decode(&d); err != nil {
			return "bad JSON " + s
		}
		return floats(d)
	case "TIME", "TIMETZ", "TIME WITH TIME ZONE", "1266": // pgx's stdlib names timetz by its OID
		if tm, ok := v.(time.Time); ok {
			if dbType == "TIME" {
				return tm.Format("15:04:05.999999")
			}
			return tm.Format("15:04:05.999999Z07:00")
		}
		if s, ok := v.(string); ok {
			// pgx gives 12:00:00+05:30 as "12:00:00+05:30", UTC as "+00".
			if tm, err := time.Parse("15:04:05.999999Z07", s); err == nil {
				return tm.Format("15:04:05.999999Z07:00")
			}
			if tm, err := time.Parse("15:04:05.999999Z07:00", s); err == nil {
				return tm.Format("15:04:05.999999Z07:00")
			}
			if tm, err := time.Parse("15:04:05.999999", s); err == nil {
				return tm.Format("15:04:05.999999")
			}
		}
	case "INT8", "BIGINT":
		if i, ok := v.(int64); ok {
			return i
		}
	}
	if tm, ok := v.(time.Time); ok {
		return tm.UTC()
	}
	return v
}
