// Package jsonwalk looks through decoded JSON (what encoding/json gives an
// any: maps, slices, strings, numbers, booleans, nil).
package jsonwalk

// AnyString reports whether match holds for a string anywhere in v, at
// any depth; object keys are not looked at.
func AnyString(v any, match func(string) bool) bool {
	switch v := v.(type) {
	case string:
		return match(v)
	case map[string]any:
		for _, e := range v {
			if AnyString(e, match) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if AnyString(e, match) {
				return true
			}
		}
	}
	return false
}
