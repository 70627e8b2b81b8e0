package destination

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"iter"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
)

// writeDirect pipes the source's read straight into the destination. The
// states the destination echoes are the source's; they are stored as the
// destination's state and passed back to the source by the next Write.
//
// On tr, each record counts as read (with its bytes) and written (sent);
// the source's STREAM_STATUS traces set the streams' statuses.
func (d *Destination) writeDirect(ctx context.Context, src core.Readable, ws *writeSettings, out *WriteResult, tr *progress.Tracker) error {
	w := &directWrite{d: d, ignored: ignoredEchoes{d: d}, out: out, tr: tr, handles: map[string]*progress.Stream{}, sent: map[string]int64{}, moved: map[string]bool{}}
	scat, msgs, finish, err := src.StreamMessages(ctx, ws.streams, ws.fullRefresh, func(streams []string) (json.RawMessage, error) {
		if out.State == nil {
			return nil, nil
		}
		return out.State.sourceState(ctx, streams)
	})
	if err != nil {
		return err
	}
	// The read starts when msgs is iterated: the streams are on tr first.
	for _, cs := range scat.Streams {
		w.handles[cs.Stream.Name] = tr.Stream(cs.Stream.Name)
	}
	catalog, err := destCatalog(scat.Streams, ws.strategy, ws.syncID)
	if err != nil {
		return err
	}
	// Nothing has run yet: the read starts when msgs is iterated.
	for _, cs := range catalog.Streams {
		if cs.DestinationSyncMode == protocol.DestinationOverwrite && cs.SyncMode == protocol.SyncIncremental && !ws.fullRefresh {
			// The destination would replace its table with only the
			// records after the state passed to the source. From a cache,
			// overwrite sends the whole table, so only here is it refused.
			return &cacheerr.StrategyError{Stream: cs.Stream.Name, Strategy: string(cache.StrategyReplace),
				Reason: "with no cache, replacing the destination's table with an incremental read would keep only the new records; add ForceFullRefresh or use merge or append"}
		}
	}
	w.msgs, w.finish, w.streams = msgs, finish, catalog.Streams
	err = d.pipeline(ctx, catalog, out, w.produce, w.echoed)
	w.ignored.report()
	if err != nil {
		return err
	}
	// A stream the source left incomplete is said after the destination
	// ended its input cleanly: it confirmed what came with a state, and
	// the next Write reads the rest again from there, as a Read would.
	if w.incomplete != nil {
		return &writeError{Destination: d.Name(), Result: out, Err: w.incomplete}
	}
	return nil
}

// directWrite is one Write with no cache: the producer forwards the
// source's records and states, and each state the destination echoes
// confirms the records sent before the state it echoes.
//
// Only an echo of a state forwarded, after the last one echoed of its
// stream, is stored and counts: a made-up state, or one of a stream not
// written, would be handed to the source by the next Write, which would
// resume after records the destination never got (a state of purchases
// with users' cursor read no purchases at all); an earlier one echoed
// again would take back what a later echo confirmed. The destination's own
// destinationStats.recordCount is not used: one that echoes only some
// states counts the records since the last state it was sent, not since
// its last echo, and one that echoes a state twice counts it twice.
type directWrite struct {
	d       *Destination
	ignored ignoredEchoes
	out     *WriteResult
	tr      *progress.Tracker
	msgs    iter.Seq2[*protocol.Message, error]
	handles map[string]*progress.Stream
	// streams are the configured streams, ended by a status each once the
	// source's messages ended well.
	streams []protocol.ConfiguredStream
	// finish says, once the source's messages ended well, whether it left
	// a stream incomplete; the producer calls it and keeps its error in
	// incomplete, which the Write returns once the destination ended.
	finish     func(sent map[string]int64) error
	incomplete error

	// sent counts the records sent per stream; the producer owns it and
	// publishes it into out when it ends.
	sent map[string]int64
	// moved are the streams records were sent of since the last GLOBAL or
	// LEGACY state forwarded; the producer owns it.
	moved map[string]bool
	// unasked counts the records and STREAM states of streams not in the
	// catalog (some sources ignore it), left out as Read leaves them out.
	unaskedRecords, unaskedStates int64

	mu sync.Mutex
	// pending lists, in order, the states forwarded and not echoed yet,
	// and how many records of their stream had been sent then: what their
	// echo confirms.
	pending []forwarded
}

type forwarded struct {
	stream string
	id     string // the state's identity (stateIdentity)
	sent   int64
	// counts, for a GLOBAL or LEGACY state (stream ""), which covers every
	// stream, holds the count of each stream that moved since the one
	// forwarded before it; with theirs, what its echo confirms. Not a copy
	// of every stream's: a CDC source of thousands of tables sends such a
	// state after each, and a destination that echoes only at the end
	// would have them all pending, streams × states counts.
	counts map[string]int64
}

// forwarding notes a state as it is forwarded.
func (w *directWrite) forwarding(st *protocol.State) forwarded {
	f := forwarded{stream: stateStream(st), id: stateIdentity(st)}
	if f.stream == "" {
		f.counts = make(map[string]int64, len(w.moved))
		for name := range w.moved {
			f.counts[name] = w.sent[name]
		}
		clear(w.moved)
	} else {
		f.sent = w.sent[f.stream]
	}
	return f
}

// stateIdentity is what an echo of st has in common with st: the state
// without its counts (a destination adds its own), with its JSON objects'
// keys sorted and its numbers as float64, since the destination may have
// decoded and encoded it again (1 and 1.0 alike; two integers above 2^53
// that differ only in their last digits are one identity). It is kept as
// a SHA-256, not as the text: a destination that echoes only at the end
// leaves every state forwarded pending, and states may be large.
func stateIdentity(st *protocol.State) string {
	bare := *st
	bare.SourceStats, bare.DestinationStats = nil, nil
	b, err := json.Marshal(&bare)
	if err != nil {
		return ""
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	if b, err = json.Marshal(v); err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return string(sum[:])
}

// forwardedLine is a RECORD as the source sent it when it carries fields
// goairbyte does not model (a destination may rely on them), else encoded.
func forwardedLine(dst []byte, m *protocol.Message) []byte {
	if m.Raw != nil {
		return append(append(dst, m.Raw...), '\n')
	}
	return protocol.AppendRecord(dst, m.Record)
}

// stateFlushGap is the least time between two flushes of the
// destination's input after a state (see produce).
const stateFlushGap = 10 * time.Millisecond

// produce forwards the source's RECORD and STATE messages to the
// destination's input, as lines.
func (w *directWrite) produce(ctx context.Context, bw *bufio.Writer) error {
	defer w.publishSent()
	defer w.warnUnasked()
	var line []byte
	var lastName string
	var last *progress.Stream
	var lastFlush time.Time // of a state
	for m, err := range w.msgs {
		if err != nil {
			return err
		}
		switch {
		case m.Type == protocol.TypeRecord && m.Record != nil:
			if m.Record.Stream != lastName || last == nil {
				lastName, last = m.Record.Stream, w.handles[m.Record.Stream]
				if last != nil {
					w.moved[lastName] = true // once per run of its records
				}
			}
			if last == nil {
				// A stream the destination was not configured with: it
				// would drop the records or fail on them.
				w.unaskedRecords++
				continue
			}
			line = forwardedLine(line[:0], m)
			w.sent[m.Record.Stream]++
			last.Read(1, len(m.Record.Data))
			last.Written(1)
		case m.Type == protocol.TypeState && m.State != nil:
			if name := stateStream(m.State); name != "" && w.handles[name] == nil {
				// Echoed and stored, it would be passed back to the source
				// when a later Write asks for the stream, which would then
				// resume after records the destination never got.
				w.unaskedStates++
				continue
			}
			if m.Raw != nil {
				line = append(append(line[:0], m.Raw...), '\n')
			} else if line, err = protocol.AppendMessage(line[:0], m); err != nil {
				return err
			}
			w.mu.Lock()
			f := w.forwarding(m.State)
			w.pending = append(w.pending, f)
			w.out.StatesSent++
			w.mu.Unlock()
			if f.stream == "" {
				last = nil // moved was cleared: the next record notes its stream again
			}
		case m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.StreamStatus != nil:
			st := m.Trace.StreamStatus
			if h := w.handles[st.StreamDescriptor.Name]; h != nil {
				h.SetStatus(st.Status)
			}
			continue
		default:
			continue
		}
		if _, err := bw.Write(line); err != nil {
			return err
		}
		if m.Type == protocol.TypeState {
			// A state goes to the destination as it comes, to be
			// confirmed: a slow source's (one tailing a change log) would
			// otherwise wait in the buffer until it filled or the source
			// ended, and a Write cancelled or killed meanwhile would have
			// confirmed nothing. A source that sends states faster than
			// one per stateFlushGap has its states flushed that often (a
			// flush per state cost a source with one after every record
			// a fifth of its rate); the others go with the next one.
			if now := time.Now(); now.Sub(lastFlush) >= stateFlushGap {
				if err := bw.Flush(); err != nil {
					return err
				}
				lastFlush = now
			}
		}
	}
	// The source ended well: each stream ends with a status, as the
	// platform sends them (see endStreams). A stream the source left
	// incomplete (or whose lines did not all parse) makes every stream
	// INCOMPLETE: the destination keeps what it had, a refresh is not
	// swapped in, and the Write fails once the destination ended.
	if w.finish != nil {
		w.incomplete = w.finish(w.sent)
	}
	status := protocol.StatusComplete
	if w.incomplete != nil {
		status = protocol.StatusIncomplete
	}
	return endStreams(bw, w.streams, status)
}

// warnUnasked says how many messages of streams not asked for were left
// out.
func (w *directWrite) warnUnasked() {
	if w.unaskedRecords > 0 || w.unaskedStates > 0 {
		w.d.core.Logger().Warn("the source sent records or states of streams that were not asked for; they were not sent to the destination",
			"destination", w.d.Name(), "records", w.unaskedRecords, "states", w.unaskedStates)
	}
}

func (w *directWrite) publishSent() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, v := range w.sent {
		w.out.RecordsSent[k] = v
	}
}

// echoed stores a state the destination echoed and counts what it
// confirms, if it is one forwarded and not echoed yet (see directWrite);
// confirmed says whether it was.
func (w *directWrite) echoed(st *protocol.State, sc *stateCommitter) (confirmed bool, err error) {
	name := stateStream(st)
	f, ok := w.match(name, stateIdentity(st))
	if !ok {
		w.ignored.add("the destination echoed a state that was not sent, or one before a state it echoed already; ignored", name)
		return false, nil
	}
	// A GLOBAL or LEGACY state ("") belongs to no one stream: it counts in
	// the totals only.
	h := w.handles[name]
	if sc != nil {
		key := cache.StateKey{Source: w.out.SourceName, Destination: w.out.DestinationKey, Stream: name}
		committed := w.tr.StateCommitted
		if h != nil {
			committed = h.StateCommitted
		}
		if err := sc.add(key, st, committed); err != nil {
			return false, err
		}
	}
	confirm := map[string]int64{name: f.sent}
	if name == "" {
		// A GLOBAL or LEGACY state confirms every stream's records sent
		// before it.
		confirm = f.counts
	}
	for stream, n := range confirm {
		before := w.out.RecordsConfirmed[stream]
		w.out.RecordsConfirmed[stream] = max(before, n)
		confirmDelta(w.handles[stream], before, w.out.RecordsConfirmed[stream])
	}
	return true, nil
}

// match finds the first state of stream forwarded and not echoed yet whose
// identity is id, and drops it and those of the stream before it, which
// its echo covers. For a GLOBAL or LEGACY state, the counts returned are
// those of every stream as it was sent, gathered from the states dropped.
func (w *directWrite) match(stream, id string) (forwarded, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := slices.IndexFunc(w.pending, func(p forwarded) bool { return p.stream == stream && p.id == id })
	if i < 0 {
		return forwarded{}, false
	}
	f := w.pending[i]
	f.counts = map[string]int64{}
	kept := w.pending[:0]
	for j, p := range w.pending {
		if j > i || p.stream != stream {
			kept = append(kept, p)
		} else {
			maps.Copy(f.counts, p.counts) // in order: the later count wins
		}
	}
	clear(w.pending[len(kept):])
	w.pending = kept
	return f, true
}

// stateStream is the stream a state is about; "" for GLOBAL and LEGACY.
func stateStream(st *protocol.State) string {
	if st.EffectiveType() == protocol.StateStream && st.Stream != nil {
		return st.Stream.StreamDescriptor.Name
	}
	return ""
}

// sourceState is the --state to give the source so that it resumes after
// what the destination confirmed: nil when nothing was; else the stored
// GLOBAL state, the LEGACY data, or the STREAM states of the streams.
// States Write sent from a cache (watermarks) mean nothing to a source and
// are skipped.
func (p *StateProvider) sourceState(ctx context.Context, streams []string) (json.RawMessage, error) {
	whole, err := p.State(ctx, "")
	if err != nil {
		return nil, err
	}
	if whole != nil {
		if whole.EffectiveType() == protocol.StateLegacy {
			return whole.Data, nil
		}
		return json.Marshal([]*protocol.State{whole})
	}
	var msgs []*protocol.State
	for _, n := range streams {
		st, err := p.State(ctx, n)
		if err != nil {
			return nil, err
		}
		if _, isWatermark := watermarkOf(st); st != nil && !isWatermark {
			st.DestinationStats = nil
			msgs = append(msgs, st)
		}
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	return json.Marshal(msgs)
}
