package airbyteapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/airbytetest"
	"github.com/x/goairbyte/internal/shareddata"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/secrets"
)

func TestMain(m *testing.M) {
	shareddata.RequireForPackage("remote-specs")
	testenv.Main(m)
}

const (
	fakerDef   = "dfd88b22-b603-4c3d-aad7-3701784586b1"
	harvestDef = "fe2b4084-3386-4d3b-9ad6-308f61a6f1e6"
)

// fastRetry keeps the tests quick while still backing off.
var fastRetry = airbyteapi.WithRetry(airbyteapi.RetryPolicy{MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: 1500 * time.Millisecond})

func newClient(t *testing.T, srv *airbytetest.Server, opts ...airbyteapi.Option) *airbyteapi.Client {
	t.Helper()
	opts = append([]airbyteapi.Option{airbyteapi.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret), fastRetry}, opts...)
	c, err := airbyteapi.New(srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func count[T any](t *testing.T, seq func(yield func(T, error) bool)) int {
	t.Helper()
	n := 0
	for _, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

func TestTokenRenewedWhenTheServerRefusesIt(t *testing.T) {
	srv := airbytetest.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	if _, err := c.Workspace(ctx, srv.WorkspaceID); err != nil {
		t.Fatal(err)
	}
	srv.Clock.Advance(airbytetest.TokenLifetime + time.Second) // the token expires on the server
	if _, err := c.Workspace(ctx, srv.WorkspaceID); err != nil {
		t.Fatalf("after the token expired: %v", err)
	}
	if n := srv.Calls("POST /applications/token"); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
}

// TestTokenRenewedBeforeItExpires: a token is renewed when less than 30 s
// of its life are left, so no request is refused.
func TestTokenRenewedBeforeItExpires(t *testing.T) {
	srv := airbytetest.Start(t, airbytetest.WithTokenLifetime(31*time.Second))
	c := newClient(t, srv)
	ctx := context.Background()
	for range 2 {
		if _, err := c.Workspace(ctx, srv.WorkspaceID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond)
	}
	if n := srv.Calls("POST /applications/token"); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	if n := srv.Refused(); n != 0 {
		t.Errorf("%d requests refused", n)
	}
}

// TestReplacedTokensAreNoLongerMasked: each access token is registered for
// masking while it may still be printed — as the current token, or the
// previous one still in a retried request or an error — and released after
// that, so a client that renews its token every few minutes for days does
// not grow the process's set of secrets without bound.
func TestReplacedTokensAreNoLongerMasked(t *testing.T) {
	// Tokens living less than the 30 s renewal margin are renewed before
	// every request.
	srv := airbytetest.Start(t, airbytetest.WithTokenLifetime(20*time.Second))
	sent := &authLog{next: http.DefaultTransport}
	c := newClient(t, srv, airbyteapi.WithHTTPClient(&http.Client{Transport: sent}))
	for range 6 {
		if _, err := c.Workspace(context.Background(), srv.WorkspaceID); err != nil {
			t.Fatal(err)
		}
	}
	toks := sent.tokens()
	if len(toks) < 6 {
		t.Fatalf("%d tokens used, want a new one for each of 6 requests: %v", len(toks), toks)
	}
	for i, tok := range toks {
		kept := i >= len(toks)-2
		if masked := secrets.Mask(tok) != tok; masked != kept {
			t.Errorf("token %d of %d: masked=%v, want %v (only the current and the previous token stay masked)", i+1, len(toks), masked, kept)
		}
	}
}

// authLog is a transport that notes the distinct bearer tokens requests
// carry, in the order they were first sent.
type authLog struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (a *authLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		a.mu.Lock()
		if !slices.Contains(a.seen, tok) {
			a.seen = append(a.seen, tok)
		}
		a.mu.Unlock()
	}
	return a.next.RoundTrip(r)
}

func (a *authLog) tokens() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.seen)
}

func TestBadCredentialsAreUnauthorized(t *testing.T) {
	srv := airbytetest.Start(t)
	c, _ := airbyteapi.New(srv.URL, airbyteapi.WithBasicAuth("airbyte", "wrong"), fastRetry)
	_, err := c.Workspace(context.Background(), srv.WorkspaceID)
	if !errors.Is(err, airbyteapi.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	c, _ = airbyteapi.New(srv.URL, airbyteapi.WithBasicAuth(airbytetest.BasicUser, airbytetest.BasicPass), fastRetry)
	if _, err := c.Workspace(context.Background(), srv.WorkspaceID); err != nil {
		t.Fatal(err)
	}
}

// Client credentials the server refuses fail the request at once, as
// refused (ErrUnauthorized): the token request's failure was taken for a
// lost answer of the request, reported as "no answer" and retried, each
// retry asking for a token again (goab airbyte jobs took 10 s to say so).
func TestRefusedClientCredentialsAreNotRetried(t *testing.T) {
	srv := airbytetest.Start(t)
	c, _ := airbyteapi.New(srv.URL, airbyteapi.WithClientCredentials(airbytetest.ClientID, "wrong"), fastRetry)
	_, err := c.Workspace(context.Background(), srv.WorkspaceID)
	if !errors.Is(err, airbyteapi.ErrUnauthorized) || strings.Contains(err.Error(), "no answer") {
		t.Fatalf("err = %v, want ErrUnauthorized, not a request without an answer", err)
	}
	if n := srv.Calls("POST /applications/token"); n != 1 {
		t.Errorf("the token was asked for %d times, want 1", n)
	}
}

func TestOptionsThatDoNotFitFailAtConstruction(t *testing.T) {
	for name, opts := range map[string][]airbyteapi.Option{
		"two auths":  {airbyteapi.WithBearerToken("x"), airbyteapi.WithBasicAuth("a", "b")},
		"page size":  {airbyteapi.WithPageSize(101)},
		"retry":      {airbyteapi.WithRetry(airbyteapi.RetryPolicy{})},
		"half creds": {airbyteapi.WithClientCredentials("id", "")},
		"not a URL":  nil,
	} {
		base := "http://127.0.0.1:1/api/public/v1"
		if name == "not a URL" {
			base = "localhost"
		}
		if _, err := airbyteapi.New(base, opts...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRetriesTransientFailures(t *testing.T) {
	srv := airbytetest.Start(t)
	c := newClient(t, srv, airbyteapi.WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond}))
	ctx := context.Background()
	srv.Inject(airbytetest.Fault{Path: "/workspaces", Status: 503, Times: 2})
	srv.Inject(airbytetest.Fault{Path: "/workspaces", Status: 429, RetryAfter: time.Second})
	srv.Inject(airbytetest.Fault{Path: "/workspaces", Drop: true})
	srv.Inject(airbytetest.Fault{Path: "/workspaces", Truncate: true})
	srv.Inject(airbytetest.Fault{Path: "/workspaces", Delay: time.Second}) // longer than the client's timeout
	start := time.Now()
	// Six faults, four attempts per call: the first call gives up, the
	// second gets through the last two.
	if _, err := c.Workspace(ctx, srv.WorkspaceID); err == nil {
		t.Fatal("four attempts got through five faults")
	}
	if _, err := c.Workspace(ctx, srv.WorkspaceID); err != nil {
		t.Fatalf("second call: %v", err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("finished in %v: Retry-After (1 s) was not honoured", d)
	}
}

// TestCreateIsNeverRepeatedBlind: the server creates the source but the
// answer is lost; the client must find it rather than create a second.
func TestCreateIsNeverRepeatedBlind(t *testing.T) {
	srv := airbytetest.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	for _, f := range []airbytetest.Fault{
		{Method: "POST", Path: "/sources", Drop: true, After: true},
		{Method: "POST", Path: "/sources", Status: 502, After: true},
		{Method: "POST", Path: "/sources", Status: 503}, // refused before acting: sent again
		{Method: "POST", Path: "/sources", Truncate: true},
	} {
		srv.Inject(f)
		name := "faker " + time.Now().Format(time.RFC3339Nano)
		s, err := c.CreateSource(ctx, airbyteapi.ActorCreate{Name: name, DefinitionID: fakerDef, WorkspaceID: srv.WorkspaceID, Configuration: map[string]any{"count": 5}})
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		if s.ID == "" || s.Name != name {
			t.Fatalf("%+v: got %+v", f, s)
		}
	}
	if n := count(t, c.Sources(ctx, srv.WorkspaceID)); n != 4 {
		t.Fatalf("%d sources after four creates, want 4", n)
	}
}

func TestListingsArePaged(t *testing.T) {
	srv := airbytetest.Start(t)
	c := newClient(t, srv, airbyteapi.WithPageSize(3))
	ctx := context.Background()
	for i := range 7 {
		srv.AddSource("s"+string(rune('a'+i)), fakerDef, map[string]any{"count": i + 1})
	}
	if n := count(t, c.Sources(ctx, srv.WorkspaceID)); n != 7 {
		t.Fatalf("%d sources, want 7", n)
	}
	if n := srv.Calls("GET /sources"); n != 3 {
		t.Errorf("%d pages fetched, want 3", n)
	}
	// Breaking out of the loop stops fetching.
	for range c.Sources(ctx, srv.WorkspaceID) {
		break
	}
	if n := srv.Calls("GET /sources"); n != 4 {
		t.Errorf("%d pages fetched after an early break, want 4", n)
	}
}

// TestListingThatRepeatsItselfEnds: a server that ignores the offset
// answers every page with the first one and a next link; the listing must
// fail, not page (and grow its caller's memory) forever.
func TestListingThatRepeatsItselfEnds(t *testing.T) {
	srv := airbytetest.Start(t)
	c := newClient(t, srv, airbyteapi.WithPageSize(2))
	for i := range 5 {
		srv.AddSource("s"+string(rune('a'+i)), fakerDef, map[string]any{"count": i + 1})
	}
	srv.IgnoreOffset()
	// The watchdog only keeps a broken client from hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n := 0
	var err error
	for _, e := range c.Sources(ctx, srv.WorkspaceID) {
		if err = e; err != nil {
			break
		}
		n++
	}
	if err == nil || ctx.Err() != nil {
		t.Fatalf("listing a server that repeats its first page: err %v after %d items (context: %v); want an error before the watchdog", err, n, ctx.Err())
	}
	if !strings.Contains(err.Error(), "/sources") || !strings.Contains(err.Error(), "repeat") {
		t.Errorf("error %q should name the listing and say the server repeats a page", err)
	}
	if n != 2 {
		t.Errorf("%d items yielded before the error, want the 2 of the first page only", n)
	}
}

// createHarvest creates a source-harvest whose account_id is "acct-1" and
// whose credentials.api_token is "tok-1".
func createHarvest(t *testing.T, c *airbyteapi.Client, srv *airbytetest.Server) *airbyteapi.Source {
	t.Helper()
	cfg := map[string]any{"account_id": "acct-1", "replication_start_date": "2024-01-01T00:00:00Z",
		"credentials": map[string]any{"auth_type": "Token", "api_token": "tok-1"}}
	s, err := c.CreateSource(context.Background(), airbyteapi.ActorCreate{Name: "harvest", DefinitionID: harvestDef, WorkspaceID: srv.WorkspaceID, Configuration: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSecretsMaskedAndKept uses source-harvest's real spec: account_id is
// secret, and so is credentials.api_token inside a oneOf branch.
func TestSecretsMaskedAndKept(t *testing.T) {
	srv := airbytetest.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	s := createHarvest(t, c, srv)
	got, _ := c.Source(ctx, s.ID)
	if got.Configuration["account_id"] != airbyteapi.Mask || got.Configuration["credentials"].(map[string]any)["api_token"] != airbyteapi.Mask {
		t.Fatalf("secrets not masked: %v", got.Configuration)
	}
	if got.Configuration["replication_start_date"] != "2024-01-01T00:00:00Z" {
		t.Fatalf("a plain field was masked: %v", got.Configuration)
	}
	// Sending the masked config back keeps both secrets.
	if _, err := c.PatchSource(ctx, s.ID, airbyteapi.ActorPatch{Configuration: got.Configuration}); err != nil {
		t.Fatal(err)
	}
	stored := srv.StoredConfig(s.ID)
	if stored["account_id"] != "acct-1" || stored["credentials"].(map[string]any)["api_token"] != "tok-1" {
		t.Fatalf("the mask overwrote a secret: %v", stored)
	}
	got.Configuration["account_id"] = "acct-2"
	if _, err := c.PatchSource(ctx, s.ID, airbyteapi.ActorPatch{Configuration: got.Configuration}); err != nil {
		t.Fatal(err)
	}
	if stored := srv.StoredConfig(s.ID); stored["account_id"] != "acct-2" || stored["credentials"].(map[string]any)["api_token"] != "tok-1" {
		t.Fatalf("after changing one secret: %v", stored)
	}
}

func TestSpecsFromTheConfigurationAPI(t *testing.T) {
	srv := airbytetest.Start(t)
	c := newClient(t, srv)
	spec, err := c.SourceSpec(context.Background(), srv.WorkspaceID, harvestDef)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec) < 100 {
		t.Fatalf("spec %s", spec)
	}
	if _, err := c.SourceSpec(context.Background(), srv.WorkspaceID, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, airbyteapi.ErrNotFound) {
		t.Fatalf("unknown definition: %v", err)
	}
}

// Behind a gateway whose path does not end in /api/public/v1, the client
// cannot derive the Configuration API's root: the calls that need it say
// so (ErrNoConfigAPI) and name the option, and with the option they work.
func TestConfigurationAPIBehindAGateway(t *testing.T) {
	srv := airbytetest.Start(t)
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target) // target's path prefix, then the request's path
		r.Out.URL.Path = strings.TrimSuffix(target.Path, "/") + strings.TrimPrefix(r.In.URL.Path, "/gateway/airbyte")
		r.Out.URL.RawPath = ""
	}})
	t.Cleanup(gw.Close)
	ctx := context.Background()
	open := func(opts ...airbyteapi.Option) *airbyteapi.Client {
		opts = append([]airbyteapi.Option{airbyteapi.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret), fastRetry}, opts...)
		c, err := airbyteapi.New(gw.URL+"/gateway/airbyte", opts...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := open()
	if _, err := c.Workspace(ctx, srv.WorkspaceID); err != nil {
		t.Fatalf("the public API through the gateway: %v", err)
	}
	if _, err := c.SourceSpec(ctx, srv.WorkspaceID, harvestDef); !errors.Is(err, airbyteapi.ErrNoConfigAPI) || !strings.Contains(err.Error(), "WithConfigAPIURL") {
		t.Fatalf("without the Configuration API's root: %v", err)
	}
	spec, err := open(airbyteapi.WithConfigAPIURL(srv.ConfigURL())).SourceSpec(ctx, srv.WorkspaceID, harvestDef)
	if err != nil || len(spec) < 100 {
		t.Fatalf("with WithConfigAPIURL: %v (%d bytes)", err, len(spec))
	}
}

// A connection on a source of which the server knows no stream (harvest,
// here) has an empty list of streams, which the published contract
// requires to be a list: listing it must pass the contract check.
func TestConnectionWithoutStreams(t *testing.T) {
	srv := airbytetest.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	s := createHarvest(t, c, srv)
	d, err := c.CreateDestination(ctx, airbyteapi.ActorCreate{Name: "warehouse", DefinitionID: "94bd199c-2ff0-4aa2-b98e-17f0acb72610",
		WorkspaceID: srv.WorkspaceID, Configuration: map[string]any{"destination_path": filepath.Join(t.TempDir(), "w.duckdb")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateConnection(ctx, airbyteapi.ConnectionCreate{Name: "empty", SourceID: s.ID, DestinationID: d.ID}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, c.Connections(ctx, srv.WorkspaceID)); n != 1 {
		t.Fatalf("%d connections listed, want 1", n)
	}
}
