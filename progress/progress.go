// Package progress counts what a read or a write does, stream by stream, and
// tells people about it.
//
// A [Tracker] follows one operation: a read of a source into a cache, or a
// write into a destination. The pipeline that moves the records asks the
// tracker for a [Stream] handle once per stream and reports on it as records
// go by:
//
//	tr := progress.New(progress.OpRead, "source-faker")
//	defer func() { tr.Finish(err) }() // the one summary line, with the error the operation ends with
//	users := tr.Stream("users")
//	users.Read(1, len(line))   // per record, or per batch: users.Read(n, bytes)
//	users.Written(n)           // rows landed in the cache or were sent to a destination
//	users.StateCommitted()     // a STATE message for the stream was committed
//	users.SetStatus(protocol.StatusComplete)
//
// Reporting is cheap enough for the hot path: a handle's methods are a few
// atomic additions, never a lock, a channel send or an allocation. Nil
// trackers and nil handles accept every call and do nothing, so a pipeline
// need not check whether progress is wanted.
//
// Everything else happens on one goroutine per tracker, which wakes every
// 250 ms, takes a [Snapshot] — counts, average
// and recent rates, time to first record, states committed and status per
// stream, plus totals — and hands it to the renderer and then to every
// [Listener] added with [WithListener]. [Tracker.Finish] hands over one last
// snapshot with Done set. A Go program that wants its own progress bar, or
// metrics, subscribes a listener and, if it likes, turns the default
// renderer off with WithRenderer(nil).
//
// The default renderer writes to os.Stderr (see [WithOutput]). On a terminal
// it keeps one live line that redraws in place; elsewhere (a log file, a CI
// job, a terminal whose TERM is dumb) it writes a plain line every 5 s. With
// WithLiveProgress(false), or when the environment variable NO_LIVE_PROGRESS
// is set to anything, it writes nothing until the end. With WithASCII(true),
// for a terminal whose locale is not UTF-8, its lines hold only ASCII. In
// every case the operation ends with exactly one summary line:
//
//	Read 2,000,100 records from source-faker in 4.21 s (475,083 rec/s, 152.3 MB/s): products 100, users 1,000,000, purchases 1,000,000
//
// Lines pass through the [WithMask] function first, so secrets that found
// their way into a connector or stream name do not reach the screen.
package progress

import (
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/x/goairbyte/protocol"
)

// Operation is what a [Tracker] follows; it decides the wording of the lines
// and which count the summary leads with.
type Operation int

const (
	// OpRead is a read of a source connector (into a cache, or as records).
	// The summary counts records read.
	OpRead Operation = iota
	// OpWrite is a write into a destination connector. The summary counts
	// records written (sent to the destination) and those it confirmed.
	OpWrite
)

// String returns "read" or "write".
func (op Operation) String() string {
	if op == OpWrite {
		return "write"
	}
	return "read"
}

// Listener receives snapshots: periodically while the operation runs, and
// once more from [Tracker.Finish] with [Snapshot.Done] set. Listeners of one
// tracker are called one at a time, never concurrently, in the order they
// were added, after the renderer. They should return quickly: the next
// snapshot waits for them.
type Listener func(Snapshot)

// clock is the tracker's source of time. Tests replace it (see withClock)
// to make snapshots deterministic; the default is the system clock.
type clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTicker returns a channel that delivers a tick every d, and a
	// function that stops it.
	NewTicker(d time.Duration) (ticks <-chan time.Time, stop func())
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// Option configures a [Tracker].
type Option func(*config)

type config struct {
	interval      time.Duration
	plainInterval time.Duration
	listeners     []Listener
	clock         clock
	out           io.Writer
	mask          func(string) string
	live          bool
	ascii         bool
	renderer      Listener
	rendererSet   bool
}

// WithListener adds a listener that receives every snapshot.
func WithListener(l Listener) Option {
	return func(c *config) {
		if l != nil {
			c.listeners = append(c.listeners, l)
		}
	}
}

// withClock replaces the system clock, for tests.
func withClock(clk clock) Option {
	return func(c *config) {
		if clk != nil {
			c.clock = clk
		}
	}
}

// WithOutput sets where the default renderer writes; the default is
// os.Stderr. Live redrawing needs w to be an *os.File on a terminal.
func WithOutput(w io.Writer) Option { return func(c *config) { c.out = w } }

// WithMask routes every line the default renderer writes, and the
// summary line, through mask — typically secrets.Mask — so that no
// secret reaches the screen or a log.
func WithMask(mask func(string) string) Option { return func(c *config) { c.mask = mask } }

// WithLiveProgress turns the default renderer's live line (on a terminal) and
// periodic lines (elsewhere) on or off. Off, it writes only the summary line.
// It is on by default unless the environment variable NO_LIVE_PROGRESS is
// set to a non-empty value; the variable wins over this option.
func WithLiveProgress(on bool) Option { return func(c *config) { c.live = on } }

// WithASCII makes the default renderer write only ASCII when on: " | "
// between the streams of the live line instead of " · ", and "..." where a
// line is cut to the terminal's width instead of "…". Turn it on where the
// terminal's locale is not UTF-8 (LC_ALL, LC_CTYPE or LANG unset, "C",
// "POSIX" or another charset), which shows those characters as mojibake.
// It is off by default; a Read or Write through goairbyte's Environment
// gets it from the locale (see connector.Environment.SetProgress). Stream
// and connector names are written as they are.
func WithASCII(on bool) Option { return func(c *config) { c.ascii = on } }

// withPlainInterval sets how often the default renderer writes a progress
// line when its output is not a terminal; the default is 5 s.
func withPlainInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.plainInterval = d
		}
	}
}

// WithRenderer replaces the default renderer by r, which is called like a
// listener but before the listeners. WithRenderer(nil) turns rendering off:
// nothing is written, not even the summary line.
func WithRenderer(r Listener) Option {
	return func(c *config) { c.renderer, c.rendererSet = r, true }
}

// Tracker follows one operation. Create it with [New], report through
// [Tracker.Stream] handles, and always end it with [Tracker.Finish], which
// stops its goroutine. All methods are safe for concurrent use, and all
// accept a nil *Tracker and do nothing.
type Tracker struct {
	op        Operation
	connector string
	cfg       config
	start     time.Time
	render    Listener

	globalStates    atomic.Int64 // GLOBAL and LEGACY states, which belong to no one stream
	globalMalformed atomic.Int64 // malformed lines that name no known stream

	mu      sync.Mutex
	streams []*Stream
	byName  map[string]*Stream
	// sampleAt holds when the sampler took its last recentSamples
	// samples, a ring written at samples % recentSamples; the first,
	// at 0, is the tracker's start.
	sampleAt [recentSamples]time.Duration
	samples  int
	// sampleRec and sampleBytes are the totals of every stream at the
	// sampleAt times, from which the Total's recent rates are taken: the
	// sum of the streams' own would count each short stream's average
	// over its own few milliseconds.
	sampleRec, sampleBytes [recentSamples]int64
	recentRec, recentBytes float64
	haveRecent             bool
	final                  *Snapshot

	stop     chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once
}

// New starts tracking an operation of the named connector. It starts a
// goroutine that [Tracker.Finish] stops.
func New(op Operation, connector string, opts ...Option) *Tracker {
	cfg := config{
		interval:      250 * time.Millisecond,
		plainInterval: 5 * time.Second,
		clock:         systemClock{},
		out:           os.Stderr,
		live:          true,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if os.Getenv("NO_LIVE_PROGRESS") != "" {
		cfg.live = false
	}
	t := &Tracker{
		op:        op,
		connector: connector,
		cfg:       cfg,
		start:     cfg.clock.Now(),
		byName:    map[string]*Stream{},
		samples:   1, // at 0, where every count was 0
		stop:      make(chan struct{}),
		stopped:   make(chan struct{}),
	}
	switch {
	case cfg.rendererSet:
		t.render = cfg.renderer
	case cfg.out != nil:
		t.render = newTextRenderer(cfg.out, cfg.mask, cfg.live, cfg.ascii, cfg.plainInterval).render
	}
	// The ticker is created here, not in the goroutine, so that a test clock
	// knows about it as soon as New returns.
	ticks, stopTicker := cfg.clock.NewTicker(cfg.interval)
	go t.run(ticks, stopTicker)
	return t
}

func (t *Tracker) run(ticks <-chan time.Time, stopTicker func()) {
	defer close(t.stopped)
	defer stopTicker()
	for {
		select {
		case <-t.stop:
			return
		case <-ticks:
			t.publish(t.sample())
		}
	}
}

// since returns the time elapsed since the tracker started.
func (t *Tracker) since() time.Duration { return t.cfg.clock.Now().Sub(t.start) }

// Stream returns the handle for the named stream, creating it on first use.
// Pipelines call it once per stream and keep the handle; streams appear in
// snapshots and lines in the order of their first Stream call. Stream on a
// nil tracker returns nil, which is a valid do-nothing handle.
func (t *Tracker) Stream(name string) *Stream {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.byName[name]; s != nil {
		return s
	}
	s := &Stream{t: t, name: name}
	s.startAt.Store(unset)
	s.firstAt.Store(unset)
	s.endAt.Store(unset)
	t.streams = append(t.streams, s)
	t.byName[name] = s
	return s
}

// StateCommitted counts a GLOBAL or LEGACY state message, which covers every
// stream, as committed. It counts in the totals only; a per-stream STATE is
// reported with [Stream.StateCommitted].
func (t *Tracker) StateCommitted() {
	if t != nil {
		t.globalStates.Add(1)
	}
}

// Malformed counts a line of the connector's output that claimed to be a
// RECORD or STATE message of no stream the operation knows and did not
// parse.
func (t *Tracker) Malformed() {
	if t != nil {
		t.globalMalformed.Add(1)
	}
}

// Snapshot returns the current state of the operation; after Finish, the
// final one.
func (t *Tracker) Snapshot() Snapshot {
	if t == nil {
		return Snapshot{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.final != nil {
		return *t.final
	}
	return t.snapshotLocked(t.since(), false)
}

// summary returns the one-line summary of the operation so far (see
// Snapshot.summary), masked like the renderer's lines.
func (t *Tracker) summary() string {
	if t == nil {
		return ""
	}
	line := t.Snapshot().summary()
	if t.cfg.mask != nil {
		line = t.cfg.mask(line)
	}
	return line
}

// Finish ends the operation: it stops the tracker's goroutine, marks streams
// without a final status as ended, takes the final snapshot (Done set, Err
// = err), hands it to the renderer — which writes the summary line — and to
// the listeners, and returns it. Only the first call does this; later calls
// return the same snapshot.
func (t *Tracker) Finish(err error) Snapshot {
	if t == nil {
		return Snapshot{}
	}
	first := false
	t.stopOnce.Do(func() {
		first = true
		close(t.stop)
		<-t.stopped // no tick is being published any more
		now := t.since()
		t.mu.Lock()
		for _, s := range t.streams {
			s.endAt.CompareAndSwap(unset, int64(now))
		}
		snap := t.snapshotLocked(now, true)
		snap.Err = err
		t.final = &snap
		t.mu.Unlock()
	})
	snap := t.Snapshot()
	if first {
		t.publish(snap)
	}
	return snap
}

// publish hands a snapshot to the renderer and the listeners. It runs on the
// tracker's goroutine, or in Finish after that goroutine has stopped, so never
// twice at once.
func (t *Tracker) publish(s Snapshot) {
	if t.render != nil {
		t.render(s)
	}
	for _, l := range t.cfg.listeners {
		l(s)
	}
}

// recentWindow is the span the recent rates are taken over, from the
// newest sample at least that old (or the oldest kept). A cache writer
// pauses the read while it flushes a batch: over one 250 ms tick the rate
// jumped between a burst's and 0 rec/s.
const recentWindow = time.Second

// recentSamples is how many samples the tracker keeps for its recent
// rates: a second's worth at the default interval.
const recentSamples = 4

// sample takes a snapshot and moves the window of the recent rates forward.
func (t *Tracker) sample() Snapshot {
	now := t.since()
	t.mu.Lock()
	defer t.mu.Unlock()
	newest := (t.samples - 1) % recentSamples
	if now <= t.sampleAt[newest] {
		return t.snapshotLocked(now, false) // no time has passed: the rates stand
	}
	base := newest
	for i := 1; i < min(t.samples, recentSamples) && now-t.sampleAt[base] < recentWindow; i++ {
		base = (t.samples - 1 - i) % recentSamples
	}
	dt := (now - t.sampleAt[base]).Seconds()
	next := t.samples % recentSamples
	var totRec, totBytes int64
	for _, s := range t.streams {
		rec, by := s.records.Load(), s.bytes.Load()
		s.recentRec = float64(rec-s.sampleRec[base]) / dt
		s.recentBytes = float64(by-s.sampleBytes[base]) / dt
		s.haveRecent = true
		s.sampleRec[next], s.sampleBytes[next] = rec, by
		totRec, totBytes = totRec+rec, totBytes+by
	}
	t.recentRec = float64(totRec-t.sampleRec[base]) / dt
	t.recentBytes = float64(totBytes-t.sampleBytes[base]) / dt
	t.haveRecent = true
	t.sampleRec[next], t.sampleBytes[next] = totRec, totBytes
	t.sampleAt[next] = now
	t.samples++
	return t.snapshotLocked(now, false)
}

// unset marks a time that has not happened yet in a Stream's atomic fields.
const unset = -1

// Stream is the handle through which a pipeline reports one stream's
// progress. Its methods are safe for concurrent use and cheap enough to call
// per record; all accept a nil *Stream and do nothing.
type Stream struct {
	t    *Tracker
	name string

	records, bytes, written, confirmed, states, malformed atomic.Int64
	// Times since the tracker started, in nanoseconds, or unset.
	startAt, firstAt, endAt atomic.Int64
	status                  atomic.Pointer[protocol.StreamStatus]

	// Guarded by t.mu; maintained by the sampler. sampleRec and
	// sampleBytes are the counts at the tracker's sampleAt times (0 before
	// the stream existed).
	sampleRec, sampleBytes [recentSamples]int64
	recentRec, recentBytes float64
	haveRecent             bool
}

// start marks the stream as started, which is when its rates begin, and sets
// its status to STARTED unless a status was already reported. A stream that
// is never started starts with its first record.
func (s *Stream) start() {
	if s == nil {
		return
	}
	s.startAt.CompareAndSwap(unset, int64(s.t.since()))
	st := protocol.StatusStarted
	s.status.CompareAndSwap(nil, &st)
}

// Read counts records read from the connector (or from the cache, for a write
// fed by a cache) and their size in bytes. Call it per record or per batch.
func (s *Stream) Read(records, bytes int) {
	if s == nil {
		return
	}
	s.records.Add(int64(records))
	s.bytes.Add(int64(bytes))
	// Only the first call reads the clock; later ones load one word.
	if records > 0 && s.firstAt.Load() == unset {
		now := int64(s.t.since())
		s.firstAt.CompareAndSwap(unset, now)
		s.startAt.CompareAndSwap(unset, now)
	}
}

// Written counts records written into the cache or sent to the destination.
func (s *Stream) Written(records int) {
	if s != nil {
		s.written.Add(int64(records))
	}
}

// Confirmed counts records a destination confirmed by echoing the state that
// follows them.
func (s *Stream) Confirmed(records int) {
	if s != nil {
		s.confirmed.Add(int64(records))
	}
}

// StateCommitted counts a STATE message of this stream as committed (after
// the records it covers were written).
func (s *Stream) StateCommitted() {
	if s != nil {
		s.states.Add(1)
	}
}

// Malformed counts a line of the connector's output that claimed to be a
// RECORD or STATE message of this stream and did not parse.
func (s *Stream) Malformed() {
	if s != nil {
		s.malformed.Add(1)
	}
}

// SetStatus records the stream's status, as a connector reports it in a
// STREAM_STATUS trace or as the pipeline decides. STARTED marks the start of
// the stream; COMPLETE and INCOMPLETE its end, where its average rates stop.
func (s *Stream) SetStatus(st protocol.StreamStatus) {
	if s == nil {
		return
	}
	now := int64(s.t.since())
	switch st {
	case protocol.StatusStarted:
		s.startAt.CompareAndSwap(unset, now)
	case protocol.StatusComplete, protocol.StatusIncomplete:
		s.startAt.CompareAndSwap(unset, now)
		s.endAt.CompareAndSwap(unset, now)
	}
	s.status.Store(&st)
}
