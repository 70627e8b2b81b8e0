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
// value. A source's or destination's configuration is checked against its
// connector's spec on create, PATCH and PUT (422 naming each field at
// fault); a PATCH merges its configuration into the stored one, a PUT
// replaces it; a sourceType or destinationType in it names the definition
// and is never stored. Jobs follow Airbyte's state machine (pending,
// queued, running, incomplete between attempts, then succeeded, failed or
// cancelled; a second sync of a busy connection answers 409, and so do a
// sync of one that is not active and the cancellation of a job that has
// ended; a listing without a jobType holds sync and reset jobs only), and
// a sync really runs goairbyte's faker source into the destination's DuckDB
// file or PostgreSQL schema. Faults can be injected: error statuses, 429 with
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
	"testing"
	"time"

	"github.com/x/goairbyte/internal/openapitest"
	"github.com/x/goairbyte/internal/servertest"
	"github.com/x/goairbyte/internal/shareddata"
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
	tokenLife    time.Duration
	refused      int
	faults       *servertest.Faults
	routes       *servertest.Routes
	holdJobs     bool
	release      chan struct{}
	failNext     map[string]int // connection id → attempts to fail
	retryPause   time.Duration
	maxAttempts  int
	seq          int
	ignoreOffset bool // listings answer their first page whatever the offset
	timeLayout   string
}

// Option configures a Server.
type Option func(*Server)

// WithTokenLifetime sets how long an access token lives (default
// TokenLifetime).
func WithTokenLifetime(d time.Duration) Option { return func(s *Server) { s.tokenLife = d } }

// WithTimeLayout sets the layout of the jobs' startTime and lastUpdatedAt
// (default time.RFC3339). The API types them as plain strings: Airbyte's
// server prints them with Java's OffsetDateTime.toString, which leaves the
// seconds out when they are zero ("2006-01-02T15:04Z07:00").
func WithTimeLayout(layout string) Option { return func(s *Server) { s.timeLayout = layout } }

// WithRetryPause sets how long a job stays incomplete between a failed
// attempt and the next (default 300 ms).
func WithRetryPause(d time.Duration) Option { return func(s *Server) { s.retryPause = d } }

// New starts a server that runs syncs with the source-faker executable at
// fakerPath and reports API violations to rep. Close stops it. When rep is
// a test, a missing shared data folder (the published API descriptions)
// skips or fails it (see shareddata.Need).
func New(rep openapitest.Reporter, fakerPath string, opts ...Option) (*Server, error) {
	if t, ok := rep.(testing.TB); ok {
		shareddata.Need(t, "remote-specs/airbyte")
	}
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
		failNext: map[string]int{}, retryPause: 300 * time.Millisecond, timeLayout: time.RFC3339, tokenLife: TokenLifetime, maxAttempts: 3,
		release: make(chan struct{}), faults: servertest.NewFaults(PublicPrefix, ConfigPrefix), routes: servertest.NewRoutes(PublicPrefix),
	}
	for _, o := range opts {
		o(s)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.loadDefinitions(); err != nil {
		return nil, err
	}
	s.WorkspaceID = s.newWorkspace("Test workspace").ID

	s.register()
	undocumented := func(r *http.Request, status int) bool {
		switch status {
		case http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true // auth refusals and injected faults
		case http.StatusConflict, http.StatusUnprocessableEntity:
			// A sync refused (busy, inactive), a job type refused, a
			// configuration its spec refuses, a job that has ended
			// cancelled: Airbyte's answers, which the description leaves
			// out.
			return r.Method != http.MethodGet && (r.Method != http.MethodDelete || strings.Contains(r.URL.Path, "/jobs/"))
		case http.StatusBadRequest, http.StatusNotFound:
			return true // the server refuses what it cannot do, as Airbyte does
		}
		return false
	}
	inner := s.faults.Middleware(s.withAuth(s.routes.Mux))
	pubH, cfgH := pub.Middleware(rep, inner, undocumented), cfg.Middleware(rep, inner, undocumented)
	s.http = httptest.NewServer(s.faults.Truncating(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, ConfigPrefix+"/v1/") {
			cfgH.ServeHTTP(w, r)
			return
		}
		pubH.ServeHTTP(w, r)
	})))
	s.URL = s.http.URL + PublicPrefix
	return s, nil
}

// ConfigURL is the Configuration API root, which the client derives
// from URL.
func (s *Server) ConfigURL() string { return s.http.URL + ConfigPrefix + "/v1" }

// Close stops the server; running syncs are cancelled and waited for.
func (s *Server) Close() {
	s.cancel()
	s.http.Close()
	s.wg.Wait()
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
			s.mu.Lock()
			s.refused++
			s.mu.Unlock()
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
	s.tokens[tok] = s.Clock.Now().Add(s.tokenLife)
	life := int64(s.tokenLife / time.Second)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": life})
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"message": fmt.Sprintf(format, args...)})
}

var writeJSON = servertest.WriteJSON

// writeProblem answers as the public API's problems do (RFC 9457, the
// shape of airbyte-platform's AbstractThrowableProblem): a type under
// Airbyte's error reference, a title, the status and the message as
// detail.
func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "https://reference.airbyte.com/reference/errors#" + title, "title": title, "status": status, "detail": detail,
	})
}

// Fault is a failure to inject; see Inject.
type Fault = servertest.Fault

// Clock is the server's time.
type Clock = servertest.Clock

// Inject adds a fault; faults apply in the order injected. A Fault's Path
// is below the API root ("/jobs", "/sources").
func (s *Server) Inject(f Fault) { s.faults.Inject(f) }

// Calls returns how many requests the server handled for a route pattern
// such as "POST /sources" (after faults, before answers).
func (s *Server) Calls(pattern string) int { return s.routes.Calls(pattern) }

// Refused returns how many requests the server refused as unauthorized.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Requests returns how many API requests the server handled.
func (s *Server) Requests() int { return s.routes.Total() }

// Bodies returns the request bodies the server received for a route
// pattern such as "PATCH /sources/{id}", oldest first.
func (s *Server) Bodies(pattern string) [][]byte { return s.routes.Bodies(pattern) }
