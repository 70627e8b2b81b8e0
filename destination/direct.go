package destination

import (
	"bufio"
	"context"
	"encoding/json"
	"slices"
	"sync"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// writeDirect pipes the source's read straight into the destination. The
// states the destination echoes are the source's; they are stored as the
// destination's state and passed back to the source by the next Write.
//
// On tr, each record counts as read (with its bytes) and written (sent);
// the source's STREAM_STATUS traces set the streams' statuses.
func (d *Destination) writeDirect(ctx context.Context, src *source.Source, ws *writeSettings, out *WriteResult, tr *progress.Tracker) error {
	if err := src.ValidateConfig(ctx); err != nil {
		return err
	}
	names := ws.streams
	var err error
	if len(names) == 0 {
		if names, err = src.SelectedStreams(ctx); err != nil {
			return err
		}
	}
	if len(names) == 0 || slices.Contains(names, "*") {
		if names, err = src.AvailableStreams(ctx); err != nil {
			return err
		}
	}
	var copts []source.CatalogOption
	if ws.fullRefresh {
		copts = append(copts, source.FullRefresh())
	}
	scat, err := src.ConfiguredCatalog(ctx, names, copts...)
	if err != nil {
		return err
	}
	catalog, err := destCatalog(scat.Streams, ws.strategy)
	if err != nil {
		return err
	}
	scatJSON, err := json.Marshal(scat)
	if err != nil {
		return err
	}
	var state json.RawMessage
	if out.State != nil && !ws.fullRefresh {
		if state, err = out.State.sourceState(ctx, names); err != nil {
			return err
		}
	}

	// pending lists, in order, the states forwarded and how many records of
	// their stream had been sent then: what an echo without a count of its
	// own confirms.
	type forwarded struct {
		stream string
		sent   int64
	}
	var mu sync.Mutex
	var pending []forwarded
	handles := make(map[string]*progress.Stream, len(names))
	for _, n := range names {
		handles[n] = tr.Stream(n)
	}
	produce := func(ctx context.Context, w *bufio.Writer) error {
		var line []byte
		var lastName string
		var last *progress.Stream
		sent := map[string]int64{}
		defer func() {
			mu.Lock()
			for k, v := range sent {
				out.RecordsSent[k] = v
			}
			mu.Unlock()
		}()
		for m, err := range src.RunCommand(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: scatJSON, State: state}) {
			if err != nil {
				return err
			}
			switch {
			case m.Type == protocol.TypeRecord && m.Record != nil:
				line = protocol.AppendRecord(line[:0], m.Record)
				sent[m.Record.Stream]++
				if m.Record.Stream != lastName || last == nil {
					lastName, last = m.Record.Stream, handles[m.Record.Stream]
				}
				last.Read(1, len(m.Record.Data))
				last.Written(1)
			case m.Type == protocol.TypeState && m.State != nil:
				if line, err = protocol.AppendMessage(line[:0], m); err != nil {
					return err
				}
				st := stateStream(m.State)
				mu.Lock()
				pending = append(pending, forwarded{st, sent[st]})
				mu.Unlock()
			case m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.StreamStatus != nil:
				st := m.Trace.StreamStatus
				if h := handles[st.StreamDescriptor.Name]; h != nil {
					h.SetStatus(st.Status)
				}
				continue
			default:
				continue
			}
			if _, err := w.Write(line); err != nil {
				return err
			}
		}
		return nil
	}
	onEcho := func(st *protocol.State) error {
		name := stateStream(st)
		// A GLOBAL or LEGACY state ("") belongs to no one stream: it counts
		// in the totals only.
		h := handles[name]
		if out.State != nil {
			if err := out.State.c.PutState(ctx, cache.StateKey{Source: out.SourceName, Destination: d.name, Stream: name}, st); err != nil {
				return err
			}
			if h != nil {
				h.StateCommitted()
			} else {
				tr.StateCommitted()
			}
		}
		mu.Lock()
		defer mu.Unlock()
		before := out.RecordsConfirmed[name]
		defer func() { confirmDelta(h, before, out.RecordsConfirmed[name]) }()
		var at int64 = -1
		for len(pending) > 0 {
			f := pending[0]
			pending = pending[1:]
			if f.stream == name {
				at = f.sent
				break
			}
		}
		if rc, ok := recordCount(st); ok {
			out.RecordsConfirmed[name] += rc
		} else if at >= 0 {
			out.RecordsConfirmed[name] = at
		}
		return nil
	}
	return d.pipeline(ctx, catalog, out, produce, onEcho)
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
