// Package leaktest_test checks that the library's operations, repeated,
// leave no goroutine, file descriptor, process, container or memory behind:
// a sync server runs them for weeks. The tests count what their own process
// holds, so they run in a test binary of their own, apart from the root
// package's tests and their children.
package leaktest_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	if path := os.Getenv(openDuckDBEnv); path != "" { // see reopens
		if err := openDuckDB(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	defer testenv.Teardown()
	// A test that reads into the default Environment's default cache
	// writes under a directory of its own, not the package's.
	work, err := os.MkdirTemp("", "goairbyte-leaktest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	goairbyte.DefaultEnvironment().SetCacheDir(work)
	return m.Run()
}
