package source

import (
	"context"
	"encoding/json"
	"iter"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
)

// This file is what package destination asks of a Source and a ReadResult
// (core.Readable and core.Cached), so that destinations take sources
// without importing this package.

func init() {
	core.RegisterSource(core.SourceHooks{
		Readable: func(x any) (core.Readable, bool) {
			s, ok := x.(*Source)
			return readable{s}, ok
		},
		Cached: func(x any) (core.Cached, bool) {
			r, ok := x.(*ReadResult)
			return cached{r}, ok
		},
	})
}

// readable is a Source as core.Readable.
type readable struct{ s *Source }

func (r readable) LoadIntoCache(ctx context.Context, c *cache.Cache, streams []string, strategy cache.Strategy,
	fullRefresh bool, tr *progress.Tracker) (*cache.Cache, *protocol.ConfiguredCatalog, []string, error) {
	return r.s.loadIntoCache(ctx, c, streams, strategy, fullRefresh, tr)
}

func (r readable) StreamMessages(ctx context.Context, streams []string, fullRefresh bool,
	state func(streams []string) (json.RawMessage, error)) (
	*protocol.ConfiguredCatalog, iter.Seq2[*protocol.Message, error], func(map[string]int64) error, error) {
	return r.s.streamMessages(ctx, streams, fullRefresh, state)
}

// cached is a ReadResult as core.Cached.
type cached struct{ r *ReadResult }

func (c cached) Cache() *cache.Cache                  { return c.r.cache }
func (c cached) Catalog() *protocol.ConfiguredCatalog { return c.r.catalog }
func (c cached) ProcessedStreams() []string           { return c.r.ProcessedStreams() }

// SourceName is the source's connector name; it keys a destination's state.
func (s *Source) SourceName() string { return s.Name() }

// loadIntoCache reads streams (the selected ones when empty) into c, as
// Read does with UseCache(c), Strategy(strategy), WithTracker(tr) and, when
// fullRefresh, ForceFullRefresh; with c nil, into the Environment's default
// cache, which Read opens only once the config and the streams are right.
// It returns the cache, the configured catalog and the streams read.
// Package destination calls it to write through a cache.
func (s *Source) loadIntoCache(ctx context.Context, c *cache.Cache, streams []string, strategy cache.Strategy,
	fullRefresh bool, tr *progress.Tracker) (*cache.Cache, *protocol.ConfiguredCatalog, []string, error) {
	opts := []ReadOption{Strategy(strategy), WithTracker(tr)}
	if c != nil {
		opts = append(opts, UseCache(c))
	}
	if fullRefresh {
		opts = append(opts, ForceFullRefresh())
	}
	if len(streams) > 0 {
		opts = append(opts, Streams(streams...))
	}
	res, err := s.Read(ctx, opts...)
	if err != nil {
		return nil, nil, nil, err
	}
	return res.Cache(), res.catalog, res.ProcessedStreams(), nil
}

// streamMessages validates the config, configures streams (the selected
// ones when empty, every stream when none is selected), asks state for the
// --state of those read incrementally unless fullRefresh (none of a stream
// read in full, see incrementalState), and starts the read: it
// returns the configured catalog, the connector's messages and finish,
// which, once the messages ended without an error, says whether every
// stream was complete: an *IncompleteStreamError when one was not, as Read
// returns; given the records sent per stream, it warns as Read does of the
// incremental streams whose records came with no state. As Read commits none, the messages leave out the STATEs that
// follow a line that claimed to be a RECORD or STATE and did not parse.
// Package destination calls it to write with no cache.
func (s *Source) streamMessages(ctx context.Context, streams []string, fullRefresh bool,
	state func(streams []string) (json.RawMessage, error)) (
	catalog *protocol.ConfiguredCatalog, msgs iter.Seq2[*protocol.Message, error], finish func(sent map[string]int64) error, err error) {
	if err := s.ValidateConfig(ctx); err != nil {
		return nil, nil, nil, err
	}
	names, err := s.readStreams(ctx, streams)
	if err != nil {
		return nil, nil, nil, err
	}
	var copts []CatalogOption
	if fullRefresh {
		copts = append(copts, FullRefresh())
	}
	catalog, err = s.ConfiguredCatalog(ctx, names, copts...)
	if err != nil {
		return nil, nil, nil, err
	}
	names = configuredNames(catalog)
	catJSON, err := json.Marshal(catalog)
	if err != nil {
		return nil, nil, nil, err
	}
	var st json.RawMessage
	if state != nil && !fullRefresh {
		if st, err = incrementalState(catalog, state); err != nil {
			return nil, nil, nil, err
		}
	}
	// The destination commits every state it is given: a state after a
	// malformed line would confirm the records that line lost, and the
	// next Write would resume after them. The guard holds it back.
	track := newStreamTracker(s.Name(), names)
	log := s.core.Logger()
	msgs = track.guard(s.core.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: catJSON, State: st}), log)
	return catalog, msgs, func(sent map[string]int64) error {
		if err := track.finish(log); err != nil {
			return err
		}
		track.warnUnstated(log, catalog, sent)
		return nil
	}, nil
}
