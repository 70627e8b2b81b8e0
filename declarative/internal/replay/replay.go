// Package replay serves recorded HTTP exchanges to the declarative engine in
// tests: a [Server] answers from exchanges.json (the conformance data's
// format), a [Transport] sends every request of an *http.Client to it while
// the engine keeps building the original https URLs, and every request is
// recorded as the engine sent it, for comparison with what the Python CDK
// sent.
//
// Matching follows the data's README: within one phase, a request matches
// the entries with the same method, full URL (path and query byte for byte)
// and body; entries sharing a key are served in recorded order and the last
// one repeats once they are used up.
package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
)

// Exchange is one recorded request and the response it got.
type Exchange struct {
	Phase    string   `json:"phase"`
	Request  Request  `json:"request"`
	Response Response `json:"response"`
}

// Request is a recorded request: method, full original URL, the headers the
// connector set, and the body (nil when there was none).
type Request struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    *string           `json:"body"`
	// Label is the partition the client said the request was made for
	// (Transport.Label); it is not part of the recording.
	Label string `json:"-"`
}

// Response is a recorded response.
type Response struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// ReadExchanges reads an exchanges.json file.
func ReadExchanges(path string) ([]Exchange, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Exchange
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// originalURLHeader carries the URL the engine built across the rewrite,
// labelHeader the request's label.
const (
	originalURLHeader = "X-Replay-Original-Url"
	labelHeader       = "X-Replay-Label"
)

// Server answers requests from recorded exchanges of one phase at a time.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	queues   map[string][]Response
	served   map[string]int
	requests []Request
	misses   []string
}

// NewServer starts a server on 127.0.0.1 with no phase loaded.
func NewServer() *Server {
	s := &Server{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Load replaces what the server answers with the exchanges of one phase and
// forgets the requests recorded so far.
func (s *Server) Load(exchanges []Exchange, phase string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queues = map[string][]Response{}
	s.served = map[string]int{}
	s.requests = nil
	s.misses = nil
	for _, e := range exchanges {
		if e.Phase != phase {
			continue
		}
		k := key(e.Request.Method, e.Request.URL, e.Request.Body)
		s.queues[k] = append(s.queues[k], e.Response)
	}
}

// Requests returns the requests received since the last Load, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Misses lists the requests that matched no recorded exchange.
func (s *Server) Misses() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.misses...)
}

// Transport returns a RoundTripper that sends every request to the server,
// keeping the original URL for matching and recording.
func (s *Server) Transport() *Transport {
	target, _ := url.Parse(s.srv.URL)
	return &Transport{Target: target, Base: s.srv.Client().Transport}
}

func key(method, u string, body *string) string {
	b := "\x00nil"
	if body != nil {
		b = *body
	}
	return method + " " + u + "\x01" + b
}

// ignoredHeaders are set by Go's HTTP client, not by the connector.
var ignoredHeaders = map[string]bool{
	"User-Agent": true, "Accept-Encoding": true, "Content-Length": true, "Connection": true,
	http.CanonicalHeaderKey(originalURLHeader): true, http.CanonicalHeaderKey(labelHeader): true,
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	orig := r.Header.Get(originalURLHeader)
	body, _ := io.ReadAll(r.Body)
	var bp *string
	if len(body) > 0 {
		b := string(body)
		bp = &b
	}
	headers := map[string]string{}
	for k, v := range r.Header {
		if !ignoredHeaders[http.CanonicalHeaderKey(k)] {
			headers[k] = strings.Join(v, ", ")
		}
	}
	k := key(r.Method, orig, bp)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, URL: orig, Headers: headers, Body: bp, Label: r.Header.Get(labelHeader)})
	q := s.queues[k]
	var resp *Response
	if len(q) > 0 {
		i := min(s.served[k], len(q)-1)
		s.served[k]++
		resp = &q[i]
	} else {
		s.misses = append(s.misses, r.Method+" "+orig+" body="+string(body))
	}
	s.mu.Unlock()
	if resp == nil {
		http.Error(w, "replay: no recorded exchange for "+r.Method+" "+orig, http.StatusNotImplemented)
		return
	}
	names := make([]string, 0, len(resp.Headers))
	for h := range resp.Headers {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		w.Header().Set(h, resp.Headers[h])
	}
	w.WriteHeader(resp.Status)
	_, _ = io.Copy(w, bytes.NewReader([]byte(resp.Body)))
}

// Transport rewrites every request to Target (scheme and host), carrying the
// original URL in a header. Header names keep the case the caller gave them.
type Transport struct {
	// Target is where requests go.
	Target *url.URL
	// Base sends the rewritten request; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Label, when set, names what each request was made for; the server
	// records it in Request.Label.
	Label func(*http.Request) string
}

// RoundTrip sends r to Target.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.Header = r.Header.Clone()
	out.Header[originalURLHeader] = []string{r.URL.String()}
	if t.Label != nil {
		out.Header[labelHeader] = []string{t.Label(r)}
	}
	u := *r.URL
	u.Scheme = t.Target.Scheme
	u.Host = t.Target.Host
	out.URL = &u
	out.Host = t.Target.Host
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(out)
}
