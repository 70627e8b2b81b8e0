// Package connector is the core that sources and destinations share: how a
// connector runs, its config, its secrets, and the one message loop every
// command goes through.
//
// A [Connector] is built by source.New or destination.New (and so by
// goairbyte.GetSource and GetDestination) from a name and [Option] values;
// source.Source and destination.Destination embed it. The options
// are declared once here for sources and destinations alike; each says one
// thing about the connector — its config (WithConfig), its version, and how
// it runs:
//
//   - WithLocalExecutable(path): an executable of this machine;
//   - WithDockerImage(image), with the Docker knobs WithHostNetwork and
//     WithLocalMount: a container per command;
//   - WithPipURL(requirement) or WithPython(interpreter), with
//     WithInstallRoot: a Python package in a virtualenv of its own;
//   - WithGoConnector(c): a connector written in Go (package kit), called in
//     this process;
//   - WithManifest(m): a source from a declarative manifest (a path or URL,
//     its text as a []byte, or a map), run in this process by package
//     declarative, with the engine's knobs WithHTTPClient and WithClock (which
//     source-declarative-manifest, registered in process, takes too);
//   - WithExecutor(e): an executor of the caller's.
//
// Options that do not fit each other are an *OptionError at construction:
// nothing is silently ignored. With no way given, the connector is run as PyAirbyte
// does: a connector registered in the [Environment] runs in process (the
// root package goairbyte registers goairbyte's own faker, local-JSON, no-op
// and source-declarative-manifest connectors, so they need nothing
// installed), else an executable
// named like the connector on PATH, else what the connector registry
// offers: for a manifest-only source its published manifest, run natively
// (or its Docker image when a Docker engine answers and the manifest uses
// what the engine does not run: Python components, which only the Python
// CDK runs — with no Docker engine an error matching
// executor.ErrNotInstalled naming them —, or parts only CDKs newer than
// 6.31.1 know); for the others their PyPI package
// when Python is available, their Docker image when a Docker engine
// answers.
//
// # Config and secrets
//
// The config is kept as given, with secret_reference::NAME values
// unresolved; each call that runs the connector (a Check, a Read, a
// Write, however many runs it makes) resolves each of them once, through
// the Environment's secret managers (package secrets), and the next call
// resolves them again, so that a rotated secret is seen. Each run
// masks every secret value — resolved references, the fields the spec
// marks airbyte_secret — before the connector sees the config, so nothing
// it prints escapes; they stay masked while the Connector lives, until
// SetConfig replaces the config or the Connector is unreachable, and the
// errors it returned were masked when made. A
// CONTROL CONNECTOR_CONFIG message from the connector (a refreshed OAuth
// token) replaces the stored config, references put back, and calls the
// WithConfigChangeCallback function; one that names a secret itself
// (secret_reference::NAME) is ignored, since the next run would hand the
// connector a secret it was never given.
//
// # Environment
//
// An [Environment] holds what connectors share: the registry, the secret
// managers, the in-process connectors, the default cache, the logger and
// the progress output. [DefaultEnvironment] is the process's; a server
// with tenants gives each its own ([NewEnvironment], WithEnvironment). A
// library is silent: an Environment logs nowhere and draws no progress
// until SetLogger and SetProgress say otherwise.
//
// Its directories follow the variables PyAirbyte reads, when the
// Environment is made (the default one: on first use): the default cache
// is in $AIRBYTE_CACHE_ROOT, else $AIRBYTE_PROJECT_DIR/.cache, else ./.cache
// (SetCacheDir moves it); Python connectors' virtualenvs are made under
// $AIRBYTE_INSTALL_DIR, else $AIRBYTE_PROJECT_DIR, else the working
// directory (WithInstallRoot moves one connector's). The temporary files of
// a run (its config, catalog and state), of a DuckDB cache's loads and of a
// manifest's downloads go to $AIRBYTE_TEMP_DIR, else the system's temp
// directory; one that is not a writable directory fails the run with an
// error naming the variable.
//
// # Errors
//
// Every error type matches a sentinel with errors.Is: *CheckFailedError
// (ErrCheckFailed), *ConfigValidationError (ErrConfigInvalid),
// *NoConfigError (ErrNoConfig), *OptionError (ErrInvalidOption),
// *NoMethodError (executor.ErrNotInstalled), and a manifest's Python
// components with no Docker engine match executor.ErrNotInstalled too; a
// manifest that cannot be found is a *registry.ManifestError; connector
// runs fail with
// *executor.ConnectorError (executor.ErrConnectorFailed).
package connector
