package declarative

import (
	"context"
	"strings"
	"sync"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// Partition routers split a stream into partitions (partition_routers in
// the CDK). The contract of a partitionRouter:
//
//   - partitions yields each partition, in order, as a dict of partition
//     values (a substream partition also holds "parent_slice"); it may read
//     parent streams through rc and must stop when yield returns an error;
//   - options is what a partition injects into the requests made for it;
//   - routers hold no per-read state: what a read keeps (the state of the
//     parents read with incremental_dependency) is a *parentStates the
//     caller passes, nil when the read keeps none.
type partitionRouter interface {
	partitions(ctx context.Context, rc *readContext, v *vars, ps *parentStates, yield func(partition *dict) error) error
	options(partition *dict, v *vars) (requestOptions, error)
}

// streamSlice is the CDK's StreamSlice: a partition and the cursor's
// window within it.
type streamSlice struct {
	partition *dict
	cursor    *dict
	// window names the cursor's keys in a slice of a date window (nil:
	// not a window).
	window *windowKeys
	// value is the mapping templates see as stream_slice: partition
	// values then cursor values.
	value *dict
	// async is the completed job of an AsyncRetriever's slice.
	async *asyncPartition
}

// windowKeys are the keys of a window's bounds in a slice.
type windowKeys struct{ start, end string }

func newSlice(partition, cursor *dict) *streamSlice {
	if partition == nil {
		partition = interpolation.NewDict(0)
	}
	if cursor == nil {
		cursor = interpolation.NewDict(0)
	}
	v := interpolation.NewDict(partition.Len() + cursor.Len())
	for k, e := range partition.All() {
		setAny(v, k, e)
	}
	for k, e := range cursor.All() {
		setAny(v, k, e)
	}
	return &streamSlice{partition: partition, cursor: cursor, value: v}
}

func setAny(d *dict, k value, v value) {
	if s, ok := k.(string); ok {
		d.Set(s, v)
		return
	}
	d.Set(interpolation.Str(k), v)
}

// listRouter is ListPartitionRouter: one partition per value.
type listRouter struct {
	values    *tmpl   // a template evaluating to a list, or nil
	literal   []value // the values when given as a list
	cursorKey *tmpl
	option    *requestOption
}

func (l *listRouter) partitions(_ context.Context, _ *readContext, v *vars, _ *parentStates, yield func(*dict) error) error {
	values := l.literal
	if l.values != nil {
		val, err := l.values.eval(v)
		if err != nil {
			return err
		}
		switch x := val.(type) {
		case []value:
			values = x
		case interpolation.Tuple:
			values = x
		case string:
			// Iterating a str yields its characters, as in Python.
			for _, r := range x {
				values = append(values, string(r))
			}
		default:
			return errString("ListPartitionRouter values must be a list, got " + interpolation.Repr(val))
		}
	}
	key, err := l.cursorKey.evalStr(v)
	if err != nil {
		return err
	}
	for _, val := range values {
		p := interpolation.NewDict(1)
		p.Set(key, val)
		if err := yield(p); err != nil {
			return err
		}
	}
	return nil
}

func (l *listRouter) options(p *dict, v *vars) (requestOptions, error) {
	var o requestOptions
	if l.option == nil || p == nil {
		return o, nil
	}
	key, err := l.cursorKey.evalStr(v)
	if err != nil {
		return o, err
	}
	if val, ok := p.Get(key); ok && interpolation.Truthy(val) {
		err = l.option.injectInto(&o, val, v)
	}
	return o, err
}

// parentConfig is a ParentStreamConfig.
type parentConfig struct {
	stream         *stream
	parentKey      *tmpl
	partitionField *tmpl
	option         *requestOption
	incrementalDep bool
}

// substreamRouter is SubstreamPartitionRouter: one partition per record of
// each parent stream.
type substreamRouter struct {
	parents []*parentConfig
}

func (s *substreamRouter) partitions(ctx context.Context, rc *readContext, v *vars, ps *parentStates, yield func(*dict) error) error {
	for i, pc := range s.parents {
		parentKey, err := pc.parentKey.evalStr(v)
		if err != nil {
			return err
		}
		field, err := pc.partitionField.evalStr(v)
		if err != nil {
			return err
		}
		keyPath := strings.Split(parentKey, "/")
		var state *dict
		if ps != nil && pc.incrementalDep {
			state = ps.initialFor(pc.stream.name)
		}
		final, err := rc.readParent(ctx, pc.stream, state, func(rec *dict, parentSlice *streamSlice) error {
			val, ok := pathGet(rec, keyPath)
			if !ok {
				return nil
			}
			p := interpolation.NewDict(2)
			p.Set(field, val)
			from := interpolation.NewDict(0)
			if parentSlice != nil && parentSlice.partition != nil {
				from = parentSlice.partition
			}
			p.Set("parent_slice", from)
			return yield(p)
		})
		if err != nil {
			return err
		}
		if ps != nil && pc.incrementalDep {
			ps.read(i, final)
		}
	}
	return nil
}

// parentStates is what a substream router keeps during one read of an
// incremental child stream: the state its parents with
// incremental_dependency start from (the child state's parent_state) and
// the state each reached (the CDK's parent stream .state, read by the
// router's get_stream_state).
type parentStates struct {
	router  *substreamRouter
	initial *dict // parent name → state

	mu    sync.Mutex
	final []*dict // per parent config; nil until read
}

// newParentStates is set_initial_state of a substream router for a child
// state: its parent_state, or, when there is none and a parent has an
// incremental dependency, the child's single cursor value moved under each
// such parent's cursor field (_migrate_child_state_to_parent_state).
func (s *substreamRouter) newParentStates(state *dict, v *vars) (*parentStates, error) {
	ps := &parentStates{router: s, initial: interpolation.NewDict(0), final: make([]*dict, len(s.parents))}
	if state == nil || state.Len() == 0 {
		return ps, nil
	}
	dep := false
	for _, pc := range s.parents {
		dep = dep || pc.incrementalDep
	}
	if p, ok := state.Get("parent_state"); ok && interpolation.Truthy(p) {
		if d, ok := p.(*dict); ok {
			ps.initial = d
		}
		return ps, nil
	}
	if !dep || state.Len() != 1 {
		return ps, nil
	}
	var only value
	for _, e := range state.All() {
		only = e
	}
	switch only.(type) {
	case *dict, []value:
		return ps, nil
	}
	if !interpolation.Truthy(only) {
		return ps, nil
	}
	for _, pc := range s.parents {
		if !pc.incrementalDep || pc.stream.cursor == nil {
			continue
		}
		field, err := pc.stream.cursorFieldName(v)
		if err != nil {
			return nil, err
		}
		d := interpolation.NewDict(1)
		d.Set(field, only)
		ps.initial.Set(pc.stream.name, d)
	}
	return ps, nil
}

// initialFor is the state a parent starts from ({} when none).
func (ps *parentStates) initialFor(parent string) *dict {
	v, _ := ps.initial.Get(parent)
	d, _ := v.(*dict)
	return d
}

// read records the state parent config i reached.
func (ps *parentStates) read(i int, state *dict) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.final[i] = state
}

// state is get_stream_state: each parent with incremental_dependency and
// its state, in the router's order.
func (ps *parentStates) state() *dict {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := interpolation.NewDict(len(ps.router.parents))
	for i, pc := range ps.router.parents {
		if !pc.incrementalDep {
			continue
		}
		st := ps.final[i]
		if st == nil {
			st = ps.initialFor(pc.stream.name)
		}
		if st == nil {
			st = interpolation.NewDict(0)
		}
		out.Set(pc.stream.name, interpolation.Copy(st))
	}
	return out
}

func (s *substreamRouter) options(p *dict, v *vars) (requestOptions, error) {
	var o requestOptions
	if p == nil {
		return o, nil
	}
	for _, pc := range s.parents {
		if pc.option == nil {
			continue
		}
		key, err := pc.partitionField.evalStr(v)
		if err != nil {
			return o, err
		}
		if val, ok := p.Get(key); ok && interpolation.Truthy(val) {
			if err := pc.option.injectInto(&o, val, v); err != nil {
				return o, err
			}
		}
	}
	return o, nil
}

// cartesianRouter is the CartesianProductStreamSlicer a list of routers
// makes: every combination of their partitions, merged in order.
type cartesianRouter struct{ routers []partitionRouter }

// partitions gives every combination; a cartesian product keeps no parent
// state (the CDK's does not support it).
func (c *cartesianRouter) partitions(ctx context.Context, rc *readContext, v *vars, _ *parentStates, yield func(*dict) error) error {
	// Python's itertools.product materialises each router's partitions.
	lists := make([][]*dict, len(c.routers))
	for i, r := range c.routers {
		err := r.partitions(ctx, rc, v, nil, func(p *dict) error {
			lists[i] = append(lists[i], p)
			return nil
		})
		if err != nil {
			return err
		}
	}
	var rec func(i int, acc []*dict) error
	rec = func(i int, acc []*dict) error {
		if i == len(lists) {
			return yield(chainMap(acc))
		}
		for _, p := range lists[i] {
			if err := rec(i+1, append(acc, p)); err != nil {
				return err
			}
		}
		return nil
	}
	return rec(0, nil)
}

// chainMap merges partitions as Python's dict(ChainMap(*partitions)): the
// first partition holding a key gives its value; keys come in the order
// ChainMap lists them (the last partition's first).
func chainMap(parts []*dict) *dict {
	m := interpolation.NewDict(4)
	for i := len(parts) - 1; i >= 0; i-- {
		for k := range parts[i].All() {
			ks := interpolation.Str(k)
			if s, ok := k.(string); ok {
				ks = s
			}
			if _, seen := m.Get(ks); seen {
				continue
			}
			for _, p := range parts {
				if v, ok := p.Get(ks); ok {
					m.Set(ks, v)
					break
				}
			}
		}
	}
	return m
}

// options merges the routers' options as the CDK's ChainMap does: the
// first router to set a key wins.
func (c *cartesianRouter) options(p *dict, v *vars) (requestOptions, error) {
	var out requestOptions
	for _, r := range c.routers {
		o, err := r.options(p, v)
		if err != nil {
			return requestOptions{}, err
		}
		out.params = firstWins(out.params, o.params)
		out.headers = firstWins(out.headers, o.headers)
		out.bodyData = firstWins(out.bodyData, o.bodyData)
		out.bodyJSON = firstWins(out.bodyJSON, o.bodyJSON)
	}
	return out, nil
}

func firstWins(have, more []entry) []entry {
next:
	for _, m := range more {
		for _, h := range have {
			if h.key == m.key {
				continue next
			}
		}
		have = append(have, m)
	}
	return have
}
