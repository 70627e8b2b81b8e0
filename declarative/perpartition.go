package declarative

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// defaultMaxPartitions is how many partitions a per-partition cursor keeps
// (the CDK's DEFAULT_MAX_PARTITIONS_NUMBER).
const defaultMaxPartitions = 10000

// perPartitionRun is a DatetimeBasedCursor over a partitioned stream during
// one read, as the CDK's ConcurrentPerPartitionCursor: one date cursor per
// partition, a global cursor (the newest state of the partitions read to
// the end) for partitions seen for the first time, and a state of the form
//
//	{"use_global_cursor": false, "states": [{"partition": {...}, "cursor": {...}}],
//	 "state": {...}, "lookback_window": 0, "parent_state": {...}}
//
// emitted after each window of each partition and at the end of the stream.
type perPartitionRun struct {
	c       *datetimeCursor
	vars    *vars
	now     func() time.Time
	field   string
	started time.Time
	// parents is the state of a substream router's parents (nil for
	// other routers, which have none: the CDK writes no parent_state for
	// them once the stream is done).
	parents *parentStates

	// max is how many partitions the cursor keeps (defaultMaxPartitions).
	max int
	// warn logs a warning (nil: warnings are not logged).
	warn func(msg string)
	// overLimit counts the partitions dropped to keep max; once it is
	// over max, the next record switches the cursor to its global state.
	overLimit atomic.Int64
	switched  atomic.Bool // observe made the cursor global

	mu      sync.Mutex
	order   []string
	entries map[string]*partitionCursor
	// finished counts the partitions of entries read to the end
	// (generated, no window pending), so that ensureLimitLocked knows
	// when its scan has all it needs.
	finished int
	// pending counts the windows handed out and not closed, of every
	// partition, dropped ones too.
	pending     int
	global      *dict
	newGlobal   *dict
	lookback    int64
	parentState value
	useGlobal   bool
	// tail is the state's JSON after its "states" list: from the comma
	// before "state" (or "lookback_window") to the closing brace; nil
	// until encoded, and again when global, lookback or parentState
	// change (finalState). With each partition's cached entry, it makes a
	// state after a window cost about the bytes it is, not the encoding
	// of every partition again.
	tail []byte
	// size is the length of the last state built, the next one's
	// capacity.
	size int
}

// partitionCursor is the cursor of one partition.
type partitionCursor struct {
	partition *dict // with keys sorted, as the CDK writes it back
	run       *cursorRun
	pending   int
	generated bool
	// kept is whether the cursor is the partition's entry in
	// perPartitionRun.entries (false once dropped or replaced: its
	// windows still close, uncounted in perPartitionRun.finished).
	kept bool
	// enc is the partition's entry of the state's "states" list as JSON,
	// {"partition": ..., "cursor": ...}; nil until encoded, and again
	// when a window of the partition closes (its cursor's state changes
	// nowhere else).
	enc []byte
}

func newPerPartitionRun(ctx context.Context, c *datetimeCursor, parents *parentStates, state *dict, v *vars, now func() time.Time, max int) (*perPartitionRun, error) {
	field, err := c.cursorField.evalStr(v)
	if err != nil {
		return nil, err
	}
	p := &perPartitionRun{c: c, vars: v, now: now, field: field, started: now(),
		entries: map[string]*partitionCursor{}, parents: parents, max: max}
	if state == nil || state.Len() == 0 {
		return p, nil
	}
	// Either shape may carry the parents' state.
	if ps, ok := state.Get("parent_state"); ok && interpolation.Truthy(ps) {
		p.parentState = ps
	}
	_, hasStates := state.Get("states")
	_, hasGlobal := state.Get("state")
	if !hasStates && !hasGlobal {
		return p, p.setGlobal(state)
	}
	if b, ok := state.Get("use_global_cursor"); ok {
		p.useGlobal = interpolation.Truthy(b)
	}
	if lb, ok := state.Get("lookback_window"); ok {
		if p.lookback, err = stateLookback(lb); err != nil {
			return nil, err
		}
	}
	if err := eachPartitionState(ctx, state, func(partition, cursor *dict) error {
		run, err := c.run(cursor, v, now)
		if err != nil {
			return err
		}
		p.add(sortedDict(partition), run)
		return nil
	}); err != nil {
		return nil, err
	}
	if g, ok := state.Get("state"); ok {
		if gd, ok := g.(*dict); ok {
			if err := p.setGlobal(gd); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// stateLookback is int(stream_state.get("lookback_window", 0)) of
// _set_initial_state: a float is truncated, a bool is 0 or 1, a numeric
// string is parsed; what int() refuses fails the read with Python's words,
// as the CDK's ValueError or TypeError does in _group_streams. An int
// beyond int64 is held as the nearest int64 (both move any cursor out of
// the years 1 to 9999, or not at all when negative).
func stateLookback(lb value) (int64, error) {
	n, err := interpolation.Int(lb)
	if err != nil {
		var ie *interpolation.Error
		if errors.As(err, &ie) {
			return 0, errors.New(ie.Message)
		}
		return 0, err
	}
	switch x := n.(type) {
	case int64:
		return x, nil
	case *big.Int:
		if x.Sign() < 0 {
			return math.MinInt64, nil
		}
		return math.MaxInt64, nil
	}
	return 0, nil
}

// setGlobal reads a global state, reformatting its value with the cursor's
// format.
func (p *perPartitionRun) setGlobal(state *dict) error {
	val, ok := state.Get(p.field)
	if !ok {
		return nil
	}
	probe, err := p.c.run(nil, p.vars, p.now)
	if err != nil {
		return err
	}
	t, err := probe.parse(val)
	if err != nil {
		return err
	}
	g := interpolation.NewDict(1)
	g.Set(p.field, probe.format(t))
	p.global = g
	p.newGlobal = interpolation.Copy(g).(*dict)
	return nil
}

func (p *perPartitionRun) add(partition *dict, run *cursorRun) *partitionCursor {
	key := partitionKey(partition)
	e := &partitionCursor{partition: partition, run: run, kept: true}
	if old, ok := p.entries[key]; !ok {
		p.order = append(p.order, key)
	} else {
		p.unkeep(old)
	}
	p.entries[key] = e
	return e
}

// isFinished is whether the partition was read to the end: its windows
// all handed out, and closed.
func (e *partitionCursor) isFinished() bool {
	return e.generated && e.pending == 0
}

// recount updates p.finished after a change to a partition that was
// finished or not (was) before it.
func (p *perPartitionRun) recount(e *partitionCursor, was bool) {
	if !e.kept {
		return
	}
	switch now := e.isFinished(); {
	case now && !was:
		p.finished++
	case was && !now:
		p.finished--
	}
}

// unkeep notes that a partition's cursor left p.entries.
func (p *perPartitionRun) unkeep(e *partitionCursor) {
	if e.kept && e.isFinished() {
		p.finished--
	}
	e.kept = false
}

// partitionKey is the CDK's PerPartitionKeySerializer key: the partition
// as JSON with sorted keys.
func partitionKey(partition *dict) string {
	b, _ := pyJSON(nil, sortedDict(partition))
	return string(b)
}

// sortedDict copies a dict with its keys sorted, recursively.
func sortedDict(d *dict) *dict {
	es := entries(d)
	sort.Slice(es, func(i, j int) bool { return es[i].key < es[j].key })
	out := interpolation.NewDict(len(es))
	for _, e := range es {
		if sub, ok := e.val.(*dict); ok {
			out.Set(e.key, sortedDict(sub))
		} else {
			out.Set(e.key, e.val)
		}
	}
	return out
}

// windows returns the cursor of a partition (created from the global state
// when new) and the generator of its windows; the caller calls handOut
// before it submits each window.
func (p *perPartitionRun) windows(partition *dict) (*partitionCursor, *windowGen, error) {
	key := partitionKey(partition)
	p.mu.Lock()
	p.ensureLimitLocked()
	e, ok := p.entries[key]
	p.mu.Unlock()
	if !ok {
		var state *dict
		if p.global != nil {
			state = interpolation.Copy(p.global).(*dict)
			if p.lookback > 0 {
				if err := p.applyLookback(state); err != nil {
					return nil, nil, err
				}
			}
		}
		run, err := p.c.run(state, p.vars, p.now)
		if err != nil {
			return nil, nil, err
		}
		p.mu.Lock()
		e = p.add(sortedDict(partition), run)
		p.mu.Unlock()
	}
	g, err := e.run.windows()
	if err != nil {
		return nil, nil, err
	}
	return e, g, nil
}

// ensureLimitLocked is _ensure_partition_limit: while the cursor holds max
// partitions or more (one is about to be added), it drops the oldest one
// read to the end, or the oldest of all when none is. A dropped partition
// leaves the state; seen again, it starts from the global state. (A window
// of a partition dropped before it closed still closes here, where the
// CDK's close_partition fails on the missing cursor.)
//
// The CDK drops one partition at a time, each time scanning them all from
// the oldest; nothing changes between two drops, so the partitions dropped
// are the oldest k read to the end and, if fewer than k are, the oldest of
// the others to make up k: they are found in one pass here, as a state of
// many more than max partitions would otherwise take a time quadratic in
// its size (8 to 13 s for 20,000 on this machine) with the cursor's lock
// held.
func (p *perPartitionRun) ensureLimitLocked() {
	k := len(p.entries) - (p.max - 1)
	if k <= 0 || len(p.order) == 0 {
		return
	}
	k = min(k, len(p.order))
	p.overLimit.Add(int64(k))
	// One pass from the oldest, which stops once it holds the oldest
	// wantFinished finished partitions (p.finished says how many there
	// are) and the oldest k-wantFinished others: a cursor at its limit
	// taking one partition at a time finds the oldest finished one near
	// the front, as the CDK's loop breaks there, or, when none is
	// finished (partitions generated faster than they are read, as
	// source-nylas's 27,000), the oldest of the others at the front
	// (scanning all 10,000 for each new partition cost a quarter of a
	// millisecond each: BenchmarkPartitionLimitNoneFinished). Only when
	// fewer than k are finished, some of them late in the order, does it
	// go on to the last of them.
	wantFinished := min(k, p.finished)
	// indexes into p.order, and the entries
	finished, others := make([]int, 0, wantFinished), make([]int, 0, k-wantFinished)
	finishedE, othersE := make([]*partitionCursor, 0, wantFinished), make([]*partitionCursor, 0, k-wantFinished)
	for i, key := range p.order {
		if len(finished) == wantFinished && len(others) == k-wantFinished {
			break
		}
		if e := p.entries[key]; e.isFinished() {
			finished = append(finished, i)
			finishedE = append(finishedE, e)
		} else if len(others) < k-wantFinished {
			others = append(others, i)
			othersE = append(othersE, e)
		}
	}
	drop := append(slices.Clone(finished), others...)
	slices.Sort(drop)
	for _, i := range drop {
		delete(p.entries, p.order[i])
	}
	for _, e := range finishedE {
		p.unkeep(e)
	}
	for _, e := range othersE {
		p.unkeep(e)
	}
	// Remove the dropped keys, keeping the order of the others: only the
	// keys after the first dropped one move.
	w := drop[0]
	for j, i := range drop {
		next := len(p.order)
		if j+1 < len(drop) {
			next = drop[j+1]
		}
		w += copy(p.order[w:], p.order[i+1:next])
	}
	clear(p.order[w:])
	p.order = p.order[:w]
	// The CDK's warnings, one a partition, in the order its loop drops
	// them: the finished ones, then the others. It names the partition's
	// cursor object (its repr, with a memory address); the engine names
	// the partition as the CDK's PerPartitionCursor does, by its key.
	if p.warn == nil {
		return
	}
	over := p.overLimit.Load() - int64(k)
	for _, e := range finishedE {
		over++
		p.warn(fmt.Sprintf("The maximum number of partitions has been reached. Dropping the oldest finished partition: %s. Over limit: %d.", warnKey(e.partition), over))
	}
	for _, e := range othersE {
		over++
		p.warn(fmt.Sprintf("The maximum number of partitions has been reached. Dropping the oldest partition: %s. Over limit: %d.", warnKey(e.partition), over))
	}
}

// warnKey is a partition as PerPartitionKeySerializer writes its key:
// JSON with sorted keys and no spaces.
func warnKey(partition *dict) string {
	b, err := encodeJSON(sortedDict(partition))
	if err != nil {
		return partitionKey(partition)
	}
	return string(b)
}

// observe is called for each record read: once more partitions were
// dropped than the cursor keeps, the cursor becomes global (observe and
// limit_reached of the CDK).
func (p *perPartitionRun) observe() {
	if p.overLimit.Load() <= int64(p.max) || p.switched.Load() {
		return
	}
	p.mu.Lock()
	p.useGlobal = true
	p.mu.Unlock()
	p.switched.Store(true)
}

// eachPartitionState calls f with the partition and the cursor state of
// each entry of a per-partition state's "states" list, in order, for the
// three cursors that read such a state. Entries whose partition is not an
// object are skipped; a cursor state that is not an object is nil. A
// state may hold tens of thousands of partitions: every
// partitionStateCheck entries, from the first, it returns ctx.Err() once
// ctx is done.
func eachPartitionState(ctx context.Context, state *dict, f func(partition, cursor *dict) error) error {
	l, _ := state.Get("states")
	list, _ := l.([]value)
	for i, e := range list {
		if i%partitionStateCheck == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		part, _ := dictGet(e, "partition")
		pd, ok := part.(*dict)
		if !ok {
			continue
		}
		cur, _ := dictGet(e, "cursor")
		cd, _ := cur.(*dict)
		if err := f(pd, cd); err != nil {
			return err
		}
	}
	return nil
}

// partitionStateCheck is how many partitions of a state eachPartitionState
// reads between two looks at its context (a few milliseconds' work).
const partitionStateCheck = 1024

// applyLookback moves a state's cursor value back by the lookback window
// in seconds (the CDK's runtime_lookback_window).
func (p *perPartitionRun) applyLookback(state *dict) error {
	val, ok := state.Get(p.field)
	if !ok {
		return nil
	}
	probe, err := p.c.run(nil, p.vars, p.now)
	if err != nil {
		return err
	}
	t, err := probe.parse(val)
	if err != nil {
		return err
	}
	// datetime - timedelta(seconds=lookback_window): the CDK's
	// OverflowError where that leaves the years 1 to 9999 (a
	// time.Duration of more than 292 years wraps around).
	back := interpolation.Duration{Micros: p.lookback * 1e6}
	if p.lookback > maxLookbackSeconds {
		back = interpolation.Duration{Years: 1e6}
	}
	u, err := back.SubFrom(t)
	if err != nil {
		return fmt.Errorf("the state's lookback_window of %d seconds moves the cursor value %s out of the years 1 to 9999: %w", p.lookback, interpolation.Str(val), err)
	}
	state.Set(p.field, probe.format(u))
	return nil
}

// maxLookbackSeconds is more seconds than lie between any two datetimes
// (and few enough to count in microseconds).
const maxLookbackSeconds = 10000 * 366 * 86400

// handOut counts a window of a partition about to be submitted; last
// marks the partition's windows all submitted but this one (the CDK's
// _finished_partitions).
func (p *perPartitionRun) handOut(e *partitionCursor, last bool) {
	p.mu.Lock()
	was := e.isFinished()
	e.pending++
	p.pending++
	if last {
		e.generated = true
	}
	p.recount(e, was)
	p.mu.Unlock()
}

// closeWindow records a read window and returns the state to emit, as
// JSON (nil when the global cursor is used, or when the state does not
// encode: no state is emitted then, as none was when the encoder failed on
// the state built as a dict).
func (p *perPartitionRun) closeWindow(e *partitionCursor, w window, n newest) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Under p.mu, so that no state built meanwhile pairs the partition's
	// moved cursor with its old cached entry.
	if _, err := e.run.closeWindow(w, n); err != nil {
		return nil, err
	}
	e.enc = nil
	was := e.isFinished()
	e.pending--
	p.pending--
	p.recount(e, was)
	if e.isFinished() {
		st := e.run.state()
		cur, _ := st.Get(p.field)
		var best value
		if p.newGlobal != nil {
			best, _ = p.newGlobal.Get(p.field)
		}
		if p.newGlobal == nil || interpolation.Str(best) < interpolation.Str(cur) {
			p.newGlobal = interpolation.Copy(st).(*dict)
		}
	}
	if p.useGlobal {
		return nil, nil
	}
	data, err := p.stateLocked()
	if err != nil {
		return nil, nil
	}
	return data, nil
}

// finalState is the state emitted when the stream is done, as JSON; the
// global cursor and lookback advance only when every partition was read
// to the end.
func (p *perPartitionRun) finalState() ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending == 0 {
		p.global = p.newGlobal
		p.lookback = int64(p.now().Sub(p.started) / time.Second)
		p.parentState = nil
		if p.parents != nil {
			p.parentState = p.parents.state()
		}
		p.tail = nil
	}
	return p.stateLocked()
}

// stateLocked is the state as JSON, the encoding of
//
//	{"use_global_cursor": ..., "states": [...], "state": ...,
//	 "lookback_window": ..., "parent_state": ...}
//
// ("states" only while the cursor is per partition, "state" when the
// global state is not empty, "parent_state" when there is one), written
// from the cached entries of the partitions and the cached tail,
// encoding only what changed since the last state.
func (p *perPartitionRun) stateLocked() ([]byte, error) {
	if p.tail == nil {
		rest := interpolation.NewDict(3)
		if p.global != nil && p.global.Len() > 0 {
			rest.Set("state", interpolation.Copy(p.global))
		}
		rest.Set("lookback_window", p.lookback)
		if p.parentState != nil {
			rest.Set("parent_state", p.parentState)
		}
		enc, err := encodeJSON(rest)
		if err != nil {
			return nil, err
		}
		// {"state":...} → ,"state":...}
		enc[0] = ','
		p.tail = enc
	}
	// Room for the last state and a few more partitions: a state grows
	// by a partition's entry at a time.
	b := make([]byte, 0, p.size+p.size/16+512)
	if p.useGlobal {
		b = append(b, `{"use_global_cursor":true`...)
	} else {
		b = append(b, `{"use_global_cursor":false,"states":[`...)
		for i, k := range p.order {
			e := p.entries[k]
			if e.enc == nil {
				s := interpolation.NewDict(2)
				s.Set("partition", e.partition)
				s.Set("cursor", e.run.state())
				enc, err := encodeJSON(s)
				if err != nil {
					return nil, err
				}
				e.enc = enc
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, e.enc...)
		}
		b = append(b, ']')
	}
	b = append(b, p.tail...)
	p.size = len(b)
	return b, nil
}
