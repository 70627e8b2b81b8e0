package postgres

import (
	"strings"
	"testing"
)

// The index of a table whose name is near the 63 bytes of an identifier
// gets a name that fits and is its own: PostgreSQL would cut a longer one
// to the table's own name, or to another's.
func TestRawIDIndexNames(t *testing.T) {
	long := strings.Repeat("a", 60)
	seen := map[string]string{}
	for _, table := range []string{"users", strings.Repeat("b", 56), long + "_x", long + "_y", long[:57]} {
		n := rawIDIndex(table)
		if len(n) > 63 || !strings.HasSuffix(n, "-raw-id") || n == table {
			t.Errorf("rawIDIndex(%q) = %q", table, n)
		}
		if other, ok := seen[n]; ok {
			t.Errorf("%q and %q share the index name %q", table, other, n)
		}
		seen[n] = table
	}
}
