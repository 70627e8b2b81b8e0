package declarative

import (
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// FuzzTokenCycle checks the pagination cycle detector (tokenCycle): over
// tokens of every kind a paginator yields, it stops only at a token
// requested before (the same request), and at once while it keeps every
// token; a run of distinct tokens (mu of them, then a cycle of lambda) is
// stopped at its first repeat if it comes within the kept tokens, and
// otherwise before 2(mu+lambda)+lambda+2 tokens, TestTokenCycleBounded's
// bound.
func FuzzTokenCycle(f *testing.F) {
	f.Add("i1\x00i2\x00i1", uint16(0), uint16(2), byte(0))
	f.Add("sA\x00sB\x00sA", uint16(maxSeenTokens-1), uint16(3), byte(1))
	f.Add("f1\x00i1\x00f1.0\x00b1\x00n\x00s1\x00s'1'", uint16(maxSeenTokens+5), uint16(1), byte(2))
	f.Add("fnan\x00fnan\x00d{\"a\": 1, \"b\": 2}\x00d{\"b\": 2, \"a\": 1}", uint16(3*maxSeenTokens), uint16(1000), byte(3))
	f.Add("l[1, 2]\x00t[1, 2]\x00I123456789012345678901234567890", uint16(100), uint16(50000), byte(0))
	f.Fuzz(func(t *testing.T, text string, mu, lambda uint16, kind byte) {
		// The tokens of text, each "<kind><text>".
		var c tokenCycle
		var earlier []string
		for i, s := range strings.Split(text, "\x00") {
			tok := fuzzToken(s)
			r := interpolation.Repr(tok)
			seen := false
			for _, e := range earlier {
				seen = seen || e == r
			}
			if got := c.visit(tok); got != seen {
				t.Fatalf("token %d %s: visit = %v, requested before: %v (%q)", i, r, got, seen, earlier)
			}
			earlier = append(earlier, r)
		}

		// mu distinct tokens, then a cycle of lambda.
		m, l := int(mu), max(int(lambda), 1)
		if m+l > 4*maxSeenTokens {
			l = 4*maxSeenTokens - m
		}
		token := func(i int) value {
			switch kind % 4 {
			case 0:
				return int64(i)
			case 1:
				return fmt.Sprintf("cursor-%d", i)
			case 2:
				return float64(i) + 0.5
			}
			d := interpolation.NewDict(1)
			d.Set("page", int64(i))
			return d
		}
		c = tokenCycle{}
		limit := 2*(m+l) + l + 2
		n := 0
		for i := 0; n < limit; n++ {
			if c.visit(token(i)) {
				break
			}
			if i++; i == m+l {
				i = m
			}
		}
		switch {
		case n < m+l:
			t.Fatalf("%d distinct tokens, then a cycle of %d: stopped at token %d, a first request", m, l, n)
		case m+l <= maxSeenTokens && n != m+l:
			t.Fatalf("%d distinct tokens, then a cycle of %d: stopped at token %d, not at its first repeat", m, l, n)
		case n == limit:
			t.Fatalf("%d distinct tokens, then a cycle of %d: not stopped after %d tokens", m, l, n)
		}
		if len(c.seen) > maxSeenTokens {
			t.Fatalf("%d token hashes kept", len(c.seen))
		}
	})
}

// fuzzToken makes a page token from "<kind><text>": i int, I big int, f
// float, b bool, n None, d dict and l list (from JSON), t tuple, s string.
func fuzzToken(s string) value {
	if s == "" {
		return ""
	}
	k, rest := s[0], s[1:]
	switch k {
	case 'i':
		var n int64
		if _, err := fmt.Sscan(rest, &n); err == nil {
			return n
		}
	case 'I':
		if n, ok := new(big.Int).SetString(rest, 10); ok {
			return n
		}
	case 'f':
		var x float64
		if _, err := fmt.Sscan(rest, &x); err == nil || strings.EqualFold(rest, "nan") {
			if strings.EqualFold(rest, "nan") {
				x = math.NaN()
			}
			return x
		}
	case 'b':
		return rest == "1"
	case 'n':
		return nil
	case 'd', 'l', 't':
		if v, err := interpolation.DecodeJSON([]byte(rest)); err == nil {
			if l, ok := v.([]value); ok && k == 't' {
				return interpolation.Tuple(l)
			}
			return v
		}
	}
	return rest
}
