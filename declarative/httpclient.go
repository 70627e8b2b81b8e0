package declarative

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/internal/publicnet"
	"github.com/x/goairbyte/protocol"
)

// maxResponseBody bounds how much of one response the engine reads, after
// any Content-Encoding is undone (a gzip bomb is measured expanded). An
// AsyncRetriever's download is exempt: it goes to a file (downloadSpool).
const maxResponseBody = 512 << 20

// defaultStallTimeout is how long a response may send nothing, before its
// headers or between two reads of its body, before the request is given up
// on and retried like a broken connection. The CDK sets no timeout, so a
// silent server holds its read for ever; long enough for an API that takes
// minutes to build a report.
const defaultStallTimeout = 10 * time.Minute

// errStalled ends a request whose server went silent (see
// defaultStallTimeout).
var errStalled = errors.New("server went silent")

// errBodyTooLarge is a response beyond the bound. It fails the request at
// once: a retry would be as large, and a body cut at the bound would be
// parsed as something the API did not send.
var errBodyTooLarge = errors.New("response too large")

// defaultMaxRetries is the CDK's default number of retries of a request.
const defaultMaxRetries = 5

// defaultBackoffFactor is the factor, in seconds, of the exponential
// backoff used when no strategy of the manifest answers and the response
// has no Retry-After header: the CDK's http_client_default_backoff_handler
// and rate_limit_default_backoff_handler use backoff.expo at its default
// factor, 1 (1 s, 2 s, 4 s, ...). A declared ExponentialBackoffStrategy's
// default factor is 5 (exponentialBackoff).
const defaultBackoffFactor = 1.0

// maxRetryTime bounds the time spent retrying one request (the CDK's
// default max_time, 10 minutes).
const maxRetryTime = 10 * time.Minute

// outRequest is a request ready to send, encoded as the CDK encodes it.
type outRequest struct {
	method  string
	url     string
	headers []entry // header name → string value, in order
	body    []byte
	ctype   string
	// spool, when set, takes the body of a response whose status is
	// below 400 instead of its being read into memory (an AsyncRetriever's
	// CSV download, downloadSpool); the response's body is then empty.
	spool *downloadSpool
}

// response is a received response with its body read.
type response struct {
	method    string
	url       string
	maskedURL string
	status    int
	header    http.Header
	body      []byte

	decoded    bool
	json       value
	jsonErr    error
	headersVal *dict
}

func (r *response) ok() bool { return r.status < 400 }

// decode parses the body as JSON once.
func (r *response) decode() (value, error) {
	if !r.decoded {
		r.decoded = true
		r.json, r.jsonErr = decodeJSON(r.body)
	}
	return r.json, r.jsonErr
}

// jsonOrEmpty is the body as JSON, or an empty dict when it is not JSON
// (the CDK's _safe_response_json).
func (r *response) jsonOrEmpty() value {
	v, err := r.decode()
	if err != nil {
		return interpolation.NewDict(0)
	}
	return v
}

// headersValue is the response headers as a dict (names as received).
func (r *response) headersValue() value {
	if r.headersVal == nil {
		d := interpolation.NewDict(len(r.header))
		for k, vs := range r.header {
			d.Set(k, strings.Join(vs, ", "))
		}
		r.headersVal = d
	}
	return r.headersVal
}

// errorMessage extracts an error message from a JSON body the way the
// CDK's JsonErrorMessageParser does, or returns the body text.
func (r *response) errorMessage() string {
	v, err := r.decode()
	if err != nil {
		return string(r.body)
	}
	s, _ := errorFromJSON(v)
	return s
}

func errorFromJSON(v value) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case []value:
		var parts []string
		for _, e := range v {
			if s, ok := errorFromJSON(e); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", "), true
	case *dict:
		for _, k := range []string{"message", "messages", "error", "errors", "failures", "failure", "detail", "err", "error_message", "msg", "reason", "status_message"} {
			if e, ok := v.Get(k); ok && interpolation.Truthy(e) {
				return errorFromJSON(e)
			}
		}
	}
	return "", false
}

// httpError is a request the error handler failed, or one that could not
// be completed after its retries. Its texts are masked: no secret of the
// config appears in them.
type httpError struct {
	// Method and URL are the request's (URL masked).
	Method, URL string
	// Status is the last response's status code, 0 when there was none.
	Status int
	// Message is what the CDK reports to the user: the manifest's
	// error_message when its filter set one, else the default for the status.
	Message string
	// FailureType is the failure type the error handler chose.
	FailureType protocol.FailureType
	// Internal is the detailed message (request, status, response body).
	Internal string
	// Err is the transport error, if the request never got a response.
	Err error
	// body is the last response's body.
	body []byte
}

// Error returns the detailed message.
func (e *httpError) Error() string {
	if e.Internal != "" {
		return e.Internal
	}
	return e.Message
}

// Unwrap returns the transport error, if any.
func (e *httpError) Unwrap() error { return e.Err }

// sender sends requests with the error handler's retries and backoffs. One
// sender serves one requester; it is safe for concurrent use.
type sender struct {
	client  *http.Client
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	handler errorHandler
	// auth is the requester's authenticator, whose headers are set again
	// before each retry (nil: none).
	auth   authenticator
	stream string
	// useCache serves repeated GETs from the call's response cache, as the
	// CDK's requests-cache session does for parent streams.
	useCache bool
	// outsideBudget is set for an OAuth refresh, which the CDK sends with
	// requests.request rather than its requesters' session, so that the
	// api_budget does not count it.
	outsideBudget bool
	// sizeHint is the size of the last body read, to size the next.
	sizeHint atomic.Int64
	// maxBody is the most read of one response (maxResponseBody).
	maxBody int64
	// stallTimeout is how long a response may send nothing
	// (defaultStallTimeout).
	stallTimeout time.Duration
	// retryTime bounds the time spent retrying one request (0:
	// maxRetryTime).
	retryTime time.Duration
}

// sender makes the sender of a requester or an authenticator, with the
// source's client, clock and bounds.
func (b *builder) sender(handler errorHandler) *sender {
	o := &b.src.opts
	return &sender{client: o.client, now: o.now, sleep: o.sleep, handler: handler, maxBody: o.maxBody, stallTimeout: o.stallTimeout}
}

// send sends req, retrying as the error handler says. It returns the
// response (nil for an IGNOREd one is not possible: an ignored response is
// returned with ignored=true) or an *httpError.
func (s *sender) send(ctx context.Context, rc *readContext, req *outRequest, v *vars) (*response, bool, error) {
	if s.useCache && req.method == "GET" {
		resp, release := rc.cachedOrClaim(ctx, req)
		if resp != nil {
			// A fresh copy: records are decoded and transformed in place.
			return &response{method: resp.method, url: resp.url, maskedURL: resp.maskedURL, status: resp.status, header: resp.header, body: resp.body}, false, nil
		}
		var result *response
		defer func() { release(result) }()
		resp, ignored, err := s.sendUncached(ctx, rc, req, v)
		if err == nil && !ignored && resp.status == 200 {
			result = resp
		}
		return resp, ignored, err
	}
	return s.sendUncached(ctx, rc, req, v)
}

func (s *sender) sendUncached(ctx context.Context, rc *readContext, req *outRequest, v *vars) (*response, bool, error) {
	if err := missingSchema(req.url); err != nil {
		return nil, false, errString(rc.mask.text(err.Error()))
	}
	started := s.now()
	// waited is the time slept so far: the clock may be stopped
	// (WithClock, GOAIRBYTE_NOW), and the retry time must stay bounded.
	var waited time.Duration
	retryTime := s.retryTime
	if retryTime == 0 {
		retryTime = maxRetryTime
	}
	for attempt := 1; ; attempt++ {
		// The time spent before this attempt, as backoff.on_exception
		// measures it for its max_time.
		before := max(s.now().Sub(started), waited)
		resp, terr := s.do(ctx, rc, req, v)
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		if be := (*budgetError)(nil); errors.As(terr, &be) {
			// Raised by the CDK's session, outside what HttpClient
			// handles: the request fails.
			return nil, false, be
		}
		if errors.Is(terr, errBodyTooLarge) {
			return nil, false, s.failure(rc.mask, req, nil, terr, resolution{action: actFail, failureType: protocol.FailureSystem})
		}
		res, err := s.handler.interpret(resp, terr, v)
		if err != nil {
			return nil, false, err
		}
		switch res.action {
		case actSuccess:
			// A filter's SUCCESS on an error status is no failure, as in
			// the CDK's HttpClient, whose `elif response:
			// response.raise_for_status()` is false for such a response;
			// the retriever ends the pages there with no records.
			if resp != nil {
				return resp, false, nil
			}
			return nil, false, s.failure(rc.mask, req, resp, terr, res)
		case actIgnore:
			rc.logf("ignoring response for '%s' request to '%s' with response code '%d'", req.method, req.url, statusOf(resp))
			return resp, true, nil
		case actFail:
			return nil, false, s.failure(rc.mask, req, resp, terr, res)
		}
		// RETRY or RATE_LIMITED.
		if res.action == actRateLimited && s.stream != "" {
			if err := rc.rateLimited(ctx, s.stream); err != nil {
				return nil, false, err
			}
		}
		// A rate-limited request gets the same number of retries: the
		// CDK's rate_limit_default_backoff_handler takes max_tries too. The
		// thousand bounds a manifest's max_retries.
		if attempt > min(s.handler.maxRetries(), 1000) {
			return nil, false, s.giveUp(rc.mask, req, resp, terr, res, attempt-1)
		}
		wait, ok, berr := s.handler.backoff(resp, attempt, v)
		if berr != nil {
			return nil, false, berr
		}
		fromStrategy := ok
		if fromStrategy {
			// A strategy's wait: the CDK's user_defined_backoff_handler
			// gives up once the time before an attempt reaches max_time,
			// and sleeps the wait in full, however long (a manifest's
			// 30-minute ConstantBackoffStrategy is waited), and a second
			// more: its sleep_on_ratelimit sleeps retry_after + 1 "to cover
			// any fractions of second" (a Retry-After of 1 waited 1 s, and
			// the retry came back 429 where the window had not yet turned).
			if before >= retryTime {
				return nil, false, s.giveUp(rc.mask, req, resp, terr, res, attempt-1)
			}
			wait += time.Second
		} else {
			// No strategy answered: the CDK waits backoff.expo and never
			// reads Retry-After; the engine honours it (doc.go).
			if resp != nil {
				wait, ok = retryAfter(resp.header, s.now())
			}
			if !ok {
				wait = seconds(defaultBackoffFactor * float64(int64(1)<<min(attempt-1, 20)))
			}
		}
		if !fromStrategy && wait > retryTime-max(s.now().Sub(started), waited) {
			return nil, false, s.giveUp(rc.mask, req, resp, terr, res, attempt-1)
		}
		waited += max(wait, 0)
		rc.logRetry(req, resp, terr, attempt, wait)
		if err := s.sleep(ctx, wait); err != nil {
			return nil, false, err
		}
		if s.auth != nil {
			hs, err := s.auth.retryHeaders(ctx, rc, v)
			if err != nil {
				return nil, false, err
			}
			req = req.withHeaders(hs)
		}
	}
}

// withHeaders returns a copy of r with headers set, replacing those of the
// same name in any case (requests' CaseInsensitiveDict.update).
func (r *outRequest) withHeaders(hs []entry) *outRequest {
	if len(hs) == 0 {
		return r
	}
	c := *r
	c.headers = append([]entry(nil), r.headers...)
next:
	for _, h := range hs {
		for i := range c.headers {
			if strings.EqualFold(c.headers[i].key, h.key) {
				c.headers[i].val = h.val
				continue next
			}
		}
		c.headers = append(c.headers, h)
	}
	return &c
}

func statusOf(r *response) int {
	if r == nil {
		return 0
	}
	return r.status
}

func (s *sender) failure(mask *masker, req *outRequest, resp *response, terr error, res resolution) error {
	e := &httpError{Method: req.method, URL: mask.text(req.url), Message: mask.text(res.message), FailureType: res.failureType, Err: terr}
	if resp != nil {
		e.Status, e.body = resp.status, resp.body
		e.Internal = mask.text(fmt.Sprintf("'%s' request to '%s' failed with status code '%d' and error message: '%s'. ",
			req.method, req.url, resp.status, resp.errorMessage())) + quoteBody(mask, resp.body)
	} else {
		e.Internal = mask.text(fmt.Sprintf("'%s' request to '%s' failed with exception: '%v'", req.method, req.url, terr))
	}
	if e.Message == "" {
		e.Message = e.Internal
	}
	if e.FailureType == "" {
		e.FailureType = protocol.FailureSystem
	}
	return e
}

func (s *sender) giveUp(mask *masker, req *outRequest, resp *response, terr error, res resolution, retries int) error {
	e := &httpError{Method: req.method, URL: mask.text(req.url), FailureType: res.failureType, Err: terr}
	if e.FailureType == "" {
		e.FailureType = protocol.FailureTransient
	}
	if resp != nil {
		e.Status, e.body = resp.status, resp.body
		e.Message = mask.text(fmt.Sprintf("'%s' request to '%s' failed after %d retries with status code %d: %s", req.method, req.url, retries, resp.status, res.message))
		e.Internal = e.Message + ". " + quoteBody(mask, resp.body)
	} else {
		e.Message = mask.text(fmt.Sprintf("'%s' request to '%s' failed after %d retries: %v", req.method, req.url, retries, terr))
	}
	return e
}

// quotedBodyBytes is how much of a response body an HTTP error quotes.
const quotedBodyBytes = 2000

// quoteBody quotes the start of a response body for an error, as the CDK's
// "Response (body): '…'." (which quotes all of it). The body is masked
// whole before it is cut, so that a secret the API echoes across the cut
// leaves none of its characters behind; the cut falls between characters.
func quoteBody(mask *masker, body []byte) string {
	s := mask.text(string(body))
	if len(s) > quotedBodyBytes {
		cut := quotedBodyBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return "Response (body): '" + s + "'."
}

// do sends one attempt.
func (s *sender) do(ctx context.Context, rc *readContext, req *outRequest, v *vars) (*response, error) {
	// The api_budget's call, before the stall timer runs.
	bg := rc.budget
	if s.outsideBudget {
		bg = nil
	}
	if err := bg.acquire(ctx, req); err != nil {
		return nil, budgetFailure(err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	silence := time.AfterFunc(s.stallTimeout, func() { cancel(errStalled) })
	defer silence.Stop()
	hreq, err := buildHTTPRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	rc.logRequest(req)
	hresp, err := s.client.Do(hreq)
	if err != nil {
		return nil, s.transportError(ctx, rc, err)
	}
	defer hresp.Body.Close()
	hresp.Body = &heardReader{ReadCloser: hresp.Body, silence: silence, after: s.stallTimeout}
	if req.spool != nil && hresp.StatusCode < 400 {
		if err := req.spool.fill(hresp.Body); err != nil {
			return nil, s.transportError(ctx, rc, err)
		}
		if err := bg.update(req, hresp.StatusCode, hresp.Header); err != nil {
			return nil, budgetFailure(err)
		}
		return &response{method: req.method, url: req.url, maskedURL: rc.mask.text(req.url), status: hresp.StatusCode, header: hresp.Header}, nil
	}
	body, err := readBody(hresp, &s.sizeHint, s.maxBody)
	if errors.Is(err, errBodyTooLarge) {
		return nil, fmt.Errorf("%w: status %d with a body larger than %d MiB, the most the engine reads of one response", err, hresp.StatusCode, s.maxBody>>20)
	}
	if err != nil {
		return nil, s.transportError(ctx, rc, err)
	}
	if err := bg.update(req, hresp.StatusCode, hresp.Header); err != nil {
		return nil, budgetFailure(err)
	}
	return &response{method: req.method, url: req.url, maskedURL: rc.mask.text(req.url), status: hresp.StatusCode, header: hresp.Header, body: body}, nil
}

// transportError is the masked error of a request that got no whole
// response, saying so when it was given up on because the server went
// silent.
func (s *sender) transportError(ctx context.Context, rc *readContext, err error) error {
	if errors.Is(context.Cause(ctx), errStalled) {
		return fmt.Errorf("%w: it sent nothing for %v", errStalled, s.stallTimeout)
	}
	masked := rc.mask.text(err.Error())
	if errors.Is(err, publicnet.ErrPrivateEndpoint) {
		// The text masked, and of the chain, which holds it unmasked, the
		// sentinel alone, which transportResolution looks for.
		return &maskedError{msg: masked, err: publicnet.ErrPrivateEndpoint}
	}
	return errors.New(masked)
}

// heardReader restarts the silence timer whenever the body yields bytes.
type heardReader struct {
	io.ReadCloser
	silence *time.Timer
	after   time.Duration
}

func (r *heardReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if n > 0 {
		r.silence.Reset(r.after)
	}
	return n, err
}

// readBody reads a response's body into one buffer sized from its
// Content-Length, or else from hint, the size of the previous body this
// sender read (pages of an API are alike), which it updates. A body larger
// than limit is errBodyTooLarge, found before reading when the
// Content-Length says so.
func readBody(resp *http.Response, hint *atomic.Int64, limit int64) ([]byte, error) {
	size := resp.ContentLength
	if size > limit {
		return nil, errBodyTooLarge
	}
	if size < 0 {
		size = hint.Load() + 512
	}
	buf := make([]byte, 0, min(size+1, limit+1))
	r := io.LimitReader(resp.Body, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, errBodyTooLarge
		}
		if err == io.EOF {
			hint.Store(int64(len(buf)))
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// missingSchema is requests' MissingSchema, which PreparedRequest.
// prepare_url raises for a URL with no scheme (and no colon): the CDK
// prepares its request before and outside its retry loop, so the request
// fails at once, never sent and never retried. Called with the URL before
// the request's parameters are added, it says what requests says.
func missingSchema(url string) error {
	if strings.Contains(url, ":") {
		return nil
	}
	return errString(fmt.Sprintf("Invalid URL %s: No scheme supplied. Perhaps you meant https://%s?", interpolation.Repr(url), url))
}

// buildHTTPRequest makes the net/http request, keeping the URL's bytes and
// the header names' case exactly as encoded. The request line is the
// origin form ("GET /path?query"), as requests sends it.
func buildHTTPRequest(ctx context.Context, req *outRequest) (*http.Request, error) {
	schemeEnd := strings.Index(req.url, "://")
	if schemeEnd < 0 {
		return nil, fmt.Errorf("invalid URL %q: no scheme", req.url)
	}
	rest := req.url[schemeEnd+3:]
	hostEnd := strings.IndexAny(rest, "/?#")
	host, pathQuery := rest, "/"
	if hostEnd >= 0 {
		host, pathQuery = rest[:hostEnd], rest[hostEnd:]
		if !strings.HasPrefix(pathQuery, "/") {
			pathQuery = "/" + pathQuery
		}
	}
	// The user information stays in the URL (requests keeps and logs it)
	// but is not sent: urllib3 connects to the host alone, and the CDK's
	// session has an authenticator, so requests makes no Basic auth of it
	// (the OAuth token request has none: urlBasicAuth).
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	if i := strings.IndexByte(pathQuery, '#'); i >= 0 {
		pathQuery = pathQuery[:i]
	}
	path, query, _ := strings.Cut(pathQuery, "?")
	u := &url.URL{Scheme: req.url[:schemeEnd], Host: host, RawQuery: query}
	if err := setEscapedPath(u, path); err != nil {
		return nil, fmt.Errorf("invalid URL %q: %w", req.url, err)
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	hreq.URL = u
	// http.client names the port in the Host header only when it is not
	// the scheme's (Go sends "host:443" as written).
	if p := u.Port(); p == "443" && u.Scheme == "https" || p == "80" && u.Scheme == "http" {
		hreq.Host = strings.TrimSuffix(u.Host, ":"+p)
	}
	for _, h := range req.headers {
		hreq.Header[h.key] = []string{interpolation.Str(h.val)}
	}
	if req.ctype != "" && !hasHeader(req.headers, "Content-Type") {
		hreq.Header["Content-Type"] = []string{req.ctype}
	}
	return hreq, nil
}

// setEscapedPath sets u's path to escaped, the path's bytes as encoded,
// which the request sends unchanged: Path holds it decoded, for a
// RoundTripper that routes or signs on it, and RawPath holds the bytes when
// Go would encode the decoded path otherwise (an encoded slash, a
// parenthesis). Every path prepareURL writes can be held so.
func setEscapedPath(u *url.URL, escaped string) error {
	p, err := url.PathUnescape(escaped)
	if err != nil {
		return err
	}
	u.Path = p
	if u.EscapedPath() != escaped {
		u.RawPath = escaped
		if u.EscapedPath() != escaped {
			return fmt.Errorf("the path %q cannot be sent as encoded", escaped)
		}
	}
	return nil
}

// urlBasicAuth sets the Authorization header requests makes of a URL's
// user information when the request has no authenticator of its own, as
// the CDK's OAuth token request (requests.request) has not: prepare_auth
// with get_auth_from_url, whose user and password are percent-decoded and
// sent as Latin-1 bytes, replacing any Authorization header. A URL with no
// ':' in its user information gives none.
func urlBasicAuth(u string, headers []entry) ([]entry, error) {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return headers, nil
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return headers, nil
	}
	user, password, ok := strings.Cut(rest[:at], ":")
	if !ok || user == "" && password == "" {
		return headers, nil
	}
	var cred []byte
	for i, s := range []string{user, password} {
		if i > 0 {
			cred = append(cred, ':')
		}
		if d, err := url.PathUnescape(s); err == nil {
			s = d
		}
		pos := 0
		for _, r := range strings.ToValidUTF8(s, "\ufffd") {
			if r > 0xff {
				esc := fmt.Sprintf(`\u%04x`, r)
				if r > 0xffff {
					esc = fmt.Sprintf(`\U%08x`, r)
				}
				return nil, fmt.Errorf("'latin-1' codec can't encode character '%s' in position %d: ordinal not in range(256)", esc, pos)
			}
			cred = append(cred, byte(r))
			pos++
		}
	}
	auth := entry{"Authorization", "Basic " + base64.StdEncoding.EncodeToString(cred)}
	out := append([]entry(nil), headers...)
	for i := range out {
		if strings.EqualFold(out[i].key, auth.key) {
			out[i] = auth
			return out, nil
		}
	}
	return append(out, auth), nil
}

func hasHeader(hs []entry, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.key, name) {
			return true
		}
	}
	return false
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
