package declarative

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/replaytest"
	"github.com/x/goairbyte/protocol"
)

// faultManifest is a one-stream manifest against https://api.example.com,
// with an API key in a query parameter (a secret of the spec) and the
// given paginator and error handler YAML.
func faultManifest(paginator, errorHandler, auth string) []byte {
	if auth == "" {
		auth = `{type: ApiKeyAuthenticator, api_token: "{{ config['api_key'] }}", inject_into: {type: RequestOption, inject_into: request_parameter, field_name: key}}`
	}
	return []byte(`
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
        url_base: https://api.example.com
        path: /items
        http_method: GET
        authenticator: ` + auth + `
` + indent(errorHandler, "        ") + `
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [data]}
` + indent(paginator, "      ") + `
spec:
  type: Spec
  connection_specification:
    type: object
    properties:
      api_key: {type: string, airbyte_secret: true}
      client_secret: {type: string, airbyte_secret: true}
`)
}

func indent(s, prefix string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, l := range strings.Split(strings.Trim(s, "\n"), "\n") {
		b.WriteString(prefix + l + "\n")
	}
	return b.String()
}

const faultSecret = "sk-very-secret-key"

var faultConfig = json.RawMessage(`{"api_key": "` + faultSecret + `", "client_secret": "cs-very-secret"}`)

// faultRun is one read against a fault-injecting handler.
type faultRun struct {
	messages []*protocol.Message
	err      error
	sleeps   []time.Duration
	logs     bytes.Buffer
}

func runFault(t *testing.T, text []byte, handler http.HandlerFunc, clientTimeout time.Duration, opts ...Option) *faultRun {
	t.Helper()
	srv := httptest.NewServer(handler)
	defer srv.Close()
	target := srv.URL
	run := &faultRun{}
	var mu sync.Mutex
	tr := &replaytest.Transport{Target: mustURL(t, target)}
	src, err := New(text, append([]Option{
		WithHTTPClient(&http.Client{Transport: tr, Timeout: clientTimeout}),
		WithClock(func() time.Time { return time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC) }),
		WithLogger(slog.New(slog.NewTextHandler(&run.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		withSleep(func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			run.sleeps = append(run.sleeps, d)
			mu.Unlock()
			return ctx.Err()
		})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := src.Discover(context.Background(), faultConfig)
	if err != nil {
		t.Fatal(err)
	}
	cc := &protocol.ConfiguredCatalog{}
	for _, s := range cat.Streams {
		cc.Streams = append(cc.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: protocol.SyncFullRefresh})
	}
	run.err = src.Read(context.Background(), faultConfig, cc, nil, func(m *protocol.Message) error {
		run.messages = append(run.messages, m)
		return nil
	})
	run.assertNoSecret(t)
	return run
}

// assertNoSecret checks that no secret reached a message, the error or a
// log line.
func (r *faultRun) assertNoSecret(t *testing.T) {
	t.Helper()
	var all bytes.Buffer
	for _, m := range r.messages {
		b, _ := json.Marshal(m)
		all.Write(b)
	}
	if r.err != nil {
		all.WriteString(r.err.Error())
	}
	all.Write(r.logs.Bytes())
	for _, s := range []string{faultSecret, "cs-very-secret", "tok-oauth-secret"} {
		if bytes.Contains(all.Bytes(), []byte(s)) {
			t.Errorf("secret %q leaked into messages, errors or logs", s)
		}
	}
}

func (r *faultRun) records() int {
	n := 0
	for _, m := range r.messages {
		if m.Type == protocol.TypeRecord {
			n++
		}
	}
	return n
}

func (r *faultRun) traceErrors() []*protocol.ErrorTrace { return traceErrors(r.messages) }

// traceErrors are the TRACE ERROR messages among msgs.
func traceErrors(msgs []*protocol.Message) []*protocol.ErrorTrace {
	var out []*protocol.ErrorTrace
	for _, m := range msgs {
		if m.Trace != nil && m.Trace.Error != nil {
			out = append(out, m.Trace.Error)
		}
	}
	return out
}

func (r *faultRun) status(want protocol.StreamStatus, reason string) bool {
	for _, m := range r.messages {
		if m.Trace != nil && m.Trace.StreamStatus != nil && m.Trace.StreamStatus.Status == want {
			if reason == "" || (len(m.Trace.StreamStatus.Reasons) > 0 && m.Trace.StreamStatus.Reasons[0].Type == reason) {
				return true
			}
		}
	}
	return false
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// counter answers with fn(n) for the n-th request (from 1).
func counter(fn func(n int, w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		fn(i, w, r)
	}
}

// requestCount is the highest request number the handlers of a counter
// saw, for handlers that may run at once: a stalled request's handler
// still waits when the retry's handler starts, and a plain variable
// written by both is a race.
type requestCount struct {
	mu sync.Mutex
	n  int
}

func (c *requestCount) note(n int) {
	c.mu.Lock()
	c.n = max(c.n, n)
	c.mu.Unlock()
}

func (c *requestCount) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func okPage(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"data": [{"id": 1}, {"id": 2}]}`)
}

func TestFault429RetryAfter(t *testing.T) {
	run := runFault(t, faultManifest("", "", ""), counter(func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		okPage(w)
	}), 5*time.Second)
	if run.err != nil || run.records() != 2 {
		t.Fatalf("err %v, %d records", run.err, run.records())
	}
	if len(run.sleeps) != 1 || run.sleeps[0] != 3*time.Second {
		t.Errorf("waits %v, want the Retry-After of 3s", run.sleeps)
	}
	if !run.status(protocol.StatusRunning, "RATE_LIMITED") {
		t.Error("no RUNNING status with reason RATE_LIMITED")
	}
}

func TestFault5xxThenSuccess(t *testing.T) {
	run := runFault(t, faultManifest("", "", ""), counter(func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= 2 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		okPage(w)
	}), 5*time.Second)
	if run.err != nil || run.records() != 2 {
		t.Fatalf("err %v, %d records", run.err, run.records())
	}
	// With no backoff strategy the CDK 6.31.1 raises DefaultBackoffException,
	// which http_client_default_backoff_handler retries after backoff.expo's
	// waits at its default factor of 1 (streams/http/rate_limiting.py): 1 s,
	// 2 s, 4 s. (5 is the factor of a declared ExponentialBackoffStrategy.)
	if len(run.sleeps) != 2 || run.sleeps[0] != time.Second || run.sleeps[1] != 2*time.Second {
		t.Errorf("waits %v, want the CDK's default exponential 1s, 2s", run.sleeps)
	}
}

func TestFaultIgnore(t *testing.T) {
	eh := `error_handler:
  type: DefaultErrorHandler
  response_filters:
    - {type: HttpResponseFilter, action: IGNORE, http_codes: [404]}`
	run := runFault(t, faultManifest("", eh, ""), func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	}, 5*time.Second)
	if run.err != nil || run.records() != 0 || !run.status(protocol.StatusComplete, "") {
		t.Fatalf("err %v, %d records, messages %d", run.err, run.records(), len(run.messages))
	}
}

func TestFaultFailWithManifestMessage(t *testing.T) {
	eh := `error_handler:
  type: DefaultErrorHandler
  response_filters:
    - type: HttpResponseFilter
      action: FAIL
      http_codes: [403]
      failure_type: config_error
      error_message: "Your plan does not include items: {{ response.detail }}"`
	run := runFault(t, faultManifest("", eh, ""), func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"detail": "upgrade needed"}`)
	}, 5*time.Second)
	var he *httpError
	if !errors.As(run.err, &he) || he.Message != "Your plan does not include items: upgrade needed" || he.FailureType != protocol.FailureConfig {
		t.Fatalf("err = %#v, want an *httpError with the manifest's message", run.err)
	}
	var re *readError
	if !errors.As(run.err, &re) {
		t.Errorf("err is not a *readError: %v", run.err)
	}
	traces := run.traceErrors()
	if len(traces) != 2 || traces[0].Message != he.Message || traces[0].FailureType != protocol.FailureConfig {
		t.Errorf("trace errors %+v", traces)
	}
	if !run.status(protocol.StatusIncomplete, "") {
		t.Error("no INCOMPLETE status")
	}
}

func TestFaultTimeout(t *testing.T) {
	eh := `error_handler: {type: DefaultErrorHandler, max_retries: 1}`
	run := runFault(t, faultManifest("", eh, ""), func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}, 150*time.Millisecond)
	var he *httpError
	if !errors.As(run.err, &he) || he.Status != 0 || he.Err == nil {
		t.Fatalf("err = %v, want an *httpError after the timeouts", run.err)
	}
	if len(run.sleeps) != 1 {
		t.Errorf("waits %v, want one retry", run.sleeps)
	}
}

func TestFaultMalformedJSON(t *testing.T) {
	run := runFault(t, faultManifest("", "", ""), func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [{"id": 1},`)
	}, 5*time.Second)
	var de *decodeError
	if !errors.As(run.err, &de) {
		t.Fatalf("err = %v, want a *decodeError", run.err)
	}
	if !strings.Contains(de.URL, "https://api.example.com/items?key=****") {
		t.Errorf("the error names %q, want the masked URL", de.URL)
	}
}

func TestFaultRepeatedPageToken(t *testing.T) {
	pg := `paginator:
  type: DefaultPaginator
  page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: cursor}
  pagination_strategy: {type: CursorPagination, cursor_value: "{{ response.next }}"}`
	run := runFault(t, faultManifest(pg, "", ""), func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [{"id": 1}], "next": "same"}`)
	}, 5*time.Second)
	var pe *paginationError
	if !errors.As(run.err, &pe) || pe.Token != "same" {
		t.Fatalf("err = %v, want a *paginationError", run.err)
	}
	if run.records() != 2 {
		t.Errorf("%d records, want the two pages read before the repeat", run.records())
	}
}

// TestFaultAlternatingPageTokens: tokens that come round (A, B, A, …) ask
// for pages already read; the CDK requests them forever.
func TestFaultAlternatingPageTokens(t *testing.T) {
	pg := `paginator:
  type: DefaultPaginator
  page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: cursor}
  pagination_strategy: {type: CursorPagination, cursor_value: "{{ response.next }}"}`
	var mu sync.Mutex
	requests := 0
	run := runFault(t, faultManifest(pg, "", ""), func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		n := requests
		mu.Unlock()
		if n > 1000 {
			// Well past any repeat: stop the loop with an error page.
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		next := map[string]string{"": "A", "A": "B", "B": "A"}[r.URL.Query().Get("cursor")]
		fmt.Fprintf(w, `{"data": [{"id": %d}], "next": %q}`, n, next)
	}, 5*time.Second)
	var pe *paginationError
	if !errors.As(run.err, &pe) || pe.Token != "A" {
		t.Fatalf("err = %v after %d requests, want a *paginationError for token A", run.err, requests)
	}
	if run.records() != 3 {
		t.Errorf("%d records, want the three pages read before the repeat", run.records())
	}
}

func TestFaultOAuthRefreshFails(t *testing.T) {
	auth := `{type: OAuthAuthenticator, token_refresh_endpoint: "https://api.example.com/oauth/token", grant_type: client_credentials, client_id: my-client, client_secret: "{{ config['client_secret'] }}"}`
	run := runFault(t, faultManifest("", "", auth), func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error": "invalid_client", "echo": "cs-very-secret"}`)
			return
		}
		okPage(w)
	}, 5*time.Second)
	var oe *oauthError
	if !errors.As(run.err, &oe) {
		t.Fatalf("err = %v, want an *oauthError", run.err)
	}
	if traces := run.traceErrors(); len(traces) == 0 || traces[0].FailureType != protocol.FailureConfig {
		t.Errorf("trace errors %+v, want a config_error", traces)
	}
}

// A token request is retried as the CDK 6.31.1's _make_handled_request
// is, under backoff.expo with max_time=300 and no max_tries: an answer 429
// or 5xx again and again for up to five minutes (waits of 1 s, 2 s ... 128
// s, before the next 256 s would pass them), a connection error or a 408
// not at all (nor any other error status: TestFaultOAuthRefreshFails). The engine gave up after a requester's five retries (31 s),
// and retried a refused connection and a 408 five times.
func TestFaultOAuthRefreshRetries(t *testing.T) {
	auth := `{type: OAuthAuthenticator, token_refresh_endpoint: "https://api.example.com/oauth/token", grant_type: client_credentials, client_id: my-client, client_secret: "{{ config['client_secret'] }}"}`
	for _, c := range []struct {
		name     string
		answer   func(w http.ResponseWriter)
		requests int
	}{
		{"503", func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }, 9},
		{"429", func(w http.ResponseWriter) { w.WriteHeader(http.StatusTooManyRequests) }, 9},
		{"408", func(w http.ResponseWriter) { w.WriteHeader(http.StatusRequestTimeout) }, 1},
		{"connection closed", func(w http.ResponseWriter) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, 1},
	} {
		var mu sync.Mutex
		tokenRequests := 0
		run := runFault(t, faultManifest("", "", auth), func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/oauth/token" {
				mu.Lock()
				tokenRequests++
				mu.Unlock()
				c.answer(w)
				return
			}
			okPage(w)
		}, 5*time.Second)
		var oe *oauthError
		if !errors.As(run.err, &oe) {
			t.Errorf("%s: err = %v, want an *oauthError", c.name, run.err)
		}
		var want []time.Duration
		for i := range c.requests - 1 {
			want = append(want, time.Duration(1<<i)*time.Second)
		}
		if tokenRequests != c.requests || !slices.Equal(run.sleeps, want) {
			t.Errorf("%s: %d token requests, waits %v; want %d, %v", c.name, tokenRequests, run.sleeps, c.requests, want)
		}
	}
}

// A Retry-After too long to wait is a reason to give up, however large:
// seconds beyond a Duration's range once converted to the most negative
// Duration, and the request went out again at once, a thousand times.
func TestFaultRetryAfterBeyondDuration(t *testing.T) {
	for _, ra := range []string{"1e10", "1e300", "Inf"} {
		requests := 0
		run := runFault(t, faultManifest("", "", ""), counter(func(n int, w http.ResponseWriter, r *http.Request) {
			requests = n
			w.Header().Set("Retry-After", ra)
			w.WriteHeader(http.StatusTooManyRequests)
		}), 5*time.Second)
		var he *httpError
		if !errors.As(run.err, &he) || he.Status != http.StatusTooManyRequests {
			t.Errorf("Retry-After %s: err = %v, want an *httpError for the 429", ra, run.err)
		}
		if requests != 1 || len(run.sleeps) != 0 {
			t.Errorf("Retry-After %s: %d requests, %d waits; want one request and no wait", ra, requests, len(run.sleeps))
		}
	}
}

// The retry time of a request stays bounded when the clock is stopped
// (WithClock, GOAIRBYTE_NOW): the waits count, not only the clock. Each
// wait of five minutes fitted the ten minutes on its own, and a rate-limited
// request was retried a thousand times, 83 hours.
func TestFaultRetryTimeWithStoppedClock(t *testing.T) {
	requests := 0
	run := runFault(t, faultManifest("", "", ""), counter(func(n int, w http.ResponseWriter, r *http.Request) {
		requests = n
		w.Header().Set("Retry-After", "300")
		w.WriteHeader(http.StatusTooManyRequests)
	}), 5*time.Second)
	var he *httpError
	if !errors.As(run.err, &he) || he.Status != http.StatusTooManyRequests {
		t.Fatalf("err = %v, want an *httpError for the 429", run.err)
	}
	var total time.Duration
	for _, d := range run.sleeps {
		total += d
	}
	if requests != 3 || total != maxRetryTime {
		t.Errorf("%d requests, waited %v in all; want 3 requests and the 10 minutes of two waits", requests, total)
	}
}

// An OAuth token's expires_in counts as the CDK's now + timedelta does, for
// any lifetime Python can hold: 1e10 seconds ("never") wrapped around a
// Duration to a token already expired, fetched again twice per request, and
// -1e10 to one never refreshed.
func TestFaultOAuthExpiresInBeyondDuration(t *testing.T) {
	pg := `paginator:
  type: DefaultPaginator
  page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}
  pagination_strategy: {type: PageIncrement, page_size: 2}`
	auth := `{type: OAuthAuthenticator, token_refresh_endpoint: "https://api.example.com/oauth/token", grant_type: client_credentials, client_id: my-client, client_secret: "{{ config['client_secret'] }}"}`
	for _, c := range []struct {
		expiresIn string
		tokens    int    // token requests for the three pages
		err       string // in the read's error, "" for none
	}{
		{`3600`, 1, ""},
		{`1e10`, 1, ""},
		{`" 3600 "`, 1, ""}, // float() strips the blanks
		{`-1e10`, 8, ""},    // expired: asked for twice per request
		{`"NaN"`, 1, "Invalid expires_in value: NaN"},
		{`1e300`, 1, "outside the years 1 to 9999"},
	} {
		tokens := 0
		run := runFault(t, faultManifest(pg, "", auth), func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/oauth/token" {
				tokens++
				fmt.Fprintf(w, `{"access_token": "tok-oauth-secret", "expires_in": %s}`, c.expiresIn)
				return
			}
			if r.URL.Query().Get("page") == "3" {
				fmt.Fprint(w, `{"data": []}`)
				return
			}
			okPage(w)
		}, 5*time.Second)
		if c.err == "" && run.err != nil || c.err != "" && (run.err == nil || !strings.Contains(run.err.Error(), c.err)) {
			t.Errorf("expires_in %s: err = %v, want %q", c.expiresIn, run.err, c.err)
		}
		if tokens != c.tokens {
			t.Errorf("expires_in %s: %d token requests, want %d", c.expiresIn, tokens, c.tokens)
		}
	}
}

// A rate-limited request gets the error handler's retries, like any other:
// the CDK's rate_limit_default_backoff_handler takes max_tries (its
// test_backoff_strategy_endless counts 6 calls). A 429 whose wait is nothing
// (Retry-After 0, a date in the past, a negative header value) was sent
// again at once a thousand times.
func TestFaultRateLimitedRetriesBounded(t *testing.T) {
	waitHeader := `error_handler:
  type: DefaultErrorHandler
  backoff_strategies:
    - {type: WaitTimeFromHeader, header: X-Wait}`
	for _, c := range []struct{ name, handler, header, value string }{
		{"Retry-After 0", "", "Retry-After", "0"},
		{"Retry-After in the past", "", "Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"},
		{"negative WaitTimeFromHeader", waitHeader, "X-Wait", "-5"},
	} {
		requests := 0
		run := runFault(t, faultManifest("", c.handler, ""), counter(func(n int, w http.ResponseWriter, r *http.Request) {
			requests = n
			w.Header().Set(c.header, c.value)
			w.WriteHeader(http.StatusTooManyRequests)
		}), 5*time.Second)
		var he *httpError
		if !errors.As(run.err, &he) || he.Status != http.StatusTooManyRequests {
			t.Errorf("%s: err = %v, want an *httpError for the 429", c.name, run.err)
		}
		if requests != 1+defaultMaxRetries {
			t.Errorf("%s: %d requests, want %d", c.name, requests, 1+defaultMaxRetries)
		}
	}
}

// withMaxBody lowers the most the engine reads of one response, so that a
// test need not send 512 MiB.
func withMaxBody(n int64) Option {
	return func(o *options) error { o.maxBody = n; return nil }
}

// A body beyond the bound is an error that says so, at once: it was cut at
// the bound and parsed ("invalid JSON: unexpected end of input at offset
// 536870912"), and a Content-Length beyond it was read up to the bound and
// retried five times. A gzip bomb is measured after decompression.
func TestFaultBodyTooLarge(t *testing.T) {
	const limit = 1 << 20
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	fmt.Fprint(zw, `{"data": [{"id": 1}], "pad": "`)
	zw.Write(bytes.Repeat([]byte("a"), 2*limit))
	fmt.Fprint(zw, `"}`)
	zw.Close()
	for _, c := range []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
	}{
		{"gzip bomb", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		}},
		{"endless chunked body", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"data": [{"id": 1}], "pad": [`)
			for r.Context().Err() == nil {
				if _, err := fmt.Fprint(w, strings.Repeat("1,", 4096)); err != nil {
					return
				}
			}
		}},
		{"Content-Length beyond the bound", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(limit+1))
			fmt.Fprint(w, `{"data": [`)
		}},
	} {
		var requests requestCount // a retry would overlap the endless body
		run := runFault(t, faultManifest("", "", ""), counter(func(n int, w http.ResponseWriter, r *http.Request) {
			requests.note(n)
			c.handler(w, r)
		}), 5*time.Second, withMaxBody(limit))
		if run.err == nil || !strings.Contains(run.err.Error(), "larger than 1 MiB") {
			t.Errorf("%s: err = %v, want one naming the bound", c.name, run.err)
		}
		if requests.get() != 1 || run.records() != 0 {
			t.Errorf("%s: %d requests, %d records; want one request and no record", c.name, requests.get(), run.records())
		}
	}
}

// withStallTimeout lowers how long a response may send nothing.
func withStallTimeout(d time.Duration) Option {
	return func(o *options) error { o.stallTimeout = d; return nil }
}

// A server that goes silent, before its headers or in the middle of its
// body, is given up on after the stall timeout and retried like a broken
// connection (requests' ReadTimeout), so that the read ends. Before, the
// read waited on the server for as long as it stayed silent: only the
// caller's context could end it. The handlers give up after 2 s, so that
// the test ends without the fix too.
func TestFaultServerStalls(t *testing.T) {
	for _, c := range []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
	}{
		{"before its headers", func(w http.ResponseWriter, r *http.Request) {}},
		{"in its body", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"data": [{"id": 1},`)
			w.(http.Flusher).Flush()
		}},
	} {
		var requests requestCount
		run := runFault(t, faultManifest("", "", ""), counter(func(n int, w http.ResponseWriter, r *http.Request) {
			requests.note(n)
			c.handler(w, r)
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}), 0, withStallTimeout(100*time.Millisecond))
		if run.err == nil || !strings.Contains(run.err.Error(), "sent nothing for 100ms") {
			t.Errorf("%s: err = %v, want one saying the server went silent", c.name, run.err)
		}
		if requests.get() != 1+defaultMaxRetries || run.records() != 0 {
			t.Errorf("%s: %d requests, %d records; want %d requests and no record", c.name, requests.get(), run.records(), 1+defaultMaxRetries)
		}
	}
}

// A secret the API echoes across the point where an error's quote of the
// response body is cut must not leave its first characters behind: the
// body is masked whole, then cut.
func TestFaultBodyCutAfterMasking(t *testing.T) {
	prefix := `{"pad":"`
	body := prefix + strings.Repeat("x", 1989-len(prefix)) + faultSecret + `"}`
	run := runFault(t, faultManifest("", "", ""), func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, body)
	}, 5*time.Second)
	if run.err == nil {
		t.Fatal("the read of a 400 succeeded")
	}
	var all bytes.Buffer
	for _, m := range run.messages {
		b, _ := json.Marshal(m)
		all.Write(b)
	}
	all.WriteString(run.err.Error())
	all.Write(run.logs.Bytes())
	if part := faultSecret[:11]; bytes.Contains(all.Bytes(), []byte(part)) {
		t.Errorf("the first characters of the secret (%q) are in a message, the error or a log", part)
	}
	if !bytes.Contains(all.Bytes(), []byte(`xxxx`)) {
		t.Error("the response body is not quoted at all")
	}
}

// The CDK 6.31.1 never reads Retry-After: with no backoff strategy, or
// with strategies that all answer nothing, HttpClient._handle_error_resolution
// raises DefaultBackoffException or RateLimitBackoffException, whose
// handlers wait backoff.expo (1 s, 2 s, 4 s ...). The engine honours the
// header there instead (doc.go, "Where the engine differs from the CDK");
// a strategy that answers still wins over it, as in the CDK.
func TestRetryAfterWhereNoStrategyAnswers(t *testing.T) {
	const missingHeader = `error_handler:
  type: DefaultErrorHandler
  backoff_strategies:
    - {type: WaitTimeFromHeader, header: X-Wait}`
	const constant = `error_handler:
  type: DefaultErrorHandler
  backoff_strategies:
    - {type: ConstantBackoffStrategy, backoff_time_in_seconds: 2}`
	for _, c := range []struct {
		name, handler string
		status        int
		retryAfter    string
		want          time.Duration
	}{
		{"no strategy, 503", "", http.StatusServiceUnavailable, "7", 7 * time.Second},
		{"no strategy, 429", "", http.StatusTooManyRequests, "7", 7 * time.Second},
		{"no strategy, no header", "", http.StatusServiceUnavailable, "", time.Second},
		{"strategy without an answer", missingHeader, http.StatusServiceUnavailable, "7", 7 * time.Second},
		// The strategy's 2 s and the second the CDK's sleep_on_ratelimit adds.
		{"strategy with an answer", constant, http.StatusServiceUnavailable, "7", 3 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := runFault(t, faultManifest("", c.handler, ""), counter(func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					if c.retryAfter != "" {
						w.Header().Set("Retry-After", c.retryAfter)
					}
					w.WriteHeader(c.status)
					return
				}
				okPage(w)
			}), 5*time.Second)
			if run.err != nil || run.records() != 2 {
				t.Fatalf("err %v, %d records", run.err, run.records())
			}
			if len(run.sleeps) != 1 || run.sleeps[0] != c.want {
				t.Errorf("waits %v, want [%v]", run.sleeps, c.want)
			}
		})
	}
}

// A backoff strategy's answer is waited a second longer: the CDK 6.31.1's
// user_defined_backoff_handler sleeps retry_after + 1 ("to cover any
// fractions of second"; streams/http/rate_limiting.py). The engine waited
// the answer alone, so an API's Retry-After: 1 was asked again a second
// early, where its window had not turned. Each retry is logged at INFO, as
// the CDK's handlers log "Retrying. Sleeping for …": a nightly read that
// an API slowed down said nothing of it.
func TestFaultStrategyWaitOneSecondMore(t *testing.T) {
	const handler = `error_handler:
  type: DefaultErrorHandler
  backoff_strategies:
    - {type: WaitTimeFromHeader, header: Retry-After}
    - {type: ConstantBackoffStrategy, backoff_time_in_seconds: 0.5}`
	run := runFault(t, faultManifest("", handler, ""), counter(func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.WriteHeader(http.StatusInternalServerError)
		default:
			okPage(w)
		}
	}), 5*time.Second)
	if run.err != nil || run.records() != 2 {
		t.Fatalf("err %v, %d records", run.err, run.records())
	}
	if want := []time.Duration{2 * time.Second, 1500 * time.Millisecond}; !slices.Equal(run.sleeps, want) {
		t.Errorf("waits %v, want %v", run.sleeps, want)
	}
	logs := run.logs.String()
	for _, want := range []string{
		`level=INFO msg="Retrying 'GET' request to 'https://api.example.com/items?key=****' after status code 429 (attempt 1). Sleeping for 2s"`,
		`level=INFO msg="Retrying 'GET' request to 'https://api.example.com/items?key=****' after status code 500 (attempt 2). Sleeping for 1.5s"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
}

// TestFaultURLWithoutScheme follows requests' PreparedRequest.prepare_url,
// which the CDK 6.31.1 calls in HttpClient._create_prepared_request, before
// and outside its retry loop: a URL without a scheme (a config's "domain"
// given where the manifest wants a URL) raises MissingSchema at once. The
// engine retried it as a transport error, 5 times over 10 minutes of
// backoff, before failing.
func TestFaultURLWithoutScheme(t *testing.T) {
	text := []byte(strings.Replace(string(faultManifest("", "", "")), "url_base: https://api.example.com", "url_base: api.example.com", 1))
	run := runFault(t, text, func(w http.ResponseWriter, r *http.Request) { okPage(w) }, 5*time.Second)
	if run.err == nil || !strings.Contains(run.err.Error(), "Invalid URL 'api.example.com/items': No scheme supplied. Perhaps you meant https://api.example.com/items?") {
		t.Errorf("err %v, want MissingSchema's message", run.err)
	}
	if len(run.sleeps) != 0 {
		t.Errorf("waits %v before failing, want none", run.sleeps)
	}
}

// A backoff strategy's wait is waited in full, however long, while the
// request has been retried for less than the ten minutes of max_time: the
// CDK's user_defined_backoff_handler (backoff.on_exception with max_time)
// gives up only when the time elapsed before an attempt reaches max_time,
// and sleeps the strategy's wait in its on_backoff handler, never cut
// short. source-zoho-campaign waits 30 minutes (ConstantBackoffStrategy
// 1800) on an error: the engine failed its stream at the first 429
// instead of waiting and asking again. A 429 every time: two requests,
// one wait; with 250 s waits, four requests (0, 250, 500 s < 600 s).
func TestFaultStrategyWaitLongerThanMaxTime(t *testing.T) {
	for _, c := range []struct {
		wait     int
		requests int
	}{{1800, 2}, {250, 4}} {
		handler := fmt.Sprintf(`error_handler:
  type: DefaultErrorHandler
  backoff_strategies:
    - {type: ConstantBackoffStrategy, backoff_time_in_seconds: %d}`, c.wait)
		requests := 0
		run := runFault(t, faultManifest("", handler, ""), counter(func(n int, w http.ResponseWriter, r *http.Request) {
			requests = n
			w.WriteHeader(http.StatusTooManyRequests)
		}), 5*time.Second)
		var he *httpError
		if !errors.As(run.err, &he) || he.Status != http.StatusTooManyRequests {
			t.Errorf("wait %d: err = %v, want an *httpError for the 429", c.wait, run.err)
		}
		if requests != c.requests {
			t.Errorf("wait %d: %d requests (waits %v), want %d", c.wait, requests, run.sleeps, c.requests)
		}
		for _, d := range run.sleeps {
			if d != time.Duration(c.wait+1)*time.Second {
				t.Errorf("wait %d: waited %v, want the wait and the CDK's second more", c.wait, d)
			}
		}
	}
	// Once the wait is over, the answer is read.
	run := runFault(t, faultManifest("", `error_handler:
  type: DefaultErrorHandler
  backoff_strategies:
    - {type: ConstantBackoffStrategy, backoff_time_in_seconds: 1800}`, ""), counter(func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		okPage(w)
	}), 5*time.Second)
	if run.err != nil || run.records() != 2 {
		t.Errorf("a 429 then records, after a 30-minute wait: err %v, %d records", run.err, run.records())
	}
}

// TestFaultSuccessOnErrorStatus: a filter whose action is SUCCESS makes an
// error status end the pages without records and without failing the read,
// as the CDK's HttpClient and SimpleRetriever do (a requests.Response of an
// error status is false: `elif response: response.raise_for_status()` does
// not raise, `if not response:` ends the pages). PyAirbyte's
// examples/run_declarative_manifest_source.py pages Rick and Morty's API
// until its 404 "There is nothing here"; source-openaq takes a 500 so.
func TestFaultSuccessOnErrorStatus(t *testing.T) {
	paginator := `paginator:
  type: DefaultPaginator
  page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}
  pagination_strategy: {type: PageIncrement, start_from_page: 1}`
	eh := `error_handler:
  type: CompositeErrorHandler
  error_handlers:
    - type: DefaultErrorHandler
      response_filters:
        - {type: HttpResponseFilter, action: SUCCESS, error_message_contains: There is nothing here}
        - {type: HttpResponseFilter, action: SUCCESS, http_codes: [500]}`
	for _, c := range []struct {
		name, lastStatus, lastBody string
		last                       int
	}{
		{"404 nothing here", "404", `{"error": "There is nothing here"}`, 3},
		{"500 with records", "500", `{"data": [{"id": 9}]}`, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			var pages []string
			var mu sync.Mutex
			run := runFault(t, faultManifest(paginator, eh, ""), func(w http.ResponseWriter, r *http.Request) {
				page := r.URL.Query().Get("page")
				mu.Lock()
				pages = append(pages, page)
				mu.Unlock()
				n, _ := strconv.Atoi(page)
				if n < c.last {
					okPage(w)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				code, _ := strconv.Atoi(c.lastStatus)
				w.WriteHeader(code)
				fmt.Fprint(w, c.lastBody)
			}, 5*time.Second)
			if want := 2 * (c.last - 1); run.err != nil || run.records() != want || !run.status(protocol.StatusComplete, "") {
				t.Fatalf("err %v, %d records (want %d), pages asked %q", run.err, run.records(), want, pages)
			}
			if want := []string{"", "2", "3"}[:c.last]; !slices.Equal(pages, want) {
				t.Errorf("pages asked %q, want %q", pages, want)
			}
		})
	}
}
