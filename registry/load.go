package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/x/goairbyte/internal/atomicfile"
	"github.com/x/goairbyte/internal/httpbody"
)

// defaultURL is Airbyte's public OSS connector registry.
const defaultURL = "https://connectors.airbyte.com/files/registries/v0/oss_registry.json"

// The defaults of a [Loader].
const (
	DefaultTimeout = 10 * time.Second
	defaultTTL     = 24 * time.Hour
)

// The environment variables a Loader reads (PyAirbyte's names), and the
// one that moves its disk cache (os.UserCacheDir's, which falls back on
// $HOME/.cache on Linux).
const (
	envLocalRegistry = "AIRBYTE_LOCAL_REGISTRY"
	envOfflineMode   = "AIRBYTE_OFFLINE_MODE"
	envCacheHome     = "XDG_CACHE_HOME"
)

// Loader loads the registry and keeps it: in memory and on disk, each for
// the TTL. It is safe for concurrent use. Create one with [NewLoader].
type Loader struct {
	url      string
	local    string
	cacheDir string
	// noCacheDir is why there is no disk cache when none was chosen: no
	// user cache directory (XDG_CACHE_HOME and HOME unset, as in a
	// container); nil otherwise.
	noCacheDir error
	client     *http.Client
	timeout    time.Duration
	ttl        time.Duration
	offline    bool
	logger     *slog.Logger
	now        func() time.Time

	manifestURL string // where manifests are downloaded from
	manifestDir string // where they are read from instead, when set

	mu       sync.Mutex
	loaded   *index
	loadedAt time.Time
}

// Option configures a [Loader].
type Option func(*Loader)

// withURL fetches the registry from u instead of Airbyte's OSS registry.
func withURL(u string) Option { return func(l *Loader) { l.url = u } }

// WithLocalRegistry reads the registry from a file path or URL, with no
// disk cache, as AIRBYTE_LOCAL_REGISTRY does. It overrides the variable.
func WithLocalRegistry(pathOrURL string) Option { return func(l *Loader) { l.local = pathOrURL } }

// WithCacheDir keeps the disk cache in dir. An empty dir disables the disk
// cache.
func WithCacheDir(dir string) Option {
	return func(l *Loader) { l.cacheDir, l.noCacheDir = dir, nil }
}

// WithHTTPClient fetches with c instead of http.DefaultClient.
func WithHTTPClient(c *http.Client) Option { return func(l *Loader) { l.client = c } }

// withTimeout bounds each fetch (default [DefaultTimeout]).
func withTimeout(d time.Duration) Option { return func(l *Loader) { l.timeout = d } }

// withTTL sets how long a loaded registry is reused, in memory and on disk,
// before it is fetched again (default 24 hours).
func withTTL(d time.Duration) Option { return func(l *Loader) { l.ttl = d } }

// WithOffline forbids (true) or allows (false) network access, overriding
// AIRBYTE_OFFLINE_MODE.
func WithOffline(offline bool) Option { return func(l *Loader) { l.offline = offline } }

// WithManifestURL downloads manifests from base instead of
// Airbyte's metadata bucket (and GOAIRBYTE_MANIFEST_URL): a mirror, or a test
// server.
func WithManifestURL(base string) Option { return func(l *Loader) { l.manifestURL = base } }

// WithManifestDir reads manifests from dir (<dir>/<name>/manifest.yaml)
// instead of downloading them, as GOAIRBYTE_MANIFEST_DIR does (a pinned
// version must be the dockerImageTag of <dir>/<name>/metadata.yaml); ""
// downloads again.
func WithManifestDir(dir string) Option { return func(l *Loader) { l.manifestDir = dir } }

// WithLogger logs warnings (a stale cache in use, a malformed entry
// skipped) to logger; by default they are discarded.
func WithLogger(logger *slog.Logger) Option { return func(l *Loader) { l.logger = logger } }

// NewLoader returns a Loader configured from the environment
// (AIRBYTE_LOCAL_REGISTRY, AIRBYTE_OFFLINE_MODE, GOAIRBYTE_MANIFEST_DIR,
// GOAIRBYTE_MANIFEST_URL, os.UserCacheDir) and then from opts.
func NewLoader(opts ...Option) *Loader {
	l := &Loader{
		url:     defaultURL,
		local:   os.Getenv(envLocalRegistry),
		client:  http.DefaultClient,
		timeout: DefaultTimeout,
		ttl:     defaultTTL,
		offline: truthy(os.Getenv(envOfflineMode)),
		now:     time.Now,

		manifestURL: os.Getenv(envManifestURL),
		manifestDir: os.Getenv(envManifestDir),
	}
	if l.manifestURL == "" {
		l.manifestURL = defaultManifestURL
	}
	if dir, err := os.UserCacheDir(); err == nil {
		l.cacheDir = filepath.Join(dir, "goairbyte", "registry")
	} else {
		l.noCacheDir = fmt.Errorf("no disk cache (%w): set %s to a writable directory", err, envCacheHome)
	}
	for _, opt := range opts {
		opt(l)
	}
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	return l
}

// cacheWhere says where the disk cache is, or why there is none.
func (l *Loader) cacheWhere() string {
	switch {
	case l.noCacheDir != nil:
		return l.noCacheDir.Error()
	case l.cacheDir == "":
		return "none"
	}
	return l.cacheDir
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on", "y", "t":
		return true
	}
	return false
}

// unavailableError says that the registry could be neither fetched nor
// read from the disk cache. The built-in connectors still resolve.
type unavailableError struct {
	// URL is the registry's address (withURL, or the standard registry).
	URL string
	// Err is why the fetched copy cannot be used: the fetch's error, or a
	// *malformedRegistryError when it came but could not be read.
	Err error
}

// Error says what failed and how to work offline: a registry that came
// but could not be read is not a network problem.
func (e *unavailableError) Error() string {
	var me *malformedRegistryError
	if errors.As(e.Err, &me) {
		return fmt.Sprintf("connector registry %s cannot be read and there is no cached copy: %v; set %s to a registry file, or set %s=1 to use only the built-in connectors",
			e.URL, e.Err, envLocalRegistry, envOfflineMode)
	}
	return fmt.Sprintf("connector registry %s is unavailable and there is no cached copy: %v; check the network, set %s to a registry file, or set %s=1 to use only the built-in connectors",
		e.URL, e.Err, envLocalRegistry, envOfflineMode)
}

// Unwrap returns the fetch error.
func (e *unavailableError) Unwrap() error { return e.Err }

// current returns the registry: the built-in entries merged with the local
// registry, or with the standard registry from memory, the fresh disk
// cache, the network or a stale disk cache, in that order. In offline mode
// with no local registry and no cache it returns the built-ins alone.
func (l *Loader) current(ctx context.Context) (*index, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.loaded != nil && l.now().Sub(l.loadedAt) < l.ttl {
		return l.loaded, nil
	}
	reg, err := l.load(ctx)
	if err != nil {
		return nil, err
	}
	for _, me := range reg.malformed {
		l.logger.Warn("skipping a malformed connector registry entry", "registry", reg.Source, "connector", me.connector, "problem", me.Detail)
	}
	l.loaded, l.loadedAt = merge(reg.Source, builtins, reg), l.now()
	return l.loaded, nil
}

func (l *Loader) load(ctx context.Context) (*index, error) {
	if l.local != "" {
		return l.loadLocal(ctx)
	}
	cache := l.cachePath()
	if cache != "" {
		if st, err := os.Stat(cache); err == nil && l.fresh(l.now().Sub(st.ModTime())) {
			if reg, err := readFile(cache); err == nil {
				return reg, nil
			} else {
				l.logger.Warn("ignoring a corrupt registry cache", "file", cache, "error", err)
			}
		}
	}
	if l.offline {
		if reg, err := l.stale(cache); err == nil {
			l.logger.Info("offline mode: using the cached connector registry", "file", cache)
			return reg, nil
		}
		if l.manifestDir != "" {
			l.logger.Warn("offline mode and no cached connector registry: only built-in connectors and the manifest directory's sources are available",
				"variable", envOfflineMode, "dir", l.manifestDir, "cache", l.cacheWhere())
		} else {
			l.logger.Warn("offline mode and no cached connector registry: only built-in connectors are available",
				"variable", envOfflineMode, "cache", l.cacheWhere())
		}
		return &index{Source: builtinSource}, nil
	}
	if l.noCacheDir != nil {
		l.logger.Warn("the connector registry is downloaded on every run", "url", l.url, "cache", l.noCacheDir.Error())
	}
	data, err := l.fetch(ctx, l.url)
	if err == nil {
		var reg *index
		var w *wireRegistry
		if reg, w, err = parseWire(data, l.url); err == nil {
			if slim, merr := json.Marshal(w); merr == nil {
				l.writeCache(cache, slim)
			}
			return reg, nil
		}
	}
	if ctx.Err() != nil {
		return nil, err
	}
	if reg, serr := l.stale(cache); serr == nil {
		l.logger.Warn("connector registry unreachable, using a stale cached copy", "url", l.url, "file", cache, "error", err)
		return reg, nil
	}
	return nil, &unavailableError{URL: l.url, Err: err}
}

// fresh reports whether a cached file of this age is within the TTL. A
// negative age — a file dated after now, because the clock was set back or
// the file came from elsewhere — says nothing of when it was fetched: it
// is stale, or it would pass for fresh until the clock caught up.
func (l *Loader) fresh(age time.Duration) bool { return age >= 0 && age < l.ttl }

func (l *Loader) loadLocal(ctx context.Context) (*index, error) {
	if isURL(l.local) {
		if l.offline {
			return nil, fmt.Errorf("registry: %s is the URL %s but %s forbids network access; point it at a file instead",
				envLocalRegistry, l.local, envOfflineMode)
		}
		data, err := l.fetch(ctx, l.local)
		if err != nil {
			return nil, err
		}
		return parseBytes(data, l.local)
	}
	reg, err := readFile(l.local)
	if err != nil {
		return nil, fmt.Errorf("registry: %s=%s: %w", envLocalRegistry, l.local, err)
	}
	return reg, nil
}

func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https")
}

func readFile(path string) (*index, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseBytes(data, path)
}

// stale reads the disk cache whatever its age.
func (l *Loader) stale(cache string) (*index, error) {
	if cache == "" {
		return nil, errors.New("no disk cache")
	}
	return readFile(cache)
}

func (l *Loader) fetch(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("registry: bad URL %q: %w", u, err)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("registry: fetching %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("registry: fetching %s: HTTP %s", u, resp.Status)
	}
	data, err := httpbody.Read(resp.Body, httpbody.MaxRegistry)
	if err != nil {
		return nil, fmt.Errorf("registry: reading %s: %w", u, err)
	}
	return data, nil
}

// cachePath is the disk cache file for the loader's URL; one file per URL
// so that switching URLs never serves another registry's copy.
func (l *Loader) cachePath() string {
	if l.cacheDir == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(l.url))
	return filepath.Join(l.cacheDir, "registry-"+hex.EncodeToString(sum[:6])+".json")
}

// writeCache stores data atomically (temp file + rename) so that a
// concurrent reader never sees half a registry. Failing to cache is only
// worth a warning.
func (l *Loader) writeCache(path string, data []byte) {
	if path == "" {
		return
	}
	err := func() error {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		return atomicfile.Write(path, data, 0o600)
	}()
	if err != nil {
		l.logger.Warn("could not cache the connector registry", "file", path, "error", err, "fix", "set "+envCacheHome+" to a writable directory")
	}
}
