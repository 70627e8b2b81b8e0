package executor

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/x/goairbyte/protocol"
)

// localExecutor runs a connector that is an executable on this machine.
type localExecutor struct {
	runner
	path string
}

var _ Executor = (*localExecutor)(nil)

// newLocal returns an executor for the executable at path, or for the
// executable of that name on PATH when path has no slash. It is a
// *NotInstalledError when there is no such executable.
func newLocal(name, path string, o *options) (*localExecutor, error) {
	resolved, err := resolveExecutable(path)
	var ne *notExecutableError
	if errors.Is(err, errIsDir) {
		return nil, &NotInstalledError{
			Connector: name,
			Missing:   "an executable file at " + path + " (" + path + " is a directory)",
			Hint:      "pass the path of the connector program in it, such as its bin/" + name,
		}
	}
	if errors.As(err, &ne) {
		return nil, &NotInstalledError{
			Connector: name,
			Missing:   "the executable bit of " + path + " (mode " + ne.mode.String() + ")",
			Hint:      "run chmod +x " + path + ", or pass the path of the connector program",
		}
	}
	if err != nil {
		return nil, &NotInstalledError{
			Connector: name,
			Missing:   "executable " + path,
			Hint:      "install it, put it on PATH or pass its full path",
			Err:       err,
		}
	}
	return &localExecutor{runner: newRunner(name, o), path: resolved}, nil
}

func resolveExecutable(p string) (string, error) {
	if !strings.ContainsRune(p, os.PathSeparator) {
		return exec.LookPath(p)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		return "", fmt.Errorf("%s: %w", p, errIsDir)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return "", &notExecutableError{path: p, mode: fi.Mode()}
	}
	return filepath.Abs(p)
}

// errIsDir is a connector path that names a directory.
var errIsDir = errors.New("a directory, not an executable file")

// notExecutableError is a file that is there but that nobody may execute.
type notExecutableError struct {
	path string
	mode os.FileMode
}

func (e *notExecutableError) Error() string {
	return e.path + " is not executable (mode " + e.mode.String() + ")"
}

// Method says how the connector runs, with the executable's absolute
// path.
func (l *localExecutor) Method() Method {
	m := l.method
	m.Path = l.path
	return m
}

// String says how the connector runs.
func (l *localExecutor) String() string { return l.name + " (local executable " + l.path + ")" }

// Run runs the executable; see Executor.
func (l *localExecutor) Run(ctx context.Context, inv Invocation) iter.Seq2[*protocol.Message, error] {
	return l.run(ctx, inv, func(ctx context.Context, ln launch) (started, error) {
		st, err := startProcess(l.path, ln.args(ln.hostDir), l.o.env, ln.stdin, ln.run())
		if err != nil {
			return started{}, fmt.Errorf("connector %s: starting %s: %w%s", l.name, l.path, err, whyNotStarted(l.path, err))
		}
		return st, nil
	})
}

// Install checks that the executable is still there; there is nothing to
// install.
func (l *localExecutor) Install(ctx context.Context) error {
	if _, err := resolveExecutable(l.path); err != nil {
		return &NotInstalledError{Connector: l.name, Missing: "executable " + l.path, Hint: "install it again", Err: err}
	}
	return nil
}

// Uninstall does nothing: the executable is not ours to remove.
func (l *localExecutor) Uninstall(ctx context.Context) error { return nil }

// InstalledVersion is the Method's Version, or "" when it has none: an
// executable does not say which version it is.
func (l *localExecutor) InstalledVersion(ctx context.Context) (string, error) {
	return l.o.version, nil
}

// localProcess is a child process in its own process group, so that
// signals reach everything it started, and with runMarker in its
// environment, so that what it moved out of the group is found too.
type localProcess struct {
	cmd              *exec.Cmd
	stdoutR, stderrR *os.File
	stdinW           *os.File
	run              string         // runMarker's value
	died             syscall.Signal // the signal that ended it, if one did
}

// startProcess starts path with args; its stdout, stderr (and stdin) are
// pipes of our own, read without exec's copying goroutines. run names the
// run in the child's environment (runMarker).
func startProcess(path string, args, env []string, withStdin bool, run string) (started, error) {
	var closeOnErr []*os.File
	fail := func(err error) (started, error) {
		for _, f := range closeOnErr {
			f.Close()
		}
		return started{}, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	closeOnErr = append(closeOnErr, outR, outW)
	growPipe(outW)
	errR, errW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	closeOnErr = append(closeOnErr, errR, errW)
	cmd := exec.Command(path, args...)
	cmd.Env = append(append(os.Environ(), env...), runMarker+"="+run)
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.SysProcAttr = procAttr()
	p := &localProcess{cmd: cmd, stdoutR: outR, stderrR: errR, run: run}
	var inR *os.File
	if withStdin {
		if inR, p.stdinW, err = os.Pipe(); err != nil {
			return fail(err)
		}
		closeOnErr = append(closeOnErr, inR, p.stdinW)
		growPipe(p.stdinW)
		cmd.Stdin = inR
	}
	if err := startCommand(cmd); err != nil {
		return fail(err)
	}
	// The child has its copies; ours of its ends would keep the pipes open.
	outW.Close()
	errW.Close()
	if inR != nil {
		inR.Close()
	}
	st := started{proc: p, stdout: outR, stderr: errR}
	if p.stdinW != nil {
		st.stdin = p.stdinW
	}
	return st, nil
}

func (p *localProcess) wait() (int, error) {
	err := p.cmd.Wait()
	// Whatever the connector started and left behind dies with it (and
	// releases the pipes it inherited), in its group or out of it.
	p.signal(syscall.SIGKILL)
	reapAdopted(p.cmd.Process.Pid, killMarked(p.run))
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return -1, err
	}
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		p.died = ws.Signal()
	}
	return p.cmd.ProcessState.ExitCode(), nil
}

// deathSignal is the signal that ended the connector, if one did; valid
// once wait has returned.
func (p *localProcess) deathSignal() (syscall.Signal, bool) { return p.died, p.died != 0 }

// group is the connector's process group (its pid: it leads the group).
func (p *localProcess) group() int { return p.cmd.Process.Pid }

func (p *localProcess) signal(sig syscall.Signal) { signalGroup(p.cmd.Process, sig) }

// stopOutput closes our read end of stdout: the connector's next write
// fails with EPIPE (a SIGPIPE that ends most programs at once).
func (p *localProcess) stopOutput() { p.stdoutR.Close() }

func (p *localProcess) terminate() { p.signal(syscall.SIGTERM) }
func (p *localProcess) kill()      { p.signal(syscall.SIGKILL) }

func (p *localProcess) release() {
	p.stdoutR.Close()
	p.stderrR.Close()
	if p.stdinW != nil {
		p.stdinW.Close()
	}
}
