package registry

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const fixture = "testdata/oss_registry.json"

func readFixture(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// registryServer serves the fixture on 127.0.0.1 and counts requests.
type registryServer struct {
	*httptest.Server
	hits atomic.Int64
	body atomic.Pointer[[]byte]
	code atomic.Int64
}

func newRegistryServer(t *testing.T, body []byte) *registryServer {
	t.Helper()
	s := &registryServer{}
	s.body.Store(&body)
	s.code.Store(http.StatusOK)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if r.URL.Path != "/files/registries/v0/oss_registry.json" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(s.code.Load()))
		w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *registryServer) registryURL() string {
	return s.URL + "/files/registries/v0/oss_registry.json"
}

func logTo(buf *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(buf, nil)) }

// isolate keeps a test away from the user's environment and cache.
func isolate(t *testing.T) {
	t.Setenv(envLocalRegistry, "")
	t.Setenv(envOfflineMode, "")
	t.Setenv(envManifestDir, "")
	t.Setenv(envManifestURL, "")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
}

func TestParseFixture(t *testing.T) {
	reg, err := parse(bytes.NewReader(readFixture(t)), fixture)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"destination-duckdb", "destination-postgres", "source-cockroachdb", "source-facebook-pages",
		"source-faker", "source-file", "source-github", "source-pokeapi", "source-postgres"}
	if got := reg.names(); !slices.Equal(got, want) {
		t.Fatalf("names = %v, want %v", got, want)
	}
	gh := reg.lookup("source-github")
	if gh == nil || gh.Kind != KindSource || gh.DefinitionID != "ef69ef6e-aa7f-4af1-a01d-ef775033524e" ||
		gh.DockerRepository != "airbyte/source-github" || gh.DockerImageTag != "1.8.31" || gh.Language != "python" ||
		gh.PyPIPackage != "airbyte-source-github" || !gh.PyPIEnabled || gh.DisplayName != "GitHub" ||
		gh.ReleaseStage != "generally_available" || gh.SupportLevel != "certified" ||
		gh.DocumentationURL != "https://docs.airbyte.com/integrations/sources/github" || !gh.hasTag("cdk:python") {
		t.Fatalf("source-github parsed as %+v", gh)
	}
	duck := reg.lookup("airbyte/destination-duckdb")
	if duck == nil || duck.Name != "destination-duckdb" || duck.Kind != KindDestination ||
		duck.DefinitionID != "94bd199c-2ff0-4aa2-b98e-17f0acb72610" || duck.PyPIPackage != "destination-duckdb" {
		t.Fatalf("destination-duckdb parsed as %+v", duck)
	}
	// The language comes from the tags when the field is missing.
	if fb := reg.lookup("source-facebook-pages"); fb.Language != "python" {
		t.Fatalf("facebook-pages language = %q", fb.Language)
	}
	if !reg.lookup("source-cockroachdb").Tombstone {
		t.Fatal("tombstone not parsed")
	}
}

func TestConnectorsByInstallType(t *testing.T) {
	reg, err := parseBytes(readFixture(t), fixture)
	if err != nil {
		t.Fatal(err)
	}
	reg = merge(reg.Source, builtins, reg)
	names := func(t InstallType) []string {
		var out []string
		for _, c := range reg.connectors(t) {
			out = append(out, c.Name)
		}
		return out
	}
	cases := map[InstallType][]string{
		InstallPython: {"destination-duckdb", "source-facebook-pages", "source-github"},
		InstallYAML:   {"source-pokeapi"}, // facebook-pages is low-code but a Python package
		InstallJava:   {"destination-postgres", "source-postgres"},
		InstallDocker: {"destination-duckdb", "destination-local-json", "destination-postgres", "source-declarative-manifest",
			"source-facebook-pages", "source-faker", "source-file", "source-github", "source-pokeapi", "source-postgres"},
	}
	cases[InstallAny] = cases[InstallDocker]
	for typ, want := range cases {
		if got := names(typ); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", typ, got, want)
		}
	}
	for in, want := range map[string]InstallType{"": InstallAny, "manifest": InstallYAML, "Docker": InstallDocker, "pypi": InstallPython} {
		if got, err := ParseInstallType(in); err != nil || got != want {
			t.Errorf("ParseInstallType(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseInstallType("rust"); err == nil {
		t.Error("unknown install type accepted")
	}
}

func TestMalformedRegistry(t *testing.T) {
	cases := []struct {
		name, doc, want string
		line            int
	}{
		{"syntax", "{\n  \"sources\": [\n    {\"dockerRepository\": \"airbyte/source-x\",}\n  ]\n}", "invalid character", 3},
		{"type", "{\"sources\": [],\n  \"destinations\": 12}", "destinations", 2},
		{"not a registry", `{"connectors": []}`, "neither", 0},
		{"truncated", `{"sources": [{"dockerRepository": "airbyte/sou`, "unexpected end", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseBytes([]byte(c.doc), "/tmp/reg.json")
			var me *malformedRegistryError
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a *malformedRegistryError", err)
			}
			if me.Source != "/tmp/reg.json" || me.Line != c.line || !strings.Contains(err.Error(), c.want) ||
				!strings.Contains(err.Error(), "/tmp/reg.json") {
				t.Fatalf("got line %d: %v", me.Line, err)
			}
		})
	}
}

// TestMalformedEntryIsSkipped: an entry without dockerRepository, or with
// a field of the wrong type, is one bad upstream entry: it is skipped and
// logged, every other connector still resolves, and a lookup of its name
// says the entry is malformed rather than that there is no such connector;
// also from the disk cache, which keeps the verdict.
func TestMalformedEntryIsSkipped(t *testing.T) {
	isolate(t)
	doc := []byte(`{"sources": [
  {"name": "Good", "dockerRepository": "airbyte/source-good", "dockerImageTag": "1.0.0"},
  {"name": "No repository", "remoteRegistries": {"pypi": {"packageName": "airbyte-source-norepo"}}},
  {"name": "Bad tag", "dockerRepository": "airbyte/source-badtag", "dockerImageTag": 12}
], "destinations": [{"name": "Dest", "dockerRepository": "airbyte/destination-good"}]}`)
	srv := newRegistryServer(t, doc)
	dir := t.TempDir()
	ctx := context.Background()
	for _, from := range []string{"the download", "the disk cache"} {
		var logged bytes.Buffer
		l := NewLoader(withURL(srv.registryURL()), WithCacheDir(dir), WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
		for _, name := range []string{"source-good", "destination-good", "airbyte/source-good"} {
			if c, err := l.Lookup(ctx, name); err != nil || c.DockerRepository != "airbyte/"+strings.TrimPrefix(name, "airbyte/") {
				t.Fatalf("%s: %s: %+v, %v", from, name, c, err)
			}
		}
		for name, why := range map[string]string{"source-norepo": "dockerRepository is missing", "source-badtag": "dockerImageTag", "airbyte/source-badtag": "dockerImageTag"} {
			_, err := l.Lookup(ctx, name)
			var me *malformedRegistryError
			if !errors.As(err, &me) || errors.As(err, new(*NotFoundError)) {
				t.Fatalf("%s: %s: %v; want a *malformedRegistryError", from, name, err)
			}
			short := strings.TrimPrefix(name, "airbyte/")
			for _, want := range []string{`entry of connector "` + short + `" is malformed`, why, "other connectors are unaffected"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s: %s: %q lacks %q", from, name, err, want)
				}
			}
		}
		if _, err := l.Lookup(ctx, "source-nothere"); !errors.As(err, new(*NotFoundError)) {
			t.Errorf("%s: an unknown name: %v", from, err)
		}
		for _, want := range []string{"source-norepo", "source-badtag"} {
			if !strings.Contains(logged.String(), "malformed") || !strings.Contains(logged.String(), want) {
				t.Errorf("%s: the log does not report %s: %q", from, want, logged.String())
			}
		}
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("%d downloads, want 1 (the second loader reads the disk cache)", n)
	}
}

func TestLoaderFetchesAndCaches(t *testing.T) {
	isolate(t)
	srv := newRegistryServer(t, readFixture(t))
	dir := t.TempDir()
	ctx := context.Background()

	l := NewLoader(withURL(srv.registryURL()), WithCacheDir(dir))
	reg, err := l.current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if reg.lookup("source-github") == nil || reg.lookup("destination-local-json") == nil {
		t.Fatalf("loaded registry lacks entries: %v", reg.names())
	}
	if srv.hits.Load() != 1 {
		t.Fatalf("hits = %d", srv.hits.Load())
	}
	// The same loader reuses its in-memory copy; a new loader the disk cache.
	if _, err := l.current(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLoader(withURL(srv.registryURL()), WithCacheDir(dir)).current(ctx); err != nil {
		t.Fatal(err)
	}
	if srv.hits.Load() != 1 {
		t.Fatalf("cache not used: hits = %d", srv.hits.Load())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "registry-*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	// The cache holds the same entries in a slimmer registry document.
	cached, err := readFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	direct, _ := parseBytes(readFixture(t), fixture)
	if !slices.Equal(cached.names(), direct.names()) {
		t.Fatalf("cached names %v", cached.names())
	}
	for _, n := range direct.names() {
		if !reflect.DeepEqual(*cached.lookup(n), *direct.lookup(n)) {
			t.Errorf("cached %s = %+v, want %+v", n, *cached.lookup(n), *direct.lookup(n))
		}
	}
	if st, _ := os.Stat(files[0]); st.Size() >= int64(len(readFixture(t))) {
		t.Errorf("cache file is %d bytes, not slimmer than the document", st.Size())
	}

	// Past the TTL, the registry is fetched again.
	old := time.Now().Add(-25 * time.Hour)
	if err := os.Chtimes(files[0], old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLoader(withURL(srv.registryURL()), WithCacheDir(dir)).current(ctx); err != nil {
		t.Fatal(err)
	}
	if srv.hits.Load() != 2 {
		t.Fatalf("stale cache not refreshed: hits = %d", srv.hits.Load())
	}
	if st, _ := os.Stat(files[0]); st.ModTime().Before(time.Now().Add(-time.Hour)) {
		t.Fatal("cache file not rewritten")
	}

	// A shorter TTL applies to the disk cache too.
	if _, err := NewLoader(withURL(srv.registryURL()), WithCacheDir(dir), withTTL(time.Nanosecond)).current(ctx); err != nil {
		t.Fatal(err)
	}
	if srv.hits.Load() != 3 {
		t.Fatalf("TTL ignored: hits = %d", srv.hits.Load())
	}
}

// TestCacheFromTheFutureIsStale: a cache file dated after now (the clock
// was set back, or the file came from another machine) is of no known
// age; taking it for fresh would keep it until the clock caught up.
func TestCacheFromTheFutureIsStale(t *testing.T) {
	isolate(t)
	srv := newRegistryServer(t, readFixture(t))
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := NewLoader(withURL(srv.registryURL()), WithCacheDir(dir)).current(ctx); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "registry-*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	future := time.Now().Add(30 * 24 * time.Hour)
	if err := os.Chtimes(files[0], future, future); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLoader(withURL(srv.registryURL()), WithCacheDir(dir)).current(ctx); err != nil {
		t.Fatal(err)
	}
	if srv.hits.Load() != 2 {
		t.Fatalf("a cache dated 30 days ahead was taken for fresh: hits = %d, want 2", srv.hits.Load())
	}
	if st, _ := os.Stat(files[0]); st.ModTime().After(time.Now().Add(time.Hour)) {
		t.Fatal("cache file not rewritten")
	}

	// A cached manifest of "latest" likewise.
	msrv := newManifestServer(t)
	msrv.set("/source-m/latest/manifest.yaml", []byte("version: 6.7.0\n"))
	ml := NewLoader(WithManifestURL(msrv.URL), WithCacheDir(dir))
	if _, err := ml.Manifest(ctx, "source-m", ""); err != nil {
		t.Fatal(err)
	}
	mpath := filepath.Join(dir, "manifests", "source-m", "latest", cachedCurrent) // its mtime is the download's
	if err := os.Chtimes(mpath, future, future); err != nil {
		t.Fatal(err)
	}
	if _, err := ml.Manifest(ctx, "source-m", ""); err != nil {
		t.Fatal(err)
	}
	if n := msrv.count("/source-m/latest/manifest.yaml"); n != 2 {
		t.Fatalf("a manifest cached 30 days ahead was taken for fresh: %d downloads, want 2", n)
	}
}

func TestLoaderNetworkFailure(t *testing.T) {
	isolate(t)
	srv := newRegistryServer(t, readFixture(t))
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := NewLoader(withURL(srv.registryURL()), WithCacheDir(dir)).current(ctx); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "registry-*.json"))
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(files[0], old, old)

	// The server fails: the stale copy is used, with a warning.
	srv.code.Store(http.StatusInternalServerError)
	var logs bytes.Buffer
	reg, err := NewLoader(withURL(srv.registryURL()), WithCacheDir(dir), WithLogger(logTo(&logs))).current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if reg.lookup("source-pokeapi") == nil {
		t.Fatal("stale cache not used")
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "stale") ||
		!strings.Contains(logs.String(), "500") {
		t.Fatalf("no warning logged: %s", logs.String())
	}

	// With no cache at all the failure is an unavailableError naming the URL.
	_, err = NewLoader(withURL(srv.registryURL()), WithCacheDir(t.TempDir())).current(ctx)
	var ue *unavailableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), srv.registryURL()) || !strings.Contains(err.Error(), "500") {
		t.Fatalf("got %v", err)
	}
	// ... but built-in connectors still resolve.
	c, err := NewLoader(withURL(srv.registryURL()), WithCacheDir(t.TempDir())).Lookup(ctx, "destination-local-json")
	if err != nil || !c.BuiltIn {
		t.Fatalf("built-in lookup: %v %v", c, err)
	}

	// A server that never answers is cut off by the timeout.
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-block:
		}
	}))
	defer slow.Close()
	defer close(block)
	_, err = NewLoader(withURL(slow.URL), WithCacheDir(t.TempDir()), withTimeout(100*time.Millisecond)).current(ctx)
	if !errors.As(err, &ue) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: got %v", err)
	}

	// A malformed download is not cached and names the URL.
	srv.code.Store(http.StatusOK)
	bad := []byte(`{"sources": [}`)
	srv.body.Store(&bad)
	emptyDir := t.TempDir()
	_, err = NewLoader(withURL(srv.registryURL()), WithCacheDir(emptyDir)).current(ctx)
	var me *malformedRegistryError
	if !errors.As(err, &me) || me.Source != srv.registryURL() {
		t.Fatalf("malformed download: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "cannot be read") || strings.Contains(msg, "check the network") {
		t.Errorf("a registry that came but cannot be read is not a network problem: %v", err)
	}
	if files, _ := filepath.Glob(filepath.Join(emptyDir, "*")); len(files) != 0 {
		t.Fatalf("malformed registry cached: %v", files)
	}
}

func TestOfflineMode(t *testing.T) {
	isolate(t)
	srv := newRegistryServer(t, readFixture(t))
	ctx := context.Background()
	t.Setenv(envOfflineMode, "true")

	// No cache: only the built-ins, and no request.
	var logs bytes.Buffer
	l := NewLoader(withURL(srv.registryURL()), WithCacheDir(t.TempDir()), WithLogger(logTo(&logs)))
	cs, err := l.Available(ctx, InstallAny)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 || cs[0].Name != "destination-local-json" || cs[1].Name != "source-declarative-manifest" || cs[2].Name != "source-faker" {
		t.Fatalf("offline connectors: %v", cs)
	}
	if !strings.Contains(logs.String(), envOfflineMode) {
		t.Fatalf("no offline warning: %s", logs.String())
	}
	_, err = l.Lookup(ctx, "source-github")
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Registry != builtinSource {
		t.Fatalf("offline lookup: %v", err)
	}
	// It says why only the built-ins are known, and how to know more: it
	// used to say only "not in the registry (built-in)".
	for _, want := range []string{envOfflineMode, "no copy of Airbyte's registry is cached", envLocalRegistry} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("offline lookup: the error does not say %q: %v", want, err)
		}
	}

	// With a manifest directory, the warning counts its sources among
	// those available: it said "only built-in connectors", and a nightly
	// job that then read source-buzzsprout from the directory was told
	// the opposite of what happened.
	manifests := t.TempDir()
	if err := os.MkdirAll(filepath.Join(manifests, "source-mything"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(manifests, "source-mything", "manifest.yaml"), []byte("version: 6.0.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	if _, err := NewLoader(withURL(srv.registryURL()), WithCacheDir(t.TempDir()), WithManifestDir(manifests), WithLogger(logTo(&logs))).
		Lookup(ctx, "source-mything"); err != nil {
		t.Fatal(err)
	}
	if got := logs.String(); !strings.Contains(got, envOfflineMode) || !strings.Contains(got, manifests) || strings.Contains(got, "only built-in connectors are") {
		t.Errorf("offline with a manifest directory: the warning does not name the directory as a source of connectors: %s", got)
	}

	// A stale disk cache is used offline.
	dir := t.TempDir()
	if _, err := NewLoader(withURL(srv.registryURL()), WithCacheDir(dir), WithOffline(false)).current(ctx); err != nil {
		t.Fatal(err)
	}
	hits := srv.hits.Load()
	files, _ := filepath.Glob(filepath.Join(dir, "registry-*.json"))
	old := time.Now().Add(-100 * time.Hour)
	os.Chtimes(files[0], old, old)
	c, err := NewLoader(withURL(srv.registryURL()), WithCacheDir(dir)).Lookup(ctx, "source-github")
	if err != nil || c.DockerImageTag != "1.8.31" {
		t.Fatalf("offline with cache: %v %v", c, err)
	}
	// A local registry URL is refused offline.
	_, err = NewLoader(WithLocalRegistry(srv.registryURL())).current(ctx)
	if err == nil || !strings.Contains(err.Error(), envOfflineMode) {
		t.Fatalf("offline local URL: %v", err)
	}
	if srv.hits.Load() != hits {
		t.Fatal("offline mode made a request")
	}
}

func TestLocalRegistry(t *testing.T) {
	isolate(t)
	ctx := context.Background()
	srv := newRegistryServer(t, readFixture(t))
	// The standard URL points at a server that must not be asked.
	never := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("standard registry fetched while a local one is set: %s", r.URL)
	}))
	defer never.Close()

	abs, _ := filepath.Abs(fixture)
	for _, local := range []string{abs, srv.registryURL()} {
		t.Setenv(envLocalRegistry, local)
		dir := t.TempDir()
		l := NewLoader(withURL(never.URL), WithCacheDir(dir))
		reg, err := l.current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if reg.Source != local || reg.lookup("source-postgres") == nil || reg.lookup("source-faker") == nil {
			t.Fatalf("local %s: %s %v", local, reg.Source, reg.names())
		}
		if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
			t.Fatalf("local registry cached: %v", files)
		}
	}

	t.Setenv(envLocalRegistry, filepath.Join(t.TempDir(), "missing.json"))
	if _, err := NewLoader(withURL(never.URL)).current(ctx); err == nil || !strings.Contains(err.Error(), envLocalRegistry) {
		t.Fatalf("missing local registry: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{\"sources\": [\n  {\"dockerRepository\": \"airbyte/source-x\",}\n]}"), 0o644)
	t.Setenv(envLocalRegistry, bad)
	_, err := NewLoader(withURL(never.URL)).current(ctx)
	var me *malformedRegistryError
	if !errors.As(err, &me) || me.Source != bad || me.Line != 2 {
		t.Fatalf("malformed local registry: %v", err)
	}
}

func TestLookupBuiltinsAndSuggestions(t *testing.T) {
	isolate(t)
	ctx := context.Background()
	abs, _ := filepath.Abs(fixture)
	l := NewLoader(WithLocalRegistry(abs))

	// Our faker wins the bare name; Airbyte's stays reachable by repository.
	ours, err := l.Lookup(ctx, "source-faker")
	if err != nil || !ours.BuiltIn || ours.DockerRepository+":"+ours.DockerImageTag != "goairbyte/source-faker:0.1.0" || ours.Language != "go" {
		t.Fatalf("source-faker: %+v %v", ours, err)
	}
	theirs, err := l.Lookup(ctx, "airbyte/source-faker")
	if err != nil || theirs.BuiltIn || theirs.PyPIPackage != "airbyte-source-faker" {
		t.Fatalf("airbyte/source-faker: %+v %v", theirs, err)
	}
	reg, _ := l.current(ctx)
	if reg.lookup("source-faker") != ours {
		t.Fatal("built-in does not win in the merged registry")
	}
	if d, err := l.Lookup(ctx, "destination-local-json"); err != nil || d.Kind != KindDestination ||
		d.DockerRepository+":"+d.DockerImageTag != "goairbyte/destination-local-json:0.1.0" {
		t.Fatalf("destination-local-json: %+v %v", d, err)
	}

	for name, want := range map[string]string{"source-githib": "source-github", "github": "source-github", "source-postgre": "source-postgres"} {
		_, err := l.Lookup(ctx, name)
		var nf *NotFoundError
		if !errors.As(err, &nf) || len(nf.Suggestions) == 0 || nf.Suggestions[0] != want || !strings.Contains(err.Error(), want) {
			t.Errorf("Lookup(%q): %v", name, err)
		}
	}
	_, err = l.Lookup(ctx, "zzzzzzzzzzzzzz")
	var nf *NotFoundError
	if !errors.As(err, &nf) || len(nf.Suggestions) != 0 || !strings.Contains(err.Error(), "AvailableConnectors") {
		t.Errorf("no suggestions expected: %v", err)
	}
}

func TestDefaultLoaderFromEnvironment(t *testing.T) {
	isolate(t)
	abs, _ := filepath.Abs(fixture)
	t.Setenv(envLocalRegistry, abs)
	l := NewLoader()
	cs, err := l.Available(context.Background(), InstallJava)
	if err != nil || len(cs) != 2 {
		t.Fatalf("Available: %v %v", cs, err)
	}
	c, err := l.Lookup(context.Background(), "source-pokeapi")
	if err != nil || !c.Supports(InstallYAML) {
		t.Fatalf("Lookup: %v %v", c, err)
	}
	if _, err := l.Available(context.Background(), "rust"); err == nil {
		t.Fatal("bad install type accepted")
	}
}

// Online, with Airbyte's registry unreachable and no copy of it cached,
// Available lists what runs without it, as offline mode does: the built-in
// connectors and the sources of the manifest directory, with a warning
// that says why the registry's are missing. It failed, listing nothing.
// The failure is not remembered: the next call asks the registry again.
// A registry given on purpose (WithLocalRegistry) that cannot be read still
// fails.
func TestAvailableWithTheRegistryUnreachable(t *testing.T) {
	isolate(t)
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/registry.json"
	ln.Close() // nothing listens there now: connecting is refused
	manifests := t.TempDir()
	if err := os.MkdirAll(filepath.Join(manifests, "source-mything"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(manifests, "source-mything", "manifest.yaml"), []byte("version: 6.0.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	l := NewLoader(withURL(refused), WithCacheDir(t.TempDir()), WithOffline(false), WithManifestDir(manifests), WithLogger(logTo(&logs)))
	cs, err := l.Available(ctx, InstallAny)
	if err != nil {
		t.Fatalf("Available: %v", err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	if want := []string{"destination-local-json", "source-declarative-manifest", "source-faker", "source-mything"}; !slices.Equal(names, want) {
		t.Fatalf("Available: %v, want %v", names, want)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), refused) || !strings.Contains(logs.String(), "refused") {
		t.Errorf("no warning that names the registry and the failure: %s", logs.String())
	}
	if cs, err := l.Available(ctx, InstallPython); err != nil || len(cs) != 0 {
		t.Errorf("Available(python): %v, %v; want none (the built-ins install no Python package)", cs, err)
	}
	// Not remembered: a registry back up is used by the next call.
	srv := newRegistryServer(t, readFixture(t))
	l.url = srv.registryURL()
	if cs, err := l.Available(ctx, InstallAny); err != nil || len(cs) < 10 {
		t.Errorf("with the registry back: %d connectors, %v", len(cs), err)
	}
	// A local registry that cannot be read is the user's choice gone wrong.
	if _, err := NewLoader(WithLocalRegistry(refused), WithOffline(false)).Available(ctx, InstallAny); err == nil {
		t.Error("an unreachable local registry: no error")
	}
}

// In a container HOME is often unset (or an unwritable directory) and so
// is XDG_CACHE_HOME: there is no disk cache. Before, nothing said so: the
// registry and manifests were downloaded again by every run (goab from
// cron every few seconds), and offline mode said only "no cached copy",
// not where it looked nor which variable gives it a place.
func TestNoUserCacheDirIsSaid(t *testing.T) {
	isolate(t)
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	srv := newRegistryServer(t, readFixture(t))
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ctx := context.Background()

	if _, err := NewLoader(withURL(srv.registryURL()), WithLogger(logger)).current(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "downloaded on every run") || !strings.Contains(logs.String(), envCacheHome) {
		t.Errorf("a registry fetched with no disk cache is not said, nor the variable that gives one:\n%s", logs.String())
	}
	logs.Reset()
	if _, err := NewLoader(withURL(srv.registryURL()), WithLogger(logger), WithOffline(true)).current(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), envCacheHome) {
		t.Errorf("offline mode with no disk cache does not name %s:\n%s", envCacheHome, logs.String())
	}
	_, err := NewLoader(WithManifestURL(srv.URL), WithOffline(true)).Manifest(ctx, "source-x", "")
	if err == nil || !strings.Contains(err.Error(), envCacheHome) {
		t.Errorf("an offline manifest with no disk cache: %v", err)
	}
	// A cache disabled on purpose is not warned of.
	logs.Reset()
	if _, err := NewLoader(withURL(srv.registryURL()), WithLogger(logger), WithCacheDir("")).current(ctx); err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 0 {
		t.Errorf("WithCacheDir(\"\") logged:\n%s", logs.String())
	}
}
