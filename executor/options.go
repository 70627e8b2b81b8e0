package executor

import (
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/moby/client"
)

// LogDirEnv names the environment variable that sets the default directory
// of the per-connector log files.
const LogDirEnv = "GOAIRBYTE_LOG_DIR"

// DefaultGracePeriod is how long a connector has to exit after SIGTERM before
// it is killed.
const DefaultGracePeriod = 2 * time.Second

// Option configures an executor. Options that do not apply to an executor
// (a Docker image option for a local executable, say) are ignored by it.
type Option func(*options)

type options struct {
	logger           *slog.Logger
	logDir           string
	mask             func(string) string
	env              []string
	hostNetwork      bool
	installIfMissing bool
	binds            []string
	pipURL           string
	python           string
	installRoot      string
	version          string
	dockerClient     *client.Client
	grace            time.Duration
}

func buildOptions(opts []Option) *options {
	o := &options{
		logger:           slog.Default(),
		mask:             func(s string) string { return s },
		installIfMissing: true,
		python:           "python3",
		installRoot:      ".",
		grace:            DefaultGracePeriod,
	}
	for _, opt := range opts {
		opt(o)
	}
	if o.logDir == "" {
		o.logDir = DefaultLogDir()
	}
	return o
}

// DefaultLogDir is where connector log files go unless WithLogDir says
// otherwise: $GOAIRBYTE_LOG_DIR, or goairbyte/logs under the system temp
// directory.
func DefaultLogDir() string {
	if d := os.Getenv(LogDirEnv); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "goairbyte", "logs")
}

// WithLogger sends the connector's LOG messages (at their level), its
// unparsed output lines and the executor's own events to l. The default is
// slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithLogDir sets the directory of the per-connector log file, which keeps
// all of the connector's stderr and LOG messages (masked).
func WithLogDir(dir string) Option { return func(o *options) { o.logDir = dir } }

// WithMask sets the function applied to every stderr line, log line and
// error text before it leaves the executor, so that secrets never do.
func WithMask(mask func(string) string) Option {
	return func(o *options) {
		if mask != nil {
			o.mask = mask
		}
	}
}

// WithEnv adds "KEY=VALUE" variables to the connector's environment (the
// process's or the container's).
func WithEnv(env ...string) Option { return func(o *options) { o.env = append(o.env, env...) } }

// WithHostNetwork runs a Docker connector in the host's network namespace,
// so that it can reach services on 127.0.0.1.
func WithHostNetwork(on bool) Option { return func(o *options) { o.hostNetwork = on } }

// WithInstallIfMissing says whether Run may install a missing connector
// (docker pull, pip install into the venv) before running it. It is on by
// default, as in PyAirbyte; when off, a missing connector is a
// *NotInstalledError.
func WithInstallIfMissing(on bool) Option { return func(o *options) { o.installIfMissing = on } }

// WithBindMount mounts hostDir at containerDir in a Docker connector's
// container (destinations write under /local by convention).
func WithBindMount(hostDir, containerDir string) Option {
	return func(o *options) {
		if abs, err := filepath.Abs(hostDir); err == nil {
			hostDir = abs
		}
		o.binds = append(o.binds, hostDir+":"+containerDir)
	}
}

// WithPipURL sets what pip installs for a Python connector: a package spec,
// a URL or a local path. The default is airbyte-<name>, with ==version when
// a version is set.
func WithPipURL(u string) Option { return func(o *options) { o.pipURL = u } }

// WithPython sets the interpreter that creates a Python connector's venv
// (default "python3" from PATH).
func WithPython(interpreter string) Option { return func(o *options) { o.python = interpreter } }

// WithInstallRoot sets the directory holding Python connectors' venvs
// (.venv-<name>); the default is the current directory, as in PyAirbyte.
func WithInstallRoot(dir string) Option { return func(o *options) { o.installRoot = dir } }

// WithVersion sets the connector version a Python executor installs (and
// reinstalls when another one is installed).
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// WithDockerClient makes a Docker executor use c instead of a client built
// from the environment (DOCKER_HOST etc.).
func WithDockerClient(c *client.Client) Option { return func(o *options) { o.dockerClient = c } }

// WithGracePeriod sets how long a connector has between SIGTERM and SIGKILL
// when it is stopped (default DefaultGracePeriod).
func WithGracePeriod(d time.Duration) Option { return func(o *options) { o.grace = d } }
