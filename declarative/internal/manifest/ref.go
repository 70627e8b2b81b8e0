package manifest

import (
	"fmt"
	"strconv"
	"strings"
)

const refKey = "$ref"

// resolver expands references the way the CDK's ManifestReferenceResolver
// does: a string "#/a/b" anywhere is replaced by the value it points at, and
// a mapping with "$ref" is the referenced mapping updated with its own keys.
// Lookups read the original manifest; the value found is resolved in turn.
type resolver struct {
	root    *Map
	visited map[string]bool
	// budget bounds the values the expansion creates: a reference is
	// copied wherever it is used, so references to references can
	// multiply a small manifest into billions of values.
	budget values
}

func resolveRefs(root *Map) (*Map, error) {
	r := &resolver{root: root, visited: map[string]bool{}, budget: maxValues}
	v, err := r.eval(root)
	if err != nil {
		return nil, err
	}
	m, ok := v.(*Map)
	if !ok {
		return nil, &Error{Message: "the manifest's top-level $ref does not point at a mapping"}
	}
	return m, nil
}

func (r *resolver) eval(node any) (any, error) {
	if err := r.budget.spend(1); err != nil {
		return nil, err
	}
	switch n := node.(type) {
	case *Map:
		own := NewMap()
		for _, k := range n.Keys() {
			if k == refKey {
				continue
			}
			v, _ := n.Get(k)
			ev, err := r.eval(v)
			if err != nil {
				return nil, err
			}
			own.Set(k, ev)
		}
		ref, ok := n.Get(refKey)
		if !ok {
			return own, nil
		}
		target, err := r.eval(ref)
		if err != nil {
			return nil, err
		}
		tm, ok := target.(*Map)
		if !ok {
			return target, nil
		}
		// Python's `ref | own`: the reference's keys first, own values win.
		if err := r.budget.spend(size(tm)); err != nil {
			return nil, err
		}
		merged := Clone(tm).(*Map)
		for _, k := range own.Keys() {
			v, _ := own.Get(k)
			merged.Set(k, v)
		}
		return merged, nil
	case []any:
		out := make([]any, len(n))
		for i, e := range n {
			ev, err := r.eval(e)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case string:
		if !strings.HasPrefix(n, "#/") {
			return n, nil
		}
		if r.visited[n] {
			return nil, &Error{Message: fmt.Sprintf("circular reference %q", n)}
		}
		r.visited[n] = true
		defer delete(r.visited, n)
		target, ok := lookupRef(r.root, n[2:])
		if !ok {
			return nil, &Error{Message: fmt.Sprintf("undefined reference %q: nothing at that path", n)}
		}
		return r.eval(target)
	}
	return node, nil
}

// lookupRef finds path in node as the CDK does: the whole remaining path as
// a key first, else its first segment (an index when it reads as an int)
// and the rest below it.
func lookupRef(node any, path string) (any, bool) {
	for path != "" {
		if m, ok := node.(*Map); ok {
			if v, ok := m.Get(path); ok {
				return v, true
			}
		}
		head, rest, _ := strings.Cut(path, "/")
		path = rest
		switch n := node.(type) {
		case *Map:
			v, ok := n.Get(head)
			if !ok {
				return nil, false
			}
			node = v
		case []any:
			i, err := strconv.Atoi(head)
			if err != nil {
				return nil, false
			}
			if i < 0 {
				i += len(n)
			}
			if i < 0 || i >= len(n) {
				return nil, false
			}
			node = n[i]
		default:
			return nil, false
		}
	}
	return node, true
}

// size counts the values in v: itself and everything below it.
func size(v any) int {
	n := 1
	switch v := v.(type) {
	case *Map:
		for _, e := range v.vals {
			n += size(e)
		}
	case []any:
		for _, e := range v {
			n += size(e)
		}
	}
	return n
}
