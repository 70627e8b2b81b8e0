// Package goairbyte runs Airbyte connectors from Go: it starts a connector
// — a Docker image, a local executable or a Python package in its own
// virtualenv — speaks the Airbyte protocol with it over stdio, and loads
// the records into a SQL cache (DuckDB by default, PostgreSQL for shared
// use) with incremental state, or on into an Airbyte destination
// connector. It is the Go counterpart of PyAirbyte.
//
// This package is the front door: GetSource, GetDestination,
// NewLocalCache, DefaultCache, GetSecret, AvailableConnectors and the
// error types, as thin wrappers over the packages that do the work
// (source, destination, cache, cache/duckdb, cache/postgres, secrets,
// registry, executor, progress).
//
// # Start
//
//	src, err := goairbyte.GetSource(ctx, "source-faker",
//		connector.WithDockerImage(""), connector.WithConfig(map[string]any{"count": 1000}))
//	res, err := src.Read(ctx) // every stream into ./.cache/default_cache/default_cache.duckdb
//	users, err := res.Stream(ctx, "users")
//
// In the repository, go run ./examples/quickstart does the same with the
// faker built from source and run as a local executable; examples/ has the
// rest of this guide as programs.
//
// # Sources and how a connector runs
//
// [GetSource] builds a [Source] for a connector name; nothing runs until a
// method needs the connector. At most one execution method may be chosen:
//
//   - connector.WithDockerImage(image): a container per command, removed when
//     it ends; "" means airbyte/<name>, tagged with connector.WithVersion or
//     "latest". connector.WithHostNetwork lets it reach services on localhost.
//   - connector.WithLocalExecutable(path): an executable, by path or name on
//     PATH.
//   - connector.WithPipURL(url) or connector.WithPython(interpreter): a virtualenv
//     at <install root>/.venv-<name> (connector.WithInstallRoot, the working
//     directory by default) with the pip requirement, or
//     airbyte-<name>[==version], installed into it.
//   - connector.WithExecutor: an executor.Executor of your own.
//
// With none of them, GetSource decides as PyAirbyte does: an executable
// called name on PATH; otherwise, from the connector's registry entry, its
// PyPI package when it has an enabled one and Python is available, else its
// Docker image when a Docker engine answers; otherwise a
// *registry.NoMethodError lists what would be needed (a name the registry
// does not know is a *source.ExecutionMethodError that says which option to
// add). connector.WithVersion pins the image tag or the pip requirement. A
// missing image or virtualenv is installed on first use (pulled, created)
// unless connector.WithInstallIfMissing(false), which makes it a
// [NotInstalledError] instead; a Python package of another version than the
// one pinned is replaced. [AvailableConnectors] and
// [ConnectorMetadata] read Airbyte's connector registry (plus goairbyte's
// built-in faker and local-JSON connectors); see package registry for
// AIRBYTE_LOCAL_REGISTRY and AIRBYTE_OFFLINE_MODE.
//
// # Manifest-only connectors
//
// connector.WithManifest(m) runs a source from an Airbyte declarative
// manifest (a path, a URL, its text or a map) on goairbyte's native engine
// (package declarative), in process, with no Python or Docker;
// connector.WithHTTPClient and connector.WithClock give the engine its
// HTTP client and clock. With no way given, a source the registry marks
// manifest-only runs the same way from its published manifest (downloaded
// and kept in the disk cache; GOAIRBYTE_MANIFEST_DIR reads local ones
// instead), or from its Docker image when the manifest needs Python
// components. See package registry and, in the repository, the README's
// section "Manifest-only connectors without Python or Docker" and
// examples/manifest.
//
// The config (connector.WithConfig or Source.SetConfig) is a map, a struct, a
// json.RawMessage or JSON bytes. Spec, Check, Discover, ValidateConfig,
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
// Source.Read loads streams into a cache and returns a [ReadResult]: the
// records per stream and a cache.Dataset per stream (Count, Where,
// Records, Columns, plain SQL through the cache). Read is incremental:
// it passes the connector the state the cache committed for this source
// last time, so only new records come (source.ForceFullRefresh reads
// everything). A state is committed only in the transaction that makes the
// records before it durable, so a read that fails or is killed resumes
// where it stopped.
//
// # Caches
//
// [DefaultCache] is the DuckDB file ./.cache/default_cache/default_cache.duckdb,
// opened once per process and used by every Read and Write given no cache.
// [NewLocalCache] opens a named DuckDB cache elsewhere; postgres.New (package
// cache/postgres) a PostgreSQL one, for caches that several programs or
// machines share. Pass either with source.UseCache. Each stream is a
// table named after it (lower case, [a-z0-9_]), with a column per
// top-level property of its JSON schema plus _airbyte_raw_id,
// _airbyte_extracted_at and _airbyte_meta; the state lives in
// _airbyte_state.
//
// # Write strategies and state
//
// source.Strategy picks how a stream lands in its table.
// cache.StrategyAuto, the default, merges streams that have a primary key
// (one row per key, the newest by cursor), appends streams that have only a
// cursor and replaces the others. StrategyAppend, StrategyMerge and
// StrategyReplace force one; replace builds a new table and swaps it in
// atomically. See package cache.
//
// # Destinations
//
// [GetDestination] builds a [Destination], run the way sources are (the
// destination package has the same options, plus WithLocalMount, which
// mounts a host directory at /local in the container). Destination.Write
// takes a Source — read into a cache first (destination.UseCache, else the
// default cache), or piped straight through with destination.NoCache — or
// a ReadResult already in a cache, and returns a [WriteResult]: records
// sent and confirmed per stream, states confirmed. The destination's own
// state, what it confirmed by echoing STATE messages, is kept in the cache
// apart from the source's, so the next Write sends only what it has not
// confirmed. [NoopDestination] discards everything, to measure a source.
//
// # Secrets
//
// [GetSecret] finds a secret in custom managers, the environment, a .env
// file, then (on a terminal, never when CI is set) a prompt, and returns a
// [SecretString] that prints as ****. A config value
// "secret_reference::NAME", at any depth, is resolved the same way each
// time the connector runs and never stored: Source.Config returns the
// reference. Every resolved value, every config field that a connector's
// spec marks airbyte_secret and every SecretString is registered with
// package secrets and masked as **** in errors, log lines and the
// per-connector log files, even when a connector echoes its config; the
// secrets package's Mask, MaskError and NewMaskingHandler (a log/slog
// handler; goab logs through one) do the same for your own output.
//
// # Errors
//
// Errors are typed; use errors.As with a pointer to one of this package's
// aliases: [ConnectorError] (a connector that failed: exit code, failure
// type, its last stderr lines and the path of its log file),
// [NotInstalledError], [DockerUnavailableError], [CheckFailedError],
// [ConfigValidationError] (every field that breaks the spec),
// [StreamNotFoundError] (with the streams there are),
// [IncompleteStreamError] and [SecretNotFoundError].
//
//	var ce *goairbyte.ConnectorError
//	if errors.As(err, &ce) {
//		log.Printf("%s failed with exit code %d; log: %s", ce.Connector, ce.ExitCode, ce.LogFile)
//	}
//
// # Logs and progress
//
// Connector LOG messages go to the source's logger (connector.WithLogger,
// slog.Default() by default) at their own level. Each connector run keeps
// its stderr and LOG messages in a log file under connector.WithLogDir, else
// $GOAIRBYTE_LOG_DIR, else goairbyte/logs in the system temp directory;
// a ConnectorError names that file.
//
// Read and Write report to package progress: records, bytes, rates, time to
// the first record and states per stream, drawn on stderr as a live line on
// a terminal or as periodic lines elsewhere (NO_LIVE_PROGRESS turns the
// live line off), and ending with one summary line. source.WithProgress and
// destination.WithProgress subscribe a listener to the same snapshots or
// change the output; source.NoProgress and destination.NoProgress silence
// it.
//
// # The goab command
//
// cmd/goab runs all of this from a shell: spec, check, discover, records,
// read (into a DuckDB file or a Postgres DSN), sync (source → destination),
// validate, benchmark, connectors and version, with the same connector
// flags everywhere (--docker-image, --local-executable, --pip-url,
// --version, --use-host-network, --config). go run ./cmd/goab help lists
// them.
package goairbyte
