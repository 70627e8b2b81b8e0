package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/catalogs"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
)

// ReadOption adjusts [Source.Read].
type ReadOption func(*readSettings)

type readSettings struct {
	cache             *cache.Cache
	nilCache          bool // UseCache(nil)
	streams           []string
	strategy          cache.Strategy
	fullRefresh       bool
	skipValidation    bool
	tolerateMalformed bool
	progress          []progress.Option
	tracker           *progress.Tracker
}

// UseCache makes Read load into c instead of the Environment's default
// cache (the DuckDB file ./.cache/default_cache/default_cache.duckdb, or
// under $AIRBYTE_CACHE_ROOT, when the root package goairbyte is imported). A nil c is an error of Read, not
// the default cache.
func UseCache(c *cache.Cache) ReadOption {
	return func(r *readSettings) { r.cache, r.nilCache = c, c == nil }
}

// Streams reads these streams instead of the selected ones; "*" reads all.
func Streams(names ...string) ReadOption {
	return func(r *readSettings) { r.streams = append(r.streams, names...) }
}

// Strategy sets how each stream is written into its table: cache.StrategyAuto
// (the default: merge with a primary key, append with a cursor, replace
// otherwise), StrategyAppend, StrategyMerge or StrategyReplace.
func Strategy(s cache.Strategy) ReadOption { return func(r *readSettings) { r.strategy = s } }

// ForceFullRefresh reads every stream in full and passes no state to the
// connector, whatever the cache remembers. Under StrategyAuto a stream with
// a cursor and no primary key is appended to, so its table gets every
// record again: add Strategy(cache.StrategyReplace) to start it afresh.
func ForceFullRefresh() ReadOption { return func(r *readSettings) { r.fullRefresh = true } }

// SkipValidation does not validate the config against the spec before the
// read. (Discovering the catalog, when it is not known yet, still does.)
func SkipValidation() ReadOption { return func(r *readSettings) { r.skipValidation = true } }

// TolerateMalformed accepts a read in which lines of the connector's output
// claimed to be RECORD or STATE messages and did not parse: they are still
// left out and counted (ReadResult.MalformedLines), but the streams they
// name complete and their later states are committed. Without it those
// streams end incomplete, with no state committed after the bad line, so
// that the next read asks for the lost records again.
func TolerateMalformed() ReadOption { return func(r *readSettings) { r.tolerateMalformed = true } }

// ReadResult is what [Source.Read] loaded: the streams, how many records
// each got, and the cache that holds them.
type ReadResult struct {
	source    *Source
	catalog   *protocol.ConfiguredCatalog
	cache     *cache.Cache
	streams   []string
	records   map[string]int64
	read      map[string]int64
	total     int64
	malformed map[string]int64
}

// MalformedLines counts, per stream ("" when the line named no stream),
// the lines of the connector's output that claimed to be RECORD or STATE
// messages and did not parse; they were left out.
func (r *ReadResult) MalformedLines() map[string]int64 { return maps.Clone(r.malformed) }

// SourceName is the name of the source that was read.
func (r *ReadResult) SourceName() string { return r.source.Name() }

// ProcessedStreams lists the streams read, in catalog order.
func (r *ReadResult) ProcessedStreams() []string { return slices.Clone(r.streams) }

// RecordsProcessed is the number of records loaded into the cache (and
// committed there), all streams together.
func (r *ReadResult) RecordsProcessed() int64 { return r.total }

// StreamRecords returns the number of records loaded into the cache per
// stream (streams that got none are absent). After a failed or cancelled
// read, records that were read but rolled back are not counted: see
// StreamRecordsRead. A merge stream's count is of the records written, not
// of the rows the table keeps once a key's older rows are deleted.
func (r *ReadResult) StreamRecords() map[string]int64 { return maps.Clone(r.records) }

// StreamRecordsRead returns the number of records the connector sent per
// stream of the read, loaded or not: after a failed read, those of the
// rolled-back batches too. (Records of streams the read did not ask for
// are skipped with a warning, and counted in neither.)
func (r *ReadResult) StreamRecordsRead() map[string]int64 { return maps.Clone(r.read) }

// Cache is the cache the records were loaded into.
func (r *ReadResult) Cache() *cache.Cache { return r.cache }

// Stream returns the dataset of a processed stream, by its name or the
// namespace.name that selected it: everything its table holds, this read's
// records and earlier ones. A stream that was not part of the read is a
// *protocol.StreamNotFoundError.
func (r *ReadResult) Stream(ctx context.Context, name string) (*cache.Dataset, error) {
	if i := slices.IndexFunc(r.catalog.Streams, func(cs protocol.ConfiguredStream) bool {
		return cs.Stream.Namespace != "" && catalogs.Qualified(&cs.Stream) == name
	}); i >= 0 && !slices.Contains(r.streams, name) {
		name = r.catalog.Streams[i].Stream.Name
	}
	if !slices.Contains(r.streams, name) {
		return nil, &protocol.StreamNotFoundError{Where: "the read of " + r.source.Name(), Stream: name, Available: r.ProcessedStreams()}
	}
	return r.cache.Dataset(ctx, name)
}

// Streams returns the dataset of every processed stream, by stream name.
func (r *ReadResult) Streams(ctx context.Context) (map[string]*cache.Dataset, error) {
	out := make(map[string]*cache.Dataset, len(r.streams))
	for _, n := range r.streams {
		d, err := r.cache.Dataset(ctx, n)
		if err != nil {
			return nil, err
		}
		out[n] = d
	}
	return out, nil
}

// Read reads streams into a cache (the Environment's default cache unless
// UseCache says otherwise) and returns what it loaded.
//
// It reads the streams named with Streams, else the selected ones, else —
// when nothing is selected — every stream of the catalog. Streams that
// support it are read incrementally: the state the cache committed last for
// this source is passed to the connector, so only new records come
// (ForceFullRefresh passes none and reads everything). Each STATE the
// connector sends is committed only once the records before it are durable
// in the cache, so a read that fails or is killed resumes where it stopped.
//
// A connector failure is returned after what arrived before it has been
// kept; a stream the connector started and never reported complete is an
// *IncompleteStreamError. Once the load has begun, an error (a failure, a
// cancellation, a cache in use) comes with the ReadResult, whose counts say
// what the cache kept, for a server's status of a failed read; an error
// before it (the config, the catalog, the streams) comes with nil.
//
// Reads of one source (by name) into one cache under one table prefix run
// one at a time: a Read that finds another one loading returns an error
// matching cache.ErrInUse at once, before the connector starts. Reads into
// different caches, or under different prefixes of one cache (each keeps
// its own state: two accounts of one connector), run at once.
//
// Read writes nothing on its own: progress is drawn when the Environment
// asks for it (connector.Environment.SetProgress) or this call does
// (WithProgress). The logger gets "read started" and "read finished" at
// debug level, and the connector's LOG messages at their own level.
func (s *Source) Read(ctx context.Context, opts ...ReadOption) (res *ReadResult, err error) {
	// One operation: discovering the catalog and reading resolve each
	// secret reference of the config once.
	ctx = core.WithOperation(ctx)
	var rs readSettings
	for _, o := range opts {
		o(&rs)
	}
	if rs.nilCache {
		// A cache variable that a failed open left nil would otherwise
		// send the records into the default cache, a file the program
		// never named.
		return nil, &connector.OptionError{Connector: s.Name(), Option: "source.UseCache",
			Reason: "it got a nil *cache.Cache; pass an open cache, or leave UseCache out to read into the Environment's default cache"}
	}
	tr := rs.tracker
	if tr == nil {
		// The tracker starts before validation and discovery, so that the
		// time to the first record is what the caller waits for, and a read
		// that fails early still ends with its summary line.
		tr = progress.New(progress.OpRead, s.Name(), s.core.ProgressOptions(rs.progress)...)
		defer func() { tr.Finish(err) }()
	}
	r, err := s.prepareRead(ctx, &rs, tr)
	if err != nil {
		return nil, err
	}
	return r.run(ctx)
}

// read is one Read whose streams, catalog and cache are known: what the
// connector is run with (and the cache's state, read once the load holds
// the source's lock), and what follows its messages into the cache. Its
// steps are run, loadError and result.
type read struct {
	s       *Source
	rs      *readSettings
	streams []string
	catalog *protocol.ConfiguredCatalog
	catJSON []byte
	track   *streamTracker
	prog    *readProgress
	// reportsWritten is false for a write's tracker: the rows landing in
	// the cache are not what it counts as written (see WithTracker), so
	// they are reported only for a read.
	reportsWritten bool
	log            *slog.Logger
}

// prepareRead resolves everything a read needs before the connector
// starts; an error here comes without a ReadResult, as nothing was loaded.
func (s *Source) prepareRead(ctx context.Context, rs *readSettings, tr *progress.Tracker) (*read, error) {
	streams, err := s.readStreams(ctx, rs.streams)
	if err != nil {
		return nil, err
	}
	var copts []CatalogOption
	if rs.fullRefresh {
		copts = append(copts, FullRefresh())
	}
	catalog, err := s.ConfiguredCatalog(ctx, streams, copts...)
	if err != nil {
		return nil, err
	}
	streams = configuredNames(catalog)
	// The default cache is opened (made, the first time) only once the
	// config and the streams are known to be right: a read that fails on
	// them leaves no .cache directory behind.
	if rs.cache == nil {
		c, err := s.core.DefaultCache(ctx)
		if err != nil {
			return nil, err
		}
		rs.cache = c
	}
	catJSON, err := json.Marshal(catalog)
	if err != nil {
		return nil, err
	}
	r := &read{s: s, rs: rs, streams: streams, catalog: catalog, catJSON: catJSON,
		track: newStreamTracker(s.Name(), streams), prog: newReadProgress(tr, streams),
		reportsWritten: rs.tracker == nil || tr.Snapshot().Operation == progress.OpRead, log: s.core.Logger()}
	r.track.tolerate = rs.tolerateMalformed
	return r, nil
}

// run runs the connector, loads its messages into the cache and says how
// the read ended: the load's error first, then a stream the connector left
// incomplete.
func (r *read) run(ctx context.Context) (*ReadResult, error) {
	var committed func(map[string]int64, []cache.StateKey)
	if r.reportsWritten {
		committed = r.prog.committed
	}
	start := time.Now()
	r.log.Debug("read started", "connector", r.s.Name(), slog.Any("streams", r.streams), "full_refresh", r.rs.fullRefresh)
	run := r.s.core.RunValidated
	if r.rs.skipValidation {
		run = r.s.core.Run
	}
	// The state is read, and the connector started with it, once Load
	// holds the source's lock and asks for the first message: a state read
	// before could be overtaken by a load of the source that another
	// process or goroutine ended meanwhile, whose records this read would
	// then load again.
	msgs := func(yield func(*protocol.Message, error) bool) {
		var state json.RawMessage
		if !r.rs.fullRefresh {
			var err error
			state, err = incrementalState(r.catalog, func(streams []string) (json.RawMessage, error) {
				return r.rs.cache.SourceState(ctx, r.s.Name(), streams)
			})
			if err != nil {
				yield(nil, fmt.Errorf("%s: reading the cache's state: %w", r.s.Name(), err))
				return
			}
		}
		r.log.Debug("connector started", "connector", r.s.Name(), "incremental", state != nil)
		for m, err := range run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: r.catJSON, State: state}) {
			if !yield(m, err) {
				return
			}
		}
	}
	lr, err := r.rs.cache.Load(ctx, cache.LoadRequest{
		SourceName:  r.s.Name(),
		Catalog:     r.catalog,
		Strategy:    r.rs.strategy,
		FullRefresh: r.rs.fullRefresh,
		Messages:    r.prog.observe(r.track.guard(msgs, r.log)),
		Committed:   committed,
	})
	err = r.loadError(ctx, err)
	res := r.result(lr, err == nil)
	if err != nil {
		return res, err
	}
	if err := r.track.finish(r.log); err != nil {
		return res, err
	}
	r.track.warnUnstated(r.log, r.catalog, lr.RecordsRead)
	if len(lr.Unfinished) > 0 {
		return res, &IncompleteStreamError{Connector: r.s.Name(), Stream: lr.Unfinished[0]}
	}
	r.log.Debug("read finished", "connector", r.s.Name(), "records", res.total, slog.Any("streams", res.records),
		"duration", time.Since(start).Round(time.Millisecond))
	return res, nil
}

// loadError is the load's error, said as a cancellation when the context
// was done: the cache saw the cancellation first, as a wrapped context
// error or as the database's own "interrupted", and the caller should hear
// what was cancelled, with the context's cause, not the database's words
// for it.
func (r *read) loadError(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	how, cause := "cancelled", context.Cause(ctx)
	if errors.Is(cause, context.DeadlineExceeded) {
		how = "timed out"
	}
	return fmt.Errorf("%s: read into the cache %s; what was committed before stays, and the next read resumes from it: %w", r.s.Name(), how, cause)
}

// result is the ReadResult of a load that returned lr (nil when it failed
// before counting anything), ok when it succeeded. It logs what the load
// skipped and the states it committed, and gives the progress the rows
// that landed.
func (r *read) result(lr *cache.LoadResult, ok bool) *ReadResult {
	res := &ReadResult{source: r.s, catalog: r.catalog, cache: r.rs.cache, streams: r.streams, records: map[string]int64{}, read: map[string]int64{},
		malformed: maps.Clone(r.track.malformed)}
	if lr == nil {
		return res
	}
	res.records, res.read, res.total = lr.Records, lr.RecordsRead, lr.Total
	if lr.UnknownStreamRecords > 0 || lr.UnknownStreamStates > 0 {
		r.log.Warn("the connector sent records or states of streams that were not asked for; they were skipped",
			"connector", r.s.Name(), "records", lr.UnknownStreamRecords, "states", lr.UnknownStreamStates)
	}
	if r.reportsWritten {
		r.prog.finish(lr, ok)
	}
	r.log.Debug("states committed", "connector", r.s.Name(), "states", lr.States)
	return res
}

// readStreams resolves which streams a read covers: the names given, else
// the selection, else every stream.
func (s *Source) readStreams(ctx context.Context, names []string) ([]string, error) {
	c, err := s.DiscoveredCatalog(ctx)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		if names, err = s.SelectedStreams(ctx); err != nil {
			return nil, err
		}
	}
	if len(names) == 0 || slices.Contains(names, "*") {
		return catalogs.StreamNames(c), nil
	}
	names = distinct(names)
	if err := catalogs.NewIndex(c, s.Name()).Check(names); err != nil {
		return nil, err
	}
	return names, nil
}
