package source

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/registry"
)

// Source is one Airbyte source connector with its config and stream
// selection. Its methods are safe for concurrent use; each command runs its
// own connector process.
type Source struct {
	name           string
	exec           executor.Executor
	version        string
	logger         *slog.Logger
	onConfigChange func(map[string]any)

	mu sync.Mutex
	// config is the config as given (or as the connector changed it),
	// secret references unresolved; nil until set.
	config json.RawMessage
	// refs maps each value the latest prepare resolved back to its
	// reference (see secrets.go).
	refs      map[string]string
	spec      *protocol.ConnectorSpecification
	catalog   *protocol.Catalog
	selectAll bool
	selected  []string

	// pinned is set for a Python connector pinned to a version: the first
	// command installs it (Install replaces another installed version).
	// pinMu serialises that; pinDone records that it succeeded.
	pinned  bool
	pinMu   sync.Mutex
	pinDone bool
}

// New builds a Source for the connector name (such as "source-faker"). It
// starts no process: the connector runs when a method needs it. At most one
// execution method may be given (WithLocalExecutable, WithDockerImage or
// WithHostNetwork, WithPipURL or WithPython, WithExecutor). With none, New
// decides as PyAirbyte does: an executable called name on PATH; otherwise,
// from the connector's registry entry (see package registry), its PyPI
// package when it has an enabled one and Python is available, or its
// Docker image when a Docker engine answers. When nothing fits, the error
// is a *registry.NoMethodError that lists what would be needed; a name the
// registry does not know is an *ExecutionMethodError that also unwraps to
// the registry's error.
//
// Config values of the form secret_reference::NAME are resolved each time
// the connector runs (see package secrets) and never stored: Config returns
// the references.
func New(ctx context.Context, name string, opts ...Option) (*Source, error) {
	var st settings
	for _, o := range opts {
		o(&st)
	}
	s := &Source{name: name, version: st.version, logger: st.logger, onConfigChange: st.onConfigChange}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if st.configSet {
		cfg, err := resolveConfig(st.config)
		if err != nil {
			return nil, err
		}
		s.config = cfg
	}
	ex, version, err := newExecutor(ctx, name, &st, s.mask)
	if err != nil {
		return nil, err
	}
	s.exec, s.version = ex, version
	if _, ok := ex.(*executor.Python); ok && st.exec == nil && st.version != "" && st.version != "latest" &&
		(st.installIfMissing == nil || *st.installIfMissing) {
		s.pinned = true
	}
	if len(st.streams) > 0 {
		s.setSelection(st.streams)
	}
	return s, nil
}

// newExecutor builds the executor the settings ask for and returns it with
// the connector version it implies.
func newExecutor(ctx context.Context, name string, st *settings, mask func(string) string) (executor.Executor, string, error) {
	var methods []string
	if st.exec != nil {
		methods = append(methods, "WithExecutor")
	}
	if st.useLocal {
		methods = append(methods, "WithLocalExecutable")
	}
	if st.useDocker || st.hostNetwork {
		methods = append(methods, "WithDockerImage")
	}
	if st.usePython {
		methods = append(methods, "WithPipURL/WithPython")
	}
	if len(methods) > 1 {
		return nil, "", &ExecutionMethodError{Connector: name, Conflicting: methods}
	}
	common := []executor.Option{executor.WithMask(mask)}
	if st.installIfMissing != nil {
		common = append(common, executor.WithInstallIfMissing(*st.installIfMissing))
	}
	if st.logger != nil {
		common = append(common, executor.WithLogger(st.logger))
	}
	if st.logDir != "" {
		common = append(common, executor.WithLogDir(st.logDir))
	}
	switch {
	case st.exec != nil:
		return st.exec, st.version, nil
	case st.useDocker || st.hostNetwork:
		return newDocker(name, dockerImage(name, st.dockerImage, st.version), st, common)
	case st.usePython:
		return newPython(name, st.pipURL, st.python, st, common)
	case st.useLocal:
		path := st.localPath
		if !strings.ContainsRune(path, '/') {
			if found, err := exec.LookPath(path); err == nil {
				path = found
			}
		}
		return newLocal(name, path, st, common)
	}
	// No explicit method. An executable of that name on PATH wins before
	// the registry is even loaded, so that a local connector needs no
	// network.
	if path, err := exec.LookPath(name); err == nil {
		return newLocal(name, path, st, common)
	}
	conn, err := registry.Lookup(ctx, name)
	if err != nil {
		// Both errors are errors.As-able: the missing method is the
		// caller's to fix, the registry's reason says why it did not help.
		return nil, "", fmt.Errorf("%w; the connector registry cannot say how to run it either: %w", &ExecutionMethodError{Connector: name}, err)
	}
	m, err := registry.ChooseMethod(ctx, conn, st.version, registry.Environment{})
	if err != nil {
		return nil, "", err
	}
	if st.logger != nil {
		st.logger.Debug("execution method chosen from the registry", "connector", name, "method", m.String())
	}
	switch m.Kind {
	case registry.MethodExecutable:
		return newLocal(name, m.Executable, st, common)
	case registry.MethodPython:
		return newPython(name, m.PipRequirement, m.Python, st, common)
	default: // registry.MethodDocker
		return newDocker(name, m.DockerImage, st, common)
	}
}

// newDocker builds a Docker executor for a complete image reference.
func newDocker(name, image string, st *settings, common []executor.Option) (executor.Executor, string, error) {
	opts := append(common, executor.WithHostNetwork(st.hostNetwork))
	ex, err := executor.NewDocker(name, image, opts...)
	if err != nil {
		return nil, "", err
	}
	return ex, executor.ImageTag(image), nil
}

// newPython builds a Python executor installing pipURL ("" for the
// executor's default, airbyte-<name>) with the interpreter python ("" for
// the default). A pinned version is checked against what is installed;
// "latest" pins nothing.
func newPython(name, pipURL, python string, st *settings, common []executor.Option) (executor.Executor, string, error) {
	opts := common
	if pipURL != "" {
		opts = append(opts, executor.WithPipURL(pipURL))
	}
	if python != "" {
		opts = append(opts, executor.WithPython(python))
	}
	if st.installRoot != "" {
		opts = append(opts, executor.WithInstallRoot(st.installRoot))
	}
	if st.version != "" && st.version != "latest" {
		opts = append(opts, executor.WithVersion(st.version))
	}
	ex, err := executor.NewPython(name, opts...)
	if err != nil {
		return nil, "", err
	}
	return ex, st.version, nil
}

// newLocal builds a local-executable executor.
func newLocal(name, path string, st *settings, common []executor.Option) (executor.Executor, string, error) {
	opts := common
	if st.version != "" {
		opts = append(opts, executor.WithVersion(st.version))
	}
	ex, err := executor.NewLocal(name, path, opts...)
	if err != nil {
		return nil, "", err
	}
	return ex, st.version, nil
}

// dockerImage is the image to run: airbyte/<name> unless one is given, with
// the version (or "latest") as its tag when it has none.
func dockerImage(name, image, version string) string {
	if image == "" {
		image = "airbyte/" + name
	}
	if executor.ImageTag(image) != "" || strings.Contains(image, "@") {
		return image
	}
	if version == "" {
		version = "latest"
	}
	return image + ":" + version
}

// Name is the connector's name.
func (s *Source) Name() string { return s.name }

// Executor is how the connector runs.
func (s *Source) Executor() executor.Executor { return s.exec }

// String describes the source for messages.
func (s *Source) String() string { return s.exec.String() }

// ConnectorVersion is the connector's version: what the executor reports
// when it can tell (executor.Versioner: the Docker image's tag, the version
// of the installed Python package, which costs one Python process), else
// the version asked for with WithVersion. It is "" when unknown (a local
// executable without WithVersion, a Python connector not yet installed and
// not pinned).
func (s *Source) ConnectorVersion() string {
	if v, ok := s.exec.(executor.Versioner); ok {
		ctx, cancel := context.WithTimeout(context.Background(), versionTimeout)
		defer cancel()
		if iv, err := v.InstalledVersion(ctx); err == nil && iv != "" {
			return iv
		}
	}
	return s.version
}

// versionTimeout bounds ConnectorVersion's question to the executor.
const versionTimeout = 30 * time.Second

// DocsURL is the connector's documentation: the spec's documentationUrl
// once the spec is known, Airbyte's page for the connector otherwise.
func (s *Source) DocsURL() string {
	s.mu.Lock()
	spec := s.spec
	s.mu.Unlock()
	if spec != nil && spec.DocumentationURL != "" {
		return spec.DocumentationURL
	}
	return "https://docs.airbyte.com/integrations/sources/" + strings.TrimPrefix(strings.ToLower(s.name), "source-")
}

// Install makes the connector runnable: pulls the Docker image (logging the
// pull's progress) or creates the virtualenv and installs the package. It
// does nothing for what is already installed, in the version asked for; a
// Python package of another version is replaced. A failure is an
// *executor.NotInstalledError that names the image (with its registry) or
// the pip requirement.
func (s *Source) Install(ctx context.Context) error { return maskErr(s.exec.Install(ctx)) }

// Uninstall removes what Install created: the virtualenv. Docker images
// are shared with other tools and stay.
func (s *Source) Uninstall(ctx context.Context) error {
	s.pinMu.Lock()
	s.pinDone = false // the next command installs the pinned version again
	s.pinMu.Unlock()
	return maskErr(s.exec.Uninstall(ctx))
}

// SetConfig replaces the config (a map[string]any, a struct, a
// json.RawMessage or JSON bytes). The discovered catalog is forgotten, since
// it may depend on the config; a stream selection is kept and checked again.
func (s *Source) SetConfig(config any) error {
	cfg, err := resolveConfig(config)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.config, s.refs = cfg, nil
	s.catalog = nil
	s.mu.Unlock()
	return nil
}

// Config returns a copy of the config, nil when none is set. It includes the
// changes the connector made through CONTROL messages. Secret references
// (secret_reference::NAME) are returned as references, never resolved.
func (s *Source) Config() map[string]any {
	s.mu.Lock()
	raw := s.config
	s.mu.Unlock()
	if raw == nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m) // resolveConfig made it a valid object
	return m
}

// storedConfig returns the config as stored (references unresolved), or a
// *NoConfigError.
func (s *Source) storedConfig() (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.config == nil {
		return nil, &NoConfigError{Connector: s.name}
	}
	return s.config, nil
}

// run runs one connector command and yields its messages. It is the one
// message loop every command goes through, so that a CONTROL
// CONNECTOR_CONFIG message updates the config (and calls the callback)
// whatever the command.
func (s *Source) run(ctx context.Context, inv executor.Invocation) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		if err := s.installPinned(ctx); err != nil {
			yield(nil, err)
			return
		}
		for msg, err := range s.exec.Run(ctx, inv) {
			// The executor masks what it makes; an executor given with
			// WithExecutor might not.
			err = maskErr(err)
			if err == nil && msg != nil && msg.Type == protocol.TypeControl && msg.Control != nil &&
				msg.Control.Type == protocol.ControlConnectorConfig && msg.Control.ConnectorConfig != nil {
				s.applyConfigChange(msg.Control.ConnectorConfig.Config)
			}
			if !yield(msg, err) {
				return
			}
		}
	}
}

// installPinned makes sure, before the first command, that a Python
// connector pinned with WithVersion is installed in that version: the
// executor only installs a missing connector on Run, while Install also
// detects another installed version and replaces it. A success is
// remembered; a failure is tried again by the next command.
func (s *Source) installPinned(ctx context.Context) error {
	if !s.pinned {
		return nil
	}
	s.pinMu.Lock()
	defer s.pinMu.Unlock()
	if s.pinDone {
		return nil
	}
	if err := s.exec.Install(ctx); err != nil {
		return maskErr(err)
	}
	s.pinDone = true
	return nil
}

// applyConfigChange stores a config the connector sent and tells the
// callback. Unlike SetConfig it keeps the catalog: the connector only
// refreshed its credentials. The connector sends resolved secrets: their
// references are put back (see rereference), and the new config's secret
// fields are registered for masking first.
func (s *Source) applyConfigChange(raw json.RawMessage) {
	sent, err := resolveConfig(raw)
	if err != nil {
		s.logger.Warn("ignoring a CONTROL config from the connector that is not a JSON object", "connector", s.name)
		return
	}
	s.mu.Lock()
	spec, refs := s.spec, s.refs
	s.mu.Unlock()
	if spec != nil {
		s.registerSecrets(spec.ConnectionSpecification, sent)
	}
	cfg := rereference(sent, refs)
	s.mu.Lock()
	s.config = cfg
	s.mu.Unlock()
	s.logger.Info("the connector updated its config", "connector", s.name)
	if s.onConfigChange != nil {
		var m map[string]any
		_ = json.Unmarshal(cfg, &m)
		s.onConfigChange(m)
	}
}

// Spec returns the connector's specification. It runs the connector once and
// then answers from memory.
func (s *Source) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	s.mu.Lock()
	spec := s.spec
	s.mu.Unlock()
	if spec != nil {
		return spec, nil
	}
	var runErr error
	for msg, err := range s.run(ctx, executor.Invocation{Verb: executor.VerbSpec}) {
		if err != nil {
			runErr = err
			break
		}
		if msg.Type == protocol.TypeSpec && msg.Spec != nil && spec == nil {
			spec = msg.Spec
		}
	}
	if runErr != nil {
		return nil, runErr
	}
	if spec == nil {
		return nil, fmt.Errorf("%s: the connector's spec command ended without a SPEC message; is it an Airbyte connector?", s.name)
	}
	s.mu.Lock()
	s.spec = spec
	s.mu.Unlock()
	return spec, nil
}

// ConfigSpec returns the JSON schema of the connector's config.
func (s *Source) ConfigSpec(ctx context.Context) (json.RawMessage, error) {
	spec, err := s.Spec(ctx)
	if err != nil {
		return nil, err
	}
	return spec.ConnectionSpecification, nil
}

// Check asks the connector whether it can connect with the config. It
// returns nil when the connector says SUCCEEDED and a *CheckFailedError with
// the connector's message when it says FAILED, whatever its exit code. The
// config is not validated against the spec first: the connector judges.
func (s *Source) Check(ctx context.Context) error {
	cfg, err := s.prepare(ctx)
	if err != nil {
		return err
	}
	var status *protocol.ConnectionStatus
	var runErr error
	for msg, err := range s.run(ctx, executor.Invocation{Verb: executor.VerbCheck, Config: cfg}) {
		if err != nil {
			runErr = err
			break
		}
		if msg.Type == protocol.TypeConnectionStatus && msg.ConnectionStatus != nil {
			status = msg.ConnectionStatus
		}
	}
	switch {
	case status != nil && status.Status == protocol.StatusFailed:
		return &CheckFailedError{Connector: s.name, Message: s.mask(status.Message), Err: runErr}
	case runErr != nil:
		return runErr
	case status == nil:
		return &CheckFailedError{Connector: s.name, Message: "the connector ended without a CONNECTION_STATUS message"}
	case status.Status != protocol.StatusSucceeded:
		return &CheckFailedError{Connector: s.name, Message: fmt.Sprintf("unknown status %q: %s", status.Status, s.mask(status.Message))}
	}
	return nil
}

// Discover runs the connector's discover command and returns the catalog of
// its streams, replacing the remembered one. Use DiscoveredCatalog to reuse
// it. The config is validated against the spec first. A stream selection
// made earlier is checked when it is used (SelectedStreams).
func (s *Source) Discover(ctx context.Context) (*protocol.Catalog, error) {
	if err := s.ValidateConfig(ctx); err != nil {
		return nil, err
	}
	cfg, err := s.prepare(ctx)
	if err != nil {
		return nil, err
	}
	var catalog *protocol.Catalog
	var runErr error
	for msg, err := range s.run(ctx, executor.Invocation{Verb: executor.VerbDiscover, Config: cfg}) {
		if err != nil {
			runErr = err
			break
		}
		if msg.Type == protocol.TypeCatalog && msg.Catalog != nil {
			catalog = msg.Catalog
		}
	}
	if runErr != nil {
		return nil, runErr
	}
	if catalog == nil {
		return nil, fmt.Errorf("%s: the connector's discover command ended without a CATALOG message", s.name)
	}
	s.mu.Lock()
	s.catalog = catalog
	s.mu.Unlock()
	return catalog, nil
}

// DiscoveredCatalog returns the catalog, running discover only the first
// time (and after SetConfig).
func (s *Source) DiscoveredCatalog(ctx context.Context) (*protocol.Catalog, error) {
	s.mu.Lock()
	c := s.catalog
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	return s.Discover(ctx)
}

// AvailableStreams returns the names of the connector's streams.
func (s *Source) AvailableStreams(ctx context.Context) ([]string, error) {
	c, err := s.DiscoveredCatalog(ctx)
	if err != nil {
		return nil, err
	}
	return streamNames(c), nil
}

func streamNames(c *protocol.Catalog) []string {
	names := make([]string, len(c.Streams))
	for i, st := range c.Streams {
		names[i] = st.Name
	}
	return names
}

// stream finds a stream of the catalog, or returns a *StreamNotFoundError.
func (s *Source) stream(c *protocol.Catalog, name string) (*protocol.Stream, error) {
	for i := range c.Streams {
		if c.Streams[i].Name == name {
			return &c.Streams[i], nil
		}
	}
	return nil, &StreamNotFoundError{Connector: s.name, Stream: name, Available: streamNames(c)}
}

// SelectStreams selects the streams to read; "*" selects all of them. When
// the config is set, the names are checked against the catalog now
// (running discover if needed) and an unknown one is a *StreamNotFoundError
// that leaves the selection unchanged. Before the config is set, the
// selection is remembered and checked once the catalog is known.
func (s *Source) SelectStreams(ctx context.Context, names ...string) error {
	if _, err := s.storedConfig(); err == nil {
		c, err := s.DiscoveredCatalog(ctx)
		if err != nil {
			return err
		}
		if !slices.Contains(names, "*") {
			for _, n := range names {
				if _, err := s.stream(c, n); err != nil {
					return err
				}
			}
		}
	}
	s.setSelection(names)
	return nil
}

// SelectAllStreams selects every stream of the catalog.
func (s *Source) SelectAllStreams() { s.setSelection([]string{"*"}) }

func (s *Source) setSelection(names []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(names, "*") {
		s.selectAll, s.selected = true, nil
		return
	}
	s.selectAll = false
	s.selected = slices.Compact(slices.Clone(names))
}

// SelectedStreams returns the names of the selected streams, in catalog
// order for "*". It discovers the catalog when it needs to, and returns a
// *StreamNotFoundError for a name remembered from before the config was set
// that the catalog does not have.
func (s *Source) SelectedStreams(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	all, names := s.selectAll, slices.Clone(s.selected)
	s.mu.Unlock()
	c, err := s.DiscoveredCatalog(ctx)
	if err != nil {
		return nil, err
	}
	if all {
		return streamNames(c), nil
	}
	for _, n := range names {
		if _, err := s.stream(c, n); err != nil {
			return nil, err
		}
	}
	return names, nil
}
