package declarative

import (
	"strings"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// Transformations change each record after filtering (transformations in
// the CDK). The contract: transform modifies the record in place; it may
// read v (config, stream_state, stream_slice; record is set to the record
// itself); transformations run in manifest order, each seeing the previous
// one's result.
type transformation interface {
	transform(record *dict, v *vars) error
}

// addFields is AddFields: each field's value (a template over the record,
// which already holds the fields added before it) set at its path.
type addFields struct {
	fields []addedField
}

type addedField struct {
	path      []string
	value     *tmpl
	valueType string // "", "string", "number", "integer", "boolean"
}

func (a *addFields) transform(record *dict, v *vars) error {
	rv := *v
	rv.set(interpolation.VarRecord, record)
	for _, f := range a.fields {
		val, err := f.value.evalTyped(&rv, f.valueType)
		if err != nil {
			return err
		}
		setPath(record, f.path, val)
	}
	return nil
}

// setPath sets value at path, creating dicts on the way (dpath.new).
func setPath(d *dict, path []string, value value) {
	for _, p := range path[:len(path)-1] {
		next, ok := d.Get(p)
		nd, isDict := next.(*dict)
		if !ok || !isDict {
			nd = interpolation.NewDict(1)
			d.Set(p, nd)
		}
		d = nd
	}
	d.Set(path[len(path)-1], value)
}

// removeFields is RemoveFields: every value matching a pointer (with "*"
// globs) is deleted, when the optional condition over it holds.
type removeFields struct {
	pointers  [][]string
	condition *tmpl
}

func (r *removeFields) transform(record *dict, v *vars) error {
	for _, p := range r.pointers {
		if err := r.remove(record, p, v); err != nil {
			return err
		}
	}
	return nil
}

func (r *removeFields) remove(node value, path []string, v *vars) error {
	if len(path) == 0 {
		return nil
	}
	head, rest := path[0], path[1:]
	d, ok := node.(*dict)
	if !ok {
		if l, isList := node.([]value); isList && len(rest) > 0 {
			for i, e := range l {
				if head == "*" || head == itoa(i) {
					if err := r.remove(e, rest, v); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	var keys []string
	if head == "*" {
		for _, e := range entries(d) {
			keys = append(keys, e.key)
		}
	} else if d.Len() > 0 {
		if _, ok := d.Get(head); ok {
			keys = []string{head}
		}
	}
	for _, k := range keys {
		val, _ := d.Get(k)
		if len(rest) > 0 {
			if err := r.remove(val, rest, v); err != nil {
				return err
			}
			continue
		}
		if r.condition != nil {
			cv := v.with(func(x *vars) { x.SetName("property", val) })
			ok, err := r.condition.evalBool(cv)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		d.Delete(k)
	}
	return nil
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}

// keysToLower is KeysToLower: the record's top-level keys lower-cased.
type keysToLower struct{}

func (keysToLower) transform(record *dict, _ *vars) error {
	es := entries(record)
	for _, e := range es {
		record.Delete(e.key)
	}
	for _, e := range es {
		record.Set(strings.ToLower(e.key), e.val)
	}
	return nil
}

// keysReplace is KeysReplace: old replaced by new in every key of the
// record and of the dicts nested in it (not in lists), old and new being
// templates over the config, the record, stream_state and stream_slice.
type keysReplace struct{ old, new *tmpl }

func (k *keysReplace) transform(record *dict, v *vars) error {
	rv := v.with(func(x *vars) { x.set(interpolation.VarRecord, record) })
	old, err := k.old.evalStr(rv)
	if err != nil {
		return err
	}
	repl, err := k.new.evalStr(rv)
	if err != nil {
		return err
	}
	replaceKeys(record, old, repl)
	return nil
}

// replaceKeys rewrites d's keys in place, keeping their order.
func replaceKeys(d *dict, old, repl string) {
	es := entries(d)
	for _, e := range es {
		d.Delete(e.key)
	}
	for _, e := range es {
		if sub, ok := e.val.(*dict); ok {
			replaceKeys(sub, old, repl)
		}
		d.Set(strings.ReplaceAll(e.key, old, repl), e.val)
	}
}

// flattenFields is FlattenFields: nested dicts (and lists, with
// flatten_lists) become top-level keys. As the CDK, it walks with a stack,
// so keys come out in its order, and a nested key takes its parent's name
// as a prefix ("parent.key") only when the name is taken already, or once
// any list was met.
type flattenFields struct{ lists bool }

func (f flattenFields) transform(record *dict, _ *vars) error {
	type item struct {
		v   value
		key string
	}
	out := interpolation.NewDict(record.Len())
	stack := []item{{record, "_"}}
	withParent := false
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch x := cur.v.(type) {
		case *dict:
			for _, e := range entries(x) {
				key := e.key
				if _, taken := out.Get(key); taken || withParent {
					key = cur.key + "." + e.key
				}
				stack = append(stack, item{e.val, key})
			}
		case []value:
			if !f.lists {
				out.Set(cur.key, x)
				continue
			}
			for i, e := range x {
				withParent = true
				stack = append(stack, item{e, cur.key + "." + itoa(i)})
			}
		default:
			out.Set(cur.key, cur.v)
		}
	}
	for _, e := range entries(record) {
		record.Delete(e.key)
	}
	for _, e := range entries(out) {
		record.Set(e.key, e.val)
	}
	return nil
}

// dpathFlattenFields is DpathFlattenFields: the dict at field_path (the
// first match of a "*" path) is merged into the record when none of its
// keys is in the record already, and deleted from its place with
// delete_origin_value.
type dpathFlattenFields struct {
	path         []*tmpl
	deleteOrigin bool
}

func (f *dpathFlattenFields) transform(record *dict, v *vars) error {
	keys := make([]string, len(f.path))
	glob := false
	for i, p := range f.path {
		k, err := p.evalStr(v)
		if err != nil {
			return err
		}
		keys[i] = k
		glob = glob || k == "*"
	}
	var extracted value
	if glob {
		var found []value
		globValues(record, keys, &found)
		if len(found) > 0 {
			extracted = found[0]
		}
	} else {
		extracted, _ = pathGet(record, keys)
	}
	d, ok := extracted.(*dict)
	if !ok {
		return nil
	}
	for _, e := range entries(d) {
		if _, conflict := record.Get(e.key); conflict {
			return nil
		}
	}
	if f.deleteOrigin {
		deletePath(record, keys)
	}
	for _, e := range entries(d) {
		record.Set(e.key, e.val)
	}
	return nil
}

// deletePath deletes what path leads to (dpath.delete of a plain path).
func deletePath(d *dict, path []string) {
	if len(path) == 0 {
		return
	}
	parent, ok := pathGet(d, path[:len(path)-1])
	if !ok {
		return
	}
	if pd, ok := parent.(*dict); ok {
		pd.Delete(path[len(path)-1])
	}
}
