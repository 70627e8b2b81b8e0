package executor

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/x/goairbyte/internal/termsafe"
	"github.com/x/goairbyte/protocol"
)

// ConnectorError is a connector run that failed: it exited with a non-zero
// status, it reported a TRACE ERROR (even with exit status 0), it answered
// read with CONNECTION_STATUS FAILED, or it ended spec, check or discover
// without the answer (Missing). Every text in it has been through the
// executor's mask, so it carries no secrets.
type ConnectorError struct {
	// Connector is the connector's name, such as "source-faker".
	Connector string
	// Command is the command that failed.
	Command Verb
	// ExitCode is the process's exit status (-1 when it was killed by a
	// signal). A connector run in process has none: a failed one has 1,
	// the status kit.Serve would exit with, which Error does not show.
	ExitCode int
	// FailureType, Message and InternalMessage come from the connector's
	// TRACE ERROR (the first it sent), and are empty when it sent none.
	FailureType protocol.FailureType
	// Message is the TRACE ERROR's message, the one meant for the user.
	Message string
	// InternalMessage is the TRACE ERROR's internal_message, meant for
	// the connector's developers.
	InternalMessage string
	// Missing is the answer the command ended without (SPEC,
	// CONNECTION_STATUS or CATALOG; STATE for a destination that echoed
	// none of the states it was sent), when that is what failed.
	Missing protocol.Type
	// ErrorLog is the last LOG message at level ERROR or FATAL, where many
	// connectors put the reason they failed.
	ErrorLog string
	// StderrTail holds the last lines the connector wrote to stderr.
	StderrTail []string
	// LogFile is the file that keeps the connector's stderr and LOG messages
	// (of a run that writes more than 4 MiB, the first and last 2 MiB); ""
	// for a connector run in process (WithGoConnector, a
	// manifest), which has no stderr and whose LOG messages go to the
	// logger, or when the file could not be opened.
	LogFile string

	// err is the Go error an in-process connector failed with (see
	// Unwrap), its text through the executor's mask; nil for a process.
	err error
	// inProcess is a connector run in process, which had no exit status.
	inProcess bool
	// hint says what to do, when the failure has a usual cause (a
	// container's localhost).
	hint string
}

// Error says what failed and the best reason there is — the connector's
// own message (TRACE ERROR), else its last ERROR log message, else its last
// stderr line (a Go program's panic line, when it crashed), its first 8 KiB (the fields keep all of it) — and where the
// full log is.
func (e *ConnectorError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "connector %s: %s failed", e.Connector, e.Command)
	if e.ExitCode != 0 && !e.inProcess {
		fmt.Fprintf(&b, " (exit status %d)", e.ExitCode)
	}
	if e.Missing != "" {
		fmt.Fprintf(&b, ": it ended without a %s message", e.Missing)
	}
	if reason := e.Reason(); reason != "" {
		b.WriteString(": ")
		if e.Message != "" && e.FailureType != "" {
			fmt.Fprintf(&b, "%s: ", e.FailureType)
		}
		b.WriteString(termsafe.Head(reason))
	}
	if e.hint != "" {
		b.WriteString("; " + e.hint)
	}
	if e.LogFile != "" {
		fmt.Fprintf(&b, "; the connector's full log is in %s", e.LogFile)
	}
	return b.String()
}

// Reason is the best explanation the connector gave: its TRACE ERROR
// message, else its last ERROR log message, else its last stderr line (the
// line of a Go program's crash that says what it was, "panic: …" or
// "fatal error: …", rather than the last line of its stack); ""
// when it gave none. The Python CDK's message for an error it did not word
// sends the reader to the logs, which a run with no log file (in process)
// does not have: there the TRACE ERROR's internal message takes their place.
func (e *ConnectorError) Reason() string {
	switch {
	case e.Message != "" && e.LogFile == "" && e.InternalMessage != "" && strings.HasSuffix(e.Message, seeTheLogs):
		return strings.TrimSuffix(strings.TrimSuffix(e.Message, seeTheLogs), ".") + ": " + e.InternalMessage
	case e.Message != "":
		return e.Message
	case e.ErrorLog != "":
		return e.ErrorLog
	case len(e.StderrTail) > 0:
		return stderrReason(e.StderrTail)
	}
	return ""
}

// stderrReason is the line of a stderr tail that says why the connector
// ended: the last one (a Python traceback's exception), except after a Go
// program's crash, whose last lines are goroutine stacks: then the line
// that begins the crash ("panic: …", "fatal error: …").
func stderrReason(tail []string) string {
	for i := len(tail) - 1; i >= 0; i-- {
		if !strings.HasPrefix(tail[i], "panic: ") && !strings.HasPrefix(tail[i], "fatal error: ") {
			continue
		}
		if slices.ContainsFunc(tail[i+1:], isGoroutineHeader) {
			return tail[i]
		}
		break
	}
	return tail[len(tail)-1]
}

// isGoroutineHeader reports whether l begins a goroutine's stack in a Go
// crash: "goroutine 1 [running]:".
func isGoroutineHeader(l string) bool {
	return strings.HasPrefix(l, "goroutine ") && strings.HasSuffix(l, "]:")
}

// seeTheLogs ends the Python CDK's message for an error it did not word
// ("Something went wrong in the connector. See the logs for more
// details."), which the declarative engine sends as the CDK does.
const seeTheLogs = ". See the logs for more details."

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

// dockerUnavailableError is a Docker engine that does not answer.
type dockerUnavailableError struct {
	// Host is the engine's address, such as unix:///var/run/docker.sock.
	Host string
	// Err is what the client reported.
	Err error
	// container is the container of a run during which the engine
	// stopped answering, which may be left behind.
	container string
}

// Error says which engine did not answer and what to do.
func (e *dockerUnavailableError) Error() string {
	if e.container != "" {
		id := e.container[:min(12, len(e.container))]
		return fmt.Sprintf("the Docker engine at %s stopped answering during the run (%v); its container %s may be left behind: "+
			"once the engine answers again, remove it with docker rm -f %s (a later goairbyte process removes it once this one has ended) and run again",
			e.Host, e.Err, id, id)
	}
	if strings.Contains(e.Err.Error(), "permission denied") {
		// The engine runs; this user may not use its socket.
		return fmt.Sprintf("the Docker engine at %s refuses this user (%v); give the user access to its socket "+
			"(on Linux, add it to the docker group: sudo usermod -aG docker $USER, then log in again), set DOCKER_HOST "+
			"to an engine it may use, or run the connector as a local executable or Python package instead", e.Host, e.Err)
	}
	return fmt.Sprintf("the Docker engine at %s is not reachable (%v); start Docker, set DOCKER_HOST, or run the connector as a local executable or Python package instead", e.Host, e.Err)
}

// Unwrap returns what the client reported.
func (e *dockerUnavailableError) Unwrap() error { return e.Err }

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

// Unwrap returns the Go error a connector run in process (WithGoConnector,
// a manifest, the built-in faker) failed with, so that errors.As and
// errors.Is find the connector's own error (a
// *declarative.UnsupportedError, say); nil for a connector run as a
// process, whose failure is only what it printed.
func (e *ConnectorError) Unwrap() error { return e.err }

// maskedCause is the Go error of an in-process connector as a
// *ConnectorError unwraps to it: its text through the executor's mask,
// masked when the run failed (a secret masked while its connector lived
// stays masked in an error kept longer), its chain the connector's.
type maskedCause struct {
	err error
	msg string
}

func (e *maskedCause) Error() string { return e.msg }
func (e *maskedCause) Unwrap() error { return e.err }

// Is matches ErrNotInstalled.
func (e *NotInstalledError) Is(target error) bool { return target == ErrNotInstalled }

// Is matches ErrDockerUnavailable.
func (e *dockerUnavailableError) Is(target error) bool { return target == ErrDockerUnavailable }
