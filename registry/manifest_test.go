package registry

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/filelock"
	"github.com/x/goairbyte/internal/httpbody"
)

// manifestServer serves Airbyte's layout of manifest files:
// /<name>/<version>/manifest.yaml and components.zip, from files, 404 for
// the rest. It counts the requests per path.
type manifestServer struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
	fail  bool // answer 500 to everything
}

func newManifestServer(t *testing.T) *manifestServer {
	s := &manifestServer{files: map[string][]byte{}, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.hits[r.URL.Path]++
		if s.fail {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		body, ok := s.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *manifestServer) set(path string, body []byte) {
	s.mu.Lock()
	s.files[path] = body
	s.mu.Unlock()
}

func (s *manifestServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func zipOf(t *testing.T, name, body string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestManifestDownloadAndCache(t *testing.T) {
	isolate(t)
	srv := newManifestServer(t)
	srv.set("/source-x/latest/manifest.yaml", []byte("version: 6.7.0\n"))
	srv.set("/source-x/1.2.3/manifest.yaml", []byte("version: 6.1.0\n"))
	srv.set("/source-x/1.2.3/components.zip", zipOf(t, "components.py", "class C: pass\n"))
	cache := t.TempDir()
	l := NewLoader(WithManifestURL(srv.URL), WithCacheDir(cache))
	ctx := context.Background()

	m, err := l.Manifest(ctx, "source-x", "")
	if err != nil {
		t.Fatal(err)
	}
	if string(m.YAML) != "version: 6.7.0\n" || m.ComponentsPy != nil || m.Version != "latest" || !strings.HasPrefix(m.From, srv.URL) {
		t.Fatalf("latest: %+v", m)
	}
	if srv.count("/source-x/latest/components.zip") != 1 {
		t.Fatal("components.zip was not asked for")
	}
	// Within the TTL the disk cache answers.
	if m, err = l.Manifest(ctx, "source-x", "latest"); err != nil || !strings.HasPrefix(m.From, cache) {
		t.Fatalf("second latest: %+v %v", m, err)
	}
	if n := srv.count("/source-x/latest/manifest.yaml"); n != 1 {
		t.Fatalf("latest downloaded %d times within the TTL", n)
	}

	// A pinned version (leading v dropped) with Python code; kept forever.
	m, err = l.Manifest(ctx, "source-x", "v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if string(m.ComponentsPy) != "class C: pass\n" || m.Version != "1.2.3" {
		t.Fatalf("pinned: %+v", m)
	}
	expired := NewLoader(WithManifestURL(srv.URL), WithCacheDir(cache), withTTL(0))
	if m, err = expired.Manifest(ctx, "source-x", "1.2.3"); err != nil || string(m.ComponentsPy) != "class C: pass\n" {
		t.Fatalf("pinned from the cache: %+v %v", m, err)
	}
	if n := srv.count("/source-x/1.2.3/manifest.yaml"); n != 1 {
		t.Fatalf("a pinned version was downloaded %d times", n)
	}

	// latest past its TTL is downloaded again; when that fails, the stale
	// copy is used.
	srv.set("/source-x/latest/manifest.yaml", []byte("version: 6.8.0\n"))
	if m, err = expired.Manifest(ctx, "source-x", ""); err != nil || string(m.YAML) != "version: 6.8.0\n" {
		t.Fatalf("expired latest: %+v %v", m, err)
	}
	srv.mu.Lock()
	srv.fail = true
	srv.mu.Unlock()
	if m, err = expired.Manifest(ctx, "source-x", ""); err != nil || string(m.YAML) != "version: 6.8.0\n" {
		t.Fatalf("stale latest: %+v %v", m, err)
	}
}

func TestManifestOffline(t *testing.T) {
	isolate(t)
	srv := newManifestServer(t)
	srv.set("/source-x/latest/manifest.yaml", []byte("version: 6.7.0\n"))
	cache := t.TempDir()
	ctx := context.Background()

	cold := NewLoader(WithManifestURL(srv.URL), WithCacheDir(cache), WithOffline(true))
	_, err := cold.Manifest(ctx, "source-x", "")
	var me *ManifestError
	if !errors.As(err, &me) || !me.Offline || !strings.Contains(err.Error(), envOfflineMode) || !strings.Contains(err.Error(), envManifestDir) {
		t.Fatalf("cold offline: %v", err)
	}
	if n := srv.count("/source-x/latest/manifest.yaml"); n != 0 {
		t.Fatal("offline mode downloaded")
	}

	if _, err := NewLoader(WithManifestURL(srv.URL), WithCacheDir(cache)).Manifest(ctx, "source-x", ""); err != nil {
		t.Fatal(err)
	}
	// Warm: the cache answers even past the TTL.
	warm := NewLoader(WithManifestURL(srv.URL), WithCacheDir(cache), WithOffline(true), withTTL(0))
	if m, err := warm.Manifest(ctx, "source-x", ""); err != nil || string(m.YAML) != "version: 6.7.0\n" {
		t.Fatalf("warm offline: %+v %v", m, err)
	}
	if n := srv.count("/source-x/latest/manifest.yaml"); n != 1 {
		t.Fatalf("%d downloads, want the one online", n)
	}
}

func TestManifestErrors(t *testing.T) {
	isolate(t)
	srv := newManifestServer(t)
	srv.set("/source-zip/latest/manifest.yaml", []byte("version: 6.7.0\n"))
	srv.set("/source-zip/latest/components.zip", []byte("not a zip"))
	srv.set("/source-nopy/latest/manifest.yaml", []byte("version: 6.7.0\n"))
	srv.set("/source-nopy/latest/components.zip", zipOf(t, "other.py", ""))
	l := NewLoader(WithManifestURL(srv.URL), WithCacheDir(t.TempDir()), withTimeout(5*time.Second))
	for name, want := range map[string]string{
		"source-missing": "HTTP 404",
		"source-zip":     "not a zip archive",
		"source-nopy":    "no components.py",
	} {
		_, err := l.Manifest(context.Background(), name, "")
		var me *ManifestError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), srv.URL+"/"+name+"/latest/manifest.yaml") {
			t.Errorf("%s: %v, want a ManifestError with %q and the URL", name, err, want)
		}
	}
}

// TestManifestZipBomb: components.zip is bounded as downloaded, but a
// small archive can unpack to any size; unpacking it must stop at the same
// bound instead of filling memory.
func TestManifestZipBomb(t *testing.T) {
	isolate(t)
	srv := newManifestServer(t)
	srv.set("/source-bomb/latest/manifest.yaml", []byte("version: 6.7.0\n"))
	srv.set("/source-bomb/latest/components.zip", zipOf(t, "components.py", strings.Repeat("#", httpbody.MaxManifest+1)))
	l := NewLoader(WithManifestURL(srv.URL), WithCacheDir(t.TempDir()), withTimeout(20*time.Second))
	m, err := l.Manifest(context.Background(), "source-bomb", "")
	var tooLarge *httpbody.TooLargeError
	if !errors.As(err, &tooLarge) || !strings.Contains(err.Error(), "components.py") {
		n := 0
		if m != nil {
			n = len(m.ComponentsPy)
		}
		t.Fatalf("a components.py of more than %d bytes: %d bytes read, error %v; want a TooLargeError that names components.py", httpbody.MaxManifest, n, err)
	}
}

func TestManifestDir(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "source-a"), 0o755)
	os.WriteFile(filepath.Join(dir, "source-a", "manifest.yaml"), []byte("version: 6.7.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "source-a", "components.py"), []byte("x = 1\n"), 0o644)
	t.Setenv(envManifestDir, dir)
	t.Setenv(envManifestURL, "http://127.0.0.1:1") // never used
	l := NewLoader()
	m, err := l.Manifest(context.Background(), "source-a", "")
	if err != nil || string(m.ComponentsPy) != "x = 1\n" || m.From != filepath.Join(dir, "source-a", "manifest.yaml") {
		t.Fatalf("%+v %v", m, err)
	}
	if _, err := l.Manifest(context.Background(), "source-b", ""); err == nil || !strings.Contains(err.Error(), envManifestDir) {
		t.Fatalf("missing from the directory: %v", err)
	}
}

// TestManifestDirPinned: the directory holds one version of a connector,
// the one its metadata.yaml names (as in Airbyte's monorepo; a manifest's
// own version field is the CDK's). A pin on another version, or on a
// connector whose version cannot be told, fails naming both versions
// instead of running whatever the directory holds.
func TestManifestDirPinned(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	for name, meta := range map[string]string{
		"source-a": "data:\n  dockerImageTag: 1.2.3\n  dockerRepository: airbyte/source-a\n",
		"source-b": "",
	} {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		os.WriteFile(filepath.Join(dir, name, "manifest.yaml"), []byte("version: 6.7.0\n"), 0o644)
		if meta != "" {
			os.WriteFile(filepath.Join(dir, name, "metadata.yaml"), []byte(meta), 0o644)
		}
	}
	t.Setenv(envManifestDir, dir)
	t.Setenv(envManifestURL, "http://127.0.0.1:1") // never used
	l := NewLoader()
	ctx := context.Background()
	for _, pin := range []string{"1.2.3", "v1.2.3", "latest", ""} {
		if m, err := l.Manifest(ctx, "source-a", pin); err != nil || m.From != filepath.Join(dir, "source-a", "manifest.yaml") {
			t.Errorf("pin %q on the version the directory holds: %+v %v", pin, m, err)
		}
	}
	for _, tc := range []struct{ name, pin, want string }{
		{"source-a", "1.2.4", "1.2.3"},
		{"source-a", "6.7.0", "1.2.3"}, // the CDK's version is not the connector's
		{"source-b", "1.0.0", "metadata.yaml"},
	} {
		m, err := l.Manifest(ctx, tc.name, tc.pin)
		if err == nil {
			t.Errorf("%s pinned to %s ran the directory's manifest: %+v", tc.name, tc.pin, m)
			continue
		}
		for _, w := range []string{envManifestDir, tc.pin, tc.want} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s pinned to %s: the error %q does not say %q", tc.name, tc.pin, err, w)
			}
		}
	}
}

// TestManifestNotAManifest: a download answered 200 with something that
// is not a manifest (a proxy's or captive portal's HTML page) is an error
// and is not cached: a pinned version is never downloaded again, so a
// cached page would stand for the manifest for good.
func TestManifestNotAManifest(t *testing.T) {
	isolate(t)
	srv := newManifestServer(t)
	const path = "/source-x/1.0.0/manifest.yaml"
	srv.set(path, []byte("<!DOCTYPE html>\n<html><body>Sign in to the Wi-Fi</body></html>\n"))
	l := NewLoader(WithManifestURL(srv.URL), WithCacheDir(t.TempDir()), withTimeout(5*time.Second))
	ctx := context.Background()
	_, err := l.Manifest(ctx, "source-x", "1.0.0")
	var me *ManifestError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "not a manifest") || !strings.Contains(err.Error(), srv.URL+path) {
		t.Fatalf("an HTML page: %v, want a ManifestError saying it is not a manifest", err)
	}
	srv.set(path, []byte("version: 6.7.0\ntype: DeclarativeSource\n"))
	m, err := l.Manifest(ctx, "source-x", "1.0.0")
	if err != nil || !strings.HasPrefix(string(m.YAML), "version: 6.7.0") {
		t.Fatalf("once the real manifest is served: %v %q", err, m.YAML)
	}
	if n := srv.count(path); n != 2 {
		t.Fatalf("%d downloads, want 2: the page must not have been cached", n)
	}
}

// TestManifestCacheConcurrentRefresh: two writers refresh one cached
// manifest at once — sometimes with the same version, sometimes with
// another — while a reader reads it in a loop. No write fails (a lost race
// is no error), and the reader always finds a whole manifest: never none,
// never the manifest of one version with the components of another.
func TestManifestCacheConcurrentRefresh(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "manifests", "source-r", "latest")
	l := NewLoader(WithCacheDir(filepath.Dir(filepath.Dir(filepath.Dir(dir)))))
	version := func(n int) *Manifest {
		m := &Manifest{Connector: "source-r", Version: "latest", YAML: []byte(fmt.Sprintf("version: %d\n", n))}
		if n%2 == 0 { // even versions have Python code, odd ones none
			m.ComponentsPy = []byte(fmt.Sprintf("# %d\n", n))
		}
		return m
	}
	if err := writeManifestCache(context.Background(), dir, version(0), nil); err != nil {
		t.Fatal(err)
	}
	const rounds = 100
	var wg sync.WaitGroup
	errs := make(chan error, 3*rounds)
	stop := make(chan struct{})
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				// Both writers write the same version half the time.
				if err := writeManifestCache(context.Background(), dir, version(i/2*2+w*(i%2)), nil); err != nil {
					errs <- fmt.Errorf("writer %d, round %d: %w", w, i, err)
					return
				}
			}
		}()
	}
	readerDone := make(chan struct{})
	reads := 0
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			reads++
			m, _, err := l.readManifestCache(dir, "source-r", "latest")
			if err != nil {
				errs <- fmt.Errorf("read %d: %w", reads, err)
				return
			}
			var n int
			if _, err := fmt.Sscanf(string(m.YAML), "version: %d\n", &n); err != nil {
				errs <- fmt.Errorf("read %d: manifest %q", reads, m.YAML)
				return
			}
			want := version(n).ComponentsPy
			if !bytes.Equal(m.ComponentsPy, want) {
				errs <- fmt.Errorf("read %d: version %d with components %q, want %q", reads, n, m.ComponentsPy, want)
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-readerDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d reads", reads)
}

// TestManifestCacheEarlierLayout: a manifest cached by a release that kept
// its files directly in the version's directory is still read, and the
// next refresh replaces that layout.
func TestManifestCacheEarlierLayout(t *testing.T) {
	isolate(t)
	cache := t.TempDir()
	dir := filepath.Join(cache, "manifests", "source-o", "1.0.0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, cachedComponents), []byte("x = 1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, cachedManifest), []byte("version: 1\n"), 0o644)
	srv := newManifestServer(t)
	l := NewLoader(WithManifestURL(srv.URL), WithCacheDir(cache))
	m, err := l.Manifest(context.Background(), "source-o", "1.0.0")
	if err != nil || string(m.YAML) != "version: 1\n" || string(m.ComponentsPy) != "x = 1\n" {
		t.Fatalf("%+v %v", m, err)
	}
	if err := writeManifestCache(context.Background(), dir, &Manifest{YAML: []byte("version: 2\n")}, nil); err != nil {
		t.Fatal(err)
	}
	if m, _, err = l.readManifestCache(dir, "source-o", "1.0.0"); err != nil || string(m.YAML) != "version: 2\n" || m.ComponentsPy != nil {
		t.Fatalf("after a refresh: %+v %v", m, err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 3 { // the content directory, current, .lock
		t.Fatalf("left in the version's directory: %v", names)
	}
}

// A process stopped while it stores a manifest holds the cache's turn:
// a download elsewhere still returns, within the loader's timeout, without
// caching (a warning says so) rather than waiting for ever.
func TestManifestCacheStuckWriter(t *testing.T) {
	isolate(t)
	srv := newManifestServer(t)
	srv.set("/source-s/1.0.0/manifest.yaml", []byte("version: 1\n"))
	cache := t.TempDir()
	var log bytes.Buffer
	l := NewLoader(WithManifestURL(srv.URL), WithCacheDir(cache), withTimeout(2*time.Second),
		WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	dir := l.manifestCacheDir("source-s", "1.0.0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	unlock, err := filelock.Lock(context.Background(), filepath.Join(dir, cachedLock), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	type result struct {
		m   *Manifest
		err error
	}
	done := make(chan result, 1)
	go func() {
		m, err := l.Manifest(context.Background(), "source-s", "1.0.0")
		done <- result{m, err}
	}()
	select {
	case r := <-done:
		if r.err != nil || string(r.m.YAML) != "version: 1\n" {
			t.Fatalf("%+v %v", r.m, r.err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Manifest still waits for a stuck writer after 60 s")
	}
	if !strings.Contains(log.String(), "could not cache the manifest") {
		t.Fatalf("no warning: %s", log.String())
	}
}

// TestManifestDirServesUnlistedNames: a name the registry does not list
// but the manifest directory holds (<dir>/<name>/manifest.yaml) is a
// manifest-only source; a name in neither place is a *NotFoundError that
// says where it was looked for, the directory included, and suggests the
// directory's names too. A name the registry lists stays the registry's.
func TestManifestDirServesUnlistedNames(t *testing.T) {
	isolate(t)
	ctx := context.Background()
	abs, _ := filepath.Abs(fixture)
	t.Setenv(envLocalRegistry, abs)
	dir := t.TempDir()
	for _, name := range []string{"source-mything", "source-pokeapi"} {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		os.WriteFile(filepath.Join(dir, name, "manifest.yaml"), []byte("version: 6.7.0\n"), 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "source-empty"), 0o755) // no manifest.yaml
	l := NewLoader(WithManifestDir(dir))

	c, err := l.Lookup(ctx, "source-mything")
	if err != nil || c.Name != "source-mything" || c.Kind != KindSource || !c.Supports(InstallYAML) ||
		c.Supports(InstallDocker) || c.Supports(InstallPython) || c.BuiltIn {
		t.Fatalf("source-mything from the manifest directory: %+v %v", c, err)
	}
	if m, err := l.Manifest(ctx, c.Name, ""); err != nil || string(m.YAML) != "version: 6.7.0\n" {
		t.Fatalf("its manifest: %+v %v", m, err)
	}
	if c, err := l.Lookup(ctx, "source-pokeapi"); err != nil || c.DockerRepository != "airbyte/source-pokeapi" {
		t.Fatalf("a registered name: %+v %v, want the registry's entry", c, err)
	}

	for _, name := range []string{"source-nothing", "source-empty", "../" + filepath.Base(dir) + "/source-mything"} {
		_, err = l.Lookup(ctx, name)
		var nf *NotFoundError
		if !errors.As(err, &nf) || !strings.Contains(err.Error(), abs) || !strings.Contains(err.Error(), envManifestDir+"="+dir) ||
			!strings.Contains(err.Error(), filepath.Join(name, "manifest.yaml")) {
			t.Errorf("%s: got %v, want a *NotFoundError naming the registry and the manifest directory", name, err)
		}
	}
	_, err = l.Lookup(ctx, "source-mythin")
	var nf *NotFoundError
	if !errors.As(err, &nf) || len(nf.Suggestions) == 0 || nf.Suggestions[0] != "source-mything" {
		t.Errorf("a near miss: %v, want source-mything suggested", err)
	}

	// Available lists it beside the registry's, where it fits the install
	// type, and the registered name the directory holds only once.
	for _, tc := range []struct {
		t    InstallType
		want bool
	}{{InstallAny, true}, {InstallYAML, true}, {InstallDocker, false}, {InstallPython, false}} {
		cs, err := l.Available(ctx, tc.t)
		if err != nil {
			t.Fatal(err)
		}
		var mine, pokeapi int
		for i, c := range cs {
			if i > 0 && cs[i-1].Name >= c.Name {
				t.Errorf("Available(%s) not sorted: %s before %s", tc.t, cs[i-1].Name, c.Name)
			}
			switch c.Name {
			case "source-mything":
				mine++
			case "source-pokeapi":
				pokeapi++
			case "source-empty":
				t.Errorf("Available(%s) lists source-empty, which has no manifest", tc.t)
			}
		}
		if (mine == 1) != tc.want || pokeapi > 1 {
			t.Errorf("Available(%s): source-mything %d times, source-pokeapi %d times", tc.t, mine, pokeapi)
		}
	}

	// With no manifest directory, neither the name nor the directory.
	_, err = NewLoader().Lookup(ctx, "source-mything")
	if !errors.As(err, &nf) || strings.Contains(err.Error(), envManifestDir) {
		t.Errorf("without a manifest directory: %v", err)
	}
}

// TestManifestDirWithoutRegistry: a source the manifest directory holds
// resolves when the registry can be neither fetched nor read from the disk
// cache (a machine without its network, not told offline), with a
// warning; a name it does not hold still gets the registry's error.
func TestManifestDirWithoutRegistry(t *testing.T) {
	isolate(t)
	ctx := context.Background()
	srv := newRegistryServer(t, readFixture(t))
	srv.code.Store(http.StatusInternalServerError)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "source-mything"), 0o755)
	os.WriteFile(filepath.Join(dir, "source-mything", "manifest.yaml"), []byte("version: 6.7.0\n"), 0o644)
	var logs bytes.Buffer
	l := NewLoader(withURL(srv.registryURL()), WithCacheDir(t.TempDir()), WithManifestDir(dir), WithLogger(logTo(&logs)))

	c, err := l.Lookup(ctx, "source-mything")
	if err != nil || c.Name != "source-mything" || !c.Supports(InstallYAML) {
		t.Fatalf("source-mything with the registry down: %+v %v", c, err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "manifest directory") {
		t.Errorf("no warning that the registry was not used: %s", logs.String())
	}
	var ue *unavailableError
	if _, err := l.Lookup(ctx, "source-otherthing"); !errors.As(err, &ue) {
		t.Errorf("a name the directory does not hold, with the registry down: %v, want the registry's error", err)
	}
}
