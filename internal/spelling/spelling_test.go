package spelling

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"sslmode", "sslmode", 0},
		{"sslmod", "sslmode", 1}, // a letter left out
		{"shcema", "schema", 1},  // two letters swapped
		{"schmea", "schema", 1},  // two letters swapped, later
		{"streams", "stream", 1}, // a letter too many
		{"scheme", "schema", 1},  // a letter replaced
		{"kitten", "sitting", 3}, // the textbook case
		{"ca", "abc", 3},         // a swap is not followed by an insertion in between (OSA, not Damerau)
		{"source-fakr", "source-faker", 1},
		{"faker", "source-faker", 7},
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Distance(c.b, c.a); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (it is symmetric)", c.b, c.a, got, c.want)
		}
	}
}
