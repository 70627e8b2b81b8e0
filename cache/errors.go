package cache

import (
	"fmt"
)

// StrategyError reports a write strategy that cannot apply to a stream.
type StrategyError struct {
	// Stream is the stream's name.
	Stream string
	// Strategy is the strategy asked for (or chosen by auto).
	Strategy Strategy
	// Reason says why it cannot apply and what to do instead.
	Reason string
}

// Error says which strategy cannot apply to which stream, and why.
func (e *StrategyError) Error() string {
	return fmt.Sprintf("cache: stream %q cannot be written with strategy %q: %s", e.Stream, e.Strategy, e.Reason)
}

// NameError reports a stream or field name that cannot become a SQL
// identifier.
type NameError struct {
	// Name is the name as the connector spells it.
	Name string
	// Reason says why it cannot be used.
	Reason string
}

// Error says which name cannot be used and why.
func (e *NameError) Error() string {
	return fmt.Sprintf("cache: name %q cannot be used as a SQL identifier: %s; rename it in the connector or exclude it", e.Name, e.Reason)
}

// CollisionError reports two names that normalise to the same identifier,
// or a field whose name is one the cache reserves for its own columns. The
// cache refuses to merge them silently.
type CollisionError struct {
	// Kind is "stream", "field", or "reserved": a field that normalises to
	// one of the cache's own columns (_airbyte_raw_id,
	// _airbyte_extracted_at, _airbyte_meta), whose name is First.
	Kind string
	// First and Second are the two names as the connector spells them.
	First, Second string
	// Identifier is the SQL identifier both normalise to.
	Identifier string
}

// Error names both colliding names and their identifier.
func (e *CollisionError) Error() string {
	if e.Kind == "stream" && e.First == e.Second {
		// Only namespaces tell such streams apart, and neither stream
		// selection nor the cache's tables look at namespaces.
		return fmt.Sprintf("cache: the catalog has two streams named %q (in different namespaces); a cache keeps one table per stream name and cannot hold both", e.First)
	}
	if e.Kind == "reserved" {
		what := fmt.Sprintf("field name %q is", e.Second)
		if e.Second != e.Identifier {
			what = fmt.Sprintf("field %q normalises to %q, which is", e.Second, e.Identifier)
		}
		return "cache: the " + what + " reserved for the cache's own column; exclude the field or rename it in the connector"
	}
	return fmt.Sprintf("cache: %s names %q and %q both normalise to the identifier %q; deselect one of them or use a table prefix/another cache", e.Kind, e.First, e.Second, e.Identifier)
}
