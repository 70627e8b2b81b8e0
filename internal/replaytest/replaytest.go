// Package replaytest answers a manifest connector's HTTP requests from the
// exchanges recorded in the conformance data (exchanges.json), on
// 127.0.0.1, whichever way the connector runs:
//
//   - in this process, through [Server.Client] or [Server.Transport]: the
//     transport sends each request to the server, the original https URL
//     travelling in a header;
//   - in another process or a container, through [Server.ProxyEnv]: the
//     server is also an HTTPS proxy (HTTPS_PROXY) that terminates TLS with
//     certificates of a throwaway CA (SSL_CERT_FILE), so the connector
//     speaks to the URLs its manifest builds and trusts what answers.
//
// Requests match as the data's README says: within the phase loaded, by
// method, full URL and body; entries sharing a key are served in recorded
// order, the last one repeated once they are used up. Every request is
// recorded as the connector sent it ([Server.Requests]), for comparison
// with what the Python CDK sent. A request that matches nothing is
// answered 418, a status no error handler retries (or the status given
// with [MissStatus]), and listed by [Server.Misses].
package replaytest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Exchange is one entry of exchanges.json: a recorded request and the
// response it got.
type Exchange struct {
	Phase    string   `json:"phase"`
	Request  Request  `json:"request"`
	Response Response `json:"response"`
}

// Request is a request as recorded or as received: method, full original
// URL, the headers the connector set, and the body (nil when there was
// none).
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
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Exchange
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// originalURLHeader carries the URL the connector built across the
// rewrite of Transport, labelHeader the request's label.
const (
	originalURLHeader = "X-Replaytest-Url"
	labelHeader       = "X-Replaytest-Label"
)

// Server replays one connector's exchanges.
type Server struct {
	t          testing.TB
	exchanges  []Exchange
	missStatus int
	// skipRetried leaves out the error responses a later response of the
	// same request followed (see SkipRetried).
	skipRetried bool
	srv         *httptest.Server
	ca          *authority

	mu       sync.Mutex
	queues   map[string][]Response
	served   map[string]int
	requests []Request
	misses   []string
}

// Option changes how a Server answers.
type Option func(*Server)

// MissStatus makes the server answer a request that matches no exchange
// with status instead of 418. The declarative engine's tests pass 501:
// their connectors retry a 5xx (with a sleep that does not wait), and
// what a connector does after a miss must stay what those tests have
// always seen.
func MissStatus(status int) Option { return func(s *Server) { s.missStatus = status } }

// SkipRetried makes Phase leave out each error response (status 400 or
// above) that a later response of the same request followed: a 429 the
// CDK retried, whose wait (5 s of exponential backoff, skipped when it was
// recorded) the connector would sit out in real time. The records and
// states are the same; a test of retries leaves this option out.
func SkipRetried() Option { return func(s *Server) { s.skipRetried = true } }

// Start reads exchangesFile and starts the server; it stops when t ends.
// No phase is loaded: call Phase.
func Start(t testing.TB, exchangesFile string, opts ...Option) *Server {
	t.Helper()
	exchanges, err := ReadExchanges(exchangesFile)
	if err != nil {
		t.Fatal(err)
	}
	return New(t, exchanges, opts...)
}

// New starts a server of exchanges already read (ReadExchanges), for a
// test that also looks at them; it stops when t ends. No phase is loaded:
// call Phase.
func New(t testing.TB, exchanges []Exchange, opts ...Option) *Server {
	s := &Server{t: t, exchanges: exchanges, missStatus: http.StatusTeapot}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.srv.Close)
	return s
}

// Phase makes the server answer with the exchanges of phase ("check",
// "read" or "read_incremental") and forgets the requests and misses so
// far.
func (s *Server) Phase(phase string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queues, s.served, s.requests, s.misses = map[string][]Response{}, map[string]int{}, nil, nil
	for _, e := range s.exchanges {
		if e.Phase == phase {
			k := key(e.Request.Method, e.Request.URL, e.Request.Body)
			s.queues[k] = append(s.queues[k], e.Response)
		}
	}
	if s.skipRetried {
		for k, q := range s.queues {
			kept := q[:0:0]
			for i, r := range q {
				if r.Status < 400 || i == len(q)-1 {
					kept = append(kept, r)
				}
			}
			s.queues[k] = kept
		}
	}
}

// Misses lists the requests since Phase that matched no exchange.
func (s *Server) Misses() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.misses...)
}

// Requests returns the requests received since Phase, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func key(method, u string, body *string) string {
	k := method + " " + u + "\n"
	if body != nil {
		k += "body:" + *body
	}
	return k
}

// Client returns a client that sends every request to the server.
func (s *Server) Client() *http.Client { return &http.Client{Transport: s.Transport()} }

// Transport returns a RoundTripper that sends every request to the
// server, for a test that sets its Label or builds its own client.
func (s *Server) Transport() *Transport {
	target, _ := url.Parse(s.srv.URL)
	return &Transport{Target: target, Base: s.srv.Client().Transport}
}

// Transport rewrites every request to Target (scheme and host), carrying
// the original URL in a header, so that a connector keeps building its
// https URLs while a test server answers them. Header names keep the case
// the caller gave them.
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
	u.Scheme, u.Host = t.Target.Scheme, t.Target.Host
	out.URL, out.Host = &u, t.Target.Host
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(out)
}

// handle answers a rewritten request, or tunnels a CONNECT.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		s.tunnel(w, r)
		return
	}
	s.replay(w, r, r.Header.Get(originalURLHeader))
}

// ignoredHeaders are set by Go's HTTP client or by Transport, not by the
// connector, so Requests leaves them out.
var ignoredHeaders = map[string]bool{
	"User-Agent": true, "Accept-Encoding": true, "Content-Length": true, "Connection": true,
	http.CanonicalHeaderKey(originalURLHeader): true, http.CanonicalHeaderKey(labelHeader): true,
}

// replay answers r, whose original URL is orig, from the loaded phase.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, orig string) {
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
		resp = &q[min(s.served[k], len(q)-1)]
		s.served[k]++
	} else {
		s.misses = append(s.misses, r.Method+" "+orig+" body="+string(body))
	}
	s.mu.Unlock()
	if resp == nil {
		s.t.Logf("replaytest: nothing recorded for %s %s %s", r.Method, orig, body)
		http.Error(w, "replaytest: nothing recorded for "+r.Method+" "+orig, s.missStatus)
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
	io.WriteString(w, resp.Body)
}

// ProxyEnv returns the environment that makes a process or a container on
// the host network send its HTTPS requests through the server and trust
// it: HTTPS_PROXY, and SSL_CERT_FILE naming the CA certificate, which it
// writes into hostDir; seenAsDir is where the process sees that directory
// (hostDir itself, or the path a container mounts it at).
func (s *Server) ProxyEnv(hostDir, seenAsDir string) []string {
	s.t.Helper()
	s.mu.Lock()
	if s.ca == nil {
		ca, err := newAuthority()
		if err != nil {
			s.mu.Unlock()
			s.t.Fatal(err)
		}
		s.ca = ca
	}
	pemCA := s.ca.pem
	s.mu.Unlock()
	if err := os.WriteFile(filepath.Join(hostDir, caFileName), pemCA, 0o644); err != nil {
		s.t.Fatal(err)
	}
	return []string{"HTTPS_PROXY=" + s.srv.URL, "https_proxy=" + s.srv.URL, "NO_PROXY=", "no_proxy=",
		"SSL_CERT_FILE=" + filepath.Join(seenAsDir, caFileName)}
}

// caFileName is the name of the CA certificate ProxyEnv writes.
const caFileName = "replaytest-ca.pem"

// tunnel accepts a CONNECT, terminates TLS with a certificate for the
// host asked for, and replays the requests that come through.
func (s *Server) tunnel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ca := s.ca
	s.mu.Unlock()
	if ca == nil {
		http.Error(w, "replaytest: call ProxyEnv before proxying", http.StatusBadGateway)
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	cert, err := ca.leaf(host)
	if err != nil {
		return
	}
	tc := tls.Server(&prefixed{Conn: conn, r: buf.Reader}, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
	if err := tc.Handshake(); err != nil {
		return
	}
	br := bufio.NewReader(tc)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		s.replay(rec, req, "https://"+strings.TrimSuffix(r.Host, ":443")+req.URL.RequestURI())
		req.Body.Close()
		resp := rec.Result()
		resp.ContentLength = int64(rec.Body.Len())
		if err := resp.Write(tc); err != nil {
			return
		}
	}
}

// prefixed is a connection whose first bytes were read into a buffer.
type prefixed struct {
	net.Conn
	r io.Reader
}

func (p *prefixed) Read(b []byte) (int, error) { return p.r.Read(b) }

// authority is a throwaway certificate authority.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte

	mu     sync.Mutex
	leaves map[string]tls.Certificate
}

func newAuthority() (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "goairbyte replaytest CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key, leaves: map[string]tls.Certificate{},
		pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// leaf returns a certificate for host signed by the authority.
func (a *authority) leaf(host string) (tls.Certificate, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.leaves[host]; ok {
		return c, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(len(a.leaves) + 2)),
		Subject:      pkix.Name{CommonName: host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("replaytest: certificate for %s: %w", host, err)
	}
	c := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	a.leaves[host] = c
	return c, nil
}
