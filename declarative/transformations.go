package declarative

import (
	"strings"

	"github.com/x/goairbyte/declarative/interpolation"
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
func setPath(d *dict, path []string, value Value) {
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

func (r *removeFields) remove(node Value, path []string, v *vars) error {
	if len(path) == 0 {
		return nil
	}
	head, rest := path[0], path[1:]
	d, ok := node.(*dict)
	if !ok {
		if l, isList := node.([]Value); isList && len(rest) > 0 {
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
