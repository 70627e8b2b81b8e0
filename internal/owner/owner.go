// Package owner names temporary files and directories after the process
// that owns them, so that the next process can remove what a process
// killed with -9 left behind: a name is a prefix, the owner's pid and a
// dash ("goairbyte-1234-…"), and Sweep removes those of owners that no
// longer run.
package owner

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/x/goairbyte/internal/airbytedirs"
)

// Prefix is the start of a temporary name owned by this process: prefix,
// then this process's pid and a dash.
func Prefix(prefix string) string { return prefix + strconv.Itoa(os.Getpid()) + "-" }

// PID returns the owner's pid in a temporary name made with Prefix(prefix).
func PID(name, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(digits)
	return pid, err == nil && pid > 0
}

// Alive reports whether a process with this pid runs on this host; a
// zombie (dead, not yet reaped by its parent) does not.
func Alive(pid int) bool { return pid > 0 && alive(pid) }

// Sweep calls remove with the path of every directory in the temporary
// directories (airbytedirs.TempDirs: $AIRBYTE_TEMP_DIR and the system's)
// whose name was made with Prefix(prefix) by a process that no longer
// runs, and returns how many there were.
func Sweep(prefix string, remove func(path string)) int {
	n := 0
	for _, dir := range airbytedirs.TempDirs() {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if pid, ok := PID(e.Name(), prefix); ok && e.IsDir() && pid != os.Getpid() && !Alive(pid) {
				remove(filepath.Join(dir, e.Name()))
				n++
			}
		}
	}
	return n
}
