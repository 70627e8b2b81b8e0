package cachetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/cachelink"
	"github.com/x/goairbyte/protocol"
)

// cacheOps are the operations package cache gives package destination.
var cacheOps = cachelink.Get[*cache.Cache, *cache.Dataset, cache.StateKey]()

// Opener returns a fresh, empty cache for one test.
type Opener func(t *testing.T) *cache.Cache

// Stream is a configured stream with a JSON schema given as properties.
func Stream(name, properties string, mode protocol.SyncMode, pk [][]string, cursor ...string) protocol.ConfiguredStream {
	return protocol.ConfiguredStream{
		Stream: protocol.Stream{Name: name, JSONSchema: json.RawMessage(`{"type":"object","properties":` + properties + `}`),
			SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental}},
		SyncMode: mode, PrimaryKey: pk, CursorField: cursor, DestinationSyncMode: protocol.DestinationAppend,
	}
}

// Catalog is a configured catalog of streams.
func Catalog(streams ...protocol.ConfiguredStream) *protocol.ConfiguredCatalog {
	return &protocol.ConfiguredCatalog{Streams: streams}
}

// Strings runs a query and returns each row as its columns cast to text
// joined by "|", NULL as "NULL".
func Strings(t testing.TB, c *cache.Cache, query string, args ...any) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]*string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			if v == nil {
				parts[i] = "NULL"
			} else {
				parts[i] = *v
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Equal fails the test unless got equals want.
func Equal(t testing.TB, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n got  %q\n want %q", what, got, want)
	}
}

// MustLoad loads messages and fails the test on error.
func MustLoad(t testing.TB, c *cache.Cache, cat *protocol.ConfiguredCatalog, st cache.Strategy, msgs ...*protocol.Message) *cache.LoadResult {
	t.Helper()
	res, err := c.Load(context.Background(), cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: st, Messages: Messages(msgs...)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return res
}

const usersProps = `{"id":{"type":"integer"},"name":{"type":["null","string"]},"updated_at":{"type":"string","format":"date-time","airbyte_type":"timestamp_with_timezone"}}`

// Run runs the backend-independent suite. Each test opens its own cache
// and runs in parallel with the others.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"append", testAppend},
		{"merge", testMerge},
		{"merge keeps rows whose key is NULL", testMergeKeepsRowsWhoseKeyIsNULL},
		{"merge across batches", testMergeAcrossBatches},
		{"merge composite and nested keys", testMergeCompositeAndNestedKeys},
		{"merge orders text cursors by their bytes", testMergeOrdersTextCursorsByBytes},
		{"merge compares keys and cursors held as JSON by value", testMergeJSONKeysByValue},
		{"streams and states in the order of their names' bytes", testStreamsInByteOrder},
		{"replace", testReplace},
		{"replace incremental refused", testReplaceIncrementalRefused},
		{"replace keeps the table of a stream that was not read", testReplaceKeepsTheTableOfAStreamThatWasNotRead},
		{"a first replace not swapped in leaves no owner", testAFirstReplaceNotSwappedInLeavesNoOwner},
		{"counts of records rolled back", testCountsOfRecordsRolledBack},
		{"commits reported as they land", testCommitsReportedAsTheyLand},
		{"auto", testAuto},
		{"state", testState},
		{"global and legacy state", testGlobalAndLegacyState},
		{"a source that changes its kind of state", testStateKindChanges},
		{"states of both kinds that an earlier version left", testStatesOfBothKindsLeft},
		{"a read that sends both kinds of state", testBothKindsInOneRead},
		{"states of streams not in the catalog", testStatesOfStreamsNotInTheCatalog},
		{"many states at once", testManyStatesAtOnce},
		{"schema evolution", testSchemaEvolution},
		{"a merge whose key or cursor changed type", testMergeWhoseKeyOrCursorChangedType},
		{"a merge whose key gained a field", testMergeWhoseKeyGainedAField},
		{"a member given twice", testAMemberGivenTwice},
		{"data that is not a JSON object", testDataThatIsNotAJSONObject},
		{"values that do not fit are kept as notes", testValuesThatDoNotFitAreKeptAsNotes},
		{"numbers and booleans by one rule", testNumbersAndBooleansByOneRule},
		{"the sign of a zero", testTheSignOfAZero},
		{"numbers beyond a double in JSON columns", testNumbersBeyondADoubleInJSON},
		{"dates and date-times read as the databases read them", testDatesAndDateTimes},
		{"dates and date-times from year 0 to 9999", testDateRange},
		{"dates and times spelled as DuckDB's cast reads them", testDateTimeSpellings},
		{"large record", testLargeRecord},
		{"lone surrogates", testLoneSurrogates},
		{"a record without emitted_at", testARecordWithoutEmittedAt},
		{"deep records", testDeepRecords},
		{"hostile names", testHostileNames},
		{"a field whose name holds a NUL", testAFieldWhoseNameHoldsANUL},
		{"a field named like a backend's own", testAFieldNamedLikeABackendsOwn},
		{"tables of another source", testTablesOfAnotherSource},
		{"one load of a source at a time", testOneLoadOfASourceAtATime},
		{"datasets", testDatasets},
		{"placeholders outside quoted text and comments", testPlaceholders},
		{"source error", testSourceError},
		{"messages that panic", testMessagesThatPanic},
		{"record lines", testRecordLines},
		{"record lines carry the changes", testRecordLinesCarryChanges},
		{"record lines keep the names of long fields", testRecordLinesKeysOfLongFields},
		{"record lines keep the zones of times", testRecordLinesTimesWithZones},
		{"tables changed by hand", testTablesChangedByHand},
		{"record lines stop when cancelled", testRecordLinesStopWhenCancelled},
		{"record lines of a stream replaced during the export", testRecordLinesOfAStreamReplaced},
		{"open stream: append", testOpenAppend},
		{"open stream: merge", testOpenMerge},
		{"open stream: replace", testOpenReplace},
		{"open stream: open, then declared, and back", testOpenToDeclared},
		{"open stream: _airbyte_data is reserved", testOpenReservedName},
		{"open stream: data that is not a JSON object", testOpenDataThatIsNotAJSONObject},
		{"open stream: deep records", testOpenDeepRecords},
		{"merge orders JSON cursors alike", testMergeOrdersJSONCursorsAlike},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open)
		})
	}
}

// RunTextOrder runs the suite's tests whose result depends on how the
// database orders text again, one after another: for a database whose
// default collation is not bytewise (PostgreSQL's en_US.UTF-8 or an ICU
// locale, where the suite's own test databases have C).
func RunTextOrder(t *testing.T, open Opener) {
	t.Run("merge orders text cursors by their bytes", func(t *testing.T) { testMergeOrdersTextCursorsByBytes(t, open) })
	t.Run("streams and states in the order of their names' bytes", func(t *testing.T) { testStreamsInByteOrder(t, open) })
}

// RunInZone runs the suite's tests of dates and times again, one after
// another, with the program's local zone (time.Local) set to loc: what a
// backend stores and exports does not depend on the zone of the program
// that loads it. time.Local is the process's, so the caller must not be a
// parallel test.
func RunInZone(t *testing.T, open Opener, loc *time.Location) {
	saved := time.Local
	time.Local = loc
	t.Cleanup(func() { time.Local = saved })
	for _, tc := range []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"dates and date-times read as the databases read them", testDatesAndDateTimes},
		{"dates and date-times from year 0 to 9999", testDateRange},
		{"record lines", testRecordLines},
		{"record lines keep the zones of times", testRecordLinesTimesWithZones},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open) })
	}
}

const (
	inc  = protocol.SyncIncremental
	full = protocol.SyncFullRefresh
)

// users is the catalog of the suite's users stream, read in mode.
func users(mode protocol.SyncMode) *protocol.ConfiguredCatalog {
	return Catalog(Stream("users", usersProps, mode, [][]string{{"id"}}, "updated_at"))
}

// u is a RECORD of the users stream.
func u(id int, name, ts string) *protocol.Message {
	return Rec("users", fmt.Sprintf(`{"id":%d,"name":%q,"updated_at":%q}`, id, name, ts))
}

// usersQuery lists the users by id, then arrival, as id|name.
const usersQuery = `SELECT CAST(id AS VARCHAR), name FROM users ORDER BY id, _airbyte_raw_id`

// testAppend: append adds every record as a row, across loads.
func testAppend(t *testing.T, open Opener) {
	c := open(t)
	res := MustLoad(t, c, users(inc), cache.StrategyAppend, u(1, "a", "2024-01-01T00:00:00Z"), u(2, "b", "2024-01-01T00:00:00Z"), u(1, "a2", "2024-01-02T00:00:00Z"))
	if res.Total != 3 || res.Records["users"] != 3 {
		t.Fatalf("result %+v", res)
	}
	MustLoad(t, c, users(inc), cache.StrategyAppend, u(3, "c", "2024-01-03T00:00:00Z"))
	Equal(t, "rows", Strings(t, c, usersQuery), []string{"1|a", "1|a2", "2|b", "3|c"})
}

// testMerge: merge keeps the newest row per key, by cursor then by
// arrival, duplicates within one sync included.
func testMerge(t *testing.T, open Opener) {
	c := open(t)
	// Duplicates within one sync; an older cursor arriving later loses;
	// an equal cursor is decided by arrival.
	MustLoad(t, c, users(inc), cache.StrategyMerge,
		u(1, "a", "2024-01-01T00:00:00Z"), u(2, "b", "2024-01-01T00:00:00Z"), u(1, "a2", "2024-01-02T00:00:00Z"),
		u(1, "old", "2023-01-01T00:00:00Z"), u(2, "b2", "2024-01-01T00:00:00Z"))
	Equal(t, "first sync", Strings(t, c, usersQuery), []string{"1|a2", "2|b2"})
	MustLoad(t, c, users(inc), cache.StrategyMerge, u(2, "b3", "2024-02-01T00:00:00Z"), u(3, "c", "2024-01-01T00:00:00Z"), u(1, "stale", "2020-01-01T00:00:00Z"))
	Equal(t, "second sync", Strings(t, c, usersQuery), []string{"1|a2", "2|b3", "3|c"})
}

// testMergeKeepsRowsWhoseKeyIsNULL: rows whose key is NULL are never
// deduplicated.
func testMergeKeepsRowsWhoseKeyIsNULL(t *testing.T, open Opener) {
	c := open(t)
	nul := func(name string) *protocol.Message {
		return Rec("users", fmt.Sprintf(`{"id":null,"name":%q,"updated_at":"2024-01-01T00:00:00Z"}`, name))
	}
	MustLoad(t, c, users(inc), cache.StrategyMerge, nul("x"), u(1, "a", "2024-01-01T00:00:00Z"), nul("y"))
	Equal(t, "first sync", Strings(t, c, `SELECT name FROM users ORDER BY name`), []string{"a", "x", "y"})
	MustLoad(t, c, users(inc), cache.StrategyMerge, nul("z"), u(1, "a2", "2024-01-02T00:00:00Z"))
	Equal(t, "second sync", Strings(t, c, `SELECT name FROM users ORDER BY name`), []string{"a2", "x", "y", "z"})
}

// A backend may watch key order to skip the duplicate check (see
// backend.KeyOrderer): keys increasing within each batch but repeated
// across batches, decreasing keys, text keys, and a sync into a table
// that has rows must all still be merged.
func testMergeAcrossBatches(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	load := func(cat *protocol.ConfiguredCatalog, msgs ...*protocol.Message) {
		t.Helper()
		if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: cache.StrategyMerge, BatchSize: 2, Messages: Messages(msgs...)}); err != nil {
			t.Fatal(err)
		}
	}
	ts := "2024-01-01T00:00:00Z"
	load(users(inc), u(1, "a", ts), u(2, "b", ts), u(2, "b2", ts), u(3, "c", ts))
	Equal(t, "repeated across batches", Strings(t, c, usersQuery), []string{"1|a", "2|b2", "3|c"})
	load(users(inc), u(3, "c2", ts), u(4, "d", ts))
	Equal(t, "into a table with rows", Strings(t, c, usersQuery), []string{"1|a", "2|b2", "3|c2", "4|d"})
	names := Catalog(Stream("names", `{"k":{"type":"string"},"v":{"type":"integer"}}`, inc, [][]string{{"k"}}))
	load(names, Rec("names", `{"k":"b","v":1}`), Rec("names", `{"k":"a","v":2}`), Rec("names", `{"k":"c","v":3}`), Rec("names", `{"k":"b","v":4}`), Rec("names", `{"k":"d","v":5}`))
	Equal(t, "text keys", Strings(t, c, `SELECT k, CAST(v AS VARCHAR) FROM names ORDER BY k`), []string{"a|2", "b|4", "c|3", "d|5"})
	// An empty text key is a key like any other, and a key written
	// with escapes is compared as the database reads it.
	odd := Catalog(Stream("odd", `{"k":{"type":"string"},"v":{"type":"integer"}}`, inc, [][]string{{"k"}}))
	load(odd, Rec("odd", `{"k":"","v":1}`), Rec("odd", `{"k":"b","v":2}`), Rec("odd", `{"k":"","v":3}`), Rec("odd", `{"k":"c","v":4}`))
	Equal(t, "empty keys", Strings(t, c, `SELECT k, CAST(v AS VARCHAR) FROM odd ORDER BY k`), []string{"|3", "b|2", "c|4"})
	load(odd, Rec("odd", `{"k":"a\u0062","v":5}`), Rec("odd", `{"k":"ab","v":6}`))
	Equal(t, "escaped keys", Strings(t, c, `SELECT k, CAST(v AS VARCHAR) FROM odd WHERE k = 'ab'`), []string{"ab|6"})
	desc := Catalog(Stream("desc", `{"id":{"type":"integer"},"v":{"type":"integer"}}`, inc, [][]string{{"id"}}))
	load(desc, Rec("desc", `{"id":-1,"v":1}`), Rec("desc", `{"id":-2,"v":2}`), Rec("desc", `{"id":-1,"v":3}`))
	Equal(t, "decreasing keys", Strings(t, c, `SELECT CAST(id AS VARCHAR), CAST(v AS VARCHAR) FROM "desc" ORDER BY v`), []string{"-2|2", "-1|3"})
}

// testMergeCompositeAndNestedKeys: keys of several fields, and a key
// inside an object, merge too.
func testMergeCompositeAndNestedKeys(t *testing.T, open Opener) {
	c := open(t)
	cat := Catalog(
		Stream("pairs", `{"a":{"type":"integer"},"b":{"type":"string"},"v":{"type":"integer"}}`, inc, [][]string{{"a"}, {"b"}}),
		Stream("nested", `{"k":{"type":"object","properties":{"id":{"type":"string"}}},"v":{"type":"integer"}}`, inc, [][]string{{"k", "id"}}),
	)
	MustLoad(t, c, cat, cache.StrategyMerge,
		Rec("pairs", `{"a":1,"b":"x","v":1}`), Rec("pairs", `{"a":1,"b":"y","v":2}`), Rec("pairs", `{"a":1,"b":"x","v":3}`),
		Rec("nested", `{"k":{"id":"p"},"v":1}`), Rec("nested", `{"k":{"id":"q"},"v":2}`), Rec("nested", `{"k":{"id":"p"},"v":3}`))
	Equal(t, "composite", Strings(t, c, `SELECT CAST(a AS VARCHAR), b, CAST(v AS VARCHAR) FROM pairs ORDER BY a, b`), []string{"1|x|3", "1|y|2"})
	Equal(t, "nested", Strings(t, c, `SELECT CAST(v AS VARCHAR) FROM nested ORDER BY v`), []string{"2", "3"})
	// Fields named as the aliases of the merge's statements once were (o,
	// n), keys in them and beside them, merged across loads.
	cat = Catalog(
		Stream("alias_o", `{"o":{"type":"object"},"n":{"type":"string"},"v":{"type":"integer"}}`, inc, [][]string{{"o", "id"}}, "v"),
		Stream("alias_n", `{"o":{"type":"string"},"n":{"type":"integer"},"v":{"type":"integer"}}`, inc, [][]string{{"n"}}, "v"),
	)
	MustLoad(t, c, cat, cache.StrategyMerge, Rec("alias_o", `{"o":{"id":"p"},"n":"x","v":1}`), Rec("alias_o", `{"o":{"id":"q"},"v":2}`),
		Rec("alias_n", `{"o":"x","n":1,"v":1}`), Rec("alias_n", `{"n":2,"v":2}`))
	MustLoad(t, c, cat, cache.StrategyMerge, Rec("alias_o", `{"o":{"id":"p"},"n":"y","v":3}`), Rec("alias_n", `{"o":"y","n":1,"v":3}`))
	Equal(t, "a field named o", Strings(t, c, `SELECT CAST(v AS VARCHAR) FROM alias_o ORDER BY v`), []string{"2", "3"})
	Equal(t, "a field named n", Strings(t, c, `SELECT CAST(v AS VARCHAR) FROM alias_n ORDER BY v`), []string{"2", "3"})
}

// testMergeJSONKeysByValue: a key held as JSON (undeclared, in an open
// stream, inside an object) is one key however a number is written (1,
// 1.0, 1e0), and not the string of its digits; a cursor held as JSON ties
// for equal numbers, so the last to arrive is kept.
func testMergeJSONKeysByValue(t *testing.T, open Opener) {
	c := open(t)
	cat := Catalog(
		Stream("undeclared", `{"id":{},"v":{"type":"integer"}}`, inc, [][]string{{"id"}}),
		Stream("inside", `{"o":{"type":"object"},"v":{"type":"integer"}}`, inc, [][]string{{"o", "id"}}),
		Stream("tied", `{"id":{"type":"integer"},"c":{},"v":{"type":"integer"}}`, inc, [][]string{{"id"}}, "c"),
	)
	cat.Streams = append(cat.Streams, protocol.ConfiguredStream{
		Stream:   protocol.Stream{Name: "whole", JSONSchema: json.RawMessage(`{"type":"object"}`), SupportedSyncModes: []protocol.SyncMode{inc}},
		SyncMode: inc, PrimaryKey: [][]string{{"id"}}, DestinationSyncMode: protocol.DestinationAppend,
	})
	var msgs []*protocol.Message
	for i, id := range []string{`1`, `1.0`, `"1"`, `1e0`, `"1"`} {
		v := strconv.Itoa(i + 1)
		msgs = append(msgs, Rec("undeclared", `{"id":`+id+`,"v":`+v+`}`), Rec("whole", `{"id":`+id+`,"v":`+v+`}`),
			Rec("inside", `{"o":{"id":`+id+`},"v":`+v+`}`), Rec("tied", `{"id":1,"c":`+strings.Replace(id, `"1"`, `0.5`, 1)+`,"v":`+v+`}`))
	}
	MustLoad(t, c, cat, cache.StrategyMerge, msgs[:8]...)
	MustLoad(t, c, cat, cache.StrategyMerge, msgs[8:]...)
	for _, table := range []string{"undeclared", "inside"} {
		Equal(t, table, Strings(t, c, `SELECT CAST(v AS VARCHAR) FROM `+table+` ORDER BY v`), []string{"4", "5"})
	}
	Equal(t, "whole", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM whole`), []string{"2"})
	Equal(t, "tied", Strings(t, c, `SELECT CAST(v AS VARCHAR) FROM tied`), []string{"4"})
}

// testReplace: replace swaps in the new rows and leaves no staging table.
func testReplace(t *testing.T, open Opener) {
	c := open(t)
	MustLoad(t, c, users(full), cache.StrategyReplace, u(1, "a", "2024-01-01T00:00:00Z"), u(2, "b", "2024-01-01T00:00:00Z"))
	MustLoad(t, c, users(full), cache.StrategyReplace, u(3, "c", "2024-01-01T00:00:00Z"))
	Equal(t, "rows", Strings(t, c, usersQuery), []string{"3|c"})
	// No staging table is left behind.
	Equal(t, "tables", Strings(t, c, `SELECT table_name FROM information_schema.tables WHERE table_name LIKE '_airbyte_tmp%'`), nil)
}

// testReplaceIncrementalRefused: replace on an incremental read would
// lose rows; it needs a full refresh.
func testReplaceIncrementalRefused(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: users(inc), Strategy: cache.StrategyReplace, Messages: Messages(u(1, "a", "2024-01-01T00:00:00Z"))})
	var se *cacheerr.StrategyError
	if !errors.As(err, &se) {
		t.Fatalf("want a StrategyError, got %v", err)
	}
	_, err = c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: users(inc), Strategy: cache.StrategyReplace, FullRefresh: true, Messages: Messages(u(1, "a", "2024-01-01T00:00:00Z"))})
	if err != nil {
		t.Fatalf("replace with full refresh: %v", err)
	}
}

// A connector that exits 0 having sent nothing for a stream (or that
// reported it started and never complete) must not replace the stream's
// table with an empty or partial one: the table is kept, and the stream
// is reported unfinished. A stream reported complete is swapped in, even
// empty; so is one that got records from a connector that reports no
// statuses at all.
func testReplaceKeepsTheTableOfAStreamThatWasNotRead(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	load := func(msgs ...*protocol.Message) *cache.LoadResult {
		t.Helper()
		res, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: users(full), Strategy: cache.StrategyReplace, Messages: Messages(msgs...)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	load(u(1, "a", "2024-01-01T00:00:00Z"), u(2, "b", "2024-01-01T00:00:00Z"))
	for _, msgs := range [][]*protocol.Message{
		nil, // nothing at all
		{Status("users", protocol.StatusStarted), u(3, "c", "2024-01-01T00:00:00Z")},
		{Status("users", protocol.StatusStarted), u(3, "c", "2024-01-01T00:00:00Z"), Status("users", protocol.StatusIncomplete)},
	} {
		res := load(msgs...)
		if strings.Join(res.Unfinished, ",") != "users" || res.Records["users"] != 0 {
			t.Errorf("%d messages: result %+v, want users unfinished and nothing loaded", len(msgs), res)
		}
		Equal(t, "the table is kept", Strings(t, c, usersQuery), []string{"1|a", "2|b"})
	}
	Equal(t, "no staging table is left", Strings(t, c, `SELECT table_name FROM information_schema.tables WHERE table_name LIKE '_airbyte_tmp%'`), nil)
	if res := load(u(4, "d", "2024-01-01T00:00:00Z")); len(res.Unfinished) != 0 {
		t.Errorf("records and no status: %+v", res)
	}
	Equal(t, "records without statuses replace", Strings(t, c, usersQuery), []string{"4|d"})
	if res := load(Status("users", protocol.StatusStarted), Status("users", protocol.StatusComplete)); len(res.Unfinished) != 0 {
		t.Errorf("complete and empty: %+v", res)
	}
	Equal(t, "a stream complete and empty is empty", Strings(t, c, usersQuery), nil)
}

// testAFirstReplaceNotSwappedInLeavesNoOwner: a replace stream's first
// load that was not swapped in (unfinished, or its source failed) makes no
// table and leaves none recorded; one cancelled (stopped as a killed one
// is) leaves its staging table recorded, until the source's next load.
// Then another source loads a stream of that name, and _airbyte_streams
// names no table that does not exist.
func testAFirstReplaceNotSwappedInLeavesNoOwner(t *testing.T, open Opener) {
	c := open(t)
	for i, msgs := range []func(cancel func()) iter.Seq2[*protocol.Message, error]{
		func(func()) iter.Seq2[*protocol.Message, error] {
			return Messages(Status("users", protocol.StatusStarted), u(1, "a", "2024-01-01T00:00:00Z"))
		},
		func(func()) iter.Seq2[*protocol.Message, error] {
			return FailAfter(errors.New("source failed"), u(1, "a", "2024-01-01T00:00:00Z"))
		},
		func(cancel func()) iter.Seq2[*protocol.Message, error] {
			return func(yield func(*protocol.Message, error) bool) {
				if yield(u(1, "a", "2024-01-01T00:00:00Z"), nil) {
					cancel()
				}
			}
		},
	} {
		source := fmt.Sprintf("source-%d", i)
		ctx, cancel := context.WithCancel(context.Background())
		res, err := c.Load(ctx, cache.LoadRequest{SourceName: source, Catalog: users(full), Strategy: cache.StrategyReplace, Messages: msgs(cancel)})
		cancel()
		if res == nil || res.Records["users"] != 0 {
			t.Fatalf("%s: %+v, %v; want nothing loaded", source, res, err)
		}
		recorded := func(when string) {
			t.Helper()
			Equal(t, source+": tables recorded "+when, Strings(t, c, `SELECT table_name FROM _airbyte_streams WHERE table_name NOT LIKE 'others%'`), nil)
		}
		if i < 2 { // the load ran to its end
			recorded("after the load")
		}
		others := Catalog(Stream(fmt.Sprintf("others_%d", i), `{"id":{"type":"integer"}}`, full, nil))
		if _, err := c.Load(context.Background(), cache.LoadRequest{SourceName: source, Catalog: others, Strategy: cache.StrategyAppend, Messages: Messages()}); err != nil {
			t.Fatalf("%s's next load: %v", source, err)
		}
		recorded("after the source's next load")
	}
	_, err := c.Load(context.Background(), cache.LoadRequest{SourceName: "source-b", Catalog: users(full), Strategy: cache.StrategyReplace,
		Messages: Messages(u(2, "b", "2024-01-01T00:00:00Z"))})
	if err != nil {
		t.Fatalf("another source's load: %v", err)
	}
	Equal(t, "rows", Strings(t, c, usersQuery), []string{"2|b"})
}

// Counts say what the cache holds: records rolled back by a cancelled load
// and records of a replace that was not swapped in count as read, not as
// loaded.
func testCountsOfRecordsRolledBack(t *testing.T, open Opener) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := open(t)
	cat := Catalog(Stream("users", usersProps, inc, [][]string{{"id"}}, "updated_at"), Stream("items", `{"id":{"type":"integer"}}`, full, nil))
	// A transaction of two records (users 1, items 1) commits with its
	// state; users 2 is in the next one when the load is cancelled.
	msgs := func(yield func(*protocol.Message, error) bool) {
		for m, err := range Messages(u(1, "a", "2024-01-01T00:00:00Z"), StreamState("users", `{"c":1}`), Rec("items", `{"id":1}`), u(2, "b", "2024-01-01T00:00:00Z")) {
			if !yield(m, err) {
				return
			}
		}
		waitForState(t, c, cache.StateKey{Source: "src", Stream: "users"})
		cancel()
		yield(u(3, "c", "2024-01-01T00:00:00Z"), nil)
	}
	res, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, BatchSize: 2, FullRefresh: true, Messages: msgs})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if res.Records["users"] != 1 || res.Records["items"] != 0 || res.Total != 1 ||
		res.RecordsRead["users"] != 2 || res.RecordsRead["items"] != 1 || res.TotalRead != 3 {
		t.Fatalf("cancelled: result %+v", res)
	}
	Equal(t, "rows", Strings(t, c, usersQuery), []string{"1|a"})
	// A source that fails: what arrived is written, but the replace is not.
	boom := errors.New("connector died")
	res, err = c.Load(context.Background(), cache.LoadRequest{SourceName: "src", Catalog: cat, FullRefresh: true,
		Messages: FailAfter(boom, u(2, "b", "2024-01-01T00:00:00Z"), Rec("items", `{"id":1}`), Rec("items", `{"id":2}`))})
	if !errors.Is(err, boom) || res.Records["users"] != 1 || res.Records["items"] != 0 || res.Total != 1 || res.TotalRead != 3 {
		t.Fatalf("failed: result %+v, %v", res, err)
	}
	res = MustLoad(t, c, cat, cache.StrategyAuto, u(3, "c", "2024-01-01T00:00:00Z"), Rec("items", `{"id":1}`), Rec("items", `{"id":2}`))
	if res.Records["users"] != 1 || res.Records["items"] != 2 || res.Total != 3 || res.TotalRead != 3 {
		t.Fatalf("complete: result %+v", res)
	}
}

// LoadRequest.Committed hears of each committed transaction's records and
// states as it commits — before the load ends — except a replace stream's,
// which count only once swapped in; the calls add up to the result's
// counts.
func testCommitsReportedAsTheyLand(t *testing.T, open Opener) {
	c := open(t)
	cat := Catalog(Stream("users", usersProps, inc, [][]string{{"id"}}, "updated_at"), Stream("items", `{"id":{"type":"integer"}}`, full, nil))
	// Committed runs on the load's writer goroutine, while the messages
	// are pulled on this one: mu guards what it notes.
	var mu sync.Mutex
	var calls []map[string]int64
	var states []cache.StateKey
	msgs := func(yield func(*protocol.Message, error) bool) {
		for i := 1; i <= 6; i++ {
			if !yield(u(i, "a", "2024-01-01T00:00:00Z"), nil) || !yield(Rec("items", fmt.Sprintf(`{"id":%d}`, i)), nil) ||
				!yield(StreamState("users", fmt.Sprintf(`{"c":%d}`, i)), nil) || !yield(StreamState("items", `{}`), nil) {
				return
			}
			mu.Lock()
			none := len(calls) == 0
			mu.Unlock()
			if i == 4 && none {
				// Two batches of two records were sent and one committed
				// at least: the report of it cannot wait for the end.
				t.Error("no commit reported while the load runs")
			}
		}
	}
	res, err := c.Load(context.Background(), cache.LoadRequest{SourceName: "src", Catalog: cat, BatchSize: 2, FullRefresh: true, Messages: msgs,
		Committed: func(records map[string]int64, keys []cache.StateKey) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, records)
			states = append(states, keys...)
		}})
	if err != nil {
		t.Fatal(err)
	}
	var users int64
	for _, r := range calls {
		if r["items"] != 0 {
			t.Errorf("a commit reported records of the replace stream items: %v", r)
		}
		users += r["users"]
	}
	if users != res.Records["users"] || users != 6 || res.Records["items"] != 6 {
		t.Fatalf("commits reported %d users (%v), the load wrote %v", users, calls, res.Records)
	}
	// One users state per committed transaction, none of items (deferred
	// to the swap); the load's count adds the swapped-in one.
	for _, k := range states {
		if k != (cache.StateKey{Source: "src", Stream: "users"}) {
			t.Errorf("a commit reported the state %+v", k)
		}
	}
	if len(states) == 0 || int64(len(states))+1 != res.States {
		t.Errorf("commits reported %d states, the load committed %d (one of them the replace stream's)", len(states), res.States)
	}
}

// waitForState waits until the cache has committed a state under key.
func waitForState(t *testing.T, c *cache.Cache, key cache.StateKey) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if st, err := c.State(context.Background(), key); err != nil || st != nil {
			return
		}
	}
	t.Fatalf("no state %+v committed in a minute", key)
}

// testAuto: auto merges keyed streams, appends cursored ones, replaces
// the others; merge without a key is refused.
func testAuto(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	cat := Catalog(
		Stream("keyed", `{"id":{"type":"integer"}}`, inc, [][]string{{"id"}}),
		Stream("cursored", `{"id":{"type":"integer"},"ts":{"type":"integer"}}`, inc, nil, "ts"),
		Stream("plain", `{"id":{"type":"integer"}}`, full, nil),
	)
	for range 2 {
		MustLoad(t, c, cat, cache.StrategyAuto, Rec("keyed", `{"id":1}`), Rec("keyed", `{"id":1}`), Rec("cursored", `{"id":1,"ts":1}`), Rec("plain", `{"id":1}`), Rec("plain", `{"id":2}`))
	}
	Equal(t, "counts", Strings(t, c, `SELECT (SELECT CAST(count(*) AS VARCHAR) FROM keyed), (SELECT CAST(count(*) AS VARCHAR) FROM cursored), (SELECT CAST(count(*) AS VARCHAR) FROM plain)`), []string{"1|2|2"})
	_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: Catalog(Stream("plain", `{"id":{"type":"integer"}}`, full, nil)), Strategy: cache.StrategyMerge, Messages: Messages()})
	var se *cacheerr.StrategyError
	if !errors.As(err, &se) {
		t.Fatalf("merge without a key: want a StrategyError, got %v", err)
	}
}

// testState: the latest state per stream is kept per source, and a
// destination's state apart from the source's.
func testState(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	if st, err := c.SourceState(ctx, "src", nil); err != nil || st != nil {
		t.Fatalf("empty cache state = %s, %v", st, err)
	}
	cat := Catalog(Stream("users", usersProps, inc, [][]string{{"id"}}, "updated_at"), Stream("other", `{"id":{"type":"integer"}}`, inc, nil, "id"))
	res := MustLoad(t, c, cat, cache.StrategyAuto, u(1, "a", "2024-01-01T00:00:00Z"), StreamState("users", `{"c":1}`), StreamState("users", `{"c":1}`),
		u(2, "b", "2024-01-01T00:00:00Z"), StreamState("users", `{"c":2}`), Rec("other", `{"id":5}`), StreamState("other", `{"c":5}`))
	if res.States != 2 { // the latest per stream in each transaction
		t.Logf("states committed: %d", res.States)
	}
	got, err := c.SourceState(ctx, "src", nil)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []protocol.State
	if err := json.Unmarshal(got, &msgs); err != nil || len(msgs) != 2 {
		t.Fatalf("state %s: %v", got, err)
	}
	only, _ := c.SourceState(ctx, "src", []string{"users"})
	if !strings.Contains(string(only), `{"c":2}`) || strings.Contains(string(only), "other") {
		t.Fatalf("users state = %s", only)
	}
	if st, _ := c.SourceState(ctx, "another-source", nil); st != nil {
		t.Fatalf("state leaks across sources: %s", st)
	}
	// Destination state is kept apart from the cache's.
	key := cache.StateKey{Source: "src", Destination: "dest", Stream: "users"}
	if err := cacheOps.PutStates(c, ctx, map[cache.StateKey]*protocol.State{key: StreamState("users", `{"confirmed":"x"}`).State}); err != nil {
		t.Fatal(err)
	}
	ds, err := c.State(ctx, key)
	if err != nil || ds == nil || string(ds.Stream.StreamState) != `{"confirmed":"x"}` {
		t.Fatalf("destination state = %+v, %v", ds, err)
	}
	again, _ := c.SourceState(ctx, "src", nil)
	if string(again) != string(got) {
		t.Fatalf("destination state changed source state: %s", again)
	}
}

// testGlobalAndLegacyState: a GLOBAL state comes back as one message, a
// LEGACY one as its data blob.
func testGlobalAndLegacyState(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	MustLoad(t, c, users(inc), cache.StrategyAuto, u(1, "a", "2024-01-01T00:00:00Z"), GlobalState(`{"lsn":7}`, "users", `{"c":1}`))
	got, _ := c.SourceState(ctx, "src", nil)
	var msgs []protocol.State
	if err := json.Unmarshal(got, &msgs); err != nil || len(msgs) != 1 || msgs[0].Type != protocol.StateGlobal || string(msgs[0].Global.SharedState) != `{"lsn":7}` {
		t.Fatalf("global state = %s (%v)", got, err)
	}
	c2 := open(t)
	MustLoad(t, c2, users(inc), cache.StrategyAuto, u(1, "a", "2024-01-01T00:00:00Z"), LegacyState(`{"users":{"c":1}}`))
	got, _ = c2.SourceState(ctx, "src", nil)
	if string(got) != `{"users":{"c":1}}` {
		t.Fatalf("legacy state = %s", got)
	}
}

// A source may switch between a whole-source state and STREAM states (a
// connector upgraded off LEGACY state, a database source moved off CDC):
// what it sent last for a stream is what the next read gets, never the
// kind it left.
func testStateKindChanges(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	cat := Catalog(Stream("users", usersProps, inc, [][]string{{"id"}}, "updated_at"), Stream("other", `{"id":{"type":"integer"}}`, inc, nil, "id"))
	want := func(what, state string) {
		t.Helper()
		if got, err := c.SourceState(ctx, "src", nil); err != nil || string(got) != state {
			t.Fatalf("%s: state = %s (%v), want %s", what, got, err, state)
		}
	}
	MustLoad(t, c, cat, cache.StrategyAuto, u(1, "a", "2024-01-01T00:00:00Z"), LegacyState(`{"users":{"c":1}}`))
	want("legacy", `{"users":{"c":1}}`)
	MustLoad(t, c, cat, cache.StrategyAuto, u(2, "b", "2024-01-02T00:00:00Z"), StreamState("users", `{"c":2}`), Rec("other", `{"id":1}`), StreamState("other", `{"o":1}`))
	want("legacy, then stream", `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"other"},"stream_state":{"o":1}}},{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"c":2}}}]`)
	MustLoad(t, c, cat, cache.StrategyAuto, u(3, "c", "2024-01-03T00:00:00Z"), GlobalState(`{"lsn":3}`, "users", `{"c":3}`))
	// The GLOBAL state replaces the STREAM states of the streams it holds
	// parts of, not that of "other" (see testBothKindsInOneRead).
	want("stream, then global", `[{"type":"GLOBAL","global":{"shared_state":{"lsn":3},"stream_states":[{"stream_descriptor":{"name":"users"},"stream_state":{"c":3}}]}},{"type":"STREAM","stream":{"stream_descriptor":{"name":"other"},"stream_state":{"o":1}}}]`)
	MustLoad(t, c, cat, cache.StrategyAuto, u(4, "d", "2024-01-04T00:00:00Z"), StreamState("users", `{"c":4}`))
	want("global, then stream", `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"other"},"stream_state":{"o":1}}},{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"c":4}}}]`)

	// PutStates, with which a destination keeps the states it confirmed,
	// replaces the other kind the same way.
	key := func(stream string) cache.StateKey {
		return cache.StateKey{Source: "src", Destination: "dst", Stream: stream}
	}
	put := func(stream string, st *protocol.State) {
		t.Helper()
		if err := cacheOps.PutStates(c, ctx, map[cache.StateKey]*protocol.State{key(stream): st}); err != nil {
			t.Fatal(err)
		}
	}
	put("", LegacyState(`{"users":{"c":1}}`).State)
	put("users", StreamState("users", `{"c":2}`).State)
	if st, err := c.State(ctx, key("")); err != nil || st != nil {
		t.Fatalf("a destination's LEGACY state outlived its STREAM state: %+v (%v)", st, err)
	}
	put("", GlobalState(`{"lsn":3}`, "users", `{"c":3}`).State)
	if st, err := c.State(ctx, key("users")); err != nil || st != nil {
		t.Fatalf("a destination's STREAM state outlived its GLOBAL state: %+v (%v)", st, err)
	}
	want("after the destination's states", `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"other"},"stream_state":{"o":1}}},{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"c":4}}}]`)
}

// Some connectors ignore the configured catalog. Their records of other
// streams are dropped, and so are those streams' states: committing one
// would make a later read that selects the stream skip its records.
func testStatesOfStreamsNotInTheCatalog(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	res := MustLoad(t, c, users(inc), cache.StrategyAuto,
		Rec("other", `{"id":1}`), StreamState("other", `{"c":1}`), u(1, "a", "2024-01-01T00:00:00Z"), StreamState("users", `{"c":1}`))
	if res.UnknownStreamRecords != 1 || res.UnknownStreamStates != 1 {
		t.Errorf("result %+v, want 1 record and 1 state of another stream", res)
	}
	got, _ := c.SourceState(ctx, "src", nil)
	var msgs []protocol.State
	if err := json.Unmarshal(got, &msgs); err != nil || len(msgs) != 1 || msgs[0].Stream.StreamDescriptor.Name != "users" {
		t.Fatalf("state = %s (%v)", got, err)
	}
	// A GLOBAL state keeps the shared part and the catalog's streams.
	c2 := open(t)
	MustLoad(t, c2, users(inc), cache.StrategyAuto, u(1, "a", "2024-01-01T00:00:00Z"), GlobalState(`{"lsn":7}`, "other", `{"c":1}`, "users", `{"c":2}`))
	got, _ = c2.SourceState(ctx, "src", nil)
	if err := json.Unmarshal(got, &msgs); err != nil || len(msgs) != 1 || string(msgs[0].Global.SharedState) != `{"lsn":7}` ||
		len(msgs[0].Global.StreamStates) != 1 || msgs[0].Global.StreamStates[0].StreamDescriptor.Name != "users" {
		t.Fatalf("global state = %s (%v)", got, err)
	}
}

// testSchemaEvolution: a new property adds a column; a changed type keeps
// the column's, and values that do not convert are noted.
func testSchemaEvolution(t *testing.T, open Opener) {
	c := open(t)
	v1 := Catalog(Stream("people", `{"id":{"type":"integer"},"age":{"type":"integer"}}`, inc, nil, "id"))
	MustLoad(t, c, v1, cache.StrategyAppend, Rec("people", `{"id":1,"age":30}`))
	v2 := Catalog(Stream("people", `{"id":{"type":"integer"},"age":{"type":"string"},"city":{"type":"string"}}`, inc, nil, "id"))
	MustLoad(t, c, v2, cache.StrategyAppend, Rec("people", `{"id":2,"age":"31","city":"Oslo"}`), Rec("people", `{"id":3,"age":"old","city":"Rome"}`))
	Equal(t, "rows", Strings(t, c, `SELECT CAST(id AS VARCHAR), CAST(age AS VARCHAR), city FROM people ORDER BY id`), []string{"1|30|NULL", "2|31|Oslo", "3|NULL|Rome"})
	notes := compact(Strings(t, c, `SELECT CAST(_airbyte_meta AS VARCHAR) FROM people WHERE id = 3`))
	if len(notes) != 1 || !strings.Contains(notes[0], `"field":"age"`) || !strings.Contains(notes[0], "DESTINATION_TYPECAST_ERROR") {
		t.Fatalf("meta = %q", notes)
	}
}

// A merge stream whose cursor turned from an integer into a date-time
// would have NULL cursors in its integer column, and the merge would keep
// the older row of each key in place of the record read, committing the
// state past it: the load is refused before anything is written, naming
// the field and the replace that gives the column its new type. So is a
// key whose type its column cannot hold; a change the column holds (a
// date-time cursor declared a date) loads.
func testMergeWhoseKeyOrCursorChangedType(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	load := func(props string, full bool, st cache.Strategy, msgs ...*protocol.Message) error {
		cat := Catalog(Stream("accounts", props, inc, [][]string{{"id"}}, "updated"))
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: st, FullRefresh: full, Messages: Messages(msgs...)})
		return err
	}
	rows := func() []string {
		return Strings(t, c, `SELECT CAST(id AS VARCHAR), plan, CAST(updated AS VARCHAR) FROM accounts ORDER BY id, plan`)
	}
	v1 := `{"id":{"type":"integer"},"plan":{"type":"string"},"updated":{"type":"integer"}}`
	if err := load(v1, false, cache.StrategyMerge, Rec("accounts", `{"id":1,"plan":"free","updated":1700000000}`), StreamState("accounts", `{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	paid := Rec("accounts", `{"id":1,"plan":"paid","updated":"2026-05-01T00:00:00Z"}`)
	v2 := `{"id":{"type":"integer"},"plan":{"type":"string"},"updated":{"type":"string","format":"date-time"}}`
	err := load(v2, false, cache.StrategyMerge, paid, StreamState("accounts", `{"n":2}`))
	if !errors.Is(err, cache.ErrStrategy) || !strings.Contains(err.Error(), `cursor field "updated" is timestamptz`) || !strings.Contains(err.Error(), "holds integer") ||
		!strings.Contains(err.Error(), "source.Strategy(cache.StrategyReplace)") {
		t.Fatalf("a merge whose cursor turned date-time: %v", err)
	}
	Equal(t, "rows kept", rows(), []string{"1|free|1700000000"})
	st, err := c.State(ctx, cache.StateKey{Source: "src", Stream: "accounts"})
	if err != nil || st == nil || string(st.Stream.StreamState) != `{"n":1}` {
		t.Fatalf("the state moved past the refused load: %v %v", st, err)
	}
	// What the error says to do, then the next merge.
	if err := load(v2, true, cache.StrategyReplace, paid, StreamState("accounts", `{"n":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := load(v2, false, cache.StrategyMerge, Rec("accounts", `{"id":1,"plan":"team","updated":"2026-06-01T00:00:00Z"}`)); err != nil {
		t.Fatal(err)
	}
	Equal(t, "rows after replace and merge", Strings(t, c, `SELECT CAST(id AS VARCHAR), plan FROM accounts ORDER BY id`), []string{"1|team"})
	// A key turned text does not fit an integer column either.
	err = load(`{"id":{"type":"string"},"plan":{"type":"string"},"updated":{"type":"string","format":"date-time"}}`, false, cache.StrategyMerge)
	if !errors.Is(err, cache.ErrStrategy) || !strings.Contains(err.Error(), `primary key field "id" is string`) {
		t.Fatalf("a merge whose key turned text: %v", err)
	}
	// A cursor declared a date fits its date-time column: it loads.
	if err := load(`{"id":{"type":"integer"},"plan":{"type":"string"},"updated":{"type":"string","format":"date"}}`, false, cache.StrategyMerge,
		Rec("accounts", `{"id":2,"plan":"free","updated":"2026-06-01"}`)); err != nil {
		t.Fatalf("a date-time cursor declared a date: %v", err)
	}
}

// A merge stream whose key gained a field the table has no column for
// (orders keyed by id, then by id and region) would add the column NULL in
// every row there, and a row whose key is NULL in part is never removed:
// each key the load wrote would be in the table twice, its older row
// beside the new, the state committed past it and the load a success. The
// load is refused before anything is written, naming the field and the
// replace that rebuilds the table; into an empty table, or with that
// replace, the new key loads, and merges from then on.
func testMergeWhoseKeyGainedAField(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	v1 := `{"id":{"type":"integer"},"amount":{"type":"integer"},"updated":{"type":"integer"}}`
	v2 := `{"id":{"type":"integer"},"region":{"type":"string"},"amount":{"type":"integer"},"updated":{"type":"integer"}}`
	load := func(stream, props string, pk [][]string, full bool, st cache.Strategy, msgs ...*protocol.Message) error {
		cat := Catalog(Stream(stream, props, inc, pk, "updated"))
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: st, FullRefresh: full, Messages: Messages(msgs...)})
		return err
	}
	byID, byRegion := [][]string{{"id"}}, [][]string{{"id"}, {"region"}}
	if err := load("orders", v1, byID, false, cache.StrategyMerge, Rec("orders", `{"id":1,"amount":10,"updated":1}`), Rec("orders", `{"id":2,"amount":20,"updated":1}`),
		StreamState("orders", `{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	eu := Rec("orders", `{"id":1,"region":"eu","amount":11,"updated":2}`)
	err := load("orders", v2, byRegion, false, cache.StrategyMerge, eu, StreamState("orders", `{"n":2}`))
	if !errors.Is(err, cache.ErrStrategy) || !strings.Contains(err.Error(), `primary key field "region" has no column`) ||
		!strings.Contains(err.Error(), "source.Strategy(cache.StrategyReplace)") {
		t.Fatalf("a merge whose key gained a field: %v", err)
	}
	rows := func() []string {
		return Strings(t, c, `SELECT CAST(id AS VARCHAR), CAST(amount AS VARCHAR) FROM orders ORDER BY id, _airbyte_raw_id`)
	}
	Equal(t, "rows kept", rows(), []string{"1|10", "2|20"})
	st, err := c.State(ctx, cache.StateKey{Source: "src", Stream: "orders"})
	if err != nil || st == nil || string(st.Stream.StreamState) != `{"n":1}` {
		t.Fatalf("the state moved past the refused load: %v %v", st, err)
	}
	// What the error says to do, then the next merge under the new key.
	if err := load("orders", v2, byRegion, true, cache.StrategyReplace, Rec("orders", `{"id":1,"region":"eu","amount":11,"updated":2}`),
		Rec("orders", `{"id":2,"region":"us","amount":20,"updated":1}`), StreamState("orders", `{"n":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := load("orders", v2, byRegion, false, cache.StrategyMerge, Rec("orders", `{"id":1,"region":"eu","amount":12,"updated":3}`)); err != nil {
		t.Fatal(err)
	}
	Equal(t, "rows after replace and merge", Strings(t, c, `SELECT CAST(id AS VARCHAR), region, CAST(amount AS VARCHAR) FROM orders ORDER BY id`),
		[]string{"1|eu|12", "2|us|20"})
	// A table with no rows takes the new key at once.
	if err := load("refunds", v1, byID, false, cache.StrategyMerge); err != nil {
		t.Fatal(err)
	}
	if err := load("refunds", v2, byRegion, false, cache.StrategyMerge, Rec("refunds", `{"id":1,"region":"eu","amount":1,"updated":1}`)); err != nil {
		t.Fatalf("a key that gained a field, into an empty table: %v", err)
	}
}

// JSON leaves repeated member names to the reader: every backend keeps
// the first, and the sync goes on.
func testAMemberGivenTwice(t *testing.T, open Opener) {
	c := open(t)
	cat := Catalog(Stream("twice", `{"a":{"type":"integer"},"b":{"type":"string"}}`, full, nil))
	MustLoad(t, c, cat, cache.StrategyAppend, Rec("twice", `{"a":1,"b":"x","a":2}`), Rec("twice", `{"b":"y","a":3,"b":"z"}`))
	Equal(t, "rows", Strings(t, c, `SELECT CAST(a AS VARCHAR), b FROM twice ORDER BY a`), []string{"1|x", "3|y"})
}

// Records that did not come through the protocol decoder (which
// validates them) can carry anything: the load fails and says why.
func testDataThatIsNotAJSONObject(t *testing.T, open Opener) {
	ctx := context.Background()
	for _, data := range []string{`{"id":2, oops}`, `[2]`, `{"id":2,"name":"cut`, `2}`} {
		c := open(t)
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: users(full), Strategy: cache.StrategyAppend,
			Messages: AsBuilt(u(1, "one", "2024-01-01T00:00:00Z"), Rec("users", data))})
		if err == nil || !strings.Contains(err.Error(), "not a valid JSON object") || !strings.Contains(err.Error(), `"users"`) {
			t.Fatalf("data %s: err = %v", data, err)
		}
		if got := Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM users WHERE id = 2`); got[0] != "0" {
			t.Fatalf("data %s: the bad record was stored", data)
		}
	}
}

// testValuesThatDoNotFitAreKeptAsNotes: a value that does not fit its
// column is NULL, with a note in _airbyte_meta; the load goes on.
func testValuesThatDoNotFitAreKeptAsNotes(t *testing.T, open Opener) {
	c := open(t)
	props := `{"i":{"type":"integer"},"n":{"type":"number"},"b":{"type":"boolean"},"d":{"type":"string","format":"date"},"ts":{"type":"string","format":"date-time"},"o":{"type":"object"},"u":{"type":["string","integer"]},"x":{}}`
	cat := Catalog(Stream("vals", props, full, nil))
	MustLoad(t, c, cat, cache.StrategyAppend,
		Rec("vals", `{"i":5,"n":1.5,"b":true,"d":"2024-02-29","ts":"2024-01-01T10:00:00+02:00","o":{"a":[1,2]},"u":"s","x":[1]}`),
		Rec("vals", `{"i":6.5,"n":"many","b":"maybe","d":"yesterday","ts":"nope","o":"str","u":7,"x":"y"}`),
		Rec("vals", `{}`))
	Equal(t, "good", Strings(t, c, `SELECT CAST(i AS VARCHAR), CAST(n AS VARCHAR), CAST(b AS VARCHAR), CAST(d AS VARCHAR) FROM vals WHERE i = 5`), []string{"5|1.5|true|2024-02-29"})
	Equal(t, "instant", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM vals WHERE ts = CAST('2024-01-01T08:00:00Z' AS TIMESTAMPTZ)`), []string{"1"})
	Equal(t, "count", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM vals`), []string{"3"})
	notes := compact(Strings(t, c, `SELECT CAST(_airbyte_meta AS VARCHAR) FROM vals WHERE i IS NULL AND n IS NULL`))
	if len(notes) != 2 {
		t.Fatalf("rows with NULLs: %q", notes)
	}
	bad := notes[0] + notes[1]
	for _, f := range []string{"i", "n", "b", "d", "ts"} {
		if !strings.Contains(bad, `"field":"`+f+`"`) {
			t.Errorf("no note for field %s in %s", f, bad)
		}
	}
	if strings.Count(bad, "DESTINATION_TYPECAST_ERROR") != 5 {
		t.Errorf("want exactly 5 notes (missing fields are not notes): %s", bad)
	}
}

// Every backend converts numbers and booleans by the same rule (see the
// package doc): an integer column takes a whole number written as one, in
// 64 bits; a number column any decimal number (also in a string, as
// DuckDB's cast reads it) that is finite as a double; a boolean column
// true and false, 1 and 0, and the strings DuckDB reads as booleans.
// Anything else — an overflow above all — is NULL with a note.
func testNumbersAndBooleansByOneRule(t *testing.T, open Opener) {
	c := open(t)
	type tc struct {
		field, value string
		want         any // nil: NULL with a note; int64, float64 or bool
	}
	cases := []tc{
		{"i", `5`, int64(5)}, {"i", `-0`, int64(0)}, {"i", `9223372036854775807`, int64(math.MaxInt64)}, {"i", `-9223372036854775808`, int64(math.MinInt64)},
		{"i", `9223372036854775808`, nil}, {"i", `18446744073709551615`, nil}, {"i", `1.0`, nil}, {"i", `1e3`, nil}, {"i", `6.5`, nil}, {"i", `1e-1`, nil},
		{"i", `"42"`, int64(42)}, {"i", `"-7"`, int64(-7)}, {"i", `"007"`, nil}, {"i", `"+5"`, nil}, {"i", `" 5"`, nil}, {"i", `"1e3"`, nil},
		{"i", `"0x10"`, nil}, {"i", `"0b11"`, nil}, {"i", `"1_000"`, nil}, {"i", `"9223372036854775808"`, nil}, {"i", `""`, nil}, {"i", `"6.5"`, nil},
		{"n", `1.5`, 1.5}, {"n", `-2`, -2.0}, {"n", `1e400`, nil}, {"n", `-1e400`, nil}, {"n", `1e-400`, 0.0}, {"n", `1e308`, 1e308},
		{"n", `12345678901234567890`, 12345678901234567890.0}, {"n", `0.1`, 0.1},
		{"n", `"2.5"`, 2.5}, {"n", `" 3.5\t"`, 3.5}, {"n", `"1_000.5"`, 1000.5}, {"n", `"+.5"`, 0.5}, {"n", `"5."`, 5.0}, {"n", `"00.5"`, 0.5},
		{"n", `"NaN"`, nil}, {"n", `"Infinity"`, nil}, {"n", `"-inf"`, nil}, {"n", `"0x1p4"`, nil}, {"n", `"1e400"`, nil}, {"n", `"abc"`, nil},
		{"n", `"1,5"`, nil}, {"n", `"1__0"`, nil}, {"n", `"_1"`, nil}, {"n", `""`, nil}, {"n", `"1e"`, nil}, {"n", `"."`, nil},
		{"b", `true`, true}, {"b", `false`, false}, {"b", `1`, true}, {"b", `0`, false}, {"b", `2`, nil}, {"b", `1.0`, nil},
		{"b", `"yes"`, true}, {"b", `"N"`, false}, {"b", `"TRUE"`, true}, {"b", `"f"`, false}, {"b", `"1"`, true}, {"b", `"on"`, nil}, {"b", `" true"`, nil}, {"b", `""`, nil},
	}
	var msgs []*protocol.Message
	for id, k := range cases {
		msgs = append(msgs, Rec("nums", fmt.Sprintf(`{"id":%d,%q:%s}`, id, k.field, k.value)))
	}
	cat := Catalog(Stream("nums", `{"id":{"type":"integer"},"i":{"type":"integer"},"n":{"type":"number"},"b":{"type":"boolean"}}`, full, nil))
	MustLoad(t, c, cat, cache.StrategyAppend, msgs...)
	for id, k := range cases {
		cond := k.field + " IS NULL AND _airbyte_meta IS NOT NULL AND CAST(_airbyte_meta AS VARCHAR) LIKE ?"
		args := []any{id, `%"` + k.field + `"%`}
		if k.want != nil {
			cond, args = k.field+" = ?", []any{id, k.want}
		}
		if got := Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM nums WHERE id = ? AND `+cond, args...); got[0] != "1" {
			row := Strings(t, c, `SELECT CAST(i AS VARCHAR), CAST(n AS VARCHAR), CAST(b AS VARCHAR), CAST(_airbyte_meta AS VARCHAR) FROM nums WHERE id = ?`, id)
			t.Errorf("%s = %s: got %q, want %v", k.field, k.value, row, k.want)
		}
	}
}

// A number column holds a JSON number as the double it is: the integer -0
// is 0, as in a JSON reader that reads integers apart (Python's), and the
// fraction -0.0 and the string "-0" are -0, as DuckDB's cast reads them.
// TestBackendsAgree found PostgreSQL's loader giving -0 for the integer.
func testTheSignOfAZero(t *testing.T, open Opener) {
	c := open(t)
	cases := []struct {
		value    string
		negative bool
	}{{`-0`, false}, {`0`, false}, {`-0.0`, true}, {`-0e0`, true}, {`"-0"`, true}, {`"0"`, false}}
	var msgs []*protocol.Message
	for id, k := range cases {
		msgs = append(msgs, Rec("zeros", fmt.Sprintf(`{"id":%d,"n":%s}`, id, k.value)))
	}
	MustLoad(t, c, Catalog(Stream("zeros", `{"id":{"type":"integer"},"n":{"type":"number"}}`, full, nil)), cache.StrategyAppend, msgs...)
	ds, err := c.Dataset(context.Background(), "zeros")
	if err != nil {
		t.Fatal(err)
	}
	for r, err := range ds.Records(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		k := cases[r["id"].(int64)]
		if f, ok := r["n"].(float64); !ok || f != 0 || math.Signbit(f) != k.negative {
			t.Errorf("%s: n is %#v, want a zero whose sign is negative: %v", k.value, r["n"], k.negative)
		}
	}
}

// A JSON column keeps a number beyond a double's range (1e400); a
// dataset's Records gives it as a json.Number, the others as float64.
// TestBackendsAgree found Records failing at such a row, on both
// backends, so that no row after it could be read.
func testNumbersBeyondADoubleInJSON(t *testing.T, open Opener) {
	c := open(t)
	MustLoad(t, c, Catalog(Stream("big", `{"id":{"type":"integer"},"o":{"type":"object"},"a":{"type":"array"},"u":{}}`, full, nil)), cache.StrategyAppend,
		Rec("big", `{"id":1,"o":{"x":1e400,"y":1.5},"a":[-1e400,2],"u":1e400}`), Rec("big", `{"id":2,"o":{"x":1},"a":[],"u":"s"}`))
	ds, err := c.Dataset(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r, err := range ds.Records(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if r["id"] != int64(1) {
			continue
		}
		o, _ := r["o"].(map[string]any)
		a, _ := r["a"].([]any)
		if len(o) != 2 || len(a) != 2 || o["y"] != 1.5 || a[1] != 2.0 {
			t.Fatalf("row 1: %#v", r)
		}
		for what, v := range map[string]any{"o.x": o["x"], "a[0]": a[0], "u": r["u"]} {
			num, ok := v.(json.Number)
			f, _ := new(big.Float).SetString(string(num))
			sign := 1
			if what == "a[0]" {
				sign = -1
			}
			if !ok || f == nil || f.Cmp(new(big.Float).SetMantExp(big.NewFloat(float64(sign)), 1328)) != sign {
				t.Errorf("%s is %#v, want a json.Number of ±1e400", what, v)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
}

// Merge keeps the row whose text cursor is greatest by its bytes (by code
// point), as DuckDB orders text, whatever the database's collation: the
// same records keep the same rows on every backend. TestBackendsAgree's
// string cursors led to it; RunTextOrder runs it in an ICU database, where
// PostgreSQL kept "B" over "a" and "f" over "é".
func testMergeOrdersTextCursorsByBytes(t *testing.T, open Opener) {
	c := open(t)
	cat := Catalog(Stream("top", `{"id":{"type":"integer"},"c":{"type":"string"}}`, inc, [][]string{{"id"}}, "c"),
		Stream("nested", `{"id":{"type":"integer"},"o":{"type":"object"}}`, inc, [][]string{{"id"}}, "o", "v"))
	var msgs []*protocol.Message
	for _, r := range [][2]string{{"1", "B"}, {"1", "a"}, {"1", "A"}, {"2", "é"}, {"2", "f"}, {"2", "e"}, {"3", "a b"}, {"3", "ab"}, {"3", "a-b"}} {
		msgs = append(msgs, Rec("top", fmt.Sprintf(`{"id":%s,"c":%q}`, r[0], r[1])), Rec("nested", fmt.Sprintf(`{"id":%s,"o":{"v":%q}}`, r[0], r[1])))
	}
	MustLoad(t, c, cat, cache.StrategyMerge, msgs...)
	want := []string{"1|a", "2|é", "3|ab"}
	Equal(t, "top", Strings(t, c, `SELECT CAST(id AS VARCHAR), c FROM top ORDER BY id`), want)
	ds, err := c.Dataset(context.Background(), "nested")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for r, err := range ds.Records(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d|%v", r["id"], r["o"].(map[string]any)["v"]))
	}
	slices.Sort(got)
	Equal(t, "nested", got, want)
}

// testMergeOrdersJSONCursorsAlike: a cursor held as JSON — an open
// stream's, a nested one, one of several types — orders alike on every
// backend: numbers by value (10 after 9, which DuckDB's JSON text order
// had before it), above any other value; the others by their text's
// bytes.
func testMergeOrdersJSONCursorsAlike(t *testing.T, open Opener) {
	c := open(t)
	cat := Catalog(OpenStream("open", inc, [][]string{{"id"}}, "c"),
		Stream("nested", `{"id":{"type":"integer"},"o":{"type":"object"}}`, inc, [][]string{{"id"}}, "o", "c"),
		Stream("mixed", `{"id":{"type":"integer"},"c":{"type":["integer","string"]}}`, inc, [][]string{{"id"}}, "c"))
	var msgs []*protocol.Message
	for _, r := range [][2]string{
		{"1", "10"}, {"1", "9"}, {"1", "-20"}, // numbers by value
		{"2", `"b"`}, {"2", "1.5"}, {"2", `"a"`}, // a number above text
		{"3", `"B"`}, {"3", `"a"`}, {"3", "null"}, // text by its bytes, null last
		{"4", "12345678901234567890"}, {"4", "9223372036854775807"}, {"4", "1e3"}, // beyond 64 bits, and exponents
	} {
		msgs = append(msgs, Rec("open", fmt.Sprintf(`{"id":%s,"c":%s}`, r[0], r[1])),
			Rec("nested", fmt.Sprintf(`{"id":%s,"o":{"c":%s}}`, r[0], r[1])),
			Rec("mixed", fmt.Sprintf(`{"id":%s,"c":%s}`, r[0], r[1])))
	}
	MustLoad(t, c, cat, cache.StrategyMerge, msgs...)
	want := []string{"1|10", "2|1.5", `3|"a"`, "4|12345678901234567890"}
	for _, stream := range []string{"open", "nested", "mixed"} {
		var got []string
		for _, line := range openLines(t, c, stream) {
			var r struct {
				ID int             `json:"id"`
				C  json.RawMessage `json:"c"`
				O  struct {
					C json.RawMessage `json:"c"`
				} `json:"o"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			if r.C == nil {
				r.C = r.O.C
			}
			got = append(got, fmt.Sprintf("%d|%s", r.ID, r.C))
		}
		slices.Sort(got)
		Equal(t, stream, got, want)
	}
}

// Cache.Streams (and so a StreamNotFoundError's list) and SourceState's
// STREAM states come in the order of the streams' names' bytes, as DuckDB
// orders text, whatever the database's collation. TestBackendsAgree found
// PostgreSQL listing r1_append before r10_append in an ICU database, where
// DuckDB lists it after.
func testStreamsInByteOrder(t *testing.T, open Opener) {
	c := open(t)
	names := []string{"r1_x", "b", "Bx", "r10", "a", "r1"}
	var streams []protocol.ConfiguredStream
	var msgs []*protocol.Message
	for _, n := range names {
		streams = append(streams, Stream(n, `{"id":{"type":"integer"}}`, inc, nil, "id"))
		msgs = append(msgs, Rec(n, `{"id":1}`), StreamState(n, `{"id":1}`))
	}
	MustLoad(t, c, Catalog(streams...), cache.StrategyAppend, msgs...)
	want := []string{"Bx", "a", "b", "r1", "r10", "r1_x"}
	got, err := c.Streams(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	Equal(t, "streams", got, want)
	raw, err := c.SourceState(context.Background(), "src", nil)
	if err != nil {
		t.Fatal(err)
	}
	var states []protocol.State
	if err := json.Unmarshal(raw, &states); err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, st := range states {
		got = append(got, st.Stream.StreamDescriptor.Name)
	}
	Equal(t, "states", got, want)
}

// Sources often send a date where their schema says date-time, and a
// date-time where it says date. Both databases read those (a date is its
// midnight; a date-time's date is the one it spells, whatever its zone),
// and so does every backend: they are not NULLed as malformed.
func testDatesAndDateTimes(t *testing.T, open Opener) {
	c := open(t)
	props := `{"id":{"type":"integer"},"tz":{"type":"string","format":"date-time"},` +
		`"ts":{"type":"string","format":"date-time","airbyte_type":"timestamp_without_timezone"},"d":{"type":"string","format":"date"}}`
	MustLoad(t, c, Catalog(Stream("dates", props, full, nil)), cache.StrategyAppend,
		Rec("dates", `{"id":1,"tz":"2024-03-05","ts":"2024-03-05","d":"2024-03-05T23:30:00-05:00"}`),
		Rec("dates", `{"id":2,"tz":"2024-03-05 10:00:00+02","ts":"2024-03-05 10:00:00+02","d":"2024-03-05 10:00:00"}`),
		Rec("dates", `{"id":3,"tz":"2024-03-05T10:00:00.5Z","ts":"2024-03-05T10:00:00","d":"2024-03-05T01:00:00+09:00"}`))
	Equal(t, "rows", Strings(t, c, `SELECT CAST(id AS VARCHAR), CAST(ts AS VARCHAR), CAST(d AS VARCHAR) FROM dates ORDER BY id`),
		[]string{"1|2024-03-05 00:00:00|2024-03-05", "2|2024-03-05 10:00:00|2024-03-05", "3|2024-03-05 10:00:00|2024-03-05"})
	Equal(t, "notes", compact(Strings(t, c, `SELECT CAST(_airbyte_meta AS VARCHAR) FROM dates ORDER BY id`)),
		[]string{`{"changes":[]}`, `{"changes":[]}`, `{"changes":[]}`})
	for id, instant := range []string{"2024-03-05T00:00:00Z", "2024-03-05T08:00:00Z", "2024-03-05T10:00:00.5Z"} {
		if got := Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM dates WHERE id = ? AND tz = CAST(? AS TIMESTAMPTZ)`, id+1, instant); got[0] != "1" {
			t.Errorf("record %d: tz is not %s: %q", id+1, instant, Strings(t, c, `SELECT CAST(tz AS VARCHAR) FROM dates WHERE id = ?`, id+1))
		}
	}
	// A dataset's times are in UTC, whatever the program's local zone
	// (see RunInZone): pgx would give a timestamptz in time.Local.
	ds, err := c.Dataset(context.Background(), "dates")
	if err != nil {
		t.Fatal(err)
	}
	for r, err := range ds.Records(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		for _, col := range []string{"tz", "ts", "d", "_airbyte_extracted_at"} {
			if tm, ok := r[col].(time.Time); !ok || tm.Location() != time.UTC {
				t.Errorf("record %v: %s is %#v, want a time.Time in UTC", r["id"], col, r[col])
			}
		}
	}
}

// Date, timestamp and date-time columns take the years 0000 to 9999 (a
// date-time's instant in UTC) on every backend, as RFC 3339 and the
// export write them; infinity and years beyond are NULL with a note,
// although both databases could hold some of them.
func testDateRange(t *testing.T, open Opener) {
	c := open(t)
	type tc struct {
		value     string
		tz, ts, d bool // loads into the date-time, timestamp, date column
	}
	cases := []tc{
		{"9999-12-31", true, true, true}, {"9999-12-31T23:59:59.999999Z", true, true, true}, {"0000-01-01", true, true, true},
		{"1970-01-01T00:00:00Z", true, true, true}, {"0000-01-01T00:30:00-01:00", true, true, true},
		// 9999-12-31T23:00-05:00 is in the year 10000 in UTC; 0000-01-01T00:00+01:00 in the year -1.
		{"9999-12-31T23:00:00-05:00", false, true, true}, {"0000-01-01T00:00:00+01:00", false, true, true},
		{"infinity", false, false, false}, {"-infinity", false, false, false}, {"Infinity", false, false, false},
		{"10000-01-01", false, false, false}, {"10000-01-01T00:00:00Z", false, false, false}, {"275760-09-13T00:00:00Z", false, false, false},
		{"-0001-01-01", false, false, false},
	}
	var msgs []*protocol.Message
	for id, k := range cases {
		msgs = append(msgs, Rec("range", fmt.Sprintf(`{"id":%d,"tz":%q,"ts":%q,"d":%q}`, id, k.value, k.value, k.value)))
	}
	props := `{"id":{"type":"integer"},"tz":{"type":"string","format":"date-time"},` +
		`"ts":{"type":"string","format":"date-time","airbyte_type":"timestamp_without_timezone"},"d":{"type":"string","format":"date"}}`
	MustLoad(t, c, Catalog(Stream("range", props, full, nil)), cache.StrategyAppend, msgs...)
	for id, k := range cases {
		for _, col := range []struct {
			name  string
			loads bool
		}{{"tz", k.tz}, {"ts", k.ts}, {"d", k.d}} {
			noted := `%"` + col.name + `"%`
			cond := col.name + " IS NULL AND CAST(_airbyte_meta AS VARCHAR) LIKE ?"
			if col.loads {
				cond = col.name + " IS NOT NULL AND CAST(_airbyte_meta AS VARCHAR) NOT LIKE ?"
			}
			if got := Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM range WHERE id = ? AND `+cond, id, noted); got[0] != "1" {
				row := Strings(t, c, `SELECT CAST(`+col.name+` AS VARCHAR), CAST(_airbyte_meta AS VARCHAR) FROM range WHERE id = ?`, id)
				t.Errorf("%s = %q: got %q, want loaded %v", col.name, k.value, row, col.loads)
			}
		}
	}
}

// The date, timestamp and time columns take what DuckDB's cast reads
// (see package cache), on every backend: fields of one digit, 24:00:00 as
// the end of the day (a time column's 00:00:00, as DuckDB's driver and
// export gave it, and RFC 3339 writes it), an offset with seconds, a
// " UTC" after the time, and white space where DuckDB's cast takes it.
// A time with a zone takes a bare time's own offset, Z as +00, and a
// date-time's time of day in UTC. TestBackendsAgree found PostgreSQL's
// loader refusing each of these, and DuckDB's a bare time with a Z.
func testDateTimeSpellings(t *testing.T, open Opener) {
	c := open(t)
	props := `{"id":{"type":"integer"},"tz":{"type":"string","format":"date-time"},` +
		`"ts":{"type":"string","format":"date-time","airbyte_type":"timestamp_without_timezone"},"d":{"type":"string","format":"date"},` +
		`"tm":{"type":"string","format":"time"},"ttz":{"type":"string","format":"time","airbyte_type":"time_with_timezone"}}`
	cases := []struct{ value, tz, ts, d, tm, ttz string }{
		{"2024-1-5", "2024-01-05T00:00:00Z", "2024-01-05 00:00:00", "2024-01-05", "00:00:00", "00:00:00+00"},
		{"2024-3-5 1:02:03", "2024-03-05T01:02:03Z", "2024-03-05 01:02:03", "2024-03-05", "01:02:03", "01:02:03+00"},
		{"2024-01-05T24:00:00Z", "2024-01-06T00:00:00Z", "2024-01-06 00:00:00", "2024-01-05", "00:00:00", "00:00:00+00"},
		{"2024-01-05T10:00:00+05:30:15", "2024-01-05T04:29:45Z", "2024-01-05 10:00:00", "2024-01-05", "10:00:00", "04:29:45+00"},
		{"2024-01-05T10:00:00 UTC", "2024-01-05T10:00:00Z", "2024-01-05 10:00:00", "2024-01-05", "10:00:00", "10:00:00+00"},
		{"2024-03-05T10:00:00+02:00", "2024-03-05T08:00:00Z", "2024-03-05 10:00:00", "2024-03-05", "10:00:00", "08:00:00+00"},
		{"1:2:3", "NULL", "NULL", "NULL", "01:02:03", "01:02:03+00"},
		{"24:00:00", "NULL", "NULL", "NULL", "00:00:00", "00:00:00+00"},
		{"24:00:00.000+02", "NULL", "NULL", "NULL", "00:00:00", "00:00:00+02"},
		{"24:00:00.5", "NULL", "NULL", "NULL", "NULL", "NULL"},
		{"24:00:01", "NULL", "NULL", "NULL", "NULL", "NULL"},
		{"24:00:00.0000001", "NULL", "NULL", "NULL", "00:00:00", "00:00:00+00"},
		{"2024-01-05\t10:00:00", "2024-01-05T10:00:00Z", "2024-01-05 10:00:00", "2024-01-05", "10:00:00", "10:00:00+00"},
		{" 2024-01-05", "2024-01-05T00:00:00Z", "2024-01-05 00:00:00", "2024-01-05", "00:00:00", "00:00:00+00"},
		{"2024-01-05 ", "NULL", "NULL", "2024-01-05", "NULL", "NULL"},
		{"2024-01-05 10:00:00 +02:00", "NULL", "2024-01-05 10:00:00", "2024-01-05", "10:00:00", "NULL"},
		{" 12:00:00 ", "NULL", "NULL", "NULL", "12:00:00", "12:00:00+00"},
		{"12:00:00 +02", "NULL", "NULL", "NULL", "12:00:00", "12:00:00+02"},
		{"12:00:00 UTC", "NULL", "NULL", "NULL", "12:00:00", "NULL"},
		{"12:00:00z", "NULL", "NULL", "NULL", "12:00:00", "12:00:00+00"},
		{"12:00:00Z", "NULL", "NULL", "NULL", "12:00:00", "12:00:00+00"},
		{"12:00:00+05:30", "NULL", "NULL", "NULL", "12:00:00", "12:00:00+05:30"},
		// A word after the time that is no zone: DuckDB's casts to
		// date, timestamp and time dropped it unread, so PM and BC
		// named another instant.
		{"2024-03-10 01:30:00 PM", "NULL", "NULL", "NULL", "NULL", "NULL"},
		{"2024-03-10 01:30:00 BC", "NULL", "NULL", "NULL", "NULL", "NULL"},
		{"2024-03-10T01:30:00.5 later", "NULL", "NULL", "NULL", "NULL", "NULL"},
		{"2024-03-10 01:30 12", "NULL", "NULL", "NULL", "NULL", "NULL"},
		{"12:00:00 PM", "NULL", "NULL", "NULL", "NULL", "NULL"},
		{"2024-01-05 10:00:00 Z", "NULL", "2024-01-05 10:00:00", "2024-01-05", "10:00:00", "NULL"},
	}
	var msgs []*protocol.Message
	for id, k := range cases {
		msgs = append(msgs, Rec("spell", fmt.Sprintf(`{"id":%d,"tz":%q,"ts":%q,"d":%q,"tm":%q,"ttz":%q}`, id, k.value, k.value, k.value, k.value, k.value)))
	}
	MustLoad(t, c, Catalog(Stream("spell", props, full, nil)), cache.StrategyAppend, msgs...)
	for id, k := range cases {
		want := fmt.Sprintf("%s|%s|%s|%s", k.ts, k.d, k.tm, k.ttz)
		if k.tz != "NULL" {
			want = "1|" + want
		} else {
			want = "NULL|" + want
		}
		got := Strings(t, c, `SELECT CAST(CAST(tz = CAST(? AS TIMESTAMPTZ) AS INTEGER) AS VARCHAR), CAST(ts AS VARCHAR), CAST(d AS VARCHAR), CAST(tm AS VARCHAR), CAST(ttz AS VARCHAR) FROM spell WHERE id = ?`, strings.Replace(k.tz, "NULL", "2000-01-01T00:00:00Z", 1), id)
		if len(got) != 1 || got[0] != want {
			t.Errorf("%q: got %q, want %q", k.value, got, want)
		}
	}
	// A dataset gives a time as a time.Time on 0001-01-01, in UTC, or in
	// its offset with a time zone, on every backend (pgx gave text).
	ds, err := c.Dataset(context.Background(), "spell")
	if err != nil {
		t.Fatal(err)
	}
	clock := func(s string) time.Time {
		var h, m, sec, oh, om int
		var sign byte = '+'
		n, _ := fmt.Sscanf(s, "%d:%d:%d%c%d:%d", &h, &m, &sec, &sign, &oh, &om)
		loc := time.UTC
		if n >= 5 {
			off := oh*3600 + om*60
			if sign == '-' {
				off = -off
			}
			if off != 0 {
				loc = time.FixedZone("", off)
			}
		}
		return time.Date(1, 1, 1, h, m, sec, 0, loc)
	}
	for r, err := range ds.Records(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		k := cases[r["id"].(int64)]
		for col, spelled := range map[string]string{"tm": k.tm, "ttz": k.ttz} {
			if spelled == "NULL" {
				continue
			}
			want := clock(spelled)
			got, ok := r[col].(time.Time)
			_, gotOff := got.Zone()
			_, wantOff := want.Zone()
			// An offset of 0 is time.UTC on every backend, as
			// DuckDB's driver gives it (PostgreSQL's +00 was a
			// zone of no name, which == and fmt told apart).
			if !ok || !got.Equal(want) || gotOff != wantOff || (wantOff == 0) != (got.Location() == time.UTC) {
				t.Errorf("%q: Records gives %s as %#v, want %v", k.value, col, r[col], want)
			}
		}
	}
}

// testLargeRecord: a 20 MB field loads whole.
func testLargeRecord(t *testing.T, open Opener) {
	c := open(t)
	big := strings.Repeat("x", 20<<20)
	MustLoad(t, c, Catalog(Stream("blobs", `{"id":{"type":"integer"},"s":{"type":"string"}}`, full, nil)), cache.StrategyAppend,
		Rec("blobs", `{"id":1,"s":"small"}`), Rec("blobs", `{"id":2,"s":"`+big+`"}`))
	Equal(t, "lengths", Strings(t, c, `SELECT CAST(length(s) AS VARCHAR) FROM blobs ORDER BY id`), []string{"5", fmt.Sprint(len(big))})
}

// Python's json.dumps writes undecodable bytes as lone surrogate escapes
// ("\udcff"): like invalid UTF-8 they become U+FFFD, in text and JSON
// columns and in keys, and one such value never fails its batch.
func testLoneSurrogates(t *testing.T, open Opener) {
	c := open(t)
	props := `{"id":{"type":"integer"},"s":{"type":"string"},"j":{"type":"object"}}`
	MustLoad(t, c, Catalog(Stream("odd", props, full, nil)), cache.StrategyAppend,
		Rec("odd", `{"id":1,"s":"x\udcff","j":{"k":"\udcff"}}`),
		Rec("odd", `{"id":2,"s":"\ud800\u0041 \udcff\ud800","j":{"\udcff":1}}`),
		Rec("odd", `{"id":3,"s":"\ud83d\ude00 a\\udcff","j":{"k":["\ud83d\ude00"]}}`),
		Rec("odd", `{"\udcff":5,"id":4,"s":"plain","j":{}}`))
	Equal(t, "text", Strings(t, c, `SELECT CAST(id AS VARCHAR), s FROM odd ORDER BY id`),
		[]string{"1|x\uFFFD", "2|\uFFFDA \uFFFD\uFFFD", "3|\U0001F600 a\\udcff", "4|plain"})
	Equal(t, "json", compact(Strings(t, c, `SELECT CAST(j AS VARCHAR) FROM odd ORDER BY id`)),
		[]string{"{\"k\":\"\uFFFD\"}", "{\"\uFFFD\":1}", "{\"k\":[\"\U0001F600\"]}", "{}"})
}

// A record whose emitted_at is 0 (unknown: a connector written with kit
// that did not set it, as examples/goconnector did not) is extracted when
// the load reads it, not on 1 January 1970; a record that has one keeps it.
func testARecordWithoutEmittedAt(t *testing.T, open Opener) {
	c := open(t)
	unknown := Rec("events", `{"id":1}`)
	unknown.Record.EmittedAt = 0
	before := time.Now().Truncate(time.Millisecond)
	MustLoad(t, c, Catalog(Stream("events", `{"id":{"type":"integer"}}`, full, nil)), cache.StrategyAppend,
		unknown, Rec("events", `{"id":2}`))
	after := time.Now()
	Equal(t, "rows extracted during the load", Strings(t, c,
		`SELECT CAST(id AS VARCHAR) FROM events WHERE _airbyte_extracted_at >= ? AND _airbyte_extracted_at <= ? ORDER BY id`, before, after),
		[]string{"1"})
	Equal(t, "rows extracted when they say", Strings(t, c,
		`SELECT CAST(id AS VARCHAR) FROM events WHERE _airbyte_extracted_at = ?`, time.UnixMilli(1700000000000)), []string{"2"})
}

// Records nested hundreds or thousands of levels deep (Python connectors
// send them) load whole: JSON columns keep the value, text columns its JSON
// text, and the other fields load as usual.
func testDeepRecords(t *testing.T, open Opener) {
	c := open(t)
	nest := func(n int) string { return strings.Repeat("[", n) + `"x"` + strings.Repeat("]", n) }
	props := `{"id":{"type":"integer"},"j":{"type":"array"},"o":{"type":"object"},"s":{"type":"string"},"n":{"type":"integer"}}`
	MustLoad(t, c, Catalog(Stream("deep", props, full, nil)), cache.StrategyAppend,
		Rec("deep", `{"id":1,"j":`+nest(400)+`,"s":"a","o":{"k":`+nest(9000)+`},"n":[1]}`),
		Rec("deep", `{"id":2,"s":`+nest(350)+`,"j":[],"n":7,"extra":`+nest(500)+`}`),
		Rec("deep", `{"id":3,"s":"flat"}`))
	brackets := `length(CAST(%s AS VARCHAR)) - length(replace(CAST(%[1]s AS VARCHAR), '[', ''))`
	Equal(t, "rows", Strings(t, c, `SELECT CAST(id AS VARCHAR), CAST(`+fmt.Sprintf(brackets, "j")+` AS VARCHAR), CAST(`+fmt.Sprintf(brackets, "o")+` AS VARCHAR), CAST(`+fmt.Sprintf(brackets, "s")+` AS VARCHAR), CAST(n AS VARCHAR) FROM deep ORDER BY id`),
		[]string{"1|400|9000|0|NULL", "2|1|NULL|350|7", "3|NULL|NULL|0|NULL"})
	notes := compact(Strings(t, c, `SELECT CAST(_airbyte_meta AS VARCHAR) FROM deep ORDER BY id`))
	if len(notes) != 3 || !strings.Contains(notes[0], `"field":"n"`) || notes[1] != `{"changes":[]}` || notes[2] != `{"changes":[]}` {
		t.Fatalf("meta = %q", notes)
	}
}

// testHostileNames: names that are SQL, quotes, keywords, non-ASCII or
// too long still load and read back; collisions are refused.
func testHostileNames(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	long := strings.Repeat("Long name ", 20)
	names := []string{`we"ird'; DROP TABLE x;--`, "select", "héllo wörld", long, "1st"}
	var streams []protocol.ConfiguredStream
	var msgs []*protocol.Message
	for _, n := range names {
		props := fmt.Sprintf(`{%q:{"type":"integer"},"from":{"type":"string"},"sp ace":{"type":"string"},"ünï":{"type":"string"},%q:{"type":"string"}}`, `"quoted"`, long)
		streams = append(streams, Stream(n, props, full, nil))
		msgs = append(msgs, Rec(n, fmt.Sprintf(`{%q:1,"from":"f","sp ace":"s","ünï":"u",%q:"l"}`, `"quoted"`, long)))
	}
	MustLoad(t, c, Catalog(streams...), cache.StrategyAuto, msgs...)
	for _, n := range names {
		ds, err := c.Dataset(ctx, n)
		if err != nil {
			t.Fatalf("dataset %q: %v", n, err)
		}
		var got []map[string]any
		for r, err := range ds.Records(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		if len(got) != 1 || fmt.Sprint(got[0]["_quoted_"]) != "1" || got[0]["from"] != "f" || got[0]["sp_ace"] != "s" || got[0]["_n_"] != "u" {
			t.Fatalf("stream %q rows %v", n, got)
		}
	}
	var ce *cacheerr.CollisionError
	_, err := c.Load(ctx, cache.LoadRequest{SourceName: "s", Catalog: Catalog(Stream("A b", `{}`, full, nil), Stream("a_b", `{}`, full, nil)), Messages: Messages()})
	if !errors.As(err, &ce) {
		t.Fatalf("stream collision: %v", err)
	}
	east, west := Stream("users", `{}`, full, nil), Stream("users", `{}`, full, nil)
	east.Stream.Namespace, west.Stream.Namespace = "east", "west"
	_, err = c.Load(ctx, cache.LoadRequest{SourceName: "s", Catalog: Catalog(east, west), Messages: Messages()})
	// The error names both namespaces and what to do instead.
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `two streams named "users", in namespaces "east" and "west"`) ||
		!strings.Contains(err.Error(), "source.Streams") {
		t.Fatalf("same name in two namespaces: %v", err)
	}
	_, err = c.Load(ctx, cache.LoadRequest{SourceName: "s", Catalog: Catalog(Stream("x", `{"Name":{},"name":{}}`, full, nil)), Messages: Messages()})
	if !errors.As(err, &ce) {
		t.Fatalf("field collision: %v", err)
	}
	var ne *cacheerr.NameError
	_, err = c.Load(ctx, cache.LoadRequest{SourceName: "s", Catalog: Catalog(Stream("__", `{}`, full, nil)), Messages: Messages()})
	if !errors.As(err, &ne) {
		t.Fatalf("underscore-only name: %v", err)
	}
}

// A JSON key may hold a NUL ("a\u0000b"), which no SQL text can: such a
// field loads into its normalised column (a_b) like any other, and where
// its name is written into _airbyte_meta, in a note of the cache's or a
// change the source reported, the NUL is U+FFFD, as in every key.
func testAFieldWhoseNameHoldsANUL(t *testing.T, open Opener) {
	c := open(t)
	props := `{"id":{"type":"integer"},"a\u0000b":{"type":"string"},"n\u0000":{"type":"integer"},"j\u0000":{"type":"object"}}`
	reported := Rec("nul", `{"id":2,"n\u0000":"many","a\u0000b":"w","a":"undeclared"}`)
	reported.Record.Meta = &protocol.RecordMeta{Changes: []protocol.RecordMetaChange{{Field: "j\x00", Change: protocol.ChangeNulled, Reason: protocol.ReasonSourceSerializationError}}}
	MustLoad(t, c, Catalog(Stream("nul", props, full, nil)), cache.StrategyAppend,
		Rec("nul", `{"id":1,"a\u0000b":"v","n\u0000":3,"j\u0000":{"k":1},"a_b":"undeclared"}`), reported,
		Rec("nul", `{"a\u0000b":"first","id":3,"a\u0000b":"second"}`), Rec("nul", `{"id":4,"_airbyte_field_1":"not a_b"}`))
	Equal(t, "rows", compact(Strings(t, c, `SELECT CAST(id AS VARCHAR), a_b, CAST(n_ AS VARCHAR), CAST(j_ AS VARCHAR) FROM nul ORDER BY id`)),
		[]string{`1|v|3|{"k":1}`, "2|w|NULL|NULL", "3|first|NULL|NULL", "4|NULL|NULL|NULL"})
	notes := compact(Strings(t, c, `SELECT CAST(_airbyte_meta AS VARCHAR) FROM nul WHERE id = 2`))
	want := "{\"changes\":[{\"field\":\"j\uFFFD\",\"change\":\"NULLED\",\"reason\":\"SOURCE_SERIALIZATION_ERROR\"}," +
		"{\"field\":\"n\uFFFD\",\"change\":\"NULLED\",\"reason\":\"DESTINATION_TYPECAST_ERROR\"}]}"
	if len(notes) != 1 || notes[0] != want {
		t.Fatalf("meta = %q", notes)
	}
}

// A backend may splice keys of its own into a record (DuckDB: the
// source's changes, as _airbyte_source_meta): a stream that declares a
// field of that name loads it as any other.
func testAFieldNamedLikeABackendsOwn(t *testing.T, open Opener) {
	c := open(t)
	changed := Rec("own", `{"id":2,"_Airbyte_Source_Meta":"b"}`)
	changed.Record.Meta = &protocol.RecordMeta{Changes: []protocol.RecordMetaChange{{Field: "x", Change: protocol.ChangeTruncated, Reason: protocol.ReasonSourceRecordSizeLimitation}}}
	MustLoad(t, c, Catalog(Stream("own", `{"id":{"type":"integer"},"_Airbyte_Source_Meta":{"type":"string"}}`, full, nil)), cache.StrategyAppend,
		Rec("own", `{"id":1,"_Airbyte_Source_Meta":"a"}`), changed)
	Equal(t, "rows", Strings(t, c, `SELECT CAST(id AS VARCHAR), _airbyte_source_meta FROM own ORDER BY id`), []string{"1|a", "2|b"})
	if notes := compact(Strings(t, c, `SELECT CAST(_airbyte_meta AS VARCHAR) FROM own WHERE id = 2`)); len(notes) != 1 || !strings.Contains(notes[0], `"field":"x"`) {
		t.Fatalf("meta = %q", notes)
	}
}

// Two sources that both have a stream "users" would mix their records in
// one table (and a merge their keys): a table belongs to the source that
// loaded it first, and another source's load into it is refused, unless
// the caller says the tables are shared on purpose.
func testTablesOfAnotherSource(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	load := func(source string, share bool, msgs ...*protocol.Message) error {
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: source, Catalog: users(inc), ShareTables: share, Messages: Messages(msgs...)})
		return err
	}
	if err := load("source-a", false, u(1, "a", "2024-01-01T00:00:00Z")); err != nil {
		t.Fatal(err)
	}
	err := load("source-b", false, u(1, "b", "2024-01-01T00:00:00Z"))
	var oe *cacheerr.TableOwnerError
	if !errors.As(err, &oe) || !errors.Is(err, cache.ErrTableOwned) || oe.Owner != "source-a" || oe.Source != "source-b" || oe.Table != "users" ||
		!strings.Contains(err.Error(), "prefix") {
		t.Fatalf("got %v, want a *TableOwnerError", err)
	}
	Equal(t, "the table is untouched", Strings(t, c, usersQuery), []string{"1|a"})
	if err := load("source-a", false, u(2, "a2", "2024-01-01T00:00:00Z")); err != nil {
		t.Fatalf("the owner loads again: %v", err)
	}
	if err := load("source-b", true, u(3, "b", "2024-01-01T00:00:00Z")); err != nil {
		t.Fatalf("shared on purpose: %v", err)
	}
	Equal(t, "shared", Strings(t, c, usersQuery), []string{"1|a", "2|a2", "3|b"})
}

// Two loads of one source into one cache would write its records twice
// and race for its states: the second is refused while the first runs.
// Another source loads meanwhile.
func testOneLoadOfASourceAtATime(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	started, release := make(chan struct{}), make(chan struct{})
	held := func(yield func(*protocol.Message, error) bool) {
		if yield(u(1, "a", "2024-01-01T00:00:00Z"), nil) {
			close(started)
			<-release
		}
	}
	done := make(chan error)
	go func() {
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: users(inc), Messages: held})
		done <- err
	}()
	<-started
	_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: users(inc), Messages: Messages(u(2, "b", "2024-01-01T00:00:00Z"))})
	var iu *cacheerr.InUseError
	if !errors.As(err, &iu) || !errors.Is(err, cache.ErrInUse) || iu.Source != "src" {
		t.Errorf("a second load of the source: got %v, want an *InUseError", err)
	}
	other := Catalog(Stream("others", `{"id":{"type":"integer"}}`, inc, nil, "id"))
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "another", Catalog: other, Messages: Messages(Rec("others", `{"id":1}`))}); err != nil {
		t.Errorf("a load of another source: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	MustLoad(t, c, users(inc), cache.StrategyAuto, u(2, "b", "2024-01-01T00:00:00Z"))
	Equal(t, "rows", Strings(t, c, usersQuery), []string{"1|a", "2|b"})
}

// testDatasets: Where, Count, Columns, After and Records over a stream;
// a missing stream is a StreamNotFoundError.
func testDatasets(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	cat := Catalog(Stream("people", `{"id":{"type":"integer"},"age":{"type":"integer"}}`, full, nil))
	MustLoad(t, c, cat, cache.StrategyAppend, Rec("people", `{"id":1,"age":20}`), Rec("people", `{"id":2,"age":40}`), Rec("people", `{"id":3,"age":50}`))
	ds, err := c.Dataset(ctx, "people")
	if err != nil {
		t.Fatal(err)
	}
	n, err := ds.Where("age > ?", 30).Where("id < ?", 3).Count(ctx)
	if err != nil || n != 1 {
		t.Fatalf("filtered count = %d, %v", n, err)
	}
	if all, _ := ds.Count(ctx); all != 3 {
		t.Fatalf("Where changed the dataset: %d", all)
	}
	cols, err := ds.Columns(ctx)
	var names []string
	for _, col := range cols {
		names = append(names, col.Name)
	}
	if err != nil || strings.Join(names, ",") != "_airbyte_raw_id,_airbyte_extracted_at,_airbyte_meta,id,age" {
		t.Fatalf("columns %v, %v", names, err)
	}
	var ids []string
	for r, err := range ds.After("").Records(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r["_airbyte_raw_id"].(string))
	}
	if len(ids) != 3 || !(ids[0] < ids[1] && ids[1] < ids[2]) {
		t.Fatalf("raw ids %v", ids)
	}
	if n, _ := ds.After(ids[0]).Count(ctx); n != 2 {
		t.Fatalf("after first: %d", n)
	}
	var nf *protocol.StreamNotFoundError
	if _, err := c.Dataset(ctx, "nope"); !errors.As(err, &nf) || !errors.Is(err, protocol.ErrStreamNotFound) || nf.Stream != "nope" {
		t.Fatalf("missing stream: %v", err)
	}
}

// testPlaceholders: Query and ExecSQL take "?" on every backend; a "?"
// in quoted text or a comment is no placeholder. On PostgreSQL, where
// they become $1, $2…, one rewritten in a comment also shifted the
// numbers of those after it ("expected 2 arguments, got 1").
func testPlaceholders(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	for _, tc := range []struct {
		query string
		args  []any
		want  string
	}{
		{"SELECT 'why?' || ? AS a", []any{"x"}, "why?x"},
		{"SELECT 'it''s ?' || ? AS a", []any{"x"}, "it's ?x"},
		{`SELECT ? AS "what?"`, []any{"x"}, "x"},
		{"SELECT ? AS a -- what?\n", []any{"x"}, "x"},
		{"SELECT /* why? /* nested? */ still? */ ? AS a", []any{"x"}, "x"},
		{"SELECT ? || ? AS a -- a? b?", []any{"x", "y"}, "xy"},
		{"SELECT -- first?\n ? || 'z?' || ? AS a", []any{"x", "y"}, "xz?y"},
	} {
		var got string
		rows, err := c.Query(ctx, tc.query, tc.args...)
		if err == nil {
			for rows.Next() {
				err = rows.Scan(&got)
			}
			if rows.Err() != nil {
				err = rows.Err()
			}
			rows.Close()
		}
		if err != nil || got != tc.want {
			t.Errorf("%q with %v: got %q, %v; want %q", tc.query, tc.args, got, err, tc.want)
		}
	}
	if _, err := c.ExecSQL(ctx, "CREATE TABLE marks (note varchar) -- why?"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecSQL(ctx, "INSERT INTO marks VALUES (?) /* ? */", "a?"); err != nil {
		t.Fatalf("ExecSQL with a ? in a comment: %v", err)
	}
	Equal(t, "marks", Strings(t, c, "SELECT note FROM marks WHERE note = ? -- ?", "a?"), []string{"a?"})
}

// testSourceError: a source that fails leaves a replace untouched, and
// keeps what arrived (and its state) for the others.
func testSourceError(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	MustLoad(t, c, users(full), cache.StrategyReplace, u(1, "kept", "2024-01-01T00:00:00Z"))
	boom := errors.New("connector died")
	_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: users(full), Strategy: cache.StrategyReplace, FullRefresh: true,
		Messages: FailAfter(boom, u(2, "half", "2024-01-01T00:00:00Z"), StreamState("users", `{"c":2}`))})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	Equal(t, "replace untouched", Strings(t, c, usersQuery), []string{"1|kept"})
	if st, _ := c.SourceState(ctx, "src", nil); st != nil {
		t.Fatalf("state of a failed replace committed: %s", st)
	}
	_, err = c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: users(inc), Strategy: cache.StrategyAppend,
		Messages: FailAfter(boom, u(2, "two", "2024-01-01T00:00:00Z"), StreamState("users", `{"c":2}`), u(3, "three", "2024-01-01T00:00:00Z"))})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	Equal(t, "append keeps what arrived", Strings(t, c, usersQuery), []string{"1|kept", "2|two", "3|three"})
	if st, _ := c.SourceState(ctx, "src", nil); !strings.Contains(string(st), `{"c":2}`) {
		t.Fatalf("state = %s", st)
	}
}

// testMessagesThatPanic: a panic in the messages' iterator (the caller's
// code) goes up through Load; the transaction its writer had open is
// rolled back, and the cache still loads and closes. The writer waited
// for chunks for ever, with its transaction open, and Close waited for it.
func testMessagesThatPanic(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	msgs := func(yield func(*protocol.Message, error) bool) {
		for i := 1; i <= 20; i++ {
			if !yield(u(i, "before", "2024-01-01T00:00:00Z"), nil) {
				return
			}
			if i == 16 && !yield(StreamState("users", `{"c":16}`), nil) {
				return
			}
		}
		panic("the caller's iterator")
	}
	func() {
		defer func() {
			if r := recover(); r != "the caller's iterator" {
				t.Fatalf("recovered %v, want the iterator's panic", r)
			}
		}()
		c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: users(inc), Strategy: cache.StrategyAppend, BatchSize: 16, Messages: msgs})
	}()
	MustLoad(t, c, users(inc), cache.StrategyAppend, u(99, "after", "2024-01-01T00:00:00Z"))
	got := Strings(t, c, `SELECT name, CAST(count(*) AS VARCHAR) FROM users GROUP BY name ORDER BY name`)
	Equal(t, "the rows committed before the panic, none after it, and the next load's", got, []string{"after|1", "before|16"})
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second): // a guard against a hang, not a timing
		t.Fatal("Close still waits 30 s after a load whose messages panicked")
	}
}

// compact removes the spaces jsonb puts into its text form.
func compact(l []string) []string {
	for i := range l {
		l[i] = strings.ReplaceAll(l[i], " ", "")
	}
	return l
}

// testStatesOfBothKindsLeft: versions before 2aa88ac replaced only the
// state of the same key, so a source that switched kinds under them left
// its states of the old kind beside those of the new. The newer kind is
// what the source sends now: SourceState passes it, whichever kind it is.
func testStatesOfBothKindsLeft(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	put := func(stream, kind, state, at string) {
		t.Helper()
		if _, err := c.ExecSQL(ctx, `INSERT INTO _airbyte_state (table_prefix, source_name, destination_name, stream_name, state_type, state_json, updated_at) VALUES ('', 'src', '', ?, ?, ?, CAST(? AS TIMESTAMPTZ))`,
			stream, kind, state, at); err != nil {
			t.Fatal(err)
		}
	}
	want := func(what, state string) {
		t.Helper()
		if got, err := c.SourceState(ctx, "src", nil); err != nil || string(got) != state {
			t.Fatalf("%s: state = %s (%v), want %s", what, got, err, state)
		}
	}
	stream := `{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"c":2}}}`
	put("", "LEGACY", `{"data":{"users":{"c":1}}}`, "2026-01-01 00:00:00+00")
	put("users", "STREAM", stream, "2026-02-01 00:00:00+00")
	want("LEGACY, then STREAM", "["+stream+"]")
	if _, err := c.ExecSQL(ctx, `DELETE FROM _airbyte_state`); err != nil {
		t.Fatal(err)
	}
	global := `{"type":"GLOBAL","global":{"shared_state":{"lsn":3},"stream_states":[{"stream_descriptor":{"name":"users"},"stream_state":{"c":3}}]}}`
	put("users", "STREAM", stream, "2026-02-01 00:00:00+00")
	put("", "GLOBAL", global, "2026-03-01 00:00:00+00")
	want("STREAM, then GLOBAL", "["+global+"]")
}

// testBothKindsInOneRead: a source may send, in one read, a GLOBAL state
// for its CDC streams and STREAM states for the others, as a version of
// Airbyte's bulk CDK did (StateManager.checkpoint). The cache keeps both,
// each for the streams it covers, in whichever order they come and
// whether a read sends both or one: the GLOBAL state, the CDC position,
// was lost when a STREAM state came after it, and the next read started
// the CDC streams over. Of a GLOBAL state and a STREAM state of a stream
// it holds a part of, the later one is kept, in one transaction or two.
func testBothKindsInOneRead(t *testing.T, open Opener) {
	ctx := context.Background()
	// "users" is read by CDC, "pages" in full (a replace, whose states
	// wait for the swap), "tags" incrementally by its own cursor.
	cat := Catalog(Stream("users", usersProps, inc, [][]string{{"id"}}, "updated_at"),
		Stream("pages", `{"id":{"type":"integer"}}`, full, nil), Stream("tags", `{"id":{"type":"integer"}}`, inc, nil, "id"))
	global := func(lsn int) string {
		return fmt.Sprintf(`{"type":"GLOBAL","global":{"shared_state":{"lsn":%d},"stream_states":[{"stream_descriptor":{"name":"users"},"stream_state":{"c":%d}}]}}`, lsn, lsn)
	}
	stream := func(name string, n int) string {
		return fmt.Sprintf(`{"type":"STREAM","stream":{"stream_descriptor":{"name":%q},"stream_state":{"n":%d}}}`, name, n)
	}
	g := func(lsn int) *protocol.Message {
		return GlobalState(fmt.Sprintf(`{"lsn":%d}`, lsn), "users", fmt.Sprintf(`{"c":%d}`, lsn))
	}
	s := func(name string, n int) *protocol.Message { return StreamState(name, fmt.Sprintf(`{"n":%d}`, n)) }
	for _, tc := range []struct {
		name  string
		loads [][]*protocol.Message
		want  string // SourceState of every stream
		users string // SourceState of "users" alone
	}{
		{name: "global, then streams", loads: [][]*protocol.Message{{u(1, "a", "2024-01-01T00:00:00Z"), g(1), Rec("pages", `{"id":1}`), s("pages", 1), Rec("tags", `{"id":1}`), s("tags", 1)}},
			want: "[" + global(1) + "," + stream("pages", 1) + "," + stream("tags", 1) + "]", users: "[" + global(1) + "]"},
		{name: "streams, then global", loads: [][]*protocol.Message{{Rec("pages", `{"id":1}`), s("pages", 1), Rec("tags", `{"id":1}`), s("tags", 1), u(1, "a", "2024-01-01T00:00:00Z"), g(1)}},
			want: "[" + global(1) + "," + stream("pages", 1) + "," + stream("tags", 1) + "]", users: "[" + global(1) + "]"},
		{name: "a later read of the other streams alone", loads: [][]*protocol.Message{
			{u(1, "a", "2024-01-01T00:00:00Z"), g(1), s("tags", 1)},
			{Rec("tags", `{"id":2}`), s("tags", 2), Rec("pages", `{"id":1}`), s("pages", 2)},
		}, want: "[" + global(1) + "," + stream("pages", 2) + "," + stream("tags", 2) + "]", users: "[" + global(1) + "]"},
		{name: "a later read of the CDC streams alone", loads: [][]*protocol.Message{
			{Rec("tags", `{"id":1}`), s("tags", 1), u(1, "a", "2024-01-01T00:00:00Z"), g(1)},
			{u(2, "b", "2024-01-02T00:00:00Z"), g(2), Status("pages", protocol.StatusComplete)},
		}, want: "[" + global(2) + "," + stream("tags", 1) + "]", users: "[" + global(2) + "]"},
		{name: "a stream of the global moved off it, in one read", loads: [][]*protocol.Message{{g(1), s("tags", 1), s("users", 5)}},
			want: "[" + stream("tags", 1) + "," + stream("users", 5) + "]", users: "[" + stream("users", 5) + "]"},
		{name: "a stream of the global moved off it, in the next read", loads: [][]*protocol.Message{{g(1), s("tags", 1)}, {s("users", 5)}},
			want: "[" + stream("tags", 1) + "," + stream("users", 5) + "]", users: "[" + stream("users", 5) + "]"},
		{name: "a stream moved onto the global, in one read", loads: [][]*protocol.Message{{s("users", 5), s("tags", 1), g(1)}},
			want: "[" + global(1) + "," + stream("tags", 1) + "]", users: "[" + global(1) + "]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := open(t)
			for _, msgs := range tc.loads {
				MustLoad(t, c, cat, cache.StrategyAuto, msgs...)
			}
			if got, err := c.SourceState(ctx, "src", nil); err != nil || string(got) != tc.want {
				t.Errorf("state = %s (%v),\nwant %s", got, err, tc.want)
			}
			if got, err := c.SourceState(ctx, "src", []string{"users"}); err != nil || string(got) != tc.users {
				t.Errorf("state of users = %s (%v),\nwant %s", got, err, tc.users)
			}
		})
	}
}

// testManyStatesAtOnce: PutStates of more STREAM states than one
// statement of the cache carries stores them all, replaces the whole-source
// state of their source and destination, and leaves other destinations'
// states alone.
func testManyStatesAtOnce(t *testing.T, open Opener) {
	ctx := context.Background()
	c := open(t)
	const n = 2_500
	key := func(dest, stream string) cache.StateKey {
		return cache.StateKey{Source: "src", Destination: dest, Stream: stream}
	}
	if err := cacheOps.PutStates(c, ctx, map[cache.StateKey]*protocol.State{
		key("dst", ""):      LegacyState(`{"old":1}`).State,
		key("other", "s00"): StreamState("s00", `{"kept":1}`).State,
	}); err != nil {
		t.Fatal(err)
	}
	states := map[cache.StateKey]*protocol.State{}
	for i := range n {
		name := fmt.Sprintf("s%02d", i)
		states[key("dst", name)] = StreamState(name, fmt.Sprintf(`{"c":%d}`, i)).State
	}
	if err := cacheOps.PutStates(c, ctx, states); err != nil {
		t.Fatal(err)
	}
	Equal(t, "states per destination", Strings(t, c, `SELECT destination_name || ' ' || CAST(count(*) AS VARCHAR) FROM _airbyte_state GROUP BY destination_name ORDER BY destination_name`),
		[]string{fmt.Sprintf("dst %d", n), "other 1"})
	for _, i := range []int{0, 999, 1000, n - 1} {
		name := fmt.Sprintf("s%02d", i)
		if st, err := c.State(ctx, key("dst", name)); err != nil || st == nil || string(st.Stream.StreamState) != fmt.Sprintf(`{"c":%d}`, i) {
			t.Fatalf("state of %s: %+v (%v)", name, st, err)
		}
	}
	if st, err := c.State(ctx, key("dst", "")); err != nil || st != nil {
		t.Fatalf("the LEGACY state outlived %d STREAM states: %+v (%v)", n, st, err)
	}
	if st, err := c.State(ctx, key("other", "s00")); err != nil || st == nil || string(st.Stream.StreamState) != `{"kept":1}` {
		t.Fatalf("another destination's state: %+v (%v)", st, err)
	}
}
