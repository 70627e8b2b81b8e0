package declarative

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/internal/replaytest"
	"github.com/x/goairbyte/protocol"
)

// partitionsAPI serves accounts 1 to n, one conversation k1 per account k
// and one thread per conversation, with valid dates for any n: account k
// was updated k minutes after 2024-02-01, its conversation k minutes after
// 2024-03-01.
func partitionsAPI(n int) http.HandlerFunc {
	at := func(base string, k int) string {
		t, _ := time.Parse(time.RFC3339, base)
		return t.Add(time.Duration(k) * time.Minute).Format("2006-01-02T15:04:05Z")
	}
	return func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(r.URL.Path, "/")
		var b strings.Builder
		b.WriteString(`{"data": [`)
		switch {
		case r.URL.Path == "/accounts":
			for k := 1; k <= n; k++ {
				if k > 1 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, `{"id": %d, "updated_at": %q}`, k, at("2024-02-01T00:00:00Z", k))
			}
		case parts[1] == "accounts":
			var k int
			fmt.Sscan(parts[2], &k)
			fmt.Fprintf(&b, `{"id": %d1, "updated_at": %q}`, k, at("2024-03-01T00:00:00Z", k))
		default:
			fmt.Fprintf(&b, `{"id": "t%s", "created_at": "2024-04-01T00:00:00Z"}`, parts[2])
		}
		b.WriteString("]}")
		w.Write([]byte(b.String()))
	}
}

// readPartitioned reads the threads of nestedDependencyManifest (a child
// whose parent has partitions of its own) from api, calling emit with each
// message.
func readPartitioned(tb testing.TB, api http.Handler, state string, emit func(*protocol.Message) error) {
	tb.Helper()
	srv := httptest.NewServer(api)
	defer srv.Close()
	target, err := url.Parse(srv.URL)
	if err != nil {
		tb.Fatal(err)
	}
	src, err := New([]byte(nestedDependencyManifest),
		WithHTTPClient(&http.Client{Transport: &replaytest.Transport{Target: target}, Timeout: 10 * time.Second}),
		WithClock(func() time.Time { return featureNow }), withSleep(noSleep))
	if err != nil {
		tb.Fatal(err)
	}
	config := json.RawMessage(`{"start": "2024-01-01T00:00:00Z"}`)
	cat, err := src.Discover(context.Background(), config)
	if err != nil {
		tb.Fatal(err)
	}
	cc := &protocol.ConfiguredCatalog{}
	for _, s := range cat.Streams {
		if s.Name == "threads" {
			cc.Streams = append(cc.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: protocol.SyncIncremental, DestinationSyncMode: protocol.DestinationAppend})
		}
	}
	var st json.RawMessage
	if state != "" {
		st = json.RawMessage(state)
	}
	if err := src.Read(context.Background(), config, cc, st, emit); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkPartitionedParentState reads a child of n partitions whose
// parent has n partitions of its own: each of the child's windows emits
// the state of every partition (as the CDK does), so the bytes of state
// grow with n².
func BenchmarkPartitionedParentState(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			api := partitionsAPI(n)
			var stateBytes, states int64
			for i := 0; i < b.N; i++ {
				readPartitioned(b, api, "", func(m *protocol.Message) error {
					if m.State != nil && m.State.Stream != nil {
						stateBytes += int64(len(m.State.Stream.StreamState))
						states++
					}
					return nil
				})
			}
			b.ReportMetric(float64(stateBytes)/float64(b.N)/1e6, "state-MB/read")
			b.ReportMetric(float64(states)/float64(b.N), "states/read")
		})
	}
}

// BenchmarkPartitionedParentStateFromState is the read after
// BenchmarkPartitionedParentState's, from the state it ended with: each of
// the child's states also carries the parent's state, of n partitions, as
// its parent_state.
func BenchmarkPartitionedParentStateFromState(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			api := partitionsAPI(n)
			var final json.RawMessage
			readPartitioned(b, api, "", func(m *protocol.Message) error {
				if m.State != nil && m.State.Stream != nil {
					final = m.State.Stream.StreamState
				}
				return nil
			})
			state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": ` + string(final) + `}}]`
			b.ResetTimer()
			var stateBytes, states int64
			for i := 0; i < b.N; i++ {
				readPartitioned(b, api, state, func(m *protocol.Message) error {
					if m.State != nil && m.State.Stream != nil {
						stateBytes += int64(len(m.State.Stream.StreamState))
						states++
					}
					return nil
				})
			}
			b.ReportMetric(float64(stateBytes)/float64(b.N)/1e6, "state-MB/read")
			b.ReportMetric(float64(states)/float64(b.N), "states/read")
		})
	}
}

// dictStateLocked is perPartitionRun's state as the engine built it
// before the partitions' entries were cached: a dict of every partition's
// state, rebuilt after each window. Encoded, it is what stateLocked
// writes.
func dictStateLocked(p *perPartitionRun) *dict {
	out := interpolation.NewDict(5)
	out.Set("use_global_cursor", p.useGlobal)
	if !p.useGlobal {
		var states []value
		for _, k := range p.order {
			e := p.entries[k]
			s := interpolation.NewDict(2)
			s.Set("partition", interpolation.Copy(e.partition))
			s.Set("cursor", e.run.state())
			states = append(states, s)
		}
		if states == nil {
			states = []value{}
		}
		out.Set("states", states)
	}
	if p.global != nil && p.global.Len() > 0 {
		out.Set("state", interpolation.Copy(p.global))
	}
	out.Set("lookback_window", p.lookback)
	if p.parentState != nil {
		out.Set("parent_state", p.parentState)
	}
	return out
}

// cachedStateManifest has a stream whose cursor steps by ten days from
// 2024-01-01, so that each partition reads several windows.
const cachedStateManifest = `
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
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: "%Y-%m-%d"
      start_datetime: "{{ config['start'] }}"
      step: P10D
      cursor_granularity: P1D
spec: {type: Spec, connection_specification: {type: object}}
`

// cachedStateInput is a per-partition state of the partitions 0 to 99,
// some with keys besides the cursor field, with a global state, a
// lookback_window and a parent_state.
func cachedStateInput(rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString(`{"use_global_cursor": false, "states": [`)
	for i := 0; i < 100; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		extra := ""
		if rng.Intn(4) == 0 {
			extra = fmt.Sprintf(`, "legacy": {"n": %d, "s": "é\n"}`, i)
		}
		fmt.Fprintf(&b, `{"partition": {"parent_slice": {"shard": %d}, "id": %d}, "cursor": {"updated": "2024-01-%02d"%s}}`, i%3, i, 1+rng.Intn(28), extra)
	}
	b.WriteString(`], "state": {"updated": "2024-01-20"}, "lookback_window": 3600, "parent_state": {"parents": {"updated_at": "2024-02-01T00:00:00Z", "list": [1, 2.5, null, true]}}}`)
	return b.String()
}

// TestCachedPartitionStateIsTheDictState drives a per-partition cursor as
// the reader does (partitions in order, their windows handed out, then
// closed in a random order interleaved with the next partitions) over 300
// partitions, 100 of them from a state, and checks that each state it
// returns, after every window and at the end, is byte for byte the
// encoding of the state built as a dict from every partition. The runs
// cover partitions dropped over the limit, the switch to the global
// cursor, and a stream finished with windows still open.
func TestCachedPartitionStateIsTheDictState(t *testing.T) {
	src, err := New([]byte(cachedStateManifest), WithClock(func() time.Time { return featureNow }))
	if err != nil {
		t.Fatal(err)
	}
	c := src.streamByName("items").cursor
	now := func() time.Time { return time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name      string
		max       int
		fromState bool
		leaveOpen bool
	}{
		{"fresh", defaultMaxPartitions, false, false},
		{"from a state", defaultMaxPartitions, true, false},
		{"over the limit", 250, true, false},
		{"turned global", 60, true, false},
		{"windows left open", defaultMaxPartitions, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(len(tc.name))))
			cfg, _ := decodeJSON([]byte(`{"start": "2024-01-01"}`))
			v := &vars{config: cfg}
			v.Now = now
			v.Set(interpolation.VarConfig, cfg)
			var state *dict
			if tc.fromState {
				sv, err := decodeJSON([]byte(cachedStateInput(rng)))
				if err != nil {
					t.Fatal(err)
				}
				state = sv.(*dict)
			}
			p, err := newPerPartitionRun(context.Background(), c, nil, state, v, now, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			type job struct {
				e *partitionCursor
				w window
			}
			var open []job
			checked := 0
			closeOne := func() {
				i := rng.Intn(len(open))
				j := open[i]
				open = append(open[:i], open[i+1:]...)
				var n newest
				if rng.Intn(3) > 0 {
					t0, _ := j.e.run.parse(j.w.start)
					n = newest{t: t0.Add(time.Duration(rng.Intn(9*24)) * time.Hour), ok: true}
				}
				got, err := p.closeWindow(j.e, j.w, n)
				if err != nil {
					t.Fatal(err)
				}
				if p.useGlobal {
					if got != nil {
						t.Fatalf("a state after a window of the global cursor: %s", got)
					}
					return
				}
				want, err := encodeJSON(dictStateLocked(p))
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Fatalf("state after window %d\n got  %s\n want %s", checked, got, want)
				}
				checked++
				if want := countFinished(p); p.finished != want {
					t.Fatalf("after window %d: %d partitions counted finished, %d are", checked, p.finished, want)
				}
			}
			for i := 0; i < 300; i++ {
				// Partitions 0 to 99 are in the state; some are seen twice.
				id := rng.Intn(100)
				if i >= 100 {
					id = i
				}
				part := interpolation.NewDict(2)
				part.Set("id", int64(id))
				ps := interpolation.NewDict(1)
				ps.Set("shard", int64(id%3))
				part.Set("parent_slice", ps)
				e, g, err := p.windows(part)
				if err != nil {
					t.Fatal(err)
				}
				next, more := g.next()
				for more {
					w := next
					next, more = g.next()
					p.handOut(e, !more)
					open = append(open, job{e, w})
				}
				if want := countFinished(p); p.finished != want {
					t.Fatalf("after partition %d: %d partitions counted finished, %d are", i, p.finished, want)
				}
				if rng.Intn(5) == 0 {
					p.observe()
				}
				for len(open) > 0 && rng.Intn(4) > 0 {
					closeOne()
				}
			}
			for len(open) > 0 && !(tc.leaveOpen && len(open) <= 3) {
				closeOne()
			}
			got, err := p.finalState()
			if err != nil {
				t.Fatal(err)
			}
			want, err := encodeJSON(dictStateLocked(p))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("final state\n got  %s\n want %s", got, want)
			}
			if tc.name == "turned global" != p.useGlobal {
				t.Errorf("use_global_cursor %v", p.useGlobal)
			}
			if !tc.leaveOpen && p.pending != 0 {
				t.Errorf("%d windows pending at the end", p.pending)
			}
			t.Logf("%d states compared, %d partitions kept, final state %d bytes", checked, len(p.order), len(got))
		})
	}
}

// TestPartitionedParentStateForItsTemplates checks that a partitioned
// parent whose templates read stream_state still sees, for each slice, the
// state of its partitions so far (built only for such a parent), and that
// one whose templates do not is known as such.
func TestPartitionedParentStateForItsTemplates(t *testing.T) {
	parentOf := func(src *Source) *stream {
		return src.streamByName("threads").router.(*substreamRouter).parents[0].stream
	}
	src, err := New([]byte(nestedDependencyManifest))
	if err != nil {
		t.Fatal(err)
	}
	if parentOf(src).templatesReadState {
		t.Error("the conversations' templates do not read stream_state")
	}
	manifest := strings.Replace(nestedDependencyManifest,
		`path: "/accounts/{{ stream_partition.account }}/conversations", http_method: GET}`,
		`path: "/accounts/{{ stream_partition.account }}/conversations", http_method: GET, request_parameters: {seen: "{{ stream_state.get('states', []) | length }}"}}`, 1)
	if manifest == nestedDependencyManifest {
		t.Fatal("no request_parameters added")
	}
	if src, err = New([]byte(manifest)); err != nil {
		t.Fatal(err)
	}
	if !parentOf(src).templatesReadState {
		t.Error("the conversations' request_parameters read stream_state")
	}
	if parentOf(src).router.(*substreamRouter).parents[0].stream.templatesReadState {
		t.Error("the accounts' templates do not read stream_state: the conversations' do")
	}
	run := runFeature(t, manifest, `{"start": "2024-01-01T00:00:00Z"}`, "", manyAccountsAPI(3))
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "requests", accountRequests(run.requests), []string{
		"GET /accounts?since=2024-01-01T00%3A00%3A00Z",
		"GET /accounts/1/conversations?seen=0&since=2024-01-01T00%3A00%3A00Z",
		"GET /accounts/2/conversations?seen=1&since=2024-01-01T00%3A00%3A00Z",
		"GET /accounts/3/conversations?seen=2&since=2024-01-01T00%3A00%3A00Z"})
}
