package jsonscan

import "strings"

// Nest returns inner nested n levels deep, for tests of depth limits (this
// package's and protocol's): the even levels are open … close (an object
// member, say `{"k":` and `}`), the odd ones arrays, so that objects and
// arrays alternate the way the validator's one-bit-per-level walk must
// tell apart.
func Nest(n int, open, close, inner string) string {
	var b strings.Builder
	for i := range n {
		if i%2 == 0 {
			b.WriteString(open)
		} else {
			b.WriteString(`[`)
		}
	}
	b.WriteString(inner)
	for i := n - 1; i >= 0; i-- {
		if i%2 == 0 {
			b.WriteString(close)
		} else {
			b.WriteString(`]`)
		}
	}
	return b.String()
}
