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

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/internal/replaytest"
	"github.com/x/goairbyte/protocol"
)

// largePartitionState is a per-partition state of n partitions of the
// items stream of stateFuzzManifests[2] (its regions router).
func largePartitionState(n int) string {
	var b strings.Builder
	b.WriteString(`{"use_global_cursor": false, "states": [`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `{"partition": {"region": "r%d"}, "cursor": {"modified": "2024-05-01T00:00:00.000000Z"}}`, i)
	}
	b.WriteString(`], "state": {"modified": "2024-05-01T00:00:00.000000Z"}, "lookback_window": 0}`)
	return b.String()
}

// errAfter is a context whose Err is nil for its first n calls and
// context.Canceled after: a read cancelled while it parses a state.
type errAfter struct {
	context.Context
	n int
}

func (c *errAfter) Err() error {
	if c.n > 0 {
		c.n--
		return nil
	}
	return context.Canceled
}

// TestLargeStateLoadSeesContext checks that the three cursors that read a
// per-partition state stop reading one of tens of thousands of partitions
// once the read's context is done, returning its error, and that a read
// cancelled before it starts returns that error with no message.
func TestLargeStateLoadSeesContext(t *testing.T) {
	stateRigOnce.Do(func() { stateRig, stateRigErr = newStateFuzzRig() })
	if stateRigErr != nil {
		t.Fatal(stateRigErr)
	}
	const n = 30000
	sv, err := decodeJSON([]byte(largePartitionState(n)))
	if err != nil {
		t.Fatal(err)
	}
	state := sv.(*dict)
	src := stateRig.sources[2]
	st := src.streamByName("items")
	cfg, _ := decodeJSON([]byte(stateFuzzManifests[2].config))
	v := &vars{config: cfg}
	v.Now = src.opts.now
	v.Set(interpolation.VarConfig, cfg)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newPerPartitionRun(cancelled, st.cursor, nil, state, v, src.opts.now, defaultMaxPartitions); !errors.Is(err, context.Canceled) {
		t.Errorf("newPerPartitionRun: %v, want %v", err, context.Canceled)
	}
	if _, err := newLegacyPerPartition(cancelled, st.cursor, nil, state, v, src.opts.now, defaultMaxPartitions); !errors.Is(err, context.Canceled) {
		t.Errorf("newLegacyPerPartition: %v, want %v", err, context.Canceled)
	}
	if _, err := newPartitionWindows(cancelled, st.cursor, state, v, src.opts.now); !errors.Is(err, context.Canceled) {
		t.Errorf("newPartitionWindows: %v, want %v", err, context.Canceled)
	}

	// Cancelled after the first look: the rest is not read.
	read := 0
	err = eachPartitionState(&errAfter{Context: context.Background(), n: 1}, state, func(_, _ *dict) error {
		read++
		return nil
	})
	if !errors.Is(err, context.Canceled) || read == 0 || read >= n {
		t.Errorf("cancelled while reading: %d of %d partitions read, error %v", read, n, err)
	}
	// Not cancelled: all of it.
	read = 0
	if err := eachPartitionState(context.Background(), state, func(_, _ *dict) error { read++; return nil }); err != nil || read != n {
		t.Errorf("%d of %d partitions read, error %v", read, n, err)
	}

	var msgs []string
	full := []byte(`[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "items"}, "stream_state": ` + largePartitionState(n) + `}}]`)
	err = src.Read(cancelled, json.RawMessage(stateFuzzManifests[2].config), stateRig.catalogs[2], full, func(m *protocol.Message) error {
		msgs = append(msgs, string(m.Type))
		return nil
	})
	if !errors.Is(err, context.Canceled) || len(msgs) > 0 {
		t.Errorf("a cancelled read: error %v, messages %v; want %v and none", err, msgs, context.Canceled)
	}
}

// TestPartitionsWithoutWindowsSeeContext checks that a read whose
// partitions have no date window to read (every cursor already at its
// end, here a start after now) stops going through them once its context
// is done: the partitions of a ListPartitionRouter, or of a cartesian
// product, are made in memory, and only handing a window to a worker
// looked at the context. This product of 90,000 partitions ran on for
// 26 s after its read was cancelled; the corpus read saw a read of
// source-nylas run 2 s past its deadline.
func TestPartitionsWithoutWindowsSeeContext(t *testing.T) {
	values := make([]string, 300)
	for i := range values {
		values[i] = fmt.Sprintf("v%d", i)
	}
	list := "[" + strings.Join(values, ", ") + "]"
	text := itemsManifest("", `
      partition_router:
        - {type: ListPartitionRouter, cursor_field: a, values: `+list+`}
        - {type: ListPartitionRouter, cursor_field: b, values: `+list+`}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: "%Y-%m-%dT%H:%M:%SZ"
      start_datetime: "2099-01-01T00:00:00Z"
      end_datetime: "{{ now_utc().strftime('%Y-%m-%dT%H:%M:%SZ') }}"`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	clock := func() time.Time {
		calls++
		if calls == 100 {
			cancel()
		}
		return time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)
	}
	src, err := New([]byte(text), WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	err = src.Read(ctx, json.RawMessage(`{}`), allStreams(src), nil, func(*protocol.Message) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	// A clock call or a few for each partition gone through.
	if calls > 1000 {
		t.Errorf("%d clock calls: the read went on through the partitions after it was cancelled at the 100th", calls)
	}
}

// bigPageSource is a source of one stream that reads one page of n
// records ({"id": i}), with condition as its record filter when not
// empty, and clock as its clock.
func bigPageSource(t *testing.T, n int, condition string, clock func() time.Time) *Source {
	t.Helper()
	body := []byte(`{"data": [`)
	for i := range n {
		if i > 0 {
			body = append(body, ',')
		}
		body = fmt.Appendf(body, `{"id": %d}`, i)
	}
	body = append(body, "]}"...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	filter := ""
	if condition != "" {
		filter = `, record_filter: {type: RecordFilter, condition: "` + condition + `"}`
	}
	text := itemsManifest(filter, "")
	src, err := New([]byte(text), WithClock(clock),
		WithHTTPClient(&http.Client{Transport: &replaytest.Transport{Target: mustURL(t, srv.URL)}, Timeout: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestFilteredPageSeesContext checks that a read cancelled while its
// record filter goes through a page stops within contextEvery
// records: the filter drops every record, so no record is emitted, and
// nothing else looked at the context until the page's end (a page within
// the 512 MiB bound may hold millions of records: seconds of filtering).
// The filter asks the clock once a record; the clock cancels the read at
// its cancelAt-th call (the calls before the page are a few).
func TestFilteredPageSeesContext(t *testing.T) {
	const rows, cancelAt = 200000, 1000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	calls := 0
	src := bigPageSource(t, rows, "{{ now_utc().year == 1900 }}", func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == cancelAt {
			cancel()
		}
		return time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)
	})
	records := 0
	err := src.Read(ctx, json.RawMessage(`{}`), allStreams(src), nil, func(m *protocol.Message) error {
		if m.Record != nil {
			records++
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if records != 0 {
		t.Errorf("%d records, want none (all filtered out)", records)
	}
	mu.Lock()
	defer mu.Unlock()
	if after := calls - cancelAt; after > 2*contextEvery {
		t.Errorf("%d records of %d filtered after the read was cancelled", after, rows)
	}
}

// TestLargePageEmitSeesContext checks that a read cancelled while the
// records of a page are emitted stops within contextEvery records,
// though its emit function goes on accepting them: it is cancelled at the
// cancelAt-th record of a page of many.
func TestLargePageEmitSeesContext(t *testing.T) {
	const rows, cancelAt = 200000, 1000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := bigPageSource(t, rows, "", func() time.Time { return time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC) })
	records := 0
	err := src.Read(ctx, json.RawMessage(`{}`), allStreams(src), nil, func(m *protocol.Message) error {
		if m.Record != nil {
			records++
			if records == cancelAt {
				cancel()
			}
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if after := records - cancelAt; after > contextEvery {
		t.Errorf("%d records of %d emitted after the read was cancelled", after, rows)
	}
}

// TestLegacyWindowsSeeContext checks that the synchronous cursor's
// windows, made in memory (for parents of substreams, synchronous streams
// and check), stop being made once the context is done: a step of a
// second over three days is 259,201 windows, over years hundreds of
// millions.
func TestLegacyWindowsSeeContext(t *testing.T) {
	text := secondStepManifest(`
      start_datetime: "2024-01-01T00:00:00Z"
      end_datetime: "2024-01-04T00:00:00Z"`)
	now := func() time.Time { return time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC) }
	src, err := New([]byte(text), WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := decodeJSON([]byte(`{}`))
	v := &vars{config: cfg}
	v.Now = now
	v.Set(interpolation.VarConfig, cfg)
	lc, err := src.streamByName("items").cursor.legacy(v, now)
	if err != nil {
		t.Fatal(err)
	}
	// A window a second, and the end's own (the end is within the range).
	ws, err := lc.slices(context.Background())
	if want := 3*86400 + 1; err != nil || len(ws) != want {
		t.Fatalf("%d windows, %v; want %d", len(ws), err, want)
	}
	// Done after its first look.
	ws, err = lc.slices(&errAfter{Context: context.Background(), n: 1})
	if !errors.Is(err, context.Canceled) || ws != nil {
		t.Errorf("%d windows, %v; want none and context.Canceled", len(ws), err)
	}
}

// TestCheckMakesOneWindow checks that a check, which reads the first window
// of an incremental stream, makes only that window: a step of a second from
// 1990 is more than a billion windows, which a check that made them all
// (the CDK does) would take many minutes and all the memory to make. The
// deadline only bounds the test when it regresses.
func TestCheckMakesOneWindow(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"data": [{"id": 1, "updated": "1990-01-01T00:00:00Z"}]}`))
	}))
	t.Cleanup(srv.Close)
	text := secondStepManifest(`
      start_datetime: "1990-01-01T00:00:00Z"
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: since}`)
	now := func() time.Time { return time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC) }
	src, err := New([]byte(text), WithClock(now),
		WithHTTPClient(&http.Client{Transport: &replaytest.Transport{Target: mustURL(t, srv.URL)}, Timeout: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := src.Check(ctx, json.RawMessage(`{}`)); err != nil {
		t.Fatalf("check: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(queries) != 1 || queries[0] != "since=1990-01-01T00%3A00%3A00Z" {
		t.Fatalf("the check asked %q, want the first window's one request", queries)
	}
}

// secondStepManifest is a manifest whose items stream has a date cursor
// stepping by a second, bounded by the DatetimeBasedCursor fields given
// (YAML lines indented as its other fields).
func secondStepManifest(bounds string) string {
	return itemsManifest("", `
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: "%Y-%m-%dT%H:%M:%SZ"`+bounds+`
      step: PT1S
      cursor_granularity: PT1S`)
}

// itemsManifest is a manifest of one stream, items, read from GET /items
// under "data": selector is added inside its record selector (a record
// filter, with a leading comma), rest after it (YAML lines indented as the
// retriever's fields, then the stream's: a partition router, an
// incremental sync).
func itemsManifest(selector, rest string) string {
	return `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
streams:
  - type: DeclarativeStream
    name: items
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: /items, http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}` + selector + `}` + rest + `
spec:
  type: Spec
  connection_specification: {type: object}
`
}
