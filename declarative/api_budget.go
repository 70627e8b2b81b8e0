package declarative

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/declarative/internal/manifest"
)

// The manifest's api_budget, an HTTPAPIBudget, as CDK 7.28.2 runs it
// (airbyte_cdk/sources/streams/call_rate.py; built by
// model_to_component_factory.py, create_http_api_budget and the create_*
// methods of its parts; its moving windows are pyrate-limiter 3.1.1's
// InMemoryBucket and Limiter). A fresh budget serves each check, discover
// and read (ConcurrentDeclarativeSource.streams calls set_api_budget), its
// limits evaluated over the transformed config. Before each request a
// requester sends (every attempt, parents and logins included; not a
// response served from the parent cache, whose CachedLimiterSession answers
// first, nor an OAuth refresh), the first policy that matches the request
// takes a call, sleeping while it has none (LimiterMixin.send: block=True,
// no timeout); after each response it reads the remaining-calls and reset
// headers, and status_codes_for_ratelimit_hit as no call left.

// budgetSpec is the api_budget as built once: the parts a call fills with
// the config (Rate.limit, a matcher's weight) are templates.
type budgetSpec struct {
	policies        []policySpec
	resetHeader     string
	remainingHeader string
	hitCodes        []int
}

type policySpec struct {
	kind      string // "MovingWindowCallRatePolicy", "FixedWindowCallRatePolicy", "UnlimitedCallRatePolicy"
	matchers  []matcherSpec
	rates     []rateSpec    // moving window
	period    time.Duration // fixed window
	callLimit int           // fixed window
}

type rateSpec struct {
	limit    *tmpl
	interval time.Duration
}

type matcherSpec struct {
	m      requestMatcher
	weight *tmpl // nil: 1
}

// apiBudget builds the manifest's api_budget (nil without one).
func (b *builder) apiBudget(n *manifest.Map) (*budgetSpec, error) {
	if n == nil {
		return nil, nil
	}
	bs := &budgetSpec{resetHeader: "ratelimit-reset", remainingHeader: "ratelimit-remaining", hitCodes: []int{429}}
	if h := n.String("ratelimit_reset_header"); h != "" {
		bs.resetHeader = h
	}
	if h := n.String("ratelimit_remaining_header"); h != "" {
		bs.remainingHeader = h
	}
	if codes := n.List("status_codes_for_ratelimit_hit"); len(codes) > 0 {
		bs.hitCodes = nil
		for _, c := range codes {
			i, _ := toInt(c)
			bs.hitCodes = append(bs.hitCodes, int(i))
		}
	}
	for _, e := range n.List("policies") {
		pn := e.(*manifest.Map)
		p := policySpec{kind: pn.String("type")}
		for _, me := range pn.List("matchers") {
			m, err := b.requestMatcher(me.(*manifest.Map))
			if err != nil {
				return nil, err
			}
			p.matchers = append(p.matchers, m)
		}
		switch p.kind {
		case "MovingWindowCallRatePolicy":
			for _, re := range pn.List("rates") {
				rn := re.(*manifest.Map)
				lim, _ := rn.Get("limit")
				t, err := b.compile(interpolation.Str(fromManifest(lim)), interpolation.NewDict(0))
				if err != nil {
					return nil, err
				}
				d, err := isoInterval(rn.String("interval"))
				if err != nil {
					return nil, err
				}
				p.rates = append(p.rates, rateSpec{limit: t, interval: d})
			}
			if len(p.rates) == 0 {
				return nil, errors.New("The list of rates can not be empty")
			}
		case "FixedWindowCallRatePolicy":
			d, err := isoInterval(pn.String("period"))
			if err != nil {
				return nil, err
			}
			lim, _ := toInt(mustGet(pn, "call_limit"))
			p.period, p.callLimit = d, int(lim)
		}
		bs.policies = append(bs.policies, p)
	}
	return bs, nil
}

// isoInterval is parse_duration of an interval as a timedelta (a duration
// in years or months is not one, and fails where the CDK fails).
func isoInterval(s string) (time.Duration, error) {
	d, err := interpolation.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d.Years != 0 || d.Months != 0 {
		return 0, fmt.Errorf("the interval %q is in years or months, which timedelta cannot hold", s)
	}
	return time.Duration(d.Micros) * time.Microsecond, nil
}

// requestMatcher builds an HttpRequestRegexMatcher.
func (b *builder) requestMatcher(n *manifest.Map) (matcherSpec, error) {
	m := requestMatcher{method: strings.ToUpper(n.String("method")), urlBase: strings.TrimRight(n.String("url_base"), "/")}
	if p := n.String("url_path_pattern"); p != "" {
		re, err := regexp.Compile(p)
		if err != nil {
			return matcherSpec{}, fmt.Errorf("url_path_pattern %q: %w", p, err)
		}
		m.pathPattern = re
	}
	str := func(v any) string {
		if s, ok := v.(string); ok {
			return s
		}
		return interpolation.Str(fromManifest(v))
	}
	if ps := n.Map("params"); ps != nil {
		m.params = map[string]string{}
		for _, k := range ps.Keys() {
			m.params[k] = str(mustGet(ps, k))
		}
	}
	if hs := n.Map("headers"); hs != nil {
		m.headers = map[string]string{}
		for _, k := range hs.Keys() {
			m.headers[strings.ToLower(k)] = str(mustGet(hs, k))
		}
	}
	ms := matcherSpec{m: m}
	if w, ok := n.Get("weight"); ok && w != nil {
		t, err := b.compile(str(w), interpolation.NewDict(0))
		if err != nil {
			return matcherSpec{}, err
		}
		ms.weight = t
	}
	return ms, nil
}

// requestMatcher is an HttpRequestRegexMatcher: each criterion set must
// hold.
type requestMatcher struct {
	method      string
	urlBase     string
	pathPattern *regexp.Regexp
	params      map[string]string
	headers     map[string]string
	weight      int // 0: not set
}

func (m *requestMatcher) matches(req *outRequest) bool {
	if m.method != "" && req.method != m.method {
		return false
	}
	scheme, authority, path, query, _ := splitURI(req.url)
	if m.urlBase != "" && scheme+"://"+authority != m.urlBase {
		return false
	}
	if m.pathPattern != nil && !m.pathPattern.MatchString(strings.TrimRight(path, "/")) {
		return false
	}
	if len(m.params) > 0 {
		got := parseQSL(query)
		for k, v := range m.params {
			if g, ok := got[k]; !ok || g != v {
				return false
			}
		}
	}
	if len(m.headers) > 0 {
		got := map[string]string{}
		for _, h := range req.headers {
			got[strings.ToLower(h.key)] = interpolation.Str(h.val)
		}
		for k, v := range m.headers {
			if g, ok := got[k]; !ok || g != v {
				return false
			}
		}
	}
	return true
}

// parseQSL is dict(urllib.parse.parse_qsl(query)): pairs split on "&",
// those without a value dropped, the last of a name kept.
func parseQSL(query string) map[string]string {
	out := map[string]string{}
	for _, pair := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if v == "" {
			continue
		}
		uk, err1 := url.QueryUnescape(k)
		uv, err2 := url.QueryUnescape(v)
		if err1 != nil {
			uk = strings.ReplaceAll(k, "+", " ")
		}
		if err2 != nil {
			uv = strings.ReplaceAll(v, "+", " ")
		}
		out[uk] = uv
	}
	return out
}

// budget is the api_budget of one call.
type budget struct {
	spec     *budgetSpec
	policies []*ratePolicy
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
	log      *slog.Logger
}

// newBudget fills the spec with the config (create_rate's int(limit),
// create_http_request_matcher's weight).
func (s *Source) newBudget(rc *readContext) (*budget, error) {
	spec := s.budget
	if spec == nil {
		return nil, nil
	}
	bg := &budget{spec: spec, now: s.opts.now, sleep: s.opts.sleep, log: s.opts.logger}
	v := rc.vars()
	now := bg.now()
	for _, ps := range spec.policies {
		p := &ratePolicy{kind: ps.kind}
		for _, ms := range ps.matchers {
			m := ms.m
			if ms.weight != nil {
				w, err := evalInt(ms.weight, v)
				if err != nil {
					return nil, err
				}
				if w < 1 {
					return nil, fmt.Errorf("weight must be >= 1, got %d", w)
				}
				m.weight = w
			}
			p.matchers = append(p.matchers, m)
		}
		switch ps.kind {
		case "MovingWindowCallRatePolicy":
			for _, r := range ps.rates {
				lim, err := evalInt(r.limit, v)
				if err != nil {
					return nil, err
				}
				p.rates = append(p.rates, bucketRate{limit: lim, interval: r.interval.Milliseconds()})
			}
			// InMemoryBucket sorts its rates by interval.
			sort.SliceStable(p.rates, func(i, j int) bool { return p.rates[i].interval < p.rates[j].interval })
			p.nextLeak = now.UnixMilli()
		case "FixedWindowCallRatePolicy":
			// "Set the initial reset timestamp to 10 days from now."
			p.nextReset = now.Add(10 * 24 * time.Hour)
			p.period, p.callLimit = ps.period, ps.callLimit
		}
		bg.policies = append(bg.policies, p)
	}
	return bg, nil
}

// evalInt is int() of a template's value, as create_rate takes a limit.
func evalInt(t *tmpl, v *vars) (int, error) {
	val, err := t.eval(v)
	if err != nil {
		return 0, err
	}
	i, ok := pyInt(val)
	if !ok {
		return 0, fmt.Errorf("invalid literal for int() with base 10: %s", interpolation.Repr(interpolation.Str(val)))
	}
	return int(i), nil
}

// maxAcquireAttempts is APIBudget's maximum_attempts_to_acquire: range(1,
// 100000) tries 99,999 times before it raises the last CallRateLimitHit.
const maxAcquireAttempts = 99999

// policyFor is get_matching_policy: the first policy matching the request
// (one without matchers matches all).
func (bg *budget) policyFor(req *outRequest) *ratePolicy {
	for _, p := range bg.policies {
		if p.matches(req) {
			return p
		}
	}
	return nil
}

// acquire is APIBudget.acquire_call with block=True and no timeout: it
// takes a call from the matching policy, sleeping the time the policy
// says until it has one.
func (bg *budget) acquire(ctx context.Context, req *outRequest) error {
	if bg == nil {
		return nil
	}
	p := bg.policyFor(req)
	if p == nil {
		return nil
	}
	var last error
	for range maxAcquireAttempts {
		wait, err := p.tryAcquire(req, p.weight(req), bg.now())
		if err != nil {
			return err
		}
		if wait < 0 {
			return nil
		}
		last = &callRateLimitHit{wait: wait}
		if wait >= time.Second {
			// A budget may wait long (a fixed window with no rate-limit
			// headers, until its first reset ten days on): say so, as
			// each retry's wait is said, rather than go silent.
			bg.log.Info("the manifest's api_budget has no call left: waiting", "policy", p.kind, "wait", wait.Round(time.Millisecond))
		}
		if err := bg.sleep(ctx, max(wait, 0)); err != nil {
			return err
		}
	}
	return last
}

// update is HttpAPIBudget.update_from_response.
func (bg *budget) update(req *outRequest, status int, header http.Header) error {
	if bg == nil {
		return nil
	}
	p := bg.policyFor(req)
	if p == nil {
		return nil
	}
	var available *int
	var reset *time.Time
	if h := header.Get(bg.spec.remainingHeader); h != "" {
		n, err := headerInt(h)
		if err != nil {
			return err
		}
		available = &n
	} else {
		for _, c := range bg.spec.hitCodes {
			if c == status {
				zero := 0
				available = &zero
				break
			}
		}
	}
	if h := header.Get(bg.spec.resetHeader); h != "" {
		n, err := headerInt(h)
		if err != nil {
			return err
		}
		t := time.Unix(int64(n), 0)
		reset = &t
	}
	p.update(available, reset, bg.now())
	return nil
}

// headerInt is Python's int() of a header's value.
func headerInt(s string) (int, error) {
	i, ok := pyInt(s)
	if !ok {
		return 0, fmt.Errorf("invalid literal for int() with base 10: %s", interpolation.Repr(s))
	}
	return int(i), nil
}

// callRateLimitHit is the CDK's CallRateLimitHit, raised once the
// attempts to acquire a call are exhausted.
type callRateLimitHit struct{ wait time.Duration }

func (e *callRateLimitHit) Error() string {
	return fmt.Sprintf("call rate limit hit: no call available after %d attempts (next in %s)", maxAcquireAttempts, e.wait)
}

// ratePolicy is one call-rate policy of a call's budget.
type ratePolicy struct {
	kind     string
	matchers []requestMatcher

	mu sync.Mutex
	// MovingWindowCallRatePolicy: an InMemoryBucket.
	rates    []bucketRate // by interval
	items    []int64      // timestamps (ms) of the calls taken, one per unit of weight
	failing  *bucketRate
	nextLeak int64
	// FixedWindowCallRatePolicy.
	nextReset time.Time
	period    time.Duration
	callLimit int
	calls     int
}

type bucketRate struct {
	limit    int
	interval int64 // ms
}

func (p *ratePolicy) matches(req *outRequest) bool {
	if len(p.matchers) == 0 {
		return true
	}
	for i := range p.matchers {
		if p.matchers[i].matches(req) {
			return true
		}
	}
	return false
}

// weight is get_weight: the weight of the first matcher that matches, 1
// when it has none.
func (p *ratePolicy) weight(req *outRequest) int {
	for i := range p.matchers {
		if p.matchers[i].matches(req) {
			return max(p.matchers[i].weight, 1)
		}
	}
	return 1
}

// tryAcquire takes weight calls at now. A negative wait means they were
// taken; else wait is the CallRateLimitHit's time_to_wait. An error is the
// policy's ValueError.
func (p *ratePolicy) tryAcquire(req *outRequest, weight int, now time.Time) (time.Duration, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.kind {
	case "UnlimitedCallRatePolicy":
		return -1, nil
	case "FixedWindowCallRatePolicy":
		if weight > p.callLimit {
			return 0, errors.New("Weight can not exceed the call limit")
		}
		p.updateWindow(now)
		if p.calls+weight > p.callLimit {
			return p.nextReset.Sub(now), nil
		}
		p.calls += weight
		return -1, nil
	}
	lowest := p.rates[0].limit
	for _, r := range p.rates {
		lowest = min(lowest, r.limit)
	}
	if weight > lowest {
		return 0, fmt.Errorf("Weight can not exceed the lowest configured rate limit (%d)", lowest)
	}
	ts := now.UnixMilli()
	p.leak(ts)
	if p.put(ts, weight) {
		return -1, nil
	}
	// The CDK wraps a new item (the clock read again) to ask the bucket
	// how long to wait.
	return time.Duration(p.waiting(ts, weight)) * time.Millisecond, nil
}

// updateWindow is FixedWindowCallRatePolicy._update_current_window: past
// the reset time, the next window starts one period after it.
func (p *ratePolicy) updateWindow(now time.Time) {
	if now.After(p.nextReset) {
		p.nextReset = p.nextReset.Add(p.period)
		p.calls = 0
	}
}

// update is the policy's update(available_calls, call_reset_ts).
func (p *ratePolicy) update(available *int, reset *time.Time, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.kind {
	case "FixedWindowCallRatePolicy":
		// Only a decrease of the calls left counts, and any other reset
		// time.
		p.updateWindow(now)
		if available != nil && p.callLimit-p.calls > *available {
			p.calls = p.callLimit - *available
		}
		if reset != nil && !reset.Equal(p.nextReset) {
			p.nextReset = *reset
		}
	case "MovingWindowCallRatePolicy":
		// No call left and no reset time: one call is put in the bucket
		// when it holds fewer than the first rate's limit (the CDK puts
		// the comparison's True, a weight of 1).
		if available != nil && reset == nil && *available == 0 {
			ts := now.UnixMilli()
			p.leak(ts)
			if len(p.items) < p.rates[0].limit {
				p.put(ts, 1)
			}
		}
	}
}

// put is InMemoryBucket.put: each rate counts the items at or after
// timestamp - interval.
func (p *ratePolicy) put(ts int64, weight int) bool {
	for i := range p.rates {
		r := &p.rates[i]
		space := r.limit
		if idx := binarySearch(p.items, ts-r.interval); idx >= 0 {
			space = r.limit - (len(p.items) - idx)
		}
		if space < weight {
			p.failing = r
			return false
		}
	}
	p.failing = nil
	for range weight {
		p.items = append(p.items, ts)
	}
	return true
}

// waiting is AbstractBucket.waiting for an item of weight at ts.
func (p *ratePolicy) waiting(ts int64, weight int) int64 {
	if p.failing == nil {
		return 0
	}
	if weight > p.failing.limit {
		return -1
	}
	idx := p.failing.limit - weight
	if len(p.items) == 0 || idx >= len(p.items) {
		return 0 // peek finds no item: the bucket is ready
	}
	bound := p.items[len(p.items)-1-idx]
	return bound - (ts - p.failing.interval)
}

// leak is the leak task pyrate-limiter runs every two largest intervals
// from the bucket's creation, run here when its time has come: the items
// older than the largest interval are dropped.
func (p *ratePolicy) leak(now int64) {
	maxInterval := p.rates[len(p.rates)-1].interval
	for p.nextLeak <= now {
		lower := p.nextLeak - maxInterval
		switch {
		case len(p.items) == 0:
		case lower > p.items[len(p.items)-1]:
			p.items = p.items[:0]
		case lower >= p.items[0]:
			p.items = p.items[binarySearch(p.items, lower):]
		}
		p.nextLeak += max(2*maxInterval, 1)
	}
}

// binarySearch is pyrate-limiter 3.1.1's utils.binary_search: the index of
// the first item whose timestamp is at or after value, found as that
// recursion finds it, or -1 when every item is older.
func binarySearch(items []int64, value int64) int {
	if len(items) == 0 {
		return 0
	}
	if value == items[0] {
		return 0
	}
	if value > items[len(items)-1] {
		return -1
	}
	pivot := len(items) / 2
	left := items[(pivot-1+len(items))%len(items)] // items[pivot - 1], -1 the last
	right := items[pivot]
	if left >= value {
		return binarySearch(items[:pivot], value)
	}
	if right < value {
		return pivot + binarySearch(items[pivot:], value)
	}
	return pivot
}

// budgetError is an exception of the budget (a policy's ValueError, a
// header int() cannot read, the last CallRateLimitHit): the request fails
// with it, unretried.
type budgetError struct{ err error }

func (e *budgetError) Error() string { return e.err.Error() }
func (e *budgetError) Unwrap() error { return e.err }

// budgetFailure wraps a budget's error, leaving the context's as it is.
func budgetFailure(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &budgetError{err: err}
}
