package cachetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/protocol"
)

// openSchema is the schema of an open stream as 53 of the corpus's 57
// such streams spell it: no property declared, any allowed.
const openSchema = `{"type":"object","additionalProperties":true,"properties":{}}`

// OpenStream is a configured stream whose schema declares no property.
func OpenStream(name string, mode protocol.SyncMode, pk [][]string, cursor ...string) protocol.ConfiguredStream {
	cs := Stream(name, `{}`, mode, pk, cursor...)
	cs.Stream.JSONSchema = json.RawMessage(openSchema)
	return cs
}

// openData are records of an open stream as a source may send them:
// nested objects, unicode written raw, integers beyond 64 bits, nulls,
// fields the other records lack, and no two alike in shape.
var openData = []string{
	`{"id":1,"name":"Zoë 日本 \"q\" \\ \n","nested":{"a":[1,{"b":null}],"big":123456789012345678901234567890},"none":null,"updated_at":"2024-01-01"}`,
	`{"id":2,"tags":["x","y"],"ok":true,"score":0.25,"updated_at":"2024-01-01"}`,
	`{"id":3,"emoji":"🙂","deep":{"x":{"y":{"z":[[],{}]}}},"updated_at":"2024-01-02"}`,
}

// exactJSON reports whether the backend gives a JSON column's text back
// as a source wrote it, when the source wrote it compact with no escape
// a JSON writer would not write (DuckDB);
// PostgreSQL's jsonb reorders keys and puts spaces after ":" and "," (see
// package cache), so its text is compared as JSON values.
func exactJSON(c *cache.Cache) bool {
	return strings.Contains(fmt.Sprintf("%T", c.DB().Driver()), "duckdb")
}

// canonJSON is a JSON text with its object keys sorted and numbers as
// written, to compare texts as values.
func canonJSON(t testing.TB, text []byte) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(text)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// openLines returns the data of a dataset's RECORD lines, in arrival
// order, after checking that each line is a RECORD of the stream.
func openLines(t testing.TB, c *cache.Cache, stream string) []string {
	t.Helper()
	ctx := context.Background()
	ds, err := c.Dataset(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for line, err := range ds.RecordLines(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		var m protocol.Message
		if err := json.Unmarshal(line.Line, &m); err != nil || m.Type != protocol.TypeRecord || m.Record == nil || m.Record.Stream != stream {
			t.Fatalf("line %s: %v", line.Line, err)
		}
		if canonJSON(t, m.Record.Data) != canonJSON(t, line.Data) {
			t.Fatalf("line %s: Data %s is not its data", line.Line, line.Data)
		}
		out = append(out, string(line.Data))
	}
	return out
}

// sameData fails unless the lines' data are want, in order, as JSON
// values.
func sameData(t testing.TB, what string, got, want []string) {
	t.Helper()
	canon := func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = canonJSON(t, []byte(s))
		}
		return out
	}
	Equal(t, what, canon(got), canon(want))
}

// openRecords returns the rows of a dataset's Records without the cache's
// own columns, in arrival order, and checks that each row has them.
func openRecords(t testing.TB, c *cache.Cache, stream string) []map[string]any {
	t.Helper()
	ctx := context.Background()
	ds, err := c.Dataset(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for row, err := range ds.After("").Records(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		for _, col := range []string{"_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta"} {
			if _, ok := row[col]; !ok {
				t.Fatalf("row %v lacks %s", row, col)
			}
			delete(row, col)
		}
		out = append(out, row)
	}
	return out
}

// decoded is data as Records gives an open row: decoded as encoding/json
// decodes into an any.
func decoded(t testing.TB, data ...string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, d := range data {
		var m map[string]any
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func sameRecords(t testing.TB, what string, got, want []map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %v\n want %v", what, got, want)
	}
}

func recs(stream string, data ...string) []*protocol.Message {
	var out []*protocol.Message
	for _, d := range data {
		out = append(out, Rec(stream, d))
	}
	return out
}

// testOpenAppend: an open stream's records are kept whole, read back as
// the source sent them by RecordLines and Records, across loads.
func testOpenAppend(t *testing.T, open Opener) {
	c := open(t)
	cat := Catalog(OpenStream("events", inc, nil))
	res := MustLoad(t, c, cat, cache.StrategyAppend, recs("events", openData[:2]...)...)
	if res.Records["events"] != 2 {
		t.Fatalf("result %+v", res)
	}
	MustLoad(t, c, cat, cache.StrategyAppend, recs("events", openData[2:]...)...)
	lines := openLines(t, c, "events")
	sameData(t, "record lines", lines, openData)
	if exactJSON(c) {
		Equal(t, "record lines, byte for byte", lines, openData)
	}
	sameRecords(t, "records", openRecords(t, c, "events"), decoded(t, openData...))
	Equal(t, "columns", Strings(t, c, `SELECT column_name FROM information_schema.columns WHERE table_name = 'events' ORDER BY ordinal_position`),
		[]string{"_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta", "_airbyte_data"})
}

// testOpenMerge: an open stream keyed by an undeclared field merges on
// it: the greatest cursor wins, then the last to arrive; a record without
// the key is kept as it is; a key written with escapes is the same key.
func testOpenMerge(t *testing.T, open Opener) {
	c := open(t)
	cat := Catalog(OpenStream("people", inc, [][]string{{"id"}}, "updated_at"))
	MustLoad(t, c, cat, cache.StrategyMerge, recs("people",
		`{"id":1,"v":"a","updated_at":"2024-01-01"}`,
		`{"id":2,"v":"b","updated_at":"2024-01-01"}`,
		`{"id":1,"v":"a2","updated_at":"2024-01-02","more":{"x":1}}`,
		`{"id":1,"v":"old","updated_at":"2023-01-01"}`,
		`{"v":"keyless"}`)...)
	sameData(t, "first sync", openLines(t, c, "people"), []string{
		`{"id":2,"v":"b","updated_at":"2024-01-01"}`,
		`{"id":1,"v":"a2","updated_at":"2024-01-02","more":{"x":1}}`,
		`{"v":"keyless"}`,
	})
	MustLoad(t, c, cat, cache.StrategyMerge, recs("people",
		`{"id":2,"v":"b2","updated_at":"2024-02-01"}`,
		`{"id":1,"v":"stale","updated_at":"2020-01-01"}`,
		`{"i\u0064":2,"v":"b3","updated_at":"2024-02-01"}`,
		`{"v":"keyless"}`)...)
	sameData(t, "second sync", openLines(t, c, "people"), []string{
		`{"id":1,"v":"a2","updated_at":"2024-01-02","more":{"x":1}}`,
		`{"v":"keyless"}`,
		`{"i\u0064":2,"v":"b3","updated_at":"2024-02-01"}`,
		`{"v":"keyless"}`,
	})
}

// testOpenReplace: replace swaps in the new records of an open stream.
func testOpenReplace(t *testing.T, open Opener) {
	c := open(t)
	cat := Catalog(OpenStream("lists", full, nil))
	MustLoad(t, c, cat, cache.StrategyReplace, recs("lists", openData...)...)
	MustLoad(t, c, cat, cache.StrategyReplace, recs("lists", `{"only":"this"}`)...)
	sameData(t, "rows", openLines(t, c, "lists"), []string{`{"only":"this"}`})
}

// testOpenToDeclared: a stream that is open in one load and declared in
// the next, and the other way round: each row keeps what its load stored,
// and reads back as that load's record.
func testOpenToDeclared(t *testing.T, open Opener) {
	c := open(t)
	declared := Catalog(Stream("s", `{"id":{"type":"integer"},"name":{"type":"string"}}`, inc, [][]string{{"id"}}))
	opened := Catalog(OpenStream("s", inc, [][]string{{"id"}}))
	MustLoad(t, c, opened, cache.StrategyAppend, recs("s", `{"id":1,"name":"a","extra":[1]}`)...)
	MustLoad(t, c, declared, cache.StrategyAppend, recs("s", `{"id":2,"name":"b","extra":[2]}`)...)
	sameData(t, "open, then declared", openLines(t, c, "s"), []string{`{"id":1,"name":"a","extra":[1]}`, `{"id":2,"name":"b"}`})
	got := openRecords(t, c, "s")
	want := decoded(t, `{"id":1,"name":"a","extra":[1]}`, `{"id":2,"name":"b","_airbyte_data":null}`)
	// The declared row's key column is the open load's: JSON.
	sameRecords(t, "records", got, want)

	c = open(t)
	MustLoad(t, c, declared, cache.StrategyMerge, recs("s", `{"id":1,"name":"a","extra":[1]}`, `{"id":2,"name":"b"}`)...)
	MustLoad(t, c, opened, cache.StrategyMerge, recs("s", `{"id":2,"name":"b2","extra":{"k":"v"}}`, `{"id":3}`)...)
	sameData(t, "declared, then open", openLines(t, c, "s"), []string{`{"id":1,"name":"a"}`, `{"id":2,"name":"b2","extra":{"k":"v"}}`, `{"id":3}`})
	got = openRecords(t, c, "s")
	want = []map[string]any{{"id": int64(1), "name": "a", "_airbyte_data": nil}}
	want = append(want, decoded(t, `{"id":2,"name":"b2","extra":{"k":"v"}}`, `{"id":3}`)...)
	sameRecords(t, "records", got, want)
}

// testOpenReservedName: _airbyte_data is the cache's own column: a
// declared field, or an open stream's key, that normalises to it is a
// reserved name.
func testOpenReservedName(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	for _, cat := range []*protocol.ConfiguredCatalog{
		Catalog(Stream("d", `{"id":{"type":"integer"},"_Airbyte_Data":{"type":"string"}}`, full, nil)),
		Catalog(OpenStream("o", inc, [][]string{{"_airbyte_data"}})),
	} {
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: cache.StrategyAppend, Messages: Messages()})
		var ce *cacheerr.CollisionError
		if !errors.As(err, &ce) || ce.Kind != "reserved" || ce.Identifier != "_airbyte_data" {
			t.Fatalf("%s: err = %v", cat.Streams[0].Stream.Name, err)
		}
	}
	// A declared stream keyed by a field it does not declare is still
	// refused; an open one is not.
	_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Strategy: cache.StrategyMerge, Messages: Messages(),
		Catalog: Catalog(Stream("d", `{"name":{"type":"string"}}`, inc, [][]string{{"id"}}))})
	if err == nil || !strings.Contains(err.Error(), `primary key field "id" is not a property`) {
		t.Fatalf("declared stream keyed by an undeclared field: %v", err)
	}
	MustLoad(t, c, Catalog(OpenStream("o", inc, [][]string{{"id"}}, "at")), cache.StrategyMerge, Rec("o", `{"id":1,"at":2}`))
}

// testOpenDataThatIsNotAJSONObject: an open stream refuses data that is
// not an object as a declared one does.
func testOpenDataThatIsNotAJSONObject(t *testing.T, open Opener) {
	ctx := context.Background()
	for _, data := range []string{`{"id":2, oops}`, `[2]`, `{"id":2,"name":"cut`, `2}`} {
		c := open(t)
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: Catalog(OpenStream("o", inc, [][]string{{"id"}})), Strategy: cache.StrategyAppend,
			Messages: AsBuilt(Rec("o", `{"id":1}`), Rec("o", data))})
		if err == nil || !strings.Contains(err.Error(), "not a valid JSON object") || !strings.Contains(err.Error(), `"o"`) {
			t.Fatalf("data %s: err = %v", data, err)
		}
		if got := Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM o`); !slices.Equal(got, []string{"0"}) {
			t.Fatalf("data %s: %v rows stored", data, got)
		}
	}
}

// testOpenDeepRecords: an open stream's records nested thousands of
// levels deep are kept whole, one level deeper than the source sent them.
func testOpenDeepRecords(t *testing.T, open Opener) {
	c := open(t)
	nest := func(n int) string { return strings.Repeat("[", n) + `"x"` + strings.Repeat("]", n) }
	data := []string{`{"id":1,"j":` + nest(400) + `,"o":{"k":` + nest(9000) + `}}`, `{"id":2,"s":` + nest(350) + `}`}
	MustLoad(t, c, Catalog(OpenStream("deep", full, [][]string{{"id"}})), cache.StrategyAppend, recs("deep", data...)...)
	sameData(t, "rows", openLines(t, c, "deep"), data)
}
