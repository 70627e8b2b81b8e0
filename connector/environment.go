package connector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"weak"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/airbytedirs"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/cachelink"
	"github.com/x/goairbyte/internal/secretchain"
	"github.com/x/goairbyte/internal/termsafe"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/registry"
	"github.com/x/goairbyte/secrets"
)

// Environment is what connectors of one program, or of one tenant of a
// server, share: the connector registry, the secret managers that resolve
// secret_reference::NAME values, the connectors that run in process, the
// default cache, the logger and the progress output. Every Source and
// Destination belongs to one: [DefaultEnvironment] unless WithEnvironment
// says otherwise, so that two tenants in one process can have separate
// registries, secrets and default caches.
//
// Its setters are safe for concurrent use and take effect for what starts
// after them. The zero Environment is not usable; call [NewEnvironment].
//
// Masking is the one thing not kept per Environment: every secret of a
// live connector is masked in every text the process writes, the logs and
// errors of every tenant (package secrets says what a tenant who reads its
// own can learn from that).
type Environment struct {
	mu         sync.Mutex
	logger     *slog.Logger
	progress   []progress.Option
	ascii      bool // set once by NewEnvironment: the locale is not UTF-8, progress is drawn in ASCII
	loader     *registry.Loader
	managers   []secrets.SecretManager
	connectors map[string]func() any
	opener     cacheOpener
	cacheDir   string
	client     *http.Client
	// installRoot is where Python connectors given no WithInstallRoot
	// get their virtualenvs, set once by NewEnvironment:
	// $AIRBYTE_INSTALL_DIR, else $AIRBYTE_PROJECT_DIR, else "" (the
	// working directory).
	installRoot string
	// processSecrets: a secret the managers do not have is looked up in
	// the process's environment variables, .env file and prompt (set for
	// the default Environment and goab's); otherwise the managers are the
	// only source, as a tenant's must be.
	processSecrets bool

	// cacheMu serialises DefaultCache, so that a cache is opened once; it
	// is not mu, so that an opener may use the Environment, and the rest
	// of the program may, while a cache opens. It is taken before mu when
	// both are.
	cacheMu sync.Mutex
	// current is the default cache of currentDir, the absolute directory
	// of the last use, held while cacheDir is that directory: reopening
	// it for each Read costs 50–100 ms. caches has every default cache
	// opened, by absolute directory, held weakly: that of a directory
	// SetCacheDir moved away from closes once nothing (a ReadResult, a
	// Dataset, the program) uses it, and a return to the directory
	// finds it while it is still in use.
	current    *cache.Cache
	currentDir string
	caches     map[string]defaultCacheRef
}

// defaultCacheRef is a default cache as its Environment refers to it:
// weakly, and closed once closed.
type defaultCacheRef struct {
	cache  weak.Pointer[cache.Cache]
	closed <-chan struct{}
}

// cacheOpener opens the default cache that lives in dir (the Environment's
// cache directory: see NewEnvironment and SetCacheDir). The root package
// goairbyte registers one that opens the DuckDB file
// dir/default_cache/default_cache.duckdb.
type cacheOpener func(ctx context.Context, dir string) (*cache.Cache, error)

var (
	defaultEnvOnce sync.Once
	defaultEnv     *Environment
)

// DefaultEnvironment returns the process-wide Environment, used by every
// Source and Destination not given another one with WithEnvironment. It is
// made as NewEnvironment makes one, on first use (the import of package
// goairbyte is one), and so reads PyAirbyte's directory variables then.
// Unlike one of NewEnvironment, it is the program's own: a secret its
// managers do not have is looked up, as PyAirbyte does, in the process's
// environment variables, then ./.env, then an interactive prompt (see
// package secrets).
func DefaultEnvironment() *Environment {
	defaultEnvOnce.Do(func() {
		defaultEnv = NewEnvironment()
		defaultEnv.useProcessSecrets() // before anyone else sees it
	})
	return defaultEnv
}

// NewEnvironment returns an Environment of its own: the registry as the
// process environment configures it (AIRBYTE_LOCAL_REGISTRY,
// AIRBYTE_OFFLINE_MODE), no secret manager, no in-process connector,
// no default cache, a logger that discards everything and no progress
// output. A library is silent until the program asks: SetLogger and
// SetProgress do. The progress it then draws is in ASCII
// (progress.WithASCII) when the process's locale (LC_ALL, LC_CTYPE, LANG)
// is not UTF-8 or TERM is dumb.
//
// Its secrets come from its own managers only (AddSecretManager), never
// from the process's environment variables, .env file or prompt, which are
// the server's, not a tenant's: a reference none of its managers has is a
// *secrets.SecretNotFoundError that says so. A program whose Environment
// should read the variables adds a manager of its own that reads os.Getenv.
//
// Its directories are PyAirbyte's, read from the process environment now,
// once, as PyAirbyte reads them at import (a value is ~-expanded and made
// absolute; an empty one is unset): the default cache's directory is
// $AIRBYTE_CACHE_ROOT, else $AIRBYTE_PROJECT_DIR/.cache, else .cache under
// the working directory of each use (SetCacheDir moves it); Python
// connectors' virtualenvs go under $AIRBYTE_INSTALL_DIR, else
// $AIRBYTE_PROJECT_DIR, else the working directory (WithInstallRoot moves
// one connector's). The library's temporary files go to $AIRBYTE_TEMP_DIR,
// else the system's temp directory, as each is made.
//
// For a tenant of a program that imports the root package goairbyte, call
// goairbyte.NewEnvironment instead: it returns an Environment like this one,
// wired as the default one is, with the DuckDB default cache and goairbyte's
// in-process connectors (source-faker, destination-local-json, …). One made
// here has neither, so its Reads and Writes need source.UseCache or
// destination.UseCache.
func NewEnvironment() *Environment {
	return &Environment{
		ascii:       !termsafe.Unicode(os.Getenv),
		logger:      slog.New(slog.DiscardHandler),
		connectors:  map[string]func() any{},
		cacheDir:    airbytedirs.CacheRoot(),
		installRoot: airbytedirs.InstallRoot(),
		caches:      map[string]defaultCacheRef{},
	}
}

// SetLogger sends the connectors' LOG messages and the library's own
// diagnostics to l; nil discards them again.
func (e *Environment) SetLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	e.mu.Lock()
	e.logger = l
	e.mu.Unlock()
}

// Logger is the Environment's logger.
func (e *Environment) Logger() *slog.Logger {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logger
}

// SetProgress makes every Read and Write report progress with these
// options (see package progress): SetProgress() alone draws on os.Stderr,
// progress.WithOutput(w) elsewhere. Without it a Read or Write writes
// nothing unless its own options ask. Where the locale is not UTF-8 the
// lines are in ASCII unless the options say progress.WithASCII(false).
func (e *Environment) SetProgress(opts ...progress.Option) {
	e.mu.Lock()
	e.progress = append([]progress.Option{}, opts...)
	e.mu.Unlock()
}

// progressOptions returns the progress options of SetProgress, with
// rendering off when progress was never asked for; the listeners and
// renderers given per call come after them.
func (e *Environment) progressOptions() []progress.Option {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.progress == nil {
		return []progress.Option{progress.WithRenderer(nil)}
	}
	return slices.Clone(e.progress)
}

// SetHTTPClient sets the client that the Environment's connectors run from
// a declarative manifest make their requests with, where WithHTTPClient
// does not give one: a tenant's egress proxy, or a client whose dialer
// refuses the server's own network. Other connectors are not affected,
// so one list of options still serves them all; nil restores the engine's
// own client.
func (e *Environment) SetHTTPClient(c *http.Client) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.client = c
}

// httpClient is the client set by SetHTTPClient, or nil.
func (e *Environment) httpClient() *http.Client {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.client
}

// SetRegistry makes the Environment look connectors up with l instead of a
// loader configured from the process environment.
func (e *Environment) SetRegistry(l *registry.Loader) {
	e.mu.Lock()
	e.loader = l
	e.mu.Unlock()
}

// Registry returns the Environment's connector registry. The loader it
// makes on first use writes its warnings to the Environment's logger of the
// moment (SetLogger), not to the one set when it was made.
func (e *Environment) Registry() *registry.Loader {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.loader == nil {
		// Its warnings go to the logger of the moment, not to the one
		// set when it was first used.
		e.loader = registry.NewLoader(registry.WithLogger(slog.New(&followingHandler{env: e})))
	}
	return e.loader
}

// AddSecretManager makes the Environment ask m for secrets, after the
// managers added before it. An Environment made by NewEnvironment asks its
// managers and nothing else: a tenant's config that says
// secret_reference::DATABASE_PASSWORD never gets the server's variable.
// The DefaultEnvironment asks the process's built-in sources (environment
// variables, the .env file, the prompt) after them.
func (e *Environment) AddSecretManager(m secrets.SecretManager) {
	e.mu.Lock()
	e.managers = append(e.managers, m)
	e.mu.Unlock()
}

// SecretOptions returns the options that make package secrets look a
// secret up as the Environment does, for GetSecret and reference
// resolution: its managers, then, for the DefaultEnvironment only, the
// built-in sources. With those of an Environment made by NewEnvironment, a
// call asks the managers it is given with secrets.WithManager too, but no
// built-in source (secrets.WithDotenvFile and WithPrompt do nothing).
func (e *Environment) SecretOptions() []secrets.Option {
	e.mu.Lock()
	defer e.mu.Unlock()
	opts := make([]secrets.Option, 0, len(e.managers)+1)
	for _, m := range e.managers {
		opts = append(opts, secrets.WithManager(m))
	}
	if !e.processSecrets {
		opts = append(opts, secretchain.ManagersOnly[secrets.Option]())
	}
	return opts
}

// useProcessSecrets makes the Environment look a secret its managers do
// not have up in the process's built-in sources, as the default one does.
func (e *Environment) useProcessSecrets() {
	e.mu.Lock()
	e.processSecrets = true
	e.mu.Unlock()
}

// RegisterConnector makes the connector called name run in process, with
// no Docker, Python or executable: newConnector returns a fresh value that
// implements kit.Source or kit.Destination. A connector given no way of
// running it resolves to a registered one first.
func (e *Environment) RegisterConnector(name string, newConnector func() any) {
	e.mu.Lock()
	e.connectors[name] = newConnector
	e.mu.Unlock()
}

// inProcess returns a new value of the connector registered as name.
func (e *Environment) inProcess(name string) (any, bool) {
	e.mu.Lock()
	f, ok := e.connectors[name]
	e.mu.Unlock()
	if !ok {
		return nil, false
	}
	return f(), true
}

// setDefaultCache makes open the opener of the default cache.
func (e *Environment) setDefaultCache(open cacheOpener) {
	e.mu.Lock()
	e.opener = open
	e.mu.Unlock()
}

// SetCacheDir sets the directory of the default cache, in place of the one
// NewEnvironment found: $AIRBYTE_CACHE_ROOT, else $AIRBYTE_PROJECT_DIR/.cache,
// else ./.cache. The default cache of the directory left is no longer kept
// open for the next Read: it closes once no ReadResult, Dataset or other
// user of it is left, and a later return to the directory finds it again
// while it is in use, or opens it again.
func (e *Environment) SetCacheDir(dir string) {
	e.mu.Lock()
	e.cacheDir = dir
	e.mu.Unlock()
	// The cache of the directory left is no longer held for the next
	// Read: it closes once nothing uses it (see defaultCache).
	e.cacheMu.Lock()
	if e.current != nil && !e.isCacheDir(e.currentDir) {
		e.current, e.currentDir = nil, ""
	}
	e.cacheMu.Unlock()
}

// isCacheDir reports whether dir, an absolute directory, is where the
// default cache is now.
func (e *Environment) isCacheDir(dir string) bool {
	e.mu.Lock()
	cacheDir := e.cacheDir
	e.mu.Unlock()
	abs, err := filepath.Abs(cacheDir)
	return err == nil && abs == dir
}

// errNoDefaultCache says that a Read or Write had no cache to use: an
// error of the program's own (no cache given, none registered), its message
// naming the import that registers one.
var errNoDefaultCache = errors.New("no default cache")

// defaultCache returns the default cache, opening it on first use and
// sharing the one handle afterwards (a DuckDB file is open once per
// process). Nobody has to close it; closing it releases the file (before
// another process opens it, say), and the next use opens it again. With no
// opener registered it is an error wrapping errNoDefaultCache that names
// the import and the constructor that register one.
func (e *Environment) defaultCache(ctx context.Context) (*cache.Cache, error) {
	e.mu.Lock()
	open, cacheDir := e.opener, e.cacheDir
	e.mu.Unlock()
	if open == nil {
		return nil, fmt.Errorf("%w: this Environment has none (connector.NewEnvironment wires no cache); import the package "+
			"github.com/x/goairbyte, whose DefaultEnvironment and NewEnvironment (goairbyte.NewEnvironment) have the DuckDB default cache, "+
			"or give the read a cache (source.UseCache, destination.UseCache)", errNoDefaultCache)
	}
	dir, err := filepath.Abs(cacheDir)
	if err != nil {
		// A relative directory under a working directory that was deleted.
		return nil, fmt.Errorf("the default cache is in %s under the working directory, which cannot be found (%w): "+
			"choose its directory with Environment.SetCacheDir, or give the read a cache (source.UseCache)", cacheDir, err)
	}
	e.cacheMu.Lock()
	defer e.cacheMu.Unlock()
	if ref, ok := e.caches[dir]; ok {
		c := ref.cache.Value()
		if c != nil && c.DB().PingContext(ctx) == nil {
			e.hold(c, dir)
			return c, nil
		}
		if c == nil {
			// Unreachable: the cache closes it. Two handles of one
			// DuckDB file are not safe: open it again once it is closed.
			select {
			case <-ref.closed:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		delete(e.caches, dir) // closed: open it again
	}
	c, err := open(ctx, dir)
	if err != nil {
		// A directory the program may not write (a read-only working
		// directory, another user's): say how to put the cache elsewhere.
		// Not when the path is elsewhere (an AIRBYTE_TEMP_DIR not made),
		// whose error says what to do.
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) && onPath(dir, pe.Path) {
			return nil, fmt.Errorf("%w; the default cache is in %s: choose another directory with Environment.SetCacheDir, "+
				"or give the read a cache (source.UseCache)", err, dir)
		}
		// PyAirbyte's default cache is at the same path: its user's first
		// read after the switch comes here.
		if pe := (*cacheerr.PyAirbyteError)(nil); errors.As(err, &pe) {
			return nil, fmt.Errorf("%w; the default cache's file, in %s, is PyAirbyte's default cache: give goairbyte's another directory with Environment.SetCacheDir "+
				"(AIRBYTE_CACHE_ROOT would move PyAirbyte's too), or give the read a cache (source.UseCache)", err, dir)
		}
		return nil, err
	}
	// Nobody has to close it: once this Environment is dropped or has
	// moved to another directory, and whatever used the cache is gone,
	// the cache closes.
	closed := cachelink.Get[*cache.Cache, *cache.Dataset, cache.StateKey]().CloseWhenUnreachable(c)
	for d, ref := range e.caches {
		select {
		case <-ref.closed:
			delete(e.caches, d) // closed: its directory is forgotten too
		default:
		}
	}
	e.caches[dir] = defaultCacheRef{cache: weak.Make(c), closed: closed}
	e.hold(c, dir)
	return c, nil
}

// onPath reports whether p is dir, one of its parents or a path in it.
func onPath(dir, p string) bool {
	p, err := filepath.Abs(p)
	if err != nil {
		return true
	}
	within := func(base, target string) bool {
		rel, err := filepath.Rel(base, target)
		return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	}
	return within(p, dir) || within(dir, p)
}

// hold keeps c, the default cache of dir, for the next uses while dir is
// the cache directory (SetCacheDir may have moved on while c was found);
// e.cacheMu is held.
func (e *Environment) hold(c *cache.Cache, dir string) {
	if e.isCacheDir(dir) {
		e.current, e.currentDir = c, dir
	}
}

// progressOptions returns the options of a progress tracker for one Read or
// Write of c: the call's own (from source.WithProgress or
// destination.WithProgress) when it has some, else the Environment's; every
// line is masked, and in ASCII where the Environment's locale is not UTF-8
// unless the options say otherwise.
func (c *Connector) progressOptions(call []progress.Option) []progress.Option {
	opts := []progress.Option{progress.WithMask(secrets.Mask), progress.WithASCII(c.env.ascii)}
	if call != nil {
		return append(opts, call...)
	}
	return append(opts, c.env.progressOptions()...)
}
