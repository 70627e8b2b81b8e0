package declarative

import (
	"fmt"
	"strings"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/declarative/internal/manifest"
)

// value is a Python-like value of the interpolation package: records,
// responses, configs, slices and states are all made of them.
type value = interpolation.Value

// dict is an ordered Python dict.
type dict = interpolation.Dict

// fromManifest converts a manifest value into an interpolation value.
func fromManifest(v any) value {
	switch v := v.(type) {
	case []any:
		out := make([]value, len(v))
		for i, e := range v {
			out[i] = fromManifest(e)
		}
		return out
	case *manifest.Map:
		d := interpolation.NewDict(v.Len())
		for _, k := range v.Keys() {
			e, _ := v.Get(k)
			d.Set(k, fromManifest(e))
		}
		return d
	}
	return v
}

// entry is one key and value of an ordered mapping the engine builds.
type entry struct {
	key string
	val value
}

// entries lists a dict's entries with their keys as Python's str() of them.
func entries(d *dict) []entry {
	if d == nil {
		return nil
	}
	out := make([]entry, 0, d.Len())
	for k, v := range d.All() {
		ks, ok := k.(string)
		if !ok {
			ks = interpolation.Str(k)
		}
		out = append(out, entry{ks, v})
	}
	return out
}

// combineMappings merges request option mappings as the CDK's
// combine_mappings: a key set twice is an error.
func combineMappings(parts ...[]entry) ([]entry, error) {
	seen := map[string]bool{}
	var out []entry
	var dups []string
	for _, p := range parts {
		for _, e := range p {
			if seen[e.key] {
				dups = append(dups, e.key)
				continue
			}
			seen[e.key] = true
			out = append(out, e)
		}
	}
	if len(dups) > 0 {
		return nil, fmt.Errorf("duplicate request option keys %s: set by more than one component", strings.Join(dups, ", "))
	}
	return out, nil
}

// dictGet reads key k of v when v is a dict.
func dictGet(v value, k string) (value, bool) {
	d, ok := v.(*dict)
	if !ok || d == nil {
		return nil, false
	}
	return d.Get(k)
}

// pathGet follows a path of keys (and list indexes) through dicts and
// lists, as dpath.get does for the CDK's field paths.
func pathGet(v value, path []string) (value, bool) {
	for _, p := range path {
		switch c := v.(type) {
		case *dict:
			next, ok := c.Get(p)
			if !ok {
				return nil, false
			}
			v = next
		case []value:
			i, ok := listIndex(p, len(c))
			if !ok {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func listIndex(s string, n int) (int, bool) {
	if s == "" {
		return 0, false
	}
	i := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		i = i*10 + int(r-'0')
		if i > n {
			return 0, false
		}
	}
	return i, i < n
}
