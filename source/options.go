package source

import (
	"log/slog"

	"github.com/x/goairbyte/executor"
)

// Option configures a Source built by [New]. The options mirror the
// arguments of PyAirbyte's get_source.
type Option func(*settings)

// settings collects what the options say; New turns it into a Source.
type settings struct {
	config         any
	configSet      bool
	onConfigChange func(map[string]any)
	streams        []string
	version        string

	// Execution methods; at most one may be chosen explicitly.
	localPath   string
	useLocal    bool
	dockerImage string
	useDocker   bool
	hostNetwork bool
	pipURL      string
	python      string
	usePython   bool
	exec        executor.Executor

	installRoot      string
	installIfMissing *bool
	logger           *slog.Logger
	logDir           string
}

// WithConfig sets the connector's config: a map[string]any, a struct that
// marshals to a JSON object, a json.RawMessage or a []byte holding JSON.
func WithConfig(config any) Option {
	return func(s *settings) { s.config, s.configSet = config, true }
}

// WithConfigChangeCallback sets a function called with the new config
// whenever the connector emits a CONTROL CONNECTOR_CONFIG message (for
// example after refreshing an OAuth token). Persist it there: the next run
// needs it.
func WithConfigChangeCallback(fn func(newConfig map[string]any)) Option {
	return func(s *settings) { s.onConfigChange = fn }
}

// WithStreams selects streams, as [Source.SelectStreams] does; "*" selects
// all. The names are checked once the catalog is known.
func WithStreams(names ...string) Option {
	return func(s *settings) { s.streams = append(s.streams, names...) }
}

// WithVersion pins the connector version: the image tag for Docker (when the
// image has none), the package version for Python. A local executable runs
// whatever version it is.
func WithVersion(version string) Option {
	return func(s *settings) { s.version = version }
}

// WithLocalExecutable runs the connector as a local executable: a path, or a
// name looked up on PATH. It is an explicit execution method.
func WithLocalExecutable(pathOrName string) Option {
	return func(s *settings) { s.localPath, s.useLocal = pathOrName, true }
}

// WithDockerImage runs the connector in Docker. An empty image means the
// default image for the name, airbyte/<name>. When the image has no tag, the
// version (or "latest") is appended. It is an explicit execution method.
func WithDockerImage(image string) Option {
	return func(s *settings) { s.dockerImage, s.useDocker = image, true }
}

// WithHostNetwork runs the Docker container on the host's network, so that
// a connector can reach services on localhost. Setting it to true implies
// Docker (with the default image unless WithDockerImage says otherwise).
func WithHostNetwork(on bool) Option {
	return func(s *settings) { s.hostNetwork = on }
}

// WithPipURL runs the connector from a Python virtualenv into which this pip
// requirement (a package name, a URL or a local path) is installed instead
// of airbyte-<name>. It is an explicit execution method.
func WithPipURL(pipURL string) Option {
	return func(s *settings) { s.pipURL, s.usePython = pipURL, true }
}

// WithPython runs the connector from a Python virtualenv created with this
// interpreter (a path or a name on PATH). It is an explicit execution method.
func WithPython(interpreter string) Option {
	return func(s *settings) { s.python, s.usePython = interpreter, true }
}

// WithInstallRoot sets the directory under which Python virtualenvs are
// created (.venv-<name>).
func WithInstallRoot(dir string) Option {
	return func(s *settings) { s.installRoot = dir }
}

// WithInstallIfMissing says whether what is missing (the image, the
// virtualenv) is installed on first use; it is on by default, as in
// PyAirbyte. Off, a missing connector is an *executor.NotInstalledError.
func WithInstallIfMissing(on bool) Option {
	return func(s *settings) { s.installIfMissing = &on }
}

// WithLogger sets the logger that receives the connector's LOG messages and
// the Source's own diagnostics. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) { s.logger = l }
}

// WithLogDir sets the directory of the per-connector log files that keep
// the connector's stderr.
func WithLogDir(dir string) Option {
	return func(s *settings) { s.logDir = dir }
}

// WithExecutor runs the connector with an executor built by the caller, for
// uses the other options do not cover. It is an explicit execution method;
// the executor options of New (logger, log dir, masking) do not apply to it.
func WithExecutor(e executor.Executor) Option {
	return func(s *settings) { s.exec = e }
}
