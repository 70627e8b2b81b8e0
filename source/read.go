package source

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
)

// ReadOption adjusts [Source.Read].
type ReadOption func(*readSettings)

type readSettings struct {
	cache          *cache.Cache
	streams        []string
	strategy       cache.Strategy
	fullRefresh    bool
	skipValidation bool
	progress       []progress.Option
	tracker        *progress.Tracker
}

// UseCache makes Read load into c instead of the default DuckDB cache
// ([DefaultCache]).
func UseCache(c *cache.Cache) ReadOption { return func(r *readSettings) { r.cache = c } }

// Streams reads these streams instead of the selected ones; "*" reads all.
func Streams(names ...string) ReadOption {
	return func(r *readSettings) { r.streams = append(r.streams, names...) }
}

// Strategy sets how each stream is written into its table: cache.StrategyAuto
// (the default: merge with a primary key, append with a cursor, replace
// otherwise), StrategyAppend, StrategyMerge or StrategyReplace.
func Strategy(s cache.Strategy) ReadOption { return func(r *readSettings) { r.strategy = s } }

// ForceFullRefresh reads every stream in full and passes no state to the
// connector, whatever the cache remembers.
func ForceFullRefresh() ReadOption { return func(r *readSettings) { r.fullRefresh = true } }

// SkipValidation does not validate the config against the spec before the
// read. (Discovering the catalog, when it is not known yet, still does.)
func SkipValidation() ReadOption { return func(r *readSettings) { r.skipValidation = true } }

// Origin is where a destination's records come from: a Source that still
// has to be read (Result nil), or the ReadResult of a read already in a
// cache. [Source.Origin] and [ReadResult.Origin] make one; package
// destination takes anything that has an Origin method.
type Origin struct {
	Source *Source
	Result *ReadResult
}

// Origin returns an Origin for reading s.
func (s *Source) Origin() Origin { return Origin{Source: s} }

// Origin returns an Origin for the records r loaded.
func (r *ReadResult) Origin() Origin { return Origin{Source: r.source, Result: r} }

// ReadResult is what [Source.Read] loaded: the streams, how many records
// each got, and the cache that holds them.
type ReadResult struct {
	source  *Source
	catalog *protocol.ConfiguredCatalog
	cache   *cache.Cache
	streams []string
	records map[string]int64
	total   int64
}

// SourceName is the name of the source that was read.
func (r *ReadResult) SourceName() string { return r.source.name }

// ProcessedStreams lists the streams read, in catalog order.
func (r *ReadResult) ProcessedStreams() []string { return slices.Clone(r.streams) }

// RecordsProcessed is the number of records loaded, all streams together.
func (r *ReadResult) RecordsProcessed() int64 { return r.total }

// StreamRecords returns the number of records loaded per stream (streams
// that got none are absent).
func (r *ReadResult) StreamRecords() map[string]int64 {
	out := make(map[string]int64, len(r.records))
	for k, v := range r.records {
		out[k] = v
	}
	return out
}

// Cache is the cache the records were loaded into.
func (r *ReadResult) Cache() *cache.Cache { return r.cache }

// Catalog is the configured catalog the read used.
func (r *ReadResult) Catalog() *protocol.ConfiguredCatalog { return r.catalog }

// Stream returns the dataset of a processed stream: everything its table
// holds, this read's records and earlier ones. A stream that was not part
// of the read is a *StreamNotFoundError.
func (r *ReadResult) Stream(ctx context.Context, name string) (*cache.Dataset, error) {
	if !slices.Contains(r.streams, name) {
		return nil, &StreamNotFoundError{Connector: r.source.name, Stream: name, Available: r.ProcessedStreams()}
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

// Read reads streams into a cache (the default DuckDB cache unless UseCache
// says otherwise) and returns what it loaded.
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
// *IncompleteStreamError.
//
// Progress goes to a tracker (see WithProgress, NoProgress, WithTracker):
// by default a live line on a terminal, and one summary line at the end.
// The Source's logger gets "read started" and "read finished" at info
// level, the states committed at debug level, and the connector's LOG
// messages at their own level.
func (s *Source) Read(ctx context.Context, opts ...ReadOption) (res *ReadResult, err error) {
	var rs readSettings
	for _, o := range opts {
		o(&rs)
	}
	tr := rs.tracker
	if tr == nil {
		// The tracker starts before validation and discovery, so that the
		// time to the first record is what the caller waits for, and a read
		// that fails early still ends with its summary line.
		tr = progress.New(progress.OpRead, s.name, append([]progress.Option{progress.WithMask(s.mask)}, rs.progress...)...)
		defer func() { tr.Finish(err) }()
	}
	if rs.cache == nil {
		c, err := DefaultCache(ctx)
		if err != nil {
			return nil, err
		}
		rs.cache = c
	}
	cfg, err := s.prepare(ctx)
	if err != nil {
		return nil, err
	}
	if !rs.skipValidation {
		if err := s.validate(ctx, cfg); err != nil {
			return nil, err
		}
	}
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
	catJSON, err := json.Marshal(catalog)
	if err != nil {
		return nil, err
	}
	var state json.RawMessage
	if !rs.fullRefresh {
		if state, err = rs.cache.SourceState(ctx, s.name, streams); err != nil {
			return nil, fmt.Errorf("%s: reading the cache's state: %w", s.name, err)
		}
	}
	track := newStreamTracker(s.name, streams)
	prog := newReadProgress(tr, streams)
	start := time.Now()
	s.logger.Debug("read started", "connector", s.name, slog.Any("streams", streams), "incremental", state != nil)
	msgs := s.run(ctx, executor.Invocation{Verb: executor.VerbRead, Config: cfg, Catalog: catJSON, State: state})
	lr, err := rs.cache.Load(ctx, cache.LoadRequest{
		SourceName:  s.name,
		Catalog:     catalog,
		Strategy:    rs.strategy,
		FullRefresh: rs.fullRefresh,
		Messages:    prog.observe(observed(msgs, track)),
	})
	res = &ReadResult{source: s, catalog: catalog, cache: rs.cache, streams: streams, records: map[string]int64{}}
	if lr != nil {
		res.records, res.total = lr.Records, lr.Total
		if lr.UnknownStreamRecords > 0 {
			s.logger.Warn("the connector sent records of streams that were not asked for; they were skipped",
				"connector", s.name, "records", lr.UnknownStreamRecords)
		}
		// For a write, the rows landing in the cache are not what the
		// tracker counts as written (see WithTracker).
		if rs.tracker == nil || tr.Snapshot().Operation == progress.OpRead {
			prog.finish(lr.Records, lr.States, err == nil)
		}
		s.logger.Debug("states committed", "connector", s.name, "states", lr.States)
	}
	if err != nil {
		return res, err
	}
	if err := track.finish(s.logger); err != nil {
		return res, err
	}
	s.logger.Debug("read finished", "connector", s.name, "records", res.total, slog.Any("streams", res.records),
		"duration", time.Since(start).Round(time.Millisecond))
	return res, nil
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
		return streamNames(c), nil
	}
	names = slices.Compact(slices.Clone(names))
	for _, n := range names {
		if _, err := s.stream(c, n); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// observed passes msgs through, showing the tracker every message that is
// not a record (records are the hot path and tell it nothing).
func observed(msgs iter.Seq2[*protocol.Message, error], t *streamTracker) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		for m, err := range msgs {
			if err == nil && m.Type != protocol.TypeRecord {
				t.observe(m)
			}
			if !yield(m, err) {
				return
			}
		}
	}
}
