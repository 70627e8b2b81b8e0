package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Lookup finds a connector by name ("source-github") or Docker repository
// ("airbyte/source-github"). Built-in connectors resolve without loading
// anything. An unknown name is a *[NotFoundError] with close matches; the
// name of an entry skipped as malformed is an error that says what is
// wrong with the entry, and a registry that can be neither fetched nor
// read from the disk cache one that says how to work offline.
func (l *Loader) Lookup(ctx context.Context, name string) (*Connector, error) {
	name = strings.TrimSpace(name)
	if c := builtins.lookup(name); c != nil {
		return c, nil
	}
	reg, err := l.current(ctx)
	if err != nil {
		return nil, err
	}
	if c := reg.lookup(name); c != nil {
		return c, nil
	}
	if me := reg.malformedEntry(name); me != nil {
		return nil, me
	}
	return nil, &NotFoundError{Name: name, Registry: reg.Source, Suggestions: closeMatches(name, reg.names())}
}

// Available lists the connectors that support t, sorted by name.
func (l *Loader) Available(ctx context.Context, t InstallType) ([]*Connector, error) {
	if _, err := ParseInstallType(string(t)); err != nil {
		return nil, err
	}
	reg, err := l.current(ctx)
	if err != nil {
		return nil, err
	}
	return reg.connectors(t), nil
}

// NotFoundError says that no connector has the name asked for.
type NotFoundError struct {
	Name        string   // the connector name asked for, trimmed of spaces
	Registry    string   // where the registry came from
	Suggestions []string // close names, best first
}

// Error names the connector and suggests close names.
func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("connector %q is not in the registry (%s)", e.Name, e.Registry)
	if e.Registry == builtinSource {
		// Offline with a cold disk cache: only goairbyte's own connectors
		// are known, which "not in the registry" alone did not say.
		msg = fmt.Sprintf("connector %q is not one of goairbyte's built-in connectors, the only ones known with %s set "+
			"when no copy of Airbyte's registry is cached: set %s to a registry file, or run once online to cache the registry",
			e.Name, envOfflineMode, envLocalRegistry)
	}
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + strings.Join(e.Suggestions, ", ") + "?"
	} else {
		msg += "; list the known connectors with AvailableConnectors, or give the connector an explicit executable or Docker image"
	}
	return msg
}

// closeMatches returns up to five names close to name: by edit distance, or
// containing it ("github" → "source-github").
func closeMatches(name string, names []string) []string {
	type scored struct {
		name string
		d    int
	}
	var out []scored
	lower := strings.ToLower(name)
	limit := max(2, len(name)/3)
	for _, n := range names {
		ln := strings.ToLower(n)
		d := distance(lower, ln)
		if d > limit && len(lower) >= 3 && strings.Contains(ln, lower) {
			d = limit // a fragment of the name is a good guess
		}
		if d <= limit {
			out = append(out, scored{n, d})
		}
	}
	slices.SortFunc(out, func(a, b scored) int {
		if a.d != b.d {
			return a.d - b.d
		}
		return strings.Compare(a.name, b.name)
	})
	var res []string
	for i := 0; i < len(out) && i < 5; i++ {
		res = append(res, out[i].name)
	}
	return res
}

// distance is the Levenshtein edit distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
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
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
