package executor_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/filelock"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// TestPythonInstallChild is one process of the tests below: once a line
// arrives on stdin, it installs source-pytest from PYTHON_CHILD_PACKAGE into
// PYTHON_CHILD_ROOT, then runs its spec.
func TestPythonInstallChild(t *testing.T) {
	root := os.Getenv("PYTHON_CHILD_ROOT")
	if root == "" {
		t.Skip("run by TestPythonInstallFromProcesses")
	}
	python := testenv.SystemPython
	if py := os.Getenv("PYTHON_CHILD_INTERPRETER"); py != "" {
		python = py
	}
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: root,
		Interpreter: python, Requirement: os.Getenv("PYTHON_CHILD_PACKAGE")}, executor.Runtime{LogDir: t.TempDir()})
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if err := p.Install(context.Background()); err != nil {
		t.Fatalf("install: %v", err)
	}
	msgs, err := collect(p.Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec}))
	if err != nil || count(msgs, protocol.TypeSpec) != 1 {
		t.Fatalf("spec after install: %+v, %v", msgs, err)
	}
}

// Processes installing one connector into one install root at once (cron
// jobs, a service and a CI job sharing a home directory) all end with it
// installed and runnable.
func TestPythonInstallFromProcesses(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	root, pkg := t.TempDir(), testenv.PythonPackage(t, "0.1.0")
	children := make([]*testenv.Child, 3)
	for i := range children {
		children[i] = testenv.StartChild(t, "TestPythonInstallChild", "ready", "PYTHON_CHILD_ROOT="+root, "PYTHON_CHILD_PACKAGE="+pkg)
	}
	for _, c := range children {
		c.Send("go")
	}
	var wg sync.WaitGroup
	errs := make([]error, len(children))
	for i, c := range children {
		wg.Go(func() { errs[i] = c.Wait() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("process %d: %v\n%s", i, err, children[i].Output())
		}
	}
}

// TestPythonUninstallChild is the other process of
// TestPythonUninstallWhileRunning: it uninstalls source-pytest from
// PYTHON_UNINSTALL_ROOT, not waiting if the venv is in use, and prints
// the outcome.
func TestPythonUninstallChild(t *testing.T) {
	root := os.Getenv("PYTHON_UNINSTALL_ROOT")
	if root == "" {
		t.Skip("run by TestPythonUninstallWhileRunning")
	}
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: root,
		Interpreter: testenv.SystemPython}, executor.Runtime{LogDir: t.TempDir()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // do not wait for the lock
	fmt.Printf("uninstall: %v\n", p.Uninstall(ctx))
}

// An uninstall from another process while the connector runs does not
// remove its venv from under it: it waits for the run (here, it was told
// not to wait, and says the venv is in use); once the run is over, it
// removes it.
func TestPythonUninstallWhileRunning(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	ctx := context.Background()
	root := t.TempDir()
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: root,
		Interpreter: testenv.SystemPython, Requirement: testenv.PythonPackage(t, "0.1.0")}, executor.Runtime{LogDir: t.TempDir()})
	if err := p.Install(ctx); err != nil {
		t.Fatal(err)
	}
	uninstall := func() string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestPythonUninstallChild$")
		cmd.Env = append(os.Environ(), "PYTHON_UNINSTALL_ROOT="+root)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("uninstalling process: %v\n%s", err, out)
		}
		_, said, _ := strings.Cut(string(out), "uninstall: ")
		said, _, _ = strings.Cut(said, "\n")
		return said
	}

	// A read of more records than the pipe holds: after the first, the
	// connector blocks writing until we read on.
	const n = 200000
	records := 0
	for m, err := range p.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(fmt.Sprintf(`{"count":%d}`, n)), Catalog: itemsCatalog}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != protocol.TypeRecord {
			continue
		}
		if records++; records == 1 {
			said := uninstall()
			if !strings.Contains(said, "in use") || !strings.Contains(said, "context canceled") {
				t.Errorf("uninstall while the connector runs: %s; want it refused (in use)", said)
			}
			if _, err := os.Stat(filepath.Join(venvOf(p), "bin", "source-pytest")); err != nil {
				t.Fatalf("the venv was removed while its connector ran: %v", err)
			}
		}
	}
	if records != n {
		t.Fatalf("read %d records, want %d", records, n)
	}
	if said := uninstall(); said != "<nil>" {
		t.Fatalf("uninstall after the run: %s", said)
	}
	if _, err := os.Stat(venvOf(p)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after the run, the venv is still there: %v", err)
	}
}

// A process killed with -9 while it installs takes its installation
// steps with it: a venv or pip run left going would write into the venv
// that the next process, which now holds the install lock, is making.
func TestPythonInstallerKilled(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	root := t.TempDir()
	// Killed, the child cannot remove its temp dirs: they go into ours.
	venvStep := killInstaller(t, "%s", "TMPDIR="+t.TempDir(), "PYTHON_CHILD_ROOT="+root, "PYTHON_CHILD_PACKAGE="+testenv.PythonPackage(t, "0.1.0"))
	waitDead(t, venvStep)

	// The killed process's lock is gone with it: another installs.
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: root,
		Interpreter: testenv.SystemPython, Requirement: testenv.PythonPackage(t, "0.1.0")}, executor.Runtime{LogDir: t.TempDir()})
	if err := p.Install(context.Background()); err != nil {
		t.Fatalf("install after a killed one: %v", err)
	}
}

// What an installation step started is killed too when its process is
// killed with -9: venv runs ensurepip, and pip a build, as children of
// their own, which Pdeathsig does not reach. Before, the next process
// installed while such an orphan went on writing into the venv, and failed
// ("directory not empty", "invalid command 'bdist_wheel'"). Their
// temporary files (pip's pip-install-*, pip-unpack-*) go with them.
func TestPythonInstallerKilledOrphan(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	// Both processes share a temp dir: the second finds there what the
	// first, killed, left.
	env := []string{"TMPDIR=" + t.TempDir(), "AIRBYTE_TEMP_DIR=", "PYTHON_CHILD_ROOT=" + t.TempDir(),
		"PYTHON_CHILD_PACKAGE=" + testenv.PythonPackage(t, "0.1.0")}
	// The venv step starts a child that makes a temp file, says it
	// started, then waits, as venv waits for ensurepip.
	orphan := killInstaller(t, "( mktemp > /dev/null; %s )", env...)

	installAfterKilled(t, env)
	waitDead(t, orphan)
	// Nor is what it wrote into its temp dir left behind (the killed
	// test process's own temp dir is, as nothing removes it).
	tmp, _ := strings.CutPrefix(env[0], "TMPDIR=")
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		if !strings.HasPrefix(e.Name(), "TestPythonInstallChild") {
			t.Errorf("left in the temp dir: %s", e.Name())
		}
	}
}

// An install killed in the instant between starting a step and recording
// its process group (the record is missing here, as such a kill leaves it)
// leaves nothing running either: the next install's sweep finds what the
// step started by the marker in its environment.
func TestPythonInstallerKilledBeforeRecordingGroup(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	tmp := t.TempDir()
	env := []string{"TMPDIR=" + tmp, "AIRBYTE_TEMP_DIR=", "PYTHON_CHILD_ROOT=" + t.TempDir(),
		"PYTHON_CHILD_PACKAGE=" + testenv.PythonPackage(t, "0.1.0")}
	orphan := killInstaller(t, "( %s )", env...)
	records, _ := filepath.Glob(filepath.Join(tmp, "goairbyte-*", ".pgid"))
	for _, r := range records {
		if err := os.Remove(r); err != nil {
			t.Fatal(err)
		}
	}

	installAfterKilled(t, env)
	waitDead(t, orphan)
}

// installAfterKilled runs TestPythonInstallChild with env to its end: the
// install after a killed one.
func installAfterKilled(t *testing.T, env []string) {
	t.Helper()
	next := exec.Command(os.Args[0], "-test.run=^TestPythonInstallChild$")
	next.Env = append(os.Environ(), env...)
	next.Stdin = strings.NewReader("go\n")
	if out, err := next.CombinedOutput(); err != nil {
		t.Fatalf("install after a killed one: %v\n%s", err, out)
	}
}

// killInstaller starts TestPythonInstallChild with env and an interpreter
// whose venv step runs venvStep, a bash command in which %s says the pid
// of the shell running it and waits until the test ends; once it has
// said so, it kills the child with -9 and returns that pid.
func killInstaller(t *testing.T, venvStep string, env ...string) int {
	t.Helper()
	dir := t.TempDir()
	wait := "echo $BASHPID > " + dir + "/step.pid; while [ ! -e " + dir + "/go ]; do sleep 0.05; done"
	py := filepath.Join(dir, "python-slow-venv")
	script := "#!/bin/bash\nif [[ \" $* \" == *\" venv \"* ]]; then " + fmt.Sprintf(venvStep, wait) + "; fi\nexec " +
		testenv.SystemPython + " \"$@\"\n"
	if err := os.WriteFile(py, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(filepath.Join(dir, "go"), nil, 0o644) })
	cmd := exec.Command(os.Args[0], "-test.run=^TestPythonInstallChild$")
	cmd.Env = append(append(os.Environ(), env...), "PYTHON_CHILD_INTERPRETER="+py)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "go\n")
	var pid int
	waitFor(t, func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "step.pid"))
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	})
	cmd.Process.Kill()
	cmd.Wait()
	return pid
}

// waitFor waits until cond holds; it fails the test after a generous limit.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("waited in vain")
}

// An install, or a run, that waits for the lock of its venv (another
// process installs, uninstalls or runs the connector) says so once after
// a second through the connector's logger, naming the lock file; it goes
// on waiting until its context ends, and ends with the context's error.
// Before, it waited without a word.
func TestPythonVenvWaitIsLogged(t *testing.T) {
	t.Parallel()
	testenv.NeedPython(t)
	var log testenv.Buffer
	p := build[executor.Executor](t, "source-pytest", executor.Method{Kind: executor.KindPython, InstallRoot: t.TempDir(),
		Interpreter: testenv.SystemPython, Requirement: "airbyte-source-pytest"},
		executor.Runtime{LogDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&log, nil))})
	lockFile := venvOf(p) + ".lock"
	if err := os.MkdirAll(filepath.Dir(lockFile), 0o755); err != nil {
		t.Fatal(err)
	}
	// Another install holds the venv.
	unlock, err := filelock.Lock(context.Background(), lockFile, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	waitLogged := func(what string, call func(ctx context.Context) error) {
		t.Helper()
		log.Reset()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- call(ctx) }()
		// The line comes after a second; sixty is a generous limit.
		waitFor(t, func() bool {
			select {
			case err := <-done:
				t.Fatalf("%s: ended (%v) while another held the venv", what, err)
			default:
			}
			return strings.Contains(log.String(), "waiting for a lock")
		})
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: a cancelled wait ended with %v, want context.Canceled", what, err)
		}
		line := log.String()
		if strings.Count(line, "waiting for a lock") != 1 || !strings.Contains(line, "lock="+lockFile) || !strings.Contains(line, "source-pytest") {
			t.Fatalf("%s: logged %q, want one line naming the connector and the lock file", what, line)
		}
	}
	waitLogged("install", p.Install)

	// A run of an installed connector waits for the install to end.
	entry := filepath.Join(venvOf(p), "bin", "source-pytest")
	if err := os.MkdirAll(filepath.Dir(entry), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(entry, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	waitLogged("run", func(ctx context.Context) error {
		_, err := collect(p.Run(ctx, executor.Invocation{Verb: executor.VerbSpec}))
		return err
	})
}
