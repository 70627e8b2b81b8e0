package connector_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/connectors/manifestsource"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/registry"
	"gopkg.in/yaml.v3"
)

// itemsManifest is a small manifest: one stream of items read from
// <base>/items with a bearer token, and a date window that ends at
// now_utc().
func itemsManifest(base string) string {
	return `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
streams:
  - type: DeclarativeStream
    name: items
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}, until: {type: string}}}}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: ` + base + `
        path: /items
        http_method: GET
        request_parameters: {until: "{{ now_utc().strftime('%Y-%m-%d') }}"}
        authenticator: {type: BearerAuthenticator, api_token: "{{ config['token'] }}"}
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [items]}
spec:
  type: Spec
  connection_specification:
    type: object
    required: [token]
    properties:
      token: {type: string, airbyte_secret: true}
`
}

// itemsServer answers /items with two items that echo the until
// parameter, for the token "t0ken" only; it counts the requests.
func itemsServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.Header.Get("Authorization") != "Bearer t0ken" {
			http.Error(w, `{"error": "unauthorized"}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/manifest.yaml" {
			return
		}
		until := r.URL.Query().Get("until")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"items": [{"id": 1, "until": "` + until + `"}, {"id": 2, "until": "` + until + `"}]}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// readItems runs a read of the items stream and returns the records.
func readItems(t *testing.T, c *connector.Connector) []string {
	t.Helper()
	ctx := context.Background()
	spec, err := c.Spec(ctx)
	if err != nil || !strings.Contains(string(spec.ConnectionSpecification), "token") {
		t.Fatalf("spec: %v %v", spec, err)
	}
	var cat *protocol.Catalog
	for m, err := range core.ConnOf(c).Run(ctx, executor.Invocation{Verb: executor.VerbDiscover}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == protocol.TypeCatalog {
			cat = m.Catalog
		}
	}
	cc, _ := json.Marshal(protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{Stream: cat.Streams[0],
		SyncMode: protocol.SyncFullRefresh, DestinationSyncMode: protocol.DestinationOverwrite}}})
	var out []string
	for m, err := range core.ConnOf(c).Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: cc}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == protocol.TypeRecord {
			out = append(out, string(m.Record.Data))
		}
	}
	return out
}

// TestWithManifest runs a manifest given each way WithManifest takes it,
// in process, with the HTTP client and the clock given.
func TestWithManifest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, requests := itemsServer(t)
	text := itemsManifest("https://api.example.com")
	path := filepath.Join(t.TempDir(), "manifest.yaml")
	os.WriteFile(path, []byte(text), 0o644)
	var asMap map[string]any
	if err := json.Unmarshal(mustJSON(t, text), &asMap); err != nil {
		t.Fatal(err)
	}
	// The manifest's URLs stay as written; the client sends them to srv.
	client := &http.Client{Transport: redirect{to: srv.URL}}
	frozen := func() time.Time { return time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC) }
	for what, m := range map[string]any{"path": path, "bytes": []byte(text), "json": json.RawMessage(mustJSON(t, text)), "map": asMap} {
		c, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-items", connector.WithEnvironment(offline(t)),
			connector.WithManifest(m), connector.WithHTTPClient(client), connector.WithClock(frozen),
			connector.WithConfig(map[string]any{"token": "t0ken"}))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if core.ConnOf(c).Executor().Method().Kind != executor.KindInProcess {
			t.Fatalf("%s: runs as %s, want in process", what, c)
		}
		if err := c.Check(ctx); err != nil {
			t.Fatalf("%s: check: %v", what, err)
		}
		got := readItems(t, c)
		want := []string{`{"id":1,"until":"2025-01-15"}`, `{"id":2,"until":"2025-01-15"}`}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("%s: records %v, want %v (the frozen clock's date)", what, got, want)
		}
	}
	// A bad token is the check's FAILED answer.
	c, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-items", connector.WithEnvironment(offline(t)),
		connector.WithManifest(path), connector.WithHTTPClient(client), connector.WithConfig(map[string]any{"token": "wrong"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(ctx); !errors.Is(err, connector.ErrCheckFailed) {
		t.Fatalf("check with a bad token: %v", err)
	}
	if requests.Load() == 0 {
		t.Fatal("the client given was not used")
	}
}

// TestInProcessManifestSourceEngineOptions: source-declarative-manifest,
// registered in process, takes the engine's knobs as a manifest given with
// WithManifest does: its requests go through the client given and its
// now_utc() is the clock given.
func TestInProcessManifestSourceEngineOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, requests := itemsServer(t)
	var m map[string]any
	if err := json.Unmarshal(mustJSON(t, itemsManifest("https://api.example.invalid")), &m); err != nil {
		t.Fatal(err)
	}
	env := offline(t)
	env.RegisterConnector("source-declarative-manifest", func() any { return manifestsource.New() })
	// The manifest's host does not resolve: only the client given reaches srv.
	client := &http.Client{Transport: redirect{to: srv.URL}}
	frozen := func() time.Time { return time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC) }
	c, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-declarative-manifest", connector.WithEnvironment(env),
		connector.WithHTTPClient(client), connector.WithClock(frozen),
		connector.WithConfig(map[string]any{"token": "t0ken", "__injected_declarative_manifest": m}))
	if err != nil {
		t.Fatal(err)
	}
	if core.ConnOf(c).Executor().Method().Kind != executor.KindInProcess {
		t.Fatalf("runs as %s, want in process", c)
	}
	if err := c.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}
	cc, _ := json.Marshal(protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{
		Stream:   protocol.Stream{Name: "items", JSONSchema: json.RawMessage(`{}`), SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}},
		SyncMode: protocol.SyncFullRefresh, DestinationSyncMode: protocol.DestinationOverwrite}}})
	var got []string
	for msg, err := range core.ConnOf(c).Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: cc}) {
		if err != nil {
			t.Fatal(err)
		}
		if msg.Type == protocol.TypeRecord {
			got = append(got, string(msg.Record.Data))
		}
	}
	want := []string{`{"id":1,"until":"2025-01-15"}`, `{"id":2,"until":"2025-01-15"}`}
	if strings.Join(got, " ") != strings.Join(want, " ") || requests.Load() != 2 {
		t.Fatalf("records %v after %d requests, want %v (the frozen clock's date) after 2", got, requests.Load(), want)
	}
	// The knobs of a process still do not fit it.
	_, err = core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-declarative-manifest", connector.WithEnvironment(env),
		connector.WithClock(frozen), connector.WithLogDir(t.TempDir()))
	if want := "WithLogDir: it does not apply to a connector run in process"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want an error saying %q", err, want)
	}
}

// TestWithManifestURL downloads the manifest from a URL with the client
// given.
func TestWithManifestURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	api, _ := itemsServer(t)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/source-items/manifest.yaml" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(itemsManifest(api.URL)))
	}))
	defer site.Close()
	c, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-items", connector.WithEnvironment(offline(t)),
		connector.WithManifest(site.URL+"/source-items/manifest.yaml"), connector.WithConfig(map[string]any{"token": "t0ken"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := readItems(t, c); len(got) != 2 {
		t.Fatalf("records %v", got)
	}
	_, err = core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-items", connector.WithEnvironment(offline(t)),
		connector.WithManifest(site.URL+"/nothing.yaml"))
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "/nothing.yaml") {
		t.Fatalf("a missing manifest: %v", err)
	}
	_, err = core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-items", connector.WithEnvironment(offline(t)),
		connector.WithManifest([]byte("version: 6.7.0\nstreams: 12\n")))
	if err == nil || !strings.Contains(err.Error(), "source-items: the manifest given as text: ") {
		t.Fatalf("an invalid manifest: %v", err)
	}
}

// TestManifestOptionsThatDoNotFit: the engine's knobs apply to manifests
// only, and a manifest is a way of running a source of its own.
func TestManifestOptionsThatDoNotFit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := offline(t)
	env.RegisterConnector("destination-echo", func() any { return echoDest{} })
	client := http.DefaultClient
	for _, c := range []struct {
		name string
		kind core.Kind
		opts []connector.Option
		want string
	}{
		{"source-x", core.KindSource, []connector.Option{connector.WithManifest("m.yaml"), connector.WithDockerImage("")},
			"WithDockerImage and WithManifest: these are different ways"},
		{"source-x", core.KindSource, []connector.Option{connector.WithManifest("m.yaml"), connector.WithVersion("1.0")},
			"WithVersion: it does not apply to a connector run with WithManifest"},
		{"source-x", core.KindSource, []connector.Option{connector.WithManifest("m.yaml"), connector.WithEnv("A=1")},
			"WithEnv: it does not apply to a connector run with WithManifest"},
		{"source-x", core.KindSource, []connector.Option{connector.WithLocalExecutable("/bin/true"), connector.WithHTTPClient(client)},
			"WithHTTPClient: it does not apply to a connector run with WithLocalExecutable"},
		{"source-x", core.KindSource, []connector.Option{connector.WithDockerImage(""), connector.WithClock(time.Now)},
			"WithClock: it does not apply to a connector run with WithDockerImage"},
		{"destination-echo", core.KindDestination, []connector.Option{connector.WithClock(time.Now)},
			"WithClock: it applies only to a connector run from a declarative manifest, and this one runs as destination-echo (in process)"},
		{"destination-x", core.KindDestination, []connector.Option{connector.WithManifest("m.yaml")},
			"WithManifest: a declarative manifest describes a source"},
		{"source-x", core.KindSource, []connector.Option{connector.WithManifest(42)},
			"WithManifest: it takes a path or URL (string), the manifest's text ([]byte) or a map[string]any, not int"},
		{"source-x", core.KindSource, []connector.Option{connector.WithManifest(" ")}, "WithManifest: an empty path"},
		// PyAirbyte's source_manifest=True (run_pokeapi.py), ported as it
		// reads: the error says what does the same here.
		{"source-x", core.KindSource, []connector.Option{connector.WithManifest(true)},
			"WithManifest: it takes a path or URL (string), the manifest's text ([]byte) or a map[string]any, not bool; " +
				"for PyAirbyte's source_manifest=True give no WithManifest: a source the registry marks manifest-only runs from its published manifest"},
		// A manifest's text in a string, not a []byte: a newcomer's first try.
		// It was read as a file name, and the error quoted the whole manifest.
		{"source-x", core.KindSource, []connector.Option{connector.WithManifest("version: 6.7.0\ntype: DeclarativeSource\n")},
			"WithManifest: a string is a path or URL, and this one holds a line break, as a manifest's text does; pass the text as []byte(m)"},
		{"source-x", core.KindSource, []connector.Option{connector.WithManifest("m.yaml"), connector.WithHTTPClient(nil)},
			"WithHTTPClient: it needs a value, not nil"},
	} {
		_, err := core.New[*connector.Connector, connector.Option](ctx, c.kind, c.name, append(c.opts, connector.WithEnvironment(env))...)
		var oe *connector.OptionError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an *OptionError saying %q", c.name, err, c.want)
		}
	}
}

// redirect sends every request to another base URL, keeping the path.
type redirect struct{ to string }

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	u := *req.URL
	u.Scheme, u.Host = "http", strings.TrimPrefix(r.to, "http://")
	out.URL, out.Host = &u, u.Host
	return http.DefaultTransport.RoundTrip(out)
}

// mustJSON converts YAML text to JSON.
func mustJSON(t *testing.T, yamlText string) []byte {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(yamlText), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestManifestDebugLogsMasked: the engine of a manifest run in process logs
// its requests to the connector's logger at debug level. A secret it does
// not know as one (a reference resolved into a field the manifest's spec
// does not mark airbyte_secret, here sent as a query parameter) is masked
// there as in every other output, even when the program's handler does not
// mask.
func TestManifestDebugLogsMasked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, _ := itemsServer(t)
	account := "acct-" + strings.ReplaceAll(t.Name(), "/", "") + "-5e0c9a"
	manifest := strings.Replace(itemsManifest(srv.URL),
		`request_parameters: {until: "{{ now_utc().strftime('%Y-%m-%d') }}"}`,
		`request_parameters: {until: "{{ now_utc().strftime('%Y-%m-%d') }}", account: "{{ config['account'] }}"}`, 1)
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := offline(t)
	env.AddSecretManager(vault{"MANIFEST_ACCOUNT": account})
	c, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-items", connector.WithEnvironment(env),
		connector.WithManifest([]byte(manifest)), connector.WithLogger(logger),
		connector.WithConfig(map[string]any{"token": "t0ken", "account": "secret_reference::MANIFEST_ACCOUNT"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), account) {
		t.Errorf("the secret reached the logger:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "account=****") {
		t.Errorf("the engine did not log the request, masked:\n%s", logs.String())
	}
	// Its lines name the connector, as every other line of a connector
	// does: a program's handler tells one connector's requests from
	// another's.
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, "msg=request") && !strings.Contains(line, "connector=source-items") {
			t.Errorf("a request line does not name its connector: %s", line)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestRegistryManifestPinned resolves a connector that the registry says is
// manifest-only, pinned with WithVersion: the pinned manifest is
// downloaded and run natively. A knob that does not apply is refused
// naming the way the connector resolved to, not an option never given.
func TestRegistryManifestPinned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	api, _ := itemsServer(t)
	var paths sync.Map
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths.Store(r.URL.Path, true)
		if r.URL.Path != "/source-items/1.2.0/manifest.yaml" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(itemsManifest(api.URL)))
	}))
	defer site.Close()
	dir := t.TempDir()
	regFile := filepath.Join(dir, "registry.json")
	os.WriteFile(regFile, []byte(`{"sources": [{"dockerRepository": "airbyte/source-items", "dockerImageTag": "1.3.0",
		"language": "manifest-only"}], "destinations": []}`), 0o644)
	env := connector.NewEnvironment()
	env.SetRegistry(registry.NewLoader(registry.WithLocalRegistry(regFile), registry.WithManifestURL(site.URL),
		registry.WithCacheDir(filepath.Join(dir, "cache")), registry.WithManifestDir("")))

	c, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-items", connector.WithEnvironment(env),
		connector.WithVersion("1.2.0"), connector.WithConfig(map[string]any{"token": "t0ken"}))
	if err != nil {
		t.Fatalf("pinned: %v", err)
	}
	if core.ConnOf(c).Executor().Method().Kind != executor.KindInProcess || c.Version(ctx) != "1.2.0" {
		t.Fatalf("pinned: runs as %s version %q, want natively, version 1.2.0", c, c.Version(ctx))
	}
	if _, ok := paths.Load("/source-items/1.2.0/manifest.yaml"); !ok {
		t.Fatal("the pinned manifest was not downloaded")
	}
	if got := readItems(t, c); len(got) != 2 {
		t.Fatalf("records %v", got)
	}
	_, err = core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-items", connector.WithEnvironment(env),
		connector.WithVersion("1.2.0"), connector.WithEnv("A=1"))
	if !errors.Is(err, connector.ErrInvalidOption) ||
		!strings.Contains(err.Error(), "WithEnv: it does not apply to a connector run from its published manifest") {
		t.Fatalf("WithEnv: %v", err)
	}
}

// countingTransport counts the requests it carries to srv.
type countingTransport struct {
	redirect
	n atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.redirect.RoundTrip(req)
}

// TestEnvironmentHTTPClient: a server gives each tenant's Environment the
// client its manifest connectors make requests with, found in a manifest
// directory with no option given, and still builds its other connectors
// with the same options; WithHTTPClient, given, wins.
func TestEnvironmentHTTPClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, _ := itemsServer(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "source-items"), 0o755)
	os.WriteFile(filepath.Join(dir, "source-items", "manifest.yaml"), []byte(itemsManifest("https://api.example.invalid")), 0o644)
	env := connector.NewEnvironment()
	env.SetRegistry(registry.NewLoader(registry.WithOffline(true), registry.WithCacheDir(""), registry.WithManifestDir(dir)))
	env.RegisterConnector("destination-echo", func() any { return echoDest{} })
	env.RegisterConnector("source-declarative-manifest", func() any { return manifestsource.New() })
	tenant := &countingTransport{redirect: redirect{to: srv.URL}}
	env.SetHTTPClient(&http.Client{Transport: tenant})
	cfg := connector.WithConfig(map[string]any{"token": "t0ken"})

	c, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-items", connector.WithEnvironment(env), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(ctx); err != nil || tenant.n.Load() == 0 {
		t.Fatalf("check: %v after %d requests through the Environment's client", err, tenant.n.Load())
	}
	if got := readItems(t, c); len(got) != 2 {
		t.Fatalf("records %v, want 2", got)
	}

	var asMap map[string]any
	json.Unmarshal(mustJSON(t, itemsManifest("https://api.example.invalid")), &asMap)
	before := tenant.n.Load()
	c, err = core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-declarative-manifest", connector.WithEnvironment(env),
		connector.WithConfig(map[string]any{"token": "t0ken", "__injected_declarative_manifest": asMap}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(ctx); err != nil || tenant.n.Load() == before {
		t.Fatalf("source-declarative-manifest: check: %v, no request through the Environment's client", err)
	}

	// Connectors that make no HTTP requests of the engine's are not
	// affected: the Environment's client is no option of theirs.
	if _, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(env)); err != nil {
		t.Fatalf("an in-process destination of the Environment: %v", err)
	}

	given := &countingTransport{redirect: redirect{to: srv.URL}}
	before = tenant.n.Load()
	c, err = core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-items", connector.WithEnvironment(env), cfg,
		connector.WithHTTPClient(&http.Client{Transport: given}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(ctx); err != nil || given.n.Load() == 0 || tenant.n.Load() != before {
		t.Fatalf("check: %v; %d requests through the client given, %d through the Environment's", err, given.n.Load(), tenant.n.Load()-before)
	}
}

// refusingTransport answers every request with 403 Forbidden itself, as a
// tenant's client refusing an address should: the engine then fails the
// request at once, as the CDK fails a 403, where an error from the client
// is a network failure to it, retried for half a minute.
type refusingTransport struct{ n atomic.Int64 }

func (r *refusingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.n.Add(1)
	return &http.Response{StatusCode: http.StatusForbidden, Status: "403 Forbidden", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"text/plain"}}, Body: io.NopCloser(strings.NewReader("refused by the tenant's client")), Request: req}, nil
}

// TestEnvironmentHTTPClientRefuses: a request the Environment's client
// refuses with a 403 of its own fails the read on the first try as a
// config error, the README's advice for a tenant's client.
func TestEnvironmentHTTPClientRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := connector.NewEnvironment()
	refuse := &refusingTransport{}
	env.SetHTTPClient(&http.Client{Transport: refuse})
	c, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-items", connector.WithEnvironment(env),
		connector.WithManifest([]byte(itemsManifest("http://169.254.169.254"))), connector.WithConfig(map[string]any{"token": "t0ken"}))
	if err != nil {
		t.Fatal(err)
	}
	cat := protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{
		Stream:   protocol.Stream{Name: "items", JSONSchema: json.RawMessage(`{"type":"object"}`), SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}},
		SyncMode: protocol.SyncFullRefresh, DestinationSyncMode: protocol.DestinationOverwrite}}}
	cc, _ := json.Marshal(cat)
	var runErr error
	for _, err := range core.ConnOf(c).Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: cc}) {
		if err != nil {
			runErr = err
		}
	}
	var ce *executor.ConnectorError
	if !errors.As(runErr, &ce) || ce.FailureType != protocol.FailureConfig || !strings.Contains(ce.Message, "Forbidden") {
		t.Fatalf("read: %v, want a config error saying Forbidden", runErr)
	}
	if n := refuse.n.Load(); n != 1 {
		t.Fatalf("%d requests, want 1: a 403 is not retried", n)
	}
}
