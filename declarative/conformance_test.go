package declarative

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/declarative/internal/replay"
	"github.com/x/goairbyte/protocol"
)

// withSleep replaces the wait between retries (the recording skipped
// them).
func withSleep(f func(context.Context, time.Duration) error) Option {
	return func(o *options) error { o.sleep = f; return nil }
}

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// allowedDifferences lists, per connector and aspect, what the engine is
// allowed to do differently from the CDK, with the reason. Every entry is
// a documented difference, not a hidden failure.
var allowedDifferences = map[string]string{}

// conformanceCase is one recorded connector.
type conformanceCase struct {
	name, dir string
	manifest  []byte
	config    json.RawMessage
	now       time.Time
	exchanges []replay.Exchange
}

func loadCase(t *testing.T, dir string) *conformanceCase {
	t.Helper()
	c := &conformanceCase{name: filepath.Base(dir), dir: dir}
	var err error
	if c.manifest, err = os.ReadFile(filepath.Join(sharedManifests, "corpus", c.name, "manifest.yaml")); err != nil {
		t.Fatal(err)
	}
	if c.config, err = os.ReadFile(filepath.Join(dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	nowText, err := os.ReadFile(filepath.Join(dir, "now.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if c.now, err = time.Parse(time.RFC3339, strings.TrimSpace(string(nowText))); err != nil {
		t.Fatal(err)
	}
	if c.exchanges, err = replay.ReadExchanges(filepath.Join(dir, "exchanges.json")); err != nil {
		t.Fatal(err)
	}
	return c
}

func readJSONL(t *testing.T, path string) []json.RawMessage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []json.RawMessage
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, append(json.RawMessage(nil), line...))
		}
	}
	return out
}

func TestConformance(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(sharedManifests, "conformance", "*"))
	if len(dirs) == 0 {
		t.Skip("no conformance data")
	}
	results := map[string]string{}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		ran := false
		ok := t.Run(name, func(t *testing.T) { ran = true; runConformance(t, loadCase(t, dir)) })
		if ran {
			results[name] = map[bool]string{true: "pass", false: "FAIL"}[ok]
		}
	}
	var names []string
	for n := range results {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	pass := 0
	for _, n := range names {
		fmt.Fprintf(&b, "\n  %-32s %s", n, results[n])
		if results[n] == "pass" {
			pass++
		}
	}
	t.Logf("conformance: %d of %d connectors pass:%s", pass, len(names), b.String())
}

func runConformance(t *testing.T, c *conformanceCase) {
	srv := replay.NewServer()
	defer srv.Close()
	src, err := New(c.manifest,
		WithHTTPClient(&http.Client{Transport: srv.Transport(), Timeout: 30 * time.Second}),
		WithClock(func() time.Time { return c.now }),
		withSleep(noSleep))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx := context.Background()

	t.Run("spec", func(t *testing.T) {
		spec, err := src.Spec(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := asJSON(t, &protocol.Message{Type: protocol.TypeSpec, Spec: spec})
		if want := readJSONFile(t, filepath.Join(c.dir, "expected", "spec.json")); !reflect.DeepEqual(got, want) {
			t.Errorf("spec differs")
		}
	})

	t.Run("check", func(t *testing.T) {
		srv.Load(c.exchanges, "check")
		err := src.Check(ctx, c.config)
		want := readJSONFile(t, filepath.Join(c.dir, "expected", "check.json")).(map[string]any)["connectionStatus"].(map[string]any)
		status := "SUCCEEDED"
		var msg any
		if err != nil {
			status = "FAILED"
			msg = err.Error()
		}
		if status != want["status"] || (msg != nil && msg != want["message"]) {
			t.Errorf("check = %s %v, want %v %v", status, msg, want["status"], want["message"])
		}
		checkMisses(t, srv)
	})

	var catalog *protocol.Catalog
	t.Run("discover", func(t *testing.T) {
		catalog, err = src.Discover(ctx, c.config)
		if err != nil {
			t.Fatal(err)
		}
		got := asJSON(t, &protocol.Message{Type: protocol.TypeCatalog, Catalog: catalog})
		if want := readJSONFile(t, filepath.Join(c.dir, "expected", "catalog.json")); !reflect.DeepEqual(got, want) {
			t.Errorf("catalog differs:\n got %s\nwant %s", trim(asText(t, got)), trim(asText(t, want)))
		}
	})
	if catalog == nil {
		return
	}

	t.Run("read", func(t *testing.T) { c.compareReadPhase(t, src, srv, catalog, "read", nil) })
	statePath := filepath.Join(c.dir, "expected", "state.json")
	if !fileExists(statePath) {
		return
	}
	t.Run("read_incremental", func(t *testing.T) {
		state, err := os.ReadFile(statePath)
		if err != nil {
			t.Fatal(err)
		}
		c.compareReadPhase(t, src, srv, catalog, "read_incremental", state)
	})
}

// compareReadPhase reads with the phase's recorded exchanges and compares
// the messages and requests with the CDK's.
func (c *conformanceCase) compareReadPhase(t *testing.T, src *Source, srv *replay.Server, catalog *protocol.Catalog, phase string, state json.RawMessage) {
	want := readJSONL(t, filepath.Join(c.dir, "expected", phase+".jsonl"))
	cat := configuredCatalog(catalog, want, state != nil)
	srv.Load(c.exchanges, phase)
	got, err := readAll(context.Background(), src, c.config, cat, state)
	if err != nil {
		t.Errorf("read: %v", err)
	}
	compareRead(t, src, got, want)
	requests := "requests.jsonl"
	if state != nil {
		requests = "requests_incremental.jsonl"
	}
	compareRequests(t, srv.Requests(), readRequests(t, filepath.Join(c.dir, "expected", requests)), c.repeatedSuccesses(phase))
	checkMisses(t, srv)
}

func checkMisses(t *testing.T, srv *replay.Server) {
	t.Helper()
	for _, m := range srv.Misses() {
		t.Errorf("request not in the recording: %s", m)
	}
}

// configuredCatalog selects the streams the expected read started, with
// full_refresh where supported (incremental for the incremental read).
func configuredCatalog(cat *protocol.Catalog, expected []json.RawMessage, incremental bool) *protocol.ConfiguredCatalog {
	started := map[string]bool{}
	for _, line := range expected {
		var m protocol.Message
		if json.Unmarshal(line, &m) == nil && m.Trace != nil && m.Trace.StreamStatus != nil {
			started[m.Trace.StreamStatus.StreamDescriptor.Name] = true
		}
	}
	out := &protocol.ConfiguredCatalog{}
	for _, s := range cat.Streams {
		if !started[s.Name] {
			continue
		}
		mode := protocol.SyncFullRefresh
		if incremental || !s.Supports(protocol.SyncFullRefresh) {
			mode = protocol.SyncIncremental
		}
		out.Streams = append(out.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: mode, DestinationSyncMode: protocol.DestinationAppend})
	}
	return out
}

func readAll(ctx context.Context, src *Source, config json.RawMessage, cat *protocol.ConfiguredCatalog, state json.RawMessage) ([]json.RawMessage, error) {
	var out []json.RawMessage
	err := src.Read(ctx, config, cat, state, func(m *protocol.Message) error {
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		out = append(out, b)
		return nil
	})
	return out, err
}

// normalisedMessage is a message with emitted_at set to 0, as the expected
// files have it.
func normalisedMessage(t *testing.T, line json.RawMessage) (protocol.Message, string) {
	t.Helper()
	var m protocol.Message
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("bad message %s: %v", line, err)
	}
	if m.Record != nil {
		m.Record.EmittedAt = 0
		var buf bytes.Buffer
		if err := json.Compact(&buf, m.Record.Data); err == nil {
			m.Record.Data = buf.Bytes()
		}
	}
	if m.Trace != nil {
		m.Trace.EmittedAt = 0
		if m.Trace.Error != nil {
			m.Trace.Error.StackTrace = ""
		}
	}
	b, _ := json.Marshal(m)
	return m, string(b)
}

// compareRead compares what the README says is deterministic: the records
// of each stream (in order), the last STATE of each stream, and the TRACE
// messages as a multiset.
func compareRead(t *testing.T, src *Source, got, want []json.RawMessage) {
	t.Helper()
	type summary struct {
		records    map[string][]string
		lastState  map[string]any
		traces     []string
		partitions map[string]bool
	}
	sum := func(lines []json.RawMessage) summary {
		s := summary{records: map[string][]string{}, lastState: map[string]any{}}
		for _, l := range lines {
			m, text := normalisedMessage(t, l)
			switch m.Type {
			case protocol.TypeRecord:
				s.records[m.Record.Stream] = append(s.records[m.Record.Stream], string(m.Record.Data))
			case protocol.TypeState:
				if m.State.Stream != nil {
					var v any
					_ = json.Unmarshal(m.State.Stream.StreamState, &v)
					s.lastState[m.State.Stream.StreamDescriptor.Name] = normaliseState(v)
				}
			case protocol.TypeTrace:
				s.traces = append(s.traces, text)
			}
		}
		sort.Strings(s.traces)
		return s
	}
	g, w := sum(got), sum(want)
	for stream, wr := range w.records {
		gr := g.records[stream]
		if !reflect.DeepEqual(sortedCopy(gr), sortedCopy(wr)) {
			t.Errorf("stream %s: %d records, want %d; first difference:\n%s", stream, len(gr), len(wr), firstDiff(sortedCopy(gr), sortedCopy(wr)))
		} else if !reflect.DeepEqual(gr, wr) && ordered(src, stream) {
			t.Errorf("stream %s: records in another order", stream)
		}
	}
	for stream := range g.records {
		if _, ok := w.records[stream]; !ok {
			t.Errorf("stream %s: %d records, want none", stream, len(g.records[stream]))
		}
	}
	if !reflect.DeepEqual(g.lastState, w.lastState) {
		for stream, ws := range w.lastState {
			if gs := g.lastState[stream]; !reflect.DeepEqual(gs, ws) {
				t.Errorf("stream %s: last state %s, want %s", stream, asText(t, gs), asText(t, ws))
			}
		}
		for stream, gs := range g.lastState {
			if _, ok := w.lastState[stream]; !ok {
				t.Errorf("stream %s: unexpected state %s", stream, asText(t, gs))
			}
		}
	}
	if !reflect.DeepEqual(g.traces, w.traces) {
		t.Errorf("traces differ:\n%s", firstDiff(g.traces, w.traces))
	}
}

// ordered reports whether a stream's records have one order: it has a
// single partition and a single date window. Streams read in several
// partitions concurrently are compared as a multiset, as their order
// varies in the CDK too (README "Normalisation").
func ordered(src *Source, name string) bool {
	st := src.streamByName(name)
	return st != nil && st.router == nil && (st.cursor == nil || st.cursor.step == nil)
}

// normaliseState sorts a per-partition "states" list, whose order varies.
func normaliseState(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if l, ok := m["states"].([]any); ok {
		sort.Slice(l, func(i, j int) bool {
			a, _ := json.Marshal(l[i])
			b, _ := json.Marshal(l[j])
			return string(a) < string(b)
		})
	}
	return m
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

func firstDiff(got, want []string) string {
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			return fmt.Sprintf("  #%d got  %s\n  #%d want %s", i, trim(g), i, trim(w))
		}
	}
	return ""
}

func readRequests(t *testing.T, path string) []replay.Request {
	var out []replay.Request
	for _, l := range readJSONL(t, path) {
		var r replay.Request
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// repeatedSuccesses lists the requests (method, URL, body) recorded more
// than once in a phase with a successful answer every time. How often the
// CDK sends these depends on its threads: its response cache for parent
// streams is filled by whichever identical request finishes first, and
// threads sharing an expired OAuth or session token each refresh it. The
// engine sends such a request at least once and never more often than the
// CDK did. Retries (a 429 then a 200) are not in this list: they must match
// exactly.
func (c *conformanceCase) repeatedSuccesses(phase string) map[string]bool {
	n := map[string]int{}
	ok := map[string]bool{}
	for _, e := range c.exchanges {
		if e.Phase != phase {
			continue
		}
		k := e.Request.Method + " " + e.Request.URL
		n[k]++
		if _, seen := ok[k]; !seen {
			ok[k] = true
		}
		ok[k] = ok[k] && e.Response.Status < 300
	}
	out := map[string]bool{}
	for k, count := range n {
		if count > 1 && ok[k] {
			out[k] = true
		}
	}
	return out
}

// compareRequests compares the requests as a multiset (streams and
// partitions run concurrently in the CDK, so only their set is stable),
// with the requests of relaxed sent between once and as often as the CDK.
func compareRequests(t *testing.T, got, want []replay.Request, relaxed map[string]bool) {
	t.Helper()
	key := func(r replay.Request) string {
		b := "<none>"
		if r.Body != nil {
			b = *r.Body
		}
		// Header names are compared canonicalised: they are
		// case-insensitive in HTTP, and Go's server canonicalises what it
		// receives (the engine sends them in the manifest's case).
		var hs []string
		for k, v := range r.Headers {
			hs = append(hs, http.CanonicalHeaderKey(k)+": "+v)
		}
		sort.Strings(hs)
		return r.Method + " " + r.URL + " [" + strings.Join(hs, "; ") + "] " + b
	}
	var g, w []string
	relaxedKeys := map[string]bool{}
	for _, r := range got {
		g = append(g, key(r))
	}
	for _, r := range want {
		w = append(w, key(r))
		if relaxed[r.Method+" "+r.URL] {
			relaxedKeys[key(r)] = true
		}
	}
	missing, extra := multisetDiff(g, w)
	var keep []string
	for _, m := range missing {
		if !relaxedKeys[m] || !slices.Contains(g, m) {
			keep = append(keep, m)
		}
	}
	missing = keep
	if len(missing)+len(extra) > 0 {
		t.Errorf("requests differ (%d sent, %d expected):\n  not sent: %s\n  not expected: %s", len(g), len(w), trim(strings.Join(missing, "\n    ")), trim(strings.Join(extra, "\n    ")))
	}
}

// multisetDiff returns what want has more than got, and got more than want.
func multisetDiff(got, want []string) (missing, extra []string) {
	count := map[string]int{}
	for _, w := range want {
		count[w]++
	}
	for _, g := range got {
		count[g]--
	}
	for k, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, k)
		}
		for ; n < 0; n++ {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}
