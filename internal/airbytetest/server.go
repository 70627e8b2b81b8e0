// Package airbytetest is an Airbyte server for tests and examples: the
// public API (under /api/public/v1) and the few Configuration API calls
// goairbyte uses (under /api/v1), on 127.0.0.1.
//
// It is honest where it matters to a client: every request it receives and
// every answer it gives is checked against Airbyte's published OpenAPI
// description (a violation is reported to the Reporter, which fails a
// test); listings are paged; client-credentials tokens expire after three
// minutes of its Clock; secret config fields — those the connector's spec
// marks airbyte_secret, inside oneOf branches too — come back as
// "**********", and an update that sends the mask back keeps the stored
// value. Jobs follow Airbyte's state machine (pending, queued, running,
// incomplete between attempts, then succeeded, failed or cancelled; a
// second sync of a busy connection answers 409), and a sync really runs
// goairbyte's faker source into the destination's DuckDB file or
// PostgreSQL schema. Faults can be injected: error statuses, 429 with
// Retry-After, dropped connections, slow answers, before or after the
// request has been acted on.
package airbytetest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/x/goairbyte/internal/openapitest"
)

// Paths of the two APIs on the server.
const (
	PublicPrefix = "/api/public/v1"
	ConfigPrefix = "/api"
)

// Default credentials the server accepts.
const (
	ClientID     = "goairbyte-test-client"
	ClientSecret = "goairbyte-test-secret-Zq8"
	BasicUser    = "airbyte"
	BasicPass    = "password"
)

// TokenLifetime is how long an access token lives, as on Airbyte.
const TokenLifetime = 3 * time.Minute

// Server is a running test server. Its exported fields are read-only.
type Server struct {
	// URL is the public API root to give airbyteapi.New.
	URL string
	// WorkspaceID is the workspace the server starts with.
	WorkspaceID string
	// Clock is the server's time; advance it to expire tokens.
	Clock *Clock

	rep   openapitest.Reporter
	http  *httptest.Server
	faker string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu           sync.Mutex
	workspaces   []*workspaceRec
	defs         []*definition
	sources      []*actor
	destinations []*actor
	conns        []*connRec
	jobs         []*jobRec
	tokens       map[string]time.Time
	faults       []*Fault
	holdJobs     bool
	release      chan struct{}
	failNext     map[string]int // connection id → attempts to fail
	retryPause   time.Duration
	maxAttempts  int
	calls        map[string]int // "METHOD /path-pattern" → count
	bodies       map[string][][]byte
	seq          int
}

// Option configures a Server.
type Option func(*Server)

// WithRetryPause sets how long a job stays incomplete between a failed
// attempt and the next (default 300 ms).
func WithRetryPause(d time.Duration) Option { return func(s *Server) { s.retryPause = d } }

// New starts a server that runs syncs with the source-faker executable at
// fakerPath and reports API violations to rep. Close stops it.
func New(rep openapitest.Reporter, fakerPath string, opts ...Option) (*Server, error) {
	pub, err := openapitest.Airbyte(PublicPrefix)
	if err != nil {
		return nil, err
	}
	cfg, err := openapitest.AirbyteConfig(ConfigPrefix)
	if err != nil {
		return nil, err
	}
	s := &Server{
		rep: rep, faker: fakerPath, Clock: &Clock{}, tokens: map[string]time.Time{},
		failNext: map[string]int{}, retryPause: 300 * time.Millisecond, maxAttempts: 3,
		calls: map[string]int{}, bodies: map[string][][]byte{}, release: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.loadDefinitions(); err != nil {
		return nil, err
	}
	s.WorkspaceID = s.newWorkspace("Test workspace").ID

	api := http.NewServeMux()
	s.routes(api)
	undocumented := func(r *http.Request, status int) bool {
		switch status {
		case http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true // auth refusals and injected faults
		case http.StatusConflict:
			return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/jobs")
		case http.StatusBadRequest, http.StatusNotFound:
			return true // the server refuses what it cannot do, as Airbyte does
		}
		return false
	}
	inner := s.withFaults(s.withAuth(api))
	pubH, cfgH := pub.Middleware(rep, inner, undocumented), cfg.Middleware(rep, inner, undocumented)
	s.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, ConfigPrefix+"/v1/") {
			cfgH.ServeHTTP(w, r)
			return
		}
		pubH.ServeHTTP(w, r)
	}))
	s.URL = s.http.URL + PublicPrefix
	return s, nil
}

// ConfigURL is the Configuration API root to give
// airbyteapi.WithConfigAPIURL (the client also derives it from URL).
func (s *Server) ConfigURL() string { return s.http.URL + ConfigPrefix + "/v1" }

// Close stops the server; running syncs are cancelled and waited for.
func (s *Server) Close() {
	s.cancel()
	s.http.Close()
	s.wg.Wait()
}

// Calls returns how many requests the server handled for a route pattern
// such as "POST /sources" (after faults, before answers).
func (s *Server) Calls(pattern string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[pattern]
}

// Bodies returns the request bodies the server received for a route
// pattern such as "PATCH /sources/{id}", oldest first.
func (s *Server) Bodies(pattern string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies[pattern]...)
}

// Clock is the server's time: the real time plus an offset tests advance.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns the server's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset).UTC()
}

// Advance moves the server's time forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// withAuth accepts a live bearer token or the basic credentials; the token
// endpoint is open.
func (s *Server) withAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == PublicPrefix+"/applications/token" {
			next.ServeHTTP(w, r)
			return
		}
		h := r.Header.Get("Authorization")
		ok := false
		switch {
		case strings.HasPrefix(h, "Bearer "):
			s.mu.Lock()
			exp, known := s.tokens[strings.TrimPrefix(h, "Bearer ")]
			s.mu.Unlock()
			ok = known && s.Clock.Now().Before(exp)
		case strings.HasPrefix(h, "Basic "):
			ok = h == "Basic "+base64.StdEncoding.EncodeToString([]byte(BasicUser+":"+BasicPass))
		}
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "missing, unknown or expired credentials"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	var req map[string]string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		_ = r.ParseForm()
		req = map[string]string{"client_id": r.Form.Get("client_id"), "client_secret": r.Form.Get("client_secret")}
	} else if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": err.Error()})
		return
	}
	if req["client_id"] != ClientID || req["client_secret"] != ClientSecret {
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "unknown client"})
		return
	}
	s.mu.Lock()
	s.seq++
	tok := fmt.Sprintf("tok-%d-%d", s.seq, time.Now().UnixNano())
	s.tokens[tok] = s.Clock.Now().Add(TokenLifetime)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int64(TokenLifetime / time.Second)})
}

// Fault is a failure the server injects into matching requests.
type Fault struct {
	Method string // "" for any
	Path   string // a path below the API root ("/jobs"); it matches by prefix; "" for any
	// Status answers with this status instead (500, 503, 429, ...).
	Status int
	// RetryAfter goes with a 429.
	RetryAfter time.Duration
	// Drop closes the connection without an answer.
	Drop bool
	// Delay holds the answer back this long.
	Delay time.Duration
	// After acts on the request first and then fails the answer: the
	// client cannot know whether it was acted on.
	After bool
	// Times is how many requests it hits (0 means 1).
	Times int
}

// Inject adds a fault; faults apply in the order injected.
func (s *Server) Inject(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		p := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, PublicPrefix), ConfigPrefix)
		if (f.Method == "" || f.Method == r.Method) && strings.HasPrefix(p, f.Path) {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

func (s *Server) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := s.takeFault(r)
		if f == nil {
			next.ServeHTTP(w, r)
			return
		}
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if f.After {
			next.ServeHTTP(httptest.NewRecorder(), r)
		}
		switch {
		case f.Drop:
			panic(http.ErrAbortHandler) // net/http closes the connection
		case f.Status != 0:
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", fmt.Sprint(int(f.RetryAfter.Seconds())))
			}
			writeJSON(w, f.Status, map[string]string{"message": "injected fault"})
		default:
			if !f.After {
				next.ServeHTTP(w, r)
			}
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"message": fmt.Sprintf(format, args...)})
}
