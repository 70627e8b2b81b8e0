package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/x/goairbyte/internal/filelock"
	"github.com/x/goairbyte/internal/owner"
	"github.com/x/goairbyte/protocol"
)

// pythonExecutor runs a connector published as a Python package, from a virtualenv
// of its own at <install root>/.venv-<name> (the install root is the
// current directory unless the Method's InstallRoot says otherwise, as in
// PyAirbyte).
//
// The venv is created with the interpreter's -m venv --system-site-packages,
// so that what the system already has (setuptools, for one) need not be
// downloaded; then pip installs the pip URL, or airbyte-<name>[==version].
// A pip URL that is a local path is installed with --no-build-isolation,
// which works offline. The connector's entry point is <venv>/bin/<name>.
// A connector pinned to a version (Method.Version) runs that version: a run
// that finds the entry point changed since the version was last checked
// (another executor pinned to another version shares the venv) checks and
// installs it again.
type pythonExecutor struct {
	runner
	venv      string
	installMu sync.Mutex
	// checked is the entry point as it was when this executor last found
	// the pinned version (Method.Version) installed: another executor
	// pinned to another version of the connector, sharing the venv, may
	// have replaced it since, and pip's reinstall writes a new entry point.
	checked atomic.Pointer[os.FileInfo]
}

var _ Executor = (*pythonExecutor)(nil)

// newPython returns an executor for the Python connector name. Nothing is
// installed yet: Install does that, or Run unless Runtime.NoInstall.
func newPython(name string, o *options) (*pythonExecutor, error) {
	root, err := filepath.Abs(o.installRoot)
	if err != nil {
		return nil, fmt.Errorf("executor: connector %s: install root %s: %w", name, o.installRoot, err)
	}
	return &pythonExecutor{runner: newRunner(name, o), venv: filepath.Join(root, ".venv-"+name)}, nil
}

// Method says how the connector runs, with the absolute install root (the
// venv is <InstallRoot>/.venv-<name>).
func (p *pythonExecutor) Method() Method {
	m := p.method
	m.InstallRoot = filepath.Dir(p.venv)
	return m
}

// entryPoint is the connector's executable inside the venv.
func (p *pythonExecutor) entryPoint() string { return filepath.Join(p.venv, "bin", p.name) }

// String says how the connector runs.
func (p *pythonExecutor) String() string { return p.name + " (Python venv " + p.venv + ")" }

// pipTarget is what pip installs.
func (p *pythonExecutor) pipTarget() string {
	if p.o.pipURL != "" {
		return p.o.pipURL
	}
	t := "airbyte-" + p.name
	if p.o.version != "" {
		t += "==" + p.o.version
	}
	return t
}

// Run runs the venv's entry point, installing the connector first when it is
// missing and that is allowed; see Executor.
func (p *pythonExecutor) Run(ctx context.Context, inv Invocation) iter.Seq2[*protocol.Message, error] {
	return p.run(ctx, inv, func(ctx context.Context, ln launch) (started, error) {
		unlock, err := p.readyLocked(ctx)
		if err != nil {
			return started{}, err
		}
		st, err := startProcess(p.entryPoint(), ln.args(ln.hostDir), p.o.env, ln.stdin, ln.run())
		if err != nil {
			unlock()
			return started{}, fmt.Errorf("connector %s: starting %s: %w%s", p.name, p.entryPoint(), err, whyNotStarted(p.entryPoint(), err))
		}
		st.proc = venvInUse{st.proc, unlock}
		return st, nil
	})
}

// readyLocked makes sure the entry point exists and takes a shared lock of
// the venv, which the run holds until the connector has exited: an
// install or an uninstall, in this process or another, waits for it rather
// than replace or remove the files of a connector that runs (Python
// imports some modules only when it needs them). A run that may not write
// the install root (venvs made in an image at build time and run as
// another user, a read-only file system) cannot open the lock file and
// runs without it: whoever may not write there cannot install there
// either, and an installer who may is not waited for.
func (p *pythonExecutor) readyLocked(ctx context.Context) (unlock func(), err error) {
	for {
		if err := p.ready(ctx); err != nil {
			return nil, err
		}
		unlock, err = filelock.RLock(ctx, p.venv+".lock", p.o.logger,
			"the venv of "+p.name+", to run it (another process installs or uninstalls it)")
		if err != nil && cannotWrite(err) {
			p.o.logger.Debug("the venv's lock file cannot be opened; running without it", "connector", p.name, "error", err)
			unlock, err = func() {}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("executor: connector %s: %w", p.name, err)
		}
		if p.missing() == "" && !p.unchecked() {
			return unlock, nil
		}
		// Uninstalled by another process between ready and the lock:
		// installing under our own shared lock would wait for ever.
		unlock()
	}
}

// cannotWrite reports whether err is a file that may not be written here:
// permissions, or a read-only file system.
func cannotWrite(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)
}

// venvInUse is a connector process that holds the shared lock of its venv
// until it is released.
type venvInUse struct {
	process
	unlock func()
}

// deathSignal is the signal that ended the connector, if one did.
func (v venvInUse) deathSignal() (syscall.Signal, bool) {
	if s, ok := v.process.(signaled); ok {
		return s.deathSignal()
	}
	return 0, false
}

func (v venvInUse) release() {
	v.process.release()
	v.unlock()
}

// ready makes sure the entry point and the venv's interpreter exist, in
// the pinned version if one was set.
func (p *pythonExecutor) ready(ctx context.Context) error {
	missing := p.missing()
	if missing == "" && !p.unchecked() {
		return nil
	}
	hint := "call Install or allow connector.WithInstallIfMissing(true); it runs pip install " + p.pipTarget()
	if !p.o.installIfMissing {
		if missing != "" {
			return &NotInstalledError{Connector: p.name, Missing: missing, Hint: hint}
		}
		if ok, v := p.installed(ctx); !ok {
			return &NotInstalledError{Connector: p.name,
				Missing: fmt.Sprintf("version %s in %s, which holds version %s (installed by another pinned to it?)", p.o.version, p.venv, v),
				Hint:    hint + "; to keep two versions, give each its own install root"}
		}
		p.check()
		return nil
	}
	return p.Install(ctx)
}

// unchecked reports whether the connector is pinned to a version and its
// entry point changed since this executor found that version installed.
func (p *pythonExecutor) unchecked() bool {
	if p.o.version == "" {
		return false
	}
	was := p.checked.Load()
	now, err := os.Stat(p.entryPoint())
	return was == nil || err != nil || !os.SameFile(*was, now) || !(*was).ModTime().Equal(now.ModTime()) || (*was).Size() != now.Size()
}

// check notes the entry point of the pinned version, just found installed.
func (p *pythonExecutor) check() {
	if fi, err := os.Stat(p.entryPoint()); err == nil && p.o.version != "" {
		p.checked.Store(&fi)
	}
}

// interpreter is the venv's Python.
func (p *pythonExecutor) interpreter() string { return filepath.Join(p.venv, "bin", "python") }

// missing says what of an installed connector is missing: its entry point,
// or the venv's interpreter, a link to the Python that made the venv, gone
// when that Python was upgraded or removed (the entry point is still there
// then, and cannot start); "" when nothing is.
func (p *pythonExecutor) missing() string {
	if _, err := os.Stat(p.entryPoint()); err != nil {
		return "entry point " + p.entryPoint()
	}
	if _, err := os.Stat(p.interpreter()); err != nil {
		return "the venv's interpreter " + p.interpreter() + " (the Python that made the venv was upgraded or removed?)"
	}
	return ""
}

// Install creates the venv and pip-installs the connector into it. It does
// nothing when the connector is installed, in the requested version if one
// was set; another version is replaced.
//
// Installs and uninstalls of one venv take turns across processes too (cron
// jobs, a service and CI jobs sharing an install root): each holds the
// lock of <venv>.lock, which the system frees when its holder dies, even by
// kill -9. Without it, one process took another's venv in the making for
// an interrupted one and removed it, or two venv or pip runs wrote the same
// files.
func (p *pythonExecutor) Install(ctx context.Context) error {
	p.installMu.Lock()
	defer p.installMu.Unlock()
	if err := p.install(ctx); err != nil {
		return err
	}
	p.check()
	return nil
}

func (p *pythonExecutor) install(ctx context.Context) error {
	// Checked before the lock too, which waits for the runs of the
	// connector to end.
	if ok, _ := p.installed(ctx); ok {
		return nil
	}
	if err := p.requirementExists(); err != nil {
		return err
	}
	unlock, err := p.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if ok, v := p.installed(ctx); ok {
		return nil // by another process meanwhile
	} else if v != "" {
		p.o.logger.Info("installed connector version differs from the requested one; reinstalling",
			"connector", p.name, "installed", v, "requested", p.o.version)
	}
	notInstalled := func(err error) error {
		if ctx.Err() != nil {
			// What failed is the install, stopped: not the requirement.
			if !errors.Is(err, ctx.Err()) {
				err = fmt.Errorf("%v: %w", err, ctx.Err())
			}
			return &NotInstalledError{Connector: p.name, Missing: "entry point " + p.entryPoint(),
				Hint: "the install was cancelled; the next run (or Install) installs it", Err: err}
		}
		return &NotInstalledError{Connector: p.name, Missing: "entry point " + p.entryPoint(),
			Hint: "check the pip requirement (connector.WithPipURL) and the interpreter (connector.WithPython)", Err: err}
	}
	if err := p.venvUsable(ctx); err != nil {
		if ctx.Err() != nil {
			return notInstalled(ctx.Err())
		}
		if _, statErr := os.Stat(p.venv); statErr == nil {
			// venv makes bin/python first and installs pip last, the slow
			// part: an install interrupted there leaves a venv in which pip
			// cannot run, and every later install would fail in it.
			p.o.logger.Warn("the connector's virtualenv is incomplete (an interrupted install?); creating it again",
				"connector", p.name, "venv", p.venv, "error", err)
			if err := os.RemoveAll(p.venv); err != nil {
				return notInstalled(fmt.Errorf("removing the incomplete venv: %w", err))
			}
		}
		p.o.logger.Info("creating virtualenv", "connector", p.name, "venv", p.venv, "python", p.o.python)
		if err := p.command(ctx, p.o.python, "-m", "venv", "--system-site-packages", p.venv); err != nil {
			if errors.Is(err, exec.ErrNotFound) {
				return notInstalled(fmt.Errorf("creating the venv: the interpreter %s is not on PATH: %w", p.o.python, err))
			}
			return notInstalled(fmt.Errorf("creating the venv: %w", err))
		}
	}
	args := []string{"-m", "pip", "install", "--disable-pip-version-check", "--no-input"}
	target := p.pipTarget()
	if _, err := os.Stat(target); err == nil {
		// A local path needs no index: building without isolation uses the
		// setuptools the venv sees instead of downloading one.
		args = append(args, "--no-build-isolation")
	}
	if p.o.version != "" {
		args = append(args, "--upgrade")
	}
	args = append(args, target)
	p.o.logger.Info("pip install", "connector", p.name, "target", target)
	if err := p.command(ctx, filepath.Join(p.venv, "bin", "python"), args...); err != nil {
		return notInstalled(fmt.Errorf("pip install %s with %s (the venv made by %s): %w%s",
			target, filepath.Join(p.venv, "bin", "python"), p.o.python, err, p.missingBuildModules(ctx, target)))
	}
	if _, err := os.Stat(p.entryPoint()); err != nil {
		err := fmt.Errorf("pip installed %s but it has no console script %q", target, p.name)
		if scripts := p.consoleScripts(); len(scripts) > 0 {
			err = fmt.Errorf("%w, only %s: a connector is named after its console script", err, strings.Join(scripts, ", "))
		}
		return notInstalled(err)
	}
	if p.o.version != "" {
		v, err := p.InstalledVersion(ctx)
		if err != nil {
			return notInstalled(fmt.Errorf("version %s was requested, and the installed version is unknown: %w", p.o.version, err))
		}
		if v != p.o.version {
			// The entry point is there: what is missing is the version.
			// A pip requirement of the user's (a local path, a URL) is
			// installed as it is, whatever the pin, so every run would
			// install it again and fail alike.
			return &NotInstalledError{Connector: p.name, Missing: fmt.Sprintf("version %s", p.o.version),
				Hint: fmt.Sprintf("the pip requirement %s installs version %s: pin that version (connector.WithVersion), "+
					"or none, or give a requirement of version %s", target, v, p.o.version)}
		}
	}
	return nil
}

// requirementExists refuses a pip requirement that is a local path which
// does not exist, before a venv is made for it (pip would find out only
// after that, some ten seconds later, and leave the venv behind).
func (p *pythonExecutor) requirementExists() error {
	target := p.o.pipURL
	if !strings.HasPrefix(target, ".") && (!strings.Contains(target, "/") || strings.Contains(target, "://")) {
		return nil // a name, a name with a version, a URL
	}
	if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	hint := "the pip requirement " + target + " does not exist: check the path (connector.WithPipURL)"
	if !filepath.IsAbs(target) {
		if wd, err := os.Getwd(); err == nil {
			hint += ", relative to the working directory " + wd
		}
	}
	return &NotInstalledError{Connector: p.name, Missing: "its package", Hint: hint}
}

// consoleScripts lists the programs in the venv's bin directory other than
// those of the venv itself (python, pip, activate): the console scripts of
// what pip installed into it.
func (p *pythonExecutor) consoleScripts() []string {
	entries, err := os.ReadDir(filepath.Join(p.venv, "bin"))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "python") || strings.HasPrefix(n, "pip") || strings.HasPrefix(strings.ToLower(n), "activate") {
			continue
		}
		out = append(out, n)
	}
	return out
}

// installed reports whether the entry point exists, in the requested
// version if one was set; otherwise, the version installed if known.
func (p *pythonExecutor) installed(ctx context.Context) (ok bool, version string) {
	if p.missing() != "" {
		return false, ""
	}
	if p.o.version == "" {
		return true, ""
	}
	v, err := p.InstalledVersion(ctx)
	return err == nil && v == p.o.version, v
}

// venvUsable reports why the venv cannot install packages: it is missing, or
// its pip does not run.
func (p *pythonExecutor) venvUsable(ctx context.Context) error {
	py := filepath.Join(p.venv, "bin", "python")
	if _, err := os.Stat(py); err != nil {
		return err
	}
	return p.command(ctx, py, "-m", "pip", "--version")
}

// missingBuildModules explains a failed install of a local path whose
// cause is the usual one offline: the venv's Python lacks the modules that
// build a wheel (pip says only "See above"). It returns "" otherwise.
func (p *pythonExecutor) missingBuildModules(ctx context.Context, target string) string {
	if _, err := os.Stat(target); err != nil {
		return ""
	}
	if !isPythonProject(target) {
		return "" // pip says so itself; the modules have nothing to do with it
	}
	var missing []string
	for _, mod := range []string{"setuptools", "wheel"} {
		if exec.CommandContext(ctx, filepath.Join(p.venv, "bin", "python"), "-c", "import "+mod).Run() != nil {
			missing = append(missing, mod)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("; the venv's Python has no %s module, which building a local package without network access needs: "+
		"install it for %s (on Debian: apt-get install python3-%s), or choose another interpreter (connector.WithPython, goab --use-python)",
		strings.Join(missing, " and no "), p.o.python, missing[len(missing)-1])
}

// isPythonProject reports whether path is a directory pip can build (it has
// a pyproject.toml or a setup.py) or a file (a wheel, an archive).
func isPythonProject(path string) bool {
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		return true
	}
	for _, f := range []string{"pyproject.toml", "setup.py"} {
		if _, err := os.Stat(filepath.Join(path, f)); err == nil {
			return true
		}
	}
	return false
}

// command runs an installation step; its output goes to the debug log and,
// when it fails, its last lines into the error. It is started as a
// connector is (procAttr), so that it dies with this process: one left
// running after a kill -9 would write into the venv that the next process,
// holding the install lock then, is making.
func (p *pythonExecutor) command(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.SysProcAttr = procAttr()
	// venv runs ensurepip, and pip a build backend, in children of their
	// own: a cancel kills the whole group, and a group left by a process
	// killed with -9 (Pdeathsig reaches only the step itself) is killed by
	// the next process's sweep, from the group recorded here and the
	// marker in their environment, before that one touches the venv the
	// orphans would go on writing into.
	cmd.Cancel = func() error { signalGroup(cmd.Process, syscall.SIGKILL); return nil }
	sweepTempDirs()
	dir, release, err := owner.MkdirTemp(runDirPattern(p.name))
	if err != nil {
		return err
	}
	defer release()
	defer os.RemoveAll(dir)
	// The step's temporary files (pip's build and unpack dirs) go into
	// that dir too, so that they go with it, even when the step was killed.
	cmd.Env = append(os.Environ(), p.o.env...)
	// runMarker finds what the step started even where the group was not
	// recorded: a kill -9 between the start and the record below.
	cmd.Env = append(cmd.Env, "PIP_DISABLE_PIP_VERSION_CHECK=1", "TMPDIR="+dir, runMarker+"="+filepath.Base(dir))
	err = startCommand(cmd)
	if err == nil {
		_ = os.WriteFile(filepath.Join(dir, pgidFile), []byte(pgidRecord(cmd.Process.Pid)), 0o600)
		err = cmd.Wait()
	}
	out := buf.Bytes()
	for line := range strings.Lines(string(out)) {
		p.o.logger.Debug("install output", "connector", p.name, "line", p.o.mask(strings.TrimRight(line, "\n")))
	}
	if err != nil {
		if len(bytes.TrimSpace(out)) == 0 { // it said nothing, or never ran
			return err
		}
		return fmt.Errorf("%w: %s%s", err, p.o.mask(strings.Join(lastWords(out), " | ")), unreachableIndex(out))
	}
	return nil
}

// lastWords picks the lines of a failed installation step's output that
// say why: its last five, or, when pip ran a build that failed, the last
// lines of that build's output, which pip frames between "[N lines of
// output]" and "[end of output]" and follows with "See above for output".
func lastWords(out []byte) []string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var last, step string // pip's last line saying which step failed; the one before the block
	var block []string    // the framed output being read, or the last one
	in, found := false, false
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "×"):
			last = t
		case strings.HasSuffix(t, "lines of output]"):
			in, found, block, step = true, true, block[:0], last
		case t == "[end of output]":
			in = false
		case in && t != "":
			block = append(block, t)
		}
	}
	if !found || len(block) == 0 {
		return lines[max(0, len(lines)-5):]
	}
	block = block[max(0, len(block)-8):]
	if step != "" {
		block = append([]string{step}, block...)
	}
	return block
}

// networkFailures are what pip's output says when it cannot reach its
// package index: it retries quietly, then reports only that no version of
// a requirement was found, as if the name were wrong.
var networkFailures = []string{
	"Failed to establish a new connection", "Name or service not known", "Temporary failure in name resolution",
	"Network is unreachable", "ProxyError", "Read timed out", "Connection refused",
}

// unreachableIndex explains a failed pip run whose output shows that the
// package index could not be reached; it returns "" otherwise.
func unreachableIndex(out []byte) string {
	for _, f := range networkFailures {
		if bytes.Contains(out, []byte(f)) {
			return "; pip could not reach its package index (" + f + "): offline, install from a local path or wheel " +
				"(connector.WithPipURL) whose dependencies the interpreter already has (the venv sees its packages), " +
				"or point PIP_INDEX_URL or PIP_FIND_LINKS (connector.WithEnv) at an index or a directory of wheels that can be reached"
		}
	}
	return ""
}

// Uninstall removes the venv.
func (p *pythonExecutor) Uninstall(ctx context.Context) error {
	p.installMu.Lock()
	defer p.installMu.Unlock()
	unlock, err := p.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return os.RemoveAll(p.venv)
}

// lock takes the lock of the venv for an install or an uninstall; see
// Install.
func (p *pythonExecutor) lock(ctx context.Context) (unlock func(), err error) {
	root := filepath.Dir(p.venv)
	notWritable := func(err error) error {
		return fmt.Errorf("executor: connector %s: the install root %s is not writable here (%w): "+
			"install or uninstall as a user who may write it, or choose another install root (connector.WithInstallRoot, or AIRBYTE_INSTALL_DIR for every Python connector)", p.name, root, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		if cannotWrite(err) {
			return nil, notWritable(err)
		}
		return nil, fmt.Errorf("executor: connector %s: install root: %w", p.name, err)
	}
	unlock, err = filelock.Lock(ctx, p.venv+".lock", p.o.logger,
		"the venv of "+p.name+", to install or uninstall it (another process installs, uninstalls or runs it)")
	if err != nil && cannotWrite(err) {
		return nil, notWritable(err)
	}
	if err != nil {
		return nil, fmt.Errorf("executor: connector %s: its venv %s is in use (by another install, or by a run of the connector, in this process or another): %w", p.name, p.venv, err)
	}
	return unlock, nil
}

// versionScript prints the version of the distribution that provides the
// console script named by its argument, and exits 3 when there is none.
const versionScript = `import sys, importlib.metadata as m
for d in m.distributions():
    for ep in d.entry_points:
        if ep.group == "console_scripts" and ep.name == sys.argv[1]:
            print(d.version); sys.exit(0)
sys.exit(3)`

// InstalledVersion is the version of the installed package that provides
// the connector's entry point; it is a *NotInstalledError when there is
// none.
func (p *pythonExecutor) InstalledVersion(ctx context.Context) (string, error) {
	py := filepath.Join(p.venv, "bin", "python")
	out, err := exec.CommandContext(ctx, py, "-c", versionScript, p.name).Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.Is(err, os.ErrNotExist) || errors.As(err, &exitErr) {
			return "", &NotInstalledError{Connector: p.name, Missing: "package providing " + p.name + " in " + p.venv, Hint: "call Install", Err: err}
		}
		return "", err
	}
	return string(bytes.TrimSpace(out)), nil
}
