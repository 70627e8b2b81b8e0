package registry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/x/goairbyte/internal/spelling"
)

// Lookup finds a connector by name ("source-github") or Docker repository
// ("airbyte/source-github"). Built-in connectors resolve without loading
// anything. A name the registry does not list resolves to a manifest-only
// source when the manifest directory (GOAIRBYTE_MANIFEST_DIR,
// [WithManifestDir]) holds <dir>/<name>/manifest.yaml, and so does a name
// the directory holds when the registry cannot be loaded. A name in neither
// place is a *[NotFoundError] with close matches; the
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
		// The user's own manifest runs without the registry: a registry
		// unreachable (and not cached) would otherwise refuse it, unless
		// told offline.
		if c := l.manifestDirEntry(name); c != nil && ctx.Err() == nil {
			l.logger.Warn("the connector registry is unavailable: running the source from the manifest directory",
				"connector", name, "dir", l.manifestDir, "error", err)
			return c, nil
		}
		return nil, err
	}
	if c := reg.lookup(name); c != nil {
		return c, nil
	}
	if me := reg.malformedEntry(name); me != nil {
		return nil, me
	}
	if c := l.manifestDirEntry(name); c != nil {
		return c, nil
	}
	names := reg.names()
	if l.manifestDir != "" {
		names = append(names, manifestDirNames(l.manifestDir)...)
		slices.Sort(names)
		names = slices.Compact(names)
	}
	return nil, &NotFoundError{Name: name, Registry: reg.Source, Suggestions: closeMatches(name, names), manifestDir: l.manifestDir}
}

// manifestDirEntry is the entry of a source the registry does not list but
// the manifest directory holds, <dir>/<name>/manifest.yaml: a manifest-only
// source with no image and no package, whose manifest [Loader.Manifest]
// reads from there. nil when there is no directory or no such manifest.
func (l *Loader) manifestDirEntry(name string) *Connector {
	if l.manifestDir == "" || !manifestDirHolds(l.manifestDir, name) {
		return nil
	}
	return &Connector{Name: name, Kind: KindSource, DisplayName: name, Language: "manifest-only", ReleaseStage: "custom",
		Tags: []string{"language:manifest-only", "cdk:low-code"}}
}

// manifestDirHolds reports whether dir has a manifest for name: a file
// <dir>/<name>/manifest.yaml, name being one directory's name (a name
// with a path separator or a dot-dot is not looked for).
func manifestDirHolds(dir, name string) bool {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, name, "manifest.yaml"))
	return err == nil && fi.Mode().IsRegular()
}

// manifestDirNames lists the names dir holds a manifest for, for
// suggestions.
func manifestDirNames(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if e.IsDir() && manifestDirHolds(dir, e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
}

// Available lists the connectors that support t, sorted by name: the
// registry's, and the sources only the manifest directory holds (see
// [Loader.Lookup]). When Airbyte's registry cannot be had (no network, no
// copy cached on disk), it lists what runs without it, as offline mode
// does: the built-in connectors and the manifest directory's sources,
// with a warning to the logger that says why the registry's are missing;
// the next call asks the registry again. A registry given with
// [WithLocalRegistry] or AIRBYTE_LOCAL_REGISTRY that cannot be read is an
// error.
func (l *Loader) Available(ctx context.Context, t InstallType) ([]*Connector, error) {
	if _, err := ParseInstallType(string(t)); err != nil {
		return nil, err
	}
	reg, err := l.current(ctx)
	var ue *unavailableError
	if errors.As(err, &ue) && ctx.Err() == nil {
		l.logger.Warn("the connector registry is unavailable and not cached: listing only the built-in connectors and the manifest directory's sources",
			"url", ue.URL, "error", ue.Err)
		reg, err = builtins, nil
	}
	if err != nil {
		return nil, err
	}
	out := reg.connectors(t)
	if l.manifestDir == "" {
		return out, nil
	}
	n := len(out)
	for _, name := range manifestDirNames(l.manifestDir) {
		if reg.lookup(name) != nil {
			continue
		}
		if c := l.manifestDirEntry(name); c != nil && c.Supports(t) {
			out = append(out, c)
		}
	}
	if len(out) > n {
		slices.SortFunc(out, func(a, b *Connector) int { return strings.Compare(a.Name, b.Name) })
	}
	return out, nil
}

// NotFoundError says that no connector has the name asked for.
type NotFoundError struct {
	Name        string   // the connector name asked for, trimmed of spaces
	Registry    string   // where the registry came from
	Suggestions []string // close names, best first

	manifestDir string // the manifest directory looked in too, "" when none
}

// Error names the connector and where it was looked for (the registry, and
// the manifest directory when one is set), and suggests close names.
func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("connector %q is not in the registry (%s)", e.Name, e.Registry)
	if e.Registry == builtinSource {
		// Offline with a cold disk cache: only goairbyte's own connectors
		// are known, which "not in the registry" alone did not say.
		msg = fmt.Sprintf("connector %q is not one of goairbyte's built-in connectors, the only ones known with %s set "+
			"when no copy of Airbyte's registry is cached (set %s to a registry file, or run once online to cache the registry)",
			e.Name, envOfflineMode, envLocalRegistry)
	}
	if e.manifestDir != "" {
		msg += fmt.Sprintf(" nor in the manifest directory (%s=%s has no %s)", envManifestDir, e.manifestDir,
			filepath.Join(e.Name, "manifest.yaml"))
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
		d := spelling.Distance(lower, ln)
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
