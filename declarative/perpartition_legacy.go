package declarative

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// legacyPerPartition is the CDK's declarative PerPartitionWithGlobalCursor
// (a PerPartitionCursor beside a GlobalSubstreamCursor), the cursor of a
// stream that has both a partition router and a DatetimeBasedCursor when
// the CDK reads it synchronously: as a parent stream, which a
// SubstreamPartitionRouter reads with read_only_records. It is used by one
// goroutine, the one reading the parent.
//
// Its state is
//
//	{"use_global_cursor": false, "state": {...}, "lookback_window": 1,
//	 "states": [{"partition": {...}, "cursor": {...}}], "parent_state": {...}}
//
// with "states" left out once the cursor is global, "lookback_window" until
// one is known and "parent_state" when the router's parents have none.
type legacyPerPartition struct {
	c   *datetimeCursor
	v   *vars
	now func() time.Time
	max int // DEFAULT_MAX_PARTITIONS_NUMBER

	useGlobal bool
	// global is the GlobalSubstreamCursor's DatetimeBasedCursor: it
	// observes every record and is closed once, with the last slice.
	global   *legacyCursor
	lookback value // lookback_window; nil is None
	started  time.Time

	// migrate is _state_to_migrate_from, the state of a partition the
	// state does not list.
	migrate *dict
	order   []string // partition keys, oldest first (the OrderedDict)
	cursors map[string]*legacyPartition
	// overLimit counts the partitions dropped to keep max.
	overLimit int
	// warn logs a warning (nil: warnings are not logged).
	warn func(msg string)

	parents     *parentStates
	parentState value // _parent_state
}

// legacyPartition is the cursor of one partition.
type legacyPartition struct {
	partition *dict // keys sorted, as the CDK writes it back
	cursor    *legacyCursor
}

// newLegacyPerPartition is the cursor built for a parent and given its
// state (set_initial_state; nil or empty: none). parents is the state of
// the parent's own router's parents (nil for a router other than a
// substream one).
func newLegacyPerPartition(ctx context.Context, c *datetimeCursor, parents *parentStates, state *dict, v *vars, now func() time.Time, max int) (*legacyPerPartition, error) {
	p := &legacyPerPartition{c: c, v: v, now: now, max: max, cursors: map[string]*legacyPartition{}, parents: parents}
	var err error
	if p.global, err = c.legacy(v, now); err != nil {
		return nil, err
	}
	if state == nil || state.Len() == 0 {
		return p, nil
	}
	g, _ := state.Get("use_global_cursor")
	p.useGlobal = interpolation.Truthy(g)
	p.parentState, _ = state.Get("parent_state")
	_, hasStates := state.Get("states")
	// GlobalSubstreamCursor.set_initial_state.
	if lb, ok := state.Get("lookback_window"); ok {
		p.lookback = lb
		p.global.runtimeLookback(lb)
	}
	if gs, ok := state.Get("state"); ok {
		d, _ := gs.(*dict)
		p.global.setState(d)
	} else if !hasStates {
		p.global.setState(state)
	}
	if p.useGlobal {
		return p, nil
	}
	// PerPartitionCursor.set_initial_state.
	if !hasStates {
		p.migrate = state
		return p, nil
	}
	if err := eachPartitionState(ctx, state, func(partition, cursor *dict) error {
		lc, err := c.legacy(v, now)
		if err != nil {
			return err
		}
		lc.setState(cursor)
		p.put(sortedDict(partition), lc)
		return nil
	}); err != nil {
		return nil, err
	}
	if gs, ok := state.Get("state"); ok {
		p.migrate, _ = gs.(*dict)
	}
	return p, nil
}

func (p *legacyPerPartition) put(partition *dict, lc *legacyCursor) {
	key := partitionKey(partition)
	if _, ok := p.cursors[key]; !ok {
		p.order = append(p.order, key)
	}
	p.cursors[key] = &legacyPartition{partition: partition, cursor: lc}
}

// start is start_slices_generation: the sync's duration, the next
// lookback_window, is counted from here.
func (p *legacyPerPartition) start() { p.started = p.now() }

// cursorFor is the cursor whose windows a partition reads and whose state
// should_be_synced asks (generate_slices_from_partition): the global one
// once the cursor is global, else the partition's, made from the state to
// migrate from when the partition is new, after the oldest partitions are
// dropped to keep fewer than max.
func (p *legacyPerPartition) cursorFor(partition *dict) (*legacyCursor, error) {
	if p.useGlobal {
		return p.global, nil
	}
	for len(p.order) > p.max-1 && len(p.order) > 0 {
		p.overLimit++
		if p.warn != nil {
			p.warn(fmt.Sprintf("The maximum number of partitions has been reached. Dropping the oldest partition: %s. Over limit: %d.", warnKey(p.cursors[p.order[0]].partition), p.overLimit))
		}
		delete(p.cursors, p.order[0])
		p.order = p.order[1:]
	}
	key := partitionKey(partition)
	if e, ok := p.cursors[key]; ok {
		return e.cursor, nil
	}
	lc, err := p.c.legacy(p.v, p.now)
	if err != nil {
		return nil, err
	}
	lc.setState(p.migrate)
	p.put(sortedDict(partition), lc)
	return lc, nil
}

// observe notes a record read in window w of a partition: the cursor turns
// global once more partitions were dropped than it keeps, and the global
// cursor sees every record.
func (p *legacyPerPartition) observe(partition *dict, w window, rec *dict) error {
	if !p.useGlobal && p.overLimit > p.max {
		p.useGlobal = true
	}
	if !p.useGlobal {
		if e, ok := p.cursors[partitionKey(partition)]; ok {
			if err := e.cursor.observe(w, rec); err != nil {
				return err
			}
		}
	}
	return p.global.observe(w, rec)
}

// activeWindow is should_be_synced of a partitioned parent's
// PerPartitionWithGlobalCursor during one slice of a partition: the
// partition's cursor lc, then the global one once the cursor is global.
// The CDK's record filter and observe take a page's records one at a time
// (lazy generators), and observe turns the cursor global at the first
// record it sees once more partitions were dropped than the cursor keeps,
// so the records after it in the page are filtered with the global
// cursor. The selector filters a whole page before any of its records is
// observed: the window turns at the first record selected, as observe
// will.
type activeWindow struct {
	pp     *legacyPerPartition
	lc     *legacyCursor
	turned bool
}

func (a *activeWindow) shouldSync(slice *streamSlice, rec *dict) (bool, error) {
	if a.turned || a.pp.useGlobal {
		return a.pp.global.shouldSync(slice, rec)
	}
	return a.lc.shouldSync(slice, rec)
}

// selected is told of each record the selector keeps, which observe
// will see.
func (a *activeWindow) selected() {
	if a.pp.overLimit > a.pp.max {
		a.turned = true
	}
}

// closeSlice closes a window of a partition; the global cursor waits for
// the last slice (finish).
func (p *legacyPerPartition) closeSlice(partition *dict) error {
	if p.useGlobal {
		return nil
	}
	if e, ok := p.cursors[partitionKey(partition)]; ok {
		return e.cursor.closeSlice()
	}
	return nil
}

// finish ends the read of the parent: when the last partition had windows,
// the last of them closed the global cursor, with the sync's duration in
// whole seconds, rounded up, as the next lookback_window (Timer.finish);
// the parents' state is what the router's get_stream_state says now.
func (p *legacyPerPartition) finish(lastHadWindows bool) error {
	if lastHadWindows {
		p.lookback = int64(math.Ceil(p.now().Sub(p.started).Seconds()))
		if err := p.global.closeSlice(); err != nil {
			return err
		}
	}
	p.parentState = nil
	if p.parents != nil {
		p.parentState = p.parents.state()
	}
	return nil
}

// state is get_stream_state.
func (p *legacyPerPartition) state() *dict {
	out := interpolation.NewDict(5)
	out.Set("use_global_cursor", p.useGlobal)
	out.Set("state", p.global.state())
	if p.lookback != nil {
		out.Set("lookback_window", p.lookback)
	}
	if !p.useGlobal {
		states := []value{}
		for _, k := range p.order {
			e := p.cursors[k]
			st := e.cursor.state()
			if st.Len() == 0 {
				continue
			}
			s := interpolation.NewDict(2)
			s.Set("partition", interpolation.Copy(e.partition))
			s.Set("cursor", st)
			states = append(states, s)
		}
		out.Set("states", states)
	}
	if interpolation.Truthy(p.parentState) {
		out.Set("parent_state", interpolation.Copy(p.parentState))
	}
	return out
}
