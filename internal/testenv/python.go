package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// pythonCheck runs NeedPython's check of SystemPython once.
var pythonCheck = sync.OnceValue(func() error {
	return exec.Command(SystemPython, "-c", "import venv, ensurepip, setuptools").Run()
})

// SystemPython is Debian's interpreter. With venv, ensurepip and
// setuptools it builds the test connector's venv offline (pip install
// --no-build-isolation from a local path); .ci/run makes sure it has them.
const SystemPython = "/usr/bin/python3"

// NeedPython skips the test when SystemPython cannot build venvs offline
// (fails it under GOAIRBYTE_REQUIRE_PYTHON=1). It asks the interpreter once
// per test binary: importing setuptools takes a quarter of a second of CPU,
// and a package's Python tests call it a score of times.
func NeedPython(t testing.TB) {
	t.Helper()
	if err := pythonCheck(); err != nil {
		unavailable(t, RequirePythonEnv, "%s with venv, ensurepip and setuptools is needed (apt-get install python3-venv python3-setuptools)", SystemPython)
	}
}

// NeedPythonModules returns SystemPython when it imports every module
// named (Python import names), and otherwise skips the test (fails it under
// GOAIRBYTE_REQUIRE_PYTHON=1). Tests that hold an evaluator to CPython and
// Jinja2 as the reference use it: Debian's python3-jinja2 (3.1.2) is the
// Jinja2 line the Python CDK 6.31.1 pins (~3.1.2), python3-dateutil the
// parser of its str_to_datetime and python3-isodate (0.6.1, as pinned) that
// of its ISO 8601 durations.
func NeedPythonModules(t testing.TB, modules ...string) string {
	t.Helper()
	script := "import " + strings.Join(append([]string{"sys"}, modules...), ", ")
	if out, err := exec.Command(SystemPython, "-c", script).CombinedOutput(); err != nil {
		unavailable(t, RequirePythonEnv, "%s cannot import %s (apt-get install python3-jinja2 python3-dateutil python3-isodate): %v: %s",
			SystemPython, strings.Join(modules, ", "), err, strings.TrimSpace(string(out)))
	}
	return SystemPython
}

// PythonPackage copies the stdlib-only test connector package
// (internal/testconnectors/python, console script source-pytest) to a fresh
// directory with the given version, and returns that directory: pip builds
// in place and would litter the source tree.
func PythonPackage(t testing.TB, version string) string {
	t.Helper()
	src := filepath.Join(ModuleRoot(t), "internal", "testconnectors", "python")
	dst := filepath.Join(t.TempDir(), "source-pytest")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	pp := filepath.Join(dst, "pyproject.toml")
	b, err := os.ReadFile(pp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pp, []byte(strings.Replace(string(b), `version = "0.1.0"`, `version = "`+version+`"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}
