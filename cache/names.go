package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/x/goairbyte/internal/cacheerr"
)

// NormalizeName turns a stream or field name into the SQL identifier the
// cache gives its table or column, the way PyAirbyte does: lower case,
// every character outside [a-z0-9_] becomes "_", and a leading digit gets a
// "_" prefix. A name that is empty or made only of underscores after that
// is an error matching [ErrInvalidName], because it would name nothing a
// user could recognise.
func NormalizeName(name string) (string, error) {
	var b strings.Builder
	b.Grow(len(name) + 1)
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if strings.Trim(s, "_") == "" {
		return "", &cacheerr.NameError{Name: name, Reason: "it has no ASCII letter or digit (every other character becomes \"_\")"}
	}
	if s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s, nil
}

// fitName shortens an identifier to max bytes. A shortened name ends with
// a hash of the full one so that two long names sharing a prefix stay
// distinct; collisions are still checked by the caller.
func fitName(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	h := hex.EncodeToString(sum[:4])
	return s[:max-len(h)-1] + "_" + h
}
