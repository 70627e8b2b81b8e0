// Package leaktest_test checks that the library's operations, repeated,
// leave no goroutine, file descriptor, process, container or memory behind:
// a sync server runs them for weeks. The tests count what their own process
// holds, so they run in a test binary of their own, apart from the root
// package's tests and their children, and each test runs in a process of
// its own (see isolate).
package leaktest_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

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

// isolatedEnv, set, says that this process runs one test for isolate.
const isolatedEnv = "GOAIRBYTE_LEAKTEST_ISOLATED"

// isolate runs t's test alone in a new process of this test binary, in
// parallel with the other tests (as many at once as -test.parallel lets),
// and passes on its outcome and output: it then returns true, and the
// test returns. In that process it returns false, and the test runs.
//
// A leak test counts what its process holds, so two may not run in one
// process at once; each in a process of its own, they can. Most of a leak
// test is waiting (for a process or container to start or stop, a grace
// period, the progress ticker that cancels a read), so two at a time take
// two thirds of the time of one after the other (110 s against 162 s on a
// shared 2-core machine at a load of 2 to 4). Every test calls it first;
// env is added to the process's environment.
func isolate(t *testing.T, env ...string) bool {
	t.Helper()
	if os.Getenv(isolatedEnv) != "" {
		return false
	}
	t.Parallel()
	run := "^" + t.Name() + "$"
	if f := flag.Lookup("test.run"); f != nil {
		if _, sub, ok := strings.Cut(f.Value.String(), "/"); ok {
			run += "/" + sub // -run's pattern of subtests
		}
	}
	args := []string{"-test.run=" + run, "-test.v", "-test.count=1"}
	if deadline, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout="+time.Until(deadline).Round(time.Second).String())
	}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), env...), isolatedEnv+"=1")
	out, err := cmd.CombinedOutput()
	switch {
	case err != nil:
		t.Fatalf("%s, in a process of its own: %v\n%s", t.Name(), err, out)
	case strings.Contains(string(out), "--- SKIP: "+t.Name()+" "):
		t.Skipf("%s", out)
	case !strings.Contains(string(out), "--- PASS: "+t.Name()+" "):
		t.Fatalf("%s did not run in its process:\n%s", t.Name(), out)
	}
	t.Logf("%s", out)
	return true
}

// sharedPostgres is isolate's env for a test that uses PostgreSQL: its
// process makes its databases on this binary's server, started once,
// rather than starting a server of its own.
func sharedPostgres(t *testing.T) string {
	return testenv.PostgresDSNEnv + "=" + testenv.PostgresServer(t)
}
