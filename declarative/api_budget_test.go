package declarative

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/protocol"
)

// budgetManifest is a manifest of CDK 7.x whose one stream pages through
// /items one record a page, with the given api_budget.
func budgetManifest(budget string) string {
	return `
version: 7.10.1
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
streams:
  - type: DeclarativeStream
    name: items
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: /items}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}
        pagination_strategy: {type: PageIncrement, start_from_page: 1, page_size: 1}
spec: {type: Spec, connection_specification: {type: object}}
api_budget:
` + indent(budget, "  ") + "\n"
}

// budgetPages serves pages 1 to 4 of one record each, then an empty page;
// header, when set, is added to the responses of the pages it names.
func budgetPages(header func(page string) http.Header) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		page := r.URL.Query().Get("page")
		if header != nil {
			for k, vs := range header(page) {
				w.Header()[k] = vs
			}
		}
		if page == "5" {
			fmt.Fprint(w, `{"data": []}`)
			return
		}
		fmt.Fprintf(w, `{"data": [{"id": %q}]}`, page)
	}
}

// budgetRun reads the manifest's stream on a clock that stands still but
// for the engine's sleeps, which move it on (by at least a millisecond, as
// the real clock moves while the CDK sleeps for nothing and tries again),
// and returns what the engine slept, in order, and when each page was
// asked for ("page@ms" since the start).
func budgetRun(t *testing.T, text string, handler http.HandlerFunc, opts ...Option) ([]time.Duration, []string) {
	t.Helper()
	var mu sync.Mutex
	now := featureNow
	var sleeps []time.Duration
	var asked []string
	api := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, fmt.Sprintf("%s@%d", r.URL.Query().Get("page"), now.Sub(featureNow).Milliseconds()))
		mu.Unlock()
		handler(w, r)
	}
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	sleep := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		sleeps = append(sleeps, d)
		now = now.Add(max(d, time.Millisecond))
		return ctx.Err()
	}
	src, err := New([]byte(text), append(append(loopback(t, api), WithClock(clock), withSleep(sleep)), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	var records int
	err = src.Read(context.Background(), json.RawMessage(`{}`), allStreams(src), nil, func(m *protocol.Message) error {
		if m.Record != nil {
			records++
		}
		return nil
	})
	if err != nil || records != 4 {
		t.Fatalf("Read: %v, %d records, want 4", err, records)
	}
	return sleeps, asked
}

// durations is a list of durations as text, to compare.
func durations(ds []time.Duration) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out
}

// TestAPIBudgetMovingWindow pins a MovingWindowCallRatePolicy
// (call_rate.py over pyrate-limiter 3.1.1's InMemoryBucket): a call
// counts in each rate's window from its time to its time plus the
// interval, both ends included; a request with no call left sleeps until
// the oldest call of the full window leaves it (bucket.waiting), then
// tries again. Five requests at the same instant against 2 a second and 3
// a minute: two go, the third waits 1 s (then 0 s, as the window still
// holds the first calls at the instant they leave it), the fourth 58.999 s
// (then 0 s), the fifth goes.
func TestAPIBudgetMovingWindow(t *testing.T) {
	const budget = `type: HTTPAPIBudget
policies:
  - type: MovingWindowCallRatePolicy
    rates: [{limit: 2, interval: PT1S}, {limit: "{{ 1 + 2 }}", interval: PT1M}]
    matchers: [{method: GET, url_path_pattern: "^/it"}]`
	var logs strings.Builder
	sleeps, asked := budgetRun(t, budgetManifest(budget), budgetPages(nil), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	sameStrings(t, "sleeps", durations(sleeps), []string{"1s", "0s", "58.999s", "0s"})
	// Each wait of a second or more is logged, as each retry's is.
	if n := strings.Count(logs.String(), "api_budget has no call left"); n != 2 || !strings.Contains(logs.String(), "wait=58.999s") {
		t.Errorf("%d waits logged, want 2 (1s and 58.999s):\n%s", n, logs.String())
	}
	sameStrings(t, "pages", asked, []string{"@0", "2@0", "3@1001", "4@60001", "5@60001"})
	// A policy matches when one of its matchers does; the first policy
	// matching a request takes it (an UnlimitedCallRatePolicy never
	// waits); a request no policy matches is not counted.
	for _, policies := range []string{
		`[{type: MovingWindowCallRatePolicy, rates: [{limit: 1, interval: PT1H}], matchers: [{url_base: "https://api.example.com/", url_path_pattern: "^/other"}, {method: POST}]}]`,
		`[{type: MovingWindowCallRatePolicy, rates: [{limit: 1, interval: PT1H}], matchers: [{params: {page: "9"}}, {headers: {X-Key: "1"}}]}]`,
		`[{type: UnlimitedCallRatePolicy, matchers: [{url_base: "https://api.example.com", url_path_pattern: "items$"}]}, {type: MovingWindowCallRatePolicy, rates: [{limit: 1, interval: PT1H}], matchers: []}]`,
	} {
		sleeps, _ := budgetRun(t, budgetManifest("type: HTTPAPIBudget\npolicies: "+policies), budgetPages(nil))
		sameStrings(t, policies, durations(sleeps), nil)
	}
}

// TestAPIBudgetOAuthRefresh: an OAuth refresh is not counted (the CDK
// sends it with requests.request, outside its requesters' session): five
// pages fit a budget of five calls an hour.
func TestAPIBudgetOAuthRefresh(t *testing.T) {
	text := strings.Replace(budgetManifest(`{type: HTTPAPIBudget, policies: [{type: MovingWindowCallRatePolicy, rates: [{limit: 5, interval: PT1H}], matchers: []}]}`),
		"path: /items}", `path: /items, authenticator: {type: OAuthAuthenticator, client_id: c, client_secret: s, grant_type: client_credentials, token_refresh_endpoint: "https://api.example.com/token"}}`, 1)
	pages := budgetPages(nil)
	tokens := 0
	sleeps, _ := budgetRun(t, text, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			tokens++
			fmt.Fprint(w, `{"access_token": "fresh", "expires_in": 3600}`)
			return
		}
		pages(w, r)
	})
	if tokens != 1 {
		t.Errorf("%d token requests, want 1", tokens)
	}
	sameStrings(t, "sleeps", durations(sleeps), nil)
}

// TestAPIBudgetHeaders pins HttpAPIBudget.update_from_response: a
// response's ratelimit-remaining header (or a status of
// status_codes_for_ratelimit_hit, as none left) and ratelimit-reset header
// (epoch seconds) update the matching policy. A fixed window takes the
// lower count of calls left and the new reset time, and opens its next
// window one period after the reset; a moving window told that none is
// left, without a reset time, counts one call more.
func TestAPIBudgetHeaders(t *testing.T) {
	reset := fmt.Sprint(featureNow.Add(30 * time.Second).Unix())
	fixed := `type: HTTPAPIBudget
ratelimit_remaining_header: X-Left
ratelimit_reset_header: X-Reset
policies:
  - {type: FixedWindowCallRatePolicy, period: PT1M, call_limit: 10, matchers: [{url_path_pattern: /items}]}`
	firstPage := func(h http.Header) func(string) http.Header {
		return func(page string) http.Header {
			if page == "" { // the first page has no page parameter
				return h
			}
			return nil
		}
	}
	sleeps, asked := budgetRun(t, budgetManifest(fixed), budgetPages(firstPage(http.Header{"X-Left": {"0"}, "X-Reset": {reset}})))
	sameStrings(t, "fixed window, none left until the reset", durations(sleeps), []string{"30s", "0s"})
	sameStrings(t, "fixed window, none left until the reset: pages", asked, []string{"@0", "2@30001", "3@30001", "4@30001", "5@30001"})
	// More calls left than the policy counts: no change.
	sleeps, _ = budgetRun(t, budgetManifest(fixed), budgetPages(firstPage(http.Header{"X-Left": {"50"}})))
	sameStrings(t, "fixed window, more left", durations(sleeps), nil)
	moving := `type: HTTPAPIBudget
policies: [{type: MovingWindowCallRatePolicy, rates: [{limit: 3, interval: PT1S}], matchers: []}]`
	_, asked = budgetRun(t, budgetManifest(moving), budgetPages(nil))
	sameStrings(t, "moving window, no header: pages", asked, []string{"@0", "2@0", "3@0", "4@1001", "5@1001"})
	_, asked = budgetRun(t, budgetManifest(moving), budgetPages(firstPage(http.Header{"Ratelimit-Remaining": {"0"}})))
	sameStrings(t, "moving window, none left: pages", asked, []string{"@0", "2@0", "3@1001", "4@1001", "5@1001"})
	_, asked = budgetRun(t, budgetManifest(strings.Replace(moving, "matchers: []", "matchers: []}]\nstatus_codes_for_ratelimit_hit: [200]#", 1)), budgetPages(nil))
	sameStrings(t, "moving window, a status of none left: pages", asked, []string{"@0", "2@0", "3@1001", "4@1001", "5@1001"})
}

// TestAPIBudgetRefusals: what CDK 7.28.2's factory and policies refuse,
// before or at the request.
func TestAPIBudgetRefusals(t *testing.T) {
	for _, c := range []struct{ budget, want string }{
		{`{type: HTTPAPIBudget, policies: [{type: MovingWindowCallRatePolicy, rates: [{limit: 1, interval: PT1S}], matchers: [{weight: 2}]}]}`,
			"Weight can not exceed the lowest configured rate limit (1)"},
		{`{type: HTTPAPIBudget, policies: [{type: FixedWindowCallRatePolicy, period: PT1S, call_limit: 1, matchers: [{weight: "{{ 1 + 1 }}"}]}]}`,
			"Weight can not exceed the call limit"},
		{`{type: HTTPAPIBudget, policies: [{type: UnlimitedCallRatePolicy, matchers: [{weight: 0}]}]}`,
			"weight must be >= 1, got 0"},
	} {
		src, err := New([]byte(budgetManifest(c.budget)), loopback(t, budgetPages(nil))...)
		if err != nil {
			t.Fatal(err)
		}
		err = src.Read(context.Background(), json.RawMessage(`{}`), allStreams(src), nil, func(*protocol.Message) error { return nil })
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "An error occurred making the request") {
			t.Errorf("%s: Read: %v, want %s, unretried", c.budget, err, c.want)
		}
	}
}
