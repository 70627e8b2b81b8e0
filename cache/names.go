package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// NormalizeName turns a stream or field name into a SQL identifier the way
// PyAirbyte does: lower case, every character outside [a-z0-9_] becomes
// "_", and a leading digit gets a "_" prefix. A name that is empty or made
// only of underscores after that is an error, because it would name nothing
// a user could recognise.
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
		return "", &NameError{Name: name, Reason: "it has no letter or digit once normalised"}
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

// Quote quotes an identifier for SQL with double quotes, doubling any quote
// inside. Every identifier the cache writes goes through it, so no stream or
// field name can inject SQL.
func Quote(ident string) string {
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

// quoteLiteral quotes a string literal for SQL.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// NameError reports a stream or field name that cannot become a SQL
// identifier.
type NameError struct {
	Name   string
	Reason string
}

// Error says which name cannot be used and why.
func (e *NameError) Error() string {
	return fmt.Sprintf("cache: name %q cannot be used as a SQL identifier: %s; rename it in the connector or exclude it", e.Name, e.Reason)
}

// CollisionError reports two names that normalise to the same identifier.
// The cache refuses to merge them silently.
type CollisionError struct {
	Kind       string // "stream" or "field"
	First      string
	Second     string
	Identifier string
}

// Error names both colliding names and their identifier.
func (e *CollisionError) Error() string {
	if e.Kind == "stream" && e.First == e.Second {
		// Only namespaces tell such streams apart, and neither stream
		// selection nor the cache's tables look at namespaces.
		return fmt.Sprintf("cache: the catalog has two streams named %q (in different namespaces); a cache keeps one table per stream name and cannot hold both", e.First)
	}
	return fmt.Sprintf("cache: %s names %q and %q both normalise to the identifier %q; deselect one of them or use a table prefix/another cache", e.Kind, e.First, e.Second, e.Identifier)
}
