package executor

import (
	"errors"
	"fmt"
	"strings"

	"github.com/x/goairbyte/protocol"
)

// ConnectorError is a connector run that failed: it exited with a non-zero
// status, or it reported a TRACE ERROR (even with exit status 0). Every text
// in it has been through the executor's mask, so it carries no secrets.
type ConnectorError struct {
	// Connector is the connector's name, such as "source-faker".
	Connector string
	// Command is the command that failed.
	Command Verb
	// ExitCode is the process's exit status (-1 when it was killed by a
	// signal).
	ExitCode int
	// FailureType, Message and InternalMessage come from the connector's
	// TRACE ERROR, when it sent one.
	FailureType     protocol.FailureType
	Message         string
	InternalMessage string
	// StderrTail holds the last lines the connector wrote to stderr.
	StderrTail []string
	// LogFile is the file that keeps all of the connector's stderr and LOG
	// messages.
	LogFile string
}

// Error says what failed, the connector's own message or last stderr line,
// and where the full log is.
func (e *ConnectorError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "connector %s: %s failed", e.Connector, e.Command)
	if e.ExitCode != 0 {
		fmt.Fprintf(&b, " (exit status %d)", e.ExitCode)
	}
	switch {
	case e.Message != "":
		b.WriteString(": ")
		if e.FailureType != "" {
			fmt.Fprintf(&b, "%s: ", e.FailureType)
		}
		b.WriteString(e.Message)
	case len(e.StderrTail) > 0:
		fmt.Fprintf(&b, ": %s", e.StderrTail[len(e.StderrTail)-1])
	}
	if e.LogFile != "" {
		fmt.Fprintf(&b, "; the connector's full log is in %s", e.LogFile)
	}
	return b.String()
}

// NotInstalledError is a connector that cannot run because something is
// missing: an executable, a Docker image or a venv.
type NotInstalledError struct {
	// Connector is the connector's name.
	Connector string
	// Missing names what is missing: a path, an image, a venv entry point.
	Missing string
	// Hint says how to install it.
	Hint string
	// Err is the underlying failure (a failed pull or pip install), if any.
	Err error
}

// Error names what is missing and how to install it.
func (e *NotInstalledError) Error() string {
	s := fmt.Sprintf("connector %s is not installed: %s is missing", e.Connector, e.Missing)
	if e.Err != nil {
		s += " (" + e.Err.Error() + ")"
	}
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Unwrap returns the underlying failure.
func (e *NotInstalledError) Unwrap() error { return e.Err }

// DockerUnavailableError is a Docker engine that does not answer.
type DockerUnavailableError struct {
	// Host is the engine's address, such as unix:///var/run/docker.sock.
	Host string
	// Err is what the client reported.
	Err error
}

// Error says which engine did not answer and what to do.
func (e *DockerUnavailableError) Error() string {
	return fmt.Sprintf("the Docker engine at %s is not reachable (%v); start Docker, set DOCKER_HOST, or run the connector as a local executable or Python package instead", e.Host, e.Err)
}

// Unwrap returns what the client reported.
func (e *DockerUnavailableError) Unwrap() error { return e.Err }

// Sentinels of the executor's errors, for errors.Is across packages; the
// root package goairbyte re-exports them.
var (
	// ErrNotInstalled: the connector cannot run because something is
	// missing (an executable, an image, a virtualenv).
	ErrNotInstalled = errors.New("connector not installed")
	// ErrDockerUnavailable: no Docker engine answers.
	ErrDockerUnavailable = errors.New("docker engine unavailable")
	// ErrConnectorFailed: a connector run failed (non-zero exit or TRACE
	// ERROR).
	ErrConnectorFailed = errors.New("connector failed")
)

// Is matches ErrConnectorFailed.
func (e *ConnectorError) Is(target error) bool { return target == ErrConnectorFailed }

// Is matches ErrNotInstalled.
func (e *NotInstalledError) Is(target error) bool { return target == ErrNotInstalled }

// Is matches ErrDockerUnavailable.
func (e *DockerUnavailableError) Is(target error) bool { return target == ErrDockerUnavailable }
