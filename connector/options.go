package connector

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/x/goairbyte/executor"
)

// Option configures a connector built by source.New or destination.New
// (and so a source.Source or a destination.Destination). Each knob of how a connector runs is declared
// here once, for sources and destinations alike. An option that does not
// fit the connector — a Docker knob for a local executable, two ways of
// running it, stream selection for a destination — makes New fail with an
// *OptionError; nothing is silently ignored.
type Option func(*settings)

// settings is what the options say. New checks it and turns it into a
// Connector.
type settings struct {
	given []string // the options given, by name, in order (for messages)

	config         any
	configSet      bool
	onConfigChange func(map[string]any)
	streams        []string
	version        string
	env            *Environment
	logger         *slog.Logger
	logDir         string

	// Explicit ways of running the connector; at most one may be chosen.
	localPath   string
	useLocal    bool
	dockerImage string
	useDocker   bool
	pipURL      string
	python      string
	usePython   bool
	goConnector any
	custom      executor.Executor
	manifest    any // WithManifest's argument; nil when not given

	// Knobs of the declarative engine (a manifest connector).
	httpClient *http.Client
	clock      func() time.Time

	// Knobs of one way.
	hostNetwork      bool
	mounts           []executor.Mount
	installRoot      string
	procEnv          []string
	installIfMissing *bool
}

func (s *settings) note(option string) { s.given = append(s.given, option) }

// WithConfig sets the connector's config: a map[string]any, a struct that
// marshals to a JSON object, a json.RawMessage, a []byte or a string of
// JSON. Values of the form secret_reference::NAME are resolved each time the
// connector runs (see package secrets) and never stored.
func WithConfig(config any) Option {
	return func(s *settings) { s.note("WithConfig"); s.config, s.configSet = config, true }
}

// WithConfigChangeCallback sets a function called with the new config
// whenever the connector emits a CONTROL CONNECTOR_CONFIG message (for
// example after refreshing an OAuth token). Persist it there: the next run
// needs it.
func WithConfigChangeCallback(fn func(newConfig map[string]any)) Option {
	return func(s *settings) { s.note("WithConfigChangeCallback"); s.onConfigChange = fn }
}

// WithStreams selects a source's streams, as source.Source.SelectStreams
// does; "*" selects all. The names are checked once the catalog is known.
// It does not apply to destinations.
func WithStreams(names ...string) Option {
	return func(s *settings) { s.note("WithStreams"); s.streams = append(s.streams, names...) }
}

// WithVersion pins the connector version: the image tag for Docker (when
// the image has none; an image that names another tag, or a digest, is an
// *OptionError), the package version for Python, the published
// manifest's version for a manifest-only connector of the registry (with a
// manifest directory, the version its metadata.yaml must name), the
// version a local executable is reported as. A connector that runs in process is the
// version built into the program, so a pin makes it resolve elsewhere;
// "latest" pins nothing (the newest image, package or manifest elsewhere),
// and one in process stays there.
func WithVersion(version string) Option {
	return func(s *settings) { s.note("WithVersion"); s.version = version }
}

// WithEnvironment makes the connector belong to env instead of
// [DefaultEnvironment]: its registry, secret managers, in-process
// connectors, default cache, logger and progress output.
func WithEnvironment(env *Environment) Option {
	return func(s *settings) { s.note("WithEnvironment"); s.env = env }
}

// WithLogger sends this connector's LOG messages and diagnostics to l
// instead of the Environment's logger.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) { s.note("WithLogger"); s.logger = l }
}

// WithLogDir sets the directory of the log file that keeps a connector
// process's stderr and LOG messages, one file per connector value (from New,
// GetSource or GetDestination), each run in it under a header line
// naming its time and command ($GOAIRBYTE_LOG_DIR, else
// goairbyte/logs in the system temp directory, or goairbyte-logs-<uid>
// when another user owns that). A connector that runs in process
// (WithGoConnector, WithManifest, or registered in its Environment) writes
// no such file, and given this option is an *OptionError at construction;
// its LOG messages go to the logger (WithLogger, else the Environment's) only.
func WithLogDir(dir string) Option {
	return func(s *settings) { s.note("WithLogDir"); s.logDir = dir }
}

// WithLocalExecutable runs the connector as an executable of this machine:
// a path, or a name looked up on PATH.
func WithLocalExecutable(pathOrName string) Option {
	return func(s *settings) {
		s.note("WithLocalExecutable")
		s.localPath, s.useLocal = pathOrName, true
	}
}

// WithDockerImage runs the connector in Docker, a container per command.
// An empty image means the connector's registry image, tagged with the
// version, else the registry's tag, else "latest"; a connector the registry
// does not know is airbyte/<name>. A named image without a tag gets the
// version (or "latest").
func WithDockerImage(image string) Option {
	return func(s *settings) {
		s.note("WithDockerImage")
		s.dockerImage, s.useDocker = image, true
	}
}

// WithHostNetwork runs the Docker container in the host's network, so that
// the connector reaches services on localhost. It implies Docker (the
// default image unless WithDockerImage says otherwise).
func WithHostNetwork(on bool) Option {
	return func(s *settings) { s.note("WithHostNetwork"); s.hostNetwork = on }
}

// WithLocalMount mounts the host directory dir at /local in the Docker
// container (PyAirbyte's convention), so that a destination_path under
// /local lands in dir. It implies Docker. The directory must exist (on the
// Docker engine's machine): the run fails naming it otherwise; "" is an
// *OptionError. Without it, a Docker connector whose config names a path
// under /local gets the directory <project dir>/<name> mounted there, made
// if needed, as PyAirbyte mounts it for every Docker connector (the project
// dir is $AIRBYTE_PROJECT_DIR, else the working directory); a config that
// names none mounts nothing.
func WithLocalMount(dir string) Option {
	return func(s *settings) {
		s.note("WithLocalMount")
		s.mounts = append(s.mounts, executor.Mount{HostDir: dir, ContainerDir: "/local"})
	}
}

// WithPipURL runs the connector from a Python virtualenv into which this
// pip requirement (a package name, a URL or a local path) is installed
// instead of airbyte-<name>. It is installed when the virtualenv has no
// console script named after the connector: one already there is used as
// it is, whatever it was installed from, unless WithVersion pins another
// version (the requirement must then install that version). To install a
// changed local package again, Uninstall first. A local path is built
// without network access, with the setuptools and wheel modules the
// interpreter has.
func WithPipURL(pipURL string) Option {
	return func(s *settings) { s.note("WithPipURL"); s.pipURL, s.usePython = pipURL, true }
}

// WithPython runs the connector from a Python virtualenv created with this
// interpreter (a path or a name on PATH).
func WithPython(interpreter string) Option {
	return func(s *settings) { s.note("WithPython"); s.python, s.usePython = interpreter, true }
}

// WithInstallRoot sets the directory under which Python virtualenvs are
// created (.venv-<name>), in place of the Environment's ($AIRBYTE_INSTALL_DIR,
// else $AIRBYTE_PROJECT_DIR, else the working directory; see
// NewEnvironment). Given to a connector that runs otherwise (chosen by
// another option, or with none found on PATH, in the registry's image or
// in process) it is an *OptionError at construction; the variables, which
// are the process's, apply to the Python connectors only.
func WithInstallRoot(dir string) Option {
	return func(s *settings) { s.note("WithInstallRoot"); s.installRoot = dir }
}

// WithEnv adds "KEY=VALUE" variables to the environment of the connector's
// process or container; one of another form is an *OptionError.
func WithEnv(vars ...string) Option {
	return func(s *settings) { s.note("WithEnv"); s.procEnv = append(s.procEnv, vars...) }
}

// WithInstallIfMissing says whether what is missing (the image, the
// virtualenv) is installed on first use; it is on by default, as in
// PyAirbyte. Off, a missing connector is an error wrapping ErrNotInstalled.
// Off, given to a connector with nothing to install (an executable, chosen
// or found on PATH, or one run in process), it is an *OptionError at
// construction; on, the default restated, it fits every connector, so one
// list of options serves the faker in process and an image alike.
func WithInstallIfMissing(on bool) Option {
	return func(s *settings) { s.note("WithInstallIfMissing"); s.installIfMissing = &on }
}

// WithGoConnector runs c in this process: c implements kit.Source or
// kit.Destination (a connector written in Go with package kit, or the
// declarative-manifest engine). No process, container or encoding is
// involved.
func WithGoConnector(c any) Option {
	return func(s *settings) { s.note("WithGoConnector"); s.goConnector = c }
}

// WithExecutor runs the connector with an executor built by the caller,
// for ways of running it the other options do not cover.
func WithExecutor(e executor.Executor) Option {
	return func(s *settings) { s.note("WithExecutor"); s.custom = e }
}

// WithManifest runs the source natively from a declarative manifest
// (package declarative), in this process, with no Python and no Docker:
// m is a path to a manifest.yaml or an http(s) URL of one (a string),
// its text as a []byte (YAML or JSON; a string holding the text is refused,
// as no path has line breaks), or a map[string]any of it (a Go map has no
// key order, so pass the text when the order of request parameters matters).
// Without it, a connector whose registry entry says manifest-only runs the
// same way from its published manifest (see package registry).
func WithManifest(m any) Option {
	return func(s *settings) { s.note("WithManifest"); s.manifest = m }
}

// WithHTTPClient sets the client a manifest connector makes every request
// with, OAuth and session logins included: a proxy, a corporate CA, or a
// test server. It applies only to connectors run from a manifest, and to
// source-declarative-manifest in process, whose engine is then made anew
// with it (and WithClock, and the connector's logger) in place of the
// registered one's options. Given to any other connector it is an
// *OptionError; Environment.SetHTTPClient sets a client for every manifest
// connector of an Environment (a tenant's) and is no option of the others.
func WithHTTPClient(c *http.Client) Option {
	return func(s *settings) { s.note("WithHTTPClient"); s.httpClient = c }
}

// WithClock sets the clock behind a manifest connector's now_utc(),
// today_utc() and date windows (time.Now by default), to replay recorded
// traffic at a fixed time. It applies where WithHTTPClient does.
func WithClock(now func() time.Time) Option {
	return func(s *settings) { s.note("WithClock"); s.clock = now }
}
