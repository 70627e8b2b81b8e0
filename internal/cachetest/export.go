package cachetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/protocoltest"
	"github.com/x/goairbyte/protocol"
)

// exportSchema has a column of every type, with field names that are not
// normalised: the lines RecordLines makes must carry the source's
// spelling.
const exportSchema = `{"type":"object","properties":{
	"Id":{"type":"integer"},"Name":{"type":["null","string"]},"score":{"type":"number"},
	"ok":{"type":"boolean"},"born":{"type":"string","format":"date"},
	"At":{"type":"string","format":"date-time"},
	"local":{"type":"string","format":"date-time","airbyte_type":"timestamp_without_timezone"},
	"obj":{"type":"object"},"arr":{"type":"array"}}}`

// ExportCatalog is a full-refresh catalog of stream with exportSchema.
func ExportCatalog(stream string) *protocol.ConfiguredCatalog {
	return &protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{
		Stream:   protocol.Stream{Name: stream, JSONSchema: json.RawMessage(exportSchema), SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}},
		SyncMode: protocol.SyncFullRefresh, DestinationSyncMode: protocol.DestinationAppend,
	}}}
}

// ExportKeys maps the normalised columns of exportSchema back to its
// field names, as a destination's Write does.
var ExportKeys = map[string]string{"id": "Id", "name": "Name", "at": "At"}

// recordsOf yields RECORDs of stream with datas, one millisecond apart.
func recordsOf(stream string, datas ...string) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		for i, d := range datas {
			m := &protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: stream, Data: json.RawMessage(d), EmittedAt: 1700000000000 + int64(i)}}
			if !yield(m, nil) {
				return
			}
		}
	}
}

// testRecordLines loads records of every type and checks the lines
// RecordLines makes of them: valid protocol messages, the same values,
// NULL fields left out, in arrival order — also when the table stores
// them out of order.
func testRecordLines(t *testing.T, open Opener) {
	c := open(t)
	const stream = "Mixed Stream"
	ctx := context.Background()
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: ExportCatalog(stream), FullRefresh: true, Messages: recordsOf(stream, mixedRecords...)}); err != nil {
		t.Fatal(err)
	}
	ds, err := c.Dataset(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	checkRecordLines(t, ds, stream)
	// Stored out of order: the lines still come in raw id order.
	ReverseRows(t, c, ds)
	checkRecordLines(t, ds, stream)
}

var mixedRecords = []string{
	`{"Id":1,"Name":"quote \" backslash \\ newline \n tab \t é \u2028","score":1.5,"ok":true,"born":"2020-02-29","At":"2024-01-02T03:04:05.123+02:00","local":"2024-01-02T03:04:05","obj":{"a":[1,{"b":null}],"c":"x"},"arr":[1,"two",null]}`,
	`{"Id":2,"Name":null,"score":-0.25,"ok":false}`,
	`{"Id":3,"Name":"","obj":"-8:x:"}`,
}

func checkRecordLines(t *testing.T, ds *cache.Dataset, stream string) {
	t.Helper()
	ctx := context.Background()
	in := mixedRecords
	var got []map[string]any
	var ids []string
	for r, err := range ds.After("").RecordLines(ctx, ExportKeys) {
		if err != nil {
			t.Fatal(err)
		}
		line := r.Line
		if line[len(line)-1] != '\n' {
			t.Fatalf("line does not end in a newline: %q", line)
		}
		if err := protocoltest.ValidateMessage(line[:len(line)-1]); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		m := protocol.ParseMessage(line)
		if m.Type != protocol.TypeRecord || m.Record.Stream != stream || m.Record.EmittedAt != 1700000000000+int64(len(got)) {
			t.Fatalf("unexpected message %s", line)
		}
		if string(r.Data) != string(m.Record.Data) {
			t.Fatalf("RecordLine.Data %s, the line's data %s", r.Data, m.Record.Data)
		}
		var data map[string]any
		if err := json.Unmarshal(m.Record.Data, &data); err != nil {
			t.Fatal(err)
		}
		got = append(got, data)
		ids = append(ids, r.RawID)
	}
	if len(got) != len(in) {
		t.Fatalf("%d lines, want %d", len(got), len(in))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("raw ids out of order: %v", ids)
		}
	}
	// A date-time is its instant in UTC (the databases keep no zone),
	// whatever the program's local zone.
	if at := fmt.Sprint(got[0]["At"]); at != "2024-01-02T01:04:05.123Z" {
		t.Errorf("At = %v, want 2024-01-02T01:04:05.123Z", at)
	}
	local, err := time.Parse("2006-01-02T15:04:05.999999", fmt.Sprint(got[0]["local"]))
	if err != nil || !local.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("local = %v (%v), want 2024-01-02T03:04:05", got[0]["local"], err)
	}
	delete(got[0], "At")
	delete(got[0], "local")
	var want []map[string]any
	for _, s := range []string{
		`{"Id":1,"Name":"quote \" backslash \\ newline \n tab \t é \u2028","score":1.5,"ok":true,"born":"2020-02-29","obj":{"a":[1,{"b":null}],"c":"x"},"arr":[1,"two",null]}`,
		`{"Id":2,"score":-0.25,"ok":false}`,
		`{"Id":3,"Name":"","obj":"-8:x:"}`,
	} {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		want = append(want, m)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("data\n got %v\nwant %v", got, want)
	}
	// After a watermark: only the rows after it.
	n := 0
	for r, err := range ds.After(ids[0]).RecordLines(ctx, ExportKeys) {
		if err != nil {
			t.Fatal(err)
		}
		if r.RawID != ids[n+1] {
			t.Fatalf("after %s: row %d is %s, want %s", ids[0], n, r.RawID, ids[n+1])
		}
		n++
	}
	if n != 2 {
		t.Fatalf("after the first row: %d rows, want 2", n)
	}
}

// ReverseRows rewrites a dataset's table with its rows stored in reverse
// raw id order, so that a query without ORDER BY returns them out of order.
func ReverseRows(t testing.TB, c *cache.Cache, ds *cache.Dataset) {
	t.Helper()
	ctx := context.Background()
	tbl := ds.QualifiedTableName()
	for _, q := range []string{
		"CREATE TEMPORARY TABLE reversed AS SELECT * FROM " + tbl + " ORDER BY _airbyte_raw_id DESC",
		"DELETE FROM " + tbl,
		"INSERT INTO " + tbl + " SELECT * FROM reversed",
		"DROP TABLE reversed",
	} {
		if _, err := c.ExecSQL(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var first string
	if err := c.DB().QueryRowContext(ctx, "SELECT _airbyte_raw_id FROM "+tbl+" LIMIT 1").Scan(&first); err != nil {
		t.Fatal(err)
	}
	var max string
	if err := c.DB().QueryRowContext(ctx, "SELECT max(_airbyte_raw_id) FROM "+tbl).Scan(&max); err != nil {
		t.Fatal(err)
	}
	if first != max {
		t.Fatalf("the table's first stored row is %s, not the last one %s: the test cannot reverse the order", first, max)
	}
}

// testRecordLinesCarryChanges: the changes a record's _airbyte_meta lists
// — the source's own, and the fields the cache nulled — go out with its
// line as the record's meta, as a Write without a cache forwards them; a
// record with none has no meta.
func testRecordLinesCarryChanges(t *testing.T, open Opener) {
	c := open(t)
	ctx := context.Background()
	truncated := protocol.RecordMetaChange{Field: "s", Change: protocol.ChangeTruncated, Reason: protocol.ReasonSourceFieldSizeLimitation}
	MustLoad(t, c, Catalog(Stream("changed", `{"id":{"type":"integer"},"s":{"type":"string"},"n":{"type":"number"}}`, full, nil)), cache.StrategyAppend,
		Rec("changed", `{"id":1,"s":"plain","n":1}`),
		&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "changed", Data: json.RawMessage(`{"id":2,"s":"cut"}`), EmittedAt: 1700000000000,
			Meta: &protocol.RecordMeta{Changes: []protocol.RecordMetaChange{truncated}}}},
		Rec("changed", `{"id":3,"n":"not a number"}`))
	ds, err := c.Dataset(ctx, "changed")
	if err != nil {
		t.Fatal(err)
	}
	var got [][]protocol.RecordMetaChange
	for r, err := range ds.After("").RecordLines(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if err := protocoltest.ValidateMessage(r.Line[:len(r.Line)-1]); err != nil {
			t.Fatalf("%v: %s", err, r.Line)
		}
		m := protocol.ParseMessage(r.Line)
		if m.Type != protocol.TypeRecord || string(m.Record.Data) != string(r.Data) {
			t.Fatalf("line %s, data %s", r.Line, r.Data)
		}
		var changes []protocol.RecordMetaChange
		if m.Record.Meta != nil {
			if len(m.Record.Meta.Changes) == 0 {
				t.Errorf("a meta with no changes: %s", r.Line)
			}
			changes = m.Record.Meta.Changes
		}
		got = append(got, changes)
	}
	want := [][]protocol.RecordMetaChange{nil, {truncated},
		{{Field: "n", Change: protocol.ChangeNulled, Reason: protocol.ReasonDestinationTypecastError}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes\n got %+v\nwant %+v", got, want)
	}
}

// testRecordLinesKeysOfLongFields: a field whose normalised name is
// longer than the backend's identifier limit gets a shortened column;
// keys given by NormalizeName, as a destination's Write makes them, still
// name it, so its line carries the source's spelling.
func testRecordLinesKeysOfLongFields(t *testing.T, open Opener) {
	c := open(t)
	ctx := context.Background()
	long := strings.Repeat("VeryLongField", 6) // 78 bytes
	short := "Short Name"
	MustLoad(t, c, Catalog(Stream("wide", `{"`+long+`":{"type":"string"},"`+short+`":{"type":"integer"}}`, full, nil)), cache.StrategyAppend,
		Rec("wide", `{"`+long+`":"x","`+short+`":1}`))
	ds, err := c.Dataset(ctx, "wide")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, f := range []string{long, short} {
		n, err := cache.NormalizeName(f)
		if err != nil {
			t.Fatal(err)
		}
		keys[n] = f
	}
	var got []string
	for r, err := range ds.RecordLines(ctx, keys) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(r.Data))
	}
	Equal(t, "data", got, []string{`{"` + long + `":"x","` + short + `":1}`})
}

// testRecordLinesTimesWithZones: a time with time zone goes out with its
// offset, written as RFC 3339 writes one (what a source sends), on every
// backend.
func testRecordLinesTimesWithZones(t *testing.T, open Opener) {
	c := open(t)
	ctx := context.Background()
	MustLoad(t, c, Catalog(Stream("clock", `{"id":{"type":"integer"},"t":{"type":"string","format":"time","airbyte_type":"time_with_timezone"}}`, full, nil)), cache.StrategyAppend,
		Rec("clock", `{"id":1,"t":"12:34:56+02:00"}`), Rec("clock", `{"id":2,"t":"23:59:59.123456-05:30"}`), Rec("clock", `{"id":3,"t":"10:00:00"}`))
	ds, err := c.Dataset(ctx, "clock")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for r, err := range ds.After("").RecordLines(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(r.Data))
	}
	Equal(t, "data", got, []string{`{"id":1,"t":"12:34:56+02:00"}`, `{"id":2,"t":"23:59:59.123456-05:30"}`, `{"id":3,"t":"10:00:00Z"}`})
}

// testTablesChangedByHand: a stream table dropped by hand (ExecSQL) is a
// stream the cache no longer holds — for Streams, Dataset and a dataset
// taken before — and one altered by hand exports the columns it has now.
func testTablesChangedByHand(t *testing.T, open Opener) {
	c := open(t)
	ctx := context.Background()
	props := `{"id":{"type":"integer"},"name":{"type":"string"}}`
	MustLoad(t, c, Catalog(Stream("kept", props, full, nil), Stream("gone", props, full, nil)), cache.StrategyAppend,
		Rec("kept", `{"id":1,"name":"a"}`), Rec("gone", `{"id":2,"name":"b"}`))
	gone, err := c.Dataset(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	kept, err := c.Dataset(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"DROP TABLE " + gone.QualifiedTableName(),
		"ALTER TABLE " + kept.QualifiedTableName() + " DROP COLUMN name",
		"ALTER TABLE " + kept.QualifiedTableName() + " DROP COLUMN _airbyte_meta",
		"ALTER TABLE " + kept.QualifiedTableName() + " ADD COLUMN note VARCHAR DEFAULT 'by hand'",
	} {
		if _, err := c.ExecSQL(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	streams, err := c.Streams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	Equal(t, "streams", streams, []string{"kept"})
	var nf *protocol.StreamNotFoundError
	if _, err := c.Dataset(ctx, "gone"); !errors.As(err, &nf) || !reflect.DeepEqual(nf.Available, []string{"kept"}) {
		t.Errorf("Dataset of the dropped table: %v, want a stream not found among [kept]", err)
	}
	notFound := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, protocol.ErrStreamNotFound) {
			t.Errorf("%s of the dropped table: %v, want a stream not found", what, err)
		}
	}
	_, err = gone.Count(ctx)
	notFound("Count", err)
	_, err = gone.Columns(ctx)
	notFound("Columns", err)
	for _, err := range gone.Records(ctx) {
		notFound("Records", err)
		break
	}
	for _, err := range gone.RecordLines(ctx, nil) {
		notFound("RecordLines", err)
		break
	}

	var got []string
	for r, err := range kept.RecordLines(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(r.Data))
	}
	Equal(t, "the altered table's data", got, []string{`{"id":1,"note":"by hand"}`})
}

// testRecordLinesStopWhenCancelled: cancelling the context mid-export
// ends it with the context's error, as database/sql's rows do, even
// though the page being consumed was read already; and neither that nor
// breaking out leaves a connection in use.
func testRecordLinesStopWhenCancelled(t *testing.T, open Opener) {
	c := open(t)
	var msgs []*protocol.Message
	for i := range 10 {
		msgs = append(msgs, Rec("ticks", fmt.Sprintf(`{"id":%d}`, i)))
	}
	MustLoad(t, c, Catalog(Stream("ticks", `{"id":{"type":"integer"}}`, full, nil)), cache.StrategyAppend, msgs...)
	ds, err := c.Dataset(context.Background(), "ticks")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var last error
	for _, err := range ds.RecordLines(ctx, nil) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 3 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) || n != 3 {
		t.Errorf("cancelled after 3 lines: %d lines, then %v; want 3, then context.Canceled", n, last)
	}
	for range ds.RecordLines(context.Background(), nil) {
		break
	}
	for range ds.Records(context.Background()) {
		break
	}
	if s := c.DB().Stats(); s.InUse != 0 {
		t.Errorf("%d connections in use after the exports ended", s.InUse)
	}
	MustLoad(t, c, Catalog(Stream("ticks", `{"id":{"type":"integer"}}`, full, nil)), cache.StrategyAppend, msgs...)
}

// exportPageSize is the number of rows a page of RecordLines holds (the
// cache's exportPageSize).
const exportPageSize = 50_000

// testRecordLinesOfAStreamReplaced: a replace of the stream committed
// while an export of it is paused between pages never gives a mix of the
// two tables, nor silently fewer rows than the export started on: the
// export either gives every row of the old table or stops with an error
// saying that the stream was replaced. The table has four pages: while
// the consumer holds the first row, the readers have read at most the
// first three, so the fourth is read after the replace.
func testRecordLinesOfAStreamReplaced(t *testing.T, open Opener) {
	c := open(t)
	RecordLinesReplacedBy(t, c, c)
}

// RecordLinesReplacedBy is testRecordLinesOfAStreamReplaced with the
// replace loaded through other, a cache open on the same database as c.
func RecordLinesReplacedBy(t *testing.T, c, other *cache.Cache) {
	ctx := context.Background()
	cat := Catalog(Stream("swapped", `{"id":{"type":"integer"},"load":{"type":"string"}}`, full, nil))
	total := 3*exportPageSize + 1
	old := func(yield func(*protocol.Message, error) bool) {
		for i := range total {
			if !yield(Rec("swapped", fmt.Sprintf(`{"id":%d,"load":"old"}`, i)), nil) {
				return
			}
		}
	}
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: cache.StrategyReplace, FullRefresh: true, Messages: old}); err != nil {
		t.Fatal(err)
	}
	ds, err := c.Dataset(ctx, "swapped")
	if err != nil {
		t.Fatal(err)
	}
	n, fromNew := 0, 0
	var last error
	for r, err := range ds.RecordLines(ctx, nil) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 1 {
			MustLoad(t, other, cat, cache.StrategyReplace, Rec("swapped", `{"id":1,"load":"new"}`), Rec("swapped", `{"id":2,"load":"new"}`))
		}
		if strings.Contains(string(r.Data), `"new"`) {
			fromNew++
		}
	}
	switch {
	case fromNew > 0:
		t.Fatalf("the export gave %d rows of the old table and %d of the new one (then %v)", n-fromNew, fromNew, last)
	case last == nil && n != total:
		t.Fatalf("the export gave %d of the old table's %d rows and no error", n, total)
	case last != nil && !strings.Contains(last.Error(), "replaced"):
		t.Fatalf("the export stopped after %d rows with %v, want an error saying the stream was replaced", n, last)
	}
	t.Logf("%d rows, then %v", n, last)
	// The next export gives the new table.
	var got []string
	for r, err := range ds.RecordLines(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(r.Data))
	}
	Equal(t, "the next export", got, []string{`{"id":1,"load":"new"}`, `{"id":2,"load":"new"}`})
}
