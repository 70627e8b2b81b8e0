package declarative

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/internal/publicnet"
	"github.com/x/goairbyte/protocol"
)

// Error handlers decide what a response means (requesters/error_handlers
// in the CDK). The contract of an errorHandler:
//
//   - interpret classifies a response (or a transport error, resp nil) into
//     a resolution: SUCCESS, RETRY, RATE_LIMITED, IGNORE or FAIL, with the
//     failure type and the message a FAIL reports;
//   - backoff returns how long to wait before retry number attempt (1 for
//     the first retry), or ok=false to let the requester use its default
//     (the response's Retry-After, which the CDK ignores, else
//     1 s × 2^(attempt-1) as the CDK);
//   - maxRetries is how many retries a request gets (the CDK's default 5);
//   - handlers are built once and are safe for concurrent use.
type errorHandler interface {
	interpret(r *response, err error, v *vars) (resolution, error)
	backoff(r *response, attempt int, v *vars) (time.Duration, bool, error)
	maxRetries() int
}

// action is what to do with a response.
type action int

// The response actions of the CDK.
const (
	actSuccess action = iota
	actRetry
	actRateLimited
	actIgnore
	actFail
)

var actionNames = map[string]action{
	"SUCCESS": actSuccess, "RETRY": actRetry, "RATE_LIMITED": actRateLimited,
	"IGNORE": actIgnore, "FAIL": actFail,
}

func (a action) String() string {
	for k, v := range actionNames {
		if v == a {
			return k
		}
	}
	return "UNKNOWN"
}

// resolution is an error handler's verdict on a response.
type resolution struct {
	action      action
	failureType protocol.FailureType
	message     string
}

// defaultMapping is the CDK's DEFAULT_ERROR_MAPPING by status code.
var defaultMapping = map[int]resolution{
	400: {actFail, protocol.FailureSystem, "Bad request. Please check your request parameters."},
	401: {actFail, protocol.FailureConfig, "Unauthorized. Please ensure you are authenticated correctly."},
	403: {actFail, protocol.FailureConfig, "Forbidden. You don't have permission to access this resource."},
	404: {actFail, protocol.FailureSystem, "Not found. The requested resource was not found on the server."},
	405: {actFail, protocol.FailureSystem, "Method not allowed. Please check your request method."},
	408: {actRetry, protocol.FailureTransient, "Request timeout."},
	429: {actRateLimited, protocol.FailureTransient, "Too many requests."},
	500: {actRetry, protocol.FailureTransient, "Internal server error."},
	502: {actRetry, protocol.FailureTransient, "Bad gateway."},
	503: {actRetry, protocol.FailureTransient, "Service unavailable."},
	504: {actRetry, protocol.FailureTransient, "Gateway timeout."},
}

// transportErrorResolution is the CDK's mapping of a requests exception
// (connection error, timeout): retry as a transient error.
var transportErrorResolution = resolution{actRetry, protocol.FailureTransient,
	"An exception occurred when making the request. Exception: requests.exceptions.RequestException"}

// invalidSchemaResolution is the CDK's mapping of requests' InvalidSchema, a URL whose
// scheme no adapter sends (file://, gopher://): fail at once as a config error, where
// retrying it as a transport error took 30 seconds to fail the same way.
var invalidSchemaResolution = resolution{actFail, protocol.FailureConfig,
	"Invalid Protocol Schema: The endpoint that data is being requested from is using an invalid or insecure. Exception: requests.exceptions.InvalidSchema"}

// transportResolution is the CDK's mapping of the exception a request raised: net/http's
// "unsupported protocol scheme" is requests' InvalidSchema, the rest its RequestException.
// A private endpoint refused by a client of package publicnet (cloud mode,
// cmd/source-declarative-manifest) is the CDK's AirbyteTracedException, a
// config_error failing at once.
func transportResolution(err error) resolution {
	if err != nil && strings.Contains(err.Error(), "unsupported protocol scheme") {
		return invalidSchemaResolution
	}
	if errors.Is(err, publicnet.ErrPrivateEndpoint) {
		return privateNetworkResolution
	}
	return transportErrorResolution
}

// privateNetworkResolution is the CDK's refusal of a private endpoint in
// cloud mode, in its words.
var privateNetworkResolution = resolution{actFail, protocol.FailureConfig, privateNetworkMsg}

const privateNetworkMsg = "Invalid URL endpoint: The endpoint that data is being requested from belongs to a private network. Source connectors only support requesting data from public API endpoints."

// refreshErrorHandler is how the CDK 6.31.1 retries a token request
// (AbstractOauth2Authenticator._make_handled_request, under backoff.expo
// with max_time=300 and no max_tries): an answer 429 or 5xx is asked
// again, for up to five minutes (refreshRetryTime: waits of 1 s, 2 s ...
// 128 s; where backoff would cut the next to the 45 s left and ask once
// more, the engine stops, as for any request); a connection error or
// another error status ends the refresh at once, as the CDK re-raises it.
// The CDK's waits have backoff's full jitter; the engine's do not.
// The default handler it wraps words the verdicts. The engine gave a
// refresh a requester's five retries (31 s of waits), so a token endpoint
// down for a minute failed the read, and retried a refused connection.
type refreshErrorHandler struct{ errorHandler }

// refreshRetryTime is the CDK's max_time for a token request.
const refreshRetryTime = 5 * time.Minute

func (refreshErrorHandler) maxRetries() int { return 1000 } // the time bounds it

func (h refreshErrorHandler) interpret(r *response, err error, v *vars) (resolution, error) {
	res, ierr := h.errorHandler.interpret(r, err, v)
	if ierr != nil {
		return res, ierr
	}
	switch {
	case r == nil:
		res.action = actFail
	case r.status == 429 || r.status >= 500:
		if res.action != actRateLimited {
			res.action = actRetry
		}
	case res.action == actRetry || res.action == actRateLimited:
		res.action = actFail
	}
	return res, nil
}

// fallbackResolution is create_fallback_error_resolution: retry.
func fallbackResolution(r *response, err error) resolution {
	if r == nil {
		return resolution{actRetry, protocol.FailureSystem, fmt.Sprintf("An error occurred making the request: %v", err)}
	}
	return resolution{actRetry, protocol.FailureSystem, fmt.Sprintf("Response status code: %d. Unexpected error. Failed after retries.", r.status)}
}

// defaultErrorHandler is the DefaultErrorHandler component.
type defaultErrorHandler struct {
	filters  []*responseFilter
	backoffs []backoffStrategy
	maxRetry int
}

func (h *defaultErrorHandler) maxRetries() int { return h.maxRetry }

func (h *defaultErrorHandler) interpret(r *response, err error, v *vars) (resolution, error) {
	for _, f := range h.filters {
		res, ok, ferr := f.matches(r, err, v)
		if ferr != nil {
			return resolution{}, ferr
		}
		if ok {
			return res, nil
		}
	}
	if r != nil && r.ok() {
		return resolution{action: actSuccess}, nil
	}
	if r == nil {
		return transportResolution(err), nil
	}
	if res, ok := defaultMapping[r.status]; ok {
		return res, nil
	}
	return fallbackResolution(r, err), nil
}

func (h *defaultErrorHandler) backoff(r *response, attempt int, v *vars) (time.Duration, bool, error) {
	return firstBackoff(h.backoffs, r, attempt, v)
}

// firstBackoff asks the strategies in order; the first that answers wins.
func firstBackoff(strategies []backoffStrategy, r *response, attempt int, v *vars) (time.Duration, bool, error) {
	for _, b := range strategies {
		d, ok, err := b.backoff(r, attempt, v)
		if err != nil || ok {
			return d, ok, err
		}
	}
	return 0, false, nil
}

// compositeErrorHandler is the CompositeErrorHandler component: the first
// handler that says SUCCESS, RETRY or IGNORE wins, else the last verdict.
type compositeErrorHandler struct {
	handlers []errorHandler
	backoffs []backoffStrategy
}

func (h *compositeErrorHandler) maxRetries() int { return h.handlers[0].maxRetries() }

func (h *compositeErrorHandler) interpret(r *response, err error, v *vars) (resolution, error) {
	var last *resolution
	for _, eh := range h.handlers {
		res, ierr := eh.interpret(r, err, v)
		if ierr != nil {
			return resolution{}, ierr
		}
		switch res.action {
		case actSuccess, actRetry, actIgnore:
			return res, nil
		}
		last = &res
	}
	if last != nil {
		return *last, nil
	}
	return fallbackResolution(r, err), nil
}

// backoff follows the CDK, which flattens every child's strategies and
// uses the first that answers, whichever child matched.
func (h *compositeErrorHandler) backoff(r *response, attempt int, v *vars) (time.Duration, bool, error) {
	return firstBackoff(h.backoffs, r, attempt, v)
}

// responseFilter is the HttpResponseFilter component.
type responseFilter struct {
	action        action
	hasAction     bool
	failureType   protocol.FailureType
	httpCodes     map[int]bool
	predicate     *tmpl
	errorContains string
	errorMessage  *tmpl
}

func (f *responseFilter) matches(r *response, err error, v *vars) (resolution, bool, error) {
	var def *resolution
	if r != nil {
		if d, ok := defaultMapping[r.status]; ok {
			def = &d
		}
	} else if err != nil {
		d := transportResolution(err)
		def = &d
	}
	hit := false
	if r != nil {
		if f.httpCodes[r.status] {
			hit = true
		} else if f.predicate != nil {
			pv := v.with(func(c *vars) {
				c.set(interpolation.VarResponse, r.jsonOrEmpty())
				c.set(interpolation.VarHeaders, r.headersValue())
			})
			ok, perr := f.predicate.evalBool(pv)
			if perr != nil {
				return resolution{}, false, perr
			}
			hit = ok
		}
		if !hit && f.errorContains != "" {
			msg := r.errorMessage()
			hit = msg != "" && strings.Contains(msg, f.errorContains)
		}
	}
	if hit && f.hasAction {
		msg := ""
		if f.errorMessage != nil {
			mv := v.with(func(c *vars) {
				c.set(interpolation.VarResponse, r.jsonOrEmpty())
				c.set(interpolation.VarHeaders, r.headersValue())
			})
			val, merr := f.errorMessage.eval(mv)
			if merr != nil {
				return resolution{}, false, merr
			}
			if val != nil {
				msg = interpolation.Str(val)
			}
		}
		if msg == "" && def != nil {
			msg = def.message
		}
		ft := protocol.FailureSystem
		switch {
		case f.failureType != "" && f.action == actFail:
			ft = f.failureType
		case def != nil:
			ft = def.failureType
		}
		return resolution{action: f.action, failureType: ft, message: msg}, true, nil
	}
	return resolution{}, false, nil
}

// backoffStrategy is one of the backoff strategy components.
type backoffStrategy interface {
	backoff(r *response, attempt int, v *vars) (time.Duration, bool, error)
}

// constantBackoff is ConstantBackoffStrategy.
type constantBackoff struct{ seconds *tmpl }

func (b *constantBackoff) backoff(_ *response, _ int, v *vars) (time.Duration, bool, error) {
	f, err := evalFloat(b.seconds, v)
	if err != nil {
		return 0, false, err
	}
	return seconds(f), f != 0, nil
}

// exponentialBackoff is ExponentialBackoffStrategy: factor × 2^attempt.
type exponentialBackoff struct{ factor *tmpl }

func (b *exponentialBackoff) backoff(_ *response, attempt int, v *vars) (time.Duration, bool, error) {
	f, err := evalFloat(b.factor, v)
	if err != nil {
		return 0, false, err
	}
	d := f * float64(int64(1)<<min(attempt, 30))
	return seconds(d), d != 0, nil
}

// waitTimeFromHeader is WaitTimeFromHeaderBackoffStrategy.
type waitTimeFromHeader struct {
	header     *tmpl
	regex      *tmpl
	maxWaiting float64
}

func (b *waitTimeFromHeader) backoff(r *response, _ int, v *vars) (time.Duration, bool, error) {
	if r == nil {
		return 0, false, nil
	}
	f, ok, err := numericHeader(r, b.header, b.regex, v)
	if err != nil || !ok || f == 0 {
		return 0, false, err
	}
	if b.maxWaiting > 0 && f >= b.maxWaiting {
		return 0, false, &httpError{Message: "The rate limit is greater than max waiting time has been reached.",
			FailureType: protocol.FailureTransient, Method: r.method, URL: r.url, Status: r.status,
			Internal: fmt.Sprintf("Rate limit wait time %v is greater than max waiting time of %v seconds. Stopping the stream...", f, b.maxWaiting)}
	}
	return seconds(f), true, nil
}

// waitUntilTimeFromHeader is WaitUntilTimeFromHeaderBackoffStrategy: the
// header holds an epoch time to wait until.
type waitUntilTimeFromHeader struct {
	header  *tmpl
	regex   *tmpl
	minWait *tmpl
	now     func() time.Time
}

func (b *waitUntilTimeFromHeader) backoff(r *response, _ int, v *vars) (time.Duration, bool, error) {
	var minWait float64
	if b.minWait != nil {
		f, err := evalFloat(b.minWait, v)
		if err != nil {
			return 0, false, err
		}
		minWait = f
	}
	until, ok := 0.0, false
	if r != nil {
		var err error
		if until, ok, err = numericHeader(r, b.header, b.regex, v); err != nil {
			return 0, false, err
		}
	}
	if !ok || until == 0 {
		return seconds(minWait), minWait != 0, nil
	}
	now := float64(b.now().UnixNano()) / 1e9
	wait := until - now
	if minWait != 0 {
		return seconds(max(wait, minWait)), true, nil
	}
	if wait < 0 {
		return 0, false, nil
	}
	return seconds(wait), wait != 0, nil
}

// numericHeader reads a header as a number, through an optional regex
// (get_numeric_value_from_header).
func numericHeader(r *response, header, regex *tmpl, v *vars) (float64, bool, error) {
	name, err := header.evalStr(v)
	if err != nil {
		return 0, false, err
	}
	val := r.header.Get(name)
	if val == "" {
		return 0, false, nil
	}
	if regex != nil {
		expr, err := regex.evalStr(v)
		if err != nil {
			return 0, false, err
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return 0, false, fmt.Errorf("backoff strategy regex %q: %w", expr, err)
		}
		if loc := re.FindStringIndex(val); loc != nil && loc[0] == 0 {
			val = val[:loc[1]]
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
	if err != nil {
		return 0, false, nil
	}
	return f, true, nil
}

func evalFloat(t *tmpl, v *vars) (float64, error) {
	val, err := t.eval(v)
	if err != nil {
		return 0, err
	}
	switch x := val.(type) {
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		f, perr := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if perr != nil {
			return 0, fmt.Errorf("%q is not a number", x)
		}
		return f, nil
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("%s is not a number", interpolation.Repr(val))
}

// seconds converts a wait in seconds, saturating where the nanoseconds do
// not fit in a Duration: Go leaves that conversion undefined, and on amd64
// a Retry-After of 1e10 became the most negative Duration, no wait at all,
// and the request was sent again at once up to a thousand times.
func seconds(f float64) time.Duration {
	ns := f * float64(time.Second)
	switch {
	case math.IsNaN(ns):
		return 0
	case ns >= math.MaxInt64:
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(ns)
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
		return seconds(f), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
