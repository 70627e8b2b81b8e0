package destination

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/catalogs"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/humanize"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
)

// stateInterval is how many rows of a stream Write sends from a cache
// between two STATE messages: how much a destination that dies mid-stream
// makes the next Write send again.
const stateInterval = 10_000

// Input is what Write takes: a cached input such as *source.ReadResult,
// whose records are in a cache already, or a readable one such as
// *source.Source, read into a cache first (or streamed with NoCache).
// A value of the program's own is a cached input when it also has the
// methods Cache() *cache.Cache, Catalog() *protocol.ConfiguredCatalog and
// ProcessedStreams() []string (the cache, the configured catalog the
// records were loaded with and the streams to write): streams the program
// loaded with Cache.Load, say. Write refuses any other Input.
type Input interface {
	// SourceName names the source; it keys the destination's state.
	SourceName() string
}

// cachedSource is an Input whose records are in a cache: a
// *source.ReadResult (through core.CachedOf) or what LoadIntoCache loaded.
type cachedSource interface {
	Input
	// Cache holds the records.
	Cache() *cache.Cache
	// Catalog is the configured catalog they were read with.
	Catalog() *protocol.ConfiguredCatalog
	// ProcessedStreams lists the streams in the cache, in catalog order.
	ProcessedStreams() []string
}

// cachedInput is a cached input made by LoadIntoCache.
type cachedInput struct {
	source  string
	c       *cache.Cache
	catalog *protocol.ConfiguredCatalog
	streams []string
}

func (r *cachedInput) SourceName() string                   { return r.source }
func (r *cachedInput) Cache() *cache.Cache                  { return r.c }
func (r *cachedInput) Catalog() *protocol.ConfiguredCatalog { return r.catalog }
func (r *cachedInput) ProcessedStreams() []string           { return r.streams }

// WriteOption adjusts [Destination.Write].
type WriteOption func(*writeSettings)

type writeSettings struct {
	streams      []string
	cache        *cache.Cache
	noCache      bool
	cacheGiven   bool // UseCache was given (with NoCache, an error)
	stateCache   *cache.Cache
	noStateCache bool
	nilCache     string // the option given a nil cache: UseCache or StateCache
	strategy     cache.Strategy
	fullRefresh  bool
	stateKey     string
	progress     []progress.Option
	tracker      *progress.Tracker
	// syncID is the Write's sync_id (see destCatalog): newSyncID's.
	syncID int64
}

// lastSyncID is the sync id newSyncID gave last.
var lastSyncID atomic.Int64

// newSyncID returns a Write's sync_id: its start in milliseconds since
// 1970, or one more than the id before it in the process, so that the
// ids grow from one Write to the next even within a millisecond.
func newSyncID() int64 {
	for {
		last := lastSyncID.Load()
		id := max(time.Now().UnixMilli(), last+1)
		if lastSyncID.CompareAndSwap(last, id) {
			return id
		}
	}
}

// Streams writes these streams; the default is the source's selection (or
// every stream when none is selected), or every stream of a ReadResult.
// "*" means every stream.
func Streams(names ...string) WriteOption {
	return func(w *writeSettings) { w.streams = append(w.streams, names...) }
}

// UseCache reads a Source into c before writing (the default is the
// default DuckDB cache). It has no effect on a ReadResult, whose records
// are already in its cache. A nil c is an error of Write, and so is
// UseCache with NoCache: to keep the destination's state of a Write
// without a cache in c, use StateCache(c).
func UseCache(c *cache.Cache) WriteOption {
	return func(w *writeSettings) {
		w.cache, w.cacheGiven = c, true
		if c == nil {
			w.nilCache = "UseCache"
		}
	}
}

// NoCache streams a Source's records straight into the destination,
// without a cache for the records. The destination's state (the source's
// states it echoed, passed back to the source by the next Write) is still
// kept in a cache: StateCache's, else the Environment's default cache (the
// DuckDB file ./.cache/default_cache/default_cache.duckdb, or under
// $AIRBYTE_CACHE_ROOT, made if missing);
// with NoStateCache it is kept nowhere and every Write sends everything.
// It has no effect on a ReadResult, whose records are already in its
// cache.
func NoCache() WriteOption {
	return func(w *writeSettings) { w.noCache = true }
}

// StateCache keeps the destination's state in c instead of the cache the
// records come from (with NoCache, instead of the default cache). The
// state is kept under c's table prefix (see cache.WithTablePrefix): two
// accounts of one source written with NoCache into one destination keep a
// state each with a StateCache of its own prefix each (or a StateKey
// each); with the same state cache and prefix they share one, and the
// second account's read starts where the first's ended. A nil c is an
// error of Write.
func StateCache(c *cache.Cache) WriteOption {
	return func(w *writeSettings) {
		w.stateCache, w.noStateCache = c, false
		if c == nil {
			w.nilCache = "StateCache"
		}
	}
}

// NoStateCache keeps no destination state: every Write sends everything.
func NoStateCache() WriteOption {
	return func(w *writeSettings) { w.stateCache, w.noStateCache = nil, true }
}

// Strategy sets the write strategy, which picks each stream's destination
// sync mode: append → append, merge → append_dedup, replace → overwrite;
// auto (the default) is merge with a primary key, append with a cursor,
// replace otherwise. It also applies to the read into the cache. Replace
// on a stream read incrementally needs ForceFullRefresh, with NoCache as in
// a cache: else the destination's table would keep only the new records.
// A strategy whose sync mode the destination's spec does not list among
// its supported_destination_sync_modes (when it lists any) is refused with
// a *connector.OptionError before anything is read; auto is not checked.
func Strategy(s cache.Strategy) WriteOption { return func(w *writeSettings) { w.strategy = s } }

// ForceFullRefresh reads the source in full and sends every record,
// whatever the destination confirmed before.
func ForceFullRefresh() WriteOption { return func(w *writeSettings) { w.fullRefresh = true } }

// StateKey names the destination's state in the state cache instead of its
// identity (see WriteResult.DestinationKey): give it to keep the state of a
// destination across a change of its config, or to keep two destinations
// with the same config apart.
func StateKey(key string) WriteOption { return func(w *writeSettings) { w.stateKey = key } }

// WriteResult is what a Write did.
type WriteResult struct {
	// SourceName is the source's name; DestinationName the destination
	// connector's.
	SourceName, DestinationName string
	// DestinationKey keys the destination's state (with SourceName): its
	// name and a fingerprint of its config without secrets
	// ("destination-local-json@1f2e3d4c5b6a"), so that one connector
	// writing to two places from one cache keeps two states; or the
	// StateKey given.
	DestinationKey string
	// RecordsSent counts the records sent per stream.
	RecordsSent map[string]int64
	// RecordsConfirmed counts the records the destination confirmed per
	// stream: those sent before the last state of the stream it echoed (a
	// GLOBAL or LEGACY state counts for every stream), whatever count the
	// destination adds to its echoes (destinationStats.recordCount).
	RecordsConfirmed map[string]int64
	// StatesSent is the number of STATE messages sent to the destination:
	// the source's own, or the ones Write makes after a cached stream's
	// rows.
	StatesSent int
	// StatesConfirmed is the number of STATE messages the destination
	// echoed that confirmed records: echoes of states this Write sent, in
	// order. Other echoes are ignored, with a warning.
	StatesConfirmed int
	// DestinationRecords counts RECORD messages the destination itself
	// wrote on its output (tolerated, not forwarded anywhere).
	DestinationRecords int64
	// State reads the destination's stored state; nil without a state
	// cache.
	State *StateProvider
}

// TotalSent is the number of records sent, all streams together.
func (r *WriteResult) TotalSent() int64 { return sum(r.RecordsSent) }

// TotalConfirmed is the number of records confirmed, all streams together.
func (r *WriteResult) TotalConfirmed() int64 { return sum(r.RecordsConfirmed) }

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// StateProvider reads a destination's stored state: what it confirmed, per
// stream, for one source.
type StateProvider struct {
	c                   *cache.Cache
	source, destination string
}

// State returns the last state the destination echoed for a stream ("" for
// a GLOBAL or LEGACY state), nil if none.
func (p *StateProvider) State(ctx context.Context, stream string) (*protocol.State, error) {
	return p.c.State(ctx, cache.StateKey{Source: p.source, Destination: p.destination, Stream: stream})
}

// Watermark is the _airbyte_raw_id of the last cached row of a stream the
// destination confirmed, "" if none.
func (p *StateProvider) Watermark(ctx context.Context, stream string) (string, error) {
	st, err := p.State(ctx, stream)
	if err != nil || st == nil {
		return "", err
	}
	id, _ := watermarkOf(st)
	return id, nil
}

// writeError is a Write that failed after the destination started: the
// destination died or reported an error, or the records could not be fed
// to it. What it confirmed before (RecordsConfirmed) stays confirmed; the
// next Write sends the rest. Err is usually an *executor.ConnectorError
// with the destination's last stderr lines.
type writeError struct {
	// Destination is the destination connector's name as given to New.
	Destination string
	// Result counts what was sent and confirmed before the failure.
	Result *WriteResult
	// Err is the cause: the destination's run error, the error feeding it
	// records, or the failure to store a state it echoed.
	Err error
}

// Error says what was sent and confirmed before the failure, and its cause.
func (e *writeError) Error() string {
	return fmt.Sprintf("destination %s: write failed after %d records sent and %d confirmed: %v; what was not confirmed is sent again by the next Write",
		e.Destination, e.Result.TotalSent(), e.Result.TotalConfirmed(), e.Err)
}

// Unwrap returns the cause.
func (e *writeError) Unwrap() error { return e.Err }

// Write writes the input's records into the destination.
//
// First the destination's config is validated against its spec: a config
// that breaks it is a *connector.ConfigValidationError (ErrConfigInvalid)
// before the source is read.
//
// From a readable input (a *source.Source), the source is read into the
// cache first (the source's Environment's default cache unless UseCache
// says otherwise, opened once the source's config and streams are right;
// incrementally, as Source.Read does) and then written from
// there; with NoCache its messages go straight to the destination. From a
// cached input (a *source.ReadResult), the records already in its cache are
// written.
//
// Only what the destination has not confirmed is sent (see the package
// documentation), and its state advances only with the states it echoes.
// So Writes of one source into one destination (one StateKey) run one at
// a time, as loads of a source do: a Write that finds another one running
// with the same state cache and table prefix, which keeps the state (in
// this process or, on PostgreSQL, in any)
// fails at once, before it sends anything, with an error matching
// cache.ErrInUse; each would otherwise send what is not confirmed yet, and
// under the append strategy the destination would get those records twice.
// On PostgreSQL the lock is a session's: a Write whose lock's session ends
// while it runs (pg_terminate_backend, a cut connection, a restart) is
// cancelled within 0.2 s, rather than go on sending what the next Write
// sends too, stores none of its destination's states once another Write
// has taken the lock, rather than take the state back to before what the
// other Write's destination confirmed, and fails with an error that says
// so.
// With NoStateCache nothing is kept, and nothing is locked. Writes into
// different destinations may run at once; from a *source.Source, its reads
// into one cache run one at a time, as Source.Read's do.
//
// A Write that fails after the destination started (it died or reported an
// error, or the records could not be fed to it) returns its result, what
// was sent and confirmed before the failure, with an error that wraps the
// cause: usually an *executor.ConnectorError (ErrConnectorFailed) with the
// destination's last stderr lines. What it confirmed stays confirmed; the
// next Write sends the rest. A destination that ends without echoing any
// of the states it was sent (records sent, none confirmed) fails the Write
// the same way, with a ConnectorError whose Missing is STATE: an echo is
// the protocol's only word that records are written. (A source that sends
// no states gives it nothing to echo: that Write succeeds, with a warning
// and StatesSent 0.) One that echoes some but ends without echoing a state
// after its last records (a final batch never flushed) succeeds with
// RecordsConfirmed short of RecordsSent, and a warning saying how many
// records are not confirmed; the next Write sends them again.
//
// When ctx is cancelled, the destination is stopped (SIGTERM, a grace
// period of 6 s, then SIGKILL) and Write returns the cancellation once it
// is gone. Meanwhile its output is still read: the states it echoed until
// it exited, those it wrote while stopping included, are stored (for up
// to eight seconds after the cancellation),
// so the next Write sends again none of the records it confirmed.
//
// One progress tracker follows the whole Write, the read into the cache
// included; it draws only when the Environment or WithProgress asks.
func (d *Destination) Write(ctx context.Context, from Input, opts ...WriteOption) (_ *WriteResult, err error) {
	// One operation: validating the destination's config, reading the
	// source and running the destination resolve each secret reference of
	// the two configs once.
	ctx = core.WithOperation(ctx)
	ws := writeSettings{syncID: newSyncID()}
	for _, o := range opts {
		o(&ws)
	}
	if ws.nilCache != "" {
		// A cache variable that a failed open left nil would otherwise
		// send the records, or keep the state, in the default cache.
		return nil, &connector.OptionError{Connector: d.Name(), Option: "destination." + ws.nilCache,
			Reason: fmt.Sprintf("it got a nil *cache.Cache; pass an open cache, or leave %s out for the default", ws.nilCache)}
	}
	if ws.cacheGiven && ws.noCache {
		// The last one given used to win, silently: the state the user
		// meant for the cache named went to the default cache.
		return nil, &connector.OptionError{Connector: d.Name(), Option: "UseCache and NoCache",
			Reason: "NoCache reads the source into no cache; to keep the destination's state in that cache, use StateCache instead of UseCache"}
	}
	cached, isCached := from.(cachedSource)
	if c, ok := core.CachedOf(from); ok {
		cached, isCached = &cachedInput{source: from.SourceName(), c: c.Cache(), catalog: c.Catalog(), streams: c.ProcessedStreams()}, true
	}
	readable, isReadable := core.ReadableOf(from)
	if !isCached && !isReadable {
		return nil, fmt.Errorf("destination %s: Write needs a *source.Source or a *source.ReadResult (or another input that is read or cached), not %T", d.Name(), from)
	}
	// The destination's config is checked against its spec before the
	// source is read: a config the destination refuses would fail only
	// after the whole read, with the connector's own words.
	if err := d.ValidateConfig(ctx); err != nil {
		return nil, err
	}
	if err := d.supports(ctx, ws.strategy); err != nil {
		return nil, err
	}
	tr := ws.tracker
	if tr == nil {
		tr = progress.New(progress.OpWrite, d.Name(), d.core.ProgressOptions(ws.progress)...)
		defer func() { tr.Finish(err) }()
	}
	// Records taken from a cache count as read only when no source read
	// counted them already.
	countCacheReads := isCached
	if !isCached && !ws.noCache {
		// With no cache given, the source's Read opens the default cache
		// once the config and streams are right: a Write that fails on them
		// leaves no cache behind.
		c, catalog, streams, err := readable.LoadIntoCache(ctx, ws.cache, ws.streams, ws.strategy, ws.fullRefresh, tr)
		if err != nil {
			return nil, err
		}
		cached = &cachedInput{source: from.SourceName(), c: c, catalog: catalog, streams: streams}
	}
	stateCache := ws.stateCache
	if stateCache == nil && !ws.noStateCache {
		if cached != nil {
			stateCache = cached.Cache()
		} else if stateCache, err = d.core.DefaultCache(ctx); err != nil {
			return nil, err
		}
	}
	if stateCache == nil {
		// Only NoStateCache gets here (without it the default cache keeps
		// the state): a choice, not a surprise, so no warning.
		d.core.Logger().Debug("no state cache: the destination's progress is not tracked, and every Write sends everything", "destination", d.Name())
	}
	key, err := d.stateKey(ctx, ws.stateKey)
	if err != nil {
		return nil, err
	}
	out := &WriteResult{SourceName: from.SourceName(), DestinationName: d.Name(), DestinationKey: key,
		RecordsSent: map[string]int64{}, RecordsConfirmed: map[string]int64{}}
	if stateCache != nil {
		// One Write of a source into a destination at a time: two would
		// each send every row not confirmed yet (the cache's lock holds
		// across processes on PostgreSQL, where workers share a cache).
		// It runs with the lock's context, which fails its states once
		// the lock is lost (one landing after the next Write read the
		// states would take the destination back to records it was sent
		// since) and is cancelled as soon as the loss is seen, so that this
		// Write stops sending what the next one sends too.
		locked, unlock, err := cacheOps.LockWrite(stateCache, ctx, out.SourceName, key)
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", d.Name(), err)
		}
		defer unlock()
		parent := ctx
		ctx = locked
		defer func() {
			if err != nil && locked.Err() != nil && parent.Err() == nil {
				err = context.Cause(locked) // the lock was lost
			}
		}()
		out.State = &StateProvider{c: stateCache, source: out.SourceName, destination: key}
	}
	d.core.Logger().Debug("write started", "destination", d.Name(), "source", out.SourceName, "cached", cached != nil)
	if cached != nil {
		err = d.writeFromCache(ctx, cached, &ws, out, tr, countCacheReads)
	} else {
		err = d.writeDirect(ctx, readable, &ws, out, tr)
	}
	if err == nil {
		d.core.Logger().Debug("write finished", "destination", d.Name(), "source", out.SourceName,
			"sent", out.TotalSent(), "confirmed", out.TotalConfirmed(), "states", out.StatesConfirmed)
	}
	return out, err
}

// stateKey is the key of the destination's state: the one given, else its
// name and the fingerprint of its config without secrets.
func (d *Destination) stateKey(ctx context.Context, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	fp, err := d.core.ConfigFingerprint(ctx)
	if err != nil || fp == "" {
		return d.Name(), err
	}
	return d.Name() + "@" + fp, nil
}

// supports refuses a strategy given by Strategy whose sync mode the
// destination's spec does not list among those it supports (when it lists
// any), before anything is read or sent: a destination that knows only
// append takes append_dedup or overwrite for append, and merge or replace
// would store every record again. Auto is left to pick per stream.
func (d *Destination) supports(ctx context.Context, st cache.Strategy) error {
	i := slices.IndexFunc(strategyModes, func(m strategyMode) bool { return m.strategy == st })
	if i < 0 {
		return nil // auto, or an unknown strategy that destCatalog refuses
	}
	spec, err := d.Spec(ctx)
	if err != nil {
		return err
	}
	modes := spec.SupportedDestinationSyncModes
	if len(modes) == 0 || slices.Contains(modes, strategyModes[i].mode) {
		return nil
	}
	var use []string
	for _, m := range strategyModes {
		if slices.Contains(modes, m.mode) {
			use = append(use, m.name)
		}
	}
	return &connector.OptionError{Connector: d.Name(), Option: "destination.Strategy",
		Reason: fmt.Sprintf("strategy %s writes with sync mode %s, which the destination's spec does not list among those it supports (%v); use %s",
			st, strategyModes[i].mode, modes, strings.Join(use, " or "))}
}

// strategyMode is the sync mode a strategy given by Strategy writes with.
type strategyMode struct {
	strategy cache.Strategy
	mode     protocol.DestinationSyncMode
	name     string
}

var strategyModes = []strategyMode{
	{cache.StrategyAppend, protocol.DestinationAppend, "cache.StrategyAppend"},
	{cache.StrategyMerge, protocol.DestinationAppendDedup, "cache.StrategyMerge"},
	{cache.StrategyReplace, protocol.DestinationOverwrite, "cache.StrategyReplace"},
}

// syncMode maps a write strategy onto a stream's destination sync mode,
// resolving auto as Read does; it returns the strategy resolved too.
func syncMode(st cache.Strategy, cs *protocol.ConfiguredStream) (protocol.DestinationSyncMode, cache.Strategy, error) {
	pk := cs.PrimaryKey
	if len(pk) == 0 {
		pk = cs.Stream.SourceDefinedPrimaryKey
	}
	cur := cs.CursorField
	if len(cur) == 0 {
		cur = cs.Stream.DefaultCursorField
	}
	if st == "" || st == cache.StrategyAuto {
		switch {
		case len(pk) > 0:
			st = cache.StrategyMerge
		case len(cur) > 0:
			st = cache.StrategyAppend
		default:
			st = cache.StrategyReplace
		}
	}
	switch st {
	case cache.StrategyAppend:
		return protocol.DestinationAppend, st, nil
	case cache.StrategyMerge:
		if len(pk) == 0 {
			return "", st, &cacheerr.StrategyError{Stream: cs.Stream.Name, Strategy: string(st), Reason: "it has no primary key; use append or replace"}
		}
		return protocol.DestinationAppendDedup, st, nil
	case cache.StrategyReplace:
		return protocol.DestinationOverwrite, st, nil
	}
	return "", st, &cacheerr.StrategyError{Stream: cs.Stream.Name, Strategy: string(st), Reason: "unknown strategy; use auto, append, merge or replace"}
}

// destCatalog configures the streams for the destination, with the sync id
// and the generations that the Airbyte platform gives each stream since
// refreshes came (protocol 0.5): Airbyte's own destinations refuse a
// catalog without them ("You must upgrade your platform version to use
// this connector version"). An overwrite stream gets a new generation,
// the sync id, and keeps only it (minimum_generation_id is it): the
// destination replaces its data with the Write's records once they are
// in, as a full refresh does on the platform. The other modes keep every
// generation (minimum 0) and write generation 0, a stream the platform
// never refreshed. A key or cursor
// given to override the source's that names a field the stream's schema
// lacks is refused as the cache refuses it: a Write without the cache sent
// it on, to a destination that would deduplicate or order on a field no
// record has. The source's own key and cursor go as they are, and so do
// an open stream's (its schema declares no property: any field may be
// there), as the cache takes them.
func destCatalog(streams []protocol.ConfiguredStream, st cache.Strategy, syncID int64) (*protocol.ConfiguredCatalog, error) {
	out := &protocol.ConfiguredCatalog{}
	for i := range streams {
		cs := streams[i]
		mode, resolved, err := syncMode(st, &cs)
		if err != nil {
			return nil, err
		}
		cs.DestinationSyncMode = mode
		generation, keep := int64(0), int64(0)
		if mode == protocol.DestinationOverwrite {
			generation, keep = syncID, syncID
		}
		cs.SyncID, cs.GenerationID, cs.MinimumGenerationID = &syncID, &generation, &keep
		if len(cs.PrimaryKey) == 0 {
			cs.PrimaryKey = cs.Stream.SourceDefinedPrimaryKey
		}
		if err := checkOverrides(&cs, string(resolved)); err != nil {
			return nil, err
		}
		out.Streams = append(out.Streams, cs)
	}
	return out, nil
}

// checkOverrides refuses, as the cache does, a primary key or cursor that
// is not the source's and names a top-level field the properties of the
// stream's schema lack. An open schema (catalogs.OpenSchema) lets records
// hold any field, and a schema that does not parse says nothing of them.
func checkOverrides(cs *protocol.ConfiguredStream, strategy string) error {
	var pk [][]string
	if !slices.EqualFunc(cs.PrimaryKey, cs.Stream.SourceDefinedPrimaryKey, slices.Equal) {
		pk = cs.PrimaryKey
	}
	var cursor []string
	if !slices.Equal(cs.CursorField, cs.Stream.DefaultCursorField) {
		cursor = cs.CursorField
	}
	if len(pk) == 0 && len(cursor) == 0 {
		return nil
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if catalogs.OpenSchema(cs.Stream.JSONSchema) || json.Unmarshal(cs.Stream.JSONSchema, &schema) != nil {
		return nil
	}
	return cacheerr.MissingKeyField(cs.Stream.Name, strategy, pk, cursor, func(f string) bool { _, ok := schema.Properties[f]; return ok })
}

// pick keeps the configured streams named (all for none or "*"), failing
// on a name that is not there. A name given twice picks its stream once:
// the destination would get it configured twice, and its rows twice.
func pick(connector string, all []protocol.ConfiguredStream, names []string) ([]protocol.ConfiguredStream, error) {
	if len(names) == 0 || slices.Contains(names, "*") {
		return all, nil
	}
	// By name, in maps: scanning the catalog and the names before for
	// each name costs their number squared (1.8 s for 10,000 streams).
	at := make(map[string]int, len(all))
	for i := len(all) - 1; i >= 0; i-- { // the first of a name, as a scan finds
		at[all[i].Stream.Name] = i
	}
	seen := make(map[string]bool, len(names))
	var out []protocol.ConfiguredStream
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		i, ok := at[n]
		if !ok {
			var avail []string
			for _, cs := range all {
				avail = append(avail, cs.Stream.Name)
			}
			return nil, &protocol.StreamNotFoundError{Where: connector, Stream: n, Available: avail}
		}
		out = append(out, all[i])
	}
	return out, nil
}

// watermarkKey is the stream_state field of the states Write sends from a
// cache.
const watermarkKey = "_airbyte_raw_id"

// watermarkOf returns the raw id a state sent from a cache carries.
func watermarkOf(st *protocol.State) (string, bool) {
	if st == nil || st.Stream == nil || len(st.Stream.StreamState) == 0 {
		return "", false
	}
	var v map[string]json.RawMessage
	if json.Unmarshal(st.Stream.StreamState, &v) != nil || len(v) != 1 {
		return "", false
	}
	var id string
	if json.Unmarshal(v[watermarkKey], &id) != nil || id == "" {
		return "", false
	}
	return id, true
}

// pipeline runs the destination's write command with the lines produce
// writes as its input, and hands every state it echoes to onEcho, which
// says whether the echo confirmed records (an echo of a state this Write
// sent, in order) or was ignored, and stores it through sc (nil when the
// Write keeps no state): sc commits the echoed states in groups, and
// pipeline commits the last of them once the destination has ended. produce
// runs on its own goroutine and writes into a pipe: it blocks while the
// destination is busy, so memory stays bounded. If produce fails, the
// destination is stopped before its input ends, so that it commits
// nothing of a partial input.
func (d *Destination) pipeline(ctx context.Context, catalog *protocol.ConfiguredCatalog, out *WriteResult,
	produce func(ctx context.Context, w *bufio.Writer) error, onEcho func(st *protocol.State, sc *stateCommitter) (confirmed bool, err error)) error {
	catJSON, err := json.Marshal(catalog)
	if err != nil {
		return err
	}
	var sc *stateCommitter
	if out.State != nil {
		sc = newStateCommitter(ctx, func(ctx context.Context, states map[cache.StateKey]*protocol.State) error {
			return cacheOps.PutStates(out.State.c, ctx, states)
		})
	}
	dctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	pr, pw := io.Pipe()
	var prodErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w := bufio.NewWriterSize(pw, 256<<10)
		err := produce(dctx, w)
		if err == nil {
			err = w.Flush()
		}
		if err != nil && !errors.Is(err, io.ErrClosedPipe) && !errors.Is(err, errDestinationGone) {
			prodErr = err
			cancel(err) // stop the destination before it sees the end of a partial input
		}
		pw.CloseWithError(err)
	}()
	var runErr, echoErr error
	for m, err := range d.core.Run(dctx, executor.Invocation{Verb: executor.VerbWrite, Catalog: catJSON, Stdin: pr}) {
		if err != nil {
			runErr = err
			break
		}
		switch m.Type {
		case protocol.TypeState:
			if m.State == nil {
				continue
			}
			var confirmed bool
			confirmed, echoErr = onEcho(m.State, sc) // a failure ends the loop below
			if confirmed {
				out.StatesConfirmed++
			}
		case protocol.TypeRecord:
			if out.DestinationRecords == 0 {
				d.core.Logger().Warn("the destination wrote RECORD messages on its output; they are counted and ignored", "destination", d.Name())
			}
			out.DestinationRecords++
		}
		if echoErr != nil {
			break
		}
	}
	pr.CloseWithError(errDestinationGone) // unblocks the producer if the destination stopped reading
	wg.Wait()
	if sc != nil {
		if err := sc.close(); err != nil && echoErr == nil {
			echoErr = err
		}
	}
	switch {
	case prodErr != nil:
		return &writeError{Destination: d.Name(), Result: out, Err: prodErr}
	case echoErr != nil:
		return &writeError{Destination: d.Name(), Result: out, Err: fmt.Errorf("storing the destination's state: %w", echoErr)}
	case runErr != nil:
		return &writeError{Destination: d.Name(), Result: out, Err: runErr}
	}
	switch {
	case out.TotalSent() == 0:
	case out.StatesConfirmed > 0:
		// A destination that ended well without echoing its last states
		// (its final batch never flushed, say) leaves a Write that
		// succeeds: say so, or a caller checking only the error takes
		// every record for written.
		if sent, confirmed := out.TotalSent(), out.TotalConfirmed(); confirmed < sent {
			d.core.Logger().Warn("the destination ended without echoing a state after some of the records it was sent; they are not known to be written, and the next Write sends them again",
				"destination", d.Name(), "records", sent-confirmed, "sent", sent)
		}
	case out.StatesSent == 0:
		d.core.Logger().Warn("the source sent no states, so the destination could confirm none of the records sent, and the next Write sends them again",
			"destination", d.Name(), "records", out.TotalSent())
	default:
		// The protocol's only commit point is the echo: a destination that
		// echoes none has not said that anything it was sent is written,
		// and a caller checking only the error would believe it all was.
		return &writeError{Destination: d.Name(), Result: out, Err: fmt.Errorf("the destination echoed none of the states it was sent (%d), so none of the records is known to be written: %w",
			out.StatesSent, &executor.ConnectorError{Connector: d.Name(), Command: executor.VerbWrite, Missing: protocol.TypeState})}
	}
	return nil
}

var errDestinationGone = errors.New("the destination stopped reading its input")

// endStreams writes a TRACE STREAM_STATUS for each configured stream once
// the Write has sent everything it had, each with status: COMPLETE, or
// INCOMPLETE for all when the source left one incomplete. The Airbyte platform does the same once the source
// ended well (COMPLETE for every stream of the catalog, after the last
// record and before the destination's input ends;
// airbytehq/airbyte-platform, workers/helper/StreamStatusCompletionTracker.kt
// and its DestinationWriter), and Airbyte's destinations act on it: the
// typing-deduping CDK replaces an overwrite stream's table with the new
// generation only for a COMPLETE stream (airbytehq/airbyte,
// airbyte-cdk/java/.../AbstractStreamOperation.kt finalizeTable), and the
// bulk CDK fails a sync whose input ended without a status for every
// stream ("Input was fully read, but some streams did not receive a
// terminal stream status message", airbyte-cdk/bulk/core/load
// SyncManager.kt). A Write that fails before its end sends none, as the
// platform sends none after a failed source.
func endStreams(w *bufio.Writer, streams []protocol.ConfiguredStream, status protocol.StreamStatus) error {
	now := float64(time.Now().UnixMilli())
	var line []byte
	for i := range streams {
		s := &streams[i].Stream
		var err error
		line, err = protocol.AppendMessage(line[:0], &protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{
			Type: protocol.TraceStreamStatus, EmittedAt: now,
			StreamStatus: &protocol.StreamStatusTrace{
				StreamDescriptor: protocol.StreamDescriptor{Name: s.Name, Namespace: s.Namespace}, Status: status}}})
		if err != nil {
			return err
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return nil
}

// ignoredEchoes warns of the echoes a Write ignores: the first for each
// reason as it comes, and at the end how many there were in all, so that a
// destination that echoes a state it was not sent after every record
// warns twice, not once a record. Only the pipeline's echo loop uses it.
type ignoredEchoes struct {
	d      *Destination
	counts map[string]int
	order  []string
}

// add notes an echo of stream ignored for reason, warning of the first of
// its reason.
func (ig *ignoredEchoes) add(reason, stream string) {
	if ig.counts == nil {
		ig.counts = map[string]int{}
	}
	if ig.counts[reason]++; ig.counts[reason] == 1 {
		ig.order = append(ig.order, reason)
		ig.d.core.Logger().Warn(reason, "destination", ig.d.Name(), "stream", stream)
	}
}

// report warns of each reason that ignored more than one echo, with the
// count.
func (ig *ignoredEchoes) report() {
	for _, reason := range ig.order {
		if n := ig.counts[reason]; n > 1 {
			ig.d.core.Logger().Warn(reason+" ("+humanize.Int(int64(n))+" echoes in all)", "destination", ig.d.Name())
		}
	}
}
