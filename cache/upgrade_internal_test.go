package cache

import (
	"strings"
	"testing"

	"github.com/x/goairbyte/cache/internal/backend"
)

// maxIdent is a backend whose identifiers have at most max bytes; it
// does nothing else.
type maxIdent struct {
	backend.Backend
	max int
}

func (m maxIdent) MaxIdentifierLength() int { return m.max }

// tablePrefixOf reads back the state prefix of every table name that
// tableName gives, shortened names included, and gives none for a name
// no prefix makes.
func TestTablePrefixOf(t *testing.T) {
	streams := []string{"users", "Users Table", "1abc", "a_users", "_x", strings.Repeat("long", 20)}
	prefixes := []string{"", "pfx", "pfx_", "a", "a__", "P Q", strings.Repeat("p", 40)}
	for _, max := range []int{0, 63} {
		for _, prefix := range prefixes {
			p, err := NormalizeName(prefix)
			if prefix == "" {
				p, err = "", nil
			}
			if err != nil {
				t.Fatal(err)
			}
			c := &Cache{prefix: p, statePrefix: statePrefix(p), b: maxIdent{max: max}}
			for _, stream := range streams {
				table, err := c.tableName(stream)
				if err != nil {
					t.Fatal(err)
				}
				got, ok := tablePrefixOf(table, stream, max)
				if !ok || got != c.statePrefix {
					t.Errorf("max %d: the prefix of %s (prefix %q, stream %q): %q, %v; want %q", max, table, prefix, stream, got, ok, c.statePrefix)
				}
			}
		}
	}
	for _, tc := range []struct{ table, stream string }{
		{"users", "orders"},    // recorded with another stream's name
		{"_users", "users"},    // "_" is no prefix
		{"1_users", "users"},   // nor is what a name cannot start with
		{"pfx_users", "Users"}, // the prefix of a normalised name
	} {
		p, ok := tablePrefixOf(tc.table, tc.stream, 0)
		if want := tc.table == "pfx_users"; ok != want || (ok && p != "pfx_") {
			t.Errorf("the prefix of %s (stream %q): %q, %v", tc.table, tc.stream, p, ok)
		}
	}
}
