package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/catalogs"
	"github.com/x/goairbyte/internal/replaytest"
	"github.com/x/goairbyte/protocol"
)

// stateFuzzManifests are the manifests FuzzReadState reads: an
// incremental stream stepped by month beside a full-refresh one; a
// substream whose partitioned parent is read under incremental_dependency
// (nestedDependencyManifest); a per-partition cursor over a list router,
// with a cursor field taken from the config; and a stream read
// synchronously (its path reads stream_state) with epoch-second cursor
// values.
var stateFuzzManifests = []struct {
	name, text, config string
	stream             string // the stream the fuzzed state is for
	api                http.HandlerFunc
}{
	{"events", `
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
      requester:
        type: HttpRequester
        url_base: "https://api.example.com"
        path: /events
        http_method: GET
        error_handler: {type: DefaultErrorHandler, max_retries: 0}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: "%Y-%m-%d"
      cursor_datetime_formats: ["%Y-%m-%d", "%s"]
      start_datetime: "{{ config['start'] }}"
      step: P1M
      cursor_granularity: P1D
      lookback_window: P3D
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: from}
      end_time_option: {type: RequestOption, inject_into: request_parameter, field_name: to}
  - type: DeclarativeStream
    name: plain
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: /plain, http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
spec: {type: Spec, connection_specification: {type: object}}
`, `{"start": "2024-01-01"}`, "events", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data": [{"id": 1, "updated": %q}]}`, r.URL.Query().Get("to"))
	}},
	{"threads", nestedDependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, "threads", nestedDependencyAPI},
	{"items", `
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
      requester:
        type: HttpRequester
        url_base: "https://api.example.com"
        path: "/items/{{ stream_partition.region }}"
        http_method: GET
        error_handler: {type: DefaultErrorHandler, max_retries: 0}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      partition_router:
        type: ListPartitionRouter
        values: [eu, us, ap]
        cursor_field: region
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: "{{ config['cursor'] }}"
      datetime_format: "%Y-%m-%dT%H:%M:%S.%fZ"
      cursor_datetime_formats: ["%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ", "%ms"]
      start_datetime: "{{ config['start'] }}"
      step: P6M
      cursor_granularity: PT0.000001S
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: from}
spec: {type: Spec, connection_specification: {type: object}}
`, `{"start": "2024-01-01T00:00:00.000000Z", "cursor": "modified"}`, "items", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data": [{"id": %q, "modified": %q}]}`, r.URL.Path, r.URL.Query().Get("from"))
	}},
	{"daily", `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [daily]}
streams:
  - type: DeclarativeStream
    name: daily
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: "https://api.example.com"
        path: "/daily/{{ stream_state.get('day', 'none') }}"
        http_method: GET
        error_handler: {type: DefaultErrorHandler, max_retries: 0}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: day
      datetime_format: "%s"
      cursor_datetime_formats: ["%s", "%Y-%m-%d"]
      start_datetime: "{{ config['start'] }}"
      step: P1M
      cursor_granularity: PT1S
      lookback_window: P1D
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: from}
spec: {type: Spec, connection_specification: {type: object}}
`, `{"start": "1704067200"}`, "daily", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data": [{"id": 1, "day": %q}]}`, r.URL.Query().Get("from"))
	}},
}

// stateFuzzBudget is how many requests one read of FuzzReadState may make;
// the server fails the ones after it (status 400, which fails the stream).
const stateFuzzBudget = 400

// stateFuzzRig is a source per manifest against one local server, built
// once per fuzzing process.
type stateFuzzRig struct {
	srv      *httptest.Server
	requests atomic.Int64
	sources  []*Source
	catalogs []*protocol.ConfiguredCatalog
}

var (
	stateRigOnce sync.Once
	stateRig     *stateFuzzRig
	stateRigErr  error
)

func newStateFuzzRig() (*stateFuzzRig, error) {
	rig := &stateFuzzRig{}
	var current atomic.Int64 // which manifest is being read
	rig.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rig.requests.Add(1) > stateFuzzBudget {
			http.Error(w, `{"message": "request budget spent"}`, http.StatusBadRequest)
			return
		}
		stateFuzzManifests[current.Load()].api(w, r)
	}))
	target, err := mustParseURL(rig.srv.URL)
	if err != nil {
		return nil, err
	}
	for i, m := range stateFuzzManifests {
		i := i
		src, err := New([]byte(m.text),
			WithHTTPClient(&http.Client{Transport: &readHook{before: func() { current.Store(int64(i)) }, next: &replaytest.Transport{Target: target}}, Timeout: 5 * time.Second}),
			WithClock(func() time.Time { return featureNow }),
			withSleep(noSleep))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.name, err)
		}
		cat, err := src.Discover(context.Background(), json.RawMessage(m.config))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.name, err)
		}
		cc := &protocol.ConfiguredCatalog{}
		for _, s := range cat.Streams {
			mode := protocol.SyncFullRefresh
			if catalogs.Supports(&s, protocol.SyncIncremental) {
				mode = protocol.SyncIncremental
			}
			cc.Streams = append(cc.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: mode, DestinationSyncMode: protocol.DestinationAppend})
		}
		rig.sources = append(rig.sources, src)
		rig.catalogs = append(rig.catalogs, cc)
	}
	return rig, nil
}

// readHook runs before before each request of a source: the server then
// answers as that source's API.
type readHook struct {
	before func()
	next   http.RoundTripper
}

func (h *readHook) RoundTrip(r *http.Request) (*http.Response, error) {
	h.before()
	return h.next.RoundTrip(r)
}

// stateFuzzResult is one read of FuzzReadState.
type stateFuzzResult struct {
	err      error
	requests int64
	final    map[string]json.RawMessage // the last state of each stream
	records  int
}

// read reads manifest m from state, with a deadline; a read that does not
// return within a few seconds of its deadline is a hang.
func (rig *stateFuzzRig) read(t *testing.T, m int, state []byte) stateFuzzResult {
	t.Helper()
	rig.requests.Store(0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res := stateFuzzResult{final: map[string]json.RawMessage{}}
	done := make(chan error, 1)
	go func() {
		done <- rig.sources[m].Read(ctx, json.RawMessage(stateFuzzManifests[m].config), rig.catalogs[m], state, func(msg *protocol.Message) error {
			switch {
			case msg.Record != nil:
				res.records++
			case msg.State != nil && msg.State.Stream != nil:
				res.final[msg.State.Stream.StreamDescriptor.Name] = msg.State.Stream.StreamState
			}
			return nil
		})
	}()
	select {
	case res.err = <-done:
	case <-time.After(15 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("the read did not end 10s after its deadline; goroutines:\n%s", buf[:runtime.Stack(buf, true)])
	}
	res.requests = rig.requests.Load()
	return res
}

// wrapState puts a stream state into one of the state documents a program
// hands the engine: a STREAM message, a GLOBAL message, the legacy
// {stream: state} object, or (form 3) the document itself.
func wrapState(form uint8, stream string, doc []byte) []byte {
	switch form % 4 {
	case 0:
		return []byte(`[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "` + stream + `"}, "stream_state": ` + string(doc) + `}}]`)
	case 1:
		return []byte(`[{"type": "GLOBAL", "global": {"shared_state": {}, "stream_states": [{"stream_descriptor": {"name": "` + stream + `"}, "stream_state": ` + string(doc) + `}]}}]`)
	case 2:
		return []byte(`{"` + stream + `": ` + string(doc) + `}`)
	default:
		return doc
	}
}

// bigState is the size from which FuzzReadState reads a state once, not
// again from the state the read left (which keeps the seeds quick).
const bigState = 64 << 10

// stateSeeds are the stream states FuzzReadState starts from, per
// manifest: every valid shape and near misses.
func stateSeeds() [][]string {
	deepParent := func(levels int) string {
		var b strings.Builder
		for i := 0; i < levels; i++ {
			b.WriteString(`{"parent_state": {"conversations": `)
		}
		b.WriteString(`{"updated_at": "2024-03-01T00:00:00Z"}`)
		for i := 0; i < levels; i++ {
			b.WriteString(`}}`)
		}
		return b.String()
	}
	manyPartitions := func(n int, dup bool) string {
		var b strings.Builder
		b.WriteString(`{"use_global_cursor": false, "state": {"modified": "2024-02-01T00:00:00.000000Z"}, "lookback_window": 5, "states": [`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			region := fmt.Sprintf("r%d", i)
			if dup {
				region = "eu"
			}
			fmt.Fprintf(&b, `{"partition": {"region": %q}, "cursor": {"modified": "2024-%02d-01T00:00:00.000000Z"}}`, region, i%12+1)
		}
		b.WriteString(`]}`)
		return b.String()
	}
	manySlices := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"state_type": "date-range", "slices": [`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 2*i)
			fmt.Fprintf(&b, `{"start": %q, "end": %q}`, d.Format("2006-01-02"), d.Format("2006-01-02"))
		}
		b.WriteString(`]}`)
		return b.String()
	}
	common := []string{
		`{}`, `null`, `[]`, `""`, `0`, `true`, `[[[]]]`, `{"":{}}`, `not json`, `{"a":`, `1e999`,
	}
	seeds := [][]string{
		{
			`{"updated": "2024-06-01"}`,
			`{"updated": "1717200000"}`,
			`{"updated": 1717200000}`,
			`{"updated": 1.7172e9}`,
			`{"updated": 1e300}`,
			`{"updated": -1e300}`,
			`{"updated": 123456789012345678901234567890}`,
			`{"updated": null}`,
			`{"updated": ["2024-06-01"]}`,
			`{"updated": {"updated": "2024-06-01"}}`,
			`{"updated": true}`,
			`{"updated": ""}`,
			`{"updated": "0000-01-01"}`,
			`{"updated": "0001-01-01"}`,
			`{"updated": "9999-12-31"}`,
			`{"updated": "10000-01-01"}`,
			`{"updated": "2024-02-30"}`,
			`{"updated": "2024-06-01", "other": [1, 2, {"x": null}]}`,
			`{"Updated": "2024-06-01"}`,
			`{"state_type": "date-range", "slices": [{"start": "2024-01-01", "end": "2024-06-01", "most_recent_cursor_value": "2024-05-30"}], "legacy": {"updated": "2024-06-01"}}`,
			`{"state_type": "date-range", "slices": [{"start": "2024-03-01", "end": "2024-04-01"}, {"start": "2024-01-01", "end": "2024-02-01"}]}`,
			`{"state_type": "date-range", "slices": [{"start": "2024-03-01", "end": "2024-01-01"}]}`,
			`{"state_type": "date-range", "slices": []}`,
			`{"state_type": "date-range", "slices": null}`,
			`{"state_type": "date-range", "slices": {"start": "2024-01-01"}}`,
			`{"state_type": "date-range", "slices": [null, 1, "x", []]}`,
			`{"state_type": "date-range", "slices": [{"start": "2024-01-01"}]}`,
			`{"state_type": "date-range", "slices": [{"start": 0, "end": 1e300}]}`,
			`{"state_type": "date-range", "slices": [{"start": "0000-01-01", "end": "9999-12-31"}]}`,
			`{"state_type": "date-range", "slices": [{"start": "2024-01-01", "end": "2024-02-01", "most_recent_cursor_value": "garbage"}]}`,
			`{"state_type": "date-range", "slices": [{"start": "2024-01-01", "end": "2024-02-01", "most_recent_cursor_value": 0}]}`,
			`{"state_type": "date-range", "legacy": "x", "slices": [{"start": "2024-01-01", "end": "2024-02-01"}]}`,
			`{"state_type": 5, "slices": [{"start": "2024-01-01", "end": "2024-02-01"}]}`,
			`{"state_type": "integer", "slices": [{"start": 1, "end": 2}]}`,
			manySlices(150),
			`{"states": [{"partition": {}, "cursor": {"updated": "2024-06-01"}}], "state": {"updated": "2024-06-01"}}`,
			`{"parent_state": {"x": {}}, "updated": "2024-06-01"}`,
		},
		{
			`{"use_global_cursor": false, "states": [{"partition": {"conversation": 11, "parent_slice": {}}, "cursor": {"created_at": "2024-04-01T00:00:00Z"}}], "state": {"created_at": "2024-04-01T00:00:00Z"}, "lookback_window": 0, "parent_state": {"conversations": {"use_global_cursor": false, "state": {"updated_at": "2024-04-02T00:00:00Z"}, "lookback_window": 0, "states": [{"partition": {"account": 1, "parent_slice": {}}, "cursor": {"updated_at": "2024-03-01T00:00:00Z"}}], "parent_state": {"accounts": {"updated_at": "2024-05-01T00:00:00Z"}}}}}`,
			`{"created_at": "2024-03-15T00:00:00Z"}`,
			`{"created_at": 17}`,
			`{"parent_state": {"conversations": {"use_global_cursor": true, "state": {"updated_at": "2024-04-01T00:00:00Z"}, "lookback_window": 0, "parent_state": {"accounts": {"updated_at": "2024-01-01T00:00:00Z"}}}}}`,
			`{"parent_state": {"conversations": {"updated_at": "2024-03-01T00:00:00Z"}}}`,
			`{"parent_state": {"conversations": {"updated_at": 5}}}`,
			`{"parent_state": {"conversations": {"updated_at": null}}}`,
			`{"parent_state": {"conversations": {"updated_at": "10000-01-01T00:00:00Z"}}}`,
			`{"parent_state": {"conversations": {"updated_at": "0000-01-01T00:00:00Z"}}}`,
			`{"parent_state": {"conversations": {"updated_at": "9999-12-31T23:59:59Z"}}}`,
			`{"parent_state": {"conversations": []}}`,
			`{"parent_state": {"conversations": "x"}}`,
			`{"parent_state": {"conversations": null}}`,
			`{"parent_state": []}`,
			`{"parent_state": "accounts"}`,
			`{"parent_state": {"conversations": {"parent_state": {"accounts": {"parent_state": {"accounts": {}}}}}}}`,
			`{"parent_state": {"conversations": {"states": [{"partition": 1, "cursor": {}}, {"partition": null}, {"partition": [1]}, {"partition": {"account": 1}, "cursor": []}, 7], "parent_state": {"accounts": {"updated_at": []}}}}}`,
			`{"parent_state": {"conversations": {"states": "x", "state": [], "lookback_window": "x", "use_global_cursor": "yes"}}}`,
			`{"parent_state": {"conversations": {"states": [], "state": {"updated_at": "2024-04-01T00:00:00Z"}, "lookback_window": 1e300}}}`,
			`{"parent_state": {"conversations": {"states": [], "state": {"updated_at": "2024-04-01T00:00:00Z"}, "lookback_window": -99999999999}}}`,
			`{"parent_state": {"conversations": {"states": [], "state": {"updated_at": "2024-04-01T00:00:00Z"}, "lookback_window": 9223372036854775807}}}`,
			`{"parent_state": {"conversations": {"state_type": "date-range", "slices": [{"start": "2024-01-01T00:00:00Z", "end": "2024-03-01T00:00:00Z"}]}}}`,
			`{"states": [{"partition": {"conversation": 11, "parent_slice": {}}, "cursor": {"created_at": "2024-04-01T00:00:00Z"}}, {"partition": {"conversation": 11, "parent_slice": {}}, "cursor": {"created_at": "2020-04-01T00:00:00Z"}}]}`,
			`{"states": [{"partition": {"parent_slice": {}, "conversation": 11}, "cursor": {"created_at": "2024-04-01T00:00:00Z"}}], "use_global_cursor": 1}`,
			deepParent(3),
			deepParent(1000),
		},
		{
			`{"use_global_cursor": false, "states": [{"partition": {"region": "eu"}, "cursor": {"modified": "2024-06-01T00:00:00.000000Z"}}], "state": {"modified": "2024-05-01T00:00:00.000000Z"}, "lookback_window": 3600}`,
			`{"use_global_cursor": true, "state": {"modified": "2024-05-01T00:00:00Z"}, "lookback_window": 0}`,
			`{"modified": "2024-05-01T00:00:00Z"}`,
			`{"modified": 1714521600000}`,
			`{"modified": "1714521600000"}`,
			`{"modified": 1e300}`,
			`{"modified": -1e300}`,
			`{"modified": "0000-01-01T00:00:00Z"}`,
			`{"modified": "9999-12-31T23:59:59.999999Z"}`,
			`{"modified": "10000-01-01T00:00:00Z"}`,
			`{"states": [{"partition": {"region": "eu"}, "cursor": {"modified": "10000-01-01T00:00:00Z"}}]}`,
			`{"states": [{"partition": {"region": "eu"}, "cursor": {"modified": "9999-12-31T23:59:59.999999Z"}}]}`,
			`{"states": [{"partition": {"region": "eu"}, "cursor": {"modified": 1e300}}]}`,
			`{"states": [{"partition": {"region": "eu"}, "cursor": {"state_type": "date-range", "slices": [{"start": "2024-01-01T00:00:00Z", "end": "2024-02-01T00:00:00Z"}]}}]}`,
			`{"states": [{"partition": {"region": "eu"}, "cursor": null}, {"partition": {"region": "us"}}, {"cursor": {}}]}`,
			`{"states": [{"partition": "eu", "cursor": {}}, {"partition": 1}, {"partition": null}, {"partition": [["eu"]]}, null, 1, "x"]}`,
			`{"states": [{"partition": {"region": {"nested": [1, {"deeper": null}]}}, "cursor": {"modified": "2024-02-01T00:00:00Z"}}]}`,
			`{"states": {"partition": {"region": "eu"}}}`,
			`{"states": null, "state": null}`,
			`{"state": "2024-01-01", "lookback_window": "1"}`,
			`{"state": {"modified": null}, "lookback_window": 1.5}`,
			`{"state": {"modified": "2024-05-01T00:00:00Z"}, "lookback_window": 9223372036854775807}`,
			`{"state": {"modified": "2024-05-01T00:00:00Z"}, "lookback_window": -9223372036854775808}`,
			`{"state": {"modified": "2024-05-01T00:00:00Z"}, "lookback_window": 1e300}`,
			`{"states": [], "state": {"modified": "2024-05-01T00:00:00Z"}, "lookback_window": 18415208073}`,
			`{"states": [], "state": {"modified": "2024-05-01T00:00:00Z"}, "lookback_window": 64000000000}`,
			`{"use_global_cursor": true}`,
			`{"use_global_cursor": true, "state": {"modified": "10000-01-01T00:00:00Z"}}`,
			`{"parent_state": {"x": {"y": 1}}, "states": []}`,
			manyPartitions(10000, false),
			manyPartitions(2000, true),
		},
		{
			`{"day": "1717200000"}`,
			`{"day": 1717200000}`,
			`{"day": 1.7172e9}`,
			`{"day": -62135596800}`,
			`{"day": 253402300799}`,
			`{"day": 253402300800}`,
			`{"day": "2024-06-01"}`,
			`{"day": 1e300}`,
			`{"day": null}`,
			`{"day": ""}`,
			`{"day": [1717200000]}`,
			`{"state_type": "date-range", "slices": [{"start": "1704067200", "end": "1717200000"}]}`,
		},
	}
	for m := range seeds {
		seeds[m] = append(seeds[m], common...)
	}
	return seeds
}

// FuzzReadState reads four manifests from a fuzzed stream state, put in
// each of the forms a program hands the engine: the read ends (no hang)
// within its deadline, never panics, and either fails with an error that
// says the state is not usable or reads; a state the read left is read
// again without error.
func FuzzReadState(f *testing.F) {
	for m, docs := range stateSeeds() {
		for i, doc := range docs {
			// Each as a STREAM message, and the small ones in one
			// other form.
			f.Add(uint8(m), uint8(0), []byte(doc))
			if len(doc) < bigState {
				f.Add(uint8(m), uint8(1+i%3), []byte(doc))
			}
		}
	}
	f.Fuzz(func(t *testing.T, m, form uint8, doc []byte) {
		stateRigOnce.Do(func() { stateRig, stateRigErr = newStateFuzzRig() })
		if stateRigErr != nil {
			t.Fatal(stateRigErr)
		}
		mi := int(m) % len(stateFuzzManifests)
		state := wrapState(form, stateFuzzManifests[mi].stream, doc)
		res := stateRig.read(t, mi, state)
		checkStateFuzzResult(t, res, state)
		if res.err != nil || res.requests > stateFuzzBudget || len(state) >= bigState {
			return
		}
		// What the read left is a state it reads.
		var next []string
		for name, st := range res.final {
			next = append(next, `{"type": "STREAM", "stream": {"stream_descriptor": {"name": "`+name+`"}, "stream_state": `+string(st)+`}}`)
		}
		again := stateRig.read(t, mi, []byte("["+strings.Join(next, ",")+"]"))
		if again.err != nil && again.requests <= stateFuzzBudget {
			t.Fatalf("the state the read left does not read: %v\nstate in: %.2000s\nstate left: %.2000s", again.err, state, next)
		}
	})
}

// checkStateFuzzResult fails t unless res read, failed on its request
// budget or deadline, or failed with an error that says what of the state
// is not usable.
func checkStateFuzzResult(t *testing.T, res stateFuzzResult, state []byte) {
	t.Helper()
	if res.err == nil || res.requests > stateFuzzBudget || errors.Is(res.err, context.DeadlineExceeded) {
		return
	}
	if !stateErrorMessage(res.err.Error()) {
		t.Fatalf("the read failed with an error that does not say the state is unusable: %v\nstate: %.2000s", res.err, state)
	}
}

// stateErrorMessage tells whether an error message says that a state is
// not usable: not JSON, or a cursor value no format reads, or a date-range
// slice without its bounds, or the error other than ValueError a cursor
// value raised in the CDK's DatetimeParser (int() or float() of null, a
// list or an object; a timestamp out of range), which the CDK's
// parse_timestamp and parse_date let through.
func stateErrorMessage(msg string) bool {
	for _, s := range []string{"state", "No format in",
		"int() argument must be", "float() argument must be",
		"out of range", "Value too large for defined data type"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func mustParseURL(s string) (*url.URL, error) { return url.Parse(s) }
