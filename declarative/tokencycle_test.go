package declarative

import "testing"

// TestTokenCycleBounded: past the tokens tokenCycle keeps, a cycle is
// still found, before twice as many tokens as its first round took, and
// the memory stays at the cap.
func TestTokenCycleBounded(t *testing.T) {
	for _, tc := range []struct{ start, length int }{
		{0, 2}, {maxSeenTokens - 1, 3}, {maxSeenTokens + 5, 1}, {3 * maxSeenTokens, 1000}, {100, 5 * maxSeenTokens},
	} {
		var c tokenCycle
		// Tokens 0, 1, … up to start+length-1, then start again, and so on.
		tok, n, limit := 0, 0, 2*(tc.start+tc.length)+tc.length+2
		for ; n < limit; n++ {
			if c.visit(int64(tok)) {
				break
			}
			if tok++; tok == tc.start+tc.length {
				tok = tc.start
			}
		}
		if n == limit || n < tc.start+tc.length {
			t.Errorf("cycle of %d from %d: repeat found after %d tokens", tc.length, tc.start, n)
		}
		if len(c.seen) > maxSeenTokens {
			t.Errorf("cycle of %d from %d: %d hashes kept", tc.length, tc.start, len(c.seen))
		}
	}
	// Distinct tokens are never a repeat.
	var c tokenCycle
	for i := range 4 * maxSeenTokens {
		if c.visit(int64(i)) {
			t.Fatalf("token %d taken for a repeat", i)
		}
	}
}
