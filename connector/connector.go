package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"sync"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/builtin"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/kitcore"
	"github.com/x/goairbyte/internal/loopback"
	"github.com/x/goairbyte/internal/masklease"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/secrets"
)

// Connector is one Airbyte connector with its config: what sources and
// destinations share. It knows how the connector runs, keeps the config
// (secret references unresolved), resolves secrets once per operation and
// masks them for every run, remembers the spec, and runs any command
// through one message loop that applies the connector's CONTROL config
// updates. Its methods are safe for
// concurrent use; each command is its own run.
//
// source.Source and destination.Destination embed a *Connector, so its
// methods are theirs.
type Connector struct {
	kind           core.Kind
	name           string
	exec           executor.Executor
	version        string
	env            *Environment
	logger         *slog.Logger
	onConfigChange func(map[string]any)
	streams        []string

	mu sync.Mutex
	// config is the config as given (or as the connector changed it),
	// secret references unresolved; nil until set.
	config json.RawMessage
	spec   *protocol.ConnectorSpecification

	// vault keeps the SecretStrings of a config given as a Go value (see
	// secretstrings.go).
	vault vault
	// held masks the secret values of the config while the Connector
	// lives (see heldSecrets).
	held *heldSecrets

	// pinned is set for a Python connector pinned to a version: the first
	// command installs it (Install replaces another installed version).
	// pinMu serialises that; pinDone records that it succeeded.
	pinned  bool
	pinMu   sync.Mutex
	pinDone bool
}

// newConnector builds the connector called name (such as "source-faker"),
// for source.New and destination.New (through package core). It starts
// nothing: the connector runs when a command needs it. How it runs is what
// the options say — at most one of WithLocalExecutable, WithDockerImage (or
// the Docker knobs WithHostNetwork and WithLocalMount), WithPipURL /
// WithPython, WithGoConnector and WithExecutor — and otherwise what
// PyAirbyte would choose: a connector registered in the Environment runs
// in process, then an executable called name on PATH, then, from the
// connector's registry entry, its PyPI package when Python is available or
// its Docker image when a Docker engine answers. Options that do not fit
// are an *OptionError; a connector nothing can run is a *NoMethodError
// listing what would be needed.
func newConnector(ctx context.Context, kind core.Kind, name string, opts ...Option) (*Connector, error) {
	var st settings
	for _, o := range opts {
		o(&st)
	}
	if err := st.check(kind, name); err != nil {
		return nil, err
	}
	env := st.env
	if env == nil {
		env = DefaultEnvironment()
	}
	c := &Connector{kind: kind, name: name, env: env, logger: st.logger, onConfigChange: st.onConfigChange,
		streams: st.streams}
	c.held = newHeldSecrets(c)
	if c.logger == nil {
		c.logger = env.Logger()
	}
	if st.configSet {
		cfg, err := c.normalize(st.config)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		c.config = cfg
	}
	rt := executor.Runtime{Logger: c.logger, LogDir: st.logDir, Mask: secrets.Mask}
	if st.installIfMissing != nil {
		rt.NoInstall = !*st.installIfMissing
	}
	r, err := st.resolve(ctx, kind, name, env, rt)
	if err == nil {
		err = st.checkResolved(name, r)
	}
	if err != nil {
		return nil, err
	}
	c.exec, c.version, c.pinned = r.exec, r.version, r.pinned
	return c, nil
}

// Name is the connector's name.
func (c *Connector) Name() string { return c.name }

// String says how the connector runs, for messages.
func (c *Connector) String() string { return c.exec.String() }

// Version is the connector's version: what the executor reports when it
// can tell (the Docker image's tag, the version of the installed Python
// package, which costs one Python process; for goairbyte's own connectors
// run in process, theirs, as the registry gives it), else the version
// asked for with WithVersion; "" when unknown.
func (c *Connector) Version(ctx context.Context) string {
	if v, ok := c.exec.(interface {
		InstalledVersion(ctx context.Context) (string, error)
	}); ok {
		if iv, err := v.InstalledVersion(ctx); err == nil && iv != "" {
			return iv
		}
	}
	return c.version
}

// loopbackHint says what to do about a failure, reason, of a connector in a
// Docker container whose config names this machine's localhost; "" for
// any other.
func (c *Connector) loopbackHint(reason string) string {
	if m := c.exec.Method(); m.Kind != executor.KindDocker || m.HostNetwork {
		return ""
	}
	config, err := json.Marshal(c.Config())
	if err != nil {
		return ""
	}
	return loopback.Hint(config, reason)
}

// DocsURL is the connector's documentation: the spec's documentationUrl
// once the spec is known; before, for goairbyte's own connectors (the
// faker, local-JSON, no-op and declarative-manifest ones) the page their
// spec gives, and Airbyte's page for the connector for any other.
func (c *Connector) DocsURL() string {
	c.mu.Lock()
	spec := c.spec
	c.mu.Unlock()
	if spec != nil && spec.DocumentationURL != "" {
		return spec.DocumentationURL
	}
	if id, ok := builtin.Lookup(c.name); ok {
		return id.DocsURL
	}
	dir := "sources"
	if c.kind == core.KindDestination {
		dir = "destinations"
	}
	short := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(c.name), "source-"), "destination-")
	return "https://docs.airbyte.com/integrations/" + dir + "/" + short
}

// Install makes the connector runnable: pulls the Docker image or creates
// the virtualenv and installs the package. It does nothing for what is
// already installed in the version asked for; a Python package of another
// version is replaced. A failure wraps executor.ErrNotInstalled.
//
// A virtualenv is installed, replaced or removed by one process at a time,
// and not while the connector runs from it, in this process or another:
// Install and Uninstall wait for those until ctx ends.
func (c *Connector) Install(ctx context.Context) error { return maskErr(c.exec.Install(ctx)) }

// Uninstall removes what Install created: the virtualenv (once no run of
// the connector uses it; see Install). Docker images are shared with other
// tools and stay, and so does the empty <venv>.lock beside the virtualenv,
// through which processes take turns (removing it would let two of them
// hold two locks of one venv).
func (c *Connector) Uninstall(ctx context.Context) error {
	c.pinMu.Lock()
	c.pinDone = false // the next command installs the pinned version again
	c.pinMu.Unlock()
	return maskErr(c.exec.Uninstall(ctx))
}

// SetConfig replaces the config (a map[string]any, a struct, a
// json.RawMessage, a []byte or a string of JSON). A secrets.SecretString in
// a map or struct reaches the connector as its value, and Config shows it
// as a secret reference. It checks the config's shape, not the spec: unlike
// PyAirbyte's set_config it runs nothing; ValidateConfig does, and so do
// the reads and writes before they start.
func (c *Connector) SetConfig(config any) error {
	cfg, err := c.normalize(config)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	c.mu.Lock()
	c.config = cfg
	c.mu.Unlock()
	// The old config's secrets are masked no longer on its account; the
	// new one's are held when a command first resolves it.
	c.held.releaseAll()
	return nil
}

// Config returns a copy of the config, nil when none is set. It includes the
// changes the connector made through CONTROL messages. Secret references
// (secret_reference::NAME) are returned as references, never resolved.
// A secrets.SecretString of the config is returned as a reference too,
// secret_reference::goairbyte-secretstring-N, which only this Connector
// resolves: to give the config to another one, put the SecretString back.
func (c *Connector) Config() map[string]any {
	c.mu.Lock()
	raw := c.config
	c.mu.Unlock()
	if raw == nil {
		return nil
	}
	var m map[string]any
	_ = decodeJSON(raw, &m) // normalizeConfig made it a valid object
	return m
}

// hasConfig reports whether a config is set.
func (c *Connector) hasConfig() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.config != nil
}

// storedConfig returns the config as stored (references unresolved), or a
// *NoConfigError.
func (c *Connector) storedConfig() (json.RawMessage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.config == nil {
		return nil, &NoConfigError{Connector: c.name}
	}
	return c.config, nil
}

// runCommand runs one command of the connector and yields its messages. Every
// command but spec gets the config, its secret references resolved; a
// CONTROL CONNECTOR_CONFIG message updates the stored config (and calls the
// WithConfigChangeCallback function) whatever the command. The other fields
// of inv are passed on as they are.
//
// With validate, the config is validated against the spec first: a config
// that does not satisfy it is a *ConfigValidationError and the connector
// does not start. The secrets are resolved once for both.
func (c *Connector) runCommand(ctx context.Context, inv executor.Invocation, validate bool) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		var refs map[string]string
		if inv.Verb != executor.VerbSpec {
			cfg, r, held, err := c.prepare(ctx)
			if err == nil && validate {
				err = c.validate(ctx, cfg)
			}
			if err != nil {
				yield(nil, err)
				return
			}
			inv.Config, refs = cfg, r
			// The run holds the secrets of its config too: a SetConfig
			// while it runs releases the Connector's hold of them.
			defer masklease.Hold(held...)()
		}
		for m, err := range c.run(ctx, inv, refs) {
			if !yield(m, err) {
				return
			}
		}
	}
}

// run runs inv as it is: the one message loop every command goes through.
// refs are the references resolved into inv's config, which a CONTROL
// config of this run gets back: this run's, since a SetConfig or another
// run may have resolved another config meanwhile.
func (c *Connector) run(ctx context.Context, inv executor.Invocation, refs map[string]string) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		if err := c.installPinned(ctx); err != nil {
			yield(nil, err)
			return
		}
		for msg, err := range c.exec.Run(ctx, inv) {
			// The executor masks what it makes; one given with WithExecutor
			// might not.
			err = maskErr(err)
			if err == nil && msg != nil && msg.Type == protocol.TypeControl && msg.Control != nil &&
				msg.Control.Type == protocol.ControlConnectorConfig && msg.Control.ConnectorConfig != nil {
				c.applyConfigChange(msg.Control.ConnectorConfig.Config, refs)
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
func (c *Connector) installPinned(ctx context.Context) error {
	if !c.pinned {
		return nil
	}
	c.pinMu.Lock()
	defer c.pinMu.Unlock()
	if c.pinDone {
		return nil
	}
	if err := c.exec.Install(ctx); err != nil {
		return maskErr(err)
	}
	c.pinDone = true
	return nil
}

// applyConfigChange stores a config the connector sent and tells the
// callback. The connector sends resolved secrets: their references are put
// back (see rereference), and the new config's secret fields are
// registered for masking first. A config that holds a reference itself is
// ignored: the connector chose it, and the next run would resolve it and
// hand the connector a secret it was never given.
func (c *Connector) applyConfigChange(raw json.RawMessage, refs map[string]string) {
	sent, err := normalizeConfig(raw)
	if err != nil {
		c.logger.Warn("ignoring a CONTROL config from the connector that is not a JSON object", "connector", c.name)
		return
	}
	if holdsReference(sent) {
		c.logger.Warn("ignoring a CONTROL config from the connector that names a secret ("+secrets.ReferencePrefix+"NAME): "+
			"a connector is given the secrets its configuration names and cannot ask for others", "connector", c.name)
		return
	}
	c.mu.Lock()
	spec := c.spec
	c.mu.Unlock()
	if spec != nil {
		c.held.hold(c.secretValues(spec.ConnectionSpecification, sent))
	}
	cfg := rereference(sent, refs)
	c.mu.Lock()
	c.config = cfg
	c.mu.Unlock()
	c.logger.Info("the connector updated its config", "connector", c.name)
	if c.onConfigChange != nil {
		var m map[string]any
		_ = decodeJSON(cfg, &m)
		c.onConfigChange(m)
	}
}

// Spec returns the connector's specification. It runs the connector once and
// then answers from memory.
func (c *Connector) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	c.mu.Lock()
	spec := c.spec
	c.mu.Unlock()
	if spec != nil {
		return spec, nil
	}
	var runErr error
	for msg, err := range c.run(ctx, executor.Invocation{Verb: executor.VerbSpec}, nil) {
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
		return nil, fmt.Errorf("%s: the connector's spec command ended without a SPEC message; is it an Airbyte connector?", c.name)
	}
	c.mu.Lock()
	c.spec = spec
	c.mu.Unlock()
	return spec, nil
}

// configSpec returns the JSON schema of the connector's config.
func (c *Connector) configSpec(ctx context.Context) (json.RawMessage, error) {
	spec, err := c.Spec(ctx)
	if err != nil {
		return nil, err
	}
	return spec.ConnectionSpecification, nil
}

// Check asks the connector whether it can connect with the config. It
// returns nil when the connector says SUCCEEDED and a *CheckFailedError with
// the connector's message when it says FAILED, whatever its exit code. The
// config is not validated against the spec first: the connector judges.
// A connector whose image, executable or package is named as one of the
// other kind (source-… got as a destination, or the reverse) and whose
// spec agrees (a destination's declares its destination sync modes, a
// source's none) is an *OptionError before it runs: a source answers check
// as a destination would. Config validation (ValidateConfig, and so Read
// and Write) refuses it the same way.
func (c *Connector) Check(ctx context.Context) error {
	ctx = withOperation(ctx)
	if err := c.checkRole(ctx); err != nil {
		return err
	}
	// A connector run in process leaves the Go error behind its FAILED
	// verdict here, for the *CheckFailedError to unwrap to.
	var cause error
	ctx = kitcore.WithCheckCause(ctx, &cause)
	var status *protocol.ConnectionStatus
	var runErr error
	var report executor.RunReport
	for msg, err := range c.runCommand(ctx, executor.Invocation{Verb: executor.VerbCheck, Report: &report}, false) {
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
		msg := status.Message
		if strings.TrimSpace(msg) == "" {
			// Some connectors leave the reason to their log or stderr.
			msg = reportReason(&report)
		}
		if runErr == nil && cause != nil {
			runErr = maskErr(cause)
		}
		return &CheckFailedError{Connector: c.name, Message: secrets.Mask(msg), Err: runErr, hint: c.loopbackHint(msg)}
	case runErr != nil:
		return runErr
	case status == nil:
		return &CheckFailedError{Connector: c.name, Message: "the connector ended without a CONNECTION_STATUS message"}
	case status.Status != protocol.StatusSucceeded:
		return &CheckFailedError{Connector: c.name, Message: fmt.Sprintf("unknown status %q: %s", status.Status, secrets.Mask(status.Message))}
	}
	return nil
}

// reportReason is what a run's report gives as its reason: the last ERROR
// log message, else the last stderr line, else "".
func reportReason(r *executor.RunReport) string {
	switch {
	case r.ErrorLog != "":
		return r.ErrorLog
	case len(r.StderrTail) > 0:
		return r.StderrTail[len(r.StderrTail)-1]
	}
	return ""
}
