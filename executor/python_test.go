package executor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

func TestPython(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	ctx := context.Background()
	root := t.TempDir()
	python := func(version string, rt executor.Runtime) executor.Executor {
		rt.LogDir = t.TempDir()
		return build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: root,
			Interpreter: testenv.SystemPython, Requirement: testenv.PythonPackage(t, version), Version: version}, rt)
	}

	// Not installed, and not allowed to install.
	p := python("0.1.0", executor.Runtime{NoInstall: true})
	if venvOf(p) != filepath.Join(root, ".venv-source-pytest") {
		t.Fatalf("venv at %s", venvOf(p))
	}
	_, err := collect(p.Run(ctx, executor.Invocation{Verb: executor.VerbSpec}))
	var nie *executor.NotInstalledError
	if !errors.As(err, &nie) {
		t.Fatalf("want a *NotInstalledError, got %v", err)
	}

	// Installed on first use.
	p = python("0.1.0", executor.Runtime{})
	msgs, err := collect(p.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(`{"count":5}`), Catalog: itemsCatalog}))
	if err != nil {
		t.Fatal(err)
	}
	if count(msgs, protocol.TypeRecord) != 5 || count(msgs, protocol.TypeState) != 1 {
		t.Fatalf("got %+v", msgs)
	}
	if v, err := installedVersion(t, p); err != nil || v != "0.1.0" {
		t.Fatalf("installed version %q, %v", v, err)
	}

	// Another version requested: detected and reinstalled.
	p2 := python("0.2.0", executor.Runtime{})
	if err := p2.Install(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := installedVersion(t, p2); err != nil || v != "0.2.0" {
		t.Fatalf("after reinstall: version %q, %v", v, err)
	}
	msgs, err = collect(p2.Run(ctx, executor.Invocation{Verb: executor.VerbCheck, Config: json.RawMessage(`{"fail":true}`)}))
	if err != nil || len(msgs) != 1 || msgs[0].ConnectionStatus == nil || msgs[0].ConnectionStatus.Status != "FAILED" {
		t.Fatalf("check: %+v, %v", msgs, err)
	}

	if err := p2.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(venvOf(p2)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the venv is still there: %v", err)
	}
}

// TestPythonInterpreterNotOnPath: with no such interpreter (a PATH
// without python3) the error says so plainly, without the empty output of
// a command that never ran.
func TestPythonInterpreterNotOnPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: dir,
		Interpreter: "python3-goairbyte-missing"}, executor.Runtime{LogDir: t.TempDir()})
	err := p.Install(context.Background())
	var nie *executor.NotInstalledError
	if !errors.As(err, &nie) || !strings.Contains(err.Error(), "the interpreter python3-goairbyte-missing is not on PATH") ||
		strings.Contains(err.Error(), ": )") {
		t.Fatalf("got %v, want a *NotInstalledError saying the interpreter is not on PATH", err)
	}
}

// TestPythonWithoutWheel: installing a local package with an interpreter
// whose venv has no wheel module fails with pip's "See above" only; the
// error now says what is missing and which interpreter made the venv.
func TestPythonWithoutWheel(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	dir := t.TempDir()
	// An interpreter that makes venvs without the system's packages, so
	// that the venv has setuptools (from ensurepip) but no wheel.
	py := filepath.Join(dir, "python-nowheel")
	script := "#!/bin/bash\nargs=()\nfor a in \"$@\"; do [[ $a == --system-site-packages ]] || args+=(\"$a\"); done\nexec " +
		testenv.SystemPython + " \"${args[@]}\"\n"
	if err := os.WriteFile(py, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: dir,
		Interpreter: py, Requirement: testenv.PythonPackage(t, "0.1.0")}, executor.Runtime{LogDir: t.TempDir()})
	err := p.Install(context.Background())
	var nie *executor.NotInstalledError
	if !errors.As(err, &nie) || !strings.Contains(err.Error(), "has no wheel module") || !strings.Contains(err.Error(), py) {
		t.Fatalf("got %v, want a *NotInstalledError naming the missing wheel module and %s", err, py)
	}
}

// TestPythonInterruptedVenv: an install interrupted while venv installed
// pip (its slow last step) leaves bin/python and a partial pip package that
// shadows the system's. Install used to take the venv as made, and every
// install failed in it until the user removed it; it is made again.
func TestPythonInterruptedVenv(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	root := t.TempDir()
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: root,
		Interpreter: testenv.SystemPython, Requirement: testenv.PythonPackage(t, "0.1.0")}, executor.Runtime{LogDir: t.TempDir()})
	venv := venvOf(p)
	if out, err := exec.Command(testenv.SystemPython, "-m", "venv", "--system-site-packages", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Fatalf("making the venv: %v: %s", err, out)
	}
	site, err := filepath.Glob(filepath.Join(venv, "lib", "python3*", "site-packages"))
	if err != nil || len(site) != 1 {
		t.Fatalf("the venv's site-packages: %v %v", site, err)
	}
	// What ensurepip had unpacked when it was killed: pip's package,
	// without the rest of its files.
	if err := os.MkdirAll(filepath.Join(site[0], "pip"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site[0], "pip", "__init__.py"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Install(context.Background()); err != nil {
		t.Fatalf("install over an interrupted venv: %v", err)
	}
	msgs, err := collect(p.Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec}))
	if err != nil || count(msgs, protocol.TypeSpec) != 1 {
		t.Fatalf("spec: %+v, %v", msgs, err)
	}
}

// TestPythonIndexUnreachable: a connector whose dependency is not on the
// machine, installed where pip cannot reach its index (offline, a proxy
// missing), failed with pip's last lines and the advice to check the pip
// requirement and the interpreter; the error now says the index could not
// be reached and what to do, and keeps pip's own ERROR lines.
func TestPythonIndexUnreachable(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	pkg := testenv.PythonPackage(t, "0.1.0")
	pp := filepath.Join(pkg, "pyproject.toml")
	b, err := os.ReadFile(pp)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("requires-python"), []byte(`dependencies = ["goairbyte-no-such-dependency>=1"]`+"\nrequires-python"), 1)
	if err := os.WriteFile(pp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// Nothing listens on port 1: unreachable at once, offline or not.
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: t.TempDir(),
		Interpreter: testenv.SystemPython, Requirement: pkg,
		Env: []string{"PIP_INDEX_URL=http://127.0.0.1:1/simple", "PIP_RETRIES=1", "PIP_EXTRA_INDEX_URL=", "PIP_FIND_LINKS="}},
		executor.Runtime{LogDir: t.TempDir()})
	err = p.Install(context.Background())
	if !errors.Is(err, executor.ErrNotInstalled) {
		t.Fatalf("want ErrNotInstalled, got %v", err)
	}
	for _, w := range []string{"No matching distribution found for goairbyte-no-such-dependency", "could not reach", "PIP_INDEX_URL"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error does not say %q: %v", w, err)
		}
	}
}

// TestPythonInterpreterGone: a venv whose interpreter is gone (the
// system's Python upgraded or removed: the venv's bin/python3 links to
// nothing) still has its entry point, so it passed for installed: every run
// failed to start, and Install did nothing. A run with installing allowed
// now makes the venv again, and one without says what is missing.
func TestPythonInterpreterGone(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	root := t.TempDir()
	python := func(rt executor.Runtime) executor.Executor {
		rt.LogDir = t.TempDir()
		return build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: root,
			Interpreter: testenv.SystemPython, Requirement: testenv.PythonPackage(t, "0.1.0")}, rt)
	}
	p := python(executor.Runtime{})
	if err := p.Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(venvOf(p), "bin")
	target, err := os.Readlink(filepath.Join(bin, "python3"))
	if err != nil || !filepath.IsAbs(target) {
		t.Fatalf("the venv's python3 should link to the system's interpreter: %q, %v", target, err)
	}
	gone := filepath.Join(t.TempDir(), "python3.0")
	if err := os.Remove(filepath.Join(bin, "python3")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(gone, filepath.Join(bin, "python3")); err != nil {
		t.Fatal(err)
	}

	_, err = collect(python(executor.Runtime{NoInstall: true}).Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec}))
	if !errors.Is(err, executor.ErrNotInstalled) || !strings.Contains(err.Error(), filepath.Join(bin, "python")) {
		t.Fatalf("without installing: want ErrNotInstalled naming the venv's interpreter, got %v", err)
	}
	msgs, err := collect(p.Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec}))
	if err != nil || count(msgs, protocol.TypeSpec) != 1 {
		t.Fatalf("with installing: want the venv made again and a SPEC, got %+v, %v", msgs, err)
	}
}

// TestPythonTwoVersionsOneRoot: two executors pinned to two versions of one
// connector share its venv (<root>/.venv-<name>). Each installed its
// version once and then ran whatever the venv held: the first ran the
// second's version, silently. A pinned run now finds the venv changed since
// it checked, and installs its version again (or, not allowed to install,
// says which version is there).
func TestPythonTwoVersionsOneRoot(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	root := t.TempDir()
	python := func(version string, rt executor.Runtime) executor.Executor {
		rt.LogDir = t.TempDir()
		return build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: root,
			Interpreter: testenv.SystemPython, Requirement: testenv.PythonPackage(t, version), Version: version}, rt)
	}
	ctx := context.Background()
	spec := func(p executor.Executor) error {
		msgs, err := collect(p.Run(ctx, executor.Invocation{Verb: executor.VerbSpec}))
		if err == nil && count(msgs, protocol.TypeSpec) != 1 {
			t.Fatalf("want a SPEC, got %+v", msgs)
		}
		return err
	}
	one, two := python("0.1.0", executor.Runtime{}), python("0.2.0", executor.Runtime{})
	oneStrict := python("0.1.0", executor.Runtime{NoInstall: true})
	if err := spec(one); err != nil {
		t.Fatal(err)
	}
	if err := spec(oneStrict); err != nil {
		t.Fatal(err)
	}
	if err := spec(two); err != nil {
		t.Fatal(err)
	}
	if v, err := installedVersion(t, two); err != nil || v != "0.2.0" {
		t.Fatalf("after the 0.2.0 run: %q, %v", v, err)
	}
	err := spec(oneStrict)
	if !errors.Is(err, executor.ErrNotInstalled) || !strings.Contains(err.Error(), "0.2.0") || !strings.Contains(err.Error(), "0.1.0") {
		t.Fatalf("a 0.1.0 run not allowed to install over 0.2.0: want ErrNotInstalled naming both versions, got %v", err)
	}
	if err := spec(one); err != nil {
		t.Fatal(err)
	}
	if v, err := installedVersion(t, one); err != nil || v != "0.1.0" {
		t.Fatalf("the 0.1.0 run ran %q (%v)", v, err)
	}
}

// TestPythonBuildFailureSaysWhy: a package whose build fails (a setup.py
// that needs a system library, say) made pip end with "See above for
// output" and notes; those last lines were all the error kept. It now
// keeps the build's own last lines, which pip frames as "[N lines of
// output] … [end of output]".
func TestPythonBuildFailureSaysWhy(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	pkg := testenv.PythonPackage(t, "0.1.0")
	const why = "source-pytest needs libgoairbyte-dev to build: apt-get install libgoairbyte-dev"
	if err := os.WriteFile(filepath.Join(pkg, "setup.py"), []byte("raise SystemExit('"+why+"')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: t.TempDir(),
		Interpreter: testenv.SystemPython, Requirement: pkg}, executor.Runtime{LogDir: t.TempDir()})
	err := p.Install(context.Background())
	if !errors.Is(err, executor.ErrNotInstalled) || !strings.Contains(err.Error(), why) {
		t.Fatalf("want ErrNotInstalled with the build's own words %q, got %v", why, err)
	}
}

// TestPythonRequirementOfAnotherVersion: a pip requirement (a local path)
// that installs another version than the one pinned was reported as a
// missing entry point, which was there, with a "(<nil>)" at the end; the
// error now says which version the requirement installs and what to change.
func TestPythonRequirementOfAnotherVersion(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	req := testenv.PythonPackage(t, "0.1.0")
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: t.TempDir(),
		Interpreter: testenv.SystemPython, Requirement: req, Version: "0.2.0"}, executor.Runtime{LogDir: t.TempDir()})
	err := p.Install(context.Background())
	var nie *executor.NotInstalledError
	if !errors.As(err, &nie) {
		t.Fatalf("want a *NotInstalledError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"version 0.2.0", req + " installs version 0.1.0", "WithVersion"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "entry point") || strings.Contains(msg, "<nil>") {
		t.Errorf("the error speaks of a missing entry point or a nil error: %s", msg)
	}
}

// TestPythonRequirementPathMissing: a pip requirement that is a local path
// that does not exist (a typo) was found out by pip only after the venv was
// made, some ten seconds later, and left that empty venv behind; it is now
// refused at once, naming the path, and nothing is created.
func TestPythonRequirementPathMissing(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	root := t.TempDir()
	for _, req := range []string{filepath.Join(t.TempDir(), "source-typo"), "./source-typo", "../source-typo"} {
		p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: root,
			Interpreter: testenv.SystemPython, Requirement: req}, executor.Runtime{LogDir: t.TempDir()})
		err := p.Install(context.Background())
		var nie *executor.NotInstalledError
		if !errors.As(err, &nie) || !strings.Contains(err.Error(), req+" does not exist") {
			t.Errorf("requirement %s: want a *NotInstalledError saying the path does not exist, got %v", req, err)
		}
		if _, err := os.Stat(venvOf(p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("requirement %s: a venv was made: %v", req, err)
		}
	}
}

// TestPythonInstallCancelled: a context cancelled while the venv was made
// or pip ran gave "not installed ... (creating the venv: signal: killed);
// check the pip requirement", an error that did not match the context's and
// sent the user to a requirement that was fine.
func TestPythonInstallCancelled(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: t.TempDir(),
		Interpreter: testenv.SystemPython, Requirement: testenv.PythonPackage(t, "0.1.0")}, executor.Runtime{LogDir: t.TempDir()})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := p.Install(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "cancelled") ||
		strings.Contains(err.Error(), "check the pip requirement") {
		t.Fatalf("got %v, want an error matching the context's, saying the install was cancelled", err)
	}
}

// TestPythonNoConsoleScriptOfTheName: a package whose console script is not
// named after the connector said only that it had none of that name; it now
// names those it has, one of which is most often the connector meant.
func TestPythonNoConsoleScriptOfTheName(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	p := build[executor.Executor](t, "source-pytest-other", executor.Method{Kind: executor.KindPython, InstallRoot: t.TempDir(),
		Interpreter: testenv.SystemPython, Requirement: testenv.PythonPackage(t, "0.1.0")}, executor.Runtime{LogDir: t.TempDir()})
	err := p.Install(context.Background())
	var nie *executor.NotInstalledError
	if !errors.As(err, &nie) || !strings.Contains(err.Error(), `no console script "source-pytest-other"`) ||
		!strings.Contains(err.Error(), "source-pytest: a connector is named after its console script") || strings.Contains(err.Error(), "pip3") {
		t.Fatalf("got %v, want a *NotInstalledError naming the console script the package has (source-pytest), and no pip", err)
	}
}

// TestPythonRequirementNotAProject: a local path that is no Python project
// (neither setup.py nor pyproject.toml) failed with pip's own words, that
// say so, followed by advice to install the wheel module, which had nothing
// to do with it; the advice is for projects only.
func TestPythonRequirementNotAProject(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	dir := t.TempDir()
	// An interpreter whose venvs have no wheel module, as in
	// TestPythonWithoutWheel: the advice used to follow any failure then.
	py := filepath.Join(t.TempDir(), "python-nowheel")
	script := "#!/bin/bash\nargs=()\nfor a in \"$@\"; do [[ $a == --system-site-packages ]] || args+=(\"$a\"); done\nexec " +
		testenv.SystemPython + " \"${args[@]}\"\n"
	if err := os.WriteFile(py, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: t.TempDir(),
		Interpreter: py, Requirement: dir}, executor.Runtime{LogDir: t.TempDir()})
	err := p.Install(context.Background())
	var nie *executor.NotInstalledError
	if !errors.As(err, &nie) || !strings.Contains(err.Error(), "pyproject.toml") || strings.Contains(err.Error(), "module") {
		t.Fatalf("got %v, want pip's words on a directory that is no project, and no advice on modules", err)
	}
}
