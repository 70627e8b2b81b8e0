// Package humanize writes numbers as people read them in goairbyte's
// messages, progress lines and summaries.
package humanize

import "strconv"

// Int writes n with a comma between groups of three digits: 2,000,100.
func Int(n int64) string {
	s := strconv.FormatInt(n, 10)
	digits := len(s)
	if n < 0 {
		digits--
	}
	b := make([]byte, 0, len(s)+(digits-1)/3)
	for i := range len(s) {
		if left := len(s) - i; i > 0 && s[i-1] != '-' && left%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}
