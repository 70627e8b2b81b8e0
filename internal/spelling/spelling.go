// Package spelling measures how far one name is from another, for the
// "did you mean" advice of goab's flags, the registry's close matches and
// the PostgreSQL cache's DSN parameters.
package spelling

// Distance is the number of letters inserted, deleted, replaced or swapped
// with the next that turn a into b (the optimal string alignment distance:
// "sslmod" is 1 from "sslmode", "shcema" 1 from "schema"). It compares
// bytes, which is what names of flags, connectors and parameters are made of.
func Distance(a, b string) int {
	// Three rows of the table: the one before the previous is needed for
	// a swap.
	prev2, prev, cur := make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
