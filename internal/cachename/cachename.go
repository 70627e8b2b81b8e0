// Package cachename names the local DuckDB caches the root package opens
// (goairbyte.NewLocalCache and the default cache): which names are valid,
// a fresh name for a caller that gave none, and the file a name is kept
// in. It is shared by the root package and the test helpers that open a
// default cache of their own.
package cachename

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/oklog/ulid/v2"
)

var validName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// Validate checks the name of a named local cache (see [Path]): letters,
// digits and underscores only. An empty name is valid (callers then use
// [New]).
func Validate(name string) error {
	if name != "" && !validName.MatchString(name) {
		return fmt.Errorf("duckdb: cache name %q is not valid: use only letters, digits and underscores", name)
	}
	return nil
}

// New returns a fresh cache name ("cache_" and a lower-case ULID) for callers that
// were given none.
func New() string { return "cache_" + strings.ToLower(ulid.Make().String()) }

// Path is the database file of a named cache in dir: dir/name/name.duckdb,
// the layout of the default cache (Path(".cache", "default_cache")).
func Path(dir, name string) string { return filepath.Join(dir, name, name+".duckdb") }
