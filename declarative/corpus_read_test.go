package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/protocol"
)

// TestCorpusRead reads every stream of every corpus connector that builds
// with no refusal (and that the CDK discovered) against one synthetic
// loopback API, to find what panics, hangs, loops or fails where the CDK
// would not. The API's rule is generic (synthAPI): every request, whatever
// its host, is answered with two records shaped by the schema of the
// stream whose url_base and path match the request, placed where that
// stream's record selector looks; a path asked for more than twice gets
// no records, which ends every paginator that stops on an empty page.
//
// A second pass ("odd") reads every connector again from an API that
// misbehaves: the first request of each path is a 429 (Retry-After 0),
// record lists hold numbers, strings, nulls and lists beside the records,
// and later pages are null, a JSON string, {} or an empty body. A third
// ("incremental") reads each stream incrementally where it can, then again
// from the last states of that read; it reads a sample of 40 connectors
// unless GOAIRBYTE_CORPUS_READ_INCR=1.
//
// The test fails on a panic, and on a read that hits its deadline or its
// request cap unless knownLoops explains it. Errors are counted, not
// failed on: most are the synthetic answers not fitting the manifest.
// GOAIRBYTE_CORPUS_READ_ONLY=source-x reads one connector and prints its
// requests; -short reads a sample of 40.
func TestCorpusRead(t *testing.T) {
	t.Run("plain", func(t *testing.T) { corpusRead(t, false, false) })
	t.Run("odd", func(t *testing.T) { corpusRead(t, true, false) })
	t.Run("incremental", func(t *testing.T) { corpusRead(t, false, true) })
}

func corpusRead(t *testing.T, odd, incremental bool) {
	var targets []corpusEntry
	for _, c := range corpus(t) {
		if needsPython(c.dir) || !fileExists(filepath.Join(c.dir, "config.json")) || !fileExists(filepath.Join(c.dir, "expected", "catalog.json")) {
			continue
		}
		if only := os.Getenv("GOAIRBYTE_CORPUS_READ_ONLY"); only != "" && only != c.name {
			continue
		}
		targets = append(targets, c)
	}
	if testing.Short() || incremental && os.Getenv("GOAIRBYTE_CORPUS_READ_INCR") == "" {
		targets = sampleEvery(targets, 40)
		t.Logf("a sample of %d connectors (-short, or the incremental pass without GOAIRBYTE_CORPUS_READ_INCR=1)", len(targets))
	}

	api := newSynthAPI()
	srv := httptest.NewServer(api)
	defer srv.Close()

	outcomes := make([]corpusReadOutcome, len(targets))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, c := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			outcomes[i] = readCorpusConnector(t, api, srv.Listener.Addr().String(), c, odd, incremental)
		}()
	}
	wg.Wait()

	byClass := map[string]int{}
	errorsSeen := map[string][]string{}
	for _, o := range outcomes {
		if o.class == "" {
			continue
		}
		byClass[o.class]++
		switch o.class {
		case classPanic:
			t.Errorf("%s: PANIC: %s\n%s", o.name, o.detail, o.stack)
		case classDeadline, classRequestCap:
			if why, ok := knownLoops[o.name]; ok {
				t.Logf("%s: %s (known: %s)", o.name, o.class, why)
			} else {
				t.Errorf("%s: %s: %s", o.name, o.class, o.detail)
			}
		case classStreamErrors, classReadError, classRefused:
			errorsSeen[o.class] = append(errorsSeen[o.class], o.name+": "+o.detail)
		case classNoRecords:
			errorsSeen[o.class] = append(errorsSeen[o.class], o.name)
		}
	}
	var b strings.Builder
	classes := make([]string, 0, len(byClass))
	for k := range byClass {
		classes = append(classes, k)
	}
	sort.Strings(classes)
	for _, k := range classes {
		fmt.Fprintf(&b, "\n  %4d %s", byClass[k], k)
	}
	t.Logf("corpus read of %d connectors:%s", len(targets), b.String())
	for _, k := range []string{classRefused, classReadError, classStreamErrors, classNoRecords} {
		for _, e := range errorsSeen[k] {
			t.Logf("%s: %s", k, trim(e))
		}
	}
	for name := range knownLoops {
		found := false
		for _, o := range outcomes {
			if o.name == name && (o.class == classDeadline || o.class == classRequestCap) {
				found = true
			}
		}
		if !found && len(targets) > 40 && !incremental {
			t.Errorf("knownLoops lists %s, which no longer loops", name)
		}
	}
}

// knownLoops are the connectors whose read is allowed to hit its deadline
// or request cap, with the reason (not an engine defect).
var knownLoops = map[string]string{
	"source-mailersend": "config start_date 123131321 (1973) with daily windows: some 18,500 requests per stream, as the CDK would send",
	"source-square":     "config start_date 2021-01-01 with 30-day windows: 5 catalog streams × 37 windows, as the CDK would send",
	"source-insightly":  "config start_date 2021-03-01 with 30-day windows the requests do not carry (no start_time_option): 35 identical requests per stream, as the CDK would send",
}

// The outcome classes of a connector's read.
const (
	classRecords      = "records read, no error"
	classNoRecords    = "no records, no error"
	classStreamErrors = "some streams failed (clean TRACE errors)"
	classReadError    = "read error"
	classRefused      = "refused at read time"
	classPanic        = "PANIC"
	classDeadline     = "deadline hit"
	classRequestCap   = "request cap hit"
)

type corpusReadOutcome struct {
	name, class, detail, stack string
}

// Bounds of one connector's read.
const (
	corpusReadDeadline = 10 * time.Second
	corpusReadMaxReqs  = 200
)

func sampleEvery(in []corpusEntry, n int) []corpusEntry {
	if len(in) <= n {
		return in
	}
	out := make([]corpusEntry, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, in[i*len(in)/n])
	}
	return out
}

func readCorpusConnector(t *testing.T, api *synthAPI, addr string, c corpusEntry, odd, incremental bool) (out corpusReadOutcome) {
	out.name = c.name
	text, err := os.ReadFile(filepath.Join(c.dir, "manifest.yaml"))
	if err != nil {
		t.Error(err)
		return out
	}
	config, _ := os.ReadFile(filepath.Join(c.dir, "config.json"))
	ctx, cancel := context.WithTimeout(context.Background(), corpusReadDeadline)
	defer cancel()
	conn := &synthConnector{name: c.name, cancel: cancel, perPath: map[string]int{}, odd: odd}
	client := &http.Client{Transport: &loopbackTransport{addr: addr, conn: conn, base: &http.Transport{
		DialContext: (&net.Dialer{}).DialContext, MaxIdleConnsPerHost: 4,
	}}}
	defer client.CloseIdleConnections()
	// Microseconds, as a real clock has: "%f" formats need them.
	fixed := time.Date(2024, 1, 10, 0, 0, 0, 123456000, time.UTC)
	src, err := New(text, WithHTTPClient(client), withSleep(noSleep), WithClock(func() time.Time { return fixed }))
	if err != nil {
		out.class, out.detail = classReadError, "New: "+err.Error()
		return out
	}
	if src.unsupportedFor(src.streams) != nil {
		return corpusReadOutcome{} // not one of the clean builds
	}
	if err := conn.learn(src, text, config, fixed); err != nil {
		out.class, out.detail = classReadError, "the test could not model the streams: "+err.Error()
		return out
	}
	api.add(conn)
	defer api.remove(c.name)

	records := 0
	var traces []string
	defer func() {
		if r := recover(); r != nil {
			out.class, out.detail, out.stack = classPanic, fmt.Sprint(r), string(debug.Stack())
		}
	}()
	catalog := allStreams(src)
	if incremental {
		cat, err := src.Discover(ctx, config)
		if err != nil {
			out.class, out.detail = classReadError, "discover: "+err.Error()
			return out
		}
		catalog = &protocol.ConfiguredCatalog{}
		for _, st := range cat.Streams {
			mode := protocol.SyncFullRefresh
			if slices.Contains(st.SupportedSyncModes, protocol.SyncIncremental) {
				mode = protocol.SyncIncremental
			}
			catalog.Streams = append(catalog.Streams, protocol.ConfiguredStream{Stream: st, SyncMode: mode})
		}
	}
	lastStates := map[string]json.RawMessage{}
	err = src.Read(ctx, config, catalog, nil, func(m *protocol.Message) error {
		switch {
		case m.Type == protocol.TypeRecord:
			records++
		case m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.Error != nil:
			traces = append(traces, m.Trace.Error.Message)
		case m.Type == protocol.TypeState && m.State != nil && m.State.Stream != nil:
			b, _ := json.Marshal(m.State)
			lastStates[m.State.Stream.StreamDescriptor.Name] = b
		}
		return nil
	})
	if incremental && err == nil && ctx.Err() == nil {
		// The second read has its own request cap.
		conn.mu.Lock()
		conn.requests = 0
		conn.mu.Unlock()
		var states []json.RawMessage
		for _, b := range lastStates {
			states = append(states, b)
		}
		state, _ := json.Marshal(states)
		err = src.Read(ctx, config, catalog, state, func(m *protocol.Message) error {
			switch {
			case m.Type == protocol.TypeRecord:
				records++
			case m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.Error != nil:
				traces = append(traces, m.Trace.Error.Message)
			}
			return nil
		})
	}
	conn.mu.Lock()
	capHit, reqs := conn.capHit, conn.requests
	conn.mu.Unlock()
	var ue *UnsupportedError
	switch {
	case capHit:
		out.class, out.detail = classRequestCap, fmt.Sprintf("%d requests; last: %s", reqs, conn.lastRequests())
	case ctx.Err() != nil:
		conn.mu.Lock()
		idle := time.Since(conn.lastAt).Round(time.Millisecond)
		conn.mu.Unlock()
		out.class, out.detail = classDeadline, fmt.Sprintf("%d requests, none in the last %v; last: %s", reqs, idle, conn.lastRequests())
		if reqs == 0 {
			// Stopped before its first request (building, a slow
			// machine): there is no last one to time.
			out.detail = "no request"
		}
	case errors.As(err, &ue):
		out.class, out.detail = classRefused, err.Error()
	case err != nil && len(traces) > 0:
		out.class, out.detail = classStreamErrors, fmt.Sprintf("%d records; %v", records, err)
	case err != nil:
		out.class, out.detail = classReadError, err.Error()
	case records > 0:
		out.class = classRecords
	default:
		out.class = classNoRecords
	}
	return out
}

// loopbackTransport sends every request to the synthetic API, naming the
// connector and the original scheme and host in headers.
type loopbackTransport struct {
	addr string
	conn *synthConnector
	base http.RoundTripper
}

func (lt *loopbackTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !lt.conn.count(req) {
		lt.conn.cancel()
		return nil, fmt.Errorf("synthetic API: more than %d requests", corpusReadMaxReqs)
	}
	r := req.Clone(req.Context())
	r.Header.Set("X-Synth-Connector", lt.conn.name)
	r.Header.Set("X-Synth-Origin", req.URL.Scheme+"://"+req.URL.Host)
	r.URL.Scheme, r.URL.Host, r.Host = "http", lt.addr, lt.addr
	return lt.base.RoundTrip(r)
}

// synthAPI is the synthetic API all connectors share, dispatching on the
// connector header.
type synthAPI struct {
	mu    sync.Mutex
	conns map[string]*synthConnector
}

func newSynthAPI() *synthAPI { return &synthAPI{conns: map[string]*synthConnector{}} }

func (a *synthAPI) add(c *synthConnector) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conns[c.name] = c
}

func (a *synthAPI) remove(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.conns, name)
}

func (a *synthAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	c := a.conns[r.Header.Get("X-Synth-Connector")]
	a.mu.Unlock()
	if c == nil {
		http.Error(w, "unknown connector", http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.Write(c.answer(w, r, body))
}

// synthConnector is what the synthetic API knows of one connector: its
// streams' URLs, record paths and record shapes.
type synthConnector struct {
	name   string
	cancel func()
	routes []*synthRoute
	// extras are what every object body holds besides records: each path
	// a template reads from the response (null, so that "no next page"
	// reads as such) and each session token path (a token).
	extras map[string]any
	// token is the answer of an OAuth token endpoint.
	token []byte

	mu       sync.Mutex
	requests int
	capHit   bool
	perPath  map[string]int
	ids      int
	lastAt   time.Time // when the last request was sent
	// odd makes the API misbehave: a 429 first, then records that are
	// not objects, bodies that are null, a string or empty.
	odd  bool
	last []string
}

// synthRoute is one stream as the API serves it.
type synthRoute struct {
	stream   string
	pattern  *regexp.Regexp
	literal  int        // literal characters in the pattern: the best match has most
	paths    [][]string // where the record selector looks
	template map[string]any
}

func (c *synthConnector) count(req *http.Request) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	c.lastAt = time.Now()
	c.last = append(c.last, req.Method+" "+req.URL.String())
	if os.Getenv("GOAIRBYTE_CORPUS_READ_ONLY") != "" {
		fmt.Println(req.Method, req.URL.String())
	}
	if len(c.last) > 3 {
		c.last = c.last[1:]
	}
	if c.requests > corpusReadMaxReqs {
		c.capHit = true
		return false
	}
	return true
}

func (c *synthConnector) lastRequests() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.last, " ; ")
}

var templateRe = regexp.MustCompile(`\{\{.*?\}\}|\{%.*?%\}`)

// learn finds each stream's (and parent's) URL pattern, record path and
// record shape from the built components.
func (c *synthConnector) learn(src *Source, text, config []byte, now time.Time) error {
	rc, err := src.newReadContext(config)
	if err != nil {
		return err
	}
	seen := map[*stream]bool{}
	var visit func(st *stream)
	visit = func(st *stream) {
		if st == nil || seen[st] {
			return
		}
		seen[st] = true
		if sr, ok := st.router.(*substreamRouter); ok {
			for _, pc := range sr.parents {
				visit(pc.stream)
			}
		}
		if cr, ok := st.router.(*cartesianRouter); ok {
			for _, r := range cr.routers {
				if sr, ok := r.(*substreamRouter); ok {
					for _, pc := range sr.parents {
						visit(pc.stream)
					}
				}
			}
		}
		if st.retriever == nil || st.retriever.requester == nil {
			return
		}
		c.routes = append(c.routes, c.route(rc, st, now))
	}
	for _, st := range src.streams {
		visit(st)
	}
	c.learnResponses(src, string(text))
	// Parent keys: the records of a parent carry every key its children read.
	for _, st := range src.streams {
		for _, pc := range parentsOf(st) {
			key, err := pc.parentKey.evalStr(rc.vars())
			if err != nil {
				continue
			}
			for _, r := range c.routes {
				if r.stream == pc.stream.name {
					setSynthPath(r.template, strings.Split(key, "/"), "1")
				}
			}
		}
	}
	return nil
}

func parentsOf(st *stream) []*parentConfig {
	var out []*parentConfig
	switch r := st.router.(type) {
	case *substreamRouter:
		out = append(out, r.parents...)
	case *cartesianRouter:
		for _, sub := range r.routers {
			if sr, ok := sub.(*substreamRouter); ok {
				out = append(out, sr.parents...)
			}
		}
	}
	return out
}

func setSynthPath(m map[string]any, path []string, v any) {
	for i, k := range path {
		if i == len(path)-1 {
			m[k] = v
			return
		}
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
}

func (c *synthConnector) route(rc *readContext, st *stream, now time.Time) *synthRoute {
	v := rc.vars()
	req := st.retriever.requester
	base, err := req.urlBase.evalStr(v)
	if err != nil {
		base = req.urlBase.src
	}
	var path string
	if req.path != nil {
		if path, err = req.path.evalStr(v); err != nil {
			path = req.path.src
		}
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	full := urljoin(base, strings.TrimLeft(path, "/")) // as the requester joins them
	var pat strings.Builder
	literal := 0
	last := 0
	for _, loc := range templateRe.FindAllStringIndex(full, -1) {
		pat.WriteString(regexp.QuoteMeta(full[last:loc[0]]))
		literal += loc[0] - last
		pat.WriteString(`.*?`)
		last = loc[1]
	}
	pat.WriteString(regexp.QuoteMeta(full[last:]))
	literal += len(full) - last
	re, err := regexp.Compile("^" + pat.String())
	if err != nil {
		re = regexp.MustCompile("^$")
	}
	r := &synthRoute{stream: st.name, pattern: re, literal: literal, template: recordTemplate(st.schema)}
	if len(r.template) == 0 {
		// An empty record at the root of a response is dropped (the
		// CDK's DpathExtractor yields only a truthy body).
		r.template["id"] = "1"
	}
	if sel := st.retriever.selector; sel != nil {
		if de, ok := sel.extractor.(*dpathExtractor); ok {
			var p []string
			for _, t := range de.path {
				k, err := t.evalStr(v)
				if err != nil {
					k = templateRe.ReplaceAllString(t.src, "x")
				}
				p = append(p, k)
			}
			r.paths = append(r.paths, p)
		}
	}
	if st.cursor != nil {
		if f, err := st.cursor.cursorField.evalStr(v); err == nil && f != "" {
			format := st.cursor.datetimeFormat
			if len(st.cursor.cursorFormats) > 0 {
				format = st.cursor.cursorFormats[0]
			}
			r.template[f] = formatDatetime(now.Add(-24*time.Hour), format)
		}
	}
	for _, k := range st.primaryKey {
		setSynthPath(r.template, k, "1")
	}
	return r
}

// recordTemplate is a record shaped by a stream's JSON schema: a value
// for each top-level property, by its type and format.
func recordTemplate(schema json.RawMessage) map[string]any {
	var s map[string]any
	_ = json.Unmarshal(schema, &s)
	rec := map[string]any{}
	props, _ := s["properties"].(map[string]any)
	for k, p := range props {
		rec[k] = schemaValue(p, 0)
	}
	return rec
}

func schemaValue(p any, depth int) any {
	m, _ := p.(map[string]any)
	types := map[string]bool{}
	switch t := m["type"].(type) {
	case string:
		types[t] = true
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				types[s] = true
			}
		}
	}
	switch {
	case types["string"]:
		switch m["format"] {
		case "date-time":
			return "2024-01-09T00:00:00Z"
		case "date":
			return "2024-01-09"
		}
		return "x"
	case types["integer"]:
		return 1
	case types["number"]:
		return 1.5
	case types["boolean"]:
		return true
	case types["object"]:
		o := map[string]any{}
		if props, ok := m["properties"].(map[string]any); ok && depth < 3 {
			for k, sp := range props {
				o[k] = schemaValue(sp, depth+1)
			}
		}
		return o
	case types["array"]:
		return []any{}
	}
	return nil
}

// responseRe finds what a paginator's templates read of a response by
// attribute or key (response.a.b, response['a']['b']); a .get( ends the
// path, as its default covers what is absent.
var responseRe = regexp.MustCompile(`response((?:\.[A-Za-z_][A-Za-z0-9_]*|\[['"][^'"\]]+['"]\])+)`)

var responseSegRe = regexp.MustCompile(`\.([A-Za-z_][A-Za-z0-9_]*)|\[['"]([^'"\]]+)['"]\]`)

// paginatorLineRe finds the lines of a manifest that hold a paginator's
// templates.
var paginatorLineRe = regexp.MustCompile(`(?m)^\s*-?\s*(cursor_value|stop_condition)\s*:.*$`)

// learnResponses fills extras and the token answer from the manifest.
func (c *synthConnector) learnResponses(src *Source, text string) {
	c.extras = map[string]any{"access_token": "synthetic-access-token", "token": "synthetic-access-token", "expires_in": 3600}
	for _, line := range paginatorLineRe.FindAllString(text, -1) {
		for _, m := range responseRe.FindAllStringSubmatch(line, -1) {
			var path []string
			for _, seg := range responseSegRe.FindAllStringSubmatch(m[1], -1) {
				k := seg[1] + seg[2]
				if seg[1] == "get" || seg[1] == "keys" || seg[1] == "items" || seg[1] == "values" {
					break
				}
				path = append(path, k)
			}
			if len(path) > 0 && !hasSynthPath(c.extras, path) {
				setSynthPath(c.extras, path, nil)
			}
		}
	}
	token := map[string]any{"access_token": "synthetic-access-token", "token_type": "bearer", "expires_in": 3600, "refresh_token": "rtok"}
	for _, comp := range src.manifest.Components() {
		switch comp.Type {
		case "SessionTokenAuthenticator":
			var path []string
			for _, k := range comp.Node.List("session_token_path") {
				path = append(path, fmt.Sprint(k))
			}
			if len(path) > 0 {
				setSynthPath(c.extras, path, "synthetic-session-token")
			}
		case "OAuthAuthenticator":
			if n := comp.Node.String("access_token_name"); n != "" && !strings.Contains(n, "{") {
				token[n] = "synthetic-access-token"
			}
			exp := comp.Node.String("expires_in_name")
			if exp == "" || strings.Contains(exp, "{") {
				exp = "expires_in"
			}
			if comp.Node.String("token_expiry_date_format") != "" {
				token[exp] = "2030-01-01T00:00:00Z"
			} else {
				token[exp] = 3600
			}
		}
	}
	c.token, _ = json.Marshal(token)
}

func hasSynthPath(m map[string]any, path []string) bool {
	for i, k := range path {
		v, ok := m[k]
		if !ok {
			return false
		}
		if i == len(path)-1 {
			return true
		}
		if m, ok = v.(map[string]any); !ok {
			return true // a leaf already: keep it
		}
	}
	return true
}

// answer is the API's response to one request.
func (c *synthConnector) answer(w http.ResponseWriter, r *http.Request, body []byte) []byte {
	origin := r.Header.Get("X-Synth-Origin")
	full, decoded := origin+r.URL.RequestURI(), origin+r.URL.Path
	if r.URL.RawQuery != "" {
		decoded += "?" + r.URL.RawQuery
	}
	if strings.Contains(string(body), "grant_type") || strings.Contains(r.URL.RawQuery, "grant_type") {
		return c.token
	}
	c.mu.Lock()
	key := origin + r.URL.Path
	c.perPath[key]++
	n := c.perPath[key]
	c.mu.Unlock()
	if c.odd {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return nil
		case 3:
			return []byte("null")
		case 4:
			return []byte(`"a string"`)
		case 5:
			return []byte(`{}`)
		case 6:
			return []byte(``)
		}
	}
	recs := 2
	if n > 2 {
		recs = 0
	}
	best := -1
	var routes []*synthRoute
	for _, rt := range c.routes {
		if !rt.pattern.MatchString(full) && !rt.pattern.MatchString(decoded) {
			continue
		}
		switch {
		case rt.literal > best:
			best, routes = rt.literal, []*synthRoute{rt}
		case rt.literal == best:
			routes = append(routes, rt)
		}
	}
	var out any = cloneJSON(c.extras)
	for _, rt := range routes {
		list := make([]any, recs)
		for i := range list {
			rec := cloneJSON(rt.template)
			c.mu.Lock()
			c.ids++
			bump(rec, c.ids)
			c.mu.Unlock()
			list[i] = rec
		}
		if c.odd && recs > 0 {
			list = append(list, 1, "x", nil, []any{}, map[string]any{}, []any{1})
		}
		for _, p := range rt.paths {
			out = place(out, p, list)
		}
	}
	data, _ := json.Marshal(out)
	if os.Getenv("GOAIRBYTE_CORPUS_READ_ONLY") != "" {
		fmt.Printf("  -> %.300s\n", data)
	}
	return data
}

// bump gives a record its id (the connector's n-th): every key field the
// template holds as "1", and a suffix to every other string ("x"), so
// that no two records repeat a value a paginator may read.
func bump(rec map[string]any, id int) {
	for k, v := range rec {
		if s, ok := v.(string); ok && s == "1" {
			rec[k] = fmt.Sprint(id)
		}
		if s, ok := v.(string); ok && s == "x" {
			rec[k] = fmt.Sprintf("x%d", id)
		}
		if sub, ok := v.(map[string]any); ok {
			bump(sub, id)
		}
	}
}

func cloneJSON(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneJSON(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

// placeOne puts one value at path in body, a "*" making a list of one.
func placeOne(body any, path []string, v any) any {
	if len(path) == 0 {
		return v
	}
	if path[0] == "*" {
		return []any{placeOne(map[string]any{}, path[1:], v)}
	}
	m, ok := body.(map[string]any)
	if !ok {
		m = map[string]any{}
	}
	m[path[0]] = placeOne(m[path[0]], path[1:], v)
	return m
}

// place puts list at path in body: an empty path makes the body the list,
// a "*" a list with one element per record (or the list itself when last).
func place(body any, path []string, list []any) any {
	if len(path) == 0 {
		return list
	}
	if path[0] == "*" {
		if len(path) == 1 {
			return list
		}
		// Each element holds one record at the rest of the path.
		out := make([]any, len(list))
		for i, rec := range list {
			out[i] = placeOne(map[string]any{}, path[1:], rec)
		}
		return out
	}
	if body == nil {
		body = map[string]any{}
	}
	m, ok := body.(map[string]any)
	if !ok {
		return body // a list already: the first stream's path wins
	}
	m[path[0]] = place(m[path[0]], path[1:], list)
	return m
}
