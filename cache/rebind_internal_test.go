package cache

import (
	"strconv"
	"testing"
)

// The "?" of quoted text and comments stays; the others become $1, $2…
// in order.
func TestRebind(t *testing.T) {
	dollar := func(n int) string { return "$" + strconv.Itoa(n) }
	for _, tc := range []struct{ in, want string }{
		{"SELECT ?, ?", "SELECT $1, $2"},
		{"SELECT 'a?' || ?", "SELECT 'a?' || $1"},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{`SELECT E'it\'s ?', ?`, `SELECT E'it\'s ?', $1`},
		{`SELECT e'\\', ?`, `SELECT e'\\', $1`},
		{`SELECT some'\', ?`, `SELECT some'\', $1`}, // not an escape string: the \ is text
		{`SELECT "col?" FROM t WHERE a = ?`, `SELECT "col?" FROM t WHERE a = $1`},
		{"SELECT ? -- why?\nFROM t WHERE b = ?", "SELECT $1 -- why?\nFROM t WHERE b = $2"},
		{"SELECT ? -- why?", "SELECT $1 -- why?"},
		{"SELECT /* a? /* b? */ c? */ ?", "SELECT /* a? /* b? */ c? */ $1"},
		{"SELECT $$what?$$, ?", "SELECT $$what?$$, $1"},
		{"SELECT $fn$ a ? $x$ b? $fn$, ?", "SELECT $fn$ a ? $x$ b? $fn$, $1"},
		{"SELECT a$b, ?", "SELECT a$b, $1"},
		{"SELECT $1, ?", "SELECT $1, $1"},
		{"SELECT 'open ?", "SELECT 'open ?"},
		{"SELECT /* open ?", "SELECT /* open ?"},
		{"SELECT 1 - ?", "SELECT 1 - $1"},
		{"SELECT 4 / ?", "SELECT 4 / $1"},
	} {
		if got := rebind(tc.in, dollar); got != tc.want {
			t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := rebind("SELECT '?' -- ?", func(int) string { return "?" }); got != "SELECT '?' -- ?" {
		t.Errorf("a dialect of ? changed the query: %q", got)
	}
}
