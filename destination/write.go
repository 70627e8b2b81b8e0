package destination

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"sync"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// StateInterval is how many rows of a stream Write sends from a cache
// between two STATE messages: how much a destination that dies mid-stream
// makes the next Write send again.
const StateInterval = 10_000

// Input is what Write takes: a *source.Source (read first, or streamed
// with NoCache) or a *source.ReadResult (already in a cache). Both have an
// Origin method; nothing else needs one.
type Input interface {
	Origin() source.Origin
}

// WriteOption adjusts [Destination.Write].
type WriteOption func(*writeSettings)

type writeSettings struct {
	streams      []string
	cache        *cache.Cache
	noCache      bool
	stateCache   *cache.Cache
	noStateCache bool
	strategy     cache.Strategy
	fullRefresh  bool
	progress     []progress.Option
	tracker      *progress.Tracker
}

// Streams writes these streams; the default is the source's selection (or
// every stream when none is selected), or every stream of a ReadResult.
// "*" means every stream.
func Streams(names ...string) WriteOption {
	return func(w *writeSettings) { w.streams = append(w.streams, names...) }
}

// UseCache reads a Source into c before writing (the default is the
// default DuckDB cache). It has no effect on a ReadResult, whose records
// are already in its cache.
func UseCache(c *cache.Cache) WriteOption {
	return func(w *writeSettings) { w.cache, w.noCache = c, false }
}

// NoCache streams a Source's records straight into the destination,
// without a cache.
func NoCache() WriteOption { return func(w *writeSettings) { w.cache, w.noCache = nil, true } }

// StateCache keeps the destination's state in c instead of the cache the
// records come from.
func StateCache(c *cache.Cache) WriteOption {
	return func(w *writeSettings) { w.stateCache, w.noStateCache = c, false }
}

// NoStateCache keeps no destination state: every Write sends everything.
func NoStateCache() WriteOption {
	return func(w *writeSettings) { w.stateCache, w.noStateCache = nil, true }
}

// Strategy sets the write strategy, which picks each stream's destination
// sync mode: append → append, merge → append_dedup, replace → overwrite;
// auto (the default) is merge with a primary key, append with a cursor,
// replace otherwise. It also applies to the read into the cache.
func Strategy(s cache.Strategy) WriteOption { return func(w *writeSettings) { w.strategy = s } }

// ForceFullRefresh reads the source in full and sends every record,
// whatever the destination confirmed before.
func ForceFullRefresh() WriteOption { return func(w *writeSettings) { w.fullRefresh = true } }

// WriteResult is what a Write did.
type WriteResult struct {
	// SourceName and DestinationName key the destination's state.
	SourceName, DestinationName string
	// RecordsSent counts the records sent per stream.
	RecordsSent map[string]int64
	// RecordsConfirmed counts the records the destination confirmed per
	// stream: the destinationStats.recordCount of the states it echoed
	// (for a destination that sends none, the records sent before each
	// echoed state).
	RecordsConfirmed map[string]int64
	// StatesConfirmed is the number of STATE messages the destination
	// echoed.
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

// WriteError is a Write that failed after the destination started: the
// destination died or reported an error, or the records could not be fed
// to it. What it confirmed before (RecordsConfirmed) stays confirmed; the
// next Write sends the rest. Err is usually an *executor.ConnectorError
// with the destination's last stderr lines.
type WriteError struct {
	Destination string
	Result      *WriteResult
	Err         error
}

// Error says what was sent and confirmed before the failure, and its cause.
func (e *WriteError) Error() string {
	return fmt.Sprintf("destination %s: write failed after %d records sent and %d confirmed: %v; what was not confirmed is sent again by the next Write",
		e.Destination, e.Result.TotalSent(), e.Result.TotalConfirmed(), e.Err)
}

// Unwrap returns the cause.
func (e *WriteError) Unwrap() error { return e.Err }

// Write writes the input's records into the destination.
//
// From a *source.Source, the source is read into the cache first (the
// default DuckDB cache unless UseCache says otherwise; incrementally, as
// Source.Read does) and then written from there; with NoCache its messages
// go straight to the destination. From a *source.ReadResult, the records
// already in its cache are written.
//
// Only what the destination has not confirmed is sent (see the package
// documentation), and its state advances only with the states it echoes.
//
// One progress tracker follows the whole Write, the read into the cache
// included (see WithProgress); by default it draws on os.Stderr and ends
// with one summary line.
func (d *Destination) Write(ctx context.Context, from Input, opts ...WriteOption) (_ *WriteResult, err error) {
	var ws writeSettings
	for _, o := range opts {
		o(&ws)
	}
	o := from.Origin()
	if o.Source == nil {
		return nil, errors.New("destination: Write needs a *source.Source or a *source.ReadResult")
	}
	tr := ws.tracker
	if tr == nil {
		tr = progress.New(progress.OpWrite, d.name, append([]progress.Option{progress.WithMask(d.mask)}, ws.progress...)...)
		defer func() { tr.Finish(err) }()
	}
	res := o.Result
	// Records taken from a cache count as read only when no source read
	// counted them already.
	countCacheReads := res != nil
	if res == nil && !ws.noCache {
		c := ws.cache
		if c == nil {
			var err error
			if c, err = source.DefaultCache(ctx); err != nil {
				return nil, err
			}
		}
		ropts := []source.ReadOption{source.UseCache(c), source.Strategy(ws.strategy), source.WithTracker(tr)}
		if ws.fullRefresh {
			ropts = append(ropts, source.ForceFullRefresh())
		}
		if len(ws.streams) > 0 {
			ropts = append(ropts, source.Streams(ws.streams...))
		}
		var err error
		if res, err = o.Source.Read(ctx, ropts...); err != nil {
			return nil, err
		}
	}
	stateCache := ws.stateCache
	if stateCache == nil && !ws.noStateCache {
		if res != nil {
			stateCache = res.Cache()
		} else {
			var err error
			if stateCache, err = source.DefaultCache(ctx); err != nil {
				return nil, err
			}
		}
	}
	if stateCache == nil {
		// Only NoStateCache gets here (without it the default cache keeps
		// the state): a choice, not a surprise, so no warning.
		d.logger.Debug("no state cache: the destination's progress is not tracked, and every Write sends everything", "destination", d.name)
	}
	out := &WriteResult{SourceName: o.Source.Name(), DestinationName: d.name,
		RecordsSent: map[string]int64{}, RecordsConfirmed: map[string]int64{}}
	if stateCache != nil {
		out.State = &StateProvider{c: stateCache, source: out.SourceName, destination: d.name}
	}
	d.logger.Debug("write started", "destination", d.name, "source", out.SourceName, "cached", res != nil)
	if res != nil {
		err = d.writeFromCache(ctx, res, &ws, out, tr, countCacheReads)
	} else {
		err = d.writeDirect(ctx, o.Source, &ws, out, tr)
	}
	if err == nil {
		d.logger.Debug("write finished", "destination", d.name, "source", out.SourceName,
			"sent", out.TotalSent(), "confirmed", out.TotalConfirmed(), "states", out.StatesConfirmed)
	}
	return out, err
}

// syncMode maps a write strategy onto a stream's destination sync mode,
// resolving auto as Read does.
func syncMode(st cache.Strategy, cs *protocol.ConfiguredStream) (protocol.DestinationSyncMode, error) {
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
		return protocol.DestinationAppend, nil
	case cache.StrategyMerge:
		if len(pk) == 0 {
			return "", &cache.StrategyError{Stream: cs.Stream.Name, Strategy: st, Reason: "it has no primary key; use append or replace"}
		}
		return protocol.DestinationAppendDedup, nil
	case cache.StrategyReplace:
		return protocol.DestinationOverwrite, nil
	}
	return "", &cache.StrategyError{Stream: cs.Stream.Name, Strategy: st, Reason: "unknown strategy; use auto, append, merge or replace"}
}

// destCatalog configures the streams for the destination.
func destCatalog(streams []protocol.ConfiguredStream, st cache.Strategy) (*protocol.ConfiguredCatalog, error) {
	out := &protocol.ConfiguredCatalog{}
	for i := range streams {
		cs := streams[i]
		mode, err := syncMode(st, &cs)
		if err != nil {
			return nil, err
		}
		cs.DestinationSyncMode = mode
		if len(cs.PrimaryKey) == 0 {
			cs.PrimaryKey = cs.Stream.SourceDefinedPrimaryKey
		}
		out.Streams = append(out.Streams, cs)
	}
	return out, nil
}

// pick keeps the configured streams named (all for none or "*"), failing
// on a name that is not there.
func pick(connector string, all []protocol.ConfiguredStream, names []string) ([]protocol.ConfiguredStream, error) {
	if len(names) == 0 || slices.Contains(names, "*") {
		return all, nil
	}
	var out []protocol.ConfiguredStream
	for _, n := range names {
		i := slices.IndexFunc(all, func(cs protocol.ConfiguredStream) bool { return cs.Stream.Name == n })
		if i < 0 {
			var avail []string
			for _, cs := range all {
				avail = append(avail, cs.Stream.Name)
			}
			return nil, &source.StreamNotFoundError{Connector: connector, Stream: n, Available: avail}
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
// writes as its input, and hands every state it echoes to onEcho. produce
// runs on its own goroutine and writes into a pipe: it blocks while the
// destination is busy, so memory stays bounded. If produce fails, the
// destination is stopped before its input ends, so that it commits
// nothing of a partial input.
func (d *Destination) pipeline(ctx context.Context, catalog *protocol.ConfiguredCatalog, out *WriteResult,
	produce func(ctx context.Context, w *bufio.Writer) error, onEcho func(st *protocol.State) error) error {
	catJSON, err := json.Marshal(catalog)
	if err != nil {
		return err
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
	for m, err := range d.messages(dctx, executor.Invocation{Verb: executor.VerbWrite, Catalog: catJSON, Stdin: pr}) {
		if err != nil {
			runErr = err
			break
		}
		switch m.Type {
		case protocol.TypeState:
			if m.State == nil {
				continue
			}
			out.StatesConfirmed++
			if echoErr = onEcho(m.State); echoErr != nil {
				break
			}
		case protocol.TypeRecord:
			if out.DestinationRecords == 0 {
				d.logger.Warn("the destination wrote RECORD messages on its output; they are counted and ignored", "destination", d.name)
			}
			out.DestinationRecords++
		}
		if echoErr != nil {
			break
		}
	}
	pr.CloseWithError(errDestinationGone) // unblocks the producer if the destination stopped reading
	wg.Wait()
	switch {
	case prodErr != nil:
		return &WriteError{Destination: d.name, Result: out, Err: prodErr}
	case echoErr != nil:
		return &WriteError{Destination: d.name, Result: out, Err: fmt.Errorf("storing the destination's state: %w", echoErr)}
	case runErr != nil:
		return &WriteError{Destination: d.name, Result: out, Err: runErr}
	}
	if out.StatesConfirmed == 0 && out.TotalSent() > 0 {
		d.logger.Warn("the destination echoed no state: none of the records sent could be confirmed, and the next Write sends them again",
			"destination", d.name, "records", out.TotalSent())
	}
	return nil
}

var errDestinationGone = errors.New("the destination stopped reading its input")

// messages runs the write command: the connector, or the in-process no-op.
func (d *Destination) messages(ctx context.Context, inv executor.Invocation) iter.Seq2[*protocol.Message, error] {
	if d.noop {
		return noopWrite(inv.Stdin)
	}
	return d.core.RunCommand(ctx, inv)
}

// recordCount is a state's destinationStats.recordCount, if it has one.
func recordCount(st *protocol.State) (int64, bool) {
	if st.DestinationStats == nil || st.DestinationStats.RecordCount == nil {
		return 0, false
	}
	return int64(*st.DestinationStats.RecordCount), true
}
