package source

import (
	"fmt"
	"strings"
)

// CheckFailedError is returned by [Source.Check] when the connector reports
// that it cannot connect with the config (status FAILED), whatever its exit
// code. Err, when set, is the connector error that came with it.
type CheckFailedError struct {
	Connector string
	// Message is the connector's own explanation.
	Message string
	Err     error
}

// Error gives the connector's reason for failing the check.
func (e *CheckFailedError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "no reason given"
	}
	return fmt.Sprintf("%s: connection check failed: %s; fix the config and check again", e.Connector, msg)
}

// Unwrap returns the connector error behind the failure, if any.
func (e *CheckFailedError) Unwrap() error { return e.Err }

// StreamNotFoundError says that a stream the caller named is not in the
// connector's catalog.
type StreamNotFoundError struct {
	Connector string
	Stream    string
	Available []string
}

// Error names the stream and the streams the connector offers.
func (e *StreamNotFoundError) Error() string {
	return fmt.Sprintf("%s: no stream %q; available streams: %s", e.Connector, e.Stream, strings.Join(e.Available, ", "))
}

// ConfigProblem is one reason a config does not satisfy the connector's spec.
type ConfigProblem struct {
	// Path is the field's location as a JSON pointer ("" is the whole config).
	Path string
	// Reason says what is wrong. It never contains the value of a field the
	// spec marks airbyte_secret.
	Reason string
}

// ConfigValidationError lists every field of a config that does not satisfy
// the connector's spec.
type ConfigValidationError struct {
	Connector string
	Problems  []ConfigProblem
}

// Error lists the config's problems.
func (e *ConfigValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the config does not match the connector's spec (print it with PrintConfigSpec):", e.Connector)
	for _, p := range e.Problems {
		path := p.Path
		if path == "" {
			path = "/"
		}
		fmt.Fprintf(&b, "\n  %s: %s", path, p.Reason)
	}
	return b.String()
}

// NoConfigError says that a command needing a config ran before one was
// set.
type NoConfigError struct {
	Connector string
}

// Error says that the connector needs a config.
func (e *NoConfigError) Error() string {
	return fmt.Sprintf("%s: no config set; pass source.WithConfig or call SetConfig first", e.Connector)
}

// ExecutionMethodError says that the options do not determine one way to run
// the connector: either two were given, or none was and none could be found.
type ExecutionMethodError struct {
	Connector string
	// Conflicting names the explicit methods given, when more than one was.
	Conflicting []string
}

// Error names the conflicting execution methods, or says that none was
// found.
func (e *ExecutionMethodError) Error() string {
	if len(e.Conflicting) > 1 {
		return fmt.Sprintf("%s: conflicting execution methods %s; choose one", e.Connector, strings.Join(e.Conflicting, " and "))
	}
	return fmt.Sprintf("%s: no executable named %q on PATH and no execution method chosen; "+
		"use source.WithLocalExecutable(path), source.WithDockerImage(\"\") or source.WithPipURL(url)", e.Connector, e.Connector)
}

// IncompleteStreamError says that a read ended, without any other error,
// before the connector reported a stream as complete: it announced the
// stream (STARTED/RUNNING) and never said COMPLETE, or said INCOMPLETE. The
// records seen so far may be a part of the stream only.
type IncompleteStreamError struct {
	Connector string
	Stream    string
	// Status is the last status the connector reported for the stream.
	Status string
}

// Error names the stream and the last status it was reported with.
func (e *IncompleteStreamError) Error() string {
	return fmt.Sprintf("%s: stream %q ended without being reported complete (last status %s); the data may be partial, read again",
		e.Connector, e.Stream, e.Status)
}
