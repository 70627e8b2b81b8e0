package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/replaytest"
	"github.com/x/goairbyte/protocol"
)

// rotationManifest has two streams behind an OAuthAuthenticator whose
// refresh token is single use (refresh_token_updater), with the config
// paths source-freshbooks uses; pages is the items stream's paginator.
func rotationManifest(expiresFormat string) string {
	format := ""
	if expiresFormat != "" {
		format = "\n      token_expiry_date_format: \"" + expiresFormat + "\""
	}
	return `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
definitions:
  requester:
    type: HttpRequester
    url_base: "https://api.example.com"
    http_method: GET
    authenticator:
      type: OAuthAuthenticator
      client_id: "{{ config['client_id'] }}"
      client_secret: "{{ config['client_secret'] }}"
      refresh_token: "{{ config['client_refresh_token'] }}"
      grant_type: refresh_token
      token_refresh_endpoint: "https://auth.example.com/token"` + format + `
      refresh_request_body: {redirect_uri: "https://app.example.com/cb"}
      refresh_token_updater:
        refresh_token_name: refresh_token
        access_token_config_path: [oauth_access_token]
        token_expiry_date_config_path: [oauth_token_expiry_date]
        refresh_token_config_path: [client_refresh_token]
        refresh_token_error_status_codes: [400]
        refresh_token_error_key: error
        refresh_token_error_values: [invalid_grant]
streams:
  - type: DeclarativeStream
    name: items
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {$ref: "#/definitions/requester", path: /items}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}
        pagination_strategy: {type: CursorPagination, cursor_value: "{{ response.next }}", stop_condition: "{{ not response.next }}"}
  - type: DeclarativeStream
    name: users
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {$ref: "#/definitions/requester", path: /users}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
spec:
  type: Spec
  connection_specification:
    type: object
    properties:
      client_secret: {type: string, airbyte_secret: true}
      client_refresh_token: {type: string, airbyte_secret: true}
      oauth_access_token: {type: string, airbyte_secret: true}
`
}

// tokenServer is an OAuth server whose refresh tokens work once: each
// refresh returns a new access token and a new refresh token and revokes
// the old ones. The API answers only the newest access token.
type tokenServer struct {
	mu        sync.Mutex
	expiresIn string // the expires_in field of the token response (JSON)
	refresh   string // the refresh token that works now
	access    string // the access token that works now
	n         int    // refreshes made
	forms     []string
}

func (s *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/token" {
		_ = r.ParseForm()
		s.forms = append(s.forms, r.PostForm.Encode())
		if r.PostForm.Get("refresh_token") != s.refresh || r.PostForm.Get("client_secret") != "cs-secret" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error": "invalid_grant"}`)
			return
		}
		s.n++
		s.refresh = fmt.Sprintf("refresh-%d-secret", s.n+1)
		s.access = fmt.Sprintf("access-%d-secret", s.n)
		fmt.Fprintf(w, `{"access_token": %q, "expires_in": %s, "refresh_token": %q}`, s.access, s.expiresIn, s.refresh)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.access {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.URL.Path == "/items" && r.URL.Query().Get("page") == "" {
		fmt.Fprint(w, `{"data": [{"id": 1}], "next": "2"}`)
		return
	}
	fmt.Fprintf(w, `{"data": [{"id": %q}]}`, r.URL.Path+"?"+r.URL.RawQuery)
}

func rotationSource(t *testing.T, ts *tokenServer, manifest string, opts ...Option) *Source {
	t.Helper()
	srv := httptest.NewServer(ts)
	t.Cleanup(srv.Close)
	opts = append([]Option{
		WithHTTPClient(&http.Client{Transport: &replaytest.Transport{Target: mustURL(t, srv.URL)}, Timeout: 10 * time.Second}),
		WithClock(func() time.Time { return featureNow }), withSleep(noSleep)}, opts...)
	src, err := New([]byte(manifest), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

const rotationConfig = `{"client_id": "cid", "client_secret": "cs-secret", "client_refresh_token": "refresh-1-secret", "oauth_access_token": "", "oauth_token_expiry_date": ""}`

func readRotation(t *testing.T, src *Source, config string) ([]*protocol.Message, error) {
	t.Helper()
	cat, err := src.Discover(context.Background(), json.RawMessage(config))
	if err != nil {
		t.Fatal(err)
	}
	cc := &protocol.ConfiguredCatalog{}
	for _, s := range cat.Streams {
		cc.Streams = append(cc.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: protocol.SyncFullRefresh})
	}
	var mu sync.Mutex
	var msgs []*protocol.Message
	err = src.Read(context.Background(), json.RawMessage(config), cc, nil, func(m *protocol.Message) error {
		mu.Lock()
		defer mu.Unlock()
		msgs = append(msgs, m)
		return nil
	})
	return msgs, err
}

func controlConfigs(msgs []*protocol.Message) []map[string]any {
	var out []map[string]any
	for _, m := range msgs {
		if m.Type == protocol.TypeControl && m.Control != nil && m.Control.Type == protocol.ControlConnectorConfig {
			var c map[string]any
			_ = json.Unmarshal(m.Control.ConnectorConfig.Config, &c)
			out = append(out, c)
		}
	}
	return out
}

// TestRefreshTokenRotation follows SingleUseRefreshTokenOauth2Authenticator
// (requests_native_auth/oauth.py): the tokens live in the config at the
// updater's paths; an expired (here: absent) expiry date makes the first
// request refresh with the config's refresh token; the new access token,
// refresh token and expiry (now + expires_in, str() of an AirbyteDateTime)
// are written back and the whole config is emitted as a CONTROL
// CONNECTOR_CONFIG message; every stream shares that config, so one
// refresh serves both.
func TestRefreshTokenRotation(t *testing.T) {
	ts := &tokenServer{refresh: "refresh-1-secret", expiresIn: "3600"}
	src := rotationSource(t, ts, rotationManifest(""))
	msgs, err := readRotation(t, src, rotationConfig)
	if err != nil {
		t.Fatal(err)
	}
	if ts.n != 1 {
		t.Errorf("%d refreshes, want 1 shared by both streams", ts.n)
	}
	if len(ts.forms) != 1 || ts.forms[0] != "client_id=cid&client_secret=cs-secret&grant_type=refresh_token&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&refresh_token=refresh-1-secret" {
		t.Errorf("refresh forms %q", ts.forms)
	}
	cfgs := controlConfigs(msgs)
	if len(cfgs) != 1 {
		t.Fatalf("%d CONTROL messages, want 1", len(cfgs))
	}
	want := map[string]any{"client_id": "cid", "client_secret": "cs-secret", "client_refresh_token": "refresh-2-secret",
		"oauth_access_token": "access-1-secret", "oauth_token_expiry_date": "2025-01-15T13:00:00+00:00"}
	if fmt.Sprint(cfgs[0]) != fmt.Sprint(want) {
		t.Errorf("updated config %v\nwant %v", cfgs[0], want)
	}
	records := 0
	for _, m := range msgs {
		if m.Type == protocol.TypeRecord {
			records++
		}
	}
	if records != 3 {
		t.Errorf("%d records, want 3", records)
	}

	// The next read starts from the updated config: the token is still
	// valid, so no refresh and no CONTROL message.
	next, _ := json.Marshal(cfgs[0])
	msgs, err = readRotation(t, src, string(next))
	if err != nil {
		t.Fatal(err)
	}
	if ts.n != 1 || len(controlConfigs(msgs)) != 0 {
		t.Errorf("%d refreshes and %d CONTROL messages with a valid token, want none", ts.n-1, len(controlConfigs(msgs)))
	}
}

// TestRefreshTokenExpiry: a token that expires at once (expires_in -1) is
// refreshed each time the CDK asks for it, twice per request (the
// requester's headers, then the session's auth hook, whose token is sent),
// each time with the refresh token the previous refresh returned, each
// rotation reported.
func TestRefreshTokenExpiry(t *testing.T) {
	ts := &tokenServer{refresh: "refresh-1-secret", expiresIn: "-1"}
	src := rotationSource(t, ts, strings.Replace(rotationManifest(""), "  - type: DeclarativeStream\n    name: users", "  - type: DeclarativeStream\n    name: unused", 1))
	cat, _ := src.Discover(context.Background(), json.RawMessage(rotationConfig))
	cc := &protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{Stream: cat.Streams[0], SyncMode: protocol.SyncFullRefresh}}}
	var msgs []*protocol.Message
	err := src.Read(context.Background(), json.RawMessage(rotationConfig), cc, nil, func(m *protocol.Message) error {
		msgs = append(msgs, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cfgs := controlConfigs(msgs)
	if ts.n != 4 || len(cfgs) != 4 {
		t.Fatalf("%d refreshes, %d CONTROL messages; want 4 each (two per page)", ts.n, len(cfgs))
	}
	if cfgs[3]["client_refresh_token"] != "refresh-5-secret" || cfgs[3]["oauth_access_token"] != "access-4-secret" {
		t.Errorf("last rotation wrote %v", cfgs[3])
	}
	if cfgs[3]["oauth_token_expiry_date"] != "2025-01-15T11:59:59+00:00" {
		t.Errorf("expiry %v", cfgs[3]["oauth_token_expiry_date"])
	}
	// A date in the config is read with the CDK's parser, with or without
	// an offset; a format makes expires_in a date.
	ts = &tokenServer{refresh: "refresh-1-secret", expiresIn: `"2025-02-01T00:00:00Z"`}
	var updates []string
	src = rotationSource(t, ts, rotationManifest("%Y-%m-%dT%H:%M:%SZ"))
	if err := src.CheckEmit(context.Background(), json.RawMessage(strings.Replace(rotationConfig, `"oauth_token_expiry_date": ""`, `"oauth_token_expiry_date": "2025-01-15 11:00:00"`, 1)), func(m *protocol.Message) error {
		if m.Control != nil && m.Control.ConnectorConfig != nil {
			updates = append(updates, string(m.Control.ConnectorConfig.Config))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(updates) != 1 || !strings.Contains(updates[0], `"oauth_token_expiry_date":"2025-02-01T00:00:00+00:00"`) {
		t.Errorf("Check reported %q, want the config with the expiry date from the response", updates)
	}

	// CheckEmit (kit.CheckEmitter) emits the rotated config as a CONTROL
	// message instead, as the CDK prints it during a check.
	ts = &tokenServer{refresh: "refresh-1-secret", expiresIn: "3600"}
	src = rotationSource(t, ts, rotationManifest(""))
	var emitted []*protocol.Message
	if err := src.CheckEmit(context.Background(), json.RawMessage(rotationConfig), func(m *protocol.Message) error {
		emitted = append(emitted, m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if cfgs := controlConfigs(emitted); len(cfgs) != 1 || cfgs[0]["client_refresh_token"] != "refresh-2-secret" {
		t.Errorf("CheckEmit emitted %d CONTROL messages (%v), want the one rotation", len(cfgs), cfgs)
	}
}

// TestRefreshTokenRevoked follows _wrap_refresh_token_exception: a refresh
// answered with a status and error value the updater names is a config
// error telling the user to re-authenticate; no secret leaks.
func TestRefreshTokenRevoked(t *testing.T) {
	ts := &tokenServer{refresh: "refresh-other-secret", expiresIn: "3600"}
	src := rotationSource(t, ts, rotationManifest(""))
	msgs, err := readRotation(t, src, rotationConfig)
	var oe *oauthError
	if !errors.As(err, &oe) || !errors.Is(err, errRevoked) {
		t.Fatalf("err = %v, want an *oauthError for a revoked refresh token", err)
	}
	// The CDK raises its own message, unwrapped.
	want := "Refresh token is invalid or expired. Please re-authenticate from Sources/<your source>/Settings."
	var traced bool
	for _, m := range msgs {
		b, _ := json.Marshal(m)
		for _, secret := range []string{"refresh-1-secret", "cs-secret"} {
			if strings.Contains(string(b), secret) {
				t.Errorf("secret %s in %s", secret, b)
			}
		}
		if m.Trace != nil && m.Trace.Error != nil && m.Trace.Error.StreamDescriptor != nil {
			traced = true
			if m.Trace.Error.FailureType != protocol.FailureConfig || m.Trace.Error.Message != want {
				t.Errorf("trace error %+v", m.Trace.Error)
			}
		}
	}
	if !traced {
		t.Error("no TRACE ERROR")
	}
}

// A rotated token's expiry date is now + expires_in for any lifetime Python
// can hold, and an error past the year 9999, as the CDK's OverflowError.
func TestRotatingOAuthExpiresInBeyondDuration(t *testing.T) {
	now := time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)
	a := &rotatingOAuth{oauthAuth: &oauthAuth{}}
	got, err := a.newExpiry(int64(1e10), now)
	// Python: datetime(2025, 1, 15, 12) + timedelta(seconds=10**10)
	if want := time.Date(2341, 12, 6, 5, 46, 40, 0, time.UTC); err != nil || !got.Equal(want) {
		t.Errorf("expires_in 1e10: %v, %v; want %v", got, err, want)
	}
	if got, err := a.newExpiry(1e300, now); err == nil {
		t.Errorf("expires_in 1e300: %v, want an error", got)
	}
}
