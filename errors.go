package goairbyte

import (
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/source"
)

// The error types a newcomer meets, under one roof; use errors.As with a
// pointer to one of them.
type (
	// ConnectorError is a connector run that failed (non-zero exit or TRACE
	// ERROR), with the connector's message and its last stderr lines.
	ConnectorError = executor.ConnectorError
	// NotInstalledError is a connector that is missing (executable, image,
	// virtualenv).
	NotInstalledError = executor.NotInstalledError
	// DockerUnavailableError is a Docker engine that does not answer.
	DockerUnavailableError = executor.DockerUnavailableError
	// CheckFailedError is a connection check the connector reported FAILED.
	CheckFailedError = source.CheckFailedError
	// ConfigValidationError lists the config fields that break the spec.
	ConfigValidationError = source.ConfigValidationError
	// StreamNotFoundError is a stream name the connector does not have.
	StreamNotFoundError = source.StreamNotFoundError
	// IncompleteStreamError is a read that ended before a stream completed.
	IncompleteStreamError = source.IncompleteStreamError
)
