package interpolation

import (
	"strings"
	"testing"
	"time"
)

// TestStrftimeHugeWidth: a field width is formatted only as far as Python's strftime buffer
// goes ("" beyond it, as Python returns), so a manifest's datetime_format such as
// "%99999999999999999999d" cannot make a sync build a string of that size or hang.
func TestStrftimeHugeWidth(t *testing.T) {
	dt := newAware(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	for _, c := range []struct {
		format string
		want   int // length of the result
	}{
		{"%99999999999999999999d", 0},
		{"%-99999999999999999999a", 0},
		{"x%2000000000Y", 0},
		{"%3000d", 0},                       // past 2047, the largest buffer for 6 characters
		{"%1500d", 1500},                    // fits
		{"%2047m", 2047},                    // just fits
		{"%2048m", 0},                       // just does not
		{"%f%3000d", 3006},                  // %f is 6 digits: 12 characters, so 4095 fit
		{strings.Repeat("%c", 40), 40 * 24}, // long results of short directives still fit
	} {
		done := make(chan string, 1)
		go func() { done <- strftime(dt, c.format) }()
		select {
		case got := <-done:
			if len(got) != c.want {
				t.Errorf("strftime(%q) is %d bytes long, want %d", c.format, len(got), c.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("strftime(%q) did not return", c.format)
		}
	}
}
