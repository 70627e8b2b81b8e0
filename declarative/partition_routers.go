package declarative

import (
	"context"
	"strings"

	"github.com/x/goairbyte/declarative/interpolation"
)

// Partition routers split a stream into partitions (partition_routers in
// the CDK). The contract of a partitionRouter:
//
//   - partitions yields each partition, in order, as a dict of partition
//     values (a substream partition also holds "parent_slice"); it may read
//     parent streams through rc and must stop when yield returns an error;
//   - options is what a partition injects into the requests made for it;
//   - routers hold no per-read state.
type partitionRouter interface {
	partitions(ctx context.Context, rc *readContext, v *vars, yield func(partition *dict) error) error
	options(partition *dict, v *vars) (requestOptions, error)
}

// streamSlice is the CDK's StreamSlice: a partition, the cursor's window
// within it, and extra fields from a parent record.
type streamSlice struct {
	partition *dict
	cursor    *dict
	extra     *dict
	// value is the mapping templates see as stream_slice: partition
	// values then cursor values.
	value *dict
}

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

func setAny(d *dict, k Value, v Value) {
	if s, ok := k.(string); ok {
		d.Set(s, v)
		return
	}
	d.Set(interpolation.Str(k), v)
}

// listRouter is ListPartitionRouter: one partition per value.
type listRouter struct {
	values    *tmpl   // a template evaluating to a list, or nil
	literal   []Value // the values when given as a list
	cursorKey *tmpl
	option    *requestOption
}

func (l *listRouter) partitions(_ context.Context, _ *readContext, v *vars, yield func(*dict) error) error {
	values := l.literal
	if l.values != nil {
		val, err := l.values.eval(v)
		if err != nil {
			return err
		}
		switch x := val.(type) {
		case []Value:
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
	extraFields    [][]*tmpl
}

// substreamRouter is SubstreamPartitionRouter: one partition per record of
// each parent stream.
type substreamRouter struct {
	parents []*parentConfig
}

func (s *substreamRouter) partitions(ctx context.Context, rc *readContext, v *vars, yield func(*dict) error) error {
	for _, pc := range s.parents {
		parentKey, err := pc.parentKey.evalStr(v)
		if err != nil {
			return err
		}
		field, err := pc.partitionField.evalStr(v)
		if err != nil {
			return err
		}
		keyPath := strings.Split(parentKey, "/")
		err = rc.readParent(ctx, pc.stream, func(rec *dict, parentSlice *streamSlice) error {
			val, ok := pathGet(rec, keyPath)
			if !ok {
				return nil
			}
			p := interpolation.NewDict(2)
			p.Set(field, val)
			ps := interpolation.NewDict(0)
			if parentSlice != nil && parentSlice.partition != nil {
				ps = parentSlice.partition
			}
			p.Set("parent_slice", ps)
			return yield(p)
		})
		if err != nil {
			return err
		}
	}
	return nil
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

func (c *cartesianRouter) partitions(ctx context.Context, rc *readContext, v *vars, yield func(*dict) error) error {
	// Python's itertools.product materialises each router's partitions.
	lists := make([][]*dict, len(c.routers))
	for i, r := range c.routers {
		err := r.partitions(ctx, rc, v, func(p *dict) error {
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
