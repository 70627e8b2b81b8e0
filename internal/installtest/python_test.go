package installtest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/source"
)

// TestPythonInstallVersionUninstall: Install creates the venv and installs
// the package from a local path; another pinned version is detected and
// installed (by Install, and by the first command of a Source); Uninstall
// removes the venv; Version says what is installed.
func TestPythonInstallVersionUninstall(t *testing.T) {
	testenv.NeedPython(t)
	ctx := context.Background()
	root := t.TempDir()
	logs := t.TempDir()
	v1, v2 := testenv.PythonPackage(t, "0.1.0"), testenv.PythonPackage(t, "0.2.0")
	newSrc := func(pipURL string, opts ...connector.Option) *source.Source {
		t.Helper()
		src, err := source.New(ctx, "source-pytest", append([]connector.Option{connector.WithPipURL(pipURL), connector.WithPython(testenv.SystemPython),
			connector.WithInstallRoot(root), connector.WithLogDir(logs), connector.WithConfig(map[string]any{"count": 4})}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	venv := filepath.Join(root, ".venv-source-pytest")

	src := newSrc(v1, connector.WithInstallIfMissing(false))
	var ni *executor.NotInstalledError
	if _, err := src.Spec(ctx); !errors.As(err, &ni) {
		t.Fatalf("before Install, with installing off: want *NotInstalledError, got %v", err)
	}
	if err := src.Install(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(venv, "bin", "source-pytest")); err != nil {
		t.Fatalf("Install made no entry point: %v", err)
	}
	if v := src.Version(ctx); v != "0.1.0" {
		t.Fatalf("Version after installing 0.1.0 = %q", v)
	}
	if n := countRecords(t, src, "items"); n != 4 {
		t.Fatalf("read %d items, want 4", n)
	}

	// Version 0.2.0 asked for while 0.1.0 is installed: the first command
	// replaces it.
	src2 := newSrc(v2, connector.WithVersion("0.2.0"))
	if v := src2.Version(ctx); v != "0.1.0" {
		t.Fatalf("Version before the mismatch is fixed = %q, want the installed 0.1.0", v)
	}
	if n := countRecords(t, src2, "items"); n != 4 {
		t.Fatalf("read %d items, want 4", n)
	}
	if v := src2.Version(ctx); v != "0.2.0" {
		t.Fatalf("Version after a command pinned to 0.2.0 = %q", v)
	}
	// And back with Install.
	src3 := newSrc(v1, connector.WithVersion("0.1.0"))
	if err := src3.Install(ctx); err != nil {
		t.Fatal(err)
	}
	if v := src3.Version(ctx); v != "0.1.0" {
		t.Fatalf("Version after Install of 0.1.0 = %q", v)
	}

	if err := src3.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(venv); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Uninstall left %s: %v", venv, err)
	}
	// Not installed and pinned: the version asked for.
	if v := src3.Version(ctx); v != "0.1.0" {
		t.Fatalf("Version when uninstalled = %q, want the requested 0.1.0", v)
	}
	if v := src.Version(ctx); v != "" {
		t.Fatalf("Version when uninstalled and not pinned = %q, want \"\"", v)
	}
}

// TestPythonThroughRegistryEntry: with no execution method, a connector
// whose registry entry has an enabled PyPI package is installed with pip
// into a venv — from a local wheel directory standing in for PyPI — in the
// pinned version.
func TestPythonThroughRegistryEntry(t *testing.T) {
	testenv.NeedPython(t)
	ctx := context.Background()
	wheels := t.TempDir()
	for _, v := range []string{"0.1.0", "0.2.0"} {
		out, err := exec.Command(testenv.SystemPython, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-index",
			"--disable-pip-version-check", "-w", wheels, testenv.PythonPackage(t, v)).CombinedOutput()
		if err != nil {
			t.Fatalf("building the %s wheel: %v\n%s", v, err, out)
		}
	}
	t.Setenv("PIP_NO_INDEX", "1")
	t.Setenv("PIP_FIND_LINKS", wheels)
	useRegistry(t, entry{kind: "source", repo: "airbyte/source-pytest", tag: "0.2.0", language: "python", pypi: "source-pytest"})
	cleanPath(t) // python3 is then /usr/bin/python3
	root := t.TempDir()

	src, err := source.New(ctx, "source-pytest", connector.WithVersion("0.1.0"), connector.WithInstallRoot(root),
		connector.WithConfig(map[string]any{"count": 2}), connector.WithLogDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if m := core.ConnOf(src.Connector).Executor().Method(); m.Kind != executor.KindPython || m.InstallRoot != root {
		t.Fatalf("resolved to %s, want a Python venv under %s", src, root)
	}
	if n := countRecords(t, src, "items"); n != 2 {
		t.Fatalf("read %d items, want 2", n)
	}
	if v := src.Version(ctx); v != "0.1.0" {
		t.Fatalf("Version = %q, want the pinned 0.1.0", v)
	}
	// "latest" pins nothing: what is installed is used.
	latest, err := source.New(ctx, "source-pytest", connector.WithVersion("latest"), connector.WithInstallRoot(root), connector.WithLogDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := latest.Spec(ctx); err != nil {
		t.Fatal(err)
	}
	if v := latest.Version(ctx); v != "0.1.0" {
		t.Fatalf("Version with latest = %q, want the installed 0.1.0", v)
	}
}
