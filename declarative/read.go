package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/declarative/internal/manifest"
	"github.com/x/goairbyte/protocol"
)

// readContext is what one call of Check, Discover or Read shares: the
// config, the clock, the masker, and the serialised emit.
type readContext struct {
	src  *Source
	mask *masker
	log  *slog.Logger
	// budget is the call's api_budget (nil without one).
	budget *budget

	// config is the call's config; a refresh_token_updater replaces it
	// with an updated copy (rotationMu serialises the rotations).
	configMu   sync.RWMutex
	config     value
	rotationMu sync.Mutex

	emitMu  sync.Mutex
	emitFn  func(*protocol.Message) error
	emitErr error
	// counts are the records per stream since its last STATE.
	counts  map[string]int
	running map[string]bool

	tokensMu sync.Mutex
	tokens   map[any]*tokenState

	cacheMu   sync.Mutex
	responses map[string]*cacheEntry
}

// cacheKey identifies a request in the response cache: method, URL, body
// and headers (the CDK's cache matches headers).
func cacheKey(req *outRequest) string {
	var b strings.Builder
	b.WriteString(req.method + " " + req.url + "\x00")
	b.Write(req.body)
	hs := make([]string, 0, len(req.headers))
	for _, h := range req.headers {
		hs = append(hs, h.key+": "+interpolation.Str(h.val))
	}
	sort.Strings(hs)
	b.WriteString("\x00" + strings.Join(hs, "\n"))
	return b.String()
}

// cachedOrClaim returns the cached response of req, waiting for an
// identical request in flight; when there is none, it claims the key and
// returns a release function to call with the response (nil: not cached).
func (rc *readContext) cachedOrClaim(ctx context.Context, req *outRequest) (*response, func(*response)) {
	key := cacheKey(req)
	for {
		rc.cacheMu.Lock()
		if rc.responses == nil {
			rc.responses = map[string]*cacheEntry{}
		}
		e, ok := rc.responses[key]
		if !ok {
			e = &cacheEntry{done: make(chan struct{})}
			rc.responses[key] = e
			rc.cacheMu.Unlock()
			return nil, func(resp *response) {
				rc.cacheMu.Lock()
				if resp == nil {
					delete(rc.responses, key)
				} else {
					e.resp = resp
				}
				rc.cacheMu.Unlock()
				close(e.done)
			}
		}
		rc.cacheMu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, func(*response) {}
		}
		if e.resp != nil {
			return e.resp, nil
		}
	}
}

// cacheEntry is a cached response, or a request in flight (done open).
type cacheEntry struct {
	done chan struct{}
	resp *response
}

// tokenState is the token an authenticator holds during this call.
func (rc *readContext) tokenState(owner any) *tokenState {
	rc.tokensMu.Lock()
	defer rc.tokensMu.Unlock()
	if rc.tokens == nil {
		rc.tokens = map[any]*tokenState{}
	}
	st, ok := rc.tokens[owner]
	if !ok {
		st = &tokenState{}
		rc.tokens[owner] = st
	}
	return st
}

func (s *Source) newReadContext(config json.RawMessage) (*readContext, error) {
	cfg := value(interpolation.NewDict(0))
	if len(config) > 0 {
		v, err := decodeJSON(config)
		if err != nil {
			return nil, fmt.Errorf("declarative: the config is not valid JSON: %w", err)
		}
		if _, ok := v.(*dict); !ok {
			return nil, errors.New("declarative: the config is not a JSON object")
		}
		cfg = v
	}
	rc := &readContext{src: s, config: cfg, mask: &masker{}, log: s.opts.logger,
		counts: map[string]int{}, running: map[string]bool{}}
	rc.mask.addConfigSecrets(cfg, s.secretSpec)
	return rc, nil
}

// vars returns fresh template variables holding the config.
func (rc *readContext) vars() *vars {
	cfg := rc.currentConfig()
	v := &vars{config: cfg}
	v.Now = rc.src.opts.now
	v.Set(interpolation.VarConfig, cfg)
	return v
}

// currentConfig is the config as it is now.
func (rc *readContext) currentConfig() value {
	rc.configMu.RLock()
	defer rc.configMu.RUnlock()
	return rc.config
}

// setConfig replaces the config (templates evaluated from then on see it).
func (rc *readContext) setConfig(cfg value) {
	rc.configMu.Lock()
	defer rc.configMu.Unlock()
	rc.config = cfg
}

func (rc *readContext) addSecret(s string) { rc.mask.add(s) }

func (rc *readContext) logf(format string, args ...any) {
	if rc == nil || !rc.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	rc.log.Debug(rc.mask.text(fmt.Sprintf(format, args...)))
}

// maxWarnings is how many warnings one warner logs. The CDK logs one for
// each partition a cursor's limit drops: a parent of 100,000 partitions
// would put 90,000 lines on the terminal.
const maxWarnings = 10

// warner returns a function that logs a warning of the CDK's (its
// logger.warning, a LOG WARN message on its output), masked: the first
// maxWarnings, then once that it leaves the others out. It is nil when the
// logger drops warnings. Each cursor takes a warner of its own.
func (rc *readContext) warner() func(msg string) {
	if !rc.log.Enabled(context.Background(), slog.LevelWarn) {
		return nil
	}
	var n atomic.Int64
	return func(msg string) {
		switch k := n.Add(1); {
		case k <= maxWarnings:
			rc.log.Warn(rc.mask.text(msg))
		case k == maxWarnings+1:
			rc.log.Warn("further warnings of this cursor are left out (the first " + strconv.Itoa(maxWarnings) + " were logged)")
		}
	}
}

func (rc *readContext) logRequest(req *outRequest) {
	if !rc.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	rc.log.Debug("request", "method", req.method, "url", rc.mask.text(req.url))
}

// noCursorValueWarner returns the function a cursor of stream calls, once,
// for a record without a cursor value it reads: it logs the CDK's warning
// (ConcurrentCursor._log_for_record_without_cursor_value). It is nil when
// the logger drops warnings.
func (rc *readContext) noCursorValueWarner(stream string) func(field string) {
	warn := rc.warner()
	if warn == nil {
		return nil
	}
	return func(field string) {
		warn(fmt.Sprintf("Could not find cursor field `%s` in record for stream %s. The incremental sync will assume it needs to be synced", field, stream))
	}
}

// logRetry logs, at INFO as the CDK's backoff handlers do, a request that
// failed and is sent again after wait: a read slowed down by an API's
// 429s or 5xx says why. The URL and the reason are masked.
func (rc *readContext) logRetry(req *outRequest, resp *response, terr error, attempt int, wait time.Duration) {
	if rc == nil || !rc.log.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	why := fmt.Sprintf("status code %d", statusOf(resp))
	if resp == nil {
		why = fmt.Sprintf("%v", terr)
	}
	rc.log.Info(rc.mask.text(fmt.Sprintf("Retrying '%s' request to '%s' after %s (attempt %d). Sleeping for %v",
		req.method, req.url, why, attempt, wait)))
}

// emit sends one message to the caller, serialised; after the caller
// failed once, every emit returns that error.
func (rc *readContext) emit(m *protocol.Message) error {
	rc.emitMu.Lock()
	defer rc.emitMu.Unlock()
	return rc.emitLocked(m)
}

func (rc *readContext) emitLocked(m *protocol.Message) error {
	if rc.emitErr != nil {
		return rc.emitErr
	}
	if rc.emitFn == nil {
		return nil
	}
	if err := rc.emitFn(m); err != nil {
		rc.emitErr = err
		return err
	}
	return nil
}

func (rc *readContext) nowMillis() float64 {
	return float64(rc.src.opts.now().UnixMilli())
}

func (rc *readContext) status(stream string, st protocol.StreamStatus, reasons ...protocol.StreamStatusReason) error {
	return rc.emit(rc.statusMessage(stream, st, reasons...))
}

func (rc *readContext) statusMessage(stream string, st protocol.StreamStatus, reasons ...protocol.StreamStatusReason) *protocol.Message {
	return &protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{
		Type: protocol.TraceStreamStatus, EmittedAt: rc.nowMillis(),
		StreamStatus: &protocol.StreamStatusTrace{StreamDescriptor: protocol.StreamDescriptor{Name: stream}, Status: st, Reasons: reasons},
	}}
}

// rateLimited reports a rate-limited response as the CDK does: a RUNNING
// status with reason RATE_LIMITED.
func (rc *readContext) rateLimited(ctx context.Context, stream string) error {
	if rc == nil || rc.emitFn == nil {
		return nil
	}
	return rc.emitFor(ctx, rc.statusMessage(stream, protocol.StatusRunning, protocol.StreamStatusReason{Type: "RATE_LIMITED"}))
}

// record emits a record, preceded by the stream's RUNNING status when it
// is the first; data is its JSON when the page was encoded ahead.
func (rc *readContext) record(ctx context.Context, stream string, rec *dict, data []byte) error {
	if data == nil {
		var err error
		if data, err = encodeRecord(rec); err != nil {
			return recordEncodeError(stream, err)
		}
	}
	rm := &recordMessage{rec: protocol.Record{Stream: stream, Data: data, EmittedAt: rc.src.opts.now().UnixMilli()}}
	rm.msg = protocol.Message{Type: protocol.TypeRecord, Record: &rm.rec}
	msg := &rm.msg
	rc.emitMu.Lock()
	defer rc.emitMu.Unlock()
	if !rc.running[stream] {
		rc.running[stream] = true
		if err := rc.emitLocked(rc.statusMessage(stream, protocol.StatusRunning)); err != nil {
			return err
		}
	}
	rc.counts[stream]++
	rc.trace(ctx, msg)
	return rc.emitLocked(msg)
}

// recordMessage is a RECORD message and its record in one allocation.
type recordMessage struct {
	msg protocol.Message
	rec protocol.Record
}

// recordEncodeError is the error of a record of stream that does not
// encode.
func recordEncodeError(stream string, err error) error {
	return fmt.Errorf("stream %s: a record does not encode as JSON: %w", stream, err)
}

// encodeRecord encodes a record into a buffer of its exact size, through a
// pooled scratch buffer: appending to a nil slice would grow it several
// times per record.
func encodeRecord(rec *dict) ([]byte, error) {
	p := scratchPool.Get().(*[]byte)
	b, err := interpolation.AppendJSON((*p)[:0], rec)
	var out []byte
	if err == nil {
		out = make([]byte, len(b))
		copy(out, b)
	}
	if cap(b) <= maxScratch {
		*p = b[:0]
		scratchPool.Put(p)
	}
	return out, err
}

// maxScratch bounds the scratch buffers kept for reuse: a rare huge record
// does not stay in the pool.
const maxScratch = 64 << 10

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// state emits a stream STATE with the count of records since the last one.
func (rc *readContext) state(stream string, st value) error {
	data, err := encodeJSON(st)
	if err != nil {
		return err
	}
	return rc.stateJSON(stream, data)
}

// stateJSON emits a stream's state given as JSON.
func (rc *readContext) stateJSON(stream string, data []byte) error {
	rc.emitMu.Lock()
	defer rc.emitMu.Unlock()
	n := float64(rc.counts[stream])
	rc.counts[stream] = 0
	return rc.emitLocked(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{
		Type:        protocol.StateStream,
		Stream:      &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: stream}, StreamState: data},
		SourceStats: &protocol.StateStats{RecordCount: &n},
	}})
}

// traceError emits a TRACE ERROR, masked.
func (rc *readContext) traceError(stream string, ft protocol.FailureType, message, internal string) error {
	var sd *protocol.StreamDescriptor
	if stream != "" {
		sd = &protocol.StreamDescriptor{Name: stream}
	}
	return rc.emit(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{
		Type: protocol.TraceError, EmittedAt: rc.nowMillis(),
		Error: &protocol.ErrorTrace{Message: rc.mask.text(message), InternalMessage: rc.mask.text(internal), FailureType: ft, StreamDescriptor: sd},
	}})
}

// genericFailure is the CDK's message for an error it did not word.
const genericFailure = "Something went wrong in the connector. See the logs for more details."

// streamFailed reports a stream that failed with err as the CDK does: its
// TRACE ERROR (the CDK's generic words when the error has none of its
// own). It returns the streamError the read's readError lists, and the
// error of emitting the trace.
func (rc *readContext) streamFailed(stream string, err error) (*streamError, error) {
	msg, internal, ft := failureOf(err)
	if msg == "" {
		msg = genericFailure
	}
	se := &streamError{Stream: stream, FailureType: ft, Err: rc.masked(err)}
	return se, rc.traceError(stream, ft, msg, internal)
}

// readFailed ends a read in which streams failed: the read's own TRACE
// ERROR (internal is the CDK engine's words for it), then the readError.
func (rc *readContext) readFailed(failures []*streamError, internal string) error {
	re := &readError{Streams: failures}
	if err := rc.traceError("", protocol.FailureConfig, re.Error(), internal); err != nil {
		return err
	}
	return re
}

// masked returns err with its text masked. The engine's own error types
// are masked when made and stay in the chain for errors.As; others (an
// interpolation error prints its context, config included) are replaced by
// their masked text.
func (rc *readContext) masked(err error) error {
	var (
		he *httpError
		de *decodeError
		pe *paginationError
		oe *oauthError
	)
	if errors.As(err, &he) || errors.As(err, &de) || errors.As(err, &pe) || errors.As(err, &oe) {
		return &maskedError{msg: rc.mask.text(err.Error()), err: err}
	}
	return errors.New(rc.mask.text(err.Error()))
}

// maskedError is an error whose text was masked; it unwraps to the
// original, which the engine masked when it made it.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// failureOf gives the message, internal message and failure type the CDK
// reports for an error.
func failureOf(err error) (string, string, protocol.FailureType) {
	if errors.Is(err, errRevoked) {
		return errRevoked.Error(), errRevoked.Error(), protocol.FailureConfig
	}
	var oe *oauthError
	if errors.As(err, &oe) {
		return err.Error(), err.Error(), oe.failureType()
	}
	var he *httpError
	if errors.As(err, &he) {
		return he.Message, he.Internal, he.FailureType
	}
	var ae *asyncJobsError
	if errors.As(err, &ae) {
		return "", ae.internal, protocol.FailureConfig
	}
	var ie *interpolation.Error
	if errors.As(err, &ie) {
		return "", err.Error(), protocol.FailureSystem
	}
	return "", err.Error(), protocol.FailureSystem
}

// partitionJob is one partition (and date window) of a stream to read.
type partitionJob struct {
	run    *streamRun
	slice  *streamSlice
	window *window
	// pc is the partition's cursor of a per-partition incremental stream.
	pc *partitionCursor
}

// streamRun is a stream during one read.
type streamRun struct {
	st     *stream
	cursor *cursorRun
	// pp replaces cursor for an incremental stream with partitions.
	pp *perPartitionRun
	// parents is the state of the parents a substream router reads with
	// incremental_dependency (nil: none kept).
	parents *parentStates
	// feed and keep are the cursor's is_data_feed and
	// is_client_side_incremental windows (nil: not asked).
	feed, keep syncWindow
	state      value // the stream_state templates see
	// noCursorValue warns of a record without a cursor value the cursor
	// reads (nil: warnings are not logged).
	noCursorValue func(field string)

	mu         sync.Mutex
	pending    int
	generating bool
	failed     bool
	done       bool
}

// reader runs the streams of a read: each stream's partitions are
// generated in order by one goroutine and read by a pool of workers, up to
// the manifest's concurrency level; records of one partition keep their
// order; a partition's state is emitted after all of its records.
type reader struct {
	rc      *readContext
	workers int
	jobs    chan partitionJob
	wg      sync.WaitGroup

	mu       sync.Mutex
	failures []*streamError
}

// Read reads the configured streams, emitting what the CDK prints: stream
// statuses, records, states (per stream, after each slice or partition and
// at the end of each stream), TRACE ERRORs, and a CONTROL CONNECTOR_CONFIG
// message first when the spec's config_migrations changed the config. state is the --state file's
// content (an array of STREAM states, or nil). The returned error says
// which streams failed when some did (their TRACE ERRORs were emitted), is
// an *UnsupportedError before any request, or is the error emit returned.
func (s *Source) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage, emit func(*protocol.Message) error) error {
	if catalog == nil {
		return errors.New("declarative: Read needs a configured catalog")
	}
	states, err := parseState(state)
	if err != nil {
		return err
	}
	var selected []*stream
	var missing []string
	for _, cs := range catalog.Streams {
		if st := s.streamByName(cs.Stream.Name); st != nil {
			selected = append(selected, delegated(st, states))
		} else {
			missing = append(missing, cs.Stream.Name)
		}
	}
	if err := s.unsupportedFor(selected); err != nil {
		return err
	}
	var syncRead []manifest.Component
	var concurrent, synchronous []*stream
	for _, st := range selected {
		switch {
		case st.synchronous && st.router != nil:
			// The CDK reads these with its synchronous DeclarativeStream
			// over a PerPartitionWithGlobalCursor; that path is not built
			// (no manifest of the corpus has one).
			syncRead = append(syncRead, manifest.Component{Path: st.path, Type: "DeclarativeStream with a partition router read synchronously by the CDK (a template reads stream_state)"})
		case st.synchronous:
			synchronous = append(synchronous, st)
		default:
			concurrent = append(concurrent, st)
		}
	}
	if len(syncRead) > 0 {
		return unsupported(syncRead)
	}
	rc, err := s.newReadContext(config)
	if err != nil {
		return err
	}
	rc.emitFn = emit
	if err := s.prepareCall(ctx, rc); err != nil {
		return err
	}
	// A configured stream the manifest lacks is no failure: the CDK
	// (ConcurrentDeclarativeSource._select_streams) marks it INCOMPLETE
	// before it reads the others, so that no runner takes it for read.
	for _, name := range missing {
		if err := rc.status(name, protocol.StatusIncomplete); err != nil {
			return err
		}
	}
	// The CDK reads its concurrent streams first; a failure among them
	// ends the read before the synchronous ones.
	if len(concurrent) > 0 {
		if err := s.readConcurrent(ctx, rc, concurrent, states); err != nil {
			return err
		}
	}
	return s.readSynchronous(ctx, rc, synchronous, states)
}

// readConcurrent reads streams as the CDK's ConcurrentSource does.
func (s *Source) readConcurrent(ctx context.Context, rc *readContext, selected []*stream, states map[string]value) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &reader{rc: rc, workers: s.concurrency(rc), jobs: make(chan partitionJob)}
	// The CDK builds every stream's cursor from its state before it reads
	// any (_group_streams): a state or start it cannot read ends the read
	// there, before any message, rather than failing the stream alone (which
	// would emit a state without its cursor, losing the stream's position).
	runs := make([]*streamRun, len(selected))
	for i, st := range selected {
		run, err := s.newStreamRun(ctx, rc, st, states)
		if err != nil && ctx.Err() != nil {
			// Cancelled while a large state was read: no stream failed.
			return ctx.Err()
		}
		if err != nil {
			msg, internal, ft := failureOf(err)
			if msg == "" {
				msg = genericFailure
			}
			if e := rc.traceError("", ft, msg, internal); e != nil {
				return e
			}
			return &readError{Streams: []*streamError{{Stream: st.name, FailureType: ft, Err: rc.masked(err)}}}
		}
		runs[i] = run
	}
	for i := 0; i < r.workers; i++ {
		r.wg.Add(1)
		go r.work(ctx)
	}
	// Streams generate their partitions a few at a time, in catalog order,
	// as the CDK's partition enqueuer does.
	gen := make(chan struct{}, max(r.workers/2, 1))
	var genWG sync.WaitGroup
streams:
	for _, run := range runs {
		st := run.st
		select {
		case gen <- struct{}{}:
		case <-ctx.Done():
			break streams
		}
		if err := rc.status(st.name, protocol.StatusStarted); err != nil {
			<-gen
			cancel()
			break streams
		}
		genWG.Add(1)
		go func() {
			defer genWG.Done()
			defer func() { <-gen }()
			r.generate(ctx, run)
		}()
	}
	genWG.Wait()
	close(r.jobs)
	r.wg.Wait()
	if rc.emitErr != nil {
		return rc.emitErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(r.failures) > 0 {
		return rc.readFailed(r.failures, "Concurrent read failure")
	}
	return nil
}

// newStreamRun builds a stream's cursor for a read from its state.
func (s *Source) newStreamRun(ctx context.Context, rc *readContext, st *stream, states map[string]value) (*streamRun, error) {
	run := &streamRun{st: st, generating: true, state: interpolation.NewDict(0)}
	if st.cursor == nil {
		return run, nil
	}
	var sst *dict
	if v, ok := states[st.name]; ok {
		sst, _ = v.(*dict)
	}
	var err error
	if st.router != nil {
		if sr, ok := st.router.(*substreamRouter); ok {
			if run.parents, err = sr.newParentStates(sst, rc.vars()); err != nil {
				return nil, err
			}
		}
		if run.pp, err = newPerPartitionRun(ctx, st.cursor, run.parents, sst, rc.vars(), s.opts.now, s.opts.maxPartitions); err != nil {
			return nil, err
		}
		run.pp.warn = rc.warner()
	} else if run.cursor, err = st.cursor.run(sst, rc.vars(), s.opts.now); err != nil {
		return nil, err
	}
	run.noCursorValue = rc.noCursorValueWarner(st.name)
	if run.feed, run.keep, err = st.cursor.syncWindows(ctx, st.router != nil, sst, rc.vars(), s.opts.now); err != nil {
		return nil, err
	}
	return run, nil
}

// generate enumerates a stream's partitions and windows and queues them.
func (r *reader) generate(ctx context.Context, run *streamRun) {
	st := run.st
	submit := func(slice *streamSlice, w *window, pc *partitionCursor) error {
		run.mu.Lock()
		run.pending++
		run.mu.Unlock()
		select {
		case r.jobs <- partitionJob{run: run, slice: slice, window: w, pc: pc}:
			return nil
		case <-ctx.Done():
			run.mu.Lock()
			run.pending--
			run.mu.Unlock()
			return ctx.Err()
		}
	}
	// Windows are made one at a time as workers take them: there may be
	// hundreds of millions (windowGen).
	perPartition := func(p *dict) error {
		// Partitions of list routers and cartesian products are made in
		// memory, and one with no window to read submits nothing: without
		// this look, a cancelled read went through all of them.
		if err := ctx.Err(); err != nil {
			return err
		}
		if run.pp != nil {
			pc, g, err := run.pp.windows(p)
			if err != nil {
				return err
			}
			// One window ahead, to know which is the last.
			next, more := g.next()
			for more {
				w := next
				next, more = g.next()
				// As the CDK, the partition is marked finished before its
				// last window is handed out: that window may close before
				// this loop goes on, and must then count the partition for
				// the global cursor.
				run.pp.handOut(pc, !more)
				if err := submit(pc.run.windowSlice(p, w), &w, pc); err != nil {
					return err
				}
			}
			return nil
		}
		if run.cursor == nil {
			return submit(newSlice(p, nil), nil, nil)
		}
		g, err := run.cursor.windows()
		if err != nil {
			return err
		}
		for w, ok := g.next(); ok; w, ok = g.next() {
			if err := submit(run.cursor.windowSlice(p, w), &w, nil); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	if !run.failed {
		if st.async != nil {
			err = st.async.partitions(r.rc.labelled(ctx, st.name, nil), r.rc, st.name, func(s *streamSlice) error { return submit(s, nil, nil) })
		} else if st.router == nil {
			err = perPartition(nil)
		} else {
			err = st.router.partitions(r.rc.labelled(ctx, st.name, nil), r.rc, r.rc.vars(), run.parents, perPartition)
		}
	}
	if err != nil && ctx.Err() == nil {
		r.fail(run, err)
	}
	run.mu.Lock()
	run.generating = false
	last := run.pending == 0
	run.mu.Unlock()
	if last && ctx.Err() == nil {
		r.finishStream(run)
	}
}

func (r *reader) work(ctx context.Context) {
	defer r.wg.Done()
	for job := range r.jobs {
		if ctx.Err() == nil {
			r.readPartition(ctx, job)
		}
		run := job.run
		run.mu.Lock()
		run.pending--
		last := run.pending == 0 && !run.generating
		run.mu.Unlock()
		if last && ctx.Err() == nil {
			r.finishStream(run)
		}
	}
}

func (r *reader) readPartition(ctx context.Context, job partitionJob) {
	run, st := job.run, job.run.st
	if st.async != nil {
		r.readAsyncPartition(r.rc.labelled(ctx, st.name, job.slice), job)
		return
	}
	cr := run.cursor
	if job.pc != nil {
		cr = job.pc.run
	}
	ctx = r.rc.labelled(ctx, st.name, job.slice)
	r.rc.trace(ctx, nil)
	// The callback fails only for a record that does not encode (encoded
	// ahead), a cursor value that fails the stream, or when the read
	// stops, and feed and keep do not move: the slice may be read a page
	// ahead (read_ahead.go).
	sr := &sliceRead{stream: st.name, slice: job.slice, state: run.state, options: st.sliceOptions(job.slice), feed: run.feed, keep: run.keep, ahead: true}
	var latest newest
	err := st.retriever.readSlice(ctx, r.rc, sr, func(rec *dict, data []byte) error {
		if err := r.rc.record(ctx, st.name, rec, data); err != nil {
			return err
		}
		if job.pc != nil {
			run.pp.observe()
		}
		if cr != nil && job.window != nil {
			if err := cr.observe(&latest, rec, run.noCursorValue); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if r.rc.emitErr != nil || ctx.Err() != nil {
			return
		}
		r.fail(run, err)
		return
	}
	if job.pc != nil {
		state, err := run.pp.closeWindow(job.pc, *job.window, latest)
		if err != nil {
			r.fail(run, err)
			return
		}
		if state != nil {
			r.rc.stateJSON(st.name, state)
		}
		return
	}
	if run.cursor != nil && job.window != nil {
		state, err := run.cursor.closeWindow(*job.window, latest)
		if err != nil {
			r.fail(run, err)
			return
		}
		if state != nil {
			r.rc.state(st.name, state)
		}
	}
}

// fail records a stream's failure and emits its TRACE ERROR.
func (r *reader) fail(run *streamRun, err error) error {
	run.mu.Lock()
	run.failed = true
	run.mu.Unlock()
	se, emitErr := r.rc.streamFailed(run.st.name, err)
	r.mu.Lock()
	r.failures = append(r.failures, se)
	r.mu.Unlock()
	return emitErr
}

// finishStream emits the stream's final state and its COMPLETE or
// INCOMPLETE status (the CDK emits the state even for a failed stream).
func (r *reader) finishStream(run *streamRun) error {
	run.mu.Lock()
	if run.done {
		run.mu.Unlock()
		return nil
	}
	run.done = true
	failed := run.failed
	run.mu.Unlock()
	var data []byte
	var err error
	switch {
	case run.pp != nil:
		data, err = run.pp.finalState()
	case run.cursor != nil:
		data, err = encodeJSON(run.cursor.state())
	default:
		d := interpolation.NewDict(1)
		d.Set("__ab_no_cursor_state_message", true)
		data, err = encodeJSON(d)
	}
	if err == nil {
		err = r.rc.stateJSON(run.st.name, data)
	}
	if err != nil {
		return err
	}
	status := protocol.StatusComplete
	if failed {
		status = protocol.StatusIncomplete
	}
	return r.rc.status(run.st.name, status)
}

// parseState reads the --state content: an array of AirbyteStateMessages
// (STREAM states; GLOBAL states give their stream states), or a legacy
// object keyed by stream name.
func parseState(raw json.RawMessage) (map[string]value, error) {
	out := map[string]value{}
	if len(raw) == 0 || string(raw) == "null" {
		return out, nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("declarative: the state is not valid JSON: %w", err)
	}
	switch x := v.(type) {
	case []value:
		for _, e := range x {
			m, ok := e.(*dict)
			if !ok {
				continue
			}
			if s, ok := dictGet(m, "stream"); ok {
				name, _ := pathGet(s, []string{"stream_descriptor", "name"})
				ss, _ := dictGet(s, "stream_state")
				if n, ok := name.(string); ok {
					out[n] = ss
				}
			}
			if g, ok := dictGet(m, "global"); ok {
				list, _ := dictGet(g, "stream_states")
				if l, ok := list.([]value); ok {
					for _, s := range l {
						name, _ := pathGet(s, []string{"stream_descriptor", "name"})
						ss, _ := dictGet(s, "stream_state")
						if n, ok := name.(string); ok {
							out[n] = ss
						}
					}
				}
			}
			if d, ok := dictGet(m, "data"); ok {
				for _, e := range entries(asDict(d)) {
					out[e.key] = e.val
				}
			}
		}
	case *dict:
		for _, e := range entries(x) {
			out[e.key] = e.val
		}
	}
	return out, nil
}

func asDict(v value) *dict {
	d, _ := v.(*dict)
	return d
}

// readParent reads every record of a parent stream, with the slice each
// came from, for a substream partition router, as the CDK's
// read_only_records does: a parent with a DatetimeBasedCursor is read with
// the synchronous cursor (legacyCursor) from state (nil: none), which moves
// forward slice by slice; a parent with partitions of its own is read with
// the CDK's PerPartitionWithGlobalCursor (legacyPerPartition), whose
// state also carries the state of its own parents. Its state at the end is
// returned (nil for a parent without a cursor, whose state is not kept).
func (rc *readContext) readParent(ctx context.Context, parent *stream, state *dict, yield func(rec *dict, slice *streamSlice) error) (*dict, error) {
	pr := &parentRead{rc: rc, parent: parent, yield: yield}
	switch {
	case parent.router == nil:
		return pr.readUnpartitioned(ctx, state)
	case parent.cursor == nil:
		// Partitions without a cursor: no state to keep or return.
		return nil, parent.router.partitions(ctx, rc, rc.vars(), nil, func(p *dict) error {
			return pr.readWindows(ctx, p, nil)
		})
	}
	return pr.readPartitioned(ctx, state)
}

// parentRead is one read of a parent stream by readParent. Its steps share
// the stream, where its records go and, for a partitioned parent with a
// cursor, the PerPartitionWithGlobalCursor that every slice's read observes.
type parentRead struct {
	rc     *readContext
	parent *stream
	yield  func(rec *dict, slice *streamSlice) error

	// pp is the cursor of a partitioned parent (nil: none); the
	// legacyCursor a slice is read with is then the cursor of its
	// partition (or the global one).
	pp *legacyPerPartition
	// lastHadWindows says whether the partition read last had any window:
	// pp.finish needs it to close the global cursor as the CDK does.
	lastHadWindows bool
}

// readUnpartitioned reads a parent without a router: its cursor (if any)
// starts from state and moves forward window by window, and its state at
// the end is returned.
func (pr *parentRead) readUnpartitioned(ctx context.Context, state *dict) (*dict, error) {
	var lc *legacyCursor
	if pr.parent.cursor != nil {
		var err error
		if lc, err = pr.parent.cursor.legacy(pr.rc.vars(), pr.rc.src.opts.now); err != nil {
			return nil, err
		}
		lc.setState(state)
	}
	if err := pr.readWindows(ctx, nil, lc); err != nil {
		return nil, err
	}
	if lc == nil {
		return nil, nil
	}
	return lc.state(), nil
}

// readPartitioned reads a partitioned parent with a cursor, whose cursor is
// a PerPartitionWithGlobalCursor: its state also sets the state of its
// router's parents, and each partition is read with its own cursor.
func (pr *parentRead) readPartitioned(ctx context.Context, state *dict) (*dict, error) {
	rc := pr.rc
	var ps *parentStates
	if sr, ok := pr.parent.router.(*substreamRouter); ok {
		var err error
		if ps, err = sr.newParentStates(state, rc.vars()); err != nil {
			return nil, err
		}
	}
	pp, err := newLegacyPerPartition(ctx, pr.parent.cursor, ps, state, rc.vars(), rc.src.opts.now, rc.src.opts.maxPartitions)
	if err != nil {
		return nil, err
	}
	pp.warn = rc.warner()
	pp.start()
	pr.pp = pp
	// The CDK takes the partitions through iterate_with_last_flag_and_state,
	// which holds one back to know whether it is the last: a partition is
	// read once the router has produced the next one or ended, so a
	// paginated grandparent's next page is requested before it.
	var held *dict
	err = pr.parent.router.partitions(ctx, rc, rc.vars(), ps, func(p *dict) error {
		prev := held
		held = p
		if prev == nil {
			return nil
		}
		return pr.readPartition(ctx, prev)
	})
	if err == nil && held != nil {
		err = pr.readPartition(ctx, held)
	}
	if err != nil {
		return nil, err
	}
	if err := pp.finish(pr.lastHadWindows); err != nil {
		return nil, err
	}
	return pp.state(), nil
}

// readPartition reads one partition of a partitioned parent with the
// cursor pp keeps for it.
func (pr *parentRead) readPartition(ctx context.Context, p *dict) error {
	lc, err := pr.pp.cursorFor(p)
	if err != nil {
		return err
	}
	return pr.readWindows(ctx, p, lc)
}

// readWindows reads partition p (nil: the parent has no router) window by
// window of cursor lc, or as one slice when there is no cursor (lc nil).
func (pr *parentRead) readWindows(ctx context.Context, p *dict, lc *legacyCursor) error {
	if lc == nil {
		return pr.readSlice(ctx, newSlice(p, nil), nil, nil)
	}
	ws, err := lc.slices(ctx)
	if err != nil {
		return err
	}
	pr.lastHadWindows = len(ws) > 0
	for i := range ws {
		if err := pr.readSlice(ctx, pr.parent.windowSlice(lc, p, ws[i]), lc, &ws[i]); err != nil {
			return err
		}
	}
	return nil
}

// readSlice reads one slice of the parent (window w of cursor lc; both nil
// without a cursor), hands each record to the cursor that moves with it and
// then to yield, and closes the slice on the cursor once it is read whole.
func (pr *parentRead) readSlice(ctx context.Context, slice *streamSlice, lc *legacyCursor, w *window) error {
	sr, err := pr.sliceRead(ctx, slice, lc)
	if err != nil {
		return err
	}
	pp := pr.pp
	err = pr.parent.retriever.readSlice(pr.rc.labelled(ctx, pr.parent.name, slice), pr.rc, sr, func(rec *dict, _ []byte) error {
		switch {
		case pp != nil:
			if err := pp.observe(slice.partition, *w, rec); err != nil {
				return err
			}
		case lc != nil:
			if err := lc.observe(*w, rec); err != nil {
				return err
			}
		}
		return pr.yield(rec, slice)
	})
	switch {
	case err != nil || lc == nil:
		return err
	case pp != nil:
		return pp.closeSlice(slice.partition)
	}
	return lc.closeSlice()
}

// sliceRead is what the retriever sees of one slice: the state its
// templates read, and the cursor that stops a data feed or filters records
// client-side.
func (pr *parentRead) sliceRead(ctx context.Context, slice *streamSlice, lc *legacyCursor) (*sliceRead, error) {
	parent, pp := pr.parent, pr.pp
	sr := &sliceRead{stream: parent.name, slice: slice, state: interpolation.NewDict(0), options: parent.sliceOptions(slice)}
	if lc == nil {
		return sr, nil
	}
	sr.state = lc.state()
	if pp != nil && parent.templatesReadState {
		// The state of every partition, built for each slice
		// only when a template can see it (the slices of n
		// partitions otherwise built n states of n).
		sr.state = pp.state()
	}
	var active syncWindow = lc
	if pp != nil {
		active = &activeWindow{pp: pp, lc: lc}
	}
	if parent.cursor.dataFeed {
		sr.feed = active
	}
	if parent.cursor.clientSide {
		// Without partitions, the CDK's filter has a cursor of
		// its own that never gets a state.
		sr.keep = active
		if parent.router == nil {
			_, keep, err := parent.cursor.syncWindows(ctx, false, nil, pr.rc.vars(), pr.rc.src.opts.now)
			if err != nil {
				return nil, err
			}
			sr.keep = keep
		}
	}
	return sr, nil
}
