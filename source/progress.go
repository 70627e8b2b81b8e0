package source

import (
	"iter"
	"slices"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
)

// WithProgress makes this Read report progress with these options instead
// of the Environment's (see package progress): WithProgress() alone draws
// on os.Stderr — a live line on a terminal, a plain line every few seconds
// elsewhere, none when NO_LIVE_PROGRESS is set — and ends with one summary
// line; progress.WithOutput draws elsewhere; progress.WithListener
// subscribes to the snapshots (add progress.WithRenderer(nil) to draw
// nothing). Without it, Read draws only when the Environment asks
// (connector.Environment.SetProgress): a library is silent by default.
// Secrets are masked in every line. A logger that writes to the same
// terminal should write through progress.LogWriter, so that its records do
// not run on from the live line.
func WithProgress(opts ...progress.Option) ReadOption {
	return func(r *readSettings) { r.progress = append(append([]progress.Option{}, r.progress...), opts...) }
}

// NoProgress makes Read write no progress and no summary line, whatever the
// Environment asks.
func NoProgress() ReadOption {
	return WithProgress(progress.WithRenderer(nil))
}

// WithTracker makes Read report into t instead of a tracker of its own, for
// a caller that follows a larger operation (package destination does, so
// that a write through a cache has one progress line and one summary). The
// caller finishes t; WithProgress options are then ignored. Read reports
// the records and bytes it reads, stream statuses and the time to the
// first record; the rows written into the cache and the states committed
// only when t follows a read (progress.OpRead), since for a write those
// counts belong to the destination.
func WithTracker(t *progress.Tracker) ReadOption {
	return func(r *readSettings) { r.tracker = t }
}

// readProgress reports one read to a tracker: per record on the message
// iterator (a few atomic additions), the rest as messages go by.
type readProgress struct {
	tr      *progress.Tracker
	streams map[string]*progress.Stream
	// states counts the STATE messages per stream ("" for GLOBAL and
	// LEGACY) handed to the cache; they are reported committed when the
	// load succeeds (see finish).
	states map[string]int64
	// landed and landedStates count the rows and states reported as their
	// transactions committed (see committed); finish reports the rest.
	landed, landedStates map[string]int64
}

func newReadProgress(tr *progress.Tracker, streams []string) *readProgress {
	p := &readProgress{tr: tr, streams: make(map[string]*progress.Stream, len(streams)), states: map[string]int64{},
		landed: map[string]int64{}, landedStates: map[string]int64{}}
	// Handles are made up front so that every stream shows from the start,
	// in catalog order, even before its first record.
	for _, n := range streams {
		p.streams[n] = tr.Stream(n)
	}
	return p
}

// observe wraps msgs, counting records and bytes per stream and following
// STREAM_STATUS traces and STATE messages. Records of streams that were not
// asked for are not counted: the cache skips them.
func (p *readProgress) observe(msgs iter.Seq2[*protocol.Message, error]) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		var lastName string
		var last *progress.Stream
		for m, err := range msgs {
			if err == nil && m != nil {
				switch {
				case m.Type == protocol.TypeRecord && m.Record != nil:
					// Records come in runs of one stream: remember the last
					// handle rather than look it up every time.
					if m.Record.Stream != lastName || last == nil {
						lastName, last = m.Record.Stream, p.streams[m.Record.Stream]
					}
					last.Read(1, len(m.Record.Data))
				case m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.StreamStatus != nil:
					st := m.Trace.StreamStatus
					if h := p.streams[st.StreamDescriptor.Name]; h != nil {
						h.SetStatus(st.Status)
					}
				case m.Type == protocol.TypeState && m.State != nil:
					if m.State.EffectiveType() == protocol.StateStream && m.State.Stream != nil {
						p.states[m.State.Stream.StreamDescriptor.Name]++
					} else {
						p.states[""]++
					}
				case m.Malformed != nil:
					if h := p.streams[m.Malformed.Stream]; h != nil {
						h.Malformed()
					} else {
						p.tr.Malformed()
					}
				}
			}
			if !yield(m, err) {
				return
			}
		}
	}
}

// committed reports what a transaction the cache committed holds
// (cache.LoadRequest.Committed): its rows as written, its states as
// committed, so that a long read shows them landing rather than all at the
// end. It runs on the load's writer goroutine; finish reads what it
// counted only after the load returned.
func (p *readProgress) committed(records map[string]int64, states []cache.StateKey) {
	for name, n := range records {
		if h := p.streams[name]; h != nil {
			h.Written(int(n))
			p.landed[name] += n
		}
	}
	for _, k := range states {
		if h := p.streams[k.Stream]; h != nil {
			h.StateCommitted()
		} else {
			p.tr.StateCommitted() // GLOBAL or LEGACY: the totals
		}
		p.landedStates[k.Stream]++
	}
}

// finish reports what committed did not: the rows written per stream, and
// the states committed. After a successful load every STATE handed to the
// cache was committed, except those of a replace stream the load left
// unfinished (not swapped in) and, then, GLOBAL ones; each is counted on
// its stream, GLOBAL and LEGACY ones in the totals. (A transaction commits
// a stream's latest state only, so committed may have counted fewer than
// were handed over; finish counts the rest.) After a failure only what
// committed reported is known to be committed.
func (p *readProgress) finish(lr *cache.LoadResult, ok bool) {
	for name, n := range lr.Records {
		if h := p.streams[name]; h != nil && n > p.landed[name] {
			h.Written(int(n - p.landed[name]))
		}
	}
	if !ok {
		return
	}
	for name, n := range p.states {
		n -= p.landedStates[name]
		h := p.streams[name]
		switch {
		case n <= 0:
		case name == "" && len(lr.Unfinished) == 0:
			for range n {
				p.tr.StateCommitted()
			}
		case h != nil && !slices.Contains(lr.Unfinished, name):
			for range n {
				h.StateCommitted()
			}
		}
	}
}
