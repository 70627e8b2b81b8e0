package declarative

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// These tests pin the incremental semantics of the CDK 6.31.1 at their
// edges; each names the CDK code it follows.

// epochManifest is an incremental stream "events" whose cursor is an epoch
// in seconds, and a full-refresh stream "other" read after it.
func epochManifest(format string) string {
	return `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [events]}
definitions:
  base:
    type: DeclarativeStream
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/{{ parameters.name }}", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
streams:
  - $ref: "#/definitions/base"
    name: events
    $parameters: {name: events}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: "` + format + `"
      start_datetime: "{{ config['start'] }}"
  - {$ref: "#/definitions/base", name: other, $parameters: {name: other}}
spec: {type: Spec, connection_specification: {type: object}}
`
}

// TestFloatEpochCursorValue follows DatetimeParser.parse
// (datetime/datetime_parser.py:28-32): "%s" and "%ms" parse int(value), and
// int() of a JSON float truncates it, so a record whose epoch is a float
// moves the state as an integer one does.
func TestFloatEpochCursorValue(t *testing.T) {
	api := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [{"id": 1, "updated": 1717200000.75}]}`)
	}
	run := runFeature(t, epochManifest("%s"), `{"start": "1704067200"}`, "", api)
	if run.err != nil {
		t.Fatal(run.err)
	}
	states := run.states("events")
	sameStrings(t, "states", states, []string{`{"updated":"1717200000"}`, `{"updated":"1717200000"}`})
}

// TestStateThatDoesNotParseFailsTheRead follows
// ConcurrentDeclarativeSource.read (concurrent_declarative_source.py:135),
// which builds every concurrent stream's cursor before reading any: a
// state value that none of the cursor's formats reads
// (CustomFormatConcurrentStreamStateConverter.parse_timestamp,
// datetime_stream_state_converter.py:208) raises there, and the read ends
// with that error alone: no stream starts, no record and no state is
// emitted.
func TestStateThatDoesNotParseFailsTheRead(t *testing.T) {
	api := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [{"id": 1, "updated": "2024-06-01"}]}`)
	}
	for _, value := range []string{`1717200000`, `"2024-06-01T00:00:00Z"`} {
		state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "events"}, "stream_state": {"updated": ` + value + `}}}]`
		run := runFeature(t, epochManifest("%Y-%m-%d"), `{"start": "2024-01-01"}`, state, api)
		if run.err == nil {
			t.Fatalf("state %s: the read succeeded", value)
		}
		var kinds []string
		for _, m := range run.messages {
			b, _ := json.Marshal(m)
			kinds = append(kinds, string(m.Type))
			if m.Trace != nil && m.Trace.Error != nil && !strings.Contains(m.Trace.Error.InternalMessage, "No format in ['%Y-%m-%d'] matching") {
				t.Errorf("state %s: trace %s", value, b)
			}
		}
		sameStrings(t, "state "+value+": messages", kinds, []string{"TRACE"})
		if len(run.requests) != 0 {
			t.Errorf("state %s: requests %q", value, run.requests)
		}
	}
}

// withMaxPartitions lowers the number of partitions a per-partition cursor
// keeps (DEFAULT_MAX_PARTITIONS_NUMBER), so that a test need not read
// tens of thousands.
func withMaxPartitions(n int) Option {
	return func(o *options) error { o.maxPartitions = n; return nil }
}

// manyPartitionsManifest reads one window of /events per value of
// config['ids'], one at a time.
const manyPartitionsManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [events]}
concurrency_level: {type: ConcurrencyLevel, default_concurrency: 1}
streams:
  - type: DeclarativeStream
    name: events
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/events", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      partition_router:
        type: ListPartitionRouter
        cursor_field: p
        values: "{{ config['ids'] }}"
        request_option: {type: RequestOption, inject_into: request_parameter, field_name: p}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: "%Y-%m-%d"
      start_datetime: "2024-01-01"
      end_datetime: "2024-12-31"
spec: {type: Spec, connection_specification: {type: object}}
`

// manyPartitionsAPI answers partition p with one record dated 2024-06-0p.
func manyPartitionsAPI(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("p")
	fmt.Fprintf(w, `{"data": [{"id": %q, "updated": "2024-06-0%s"}]}`, p, p)
}

// TestPartitionLimit follows ConcurrentPerPartitionCursor
// (incremental/concurrent_partition_cursor.py): before a partition's
// windows are made, while it holds as many cursors as its limit less one,
// it drops the oldest partition read to the end (the oldest of all when
// none is), counting each drop (_ensure_partition_limit, lines 221-258);
// once the drops outnumber the limit, the next record switches it to its
// global cursor (observe, lines 356-358, limit_reached, 399-400), after
// which no state is emitted per window and the states list is gone.
func TestPartitionLimit(t *testing.T) {
	state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "events"}, "stream_state": {
		"states": [{"partition": {"p": "9"}, "cursor": {"updated": "2024-02-01"}}], "state": {"updated": "2024-01-15"}}}}]`
	// Partition 9 from the state and 1, 2 fill the three places; each
	// next partition drops the oldest one read to the end (1, then 2),
	// never 9, which is not read.
	run := runFeature(t, manyPartitionsManifest, `{"ids": ["1", "2", "3", "4"]}`, state, manyPartitionsAPI, withMaxPartitions(3))
	if run.err != nil {
		t.Fatal(run.err)
	}
	// Which partition is dropped depends on which were read to the end
	// when the next one's windows are made: with one worker, partition
	// 3's windows are made once partition 1 is read, 4's once 2 is.
	states := run.states("events")
	for _, st := range states {
		if n := strings.Count(st, `"partition"`); n > 3 {
			t.Errorf("a state with %d partitions, more than the limit: %s", n, st)
		}
	}
	if got, want := states[len(states)-1], `{"use_global_cursor":false,"states":[{"partition":{"p":"9"},"cursor":{"updated":"2024-02-01"}},{"partition":{"p":"3"},"cursor":{"updated":"2024-06-03"}},{"partition":{"p":"4"},"cursor":{"updated":"2024-06-04"}}],"state":{"updated":"2024-06-04"},"lookback_window":0}`; got != want {
		t.Errorf("final state\n got  %s\n want %s", got, want)
	}

	// Partitions 4 to 7 make four drops, more than the limit of three:
	// from partition 7's record on (6's, if its window is read after 7's
	// is made), the cursor is global and no state is emitted per window.
	run = runFeature(t, manyPartitionsManifest, `{"ids": ["1", "2", "3", "4", "5", "6", "7"]}`, "", manyPartitionsAPI, withMaxPartitions(3))
	if run.err != nil {
		t.Fatal(run.err)
	}
	states = run.states("events")
	if n := len(states); n != 6 && n != 7 {
		t.Errorf("%d states, want one per window of partitions 1 to 5 (or 6) and the final one: %q", n, states)
	}
	if got, want := states[len(states)-1], `{"use_global_cursor":true,"state":{"updated":"2024-06-07"},"lookback_window":0}`; got != want {
		t.Errorf("final state\n got  %s\n want %s", got, want)
	}
	if got := len(run.recordIDs("events")); got != 7 {
		t.Errorf("%d records, want 7", got)
	}
}

// TestGlobalStateWithParentState follows
// ConcurrentPerPartitionCursor._set_initial_state
// (incremental/concurrent_partition_cursor.py:300-330): a state with
// neither "states" nor "state" is the global cursor, and its parent_state
// is kept all the same, so the states emitted before the stream ends carry
// it.
func TestGlobalStateWithParentState(t *testing.T) {
	state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": {
		"created_at": "2024-03-15T00:00:00Z", "parent_state": {"conversations": {"updated_at": "2024-04-02T00:00:00Z"}}}}}]`
	run := runFeature(t, dependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, state, dependencyAPI)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "requests", run.requests, []string{
		"GET /conversations?since=2024-04-02T00%3A00%3A00Z", "GET /conversations/8/threads"})
	sameStrings(t, "states", run.states("threads"), []string{
		`{"use_global_cursor":false,"states":[{"partition":{"conversation":8,"parent_slice":{}},"cursor":{"created_at":"2024-04-01T00:00:00Z"}}],"state":{"created_at":"2024-03-15T00:00:00Z"},"lookback_window":0,"parent_state":{"conversations":{"updated_at":"2024-04-02T00:00:00Z"}}}`,
		`{"use_global_cursor":false,"states":[{"partition":{"conversation":8,"parent_slice":{}},"cursor":{"created_at":"2024-04-01T00:00:00Z"}}],"state":{"created_at":"2024-04-01T00:00:00Z"},"lookback_window":0,"parent_state":{"conversations":{"updated_at":"2024-04-02T00:00:00Z"}}}`,
	})
}

// dateRangeManifest reads /events in windows of ten days through January
// 2024, the window's bounds in the query, with a record dated at the end
// of each window.
const dateRangeManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [events]}
concurrency_level: {type: ConcurrencyLevel, default_concurrency: 1}
streams:
  - type: DeclarativeStream
    name: events
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/events", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: "%Y-%m-%d"
      start_datetime: "2024-01-01"
      end_datetime: "2024-01-31"
      step: P10D
      cursor_granularity: P1D
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: from}
      end_time_option: {type: RequestOption, inject_into: request_parameter, field_name: to}
spec: {type: Spec, connection_specification: {type: object}}
`

func dateRangeState(streamState string) string {
	return `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "events"}, "stream_state": ` + streamState + `}}]`
}

// TestDateRangeState follows ConcurrentCursor (streams/concurrent/cursor.py)
// with the CustomFormatConcurrentStreamStateConverter the CDK builds for a
// DatetimeBasedCursor (is_sequential_state=True): a state whose state_type
// is "date-range" is taken as the windows already read
// (_get_concurrent_state, deserialize), so stream_slices reads only the
// gaps before and between them and from the last one's end to the end
// datetime; the state emitted is the state's "legacy" mapping with the
// cursor field set to the end of the first merged interval's newest
// record, or its start (convert_to_state_message,
// _get_latest_complete_time): the date-range keys are not written back.
func TestDateRangeState(t *testing.T) {
	api := func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		fmt.Fprintf(w, `{"data": [{"id": %q, "updated": %q}]}`, q.Get("from"), q.Get("to"))
	}
	state := dateRangeState(`{"state_type": "date-range", "legacy": {"other": 1},
		"slices": [{"start": "2024-01-15", "end": "2024-01-20"}, {"start": "2024-01-05", "end": "2024-01-10"}]}`)
	run := runFeature(t, dateRangeManifest, `{}`, state, api)
	if run.err != nil {
		t.Fatal(run.err)
	}
	requests := append([]string(nil), run.requests...)
	sort.Strings(requests)
	sameStrings(t, "requests", requests, []string{
		"GET /events?from=2024-01-01&to=2024-01-04",
		"GET /events?from=2024-01-11&to=2024-01-14",
		"GET /events?from=2024-01-20&to=2024-01-29",
		"GET /events?from=2024-01-30&to=2024-01-31",
	})
	states := run.states("events")
	for _, st := range states {
		if strings.Contains(st, "state_type") || strings.Contains(st, "slices") {
			t.Errorf("state %s keeps the date-range keys", st)
		}
	}
	if len(states) == 0 || states[len(states)-1] != `{"other":1,"updated":"2024-01-31"}` {
		t.Errorf("states %q, want the last one {\"other\":1,\"updated\":\"2024-01-31\"}", states)
	}
}

// TestDateRangeStateWhereTheCDKFails pins the engine where the CDK 6.31.1
// raises (doc.go, "Where the engine differs from the CDK"): the
// converter's deserialize parses a slice's start and end but not its
// most_recent_cursor_value, so the CDK later formats or compares that
// string as a datetime and the stream fails; the engine parses it as it
// parses start and end. A date-range state without slices, where the CDK's
// stream_slices raises "Expected at least one slice", is read as no state.
func TestDateRangeStateWhereTheCDKFails(t *testing.T) {
	empty := func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"data": []}`) }
	run := runFeature(t, dateRangeManifest, `{}`, dateRangeState(`{"state_type": "date-range",
		"slices": [{"start": "2024-01-01", "end": "2024-01-10", "most_recent_cursor_value": "2024-01-08"}]}`), empty)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "requests", run.requests, []string{
		"GET /events?from=2024-01-10&to=2024-01-19",
		"GET /events?from=2024-01-20&to=2024-01-29",
		"GET /events?from=2024-01-30&to=2024-01-31",
	})
	if states := run.states("events"); len(states) == 0 || states[len(states)-1] != `{"updated":"2024-01-08"}` {
		t.Errorf("states %q, want the last one {\"updated\":\"2024-01-08\"}", states)
	}

	run = runFeature(t, dateRangeManifest, `{}`, dateRangeState(`{"state_type": "date-range", "slices": []}`), empty)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "requests", run.requests, []string{
		"GET /events?from=2024-01-01&to=2024-01-10",
		"GET /events?from=2024-01-11&to=2024-01-20",
		"GET /events?from=2024-01-21&to=2024-01-31",
	})
	if states := run.states("events"); len(states) == 0 || states[len(states)-1] != `{"updated":"2024-01-01"}` {
		t.Errorf("states %q, want the last one {\"updated\":\"2024-01-01\"}", states)
	}
}

// TestIncrementalDependencyParentStateBetween pins the parent_state of the
// states a child emits before its last one. The CDK 6.31.1's
// ConcurrentPerPartitionCursor sets _parent_state in _set_initial_state
// (the incoming one, when truthy) and in ensure_at_least_one_state_emitted
// (the router's get_stream_state) only: the states emitted as partitions
// close (close_partition → _emit_state_message) carry the incoming
// parent_state, or none, however far the parent was read; the final state
// carries the parent's new state. (Later CDKs track the parent's state per
// partition; 6.31.1 does not.)
func TestIncrementalDependencyParentStateBetween(t *testing.T) {
	// Without a state: no parent_state until the final state.
	run := runFeature(t, dependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, "", dependencyAPI)
	if run.err != nil {
		t.Fatal(run.err)
	}
	states := run.states("threads")
	if len(states) != 3 {
		t.Fatalf("%d states, want one per conversation and the final one: %q", len(states), states)
	}
	for _, st := range states[:2] {
		if strings.Contains(st, "parent_state") {
			t.Errorf("a state before the last carries a parent_state: %s", st)
		}
	}
	if want := `"parent_state":{"conversations":{"updated_at":"2024-04-02T00:00:00Z"}}}`; !strings.HasSuffix(states[2], want) {
		t.Errorf("final state %s, want one ending %s", states[2], want)
	}

	// From a state whose parent_state the read moves: the incoming one
	// until the final state.
	state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": {
		"states": [], "state": {"created_at": "2024-01-01T00:00:00Z"}, "parent_state": {"conversations": {"updated_at": "2024-03-01T00:00:00Z"}}}}}]`
	run = runFeature(t, dependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, state, dependencyAPI)
	if run.err != nil {
		t.Fatal(run.err)
	}
	states = run.states("threads")
	if len(states) != 3 {
		t.Fatalf("%d states, want one per conversation and the final one: %q", len(states), states)
	}
	for _, st := range states[:2] {
		if want := `"parent_state":{"conversations":{"updated_at":"2024-03-01T00:00:00Z"}}}`; !strings.HasSuffix(st, want) {
			t.Errorf("state before the last %s, want one ending %s", st, want)
		}
	}
	if want := `"parent_state":{"conversations":{"updated_at":"2024-04-02T00:00:00Z"}}}`; !strings.HasSuffix(states[2], want) {
		t.Errorf("final state %s, want one ending %s", states[2], want)
	}
}
