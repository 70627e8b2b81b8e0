package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/catalogs"
	"github.com/x/goairbyte/internal/replaytest"
	"github.com/x/goairbyte/protocol"
)

// These tests pin behaviours of the CDK 6.31.1 that the conformance data
// does not exercise. Each test's comment names the CDK code it follows.

// featureNow is the frozen clock of these tests.
var featureNow = time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)

// featureRun is one read of a manifest against a local handler.
type featureRun struct {
	messages []*protocol.Message
	requests []string // "METHOD path?query body", in order
	err      error
}

// runFeature reads every stream of text (incremental when it can) with
// the given config and state, the API answered by handler.
func runFeature(t *testing.T, text string, config string, state string, handler http.HandlerFunc, opts ...Option) *featureRun {
	t.Helper()
	run := &featureRun{}
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := ""
		if r.Body != nil {
			b := new(strings.Builder)
			_, _ = fmt.Fprint(b, readAllString(r))
			body = b.String()
		}
		mu.Lock()
		line := r.Method + " " + r.URL.RequestURI()
		if body != "" {
			line += " " + body
		}
		run.requests = append(run.requests, line)
		mu.Unlock()
		handler(w, r)
	}))
	defer srv.Close()
	src, err := New([]byte(text), append([]Option{
		WithHTTPClient(&http.Client{Transport: &replaytest.Transport{Target: mustURL(t, srv.URL)}, Timeout: 10 * time.Second}),
		WithClock(func() time.Time { return featureNow }),
		withSleep(noSleep)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	cat, err := src.Discover(context.Background(), json.RawMessage(config))
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	cc := &protocol.ConfiguredCatalog{}
	for _, s := range cat.Streams {
		mode := protocol.SyncFullRefresh
		if catalogs.Supports(&s, protocol.SyncIncremental) {
			mode = protocol.SyncIncremental
		}
		cc.Streams = append(cc.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: mode, DestinationSyncMode: protocol.DestinationAppend})
	}
	var st json.RawMessage
	if state != "" {
		st = json.RawMessage(state)
	}
	run.err = src.Read(context.Background(), json.RawMessage(config), cc, st, func(m *protocol.Message) error {
		mu.Lock()
		defer mu.Unlock()
		run.messages = append(run.messages, m)
		return nil
	})
	return run
}

func readAllString(r *http.Request) string {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// recordIDs lists the "id" of each record of stream, in order.
func (r *featureRun) recordIDs(stream string) []string {
	var out []string
	for _, m := range r.messages {
		if m.Record != nil && m.Record.Stream == stream {
			var v map[string]any
			_ = json.Unmarshal(m.Record.Data, &v)
			out = append(out, fmt.Sprint(v["id"]))
		}
	}
	return out
}

// states lists the stream states of stream, in order, as JSON.
func (r *featureRun) states(stream string) []string {
	var out []string
	for _, m := range r.messages {
		if m.State != nil && m.State.Stream != nil && m.State.Stream.StreamDescriptor.Name == stream {
			out = append(out, compactJSON(m.State.Stream.StreamState))
		}
	}
	return out
}

// kinds is the sequence of message kinds of stream ("STARTED", "RECORD",
// "STATE", ...).
func (r *featureRun) kinds(stream string) []string {
	var out []string
	for _, m := range r.messages {
		switch {
		case m.Record != nil && m.Record.Stream == stream:
			out = append(out, "RECORD")
		case m.State != nil && m.State.Stream != nil && m.State.Stream.StreamDescriptor.Name == stream:
			out = append(out, "STATE")
		case m.Trace != nil && m.Trace.StreamStatus != nil && m.Trace.StreamStatus.StreamDescriptor.Name == stream:
			out = append(out, string(m.Trace.StreamStatus.Status))
		case m.Trace != nil && m.Trace.Error != nil && m.Trace.Error.StreamDescriptor != nil && m.Trace.Error.StreamDescriptor.Name == stream:
			out = append(out, "ERROR")
		}
	}
	return out
}

// sameStrings compares two lists in order.
func sameStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

// feedManifest is an incremental stream over pages of records, newest
// first, paginated by page number; cursorExtra is added to its
// DatetimeBasedCursor, router (if any) to its retriever.
func feedManifest(cursorExtra, router string) string {
	return `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [events]}
streams:
  - type: DeclarativeStream
    name: events
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/events", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}
        pagination_strategy: {type: PageIncrement, start_from_page: 1, page_size: 2}
` + indent(router, "      ") + `
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: "%Y-%m-%d"
      start_datetime: "{{ config['start'] }}"
` + indent(cursorExtra, "      ") + `
spec: {type: Spec, connection_specification: {type: object}}
`
}

// feedPages serves three full pages of two records, newest first, then an
// empty page: ids 1..6 dated 2024-06-01, 2024-05-01, ... 2024-01-01.
func feedPages(w http.ResponseWriter, r *http.Request) {
	dates := []string{"2024-06-01", "2024-05-01", "2024-04-01", "2024-03-01", "2024-02-01", "2024-01-01"}
	page := 1
	fmt.Sscan(r.URL.Query().Get("page"), &page)
	var recs []string
	for i := (page - 1) * 2; i < page*2 && i < len(dates); i++ {
		recs = append(recs, fmt.Sprintf(`{"id": %d, "updated": %q, "p": %q}`, i+1, dates[i], r.URL.Query().Get("p")))
	}
	fmt.Fprintf(w, `{"data": [%s]}`, strings.Join(recs, ","))
}

// TestDataFeedStopsAtOldRecord follows StopConditionPaginationStrategyDecorator
// with CursorStopCondition (paginators/strategies/stop_condition.py): after
// a page whose last record the cursor would not sync (older than the start,
// or than the state's cursor minus the lookback), no next page is asked for.
// The records of the pages read are all emitted.
func TestDataFeedStopsAtOldRecord(t *testing.T) {
	text := feedManifest("is_data_feed: true", "")
	run := runFeature(t, text, `{"start": "2024-04-15"}`, "", feedPages)
	if run.err != nil {
		t.Fatal(run.err)
	}
	// Page 2 ends with 2024-04-01, before the start: the read stops there.
	sameStrings(t, "requests", run.requests, []string{"GET /events", "GET /events?page=2"})
	sameStrings(t, "records", run.recordIDs("events"), []string{"1", "2", "3", "4"})

	// From a state, the bound is the state's cursor (the retriever's
	// cursor is given the incoming state: _get_retriever).
	state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "events"}, "stream_state": {"updated": "2024-05-15"}}}]`
	run = runFeature(t, text, `{"start": "2024-01-01"}`, state, feedPages)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "requests from state", run.requests, []string{"GET /events"})

	// Without is_data_feed every page is read.
	run = runFeature(t, feedManifest("", ""), `{"start": "2024-04-15"}`, "", feedPages)
	sameStrings(t, "requests without data feed", run.requests, []string{"GET /events", "GET /events?page=2", "GET /events?page=3", "GET /events?page=4"})
}

// TestDataFeedRefusesEndDatetime follows create_datetime_based_cursor: a
// data feed has no end, and is not client-side incremental as well.
func TestDataFeedRefusesEndDatetime(t *testing.T) {
	for _, extra := range []string{"is_data_feed: true\nend_datetime: \"2024-12-01\"", "is_data_feed: true\nis_client_side_incremental: true"} {
		src, err := New([]byte(feedManifest(extra, "")))
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.Discover(context.Background(), json.RawMessage(`{"start": "2024-01-01"}`))
		if err == nil {
			t.Errorf("%q: discover succeeded, want the CDK's ValueError", extra)
		}
	}
}

// TestClientSideIncremental follows ClientSideIncrementalRecordFilterDecorator
// (extractors/record_filter.py) as the concurrent source builds it
// (create_declarative_stream): records outside the cursor's window are
// dropped before the record filter runs. For a stream without partitions
// the filter's cursor is a second DatetimeBasedCursor that never receives
// the state, so only the start and end datetimes bound it; with partitions
// it is the retriever's PerPartitionWithGlobalCursor, which gets the state.
func TestClientSideIncremental(t *testing.T) {
	text := feedManifest("is_client_side_incremental: true\nend_datetime: \"2024-06-15\"", "")
	state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "events"}, "stream_state": {"updated": "2024-04-15"}}}]`
	run := runFeature(t, text, `{"start": "2024-02-15"}`, state, feedPages)
	if run.err != nil {
		t.Fatal(run.err)
	}
	// 2024-02-01 and 2024-01-01 are before the start; the state
	// (2024-04-15) does not bound this filter. The page size the paginator
	// sees counts the records kept (SimpleRetriever._read_pages), so the
	// third page, with none kept, is the last.
	sameStrings(t, "records", run.recordIDs("events"), []string{"1", "2", "3", "4"})
	sameStrings(t, "requests", run.requests, []string{"GET /events", "GET /events?page=2", "GET /events?page=3"})

	// The end bounds it too: 2024-06-01 is dropped, so the first page
	// keeps one record, fewer than the page size, and is the last.
	run = runFeature(t, feedManifest("is_client_side_incremental: true\nend_datetime: \"2024-05-15\"", ""), `{"start": "2024-02-15"}`, "", feedPages)
	sameStrings(t, "records before the end", run.recordIDs("events"), []string{"2"})

	router := `partition_router:
  type: ListPartitionRouter
  cursor_field: p
  values: ["a", "b"]
  request_option: {type: RequestOption, inject_into: request_parameter, field_name: p}`
	text = feedManifest("is_client_side_incremental: true", router)
	state = `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "events"}, "stream_state": {
		"states": [{"partition": {"p": "a"}, "cursor": {"updated": "2024-04-15"}}],
		"state": {"updated": "2024-02-15"}}}}]`
	run = runFeature(t, text, `{"start": "2024-01-01"}`, state, feedPages)
	if run.err != nil {
		t.Fatal(run.err)
	}
	// Partition a from its own state, b from the global state.
	var a, b []string
	for _, m := range run.messages {
		if m.Record != nil {
			var v map[string]any
			_ = json.Unmarshal(m.Record.Data, &v)
			if v["p"] == "a" {
				a = append(a, fmt.Sprint(v["id"]))
			} else {
				b = append(b, fmt.Sprint(v["id"]))
			}
		}
	}
	sameStrings(t, "partition a", a, []string{"1", "2"})
	sameStrings(t, "partition b", b, []string{"1", "2", "3", "4"})
}

// dependencyManifest has a child stream partitioned by the records of an
// incremental parent read with incremental_dependency.
const dependencyManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [threads]}
definitions:
  conversations:
    type: DeclarativeStream
    name: conversations
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/conversations", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated_at
      datetime_format: "%Y-%m-%dT%H:%M:%SZ"
      start_datetime: "{{ config['start'] }}"
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: since}
streams:
  - type: DeclarativeStream
    name: threads
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/conversations/{{ stream_partition.conversation }}/threads", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      partition_router:
        type: SubstreamPartitionRouter
        parent_stream_configs:
          - type: ParentStreamConfig
            stream: {$ref: "#/definitions/conversations"}
            parent_key: id
            partition_field: conversation
            incremental_dependency: true
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: created_at
      datetime_format: "%Y-%m-%dT%H:%M:%SZ"
      start_datetime: "{{ config['start'] }}"
spec: {type: Spec, connection_specification: {type: object}}
`

// dependencyAPI serves two conversations updated after ?since, each with
// one thread.
func dependencyAPI(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/conversations" {
		var recs []string
		for _, c := range []struct{ id, at string }{{"7", "2024-03-01T10:00:00Z"}, {"8", "2024-04-02T00:00:00Z"}} {
			if c.at >= r.URL.Query().Get("since") {
				recs = append(recs, fmt.Sprintf(`{"id": %s, "updated_at": %q}`, c.id, c.at))
			}
		}
		fmt.Fprintf(w, `{"data": [%s]}`, strings.Join(recs, ","))
		return
	}
	fmt.Fprintf(w, `{"data": [{"id": "t%s", "created_at": "2024-04-01T00:00:00Z"}]}`, strings.Split(r.URL.Path, "/")[2])
}

// TestIncrementalDependency follows SubstreamPartitionRouter with
// incremental_dependency under ConcurrentPerPartitionCursor: the parent is
// read from the child state's parent_state (set_initial_state), its state
// moves forward as it is read (the synchronous DatetimeBasedCursor's
// observe and close_slice), and the child's final state carries it
// (ensure_at_least_one_state_emitted → get_stream_state). A child state
// without parent_state but with a single cursor value is migrated to the
// parent (_migrate_child_state_to_parent_state).
func TestIncrementalDependency(t *testing.T) {
	run := runFeature(t, dependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, "", dependencyAPI)
	if run.err != nil {
		t.Fatal(run.err)
	}
	// Partitions are read concurrently: compare their requests as a set.
	sameStrings(t, "first read requests", sortedCopy(run.requests), []string{
		"GET /conversations/7/threads", "GET /conversations/8/threads", "GET /conversations?since=2024-01-01T00%3A00%3A00Z"})
	states := run.states("threads")
	final := states[len(states)-1]
	want := `{"use_global_cursor":false,"states":[{"partition":{"conversation":7,"parent_slice":{}},"cursor":{"created_at":"2024-04-01T00:00:00Z"}},{"partition":{"conversation":8,"parent_slice":{}},"cursor":{"created_at":"2024-04-01T00:00:00Z"}}],"state":{"created_at":"2024-04-01T00:00:00Z"},"lookback_window":0,"parent_state":{"conversations":{"updated_at":"2024-04-02T00:00:00Z"}}}`
	if final != want {
		t.Errorf("final state\n got  %s\n want %s", final, want)
	}

	// The next read starts the parent at its state.
	state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": ` + final + `}}]`
	run = runFeature(t, dependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, state, dependencyAPI)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "second read requests", run.requests, []string{
		"GET /conversations?since=2024-04-02T00%3A00%3A00Z", "GET /conversations/8/threads"})
	states = run.states("threads")
	if got := states[len(states)-1]; !strings.Contains(got, `"parent_state":{"conversations":{"updated_at":"2024-04-02T00:00:00Z"}}`) {
		t.Errorf("second read's final state %s", got)
	}

	// A legacy child state moves to the parent.
	state = `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": {"created_at": "2024-03-15T00:00:00Z"}}}]`
	run = runFeature(t, dependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, state, dependencyAPI)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "migrated state's requests", run.requests, []string{
		"GET /conversations?since=2024-03-15T00%3A00%3A00Z", "GET /conversations/8/threads"})
}

// syncManifest has two streams the CDK reads synchronously (their path
// reads stream_state) and one it reads concurrently, listed last.
const syncManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [rates]}
definitions:
  daily:
    type: DeclarativeStream
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: "https://api.example.com"
        path: "/{{ parameters.name }}/{{ stream_state.get('day', 'none') }}"
        http_method: GET
        error_handler: {type: DefaultErrorHandler, max_retries: 0}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: day
      datetime_format: "%Y-%m-%d"
      start_datetime: "{{ config['start'] }}"
      end_datetime: "2024-01-03"
      step: P1D
      cursor_granularity: P1D
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: from}
streams:
  - {$ref: "#/definitions/daily", name: rates, $parameters: {name: rates}}
  - {$ref: "#/definitions/daily", name: broken, $parameters: {name: broken}}
  - type: DeclarativeStream
    name: other
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/other", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
spec: {type: Spec, connection_specification: {type: object}}
`

func syncAPI(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/broken/2024-01-01"):
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"message": "no such day"}`)
	case r.URL.Path == "/other":
		fmt.Fprint(w, `{"data": [{"id": "o1"}]}`)
	default:
		from := r.URL.Query().Get("from")
		fmt.Fprintf(w, `{"data": [{"id": %q, "day": %q}]}`, from, from)
	}
}

// TestSynchronousStreams follows ConcurrentDeclarativeSource._group_streams
// and AbstractSource.read: a stream whose templates read stream_state is
// read after the concurrent ones, slice by slice, each slice's requests
// seeing the state the previous slices reached, a STATE after each slice
// whose state changed; a failed one is INCOMPLETE, then its TRACE ERROR,
// and the read goes on with the next stream before the summary error.
func TestSynchronousStreams(t *testing.T) {
	run := runFeature(t, syncManifest, `{"start": "2024-01-01"}`, "", syncAPI)
	var re *readError
	if !errors.As(run.err, &re) || len(re.Streams) != 1 || re.Streams[0].Stream != "broken" {
		t.Fatalf("err = %v, want a *readError for broken", run.err)
	}
	var order []string
	for _, m := range run.messages {
		if m.Trace != nil && m.Trace.StreamStatus != nil && m.Trace.StreamStatus.Status == protocol.StatusStarted {
			order = append(order, m.Trace.StreamStatus.StreamDescriptor.Name)
		}
	}
	sameStrings(t, "streams started", order, []string{"other", "rates", "broken"})
	var rates []string
	for _, r := range run.requests {
		if strings.HasPrefix(r, "GET /rates") {
			rates = append(rates, r)
		}
	}
	sameStrings(t, "rates requests", rates, []string{"GET /rates/none?from=2024-01-01", "GET /rates/2024-01-01?from=2024-01-02", "GET /rates/2024-01-02?from=2024-01-03"})
	sameStrings(t, "rates messages", run.kinds("rates"), []string{"STARTED", "RUNNING", "RECORD", "STATE", "RECORD", "STATE", "RECORD", "STATE", "COMPLETE"})
	sameStrings(t, "rates states", run.states("rates"), []string{`{"day":"2024-01-01"}`, `{"day":"2024-01-02"}`, `{"day":"2024-01-03"}`})
	sameStrings(t, "broken messages", run.kinds("broken"), []string{"STARTED", "RUNNING", "RECORD", "STATE", "INCOMPLETE", "ERROR"})
	last := run.messages[len(run.messages)-1]
	if last.Trace == nil || last.Trace.Error == nil || last.Trace.Error.StreamDescriptor != nil || last.Trace.Error.FailureType != protocol.FailureConfig {
		t.Errorf("last message %+v, want the summary TRACE ERROR", last)
	}

	// From a state, the first slice starts at the state's day.
	state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "rates"}, "stream_state": {"day": "2024-01-02"}}}]`
	run = runFeature(t, syncManifest, `{"start": "2024-01-01"}`, state, syncAPI)
	rates = nil
	for _, r := range run.requests {
		if strings.HasPrefix(r, "GET /rates") {
			rates = append(rates, r)
		}
	}
	sameStrings(t, "rates requests from state", rates, []string{"GET /rates/2024-01-02?from=2024-01-02", "GET /rates/2024-01-02?from=2024-01-03"})
	sameStrings(t, "rates states from state", run.states("rates"), []string{`{"day":"2024-01-02"}`, `{"day":"2024-01-03"}`})
}

// TestUnbuiltFieldsRefused: a field of a built component whose behaviour
// the engine lacks makes the stream refused before any request, naming
// the field.
func TestUnbuiltFieldsRefused(t *testing.T) {
	for _, c := range []struct{ extra, want string }{
		{"global_substream_cursor: true", "$.streams[0].incremental_sync.global_substream_cursor"},
		{"clamping: {target: DAY}", "$.streams[0].incremental_sync.clamping"},
	} {
		src, err := New([]byte(feedManifest(c.extra, "")))
		if err != nil {
			t.Fatal(err)
		}
		err = src.Read(context.Background(), json.RawMessage(`{"start": "2024-01-01"}`), allStreams(src), nil, func(*protocol.Message) error { return nil })
		var ue *UnsupportedError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want an *UnsupportedError naming %s", c.extra, err, c.want)
		}
	}
}

// TestOAuthInitialToken follows DeclarativeOauth2Authenticator's
// __post_init__: access_token_value and token_expiry_date are the token to
// use until that date; only then is it refreshed.
func TestOAuthInitialToken(t *testing.T) {
	manifest := func(expiry string) string {
		return strings.Replace(feedManifest("", ""), `http_method: GET}`, `http_method: GET, authenticator: {type: OAuthAuthenticator, client_id: c, client_secret: s, grant_type: client_credentials, token_refresh_endpoint: "https://api.example.com/token", access_token_value: "{{ config['token'] }}", token_expiry_date: "`+expiry+`"}}`, 1)
	}
	api := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			fmt.Fprint(w, `{"access_token": "fresh", "expires_in": 3600}`)
			return
		}
		fmt.Fprintf(w, `{"data": [{"id": %q, "updated": "2024-06-01"}]}`, r.Header.Get("Authorization"))
	}
	run := runFeature(t, manifest("2025-02-01T00:00:00Z"), `{"start": "2024-01-01", "token": "given"}`, "", api)
	sameStrings(t, "records with a valid given token", run.recordIDs("events"), []string{"Bearer given"})
	run = runFeature(t, manifest("2025-01-01T00:00:00Z"), `{"start": "2024-01-01", "token": "given"}`, "", api)
	sameStrings(t, "records with an expired given token", run.recordIDs("events"), []string{"Bearer fresh"})
}

// TestLongStep follows ConcurrentCursor._split_per_slice_range and
// DatetimeBasedCursor._partition_daterange with a step longer than a
// time.Duration holds: lower + step is past the end, so there is one
// window. The step wrapped around to a negative one: the concurrent read
// asked for nothing, the synchronous one went back in time.
func TestLongStep(t *testing.T) {
	api := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [{"id": 1, "updated": "2024-01-02"}]}`)
	}
	extra := "step: P200000D\ncursor_granularity: P1D\nend_datetime: \"2024-01-05\"\nstart_time_option: {type: RequestOption, inject_into: request_parameter, field_name: from}"
	text := feedManifest(extra, "")
	run := runFeature(t, text, `{"start": "2024-01-01"}`, "", api)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "concurrent read's requests", run.requests, []string{"GET /events?from=2024-01-01"})
	// A path that reads stream_state makes the stream synchronous.
	text = strings.Replace(text, `path: "/events"`, `path: "/events/{{ stream_state.get('updated', 'none') }}"`, 1)
	run = runFeature(t, text, `{"start": "2024-01-01"}`, "", api)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "synchronous read's requests", run.requests, []string{"GET /events/none?from=2024-01-01"})
}

// TestStepThatDoesNotAdvance: a zero timedelta is falsy, so the CDK's
// ConcurrentCursor reads one window (the engine read none: lost records);
// its synchronous DatetimeBasedCursor appends the same window forever, as
// it does for a negative step, where the engine now fails the stream.
func TestStepThatDoesNotAdvance(t *testing.T) {
	api := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [{"id": 1, "updated": "2024-01-02"}]}`)
	}
	for _, step := range []string{"P0D", "PT0S", "-P1D"} {
		extra := "step: " + step + "\ncursor_granularity: P1D\nend_datetime: \"2024-01-05\"\nstart_time_option: {type: RequestOption, inject_into: request_parameter, field_name: from}"
		text := feedManifest(extra, "")
		if step != "-P1D" { // ConcurrentCursor reads nothing for a negative step
			run := runFeature(t, text, `{"start": "2024-01-01"}`, "", api)
			if run.err != nil {
				t.Fatal(run.err)
			}
			sameStrings(t, step+" concurrent read's requests", run.requests, []string{"GET /events?from=2024-01-01"})
		}
		// A path that reads stream_state makes the stream synchronous.
		text = strings.Replace(text, `path: "/events"`, `path: "/events/{{ stream_state.get('updated', 'none') }}"`, 1)
		done := make(chan *featureRun, 1)
		go func() { done <- runFeature(t, text, `{"start": "2024-01-01"}`, "", api) }()
		select {
		case run := <-done:
			if run.err == nil || !strings.Contains(run.err.Error(), "does not move the date window forward") || len(run.requests) != 0 {
				t.Errorf("%s synchronous read: err %v, requests %q; want the stream failed before any request", step, run.err, run.requests)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%s synchronous read: still computing windows after a minute", step)
		}
	}
}

// TestStringRequestInputs follows InterpolatedRequestInputProvider: a
// request_parameters or request_headers given as one template string is
// an InterpolatedString whose value, when a dict, is the mapping (None
// values dropped); request parameters that are not a dict are none
// (InterpolatedRequestOptionsProvider.get_request_params), request headers
// that are not a dict fail the request (HttpRequester._request_headers),
// and so does a request_body_json string whose value is a string
// (HttpRequester._request_body_json).
func TestStringRequestInputs(t *testing.T) {
	manifest := func(params, headers string, more ...string) string {
		return `
version: 6.31.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
spec: {type: Spec, connection_specification: {type: object, properties: {}}}
streams:
  - type: DeclarativeStream
    name: items
    primary_key: id
    schema_loader: {type: InlineSchemaLoader, schema: {}}
    retriever:
      type: SimpleRetriever
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      requester:
        type: HttpRequester
        url_base: https://api.example.com
        path: /items
        request_parameters: ` + params + `
        request_headers: ` + headers + `
` + strings.Join(more, "")
	}
	var mu sync.Mutex
	var gotHeader string
	api := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotHeader = r.Header.Get("X-Team")
		mu.Unlock()
		fmt.Fprint(w, `{"data": [{"id": 1}]}`)
	}
	run := runFeature(t, manifest(`"{{ {'q': config['q'], 'skip': None} }}"`, `"{{ {'X-Team': config['team']} }}"`),
		`{"q": "hello", "team": "blue"}`, "", api)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "requests", run.requests, []string{"GET /items?q=hello"})
	if gotHeader != "blue" {
		t.Errorf("X-Team header = %q, want blue", gotHeader)
	}

	run = runFeature(t, manifest(`"{{ config['q'] }}"`, `{}`), `{"q": "hello"}`, "", api)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "requests with parameters that are not a dict", run.requests, []string{"GET /items"})

	run = runFeature(t, manifest(`{}`, `"{{ config['team'] }}"`), `{"team": "blue"}`, "", api)
	if run.err == nil || !strings.Contains(run.err.Error(), "Request headers cannot be a string") {
		t.Errorf("headers that are not a dict: err = %v, want Request headers cannot be a string", run.err)
	}

	const post = "        http_method: POST\n"
	run = runFeature(t, manifest(`{}`, `{}`, post, `        request_body_json: "{{ {'team': config['team']} }}"`+"\n"), `{"team": "blue"}`, "", api)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "requests with a body JSON string", run.requests, []string{`POST /items {"team": "blue"}`})

	run = runFeature(t, manifest(`{}`, `{}`, post, `        request_body_json: "{{ config['team'] }}"`+"\n"), `{"team": "blue"}`, "", api)
	if run.err == nil || !strings.Contains(run.err.Error(), "Request body json cannot be a string") {
		t.Errorf("body JSON that is a string: err = %v, want Request body json cannot be a string", run.err)
	}
	run = runFeature(t, manifest(`{}`, `{}`, post, `        request_body_json: "{{ [config['team']] }}"`+"\n"), `{"team": "blue"}`, "", api)
	if run.err == nil || !strings.Contains(run.err.Error(), "Request body json must be a mapping") {
		t.Errorf("body JSON that is a list: err = %v, want Request body json must be a mapping", run.err)
	}

	// A request_body_data string whose value is a dict is a form, as the
	// mapping would be; any other value is the body's text.
	run = runFeature(t, manifest(`{}`, `{}`, post, `        request_body_data: "{{ {'team': config['team'], 'skip': None} }}"`+"\n"), `{"team": "blue"}`, "", api)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "requests with a body data string", run.requests, []string{`POST /items team=blue`})
}

// nestedDependencyManifest is threads per conversation, conversations per
// account, each parent read with incremental_dependency: the parent of
// threads has a partition router of its own.
const nestedDependencyManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [threads]}
definitions:
  cursor:
    type: DatetimeBasedCursor
    cursor_field: updated_at
    datetime_format: "%Y-%m-%dT%H:%M:%SZ"
    start_datetime: "{{ config['start'] }}"
    start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: since}
  accounts:
    type: DeclarativeStream
    name: accounts
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/accounts", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
    incremental_sync: {$ref: "#/definitions/cursor"}
  conversations:
    type: DeclarativeStream
    name: conversations
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/accounts/{{ stream_partition.account }}/conversations", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      partition_router:
        type: SubstreamPartitionRouter
        parent_stream_configs:
          - type: ParentStreamConfig
            stream: {$ref: "#/definitions/accounts"}
            parent_key: id
            partition_field: account
            incremental_dependency: true
    incremental_sync: {$ref: "#/definitions/cursor"}
streams:
  - type: DeclarativeStream
    name: threads
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/conversations/{{ stream_partition.conversation }}/threads", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      partition_router:
        type: SubstreamPartitionRouter
        parent_stream_configs:
          - type: ParentStreamConfig
            stream: {$ref: "#/definitions/conversations"}
            parent_key: id
            partition_field: conversation
            incremental_dependency: true
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: created_at
      datetime_format: "%Y-%m-%dT%H:%M:%SZ"
      start_datetime: "{{ config['start'] }}"
spec: {type: Spec, connection_specification: {type: object}}
`

// nestedDependencyAPI serves accounts 1 and 2, conversation 11 of account 1
// and 21 of account 2, each updated after ?since, and one thread per
// conversation.
func nestedDependencyAPI(w http.ResponseWriter, r *http.Request) {
	since := r.URL.Query().Get("since")
	var recs []string
	add := func(id, at string) {
		if at >= since {
			recs = append(recs, fmt.Sprintf(`{"id": %s, "updated_at": %q}`, id, at))
		}
	}
	parts := strings.Split(r.URL.Path, "/")
	switch {
	case r.URL.Path == "/accounts":
		add("1", "2024-02-01T00:00:00Z")
		add("2", "2024-05-01T00:00:00Z")
	case parts[1] == "accounts" && parts[2] == "1":
		add("11", "2024-03-01T00:00:00Z")
	case parts[1] == "accounts" && parts[2] == "2":
		add("21", "2024-04-02T00:00:00Z")
	default:
		fmt.Fprintf(w, `{"data": [{"id": "t%s", "created_at": "2024-04-01T00:00:00Z"}]}`, parts[2])
		return
	}
	fmt.Fprintf(w, `{"data": [%s]}`, strings.Join(recs, ","))
}

// TestIncrementalDependencyOnPartitionedParent follows the CDK's read of a
// parent that has a partition router and a DatetimeBasedCursor: the
// parent's cursor is a PerPartitionWithGlobalCursor
// (model_to_component_factory.py _merge_stream_slicers), its state is set
// from the child's parent_state and its router's parents from that
// state's own parent_state (set_initial_state), it moves as the parent is
// read (read_only_records: a cursor per partition, and the global cursor
// closed with the last slice, the sync's duration in whole seconds as its
// lookback_window), and SubstreamPartitionRouter.get_stream_state writes
// what it reached, nested parent_state included, into the child's state.
func TestIncrementalDependencyOnPartitionedParent(t *testing.T) {
	run := runFeature(t, nestedDependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, "", nestedDependencyAPI)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "first read requests", sortedCopy(run.requests), []string{
		"GET /accounts/1/conversations?since=2024-01-01T00%3A00%3A00Z",
		"GET /accounts/2/conversations?since=2024-01-01T00%3A00%3A00Z",
		"GET /accounts?since=2024-01-01T00%3A00%3A00Z",
		"GET /conversations/11/threads", "GET /conversations/21/threads"})
	states := run.states("threads")
	final := states[len(states)-1]
	conversations := `{"use_global_cursor":false,"state":{"updated_at":"2024-04-02T00:00:00Z"},"lookback_window":0,` +
		`"states":[{"partition":{"account":1,"parent_slice":{}},"cursor":{"updated_at":"2024-03-01T00:00:00Z"}},` +
		`{"partition":{"account":2,"parent_slice":{}},"cursor":{"updated_at":"2024-04-02T00:00:00Z"}}],` +
		`"parent_state":{"accounts":{"updated_at":"2024-05-01T00:00:00Z"}}}`
	if want := `"parent_state":{"conversations":` + conversations + `}}`; !strings.HasSuffix(final, want) {
		t.Errorf("final state\n got  %s\n want one ending %s", final, want)
	}

	// The next read starts the accounts and each account's conversations
	// where the first read left them.
	state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": ` + final + `}}]`
	run = runFeature(t, nestedDependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, state, nestedDependencyAPI)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "second read requests", run.requests, []string{
		"GET /accounts?since=2024-05-01T00%3A00%3A00Z",
		"GET /accounts/2/conversations?since=2024-04-02T00%3A00%3A00Z",
		"GET /conversations/21/threads"})
	states = run.states("threads")
	if got, want := states[len(states)-1], `"parent_state":{"conversations":`+conversations+`}}`; !strings.HasSuffix(got, want) {
		t.Errorf("second read's final state\n got  %s\n want one ending %s", got, want)
	}

	// A legacy child state moves to the conversations, and from them to
	// the accounts (_migrate_child_state_to_parent_state at each level).
	state = `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": {"created_at": "2024-03-15T00:00:00Z"}}}]`
	run = runFeature(t, nestedDependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, state, nestedDependencyAPI)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "migrated state's requests", run.requests, []string{
		"GET /accounts?since=2024-03-15T00%3A00%3A00Z",
		"GET /accounts/2/conversations?since=2024-03-15T00%3A00%3A00Z",
		"GET /conversations/21/threads"})
}

// TestIncrementalDependencyOnPartitionedFullRefreshParent pins the engine
// where the CDK 6.31.1 loses records (doc.go, "Where the engine differs
// from the CDK"): a parent with partitions and no incremental_sync has a
// PerPartitionCursor of ChildPartitionResumableFullRefreshCursors there
// (_merge_stream_slicers), which marks each partition read
// {"__ab_full_refresh_sync_complete": true}; from that parent_state the
// next read's CursorBasedCheckpointReader skips every partition read
// before, so the child never again sees the parent records of an older
// partition. The engine keeps no state for such a parent and reads all of
// it each time.
func TestIncrementalDependencyOnPartitionedFullRefreshParent(t *testing.T) {
	manifest := strings.Replace(nestedDependencyManifest, "    incremental_sync: {$ref: \"#/definitions/cursor\"}\nstreams:", "streams:", 1)
	if manifest == nestedDependencyManifest {
		t.Fatal("the conversations' incremental_sync was not removed")
	}
	want := []string{
		"GET /accounts/1/conversations", "GET /accounts/2/conversations",
		"GET /accounts?since=2024-01-01T00%3A00%3A00Z",
		"GET /conversations/11/threads", "GET /conversations/21/threads"}
	state := ""
	for _, read := range []string{"first", "second"} {
		run := runFeature(t, manifest, `{"start": "2024-01-01T00:00:00Z"}`, state, nestedDependencyAPI)
		if run.err != nil {
			t.Fatal(run.err)
		}
		sameStrings(t, read+" read requests", sortedCopy(run.requests), want)
		states := run.states("threads")
		final := states[len(states)-1]
		if !strings.HasSuffix(final, `"parent_state":{"conversations":{}}}`) {
			t.Errorf("%s read's final state %s", read, final)
		}
		state = `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": ` + final + `}}]`
	}
}

// TestIncrementalDependencyOnGlobalPartitionedParent follows
// PerPartitionWithGlobalCursor with use_global_cursor in its state: every
// partition reads the windows of the global cursor, which moves only when
// the last slice is closed, and the state has no "states".
func TestIncrementalDependencyOnGlobalPartitionedParent(t *testing.T) {
	state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": {"parent_state": {"conversations":
		{"use_global_cursor": true, "state": {"updated_at": "2024-04-01T00:00:00Z"}, "lookback_window": 0,
		 "parent_state": {"accounts": {"updated_at": "2024-01-01T00:00:00Z"}}}}}}}]`
	run := runFeature(t, nestedDependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, state, nestedDependencyAPI)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "requests", run.requests, []string{
		"GET /accounts?since=2024-01-01T00%3A00%3A00Z",
		"GET /accounts/1/conversations?since=2024-04-01T00%3A00%3A00Z",
		"GET /accounts/2/conversations?since=2024-04-01T00%3A00%3A00Z",
		"GET /conversations/21/threads"})
	states := run.states("threads")
	want := `"parent_state":{"conversations":{"use_global_cursor":true,"state":{"updated_at":"2024-04-02T00:00:00Z"},"lookback_window":0,"parent_state":{"accounts":{"updated_at":"2024-05-01T00:00:00Z"}}}}}`
	if got := states[len(states)-1]; !strings.HasSuffix(got, want) {
		t.Errorf("final state\n got  %s\n want one ending %s", got, want)
	}
}

// manyAccountsAPI serves accounts 1 to n, one conversation k1 per account
// k, updated on 2024-03-0k, and one thread per conversation, whatever
// ?since says (as an API that ignores it would).
func manyAccountsAPI(n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(r.URL.Path, "/")
		var recs []string
		switch {
		case r.URL.Path == "/accounts":
			for k := 1; k <= n; k++ {
				recs = append(recs, fmt.Sprintf(`{"id": %d, "updated_at": "2024-02-%02dT00:00:00Z"}`, k, k))
			}
		case parts[1] == "accounts":
			recs = append(recs, fmt.Sprintf(`{"id": %s1, "updated_at": "2024-03-%02sT00:00:00Z"}`, parts[2], parts[2]))
		default:
			recs = append(recs, fmt.Sprintf(`{"id": "t%s", "created_at": "2024-04-01T00:00:00Z"}`, parts[2]))
		}
		fmt.Fprintf(w, `{"data": [%s]}`, strings.Join(recs, ","))
	}
}

// accountRequests is the requests of the accounts and their
// conversations, in the order they were sent (one goroutine reads a
// parent).
func accountRequests(requests []string) []string {
	var out []string
	for _, r := range requests {
		if strings.HasPrefix(r, "GET /accounts") {
			out = append(out, r)
		}
	}
	return out
}

// TestIncrementalDependencyOnPartitionedParentOverLimit follows the
// PerPartitionCursor of a partitioned parent past its
// DEFAULT_MAX_PARTITIONS_NUMBER (here 2): each new partition first drops
// the oldest while as many are kept as the limit less one
// (_ensure_partition_limit), a partition dropped and seen again starts
// from the state to migrate from (the global "state"), not from the one
// it had, and once more partitions were dropped than the limit the next
// record turns the cursor global (limit_reached in observe), whose
// windows the later partitions read and whose state is the only one
// kept.
func TestIncrementalDependencyOnPartitionedParentOverLimit(t *testing.T) {
	const config = `{"start": "2024-01-01T00:00:00Z"}`
	// Four partitions: the first two are dropped, which is not more than
	// the limit, so the cursor stays per partition.
	run := runFeature(t, nestedDependencyManifest, config, "", manyAccountsAPI(4), withMaxPartitions(2))
	if run.err != nil {
		t.Fatal(run.err)
	}
	states := run.states("threads")
	final := states[len(states)-1]
	conversations := `{"use_global_cursor":false,"state":{"updated_at":"2024-03-04T00:00:00Z"},"lookback_window":0,` +
		`"states":[{"partition":{"account":3,"parent_slice":{}},"cursor":{"updated_at":"2024-03-03T00:00:00Z"}},` +
		`{"partition":{"account":4,"parent_slice":{}},"cursor":{"updated_at":"2024-03-04T00:00:00Z"}}],` +
		`"parent_state":{"accounts":{"updated_at":"2024-02-04T00:00:00Z"}}}`
	if want := `"parent_state":{"conversations":` + conversations + `}}`; !strings.HasSuffix(final, want) {
		t.Fatalf("four partitions: final state\n got  %s\n want one ending %s", final, want)
	}

	// Read again, with a day's lookback_window: accounts 1 and 2 drop 3
	// and 4, so account 3 starts from the global state, not from its own;
	// it drops account 1, the third partition dropped, so its record
	// turns the cursor global, and account 4 reads the global cursor's
	// window, which alone looks back (the runtime lookback is set on the
	// global cursor only).
	lookback := strings.Replace(final, `"conversations":{"use_global_cursor":false,"state":{"updated_at":"2024-03-04T00:00:00Z"},"lookback_window":0`,
		`"conversations":{"use_global_cursor":false,"state":{"updated_at":"2024-03-04T00:00:00Z"},"lookback_window":86400`, 1)
	if lookback == final {
		t.Fatal("no lookback_window to replace")
	}
	state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": ` + lookback + `}}]`
	run = runFeature(t, nestedDependencyManifest, config, state, manyAccountsAPI(4), withMaxPartitions(2))
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "second read requests", accountRequests(run.requests), []string{
		"GET /accounts?since=2024-02-04T00%3A00%3A00Z",
		"GET /accounts/1/conversations?since=2024-03-04T00%3A00%3A00Z",
		"GET /accounts/2/conversations?since=2024-03-04T00%3A00%3A00Z",
		"GET /accounts/3/conversations?since=2024-03-04T00%3A00%3A00Z",
		"GET /accounts/4/conversations?since=2024-03-03T00%3A00%3A00Z"})
	states = run.states("threads")
	want := `"parent_state":{"conversations":{"use_global_cursor":true,"state":{"updated_at":"2024-03-04T00:00:00Z"},"lookback_window":0,` +
		`"parent_state":{"accounts":{"updated_at":"2024-02-04T00:00:00Z"}}}}}`
	if got := states[len(states)-1]; !strings.HasSuffix(got, want) {
		t.Errorf("second read's final state\n got  %s\n want one ending %s", got, want)
	}
}

// TestIncrementalDependencyOnPartitionedParentLookback follows the
// lookback_window of a partitioned parent's global cursor with a clock
// that moves: each read of conversations takes 1.6 s, so a read of two
// accounts takes 3.2 s and its state says 4 (Timer.finish rounds the
// sync's duration up to whole seconds), and the next read's global
// windows start 4 s before the state (set_runtime_lookback_window); the
// windows of a partition's own cursor do not.
func TestIncrementalDependencyOnPartitionedParentLookback(t *testing.T) {
	var mu sync.Mutex
	now := featureNow
	clock := WithClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	})
	api := func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/conversations") {
			mu.Lock()
			now = now.Add(1600 * time.Millisecond)
			mu.Unlock()
		}
		nestedDependencyAPI(w, r)
	}
	state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": {"parent_state": {"conversations":
		{"use_global_cursor": true, "state": {"updated_at": "2024-04-01T00:00:00Z"}, "lookback_window": 0,
		 "parent_state": {"accounts": {"updated_at": "2024-01-01T00:00:00Z"}}}}}}}]`
	run := runFeature(t, nestedDependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, state, api, clock)
	if run.err != nil {
		t.Fatal(run.err)
	}
	states := run.states("threads")
	final := states[len(states)-1]
	want := `"parent_state":{"conversations":{"use_global_cursor":true,"state":{"updated_at":"2024-04-02T00:00:00Z"},"lookback_window":4,"parent_state":{"accounts":{"updated_at":"2024-05-01T00:00:00Z"}}}}}`
	if !strings.HasSuffix(final, want) {
		t.Fatalf("first read's final state\n got  %s\n want one ending %s", final, want)
	}

	state = `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": ` + final + `}}]`
	run = runFeature(t, nestedDependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, state, api, clock)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "second read requests", accountRequests(run.requests), []string{
		"GET /accounts?since=2024-05-01T00%3A00%3A00Z",
		"GET /accounts/2/conversations?since=2024-04-01T23%3A59%3A56Z"})
	states = run.states("threads")
	want = `"parent_state":{"conversations":{"use_global_cursor":true,"state":{"updated_at":"2024-04-02T00:00:00Z"},"lookback_window":2,"parent_state":{"accounts":{"updated_at":"2024-05-01T00:00:00Z"}}}}}`
	if got := states[len(states)-1]; !strings.HasSuffix(got, want) {
		t.Errorf("second read's final state\n got  %s\n want one ending %s", got, want)
	}

	// Per partition, the state records the lookback_window too, but only
	// the global cursor uses it: the cursor of a partition is made by the
	// CursorFactory, without it.
	run = runFeature(t, nestedDependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, "", api, clock)
	if run.err != nil {
		t.Fatal(run.err)
	}
	states = run.states("threads")
	final = states[len(states)-1]
	if want := `"state":{"updated_at":"2024-04-02T00:00:00Z"},"lookback_window":4,"states":`; !strings.Contains(final, want) {
		t.Fatalf("per partition: final state\n got  %s\n want one with %s", final, want)
	}
	state = `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": ` + final + `}}]`
	run = runFeature(t, nestedDependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, state, api, clock)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "per partition: second read requests", accountRequests(run.requests), []string{
		"GET /accounts?since=2024-05-01T00%3A00%3A00Z",
		"GET /accounts/2/conversations?since=2024-04-02T00%3A00%3A00Z"})
}

// TestIncrementalDependencyOnPartitionedParentLooksAhead follows the order
// in which the CDK reads a partitioned parent: PerPartitionWithGlobalCursor
// takes its router's partitions through iterate_with_last_flag_and_state,
// which holds one back to know whether it is the last, so an account's
// conversations are read only once the next account came (or the
// accounts ended), and a paginated grandparent's next page is requested
// first.
func TestIncrementalDependencyOnPartitionedParentLooksAhead(t *testing.T) {
	const pages = `      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}
        pagination_strategy: {type: CursorPagination, cursor_value: "{{ response.next }}", stop_condition: "{{ not response.next }}"}
    incremental_sync: {$ref: "#/definitions/cursor"}
  conversations:`
	manifest := strings.Replace(nestedDependencyManifest, `      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
    incremental_sync: {$ref: "#/definitions/cursor"}
  conversations:`, pages, 1)
	if manifest == nestedDependencyManifest {
		t.Fatal("no paginator added to the accounts")
	}
	// Account k is on page k of 3.
	api := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/accounts" {
			page := r.URL.Query().Get("page")
			if page == "" {
				page = "1"
			}
			next := map[string]string{"1": "2", "2": "3", "3": ""}[page]
			fmt.Fprintf(w, `{"data": [{"id": %s, "updated_at": "2024-02-0%sT00:00:00Z"}], "next": %q}`, page, page, next)
			return
		}
		manyAccountsAPI(3)(w, r)
	}
	run := runFeature(t, manifest, `{"start": "2024-01-01T00:00:00Z"}`, "", api)
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "requests", accountRequests(run.requests), []string{
		"GET /accounts?since=2024-01-01T00%3A00%3A00Z",
		"GET /accounts?page=2&since=2024-01-01T00%3A00%3A00Z",
		"GET /accounts/1/conversations?since=2024-01-01T00%3A00%3A00Z",
		"GET /accounts?page=3&since=2024-01-01T00%3A00%3A00Z",
		"GET /accounts/2/conversations?since=2024-01-01T00%3A00%3A00Z",
		"GET /accounts/3/conversations?since=2024-01-01T00%3A00%3A00Z"})
	states := run.states("threads")
	want := `"parent_state":{"conversations":{"use_global_cursor":false,"state":{"updated_at":"2024-03-03T00:00:00Z"},"lookback_window":0,` +
		`"states":[{"partition":{"account":1,"parent_slice":{}},"cursor":{"updated_at":"2024-03-01T00:00:00Z"}},` +
		`{"partition":{"account":2,"parent_slice":{}},"cursor":{"updated_at":"2024-03-02T00:00:00Z"}},` +
		`{"partition":{"account":3,"parent_slice":{}},"cursor":{"updated_at":"2024-03-03T00:00:00Z"}}],` +
		`"parent_state":{"accounts":{"updated_at":"2024-02-03T00:00:00Z"}}}}}`
	if got := states[len(states)-1]; !strings.HasSuffix(got, want) {
		t.Errorf("final state\n got  %s\n want one ending %s", got, want)
	}
}

// TestIncrementalDependencyOnPartitionedParentLookbackNotInt follows
// set_runtime_lookback_window given a state's lookback_window that is not
// an int: timedelta(seconds=...) takes a float to the microsecond and
// True as 1.
func TestIncrementalDependencyOnPartitionedParentLookbackNotInt(t *testing.T) {
	for _, c := range []struct{ lookback, since string }{
		{"86400.5", "2024-03-30T23%3A59%3A59Z"},
		{"true", "2024-03-31T23%3A59%3A59Z"},
		{"2", "2024-03-31T23%3A59%3A58Z"},
	} {
		state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": {"parent_state": {"conversations":
			{"use_global_cursor": true, "state": {"updated_at": "2024-04-01T00:00:00Z"}, "lookback_window": ` + c.lookback + `,
			 "parent_state": {"accounts": {"updated_at": "2024-01-01T00:00:00Z"}}}}}}}]`
		run := runFeature(t, nestedDependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, state, nestedDependencyAPI)
		if run.err != nil {
			t.Fatal(run.err)
		}
		sameStrings(t, "lookback_window "+c.lookback, accountRequests(run.requests), []string{
			"GET /accounts?since=2024-01-01T00%3A00%3A00Z",
			"GET /accounts/1/conversations?since=" + c.since,
			"GET /accounts/2/conversations?since=" + c.since})
	}
}

// listParentManifest is the CDK 6.31.1's test_per_partition_cursor_integration.py
// ManifestBuilder stream Rates (a ListPartitionRouter over VALUES and a
// monthly DatetimeBasedCursor) as the parent of a stream with
// incremental_dependency. Each window's request says where it starts, so
// that the parent's response cache does not answer the second window of a
// partition (the CDK's tests mock _read_pages instead).
const listParentManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [children]}
definitions:
  rates:
    type: DeclarativeStream
    name: Rates
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/rates/{{ stream_partition.partition_field }}", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      partition_router: {type: ListPartitionRouter, cursor_field: partition_field, values: VALUES}
    incremental_sync:
      type: DatetimeBasedCursor
      start_datetime: "2022-01-01"
      end_datetime: "2022-02-28"
      datetime_format: "%Y-%m-%d"
      cursor_field: cursor_field
      step: P1M
      cursor_granularity: P1D
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: since}
streams:
  - type: DeclarativeStream
    name: children
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/children/{{ stream_partition.parent_id }}", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      partition_router:
        type: SubstreamPartitionRouter
        parent_stream_configs:
          - type: ParentStreamConfig
            stream: {$ref: "#/definitions/rates"}
            parent_key: id
            partition_field: parent_id
            incremental_dependency: true
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: created_at
      datetime_format: "%Y-%m-%d"
      start_datetime: "2022-01-01"
spec: {type: Spec, connection_specification: {type: object}}
`

// TestIncrementalDependencyOnListPartitionedParentLimit runs the CDK
// 6.31.1's test_partition_limitation and test_perpartition_with_fallback
// (unit_tests/sources/declarative/incremental/test_per_partition_cursor_integration.py),
// whose stream is read by the synchronous PerPartitionWithGlobalCursor
// that a partitioned parent has, with the limit patched to 2, and checks
// the final state the CDK's tests expect. (Their lookback_window is 1, the
// real duration of the read rounded up; the frozen clock here makes it 0.)
func TestIncrementalDependencyOnListPartitionedParentLimit(t *testing.T) {
	for _, c := range []struct {
		name, values, state string
		// pages is the CDK test's records_list: the records of each slice
		// in the order the slices are read.
		pages [][]string
		want  string
	}{{
		// Three partitions without state (the test's state is another
		// stream's): the third drops the first.
		name:   "test_partition_limitation",
		values: `["1", "2", "3"]`,
		pages: [][]string{
			{"2022-01-15", "2022-01-16"}, {"2022-02-15"}, {"2022-01-16"}, {}, {}, {"2022-02-17"},
		},
		want: `{"use_global_cursor":false,"state":{"cursor_field":"2022-02-17"},"lookback_window":0,"states":[` +
			`{"partition":{"partition_field":"2"},"cursor":{"cursor_field":"2022-01-16"}},` +
			`{"partition":{"partition_field":"3"},"cursor":{"cursor_field":"2022-02-17"}}]}`,
	}, {
		// Six partitions and a state of three: the first partition drops
		// two, the second the third, and the second's first record turns
		// the cursor global, whose state alone is kept.
		name:   "test_perpartition_with_fallback",
		values: `["1", "2", "3", "4", "5", "6"]`,
		state: `{"states": [
			{"partition": {"partition_field": "1"}, "cursor": {"cursor_field": "2022-01-01"}},
			{"partition": {"partition_field": "2"}, "cursor": {"cursor_field": "2022-01-02"}},
			{"partition": {"partition_field": "3"}, "cursor": {"cursor_field": "2022-01-03"}}]}`,
		pages: [][]string{
			{"2022-01-15", "2022-01-16"}, {"2022-02-15"}, {"2022-01-16"}, {}, {}, {"2022-02-17"},
			{"2022-01-17"}, {"2022-02-19"}, {}, {"2022-02-18"}, {"2022-01-13"}, {"2022-02-18"},
		},
		want: `{"use_global_cursor":true,"state":{"cursor_field":"2022-02-19"},"lookback_window":0}`,
	}} {
		var mu sync.Mutex
		read := 0
		api := func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/children/") {
				fmt.Fprint(w, `{"data": []}`)
				return
			}
			mu.Lock()
			n := read
			read++
			mu.Unlock()
			var recs []string
			if n < len(c.pages) {
				for i, at := range c.pages[n] {
					recs = append(recs, fmt.Sprintf(`{"id": "%d-%d", "cursor_field": %q}`, n, i, at))
				}
			}
			fmt.Fprintf(w, `{"data": [%s]}`, strings.Join(recs, ","))
		}
		state := ""
		if c.state != "" {
			state = `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "children"}, "stream_state": {"parent_state": {"Rates": ` + c.state + `}}}}]`
		}
		run := runFeature(t, strings.Replace(listParentManifest, "VALUES", c.values, 1), `{}`, state, api, withMaxPartitions(2))
		if run.err != nil {
			t.Fatalf("%s: %v", c.name, run.err)
		}
		if read != len(c.pages) {
			t.Errorf("%s: %d slices of Rates read, want %d", c.name, read, len(c.pages))
		}
		states := run.states("children")
		if got, want := states[len(states)-1], `"parent_state":{"Rates":`+c.want+`}}`; !strings.HasSuffix(got, want) {
			t.Errorf("%s: final state\n got  %s\n want one ending %s", c.name, got, want)
		}
	}
}

// otherManifest has one stream, "other", read concurrently.
const otherManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [other]}
streams:
  - type: DeclarativeStream
    name: other
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/other", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
spec: {type: Spec, connection_specification: {type: object}}
`

// TestMissingStreamIncomplete follows ConcurrentDeclarativeSource._select_streams
// (and AbstractSource.read without raise_exception_on_missing_stream): a
// configured stream the manifest does not have is not an error, it is
// marked INCOMPLETE before the others are read. Left silent, the kit
// would end it COMPLETE, and a runner replace its table with nothing.
func TestMissingStreamIncomplete(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(syncAPI))
	defer srv.Close()
	src, err := New([]byte(otherManifest), WithHTTPClient(&http.Client{Transport: &replaytest.Transport{Target: mustURL(t, srv.URL)}, Timeout: 10 * time.Second}),
		WithClock(func() time.Time { return featureNow }), withSleep(noSleep))
	if err != nil {
		t.Fatal(err)
	}
	cat := &protocol.ConfiguredCatalog{}
	for _, name := range []string{"gone", "other"} {
		cat.Streams = append(cat.Streams, protocol.ConfiguredStream{Stream: protocol.Stream{Name: name, JSONSchema: json.RawMessage(`{}`)},
			SyncMode: protocol.SyncFullRefresh, DestinationSyncMode: protocol.DestinationOverwrite})
	}
	run := &featureRun{}
	run.err = src.Read(context.Background(), json.RawMessage(`{}`), cat, nil, func(m *protocol.Message) error {
		run.messages = append(run.messages, m)
		return nil
	})
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "gone messages", run.kinds("gone"), []string{"INCOMPLETE"})
	sameStrings(t, "other messages", run.kinds("other"), []string{"STARTED", "RUNNING", "RECORD", "STATE", "COMPLETE"})
	if first := run.messages[0]; first.Trace == nil || first.Trace.StreamStatus == nil || first.Trace.StreamStatus.StreamDescriptor.Name != "gone" {
		t.Errorf("first message %+v, want gone's INCOMPLETE", first)
	}
}

// TestOAuthExpiryDateFormat follows AbstractOauth2Authenticator.
// _parse_token_expiration_date of the CDK 6.31.1: with a
// token_expiry_date_format, the token's expires_in field is the time of
// expiration, read with ab_datetime_parse (the format itself is not used,
// so source-square's "YYYY-MM-DDTHH:mm:ss[Z]" works), and a value it
// cannot parse fails the read ("Invalid token expiry date format").
func TestOAuthExpiryDateFormat(t *testing.T) {
	manifest := strings.Replace(feedManifest("", ""), `http_method: GET}`, `http_method: GET, authenticator: {type: OAuthAuthenticator, client_id: c, client_secret: s, refresh_token: r, expires_in_name: expires_at, token_expiry_date_format: "YYYY-MM-DDTHH:mm:ss[Z]", token_refresh_endpoint: "https://api.example.com/token"}}`, 1)
	api := func(expiresAt string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				fmt.Fprintf(w, `{"access_token": "fresh"%s}`, expiresAt)
				return
			}
			fmt.Fprintf(w, `{"data": [{"id": %q, "updated": "2024-06-01"}]}`, r.Header.Get("Authorization"))
		}
	}
	tokenRequests := func(run *featureRun) int {
		n := 0
		for _, r := range run.requests {
			if strings.HasPrefix(r, "POST /token") {
				n++
			}
		}
		return n
	}
	run := runFeature(t, manifest, `{"start": "2024-10-01"}`, "", api(`, "expires_at": "2025-02-01T00:00:00Z"`))
	if run.err != nil || len(run.recordIDs("events")) == 0 || tokenRequests(run) != 1 {
		t.Errorf("a token expiring in the future: %d token requests, %d records, %v; want 1 request and records", tokenRequests(run), len(run.recordIDs("events")), run.err)
	}
	run = runFeature(t, manifest, `{"start": "2024-10-01"}`, "", api(``))
	if run.err == nil || !strings.Contains(fmt.Sprint(run.err), "Invalid token expiry date format") {
		t.Errorf("a token response without its expiry: %v (%d token requests); want the read to fail with Invalid token expiry date format", run.err, tokenRequests(run))
	}
}
