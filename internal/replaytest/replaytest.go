// Package replaytest answers a manifest connector's HTTP requests from the
// exchanges recorded in the conformance data (exchanges.json), on
// 127.0.0.1, whichever way the connector runs:
//
//   - in this process, through [Server.Client]: an *http.Client whose
//     transport sends each request to the server, the original https URL
//     travelling in a header;
//   - in another process or a container, through [Server.ProxyEnv]: the
//     server is also an HTTPS proxy (HTTPS_PROXY) that terminates TLS with
//     certificates of a throwaway CA (SSL_CERT_FILE), so the connector
//     speaks to the URLs its manifest builds and trusts what answers.
//
// Requests match as the data's README says: within the phase loaded, by
// method, full URL and body; entries sharing a key are served in recorded
// order, the last one repeated once they are used up. A request that
// matches nothing is answered 418, a status no error handler retries, and
// listed by [Server.Misses].
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

// exchange is one entry of exchanges.json.
type exchange struct {
	Phase   string `json:"phase"`
	Request struct {
		Method string  `json:"method"`
		URL    string  `json:"url"`
		Body   *string `json:"body"`
	} `json:"request"`
	Response response `json:"response"`
}

type response struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// originalURL carries the URL the connector built across the rewrite of
// Client's transport.
const originalURL = "X-Replaytest-Url"

// Server replays one connector's exchanges.
type Server struct {
	t         testing.TB
	exchanges []exchange
	srv       *httptest.Server
	ca        *authority

	mu     sync.Mutex
	queues map[string][]response
	served map[string]int
	misses []string
	count  int
}

// Start reads exchangesFile and starts the server; it stops when t ends.
// No phase is loaded: call Phase.
func Start(t testing.TB, exchangesFile string) *Server {
	t.Helper()
	raw, err := os.ReadFile(exchangesFile)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t}
	if err := json.Unmarshal(raw, &s.exchanges); err != nil {
		t.Fatalf("%s: %v", exchangesFile, err)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.srv.Close)
	return s
}

// Phase makes the server answer with the exchanges of phase ("check",
// "read" or "read_incremental") and forgets the misses so far.
func (s *Server) Phase(phase string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queues, s.served, s.misses, s.count = map[string][]response{}, map[string]int{}, nil, 0
	for _, e := range s.exchanges {
		if e.Phase == phase {
			k := key(e.Request.Method, e.Request.URL, e.Request.Body)
			s.queues[k] = append(s.queues[k], e.Response)
		}
	}
}

// Misses lists the requests since Phase that matched no exchange.
func (s *Server) Misses() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.misses...)
}

// Requests counts the requests since Phase.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

func key(method, u string, body *string) string {
	k := method + " " + u + "\n"
	if body != nil {
		k += "body:" + *body
	}
	return k
}

// Client returns a client that sends every request to the server.
func (s *Server) Client() *http.Client {
	target, _ := url.Parse(s.srv.URL)
	return &http.Client{Transport: &rewrite{target: target, base: s.srv.Client().Transport}}
}

// rewrite sends requests to target, keeping the original URL in a header.
type rewrite struct {
	target *url.URL
	base   http.RoundTripper
}

func (r *rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.Header = req.Header.Clone()
	out.Header.Set(originalURL, req.URL.String())
	u := *req.URL
	u.Scheme, u.Host = r.target.Scheme, r.target.Host
	out.URL, out.Host = &u, r.target.Host
	return r.base.RoundTrip(out)
}

// handle answers a rewritten request, or tunnels a CONNECT.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		s.tunnel(w, r)
		return
	}
	s.replay(w, r, r.Header.Get(originalURL))
}

// replay answers r, whose original URL is orig, from the loaded phase.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, orig string) {
	body, _ := io.ReadAll(r.Body)
	var bp *string
	if len(body) > 0 {
		b := string(body)
		bp = &b
	}
	k := key(r.Method, orig, bp)
	s.mu.Lock()
	s.count++
	q := s.queues[k]
	var resp *response
	if len(q) > 0 {
		resp = &q[min(s.served[k], len(q)-1)]
		s.served[k]++
	} else {
		s.misses = append(s.misses, r.Method+" "+orig+" "+string(body))
	}
	s.mu.Unlock()
	if resp == nil {
		s.t.Logf("replaytest: nothing recorded for %s %s %s", r.Method, orig, body)
		http.Error(w, "replaytest: nothing recorded for "+r.Method+" "+orig, http.StatusTeapot)
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
