package registry

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/x/goairbyte/internal/atomicfile"
	"github.com/x/goairbyte/internal/filelock"
	"github.com/x/goairbyte/internal/httpbody"
	"gopkg.in/yaml.v3"
)

// defaultManifestURL is where Airbyte publishes the files of each
// manifest-only connector: <base>/<name>/<version>/manifest.yaml, and
// components.zip beside it when the connector needs Python code.
const defaultManifestURL = "https://connectors.airbyte.com/files/metadata/airbyte"

// The environment variables that change where [Loader.Manifest] finds
// manifests.
const (
	// envManifestDir names a directory of manifests used instead of any
	// download: <dir>/<name>/manifest.yaml (with components.py beside it
	// when the connector has Python code), the layout of Airbyte's
	// monorepo. A pinned version must be the one the metadata.yaml beside
	// the manifest names (data.dockerImageTag).
	envManifestDir = "GOAIRBYTE_MANIFEST_DIR"
	// envManifestURL replaces defaultManifestURL, for a mirror.
	envManifestURL = "GOAIRBYTE_MANIFEST_URL"
)

// Manifest is a manifest-only connector's definition, as [Loader.Manifest]
// found it.
type Manifest struct {
	// Connector is the connector's name, such as "source-pokeapi".
	Connector string
	// Version is the version asked for: "latest" or a pinned "1.2.3".
	Version string
	// YAML is the text of manifest.yaml.
	YAML []byte
	// ComponentsPy is the Python code the manifest's custom components
	// live in (components.py); nil when the connector has none.
	ComponentsPy []byte
	// From says where the manifest came from: a URL, a file of the
	// manifest directory or of the disk cache.
	From string
}

// ManifestError says that a connector's manifest could be neither
// downloaded nor found in the disk cache. (With a manifest directory set,
// that directory is the only place looked at, and a manifest missing from
// it is a plain error naming the file.)
type ManifestError struct {
	// Connector is the connector's name, such as "source-pokeapi".
	Connector string
	// Version is the version asked for without its leading "v", or
	// "latest".
	Version string
	// URL is the manifest's download URL ("" when no download was tried).
	URL string
	// Offline is true when offline mode forbade the download and the
	// disk cache had no copy.
	Offline bool
	// Err is the download's error, or when Offline, one saying there is no
	// cached copy.
	Err error
}

// Error says what failed and the ways to provide the manifest.
func (e *ManifestError) Error() string {
	what := fmt.Sprintf("the manifest of %s (version %s)", e.Connector, e.Version)
	fix := fmt.Sprintf("set %s to a directory holding %s/manifest.yaml, or give the manifest with connector.WithManifest",
		envManifestDir, e.Connector)
	if e.Offline {
		return fmt.Sprintf("%s is not in the disk cache and %s forbids downloading it: %v; run once online to cache it, or %s",
			what, envOfflineMode, e.Err, fix)
	}
	return fmt.Sprintf("cannot get %s from %s: %v; check the network and the version, or %s", what, e.URL, e.Err, fix)
}

// Unwrap returns the cause.
func (e *ManifestError) Unwrap() error { return e.Err }

// errNotCached is the cause of a ManifestError in offline mode.
var errNotCached = errors.New("no cached copy")

// Manifest returns the manifest of the manifest-only connector name in
// version ("" or "latest" for the newest; a leading "v" is dropped), as
// PyAirbyte finds it: from the manifest directory when one is set
// (GOAIRBYTE_MANIFEST_DIR or WithManifestDir; a pinned version must be the
// one its metadata.yaml names), else downloaded from
// <base>/<name>/<version>/manifest.yaml with components.zip beside it (a
// 404 means no Python code). Downloads are kept in the disk cache, keyed
// by name and version: a pinned version is never downloaded twice, latest
// again once the TTL has passed (the stale copy is used when the download
// fails). In offline mode only the cache is read.
func (l *Loader) Manifest(ctx context.Context, name, version string) (*Manifest, error) {
	version = strings.TrimPrefix(strings.TrimSpace(version), "v")
	if version == "" {
		version = "latest"
	}
	if l.manifestDir != "" {
		return readManifestDir(l.manifestDir, name, version)
	}
	dir := l.manifestCacheDir(name, version)
	cached, age, cerr := l.readManifestCache(dir, name, version)
	if cerr == nil && (version != "latest" || l.fresh(age)) {
		return cached, nil
	}
	u := strings.TrimSuffix(l.manifestURL, "/") + "/" + name + "/" + version + "/manifest.yaml"
	if l.offline {
		if cerr == nil {
			l.logger.Info("offline mode: using the cached manifest", "connector", name, "version", version, "file", cached.From)
			return cached, nil
		}
		err := errNotCached
		if l.noCacheDir != nil {
			err = fmt.Errorf("%w: %w", errNotCached, l.noCacheDir)
		} else if dir != "" {
			err = fmt.Errorf("%w in %s", errNotCached, dir)
		}
		return nil, &ManifestError{Connector: name, Version: version, Offline: true, Err: err}
	}
	if l.noCacheDir != nil {
		l.logger.Warn("the manifest is downloaded on every run", "connector", name, "url", u, "cache", l.noCacheDir.Error())
	}
	m, err := l.downloadManifest(ctx, name, version, u)
	if err != nil {
		if cerr == nil && ctx.Err() == nil {
			l.logger.Warn("cannot download the manifest, using a stale cached copy", "connector", name, "url", u, "error", err)
			return cached, nil
		}
		return nil, &ManifestError{Connector: name, Version: version, URL: u, Err: err}
	}
	if dir != "" {
		// Writers of one cache take turns for milliseconds; one stopped
		// while it holds the turn must not hang this download.
		wctx, cancel := context.WithTimeout(ctx, l.timeout)
		err := writeManifestCache(wctx, dir, m, l.logger)
		cancel()
		if err != nil {
			l.logger.Warn("could not cache the manifest", "connector", name, "dir", dir, "error", err, "fix", "set "+envCacheHome+" to a writable directory")
		}
	}
	return m, nil
}

// downloadManifest fetches manifest.yaml, then components.zip, whose
// components.py it keeps.
func (l *Loader) downloadManifest(ctx context.Context, name, version, u string) (*Manifest, error) {
	text, status, err := l.get(ctx, u)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d %s", status, http.StatusText(status))
	}
	if err := checkManifestText(text); err != nil {
		return nil, err
	}
	m := &Manifest{Connector: name, Version: version, YAML: text, From: u}
	zu := strings.TrimSuffix(u, "manifest.yaml") + "components.zip"
	archive, status, err := l.get(ctx, zu)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", zu, err)
	case status == http.StatusNotFound:
		return m, nil // no custom code
	case status != http.StatusOK:
		return nil, fmt.Errorf("%s: HTTP %d %s", zu, status, http.StatusText(status))
	}
	if m.ComponentsPy, err = componentsFromZip(archive); err != nil {
		return nil, fmt.Errorf("%s: %w", zu, err)
	}
	return m, nil
}

// checkManifestText reports a download that is not a manifest at all
// before it is cached: a proxy or captive portal answers 200 with an HTML
// page, and a pinned version is never downloaded again. What the manifest
// says is the engine's to judge.
func checkManifestText(text []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return fmt.Errorf("not a manifest: the body is not YAML (%v); a proxy may be answering instead of the server", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return errors.New("not a manifest: the body is not a YAML mapping; a proxy may be answering instead of the server")
	}
	return nil
}

// get fetches u within the loader's timeout and returns the body and the
// status; only a transport failure is an error.
func (l *Loader) get(ctx context.Context, u string) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("bad URL %q: %w", u, err)
	}
	req.Header.Set("User-Agent", "goairbyte")
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := httpbody.Read(resp.Body, httpbody.MaxManifest)
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", u, err)
	}
	return body, resp.StatusCode, nil
}

// componentsFromZip extracts components.py from a components.zip, within
// the bound of a download: the archive was bounded as it came, but a few
// kilobytes of it can unpack to gigabytes.
func componentsFromZip(archive []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return nil, fmt.Errorf("not a zip archive: %w", err)
	}
	f, err := zr.Open("components.py")
	if err != nil {
		return nil, errors.New("the archive has no components.py")
	}
	defer f.Close()
	py, err := httpbody.Read(f, httpbody.MaxManifest)
	if err != nil {
		return nil, fmt.Errorf("unpacking components.py: %w", err)
	}
	return py, nil
}

// readManifestDir reads <dir>/<name>/manifest.yaml and its components.py.
func readManifestDir(dir, name, version string) (*Manifest, error) {
	path := filepath.Join(dir, name, "manifest.yaml")
	yaml, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("registry: %s=%s has no manifest for %s: %w", envManifestDir, dir, name, err)
	}
	if version != "latest" {
		if err := checkManifestDirVersion(dir, name, version); err != nil {
			return nil, err
		}
	}
	m := &Manifest{Connector: name, Version: version, YAML: yaml, From: path}
	py, err := os.ReadFile(filepath.Join(dir, name, "components.py"))
	switch {
	case err == nil:
		m.ComponentsPy = py
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("registry: reading %s's components.py: %w", name, err)
	}
	return m, nil
}

// checkManifestDirVersion refuses a pinned version that the manifest
// directory does not hold: it holds one version of each connector, the
// dockerImageTag of the metadata.yaml beside its manifest (the monorepo's
// layout; a manifest's own version field is the CDK's). Without it the
// version cannot be told, and running whatever is there would ignore the
// pin.
func checkManifestDirVersion(dir, name, version string) error {
	path := filepath.Join(dir, name, "metadata.yaml")
	text, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("registry: version %s of %s was asked for, but %s=%s cannot say which version it holds: %w; "+
			"add a metadata.yaml with data.dockerImageTag beside the manifest, or ask for no version", version, name, envManifestDir, dir, err)
	}
	var meta struct {
		Data struct {
			DockerImageTag string `yaml:"dockerImageTag"`
		} `yaml:"data"`
	}
	if err := yaml.Unmarshal(text, &meta); err != nil || meta.Data.DockerImageTag == "" {
		if err == nil {
			err = errors.New("no data.dockerImageTag")
		}
		return fmt.Errorf("registry: version %s of %s was asked for, but %s does not say which version %s=%s holds: %v; "+
			"give it a data.dockerImageTag, or ask for no version", version, name, path, envManifestDir, dir, err)
	}
	if have := strings.TrimPrefix(strings.TrimSpace(meta.Data.DockerImageTag), "v"); have != version {
		return fmt.Errorf("registry: version %s of %s was asked for, but %s=%s holds version %s (%s); "+
			"put version %s there, or ask for %s or no version", version, name, envManifestDir, dir, have, path, version, have)
	}
	return nil
}

// manifestCacheDir is the cache directory of one name and version, "" when
// the disk cache is off.
func (l *Loader) manifestCacheDir(name, version string) string {
	if l.cacheDir == "" || strings.ContainsAny(name+version, `/\`) || name == ".." || version == ".." {
		return ""
	}
	return filepath.Join(l.cacheDir, "manifests", name, version)
}

// The layout of a cached manifest. The directory of a name and version
// holds one directory per content it was ever refreshed with, named by the
// content's hash (so that two processes downloading the same version write
// the same directory), and cachedCurrent, a file naming the directory in
// use, replaced atomically: a reader follows it to a whole manifest, and a
// refresh never leaves the cache empty or half written, even for a moment.
// In a content directory noComponents records that the download found no
// components.zip; manifest.yaml is written last, so a directory without it
// is incomplete and ignored. The mtime of cachedCurrent is the time of the
// last download. Writers take turns through cachedLock and remove the
// content directories no longer named. Releases before this layout kept
// the files of one content directly in the directory of the version; such
// a cache is still read, until the next refresh.
const (
	cachedManifest     = "manifest.yaml"
	cachedComponents   = "components.py"
	cachedNoComponents = "no-components"
	cachedCurrent      = "current"
	cachedLock         = ".lock"
)

// readManifestCache reads a cached manifest and its age.
func (l *Loader) readManifestCache(dir, name, version string) (*Manifest, time.Duration, error) {
	if dir == "" {
		return nil, 0, errNotCached
	}
	// A writer may switch cachedCurrent and remove the content directory
	// it named while this reads it: then the directory named now is read.
	// Each try follows a newer switch, so a few suffice unless writers
	// refresh without pause.
	const tries = 5
	for range tries {
		content, mtime, err := readCurrent(dir)
		if errors.Is(err, os.ErrNotExist) {
			m, mtime, err := readManifestFiles(dir, name, version) // the layout of earlier releases
			if err != nil {
				return nil, 0, err
			}
			return m, l.now().Sub(mtime), nil
		}
		if err != nil {
			return nil, 0, err
		}
		m, _, err := readManifestFiles(filepath.Join(dir, content), name, version)
		if err == nil {
			return m, l.now().Sub(mtime), nil
		}
		if now, _, cerr := readCurrent(dir); cerr != nil || now == content {
			return nil, 0, err // not a writer's switch: a damaged cache
		}
	}
	return nil, 0, errNotCached
}

// readCurrent returns the content directory that cachedCurrent in dir
// names, and the file's mtime.
func readCurrent(dir string) (string, time.Time, error) {
	f, err := os.Open(filepath.Join(dir, cachedCurrent))
	if err != nil {
		return "", time.Time{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", time.Time{}, err
	}
	b, err := httpbody.Read(f, 256)
	if err != nil {
		return "", time.Time{}, err
	}
	name := strings.TrimSpace(string(b))
	if !validContentName(name) {
		return "", time.Time{}, errNotCached // written by hand or by something else
	}
	return name, st.ModTime(), nil
}

// contentName names the content directory of m: the hash of what the
// directory holds.
func contentName(m *Manifest) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\n", len(m.YAML))
	h.Write(m.YAML)
	if m.ComponentsPy != nil {
		fmt.Fprintf(h, "%d\n", len(m.ComponentsPy))
		h.Write(m.ComponentsPy)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// validContentName tells a name contentName can return.
func validContentName(name string) bool {
	if len(name) != 32 {
		return false
	}
	_, err := hex.DecodeString(name)
	return err == nil
}

// readManifestFiles reads the files of a cached manifest in dir, and the
// mtime of manifest.yaml.
func readManifestFiles(dir, name, version string) (*Manifest, time.Time, error) {
	path := filepath.Join(dir, cachedManifest)
	f, err := os.Open(path)
	if err != nil {
		return nil, time.Time{}, errNotCached
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	yaml, err := io.ReadAll(f)
	if err != nil {
		return nil, time.Time{}, err
	}
	m := &Manifest{Connector: name, Version: version, YAML: yaml, From: path}
	if py, err := os.ReadFile(filepath.Join(dir, cachedComponents)); err == nil {
		m.ComponentsPy = py
	} else if _, err := os.Stat(filepath.Join(dir, cachedNoComponents)); err != nil {
		return nil, time.Time{}, errNotCached // written by hand or half written
	}
	return m, st.ModTime(), nil
}

// writeManifestCache stores m in dir: its content directory, written under
// a temporary name and renamed, then cachedCurrent switched to it, so that
// a reader finds the old manifest or the new one, whole. Writers take
// turns; one that finds the content directory written already (another
// process downloaded the same version) only switches to it.
func writeManifestCache(ctx context.Context, dir string, m *Manifest, logger *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	unlock, err := filelock.Lock(ctx, filepath.Join(dir, cachedLock), logger, "the disk cache of the manifest of "+m.Connector+", to store a download (another process stores one)")
	if err != nil {
		return err
	}
	defer unlock()
	content := contentName(m)
	if _, err := os.Stat(filepath.Join(dir, content, cachedManifest)); err != nil {
		if err := writeManifestFiles(dir, content, m); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(filepath.Join(dir, cachedCurrent), []byte(content+"\n"), 0o644); err != nil {
		return err
	}
	// What is not current goes: older contents, the temporary directories
	// of writers killed before their rename (writers hold the lock), the
	// files of the earlier layout. Readers still in an old content retry.
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil // the cache is right; only tidying failed
	}
	for _, e := range entries {
		switch n := e.Name(); {
		case n == content || n == cachedCurrent || n == cachedLock || strings.HasPrefix(n, "."+cachedCurrent+"."):
		default:
			os.RemoveAll(filepath.Join(dir, n))
		}
	}
	return nil
}

// writeManifestFiles writes the content directory dir/content of m.
func writeManifestFiles(dir, content string, m *Manifest) error {
	tmp, err := os.MkdirTemp(dir, ".manifest-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	comp, body := cachedNoComponents, []byte{}
	if m.ComponentsPy != nil {
		comp, body = cachedComponents, m.ComponentsPy
	}
	if err := os.WriteFile(filepath.Join(tmp, comp), body, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, cachedManifest), m.YAML, 0o644); err != nil {
		return err
	}
	final := filepath.Join(dir, content)
	// An incomplete directory of that name is a writer's killed before
	// manifest.yaml; writers take turns, so it is no one's now.
	if err := os.RemoveAll(final); err != nil {
		return err
	}
	return os.Rename(tmp, final)
}
