package goairbyte

import (
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/secrets"
	"github.com/x/goairbyte/source"
)

// The sentinels of goairbyte's errors, under one roof: every typed error of
// the library matches one with errors.Is, whichever package made it.
//
//	if errors.Is(err, goairbyte.ErrStreamNotFound) { ... }
var (
	// ErrStreamNotFound: a stream that a catalog, a read or a cache does
	// not have (*protocol.StreamNotFoundError lists the streams there are).
	ErrStreamNotFound = protocol.ErrStreamNotFound
	// ErrNotInstalled: a connector that cannot run because something is
	// missing (*NotInstalledError), or that nothing found a way to run.
	ErrNotInstalled = executor.ErrNotInstalled
	// ErrDockerUnavailable: no Docker engine answers.
	ErrDockerUnavailable = executor.ErrDockerUnavailable
	// ErrConnectorFailed: a connector run failed (*ConnectorError).
	ErrConnectorFailed = executor.ErrConnectorFailed
	// ErrCheckFailed: the connector says it cannot connect
	// (*connector.CheckFailedError).
	ErrCheckFailed = connector.ErrCheckFailed
	// ErrConfigInvalid: the config does not satisfy the connector's spec
	// (*connector.ConfigValidationError lists every field).
	ErrConfigInvalid = connector.ErrConfigInvalid
	// ErrNoConfig: a command that needs a config ran before one was set.
	ErrNoConfig = connector.ErrNoConfig
	// ErrInvalidOption: options that do not fit the connector or each
	// other (*connector.OptionError).
	ErrInvalidOption = connector.ErrInvalidOption
	// ErrIncompleteStream: a read ended before a stream was reported
	// complete (*IncompleteStreamError).
	ErrIncompleteStream = source.ErrIncompleteStream
	// ErrSecretNotFound: no secret source had the secret
	// (*SecretNotFoundError).
	ErrSecretNotFound = secrets.ErrSecretNotFound
	// ErrStrategy: a write strategy that cannot apply to a stream, or a
	// primary key or cursor that names a field the stream's schema lacks.
	ErrStrategy = cache.ErrStrategy
	// ErrNameCollision: two stream or field names that become one table or
	// column (streams of one name in two namespaces, in one read or in
	// two), or a field named like the cache's own columns.
	ErrNameCollision = cache.ErrNameCollision
	// ErrInvalidName: a stream or field name that cannot become a SQL
	// identifier.
	ErrInvalidName = cache.ErrInvalidName
	// ErrInUse: a cache file another process has open, or a source another
	// load is loading into the cache.
	ErrInUse = cache.ErrInUse
	// ErrOutOfMemory: a DuckDB cache ran out of its memory limit, or a
	// PostgreSQL server could not allocate memory.
	ErrOutOfMemory = cache.ErrOutOfMemory
	// ErrDiskFull: a disk the cache writes to is full.
	ErrDiskFull = cache.ErrDiskFull
	// ErrTableOwned: a load into a table another source loaded.
	ErrTableOwned = cache.ErrTableOwned
)

// The error types whose fields a program reads after errors.As. The other
// errors of the library are found with the sentinels above; the few whose
// fields matter beyond their message are types of the package that makes
// them (connector.OptionError, connector.ConfigValidationError,
// protocol.StreamNotFoundError, ...).
type (
	// ConnectorError is a connector run that failed (non-zero exit or TRACE
	// ERROR), with the connector's message and its last stderr lines.
	ConnectorError = executor.ConnectorError
	// NotInstalledError is a connector that is missing (executable, image,
	// virtualenv), with what is missing and how to install it.
	NotInstalledError = executor.NotInstalledError
	// IncompleteStreamError is a read that ended before a stream completed,
	// naming the stream.
	IncompleteStreamError = source.IncompleteStreamError
)
