// Package goairbyte moves data with Airbyte connectors from Go: it runs a
// connector — goairbyte's own in process, Airbyte's low-code connectors
// natively, others as a Docker image, a local executable or a Python package
// in its own virtualenv — speaks the Airbyte protocol with it, and loads the
// records into a SQL cache (DuckDB by default, PostgreSQL for shared use)
// with incremental state, or on into an Airbyte destination connector. It is
// the Go counterpart of PyAirbyte: the README's "Coming from PyAirbyte" maps
// PyAirbyte's calls to these and lists where they behave differently (a
// SetConfig that does not validate, replace refused on an incremental read,
// PostgreSQL's default schema, secrets that print as ****).
//
// This package is the front door: GetSource, GetDestination, the default
// cache, GetSecret, AvailableConnectors, the Environment and the errors, as
// thin wrappers over the packages that do the work (connector, source,
// destination, cache, secrets, registry, executor, progress). It is also
// where DuckDB is wired in as the default cache and goairbyte's own
// connectors as in-process ones: a program that imports only source and a
// PostgreSQL cache builds without cgo.
//
// # Start
//
//	src, err := goairbyte.GetSource(ctx, "source-faker",
//		connector.WithConfig(map[string]any{"count": 1000}))
//	res, err := src.Read(ctx) // every stream into ./.cache/default_cache/default_cache.duckdb
//	users, err := res.Stream(ctx, "users")
//
// The faker runs in process: nothing to install. go run ./examples/quickstart
// does the same; examples/ has the rest of this guide as programs.
//
// # Sources and how a connector runs
//
// [GetSource] builds a [Source] for a connector name; nothing runs until a
// method needs the connector. Its options are package connector's, declared
// once for sources and destinations; at most one way of running the
// connector may be chosen:
//
//   - connector.WithDockerImage(image): a container per command, removed
//     when it ends; "" means the registry's image and tag (else
//     airbyte/<name>:latest), the tag replaced by connector.WithVersion
//     when given; pulled when missing, with the credentials docker login
//     keeps, and otherwise used as present (name a digest to run one
//     build). WithHostNetwork lets it
//     reach services on localhost, WithLocalMount(dir) mounts dir at /local.
//   - connector.WithLocalExecutable(path): an executable, by path or name on
//     PATH.
//   - connector.WithPipURL(url) or WithPython(interpreter): a virtualenv at
//     <install root>/.venv-<name> with the pip requirement, or
//     airbyte-<name>[==version], installed into it.
//   - connector.WithGoConnector(c): a connector written in Go (package kit),
//     or Airbyte's low-code engine (package declarative), in process.
//   - connector.WithExecutor: an executor.Executor of your own.
//
// A knob of one way given with another, or two ways, fail at construction
// with a *connector.OptionError. With none, GetSource decides as PyAirbyte
// does: a connector registered in the [Environment] runs in process (this
// package registers source-faker, destination-local-json, destination-noop
// and source-declarative-manifest), then an executable called name on PATH; otherwise,
// from the connector's registry entry, its PyPI package when it has an
// enabled one and Python is available, else its Docker image when a Docker
// engine answers; otherwise an error that lists what would be needed. A
// missing image or virtualenv is installed on first use unless
// connector.WithInstallIfMissing(false). [AvailableConnectors] and
// [ConnectorMetadata] read Airbyte's connector registry (plus goairbyte's
// built-in entries); see package registry for AIRBYTE_LOCAL_REGISTRY and
// AIRBYTE_OFFLINE_MODE.
//
// # Manifest-only connectors
//
// connector.WithManifest(m) runs a source from an Airbyte declarative
// manifest (a path or URL as a string, its text as a []byte, or a map) on
// goairbyte's native engine (package declarative), in process, with no
// Python or Docker; connector.WithHTTPClient and connector.WithClock give
// the engine its HTTP client and clock. With no way given, a source the registry marks
// manifest-only runs the same way from its published manifest (downloaded
// and kept in the disk cache; GOAIRBYTE_MANIFEST_DIR reads local ones
// instead), or from its Docker image when the manifest uses what the
// engine does not run (Python components, parts of newer CDKs) and a
// Docker engine answers. See package registry and, in the repository, the README's
// section "Manifest-only connectors without Python or Docker" and
// examples/manifest.
//
// The config (connector.WithConfig or Source.SetConfig) is a map, a struct,
// a json.RawMessage or JSON bytes. Spec, Check, Discover, ValidateConfig,
// AvailableStreams and SelectStreams work as in PyAirbyte; the spec and the
// discovered catalog are remembered.
//
// # Records or Read
//
// Source.Records streams one stream with no cache, as an
// iter.Seq2[Record, error]: a loop that breaks stops the connector at once,
// and a Record keeps its data as raw JSON until Get or Map asks for a
// field. Use it to look at data, or to feed your own sink.
//
// Source.Read loads streams into a cache and returns a
// [source.ReadResult]: the records per stream and a cache.Dataset per
// stream (Count, Where,
// Records, Columns, plain SQL through the cache). Read is incremental: it
// passes the connector the state the cache committed for this source last
// time, so only new records come (source.ForceFullRefresh reads
// everything). States are kept per table prefix of the cache: two
// accounts of one connector read into one cache, each under a prefix of
// its own (cache.WithTablePrefix), keep a state each. A state is committed only in the transaction that makes the
// records before it durable, so a read that fails or is killed resumes
// where it stopped.
//
// # Caches
//
// [DefaultCache] is the DuckDB file ./.cache/default_cache/default_cache.duckdb,
// opened once per process and used by every Read and Write given no cache
// (Environment.SetCacheDir moves it, and so do PyAirbyte's AIRBYTE_CACHE_ROOT
// and AIRBYTE_PROJECT_DIR: see connector.NewEnvironment). [NewLocalCache] opens a named DuckDB
// cache elsewhere, [NewPostgresCache] a PostgreSQL one, and cache.Open any
// cache by URL ("duckdb:///path/file.duckdb", "postgres://…"); pass it with
// source.UseCache. Each stream is a table named after it (lower case,
// [a-z0-9_]), with a column per top-level property of its JSON schema plus
// _airbyte_raw_id, _airbyte_extracted_at and _airbyte_meta; the state lives
// in _airbyte_state.
//
// # Write strategies and state
//
// source.Strategy picks how a stream lands in its table.
// cache.StrategyAuto, the default, merges streams that have a primary key
// (one row per key, the newest by cursor), appends streams that have only a
// cursor and replaces the others. StrategyAppend, StrategyMerge and
// StrategyReplace force one; replace builds a new table and swaps it in
// atomically (on PostgreSQL with the table's grants, and refused, naming
// them, while views read the table). Merge keeps the rows of records the
// source no longer sends, and of NULL keys, which each read adds again. See
// package cache.
//
// # Destinations
//
// [GetDestination] builds a [Destination], run the way sources are.
// Destination.Write takes a Source — read into a cache first
// (destination.UseCache, else the default cache), or piped straight through
// with destination.NoCache — or a ReadResult already in a cache, and returns
// a [destination.WriteResult]: records sent and confirmed per stream,
// states confirmed.
// The destination's own state, what it confirmed by echoing STATE messages,
// is kept in the cache apart from the source's, under its identity, so the
// next Write sends only what it has not confirmed. [NoopDestination]
// discards everything, to measure a source.
//
// # Secrets
//
// [GetSecret] finds a secret in custom managers (the Environment's), the
// environment, a .env file, then (on a terminal, never when CI is set) a
// prompt, and returns a [secrets.SecretString] that prints as ****. A
// config value "secret_reference::NAME", at any depth, is resolved the same
// way (by an Environment of NewEnvironment, from its managers only) once per call (a Read that discovers and then reads, a Write that
// reads a source into a destination: the prompt asks once), again by the
// next call, so a rotated secret is seen, and never stored: Source.Config
// returns the reference.
// Every resolved value, every config field that a connector's spec marks
// airbyte_secret (while its Source or Destination lives) and every
// SecretString is masked as **** in errors, log lines and the
// per-connector log files, even when a connector echoes its config; the secrets package's Mask, MaskError and NewMaskingHandler (a
// log/slog handler) do the same for your own output.
//
// # Errors
//
// The errors a program acts on match one of this package's sentinels with
// errors.Is — [ErrStreamNotFound], [ErrNotInstalled], [ErrCheckFailed],
// [ErrConfigInvalid], [ErrConnectorFailed], … — whichever package made
// them (errors of the program's own arguments, such as an invalid cache
// name, are plain). Those whose fields a program reads have a type for
// errors.As: [ConnectorError], [NotInstalledError] and
// [IncompleteStreamError] here, the others in the package that makes them
// (connector.OptionError, connector.ConfigValidationError,
// protocol.StreamNotFoundError, …):
//
//	var ce *goairbyte.ConnectorError
//	if errors.As(err, &ce) {
//		log.Printf("%s failed with exit code %d: %s; log: %s", ce.Connector, ce.ExitCode, ce.Reason(), ce.LogFile)
//	}
//
// A connector run in process (connector.WithGoConnector, a manifest, the
// built-in faker) fails with the same errors, which unwrap to the Go error
// it returned: errors.As finds a manifest's *declarative.UnsupportedError,
// or a Go connector's own error type, through Check, Discover, Read,
// Records and Write.
//
// # Environments, logs and progress
//
// An [Environment] holds what connectors share: the registry, the secret
// managers, the in-process connectors, the default cache, the logger and
// the progress output. [DefaultEnvironment] is the process's;
// [NewEnvironment] makes one of its own (a tenant of a server), passed with
// connector.WithEnvironment, whose secrets come from its own managers only,
// never from the process's environment, .env file or prompt. The library is silent: it writes nothing on
// stderr unless asked — Environment.SetProgress (or source.WithProgress,
// destination.WithProgress for one call) draws a live line and a summary,
// Environment.SetLogger receives the connectors' LOG messages. Each
// connector run keeps its stderr and LOG messages in a log file under
// $GOAIRBYTE_LOG_DIR (else goairbyte/logs in the system temp directory, or
// goairbyte-logs-<uid> when another user owns that); a ConnectorError
// names it.
//
// # The goab command
//
// cmd/goab runs all of this from a shell: spec, check, discover, records,
// read (into a DuckDB file or a Postgres DSN), sync (source → destination),
// validate, benchmark, connectors, version, and the remote commands (plan,
// apply, airbyte, fivetran, watch), with the same connector flags everywhere.
// go run ./cmd/goab help lists them.
package goairbyte
