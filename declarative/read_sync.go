package declarative

import (
	"context"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/protocol"
)

// The CDK's ConcurrentDeclarativeSource reads a stream with its older,
// synchronous engine (AbstractSource.read over a DeclarativeStream) when a
// template of an incremental stream reads stream_state: the requester's
// path or request options, the record filter or an added field. Such
// streams are read after every concurrent stream, one after the other in
// catalog order, and only when no concurrent stream failed. Each is read
// slice by slice with the synchronous DatetimeBasedCursor (legacyCursor):
// templates see the state the cursor has reached (its value after the
// previous slice), the state is emitted after each slice when it changed,
// and a failure emits INCOMPLETE then the stream's TRACE ERROR.

// readSynchronous reads streams as the CDK's AbstractSource.read does.
func (s *Source) readSynchronous(ctx context.Context, rc *readContext, streams []*stream, states map[string]value) error {
	var failures []*streamError
	for _, st := range streams {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := rc.status(st.name, protocol.StatusStarted); err != nil {
			return err
		}
		err := s.readOneSynchronous(ctx, rc, st, states[st.name])
		if rc.emitErr != nil {
			return rc.emitErr
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if e := rc.status(st.name, protocol.StatusIncomplete); e != nil {
				return e
			}
			se, e := rc.streamFailed(st.name, err)
			if e != nil {
				return e
			}
			failures = append(failures, se)
			continue
		}
		if err := rc.status(st.name, protocol.StatusComplete); err != nil {
			return err
		}
	}
	if len(failures) == 0 {
		return nil
	}
	return rc.readFailed(failures, "")
}

// readOneSynchronous reads one stream slice by slice (Stream.read with a
// CursorBasedCheckpointReader).
func (s *Source) readOneSynchronous(ctx context.Context, rc *readContext, st *stream, state value) error {
	lc, err := st.cursor.legacy(rc.vars(), s.opts.now)
	if err != nil {
		return err
	}
	sst, _ := state.(*dict)
	if sst != nil && sst.Len() == 1 {
		// A full refresh's final state is no cursor state.
		if v, ok := sst.Get("__ab_no_cursor_state_message"); ok && v == true {
			sst = nil
		}
	}
	lc.setState(sst)
	// A client-side filter has a cursor of its own that never gets the
	// state (create_declarative_stream).
	_, keep, err := st.cursor.syncWindows(ctx, false, nil, rc.vars(), s.opts.now)
	if err != nil {
		return err
	}
	var feed syncWindow
	if st.cursor.dataFeed {
		feed = lc
	}
	windows, err := lc.slices(ctx)
	if err != nil {
		return err
	}
	var previous *dict
	checkpoint := func() error {
		now := lc.state()
		if previous != nil && interpolation.Equal(now, previous) {
			return nil
		}
		previous = now
		return rc.state(st.name, now)
	}
	for i := range windows {
		w := windows[i]
		slice := st.windowSlice(lc, nil, w)
		sr := &sliceRead{stream: st.name, slice: slice, state: lc.state(), options: st.sliceOptions(slice), feed: feed, keep: keep}
		sctx := rc.labelled(ctx, st.name, slice)
		rc.trace(sctx, nil)
		err := st.retriever.readSlice(sctx, rc, sr, func(rec *dict, _ []byte) error {
			if err := rc.record(sctx, st.name, rec, nil); err != nil {
				return err
			}
			return lc.observe(w, rec)
		})
		if err != nil {
			return err
		}
		if err := lc.closeSlice(); err != nil {
			return err
		}
		if err := checkpoint(); err != nil {
			return err
		}
	}
	return checkpoint()
}
