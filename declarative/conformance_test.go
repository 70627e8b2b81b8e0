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
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/catalogs"
	"github.com/x/goairbyte/internal/replaytest"
	"github.com/x/goairbyte/protocol"
)

// The conformance test replays each recorded connector and compares what
// the engine does with what the Python CDK did, as strictly as the
// recording allows (README "Normalisation"): the CDK reads streams and
// partitions on a thread pool, so only the interleaving of partitions
// varies between its runs. Everything else must be equal:
//
//   - spec, check (status, message and the requests in order), catalog;
//   - the records of each stream as a multiset, and the records of each
//     partition in the CDK's order (a partition's records are a
//     subsequence of the stream's records in the expected output);
//   - for a stream read as one partition, its whole message sequence
//     (statuses, records, states with their record counts) in order;
//   - the last STATE of each stream; the TRACE messages as a multiset;
//   - the requests as a multiset, and the requests of each partition in
//     order.
//
// A difference the engine is allowed is listed in allowedDifferences with
// its reason; an entry that no longer matches a difference fails the test
// too, so the table stays true.

// withSleep replaces the wait between retries (the recording skipped
// them).
func withSleep(f func(context.Context, time.Duration) error) Option {
	return func(o *options) error { o.sleep = f; return nil }
}

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// diffKind is the aspect a difference is about.
type diffKind string

// The aspects compared.
const (
	diffSpec          diffKind = "spec"
	diffCheck         diffKind = "check"
	diffCheckRequests diffKind = "check requests"
	diffCatalog       diffKind = "catalog"
	diffReadError     diffKind = "read error"
	diffRecords       diffKind = "records"
	diffRecordOrder   diffKind = "record order"
	diffStreamSeq     diffKind = "stream messages"
	diffLastState     diffKind = "last state"
	diffTraces        diffKind = "traces"
	diffRequests      diffKind = "requests"
	diffRequestOrder  diffKind = "request order"
	diffMisses        diffKind = "unrecorded request"
	// diffFewerRepeats is a request the CDK sent more often than the
	// engine (which sent it at least once), with a success every time.
	diffFewerRepeats diffKind = "fewer repeats"
)

// difference is one way the engine's run differs from the CDK's.
type difference struct {
	phase  string
	kind   diffKind
	what   string // the stream, partition or request it is about
	detail string
}

// allowedDifference is a difference the engine may have, with why.
type allowedDifference struct {
	connector string
	phase     string
	kind      diffKind
	what      string // a prefix of the difference's what
	reason    string
	// sometimes is set when the difference depends on timing, in the
	// CDK's runs as in the engine's: a run without it is no stale entry.
	sometimes bool
}

// cacheRace is why the CDK sends some successful requests of parent
// streams more than once: its requests-cache is filled by whichever
// thread's identical request finishes first, so two partitions (or a
// parent stream and a child's partition router) racing each send it. The
// engine's cache is single-flight: one request, the others wait for it.
const cacheRace = "the CDK's response cache is filled by whichever identical request finishes first, so its threads racing for a parent's page each send it; the engine's cache lets one request go and the others wait for its response"

// tokenRace is why the CDK sends some OAuth token requests more than once:
// threads that find no valid token each refresh it.
const tokenRace = "the CDK's threads that find the OAuth token missing or expired each refresh it at once; the engine refreshes once under a lock and the others use that token"

// firstAsks is why which stream gets a recorded error response can vary:
// several streams request the same URL at once, and the replay answers the
// recording's one 429 to whichever asks first, as the CDK's mock did.
const firstAsks = "two streams request the same URL at the same time; the recording's one 429 for it goes to whichever request arrives first, so the RATE_LIMITED status belongs to one stream or the other, in the CDK's runs as in the engine's"

// allowedDifferences is every difference the engine is allowed, per
// connector. Keep it short: each entry is a place where the CDK's own runs
// vary and the engine takes one of the CDK's possible behaviours.
var allowedDifferences = []allowedDifference{
	{"source-blogger", "read", diffFewerRepeats, "POST https://oauth2.googleapis.com/token", tokenRace, false},
	{"source-blogger", "read", diffFewerRepeats, "GET https://www.googleapis.com/blogger/v3/users/self/blogs", cacheRace, false},
	{"source-breezy-hr", "read", diffFewerRepeats, "GET https://api.breezy.hr/v3/company/company123/positions", cacheRace, false},
	{"source-buildkite", "read", diffFewerRepeats, "GET https://api.buildkite.com/v2/organizations?", cacheRace, false},
	{"source-castor-edc", "read", diffFewerRepeats, "POST https://uk.castoredc.com/oauth/token", tokenRace, false},
	{"source-castor-edc", "read_incremental", diffFewerRepeats, "POST https://uk.castoredc.com/oauth/token", tokenRace, false},
	{"source-free-agent-connector", "read", diffFewerRepeats, "POST https://api.freeagent.com/v2/token_endpoint", tokenRace, false},
	{"source-free-agent-connector", "read_incremental", diffFewerRepeats, "POST https://api.freeagent.com/v2/token_endpoint", tokenRace, false},
	{"source-free-agent-connector", "read", diffFewerRepeats, "GET https://api.freeagent.com/v2/payroll/2024", cacheRace, false},
	{"source-free-agent-connector", "read", diffStreamSeq, "Admin Expenses Categories", firstAsks, true},
	{"source-free-agent-connector", "read", diffStreamSeq, "Cost of Sales Categories", firstAsks, true},
	{"source-free-agent-connector", "read", diffTraces, "Admin Expenses Categories", firstAsks, true},
	{"source-free-agent-connector", "read", diffTraces, "Cost of Sales Categories", firstAsks, true},
	{"source-guru", "read", diffFewerRepeats, "GET https://api.getguru.com/api/v1/folders", cacheRace, false},
	{"source-guru", "read_incremental", diffFewerRepeats, "GET https://api.getguru.com/api/v1/groups", cacheRace, false},
	{"source-piwik", "read", diffFewerRepeats, "POST https://testorg.piwik.pro/auth/token", tokenRace, false},
	{"source-piwik", "read", diffFewerRepeats, "GET https://testorg.piwik.pro/api/meta-sites/v1", cacheRace, false},
	{"source-productboard", "read", diffFewerRepeats, "GET https://api.productboard.com/notes?", cacheRace, false},
	{"source-shortcut", "read", diffFewerRepeats, "GET https://api.app.shortcut.com/api/v3/categories", cacheRace, false},
	{"source-shortcut", "read_incremental", diffFewerRepeats, "GET https://api.app.shortcut.com/api/v3/categories", cacheRace, false},
	{"source-shortcut", "read_incremental", diffFewerRepeats, "GET https://api.app.shortcut.com/api/v3/epics?", cacheRace, false},
	{"source-shortcut", "read_incremental", diffFewerRepeats, "GET https://api.app.shortcut.com/api/v3/objectives", cacheRace, false},
	{"source-teamwork", "read_incremental", diffFewerRepeats, "GET https://testsite.teamwork.com/projects/api/v3/notebooks.json?", cacheRace, false},
}

// conformanceCase is one recorded connector.
type conformanceCase struct {
	name, dir string
	manifest  []byte
	config    json.RawMessage
	now       time.Time
	exchanges []replaytest.Exchange
	// afterBuild, when set, is called with the Source once it is built
	// (the property audit watches what is read after that).
	afterBuild func(*Source)
}

func loadCase(t *testing.T, dir string) *conformanceCase {
	t.Helper()
	c := &conformanceCase{name: filepath.Base(dir), dir: dir}
	var err error
	if c.manifest, err = os.ReadFile(filepath.Join(sharedManifests(t), "corpus", c.name, "manifest.yaml")); err != nil {
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
	if c.exchanges, err = replaytest.ReadExchanges(filepath.Join(dir, "exchanges.json")); err != nil {
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
	dirs, _ := filepath.Glob(filepath.Join(sharedManifests(t), "conformance", "*"))
	if len(dirs) == 0 {
		t.Fatal("no connectors in the shared conformance data")
	}
	results := map[string]string{}
	used := map[int]bool{}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		ran := false
		ok := t.Run(name, func(t *testing.T) {
			ran = true
			for _, i := range runConformance(t, loadCase(t, dir)) {
				used[i] = true
			}
		})
		if ran {
			results[name] = map[bool]string{true: "pass", false: "FAIL"}[ok]
		}
	}
	for i, a := range allowedDifferences {
		if _, ran := results[a.connector]; ran && !used[i] && !a.sometimes {
			t.Errorf("allowed difference no longer seen, remove it: %s %s %s %q", a.connector, a.phase, a.kind, a.what)
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
	t.Logf("conformance: %d of %d connectors pass (%d allowed differences):%s", pass, len(names), len(allowedDifferences), b.String())
}

// runConformance runs every phase of a case; it reports each difference
// that is not allowed and returns the indexes of the allowed ones it met.
func runConformance(t *testing.T, c *conformanceCase) []int {
	// 501, as the engine's tests have always had for a miss: the engine
	// retries it, and what it does then is part of what is compared.
	srv := replaytest.New(t, c.exchanges, replaytest.MissStatus(http.StatusNotImplemented))
	tr := srv.Transport()
	tr.Label = func(r *http.Request) string { return labelOf(r.Context()) }
	tl := &traceLog{}
	src, err := New(c.manifest,
		WithHTTPClient(&http.Client{Transport: tr, Timeout: 30 * time.Second}),
		WithClock(func() time.Time { return c.now }),
		withSleep(noSleep), withTracer(tl.add))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if c.afterBuild != nil {
		c.afterBuild(src)
	}
	ctx := context.Background()
	var diffs []difference
	report := func(phase string, kind diffKind, what, detail string) {
		diffs = append(diffs, difference{phase, kind, what, detail})
	}

	if spec, err := src.Spec(ctx); err != nil {
		report("spec", diffSpec, "", err.Error())
	} else if got, want := asJSON(t, &protocol.Message{Type: protocol.TypeSpec, Spec: spec}), readJSONFile(t, filepath.Join(c.dir, "expected", "spec.json")); !reflect.DeepEqual(got, want) {
		report("spec", diffSpec, "", jsonDiff("$", got, want))
	}

	srv.Phase("check")
	err = src.Check(ctx, c.config)
	want := readJSONFile(t, filepath.Join(c.dir, "expected", "check.json")).(map[string]any)["connectionStatus"].(map[string]any)
	status, msg := "SUCCEEDED", any(nil)
	if err != nil {
		status, msg = "FAILED", err.Error()
	}
	if status != want["status"] || msg != want["message"] {
		report("check", diffCheck, "", fmt.Sprintf("check = %s %v, want %v %v", status, msg, want["status"], want["message"]))
	}
	var checkWant []replaytest.Request
	for _, e := range c.exchanges {
		if e.Phase == "check" {
			checkWant = append(checkWant, e.Request)
		}
	}
	if g, w := requestKeys(srv.Requests()), requestKeys(checkWant); !reflect.DeepEqual(g, w) {
		report("check", diffCheckRequests, "", firstDiff(g, w))
	}
	for _, m := range srv.Misses() {
		report("check", diffMisses, m, "")
	}

	catalog, err := src.Discover(ctx, c.config)
	if err != nil {
		report("discover", diffCatalog, "", err.Error())
	} else if got, want := asJSON(t, &protocol.Message{Type: protocol.TypeCatalog, Catalog: catalog}), readJSONFile(t, filepath.Join(c.dir, "expected", "catalog.json")); !reflect.DeepEqual(got, want) {
		report("discover", diffCatalog, "", jsonDiff("$", got, want))
	}
	if catalog != nil {
		c.compareReadPhase(t, src, srv, tl, catalog, "read", nil, report)
		if statePath := filepath.Join(c.dir, "expected", "state.json"); fileExists(statePath) {
			state, err := os.ReadFile(statePath)
			if err != nil {
				t.Fatal(err)
			}
			c.compareReadPhase(t, src, srv, tl, catalog, "read_incremental", state, report)
		}
	}

	var usedAllowed []int
	for _, d := range diffs {
		if i := c.allowed(d); i >= 0 {
			usedAllowed = append(usedAllowed, i)
			continue
		}
		t.Errorf("%s: %s %s\n%s", d.phase, d.kind, d.what, d.detail)
	}
	return usedAllowed
}

// allowed returns the index of the entry that allows d, or -1.
func (c *conformanceCase) allowed(d difference) int {
	for i, a := range allowedDifferences {
		if a.connector == c.name && a.phase == d.phase && a.kind == d.kind && strings.HasPrefix(d.what, a.what) {
			return i
		}
	}
	return -1
}

// traceLog collects the records the engine emitted, per partition label.
type traceLog struct {
	mu      sync.Mutex
	records map[string][]string // label → record data, in order
}

func (l *traceLog) add(label string, m *protocol.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.records == nil {
		l.records = map[string][]string{}
	}
	switch {
	case m == nil:
		if _, ok := l.records[label]; !ok {
			l.records[label] = []string{}
		}
	case m.Type == protocol.TypeRecord:
		l.records[label] = append(l.records[label], compactJSON(m.Record.Data))
	}
}

func (l *traceLog) reset() map[string][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.records
	l.records = nil
	return out
}

func compactJSON(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

// compareReadPhase reads with the phase's recorded exchanges and compares
// the messages and requests with the CDK's.
func (c *conformanceCase) compareReadPhase(t *testing.T, src *Source, srv *replaytest.Server, tl *traceLog, catalog *protocol.Catalog, phase string, state json.RawMessage, report func(phase string, kind diffKind, what, detail string)) {
	want := readJSONL(t, filepath.Join(c.dir, "expected", phase+".jsonl"))
	cat := configuredCatalog(catalog, want, state != nil)
	srv.Phase(phase)
	tl.reset()
	got, err := readAll(context.Background(), src, c.config, cat, state)
	if err != nil && !wantsReadError(t, want) {
		report(phase, diffReadError, "", err.Error())
	}
	partitions := tl.reset()
	requests := "requests.jsonl"
	if state != nil {
		requests = "requests_incremental.jsonl"
	}
	rep := func(kind diffKind, what, detail string) { report(phase, kind, what, detail) }
	compareMessages(t, got, want, partitions, rep)
	compareRequests(srv.Requests(), readRequests(t, filepath.Join(c.dir, "expected", requests)), rep)
	for _, m := range srv.Misses() {
		rep(diffMisses, m, "")
	}
}

// wantsReadError reports whether the CDK's read ended in a failure (a
// TRACE ERROR without a stream).
func wantsReadError(t *testing.T, want []json.RawMessage) bool {
	for _, l := range want {
		m, _ := normalisedMessage(t, l)
		if m.Trace != nil && m.Trace.Error != nil && m.Trace.Error.StreamDescriptor == nil {
			return true
		}
	}
	return false
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
		if incremental || !catalogs.Supports(&s, protocol.SyncFullRefresh) {
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
// files have it, and a per-partition state's "states" sorted.
func normalisedMessage(t *testing.T, line json.RawMessage) (protocol.Message, string) {
	t.Helper()
	var m protocol.Message
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("bad message %s: %v", line, err)
	}
	if m.Record != nil {
		m.Record.EmittedAt = 0
		m.Record.Data = json.RawMessage(compactJSON(m.Record.Data))
	}
	if m.Trace != nil {
		m.Trace.EmittedAt = 0
		if m.Trace.Error != nil {
			m.Trace.Error.StackTrace = ""
		}
	}
	if m.State != nil && m.State.Stream != nil {
		var v any
		_ = json.Unmarshal(m.State.Stream.StreamState, &v)
		m.State.Stream.StreamState, _ = json.Marshal(normaliseState(v))
	}
	b, _ := json.Marshal(m)
	return m, string(b)
}

// streamOf is the stream a message is about ("" for a global TRACE).
func streamOf(m *protocol.Message) string {
	switch {
	case m.Record != nil:
		return m.Record.Stream
	case m.State != nil && m.State.Stream != nil:
		return m.State.Stream.StreamDescriptor.Name
	case m.Trace != nil && m.Trace.StreamStatus != nil:
		return m.Trace.StreamStatus.StreamDescriptor.Name
	case m.Trace != nil && m.Trace.Error != nil && m.Trace.Error.StreamDescriptor != nil:
		return m.Trace.Error.StreamDescriptor.Name
	}
	return ""
}

// readSummary is a read's messages grouped by stream.
type readSummary struct {
	records   map[string][]string // stream → record data in order
	messages  map[string][]string // stream → every message in order
	lastState map[string]string
	traces    []string
}

func summarise(t *testing.T, lines []json.RawMessage) readSummary {
	s := readSummary{records: map[string][]string{}, messages: map[string][]string{}, lastState: map[string]string{}}
	for _, l := range lines {
		m, text := normalisedMessage(t, l)
		stream := streamOf(&m)
		s.messages[stream] = append(s.messages[stream], text)
		switch m.Type {
		case protocol.TypeRecord:
			s.records[stream] = append(s.records[stream], string(m.Record.Data))
		case protocol.TypeState:
			if m.State.Stream != nil {
				s.lastState[stream] = string(m.State.Stream.StreamState)
			}
		case protocol.TypeTrace:
			s.traces = append(s.traces, text)
		}
	}
	sort.Strings(s.traces)
	return s
}

// compareMessages compares the messages of a read; partitions are the
// engine's records per partition label.
func compareMessages(t *testing.T, got, want []json.RawMessage, partitions map[string][]string, report func(kind diffKind, what, detail string)) {
	t.Helper()
	g, w := summarise(t, got), summarise(t, want)
	// Partitions per stream, from their labels ("stream\t{slice}").
	perStream := map[string][]string{}
	for label := range partitions {
		stream, _, _ := strings.Cut(label, "\t")
		perStream[stream] = append(perStream[stream], label)
	}
	streams := map[string]bool{}
	for s := range g.messages {
		streams[s] = true
	}
	for s := range w.messages {
		streams[s] = true
	}
	for stream := range streams {
		if stream == "" {
			continue
		}
		gr, wr := g.records[stream], w.records[stream]
		if !reflect.DeepEqual(sortedCopy(gr), sortedCopy(wr)) {
			missing, extra := multisetDiff(gr, wr)
			report(diffRecords, stream, fmt.Sprintf("%d records, want %d\n  not emitted: %s\n  not expected: %s", len(gr), len(wr), trim(strings.Join(missing, "\n    ")), trim(strings.Join(extra, "\n    "))))
			continue
		}
		for _, label := range perStream[stream] {
			if i := subsequenceMismatch(partitions[label], wr); i >= 0 {
				report(diffRecordOrder, label, fmt.Sprintf("record #%d of the partition is out of the CDK's order: %s", i, trim(partitions[label][i])))
			}
		}
		if len(perStream[stream]) <= 1 && !reflect.DeepEqual(g.messages[stream], w.messages[stream]) {
			report(diffStreamSeq, stream, firstDiff(g.messages[stream], w.messages[stream]))
		}
		if g.lastState[stream] != w.lastState[stream] {
			report(diffLastState, stream, fmt.Sprintf("got  %s\nwant %s", g.lastState[stream], w.lastState[stream]))
		}
	}
	// Each trace that differs is reported under its stream's name.
	missing, extra := multisetDiff(g.traces, w.traces)
	for _, m := range missing {
		report(diffTraces, traceStream(m), "not emitted: "+trim(m))
	}
	for _, e := range extra {
		report(diffTraces, traceStream(e), "not expected: "+trim(e))
	}
}

// traceStream is the stream a TRACE message names ("" for none).
func traceStream(text string) string {
	var m protocol.Message
	if json.Unmarshal([]byte(text), &m) != nil {
		return ""
	}
	return streamOf(&m)
}

// subsequenceMismatch returns -1 when part is a subsequence of all, else
// the index of the first element of part that cannot be placed.
func subsequenceMismatch(part, all []string) int {
	j := 0
	for i, p := range part {
		for j < len(all) && all[j] != p {
			j++
		}
		if j == len(all) {
			return i
		}
		j++
	}
	return -1
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

func readRequests(t *testing.T, path string) []replaytest.Request {
	var out []replaytest.Request
	for _, l := range readJSONL(t, path) {
		var r replaytest.Request
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// requestKey is what is compared of a request: method, URL, the headers
// the connector set (names canonicalised: they are case-insensitive in
// HTTP and Go's server canonicalises what it receives) and the body.
func requestKey(r replaytest.Request) string {
	b := "<none>"
	if r.Body != nil {
		b = *r.Body
	}
	var hs []string
	for k, v := range r.Headers {
		hs = append(hs, http.CanonicalHeaderKey(k)+": "+v)
	}
	sort.Strings(hs)
	return r.Method + " " + r.URL + " [" + strings.Join(hs, "; ") + "] " + b
}

func requestKeys(rs []replaytest.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = requestKey(r)
	}
	return out
}

// compareRequests compares the requests as a multiset, then each
// partition's requests in order: the subsequence of the CDK's requests
// made of the keys only that partition sent must equal the partition's.
func compareRequests(got, want []replaytest.Request, report func(kind diffKind, what, detail string)) {
	g, w := requestKeys(got), requestKeys(want)
	missing, extra := multisetDiff(g, w)
	count := func(keys []string, k string) int {
		n := 0
		for _, x := range keys {
			if x == k {
				n++
			}
		}
		return n
	}
	byKey := map[string]replaytest.Request{}
	for _, r := range want {
		byKey[requestKey(r)] = r
	}
	// A request sent at least once but fewer times than the CDK is
	// reported on its own, so that it can be allowed by itself.
	var keep []string
	for _, m := range sortedUnique(missing) {
		if count(g, m) > 0 && count(extra, m) == 0 {
			r := byKey[m]
			report(diffFewerRepeats, r.Method+" "+r.URL, fmt.Sprintf("sent %d times, the CDK %d", count(g, m), count(w, m)))
			continue
		}
		for i := count(missing, m); i > 0; i-- {
			keep = append(keep, m)
		}
	}
	if len(keep)+len(extra) > 0 {
		report(diffRequests, "", fmt.Sprintf("%d sent, %d expected\n  not sent: %s\n  not expected: %s", len(g), len(w), trim(strings.Join(keep, "\n    ")), trim(strings.Join(extra, "\n    "))))
	}

	labels := map[string][]string{} // label → its keys in order
	owners := map[string]map[string]bool{}
	for i, r := range got {
		labels[r.Label] = append(labels[r.Label], g[i])
		if owners[g[i]] == nil {
			owners[g[i]] = map[string]bool{}
		}
		owners[g[i]][r.Label] = true
	}
	for label, keys := range labels {
		// A key only this partition sent, as often as the CDK did (the
		// others are reported above).
		own := map[string]bool{}
		for _, k := range keys {
			if len(owners[k]) == 1 && count(g, k) == count(w, k) {
				own[k] = true
			}
		}
		var gs, ws []string
		for _, k := range keys {
			if own[k] {
				gs = append(gs, k)
			}
		}
		for _, k := range w {
			if own[k] {
				ws = append(ws, k)
			}
		}
		if !reflect.DeepEqual(gs, ws) {
			report(diffRequestOrder, label, firstDiff(gs, ws))
		}
	}
}

func sortedUnique(s []string) []string {
	c := sortedCopy(s)
	out := c[:0]
	for i, x := range c {
		if i == 0 || x != c[i-1] {
			out = append(out, x)
		}
	}
	return out
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
