// Package secretref reads the secret references of a config
// ("secret_reference::NAME") as package secrets resolves them, for the
// packages that remember what an operation resolved (connector, a
// connections Plan).
package secretref

import (
	"strings"

	"github.com/x/goairbyte/secrets"
)

// Name is the name of the secret that ref, a reference, refers to, as
// package secrets reads it.
func Name(ref string) string {
	return strings.TrimSpace(strings.TrimPrefix(ref, secrets.ReferencePrefix))
}

// Pairs calls f with each reference of stored, a decoded config, and the
// value resolution put in its place in resolved, the same config
// resolved, by walking the two side by side.
func Pairs(stored, resolved any, f func(ref, value string)) {
	switch x := stored.(type) {
	case string:
		if y, ok := resolved.(string); ok && strings.HasPrefix(x, secrets.ReferencePrefix) && y != x {
			f(x, y)
		}
	case map[string]any:
		if y, ok := resolved.(map[string]any); ok {
			for k, v := range x {
				Pairs(v, y[k], f)
			}
		}
	case []any:
		if y, ok := resolved.([]any); ok && len(y) == len(x) {
			for i := range x {
				Pairs(x[i], y[i], f)
			}
		}
	}
}
