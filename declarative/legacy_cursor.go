package declarative

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// legacyCursor is the CDK's declarative DatetimeBasedCursor, the cursor
// of its synchronous DeclarativeStream. The concurrent read (cursorRun,
// perPartitionRun) replaced it for the streams the CDK reads concurrently,
// but the CDK still runs it wherever a stream is read the old way:
//
//   - the streams it reads synchronously (a template reads stream_state);
//   - parent streams, which a SubstreamPartitionRouter reads with
//     read_only_records (their state is set from the child's parent_state
//     with incremental_dependency, and advances as the parent is read);
//   - the first slice of CheckStream;
//   - should_be_synced, behind is_data_feed (the paginator stops at a
//     record outside the window) and is_client_side_incremental (records
//     outside the window are dropped).
//
// Its state is {cursor_field: value} with the value kept as the record
// or state spelled it; a slice's records move it forward when the slice is
// closed. A legacyCursor is safe for concurrent use.
type legacyCursor struct {
	c   *datetimeCursor
	v   *vars
	now func() time.Time
	cursorParams
	// formats are cursor_datetime_formats (datetime_format when empty),
	// tried in order and then datetime_format, as parse_date does.
	formats []string

	mu      sync.Mutex
	cursor  value // _cursor: nil is None
	highest value // _highest_observed_cursor_field_value
	// highestT is highest parsed, so that each record parses only its own
	// value.
	highestT time.Time
}

// legacy builds the cursor with no state (set_initial_state sets one).
func (c *datetimeCursor) legacy(v *vars, now func() time.Time) (*legacyCursor, error) {
	l := &legacyCursor{c: c, v: v, now: now}
	var err error
	if l.cursorParams, err = c.params(v); err != nil {
		return nil, err
	}
	l.formats = c.cursorFormats
	if len(l.formats) == 0 {
		l.formats = []string{c.datetimeFormat}
	}
	return l, nil
}

// setState is set_initial_state: the state's cursor value, if any.
func (l *legacyCursor) setState(state *dict) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cursor = nil
	if state != nil && state.Len() > 0 {
		l.cursor, _ = state.Get(l.field)
	}
}

// state is get_stream_state: {cursor_field: value}, or {} before any.
func (l *legacyCursor) state() *dict {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stateLocked()
}

func (l *legacyCursor) stateLocked() *dict {
	if !interpolation.Truthy(l.cursor) {
		return interpolation.NewDict(0)
	}
	d := interpolation.NewDict(1)
	d.Set(l.field, l.cursor)
	return d
}

// parse is parse_date.
func (l *legacyCursor) parse(v value) (time.Time, error) {
	if t, ok, err := parseFirst(v, l.formats); err != nil || ok {
		return t, err
	}
	if t, ok, err := parseFirst(v, []string{l.c.datetimeFormat}); err != nil || ok {
		return t, err
	}
	return time.Time{}, fmt.Errorf("No format in %s matching %s", pyList(l.formats), interpolation.Str(v))
}

// bestEnd is select_best_end_datetime: the end datetime, at most now.
func (l *legacyCursor) bestEnd() (time.Time, error) {
	now := l.now().UTC()
	if l.c.end == nil {
		return now, nil
	}
	end, err := l.c.end.get(l.v, l.c.datetimeFormat)
	if err != nil {
		return time.Time{}, fmt.Errorf("end_datetime: %w", err)
	}
	if end.Before(now) {
		return end, nil
	}
	return now, nil
}

// earliest is _calculate_earliest_possible_value: the start datetime (at
// most end), or the state's cursor minus the lookback window if later.
func (l *legacyCursor) earliest(end time.Time) (time.Time, error) {
	start, err := l.c.start.get(l.v, l.c.datetimeFormat)
	if err != nil {
		return time.Time{}, fmt.Errorf("start_datetime: %w", err)
	}
	if end.Before(start) {
		start = end
	}
	l.mu.Lock()
	cur := l.cursor
	l.mu.Unlock()
	if !interpolation.Truthy(cur) {
		return start, nil
	}
	t, err := l.parse(cur)
	if err != nil {
		return time.Time{}, err
	}
	if l.lookback != nil {
		if u, err := l.lookback.SubFrom(t); err == nil {
			t = u
		}
	}
	if t.After(start) {
		return t, nil
	}
	return start, nil
}

// slices is stream_slices: the windows from the earliest possible start
// to the best end, step by step (_partition_daterange). They are made in
// memory, as the CDK makes them: a small step over years makes millions,
// seconds of work, so every windowContextCheck windows, from the first,
// it returns ctx.Err() once ctx is done.
func (l *legacyCursor) slices(ctx context.Context) ([]window, error) {
	return l.slicesUpTo(ctx, 0)
}

// firstSlice is the first of slices, or none: a check reads one window
// and makes only that one, not the millions a small step makes.
func (l *legacyCursor) firstSlice(ctx context.Context) ([]window, error) {
	return l.slicesUpTo(ctx, 1)
}

// slicesUpTo is slices stopped after limit windows (0: all of them).
func (l *legacyCursor) slicesUpTo(ctx context.Context, limit int) ([]window, error) {
	end, err := l.bestEnd()
	if err != nil {
		return nil, err
	}
	start, err := l.earliest(end)
	if err != nil {
		return nil, err
	}
	var out []window
	for l.within(start, end) {
		if err := contextDone(ctx, len(out)); err != nil {
			return nil, err
		}
		next := farFuture
		if l.step != nil {
			if n, err := l.step.AddTo(start); err == nil {
				next = n
			}
		}
		if !next.After(start) {
			// The CDK appends this window forever (and runs out of memory).
			return nil, fmt.Errorf("step %s does not move the date window forward from %s, so the windows would never end: use a positive step such as P1D", l.step, formatDatetime(start, l.c.datetimeFormat))
		}
		e := next
		if l.gran != nil && next != farFuture {
			if u, err := l.gran.SubFrom(next); err == nil {
				e = u
			}
		}
		if end.Before(e) {
			e = end
		}
		out = append(out, window{formatDatetime(start, l.c.datetimeFormat), formatDatetime(e, l.c.datetimeFormat)})
		if next == farFuture || len(out) == limit {
			break
		}
		start = next
	}
	return out, nil
}

// farFuture stands for datetime.max, where a slice without step ends.
var farFuture = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)

// within is _is_within_date_range.
func (l *legacyCursor) within(start, end time.Time) bool {
	if l.c.compareStrictly {
		return start.Before(end)
	}
	return !start.After(end)
}

// inBounds is _is_within_daterange_boundaries: the record's cursor value
// lies between the bounds (false without a value).
func (l *legacyCursor) inBounds(rec *dict, lo, hi time.Time) (bool, error) {
	val, ok := rec.Get(l.field)
	if !ok || !interpolation.Truthy(val) {
		return false, nil
	}
	t, err := l.parse(val)
	if err != nil {
		return false, err
	}
	return !t.Before(lo) && !t.After(hi), nil
}

// observe notes a record read in a window: its value becomes the highest
// observed when it lies in the window and is later than the highest so far.
func (l *legacyCursor) observe(w window, rec *dict) error {
	val, ok := rec.Get(l.field)
	if !ok || !interpolation.Truthy(val) {
		return nil
	}
	l.mu.Lock()
	highest, highestT := l.highest, l.highestT
	l.mu.Unlock()
	// The value is parsed once, where the CDK first parses it: before the
	// window's bounds when there is a highest value to compare with.
	var t time.Time
	parsed := false
	higher := !interpolation.Truthy(highest)
	if !higher {
		var err error
		if t, err = l.parse(val); err != nil {
			return err
		}
		parsed = true
		higher = t.After(highestT)
	}
	lo, err := l.parse(w.start)
	if err != nil {
		return err
	}
	hi, err := l.parse(w.end)
	if err != nil {
		return err
	}
	if !parsed {
		if t, err = l.parse(val); err != nil {
			return err
		}
	}
	if in := !t.Before(lo) && !t.After(hi); in && higher {
		l.mu.Lock()
		l.highest, l.highestT = val, t
		l.mu.Unlock()
	}
	return nil
}

// closeSlice is close_slice: the cursor becomes the later of itself and
// the highest observed value, spelled as it was.
func (l *legacyCursor) closeSlice() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var best value
	var bestT time.Time
	for _, v := range []value{l.cursor, l.highest} {
		if !interpolation.Truthy(v) {
			continue
		}
		t, err := l.parse(v)
		if err != nil {
			return err
		}
		if best == nil || t.After(bestT) {
			best, bestT = v, t
		}
	}
	l.cursor = best
	return nil
}

// shouldSync is should_be_synced: a record without a cursor value is
// synced; one with a value is when it lies between the earliest possible
// start and the best end.
func (l *legacyCursor) shouldSync(_ *streamSlice, rec *dict) (bool, error) {
	val, ok := rec.Get(l.field)
	if !ok || !interpolation.Truthy(val) {
		return true, nil
	}
	end, err := l.bestEnd()
	if err != nil {
		return false, err
	}
	start, err := l.earliest(end)
	if err != nil {
		return false, err
	}
	return l.inBounds(rec, start, end)
}

// syncWindows returns the windows behind is_data_feed (feed) and
// is_client_side_incremental (keep) for a read of the stream from state,
// as the CDK's concurrent read has them: the declarative cursor objects of
// the retriever, given the incoming state once and never moved during the
// read. A client-side filter of a stream without partitions uses a cursor
// of its own that never gets the state (the CDK builds a second one), so
// it filters by the start and end datetimes only.
func (c *datetimeCursor) syncWindows(ctx context.Context, partitioned bool, state *dict, v *vars, now func() time.Time) (feed, keep syncWindow, err error) {
	if !c.dataFeed && !c.clientSide {
		return nil, nil, nil
	}
	var w syncWindow
	if partitioned {
		w, err = newPartitionWindows(ctx, c, state, v, now)
	} else {
		var lc *legacyCursor
		lc, err = c.legacy(v, now)
		if err == nil && c.dataFeed {
			lc.setState(state)
		}
		w = lc
	}
	if err != nil {
		return nil, nil, err
	}
	if c.dataFeed {
		return w, nil, nil
	}
	return nil, w, nil
}

// partitionWindows is should_be_synced of the CDK's
// PerPartitionWithGlobalCursor given a stream state: a cursor per partition
// from the state's "states", the global "state" (or a state without
// "states", taken as global) for the others, or the global cursor alone
// when the state says use_global_cursor.
type partitionWindows struct {
	c   *datetimeCursor
	v   *vars
	now func() time.Time
	// global is the cursor of every partition with use_global_cursor.
	global  *legacyCursor
	states  map[string]*dict
	migrate *dict

	mu      sync.Mutex
	cursors map[string]*legacyCursor
}

func newPartitionWindows(ctx context.Context, c *datetimeCursor, state *dict, v *vars, now func() time.Time) (*partitionWindows, error) {
	w := &partitionWindows{c: c, v: v, now: now, states: map[string]*dict{}, cursors: map[string]*legacyCursor{}}
	if state == nil || state.Len() == 0 {
		return w, nil
	}
	_, hasStates := state.Get("states")
	if g, _ := state.Get("use_global_cursor"); interpolation.Truthy(g) {
		lc, err := c.legacy(v, now)
		if err != nil {
			return nil, err
		}
		if gs, ok := state.Get("state"); ok {
			d, _ := gs.(*dict)
			lc.setState(d)
		} else if !hasStates {
			lc.setState(state)
		}
		if lb, ok := state.Get("lookback_window"); ok {
			lc.runtimeLookback(lb)
		}
		w.global = lc
		return w, nil
	}
	if !hasStates {
		w.migrate = state
		return w, nil
	}
	if err := eachPartitionState(ctx, state, func(partition, cursor *dict) error {
		w.states[partitionKey(partition)] = cursor
		return nil
	}); err != nil {
		return nil, err
	}
	if gs, ok := state.Get("state"); ok {
		w.migrate, _ = gs.(*dict)
	}
	return w, nil
}

func (w *partitionWindows) shouldSync(slice *streamSlice, rec *dict) (bool, error) {
	if w.global != nil {
		return w.global.shouldSync(slice, rec)
	}
	key := partitionKey(slice.partition)
	w.mu.Lock()
	lc, ok := w.cursors[key]
	w.mu.Unlock()
	if !ok {
		var err error
		if lc, err = w.c.legacy(w.v, w.now); err != nil {
			return false, err
		}
		if st, ok := w.states[key]; ok {
			lc.setState(st)
		} else {
			lc.setState(w.migrate)
		}
		w.mu.Lock()
		w.cursors[key] = lc
		w.mu.Unlock()
	}
	return lc.shouldSync(slice, rec)
}

// runtimeLookback is set_runtime_lookback_window: the previous sync's
// duration in seconds becomes the lookback window when it is longer. The
// seconds are timedelta(seconds=...)'s: an int, a float to the nearest
// microsecond, or a bool (True is 1). Where the CDK fails (another type,
// more seconds than a timedelta holds) the window is left as it is.
func (l *legacyCursor) runtimeLookback(seconds value) {
	const maxSeconds = 999999999 * 86400 // timedelta.max, in whole days
	var micros int64
	switch n := seconds.(type) {
	case int64:
		if n > maxSeconds {
			return
		}
		micros = n * 1e6
	case float64:
		if !(n > 0 && n < maxSeconds) {
			return
		}
		micros = int64(math.RoundToEven(n * 1e6))
	case bool:
		if n {
			micros = 1e6
		}
	}
	if micros <= 0 {
		return
	}
	d := interpolation.Duration{Micros: micros}
	if l.lookback != nil {
		ref := l.now().UTC()
		cur, err1 := l.lookback.SubFrom(ref)
		run, err2 := d.SubFrom(ref)
		if err1 != nil || err2 != nil || !run.Before(cur) {
			return
		}
	}
	l.lookback = &d
}
