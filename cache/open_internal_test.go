package cache

import (
	"strings"
	"testing"
)

// TestUnknownSchemeNamesImport: for a scheme goairbyte ships a backend
// for, the error names the one import that registers it. (In this test
// binary every backend is registered, so Open itself never says it.)
func TestUnknownSchemeNamesImport(t *testing.T) {
	for scheme, imp := range map[string]string{
		"duckdb":     `import _ "github.com/x/goairbyte/cache/duckdb"`,
		"postgresql": `import _ "github.com/x/goairbyte/cache/postgres"`,
	} {
		if err := unknownScheme(scheme); !strings.Contains(err.Error(), "add "+imp) {
			t.Errorf("scheme %s: %v", scheme, err)
		}
	}
}
