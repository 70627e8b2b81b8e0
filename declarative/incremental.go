package declarative

import (
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// Incremental sync (incremental in the CDK): the DatetimeBasedCursor
// component, run as the CDK's ConcurrentCursor does. The contract of a
// cursor during a read (one cursorRun per stream and read):
//
//   - slices yields the date windows to read, from the stream's state, the
//     start and end datetimes, the step and the lookback window;
//   - observe sees every emitted record of a window (it keeps the newest
//     cursor value per window);
//   - closeWindow is called once a window's records are all emitted and
//     returns the state to emit then (nil: none);
//   - finalState is the state emitted when the stream is done, always;
//   - options injects a window's bounds into its requests.

// datetimeCursor is a built DatetimeBasedCursor.
type datetimeCursor struct {
	cursorField    *tmpl
	startField     *tmpl
	endField       *tmpl
	datetimeFormat string
	cursorFormats  []string
	start          *minMaxDatetime
	end            *minMaxDatetime
	step           *tmpl
	granularity    string
	lookback       *tmpl
	startOption    *requestOption
	endOption      *requestOption
	// compareStrictly is is_compare_strictly: the synchronous cursor makes
	// no window that starts at its end.
	compareStrictly bool
	// dataFeed is is_data_feed: the API returns records newest first, and
	// pagination stops at the first record older than the window.
	dataFeed bool
	// clientSide is is_client_side_incremental: the API does not filter by
	// date, and records outside the window are dropped.
	clientSide bool
}

// minMaxDatetime is MinMaxDatetime: a datetime template bounded by
// optional min and max templates, parsed with a format.
type minMaxDatetime struct {
	datetime, min, max *tmpl
	format             string
}

const defaultDatetimeFormat = "%Y-%m-%dT%H:%M:%S.%f%z"

func (m *minMaxDatetime) get(v *vars, fallbackFormat string) (time.Time, error) {
	format := m.format
	if format == "" {
		format = fallbackFormat
	}
	if format == "" {
		format = defaultDatetimeFormat
	}
	s, err := m.datetime.evalStr(v)
	if err != nil {
		return time.Time{}, err
	}
	t, err := parseDatetime(s, format)
	if err != nil {
		return time.Time{}, err
	}
	if t, err = bound(t, m.min, format, v, true); err != nil {
		return time.Time{}, err
	}
	return bound(t, m.max, format, v, false)
}

// bound clamps t to the datetime of a min (later=true) or max template;
// an empty rendering leaves t as it is.
func bound(t time.Time, b *tmpl, format string, v *vars, later bool) (time.Time, error) {
	if b == nil {
		return t, nil
	}
	s, err := b.evalStr(v)
	if err != nil || s == "" {
		return t, err
	}
	bt, err := parseDatetime(s, format)
	if err != nil {
		return time.Time{}, err
	}
	if (later && bt.After(t)) || (!later && bt.Before(t)) {
		return bt, nil
	}
	return t, nil
}

// interval is one closed date window of the cursor's state.
type interval struct {
	start, end time.Time
	mostRecent *time.Time
}

// cursorRun is a datetimeCursor during one read of one stream (the CDK's
// ConcurrentCursor with its CustomFormatConcurrentStreamStateConverter).
type cursorRun struct {
	c *datetimeCursor
	cursorParams
	formats []string
	start   time.Time
	end     func() (time.Time, error)
	legacy  *dict // the stream state's other keys, kept in the output
	mu      sync.Mutex
	slices  []interval
	// warned is set once the cursor has warned of a record without a
	// cursor value it reads.
	warned atomic.Bool
}

// cursorParams are the cursor's templates evaluated for one read.
type cursorParams struct {
	field    string
	startKey string
	endKey   string
	step     *interpolation.Duration // nil: one window
	gran     *interpolation.Duration // nil: no granularity
	lookback *interpolation.Duration
}

func (c *datetimeCursor) params(v *vars) (cursorParams, error) {
	var p cursorParams
	var err error
	if p.field, err = c.cursorField.evalStr(v); err != nil {
		return p, err
	}
	if p.startKey, err = c.startField.evalStr(v); err != nil {
		return p, err
	}
	if p.endKey, err = c.endField.evalStr(v); err != nil {
		return p, err
	}
	if p.step, err = durationOf(c.step, v); err != nil {
		return p, fmt.Errorf("step: %w", err)
	}
	if p.lookback, err = durationOf(c.lookback, v); err != nil {
		return p, fmt.Errorf("lookback_window: %w", err)
	}
	if c.granularity != "" {
		d, err := interpolation.ParseDuration(c.granularity)
		if err != nil {
			return p, fmt.Errorf("cursor_granularity: %w", err)
		}
		p.gran = &d
	}
	return p, nil
}

func (c *datetimeCursor) run(state *dict, v *vars, now func() time.Time) (*cursorRun, error) {
	r := &cursorRun{c: c}
	var err error
	if r.cursorParams, err = c.params(v); err != nil {
		return nil, err
	}
	r.formats = append(append([]string(nil), c.cursorFormats...), c.datetimeFormat)
	if r.start, err = c.start.get(v, c.datetimeFormat); err != nil {
		return nil, fmt.Errorf("start_datetime: %w", err)
	}
	if c.end != nil {
		end := c.end
		r.end = func() (time.Time, error) { return end.get(v, c.datetimeFormat) }
	} else {
		r.end = func() (time.Time, error) { return now().UTC(), nil }
	}
	if (r.step == nil) != (c.granularity == "") && c.step != nil {
		return nil, errors.New("if step is defined, cursor_granularity should be as well and vice-versa")
	}
	if r.step != nil && *r.step == (interpolation.Duration{}) {
		// A zero timedelta is falsy: ConcurrentCursor reads one window
		// ("not self._slice_range"), where stepping by it read none.
		r.step = nil
	}
	if ok, err := r.fromDateRange(state); ok || err != nil {
		return r, err
	}
	// convert_from_sequential_state: the state's cursor value, when later
	// than the start, is where this sync starts.
	syncStart := r.start
	r.legacy = interpolation.NewDict(0)
	if state != nil {
		r.legacy = interpolation.Copy(state).(*dict)
		if sv, ok := state.Get(r.field); ok {
			t, err := r.parse(sv)
			if err != nil {
				return nil, err
			}
			if !t.Before(syncStart) {
				syncStart = t
			}
		}
	}
	r.slices = []interval{{start: r.start, end: syncStart, mostRecent: &syncStart}}
	return r, nil
}

// fromDateRange reads a state of the concurrent CDK's own form,
// {"state_type": "date-range", "slices": [{"start", "end",
// "most_recent_cursor_value"}], "legacy": {...}}, as ConcurrentCursor's
// _get_concurrent_state does (is_state_message_compatible, then
// deserialize): its slices are the windows already read and its "legacy"
// mapping the state's other keys; ok is false for a state of another form.
// Where the CDK 6.31.1 fails, the engine reads on: it parses
// most_recent_cursor_value as it parses start and end (deserialize leaves
// the string, which the CDK then formats or compares as a datetime), and
// reads a state without slices as no state (stream_slices raises
// "Expected at least one slice").
func (r *cursorRun) fromDateRange(state *dict) (ok bool, err error) {
	if state == nil {
		return false, nil
	}
	if st, _ := state.Get("state_type"); st != "date-range" {
		return false, nil
	}
	r.legacy = interpolation.NewDict(0)
	if l, _ := state.Get("legacy"); l != nil {
		if d, ok := l.(*dict); ok {
			r.legacy = interpolation.Copy(d).(*dict)
		}
	}
	list, _ := state.Get("slices")
	slices, _ := list.([]value)
	for _, e := range slices {
		var iv interval
		for _, b := range []struct {
			key string
			to  *time.Time
		}{{"start", &iv.start}, {"end", &iv.end}} {
			v, ok := dictGet(e, b.key)
			if !ok {
				return true, fmt.Errorf("a slice of the date-range state has no %q: %s", b.key, interpolation.Repr(e))
			}
			if *b.to, err = r.parse(v); err != nil {
				return true, err
			}
		}
		if v, ok := dictGet(e, "most_recent_cursor_value"); ok && interpolation.Truthy(v) {
			t, err := r.parse(v)
			if err != nil {
				return true, err
			}
			iv.mostRecent = &t
		}
		r.slices = append(r.slices, iv)
	}
	if len(r.slices) == 0 {
		r.slices = []interval{{start: r.start, end: r.start, mostRecent: &r.start}}
	}
	return true, nil
}

func durationOf(t *tmpl, v *vars) (*interpolation.Duration, error) {
	if t == nil {
		return nil, nil
	}
	s, err := t.evalStr(v)
	if err != nil || s == "" || s == "None" {
		return nil, err
	}
	d, err := interpolation.ParseDuration(s)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// parse reads a cursor value with the cursor's formats, the first that
// fits (parse_timestamp).
func (r *cursorRun) parse(v value) (time.Time, error) {
	if t, ok, err := parseFirst(v, r.formats); err != nil || ok {
		return t, err
	}
	return time.Time{}, fmt.Errorf("No format in %s matching %s", pyList(r.formats), interpolation.Str(v))
}

// parseFirst is the loop of parse_timestamp and parse_date: v parsed with
// each format in turn (parseWith), the first that fits. The CDK catches
// ValueError alone there: an error of another kind (int() or float() of
// null, a list or an object: TypeError; a timestamp out of range:
// OverflowError, OSError) ends the loop and is returned, in Python's
// words.
func parseFirst(v value, formats []string) (time.Time, bool, error) {
	for _, f := range formats {
		t, err := parseWith(v, f)
		if err == nil {
			return t, true, nil
		}
		var ie *interpolation.Error
		if errors.As(err, &ie) && ie.Type != "ValueError" {
			return time.Time{}, false, errors.New(ie.Message)
		}
	}
	return time.Time{}, false, nil
}

// parseWith is DatetimeParser.parse: int(v) for "%s" and "%ms" (a float
// truncated, a bool 0 or 1), float(v) for "%s_as_float", strptime of
// str(v) for the other formats.
func parseWith(v value, f string) (time.Time, error) {
	switch f {
	case "%s", "%ms":
		if _, ok := v.(string); !ok {
			n, err := interpolation.Int(v)
			if err != nil {
				return time.Time{}, err
			}
			v = interpolation.Str(n)
		}
	case "%s_as_float":
		switch x := v.(type) {
		case bool:
			v = int64(0)
			if x {
				v = int64(1)
			}
		case string, int64, float64, *big.Int:
		default:
			return time.Time{}, &interpolation.Error{Type: "TypeError", Message: fmt.Sprintf("float() argument must be a string or a real number, not '%s'", strings.Trim(strings.TrimPrefix(pyTypeName(v), "<class "), "'>"))}
		}
	}
	s, ok := v.(string)
	if !ok {
		s = interpolation.Str(v)
	}
	return parseDatetime(s, f)
}

func pyList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + s + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func (r *cursorRun) format(t time.Time) string {
	return formatDatetime(t, r.c.datetimeFormat)
}

func (r *cursorRun) increment(t time.Time) time.Time {
	if r.gran != nil {
		if u, err := r.gran.AddTo(t); err == nil {
			return u
		}
	}
	return t.Add(time.Millisecond)
}

// merge sorts and merges the closed windows (merge_intervals).
func (r *cursorRun) merge() {
	if len(r.slices) == 0 {
		return
	}
	sort.SliceStable(r.slices, func(i, j int) bool {
		a, b := r.slices[i], r.slices[j]
		if !a.start.Equal(b.start) {
			return a.start.Before(b.start)
		}
		return a.end.Before(b.end)
	})
	out := []interval{r.slices[0]}
	for _, cur := range r.slices[1:] {
		last := &out[len(out)-1]
		if !r.increment(last.end).Before(cur.start) {
			if cur.end.After(last.end) {
				last.end = cur.end
			}
			switch {
			case cur.mostRecent != nil && last.mostRecent != nil:
				if cur.mostRecent.After(*last.mostRecent) {
					last.mostRecent = cur.mostRecent
				}
			case cur.mostRecent != nil:
				last.mostRecent = cur.mostRecent
			}
		} else {
			out = append(out, cur)
		}
	}
	r.slices = out
}

// window is one date window to read.
type window struct {
	start, end string // formatted bounds
}

// windowGen yields the windows to read one at a time, as the generator
// ConcurrentCursor.stream_slices does: a tiny step over a long range (PT1S
// since 2000) makes hundreds of millions of windows, which must not be
// held at once. The ranges to split are those between the cursor's closed
// windows when the generator was made; windows closing meanwhile do not
// change them.
type windowGen struct {
	r      *cursorRun
	ranges []windowRange
	// cur is the lower bound of the next window of ranges[0]; started
	// says it is set.
	cur     time.Time
	started bool
}

// windowRange is a range to split into windows (_split_per_slice_range);
// upperIsEnd says its upper bound is the cursor's end, not the start of a
// closed window (granularity is then not taken off the last window).
type windowRange struct {
	lower, upper time.Time
	upperIsEnd   bool
	// single: the step reaches past upper (or there is none), so the
	// range is one window, even when the start clamped lower to upper.
	single bool
}

// windows returns the generator of the windows to read
// (ConcurrentCursor.stream_slices).
func (r *cursorRun) windows() (*windowGen, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.merge()
	end, err := r.end()
	if err != nil {
		return nil, fmt.Errorf("end_datetime: %w", err)
	}
	g := &windowGen{r: r}
	if r.start.Before(r.slices[0].start) {
		g.add(r.start, r.slices[0].start, false)
	}
	for i := 0; i+1 < len(r.slices); i++ {
		lo := r.slices[i].end
		if r.gran != nil {
			lo, _ = r.gran.AddTo(lo)
		}
		g.add(lo, r.slices[i+1].start, false)
	}
	lastLower := r.slices[len(r.slices)-1].end
	if r.lookback != nil {
		if u, err := r.lookback.SubFrom(lastLower); err == nil {
			lastLower = u
		}
	}
	g.add(lastLower, end, true)
	return g, nil
}

// add queues a range to split, unless it makes no window.
func (g *windowGen) add(lower, upper time.Time, upperIsEnd bool) {
	r := g.r
	if !lower.Before(upper) || upper.Before(r.start) {
		return
	}
	if lower.Before(r.start) {
		lower = r.start
	}
	g.ranges = append(g.ranges, windowRange{lower: lower, upper: upper, upperIsEnd: upperIsEnd,
		single: r.step == nil || !r.stepFrom(lower, upper).Before(upper)})
}

// stepFrom is the upper bound of the window starting at t: a step after
// it, or upper when there is no step or it overflows.
func (r *cursorRun) stepFrom(t, upper time.Time) time.Time {
	if r.step == nil {
		return upper
	}
	u, err := r.step.AddTo(t)
	if err != nil {
		return upper
	}
	return u
}

// minusGran is t less the granularity, if any.
func (r *cursorRun) minusGran(t time.Time) time.Time {
	if r.gran == nil {
		return t
	}
	u, err := r.gran.SubFrom(t)
	if err != nil {
		return t
	}
	return u
}

// next returns the next window; ok is false when there are no more.
func (g *windowGen) next() (w window, ok bool) {
	r := g.r
	for len(g.ranges) > 0 {
		rg := g.ranges[0]
		if rg.single {
			// The whole range is one window (the step reaches past it).
			g.ranges = g.ranges[1:]
			e := rg.upper
			if r.gran != nil && !rg.upperIsEnd {
				e = r.minusGran(rg.upper)
			}
			return window{r.format(rg.lower), r.format(e)}, true
		}
		if !g.started {
			g.cur, g.started = rg.lower, true
		}
		hi := r.stepFrom(g.cur, rg.upper)
		if hi.After(rg.upper) {
			hi = rg.upper
		}
		if !g.cur.Before(hi) {
			// A step that does not advance: no more windows here.
			g.ranges, g.started = g.ranges[1:], false
			continue
		}
		reached := !hi.Before(rg.upper)
		e := hi
		if r.gran != nil && (!rg.upperIsEnd || !reached) {
			e = r.minusGran(hi)
		}
		w = window{r.format(g.cur), r.format(e)}
		g.cur = hi
		if reached {
			g.ranges, g.started = g.ranges[1:], false
		}
		return w, true
	}
	return window{}, false
}

// newest is the newest cursor value of the records of one window. It is
// kept by the partition reading the window, without a lock.
type newest struct {
	t  time.Time
	ok bool
}

// observe notes a record's cursor value. A record without one (the field
// missing or null: CursorField.extract_value raises ValueError) or whose
// value no format fits is passed over, as ConcurrentCursor.observe logs
// and skips the ValueError, warning once through warn (nil: no warning);
// any other error of the parse is returned (observe lets it through).
func (r *cursorRun) observe(n *newest, rec *dict, warn func(field string)) error {
	val, ok := rec.Get(r.field)
	if ok && val != nil {
		var err error
		var t time.Time
		if t, ok, err = parseFirst(val, r.formats); err != nil {
			return err
		}
		if ok {
			if !n.ok || n.t.Before(t) {
				n.t, n.ok = t, true
			}
			return nil
		}
	}
	if warn != nil && r.warned.CompareAndSwap(false, true) {
		warn(r.field)
	}
	return nil
}

// closeWindow records a window as read, with the newest cursor value of
// its records, and returns the stream state to emit.
func (r *cursorRun) closeWindow(w window, n newest) (*dict, error) {
	start, err := r.parse(w.start)
	if err != nil {
		return nil, err
	}
	end, err := r.parse(w.end)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	iv := interval{start: start, end: end}
	if n.ok {
		iv.mostRecent = &n.t
	}
	r.slices = append(r.slices, iv)
	r.merge()
	return r.stateLocked(), nil
}

// state is the stream state now (convert_to_state_message).
func (r *cursorRun) state() *dict {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stateLocked()
}

func (r *cursorRun) stateLocked() *dict {
	// A copy of the top level, which gets the cursor field; the values
	// under the other keys are shared with r.legacy, which nothing
	// changes (a state is encoded or deep-copied: newGlobal), as a deep
	// copy after every window made a large state's read allocate its
	// size again each time.
	out := interpolation.NewDict(r.legacy.Len() + 1)
	for _, e := range entries(r.legacy) {
		out.Set(e.key, e.val)
	}
	r.merge()
	first := r.slices[0]
	latest := first.start
	if first.mostRecent != nil {
		latest = *first.mostRecent
	}
	out.Set(r.field, r.format(latest))
	return out
}

// options injects a window's bounds into its requests.
func (c *datetimeCursor) options(slice *streamSlice, v *vars) (requestOptions, error) {
	var o requestOptions
	if c.startOption != nil {
		if val, ok := slice.cursor.Get(slice.window.start); ok {
			if err := c.startOption.injectInto(&o, val, v); err != nil {
				return o, err
			}
		}
	}
	if c.endOption != nil {
		if val, ok := slice.cursor.Get(slice.window.end); ok {
			if err := c.endOption.injectInto(&o, val, v); err != nil {
				return o, err
			}
		}
	}
	return o, nil
}
