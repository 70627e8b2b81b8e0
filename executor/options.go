package executor

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// logDirEnv names the environment variable that sets the default directory
// of the per-connector log files.
const logDirEnv = "GOAIRBYTE_LOG_DIR"

// defaultGracePeriod is how long a connector has to exit after SIGTERM before
// it is killed.
const defaultGracePeriod = 2 * time.Second

// defaultWriteGracePeriod is defaultGracePeriod for a write: a destination
// told to stop flushes what it holds and echoes the states it covers, and
// a kit destination is promised 5 s for that (kit's cancelGrace, after
// which Serve ends it itself). With 2 s, a destination whose last flush
// took 3 s was killed before its echo, and the next Write sent the
// flushed records again.
const defaultWriteGracePeriod = 6 * time.Second

// Kind is a way of running a connector.
type Kind int

// The ways a connector runs.
const (
	// KindLocal runs an executable of this machine.
	KindLocal Kind = iota + 1
	// KindDocker runs a container per command.
	KindDocker
	// KindPython runs the entry point of a Python package installed in a
	// virtualenv of its own.
	KindPython
	// KindInProcess calls a connector written in Go (a kit.Source or
	// kit.Destination) in this process: no process, no encoding.
	KindInProcess
)

// String names the kind as messages do.
func (k Kind) String() string {
	switch k {
	case KindLocal:
		return "local executable"
	case KindDocker:
		return "Docker image"
	case KindPython:
		return "Python package"
	case KindInProcess:
		return "in process"
	}
	return "unknown way"
}

// Method is the one value that says how a connector runs: its Kind and the
// knobs of that kind. A knob set for another kind makes New fail: nothing is
// silently ignored.
type Method struct {
	// Kind is KindLocal, KindDocker, KindPython or KindInProcess; the
	// zero Kind does not validate.
	Kind Kind

	// Path is the executable (KindLocal): a path, or a name looked up on
	// PATH.
	Path string

	// Image is the complete image reference, with its tag (KindDocker).
	Image string
	// Mounts are host directories bind-mounted into the container
	// (KindDocker).
	Mounts []Mount
	// HostNetwork runs the container in the host's network namespace, so
	// that it reaches services on 127.0.0.1 (KindDocker).
	HostNetwork bool
	// DockerClient is the engine client to use instead of one built from
	// the environment (DOCKER_HOST etc.) (KindDocker).
	DockerClient *client.Client

	// Interpreter creates the virtualenv; "" means python3 from PATH
	// (KindPython).
	Interpreter string
	// Requirement is what pip installs: a package spec, a URL or a local
	// path; "" means airbyte-<name>, with ==Version when Version is set
	// (KindPython).
	Requirement string
	// InstallRoot is the directory holding the virtualenvs
	// (.venv-<name>); "" means the working directory, as in PyAirbyte
	// (KindPython).
	InstallRoot string

	// Connector is the connector value itself, a kit.Source or a
	// kit.Destination (KindInProcess).
	Connector any

	// Version is the version pip installs and keeps installed (KindPython),
	// or the version a local executable reports itself as (KindLocal).
	// Docker versions are the image's tag.
	Version string
	// Env adds "KEY=VALUE" variables to the connector's environment
	// (KindLocal, KindDocker, KindPython).
	Env []string
}

// Mount is a host directory mounted into a connector's container.
type Mount struct {
	// HostDir is the host directory; a relative one is taken from the
	// working directory.
	HostDir string
	// ContainerDir is where the container sees it, such as "/local".
	ContainerDir string
}

// String says how the connector runs, as messages show it.
func (m Method) String() string {
	switch m.Kind {
	case KindLocal:
		return "local executable " + m.Path
	case KindDocker:
		return "Docker image " + m.Image
	case KindPython:
		return "Python package " + m.Requirement
	}
	return m.Kind.String()
}

// validate reports a Method that cannot run: no kind, a missing required
// knob, or a knob of another kind.
func (m Method) validate() error {
	var misfits []string
	misfit := func(set bool, field string, kinds ...Kind) {
		if set && !containsKind(kinds, m.Kind) {
			misfits = append(misfits, field)
		}
	}
	misfit(m.Path != "", "Path", KindLocal)
	misfit(m.Image != "", "Image", KindDocker)
	misfit(len(m.Mounts) > 0, "Mounts", KindDocker)
	misfit(m.HostNetwork, "HostNetwork", KindDocker)
	misfit(m.DockerClient != nil, "DockerClient", KindDocker)
	misfit(m.Interpreter != "", "Interpreter", KindPython)
	misfit(m.Requirement != "", "Requirement", KindPython)
	misfit(m.InstallRoot != "", "InstallRoot", KindPython)
	misfit(m.Connector != nil, "Connector", KindInProcess)
	misfit(m.Version != "", "Version", KindPython, KindLocal)
	misfit(len(m.Env) > 0, "Env", KindLocal, KindDocker, KindPython)
	switch len(misfits) {
	case 0:
	case 1:
		return fmt.Errorf("executor: %s does not apply to a connector run as %s", misfits[0], m.Kind)
	default:
		return fmt.Errorf("executor: %s and %s do not apply to a connector run as %s",
			strings.Join(misfits[:len(misfits)-1], ", "), misfits[len(misfits)-1], m.Kind)
	}
	switch m.Kind {
	case KindLocal:
		if m.Path == "" {
			return errors.New("executor: a local connector needs the executable's Path")
		}
	case KindDocker:
		if m.Image == "" {
			return errors.New("executor: a Docker connector needs its Image")
		}
	case KindPython:
	case KindInProcess:
		if m.Connector == nil {
			return errors.New("executor: an in-process connector needs its Connector value")
		}
	default:
		return errors.New("executor: the Method has no Kind; say how the connector runs")
	}
	return nil
}

func containsKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// Runtime is what every run of a connector shares whatever its Method: who
// hears about it, where its log file goes, how its text is masked, and
// whether a missing connector may be installed.
type Runtime struct {
	// Logger receives the connector's LOG messages (at their level), its
	// unparsed output lines and the executor's own events; nil discards
	// them.
	Logger *slog.Logger
	// LogDir is the directory of the per-connector log file; "" means
	// defaultLogDir().
	LogDir string
	// Mask is applied to every stderr line, log line and error text before
	// it leaves the executor, so that secrets never do; nil masks nothing.
	Mask func(string) string
	// Grace is how long a stopped connector has between SIGTERM and
	// SIGKILL; 0 means defaultGracePeriod, and defaultWriteGracePeriod
	// for a write.
	Grace time.Duration
	// NoInstall makes a missing image or virtualenv a *NotInstalledError
	// instead of installing it on first use (the default, as in PyAirbyte).
	NoInstall bool
	// LingerGrace is how long a connector that closed its output may keep
	// running before it is stopped; 0 means defaultLingerGrace. A connector
	// is done when its output ends, but one that closed stdout and kept
	// running (seen in real connectors) would otherwise hold the caller
	// forever.
	LingerGrace time.Duration
}

// defaultLingerGrace is Runtime.LingerGrace's default.
const defaultLingerGrace = 10 * time.Second

// defaultLogDir is where connector log files go unless Runtime.LogDir says
// otherwise: $GOAIRBYTE_LOG_DIR, or goairbyte/logs under the system temp
// directory; shared reports that it is the machine's default, which another
// user may own (see userLogDir).
func defaultLogDir() (dir string, shared bool) {
	if d := os.Getenv(logDirEnv); d != "" {
		return d, false
	}
	return filepath.Join(os.TempDir(), "goairbyte", "logs"), true
}

// userLogDir is where this user's log files go when the machine's default
// directory belongs to another user: goairbyte-logs-<uid> in the temp
// directory (a name the sweep of run directories, goairbyte-<pid>-…,
// never takes for one of its own).
func userLogDir() string {
	return filepath.Join(os.TempDir(), "goairbyte-logs-"+strconv.Itoa(os.Getuid()))
}

// options is a Method and a Runtime with the defaults filled in, as the
// executors read them.
type options struct {
	method           Method
	logger           *slog.Logger
	logDir           string
	sharedLogDir     bool // logDir is the machine's default (see userLogDir)
	mask             func(string) string
	env              []string
	hostNetwork      bool
	installIfMissing bool
	mounts           []mount.Mount
	pipURL           string
	python           string
	installRoot      string
	version          string
	dockerClient     *client.Client
	grace            time.Duration
	linger           time.Duration
}

func buildOptions(m Method, rt Runtime) *options {
	o := &options{
		method:           m,
		logger:           rt.Logger,
		logDir:           rt.LogDir,
		mask:             rt.Mask,
		env:              m.Env,
		hostNetwork:      m.HostNetwork,
		installIfMissing: !rt.NoInstall,
		pipURL:           m.Requirement,
		python:           m.Interpreter,
		installRoot:      m.InstallRoot,
		version:          m.Version,
		dockerClient:     m.DockerClient,
		grace:            rt.Grace,
		linger:           rt.LingerGrace,
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.logDir == "" {
		o.logDir, o.sharedLogDir = defaultLogDir()
	}
	if o.mask == nil {
		o.mask = func(s string) string { return s }
	}
	if o.python == "" {
		o.python = "python3"
	}
	if o.installRoot == "" {
		o.installRoot = "."
	}
	if o.linger <= 0 {
		o.linger = defaultLingerGrace
	}
	for _, mt := range m.Mounts {
		host := mt.HostDir
		if abs, err := filepath.Abs(host); err == nil {
			host = abs
		}
		// A bind mount, not a "host:container" bind: a colon in a path
		// is fine, and the engine refuses a host directory that does not
		// exist rather than make it (as root).
		o.mounts = append(o.mounts, mount.Mount{Type: mount.TypeBind, Source: host, Target: mt.ContainerDir})
	}
	return o
}

// New returns the executor for the connector name run as m says, with rt.
// A Method that does not validate is an error; a local executable that
// does not exist is a *NotInstalledError.
func New(name string, m Method, rt Runtime) (Executor, error) {
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("connector %s: %w", name, err)
	}
	o := buildOptions(m, rt)
	switch m.Kind {
	case KindLocal:
		return newLocal(name, m.Path, o)
	case KindDocker:
		return newDocker(name, m.Image, o)
	case KindPython:
		return newPython(name, o)
	default: // KindInProcess
		return newInProcess(name, m.Connector, o)
	}
}

// graceFor is how long a connector stopped in a run of verb has between
// SIGTERM and SIGKILL (in process, how long the caller waits for it).
func (o *options) graceFor(verb Verb) time.Duration {
	switch {
	case o.grace > 0:
		return o.grace
	case verb == VerbWrite:
		return defaultWriteGracePeriod
	}
	return defaultGracePeriod
}
