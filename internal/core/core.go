// Package core is what package connector gives sources, destinations, the
// root package and goab but not its users: building a connector of a kind,
// running its commands, and the Environment's default cache and secret
// sources. Package connector fills it in when it is initialised
// (Register), so that these stay out of connector's API without an import
// cycle; source, destination and the root package, which import
// connector, call it.
package core

import (
	"context"
	"encoding/json"
	"iter"
	"log/slog"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
)

// Kind is what a connector is: a source or a destination.
type Kind int

// The kinds of connector.
const (
	KindSource Kind = iota + 1
	KindDestination
)

// String is "source" or "destination", as messages name the kind.
func (k Kind) String() string {
	if k == KindDestination {
		return "destination"
	}
	return "source"
}

// Conn is what a source or a destination asks of its *connector.Connector
// beyond the Connector's own methods.
type Conn interface {
	// Kind says whether the connector is a source or a destination.
	Kind() Kind
	// Executor is how the connector runs.
	Executor() executor.Executor
	// Logger is the logger the connector reports to.
	Logger() *slog.Logger
	// Streams is the stream selection connector.WithStreams made.
	Streams() []string
	// HasConfig says whether a config was set.
	HasConfig() bool
	// ResolvedConfig is the config with its secret references resolved.
	ResolvedConfig(ctx context.Context) (map[string]any, error)
	// ConfigFingerprint identifies the config without its secrets.
	ConfigFingerprint(ctx context.Context) (string, error)
	// Run runs a command with the config, not validated against the spec.
	Run(ctx context.Context, inv executor.Invocation) iter.Seq2[*protocol.Message, error]
	// RunValidated runs a command with the config validated first.
	RunValidated(ctx context.Context, inv executor.Invocation) iter.Seq2[*protocol.Message, error]
	// ProgressOptions are the options of a tracker for one Read or Write:
	// the call's own, else the Environment's, masked.
	ProgressOptions(call []progress.Option) []progress.Option
	// DefaultCache is the default cache of the connector's Environment.
	DefaultCache(ctx context.Context) (*cache.Cache, error)
	// Env is the connector's Environment, a *connector.Environment.
	Env() any
}

// Env is what the root package asks of a *connector.Environment beyond its
// own methods.
type Env interface {
	// SetDefaultCache makes open the opener of the default cache, which
	// lives in dir (the Environment's cache directory).
	SetDefaultCache(open func(ctx context.Context, dir string) (*cache.Cache, error))
	// DefaultCache returns the default cache, opening it on first use.
	DefaultCache(ctx context.Context) (*cache.Cache, error)
	// UseProcessSecrets makes the Environment look a secret its managers
	// do not have up in the process's environment variables, .env file
	// and prompt, as the default Environment does: for goab, a program
	// of its own that makes an Environment per run.
	UseProcessSecrets()
}

// Hooks are package connector's side of this package.
type Hooks struct {
	// New builds a connector: opts is a []connector.Option, the result a
	// *connector.Connector.
	New func(ctx context.Context, kind Kind, name string, opts any) (any, error)
	// Conn gives the machinery of a *connector.Connector.
	Conn func(c any) Conn
	// Env gives the machinery of a *connector.Environment.
	Env func(e any) Env
	// Operation returns ctx within an operation of package connector.
	Operation func(ctx context.Context) context.Context
}

var hooks Hooks

// Register is called once, by package connector's init.
func Register(h Hooks) { hooks = h }

// New builds the connector called name of the kind, as the options say; C
// is *connector.Connector and O connector.Option.
func New[C, O any](ctx context.Context, kind Kind, name string, opts ...O) (C, error) {
	c, err := hooks.New(ctx, kind, name, opts)
	if err != nil {
		var zero C
		return zero, err
	}
	return c.(C), nil
}

// ConnOf returns the machinery of c, a *connector.Connector.
func ConnOf(c any) Conn { return hooks.Conn(c) }

// EnvOf returns the machinery of e, a *connector.Environment.
func EnvOf(e any) Env { return hooks.Env(e) }

// WithOperation returns ctx within one operation: a call of the API that
// may run connectors several times (a Read, a Write) and resolves each
// secret reference of their configs once. Within ctx already in one, it is
// ctx; calls made with the context it returns join the operation.
func WithOperation(ctx context.Context) context.Context { return hooks.Operation(ctx) }

// Readable is what package destination asks of a *source.Source it writes
// from, without importing package source.
type Readable interface {
	// LoadIntoCache reads streams (the selected ones when empty) into c, or
	// the default cache when c is nil, as source.Source.Read does,
	// incrementally unless fullRefresh, reporting to tr, and returns the
	// cache, the configured catalog and the streams read.
	LoadIntoCache(ctx context.Context, c *cache.Cache, streams []string, strategy cache.Strategy, fullRefresh bool,
		tr *progress.Tracker) (*cache.Cache, *protocol.ConfiguredCatalog, []string, error)
	// StreamMessages validates the config, configures streams (the selected
	// ones when empty, all when none is selected), asks state for the
	// --state of the streams chosen (unless fullRefresh, which reads
	// everything) and starts the read: it returns the configured catalog,
	// the connector's messages (without the states a cache would not
	// commit) and finish, which says, after messages that ended without an
	// error, whether a stream was left incomplete, and, given the records
	// sent per stream, warns of incremental streams that got no state.
	StreamMessages(ctx context.Context, streams []string, fullRefresh bool,
		state func(streams []string) (json.RawMessage, error)) (
		catalog *protocol.ConfiguredCatalog, msgs iter.Seq2[*protocol.Message, error], finish func(sent map[string]int64) error, err error)
}

// Cached is what package destination asks of a *source.ReadResult it
// writes from.
type Cached interface {
	// Cache holds the records.
	Cache() *cache.Cache
	// Catalog is the configured catalog they were read with.
	Catalog() *protocol.ConfiguredCatalog
	// ProcessedStreams lists the streams in the cache, in catalog order.
	ProcessedStreams() []string
}

// SourceHooks are package source's side of this package.
type SourceHooks struct {
	// Readable gives the Readable of a *source.Source, false for anything
	// else.
	Readable func(x any) (Readable, bool)
	// Cached gives the Cached of a *source.ReadResult, false for anything
	// else.
	Cached func(x any) (Cached, bool)
}

var sourceHooks SourceHooks

// RegisterSource is called once, by package source's init.
func RegisterSource(h SourceHooks) { sourceHooks = h }

// ReadableOf returns x, a *source.Source, as a Readable; false when x is
// not one (or package source is not in the program).
func ReadableOf(x any) (Readable, bool) {
	if sourceHooks.Readable == nil {
		return nil, false
	}
	return sourceHooks.Readable(x)
}

// CachedOf returns x, a *source.ReadResult, as a Cached; false when x is
// not one (or package source is not in the program).
func CachedOf(x any) (Cached, bool) {
	if sourceHooks.Cached == nil {
		return nil, false
	}
	return sourceHooks.Cached(x)
}
