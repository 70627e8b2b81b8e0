//go:build unix

package executor_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// TestPythonReadOnlyRootChild runs the installed connector of the install
// root READONLY_CHILD_ROOT, which it may not write, without installing,
// then tries to uninstall it.
func TestPythonReadOnlyRootChild(t *testing.T) {
	root := os.Getenv("READONLY_CHILD_ROOT")
	if root == "" {
		t.Skip("run by TestPythonReadOnlyRoot")
	}
	runReadOnly(t, root, os.Getenv("READONLY_CHILD_LOGS"))
}

func runReadOnly(t *testing.T, root, logs string) {
	t.Helper()
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: root},
		executor.Runtime{LogDir: logs, NoInstall: true})
	msgs, err := collect(p.Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec}))
	if err != nil || count(msgs, protocol.TypeSpec) != 1 {
		t.Fatalf("spec from an install root we may not write: %+v, %v", msgs, err)
	}
	// Changing the venv is refused for what it is: the venv was said to
	// be "in use (by another install, or by a run of the connector)".
	err = p.Uninstall(context.Background())
	if err == nil || strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), "not writable") ||
		!strings.Contains(err.Error(), root) {
		t.Fatalf("uninstall from an install root we may not write: want an error saying %s is not writable, got %v", root, err)
	}
}

// A connector installed where its user may not write (venvs made in an
// image at build time, run as another user; a read-only file system) could
// not run at all: each run takes a shared lock of the venv, and opening
// the lock file for it failed ("permission denied"). It runs, and an
// uninstall fails saying the root is not writable.
func TestPythonReadOnlyRoot(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	base := t.TempDir()
	root := filepath.Join(base, "connectors")
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: root,
		Interpreter: testenv.SystemPython, Requirement: testenv.PythonPackage(t, "0.1.0")}, executor.Runtime{LogDir: t.TempDir()})
	if err := p.Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != 0 {
		// Not root: a root we may not write is one without the w bit, and
		// its lock file one we cannot create there.
		if err := os.Remove(venvOf(p) + ".lock"); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(root, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(root, 0o755) })
		runReadOnly(t, root, t.TempDir())
		return
	}
	// Root writes anywhere: the child runs as nobody, from a copy of this
	// test binary that nobody may execute, in directories it may read.
	bin := filepath.Join(base, "executor.test")
	copyFile(t, os.Args[0], bin, 0o755)
	temp := filepath.Join(base, "tmp")
	if err := os.Mkdir(temp, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Dir(base), base, temp} {
		if err := os.Chmod(d, map[bool]os.FileMode{true: 0o777, false: 0o755}[d == temp]); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-test.run=^TestPythonReadOnlyRootChild$", "-test.v")
	cmd.Env = append(os.Environ(), "READONLY_CHILD_ROOT="+root, "READONLY_CHILD_LOGS="+filepath.Join(temp, "logs"),
		"TMPDIR="+temp, "HOME="+temp)
	cmd.Dir = temp
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody to run the child as: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the child, as nobody: %v\n%s", err, out)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
