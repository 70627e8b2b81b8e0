package destination

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/registry"
	"github.com/x/goairbyte/source"
)

// Destination is one Airbyte destination connector with its config. Its
// methods are safe for concurrent use; each command runs its own connector
// process.
type Destination struct {
	name string
	// core runs the connector: a destination is driven exactly as a
	// source is (executor, config, masking, CONTROL messages), so it reuses
	// the source package's connector handling rather than a copy of it.
	core   *source.Source
	logger *slog.Logger
	noop   bool
}

// Option configures a Destination built by [New]. The options are those of
// sources, under the same names.
type Option func(*settings)

type settings struct {
	src        []source.Option
	logger     *slog.Logger
	localMount string
	docker     bool
	image      string
	imageSet   bool // WithDockerImage was given, even with ""
	version    string
}

func wrap(o source.Option) Option { return func(s *settings) { s.src = append(s.src, o) } }

// WithConfig sets the connector's config (a map, a struct, JSON bytes or a
// json.RawMessage).
func WithConfig(config any) Option { return wrap(source.WithConfig(config)) }

// WithConfigChangeCallback is called with the new config when the
// connector emits a CONTROL CONNECTOR_CONFIG message.
func WithConfigChangeCallback(fn func(newConfig map[string]any)) Option {
	return wrap(source.WithConfigChangeCallback(fn))
}

// WithVersion pins the connector version (image tag, package version).
func WithVersion(version string) Option {
	return func(s *settings) { s.version = version; s.src = append(s.src, source.WithVersion(version)) }
}

// WithLocalExecutable runs the connector as a local executable (a path or a
// name on PATH).
func WithLocalExecutable(pathOrName string) Option {
	return wrap(source.WithLocalExecutable(pathOrName))
}

// WithDockerImage runs the connector in Docker; "" means airbyte/<name>.
func WithDockerImage(image string) Option {
	return func(s *settings) {
		s.docker, s.image, s.imageSet = true, image, true
		s.src = append(s.src, source.WithDockerImage(image))
	}
}

// WithHostNetwork runs the Docker container on the host's network.
func WithHostNetwork(on bool) Option { return wrap(source.WithHostNetwork(on)) }

// WithPipURL runs the connector from a virtualenv with this pip requirement.
func WithPipURL(pipURL string) Option { return wrap(source.WithPipURL(pipURL)) }

// WithPython runs the connector from a virtualenv made with this
// interpreter.
func WithPython(interpreter string) Option { return wrap(source.WithPython(interpreter)) }

// WithInstallRoot sets where Python virtualenvs are created.
func WithInstallRoot(dir string) Option { return wrap(source.WithInstallRoot(dir)) }

// WithInstallIfMissing says whether a missing connector is installed on
// first use (on by default).
func WithInstallIfMissing(on bool) Option { return wrap(source.WithInstallIfMissing(on)) }

// WithLogger sets the logger for the connector's LOG messages and the
// Destination's own warnings.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) { s.logger = l; s.src = append(s.src, source.WithLogger(l)) }
}

// WithLogDir sets the directory of the connector's log files.
func WithLogDir(dir string) Option { return wrap(source.WithLogDir(dir)) }

// WithExecutor runs the connector with an executor built by the caller.
func WithExecutor(e executor.Executor) Option { return wrap(source.WithExecutor(e)) }

// WithLocalMount mounts the host directory dir at /local in the
// connector's Docker container (PyAirbyte's convention), so that a
// destination_path under /local lands in dir. It implies Docker.
func WithLocalMount(dir string) Option {
	return func(s *settings) { s.localMount, s.docker = dir, true }
}

// New builds a Destination for the connector name (such as
// "destination-duckdb"). It starts no process. With no execution method it
// resolves as source.New does: an executable on PATH, else the connector's
// registry entry (PyPI package or Docker image). WithLocalMount without
// WithDockerImage runs the registry's image for the name (airbyte/<name>
// when the registry does not know it).
func New(ctx context.Context, name string, opts ...Option) (*Destination, error) {
	var st settings
	for _, o := range opts {
		o(&st)
	}
	d := &Destination{name: name, logger: st.logger}
	if d.logger == nil {
		d.logger = slog.Default()
	}
	srcOpts := st.src
	if st.localMount != "" {
		// The mount is an executor option no source option carries: build
		// the Docker executor here, masking through the connector's config.
		image := dockerImage(name, st.image, st.version)
		if !st.imageSet {
			if c, err := registry.Lookup(ctx, name); err == nil && c.DockerRepository != "" {
				image = c.DockerImage(st.version)
			}
		}
		ex, err := executor.NewDocker(name, image,
			executor.WithBindMount(st.localMount, "/local"),
			executor.WithMask(d.mask),
			executor.WithLogger(d.logger))
		if err != nil {
			return nil, err
		}
		var keep []source.Option
		keep = append(keep, source.WithExecutor(ex))
		// The remaining options (config, callback, version, logger) still
		// apply; the Docker one would conflict with WithExecutor.
		var probe settings
		for _, o := range opts {
			probe = settings{}
			o(&probe)
			if !probe.docker {
				keep = append(keep, probe.src...)
			}
		}
		srcOpts = keep
	}
	core, err := source.New(ctx, name, srcOpts...)
	if err != nil {
		return nil, err
	}
	d.core = core
	return d, nil
}

func (d *Destination) mask(text string) string {
	if d.core == nil {
		return text
	}
	return d.core.Mask(text)
}

// dockerImage is airbyte/<name> unless an image is given, tagged with the
// version (or latest) when it has no tag.
func dockerImage(name, image, version string) string {
	if image == "" {
		image = "airbyte/" + name
	}
	last := image[strings.LastIndexByte(image, '/')+1:]
	if strings.Contains(last, ":") || strings.Contains(image, "@") {
		return image
	}
	if version == "" {
		version = "latest"
	}
	return image + ":" + version
}

// Name is the connector's name; it keys the destination's state.
func (d *Destination) Name() string { return d.name }

// String says how the connector runs.
func (d *Destination) String() string {
	if d.noop {
		return "no-op destination (in process)"
	}
	return d.core.String()
}

// Spec returns the connector's specification (run once, then remembered).
func (d *Destination) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	if d.noop {
		return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`),
			SupportedDestinationSyncModes: []protocol.DestinationSyncMode{protocol.DestinationAppend, protocol.DestinationOverwrite, protocol.DestinationAppendDedup}}, nil
	}
	return d.core.Spec(ctx)
}

// Check asks the connector whether it can write with the config; a
// *source.CheckFailedError says why not.
func (d *Destination) Check(ctx context.Context) error {
	if d.noop {
		return nil
	}
	return d.core.Check(ctx)
}

// SetConfig replaces the config.
func (d *Destination) SetConfig(config any) error {
	if d.noop {
		return nil
	}
	return d.core.SetConfig(config)
}

// Config returns a copy of the config, nil when none is set.
func (d *Destination) Config() map[string]any {
	if d.noop {
		return nil
	}
	return d.core.Config()
}

// ValidateConfig checks the config against the connector's spec; a
// *source.ConfigValidationError lists every failing field.
func (d *Destination) ValidateConfig(ctx context.Context) error {
	if d.noop {
		return nil
	}
	return d.core.ValidateConfig(ctx)
}

// DocsURL is the connector's documentation: the spec's documentationUrl
// once known, Airbyte's page for the destination otherwise.
func (d *Destination) DocsURL() string {
	page := "https://docs.airbyte.com/integrations/destinations/" + strings.TrimPrefix(strings.ToLower(d.name), "destination-")
	if d.noop {
		return page
	}
	u := d.core.DocsURL()
	if strings.HasPrefix(u, "https://docs.airbyte.com/integrations/sources/") {
		return page // the spec is not known yet; the core guessed a source page
	}
	return u
}

// ConnectorVersion is the version the destination was set up with ("" when
// unknown).
func (d *Destination) ConnectorVersion() string {
	if d.noop {
		return ""
	}
	return d.core.ConnectorVersion()
}

// Noop returns a destination that discards every record and confirms every
// state at once, in process: no connector runs. It measures what a source
// and the pipeline cost on their own.
func Noop() *Destination {
	return &Destination{name: "destination-noop", logger: slog.Default(), noop: true}
}
