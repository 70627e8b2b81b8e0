package declarative

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/protocol"
)

// TestSourcesShareConnections builds a Source per read, as the in-process
// source-declarative-manifest does per command, in a program that syncs
// all day. The Sources given no client share one pool: a Source dropped
// leaves no connection open beyond the pool's idle limit per host (2).
// With a transport of its own, each kept its idle connections open for 90
// seconds after its last request.
func TestSourcesShareConnections(t *testing.T) {
	items := &pagedItems{total: 4 * aheadPageSize}
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	srv := httptest.NewUnstartedServer(items)
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateNew:
			open[c] = true
		case http.StateClosed, http.StateHijacked:
			delete(open, c)
		}
	}
	srv.Start()
	defer srv.Close()
	text := []byte(strings.ReplaceAll(string(aheadManifest), "https://api.example.com", srv.URL))
	for range 10 {
		src, err := New(text, withSleep(noSleep))
		if err != nil {
			t.Fatal(err)
		}
		cat, err := src.Discover(context.Background(), faultConfig)
		if err != nil {
			t.Fatal(err)
		}
		cc := &protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{Stream: cat.Streams[0], SyncMode: protocol.SyncFullRefresh}}}
		if err := src.Read(context.Background(), faultConfig, cc, nil, func(*protocol.Message) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	openConns := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(open)
	}
	// The pool closes a connection beyond its limit as it takes it back;
	// the server sees the close a moment later.
	deadline := time.Now().Add(5 * time.Second)
	for openConns() > 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open after 10 Sources read and were dropped, want at most 2", openConns())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRequestURLs sends requests of paths the corpus holds, and odd ones,
// through a user's RoundTripper to a loopback server. The request line
// must be what Python's requests (2.34.2, urllib3 2.7.0: the CDK's) sent
// for the same url_base, path and parameter, as printed by a socket server
// (the CDK strips the path's leading slash and joins it to the url_base):
// encoded slashes kept, %7E decoded, spaces %20, '+' and sub-delimiters as
// written. The RoundTripper must see the decoded path in URL.Path, and
// URL.EscapedPath and URL.String give the bytes sent, so that it can route
// or sign on them. The cases after the first twelve were derived by hand
// from the source of requests 2.34.2 and urllib3 2.7.0 (prepare_url,
// parse_url, _encode_invalid_chars, requote_uri): parse_url upper-cases
// the escapes of the path and of the query and escapes what those parts do
// not allow ('[', ']', '|'); a '%' that starts no escape makes it escape
// every '%' of that part, the valid escapes' too; an escaped dot segment
// is no dot segment for parse_url, and requote_uri then decodes it. A
// fragment is never sent. Running requests 2.34.2 (Python 3.11.7) printed
// the same request lines.
func TestRequestURLs(t *testing.T) {
	for _, c := range []struct{ path, wire string }{
		{"/Active Worker Download", "/v1/Active%20Worker%20Download?page_size=5"},                                                                    // source-sap-fieldglass
		{"/announcements/v1/announcement:ListHeadsUpManage", "/v1/announcements/v1/announcement:ListHeadsUpManage?page_size=5"},                      // source-safetyculture
		{"reports/getTeamsDeviceUsageUserDetail(period='D7')?$top=20", "/v1/reports/getTeamsDeviceUsageUserDetail(period='D7')?$top=20&page_size=5"}, // source-microsoft-teams
		{"index.php?/api/v2/get_runs/1&suite_id=2", "/v1/index.php?/api/v2/get_runs/1&suite_id=2&page_size=5"},                                       // source-testrail
		{"/analytics?", "/v1/analytics?page_size=5"},                                                                                                 // source-simplecast
		{"files/a%2Fb", "/v1/files/a%2Fb?page_size=5"},
		{"users/x%7Ey", "/v1/users/x~y?page_size=5"},
		{"tags/c++", "/v1/tags/c++?page_size=5"},
		{"names/é", "/v1/names/%C3%A9?page_size=5"},
		{"items/!*$,;=@&", "/v1/items/!*$,;=@&?page_size=5"},
		{"search/a b?q=x y", "/v1/search/a%20b?q=x%20y&page_size=5"},
		{"a|b", "/v1/a%7Cb?page_size=5"},
		{"names/%c3%a9", "/v1/names/%C3%A9?page_size=5"},
		{"a[0]", "/v1/a%5B0%5D?page_size=5"},
		{"100%", "/v1/100%25?page_size=5"},
		{"%zz", "/v1/%25zz?page_size=5"},
		{"%41%2F%zz", "/v1/%2541%252F%25zz?page_size=5"},
		{"p/%7e%2f%c3", "/v1/p/~%2F%C3?page_size=5"},
		{"a/%2E%2E/b", "/v1/a/../b?page_size=5"},
		{"search?q=[x]&r=%7e&s=a|b", "/v1/search?q=%5Bx%5D&r=~&s=a%7Cb&page_size=5"},
		{"items?q=%c3%a9", "/v1/items?q=%C3%A9&page_size=5"},
		{"search?q=100%&r=%41", "/v1/search?q=100%25&r=%2541&page_size=5"},
		{"a#frag[1] %", "/v1/a?page_size=5"},
		{"a?q=1#frag", "/v1/a?q=1&page_size=5"},
	} {
		t.Run(c.path, func(t *testing.T) {
			var mu sync.Mutex
			var lines []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				lines = append(lines, r.RequestURI)
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"data": []}`))
			}))
			defer srv.Close()
			seen := &seenURLs{to: mustURL(t, srv.URL)}
			text := strings.ReplaceAll(requestURLManifest, "PATH", strings.ReplaceAll(c.path, "'", "''"))
			src, err := New([]byte(text), WithHTTPClient(&http.Client{Transport: seen}), withSleep(noSleep))
			if err != nil {
				t.Fatal(err)
			}
			if err := src.Check(context.Background(), faultConfig); err != nil {
				t.Fatal(err)
			}
			if len(lines) != 1 || len(seen.urls) != 1 {
				t.Fatalf("%d requests reached the server, %d the RoundTripper; want 1", len(lines), len(seen.urls))
			}
			if lines[0] != c.wire {
				t.Errorf("request line %q, the CDK sends %q", lines[0], c.wire)
			}
			wirePath, _, _ := strings.Cut(c.wire, "?")
			decoded, err := url.PathUnescape(wirePath)
			if err != nil {
				t.Fatal(err)
			}
			u := seen.urls[0]
			if u.Path != decoded || u.EscapedPath() != wirePath || u.String() != "https://api.example.com"+c.wire || u.Opaque != "" {
				t.Errorf("the RoundTripper saw Path %q, EscapedPath %q, String %q, Opaque %q; want %q, %q, %q, \"\"",
					u.Path, u.EscapedPath(), u.String(), u.Opaque, decoded, wirePath, "https://api.example.com"+c.wire)
			}
		})
	}
}

// requestURLManifest is a one-stream manifest whose path is PATH.
const requestURLManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
streams:
  - type: DeclarativeStream
    name: items
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: https://api.example.com/v1/
        path: 'PATH'
        http_method: GET
        request_parameters: {page_size: "5"}
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [data]}
spec:
  type: Spec
  connection_specification: {type: object}
`

// seenURLs is a user's RoundTripper that routes on the URL: it records
// each request's URL as the engine gave it and sends the request to the
// loopback server to.
type seenURLs struct {
	to   *url.URL
	urls []*url.URL
}

func (s *seenURLs) RoundTrip(r *http.Request) (*http.Response, error) {
	u := *r.URL
	s.urls = append(s.urls, &u)
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host, out.Host = s.to.Scheme, s.to.Host, s.to.Host
	return http.DefaultTransport.RoundTrip(out)
}

// FuzzRequestPath: whatever path a manifest builds, the request sends the
// bytes prepareURL encoded, in the origin form, with the decoded path in
// URL.Path. Every path builds: prepareURL leaves no '%' that starts no
// escape (the engine failed on "100%" and "%zz" before, where requests
// sends "%25").
func FuzzRequestPath(f *testing.F) {
	for _, s := range []string{"a%2Fb", "a%2fb/%c3%a9", "x%7Ey", "(p='D7')", "a[0]", "c++", "a b?q=x y", "é|^`{}", "a?", "%41%2F%zz", "100%", "a#frag", ";x=1/y", "a/%2E%2E/b", "a?q=%zz#%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		raw, err := prepareURL("https://api.example.com/v1/"+path, "")
		if err != nil {
			t.Fatalf("%q: %v", path, err)
		}
		hreq, err := buildHTTPRequest(context.Background(), &outRequest{method: "GET", url: raw})
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		target := strings.TrimPrefix(raw, "https://api.example.com")
		target, _, _ = strings.Cut(target, "#")
		escaped, query, _ := strings.Cut(target, "?")
		decoded, err := url.PathUnescape(escaped)
		if err != nil {
			t.Fatalf("%q built, but its path does not decode: %v", raw, err)
		}
		want := escaped
		if query != "" {
			want += "?" + query
		}
		if got := hreq.URL.RequestURI(); got != want || hreq.URL.Path != decoded || hreq.URL.Opaque != "" {
			t.Fatalf("%q: request line %q, Path %q, Opaque %q; want %q, %q, none", raw, got, hreq.URL.Path, hreq.URL.Opaque, want, decoded)
		}
	})
}

// TestURLUserinfo: a url_base with user information connects to its host
// alone (the engine dialled "user:pw@host" before) and sends no Basic auth,
// as the CDK, whose session always has an authenticator (NoAuth at least),
// so that requests' prepare_auth never reads the URL's. The OAuth token
// request, which the CDK makes with requests.request and no authenticator,
// sends the URL's user and password as Basic auth, percent-decoded and in
// Latin-1 ("cli ent:s\xe9cret"), in place of an Authorization header of
// refresh_request_headers. A default port is not named in the Host header,
// as http.client does. Derived from requests 2.34.2's prepare_auth and
// get_auth_from_url and the CDK 6.31.1's HttpClient and
// _make_handled_request; requests printed the same Authorization.
func TestURLUserinfo(t *testing.T) {
	type seen struct{ host, urlHost, auth, line string }
	var mu sync.Mutex
	var reqs []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/token" {
			w.Write([]byte(`{"access_token": "tok", "expires_in": 3600}`))
			return
		}
		w.Write([]byte(`{"data": []}`))
	}))
	defer srv.Close()
	to := mustURL(t, srv.URL)
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		reqs = append(reqs, seen{r.Host, r.URL.Host, r.Header.Get("Authorization"), r.URL.RequestURI()})
		mu.Unlock()
		if r.URL.User != nil {
			t.Errorf("the URL carries user information %q", r.URL.User)
		}
		out := r.Clone(r.Context())
		out.URL.Scheme, out.URL.Host, out.Host = to.Scheme, to.Host, to.Host
		return http.DefaultTransport.RoundTrip(out)
	})
	oauth := `authenticator: {type: OAuthAuthenticator, client_id: c, client_secret: s, grant_type: client_credentials, token_refresh_endpoint: "https://cli ent:s%c3%a9cret@auth.example.com/token", refresh_request_headers: {Authorization: old, X-A: "1"}}
        http_method: GET`
	for _, c := range []struct {
		name, auth string
		want       []seen
	}{
		{"requester", "http_method: GET", []seen{{"api.example.com", "api.example.com:443", "", "/v1/items?page_size=5"}}},
		{"oauth", oauth, []seen{
			{"auth.example.com", "auth.example.com", "Basic Y2xpIGVudDpz6WNyZXQ=", "/token"},
			{"api.example.com", "api.example.com:443", "Bearer tok", "/v1/items?page_size=5"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			reqs = nil
			text := strings.ReplaceAll(requestURLManifest, "PATH", "items")
			text = strings.Replace(text, "url_base: https://api.example.com/v1/", "url_base: 'https://us er:p%40ss@API.example.com:443/v1/'", 1)
			text = strings.Replace(text, "http_method: GET", c.auth, 1)
			src, err := New([]byte(text), WithHTTPClient(&http.Client{Transport: rt}), withSleep(noSleep))
			if err != nil {
				t.Fatal(err)
			}
			if err := src.Check(context.Background(), faultConfig); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(reqs, c.want) {
				t.Errorf("requests (Host, URL.Host, Authorization, request line)\n got %q\nwant %q", reqs, c.want)
			}
		})
	}
}

// TestURLUserinfoNotLatin1: a token endpoint whose password is no Latin-1
// fails before it is sent, as requests' _basic_auth_str raises
// UnicodeEncodeError.
func TestURLUserinfoNotLatin1(t *testing.T) {
	_, err := urlBasicAuth("https://c:%E2%82%AC@auth.example.com/token", nil)
	if want := `'latin-1' codec can't encode character '\u20ac' in position 0: ordinal not in range(256)`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if hs, err := urlBasicAuth("https://c@auth.example.com/token", []entry{{"authorization", "x"}}); err != nil || len(hs) != 1 || hs[0].val != "x" {
		t.Errorf("a user with no password gave %v, %v; want the headers as they were", hs, err)
	}
}

// roundTripFunc is a RoundTripper written as a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
