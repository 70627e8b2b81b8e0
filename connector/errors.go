package connector

import (
	"errors"
	"fmt"
	"strings"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/termsafe"
	"github.com/x/goairbyte/kit"
)

// Sentinels of the connector core's errors, for errors.Is. Each error type
// below matches its sentinel; the root package goairbyte re-exports them.
var (
	// ErrCheckFailed: the connector says it cannot connect with the config.
	ErrCheckFailed = errors.New("connection check failed")
	// ErrConfigInvalid: the config does not satisfy the connector's spec.
	ErrConfigInvalid = errors.New("config does not match the connector's spec")
	// ErrNoConfig: a command that needs a config ran before one was set.
	ErrNoConfig = errors.New("no config set")
	// ErrInvalidOption: the options do not fit the connector or each other.
	ErrInvalidOption = errors.New("invalid connector option")
)

// CheckFailedError says that the connector reported FAILED for its
// connection check, whatever its exit code. Err, when set, is the connector
// error that came with it: for a connector run in process, the Go error
// behind the verdict (its Check's, or the config's).
type CheckFailedError struct {
	// Connector is the connector's name as given to New.
	Connector string
	// Message is the connector's own explanation.
	Message string
	// Err is the error the run ended with, or the Go error an in-process
	// connector's check failed with; nil when neither.
	Err error

	hint string // what to do, when the failure has a usual cause (a container's localhost)
}

// Error gives the connector's reason for failing the check, its first 8 KiB.
func (e *CheckFailedError) Error() string {
	msg := termsafe.Head(e.Message)
	if msg == "" {
		msg = "no reason given"
	}
	// The connector's reason is most often the config (a wrong key, a
	// host that does not answer), not always: a manifest whose components
	// this engine does not run fails its check too, and says what to do.
	if e.hint != "" {
		return fmt.Sprintf("%s: connection check failed: %s; %s", e.Connector, msg, e.hint)
	}
	return fmt.Sprintf("%s: connection check failed: %s; fix what it names (the config, most often) and check again", e.Connector, msg)
}

// Is matches ErrCheckFailed.
func (e *CheckFailedError) Is(target error) bool { return target == ErrCheckFailed }

// Unwrap returns the connector error behind the failure, if any.
func (e *CheckFailedError) Unwrap() error { return e.Err }

// ConfigValidationError lists every field of a config that does not satisfy
// the connector's spec. Its problems are kit's: a dotted field path and a
// reason that never quotes a string of the config nor a secret.
type ConfigValidationError struct {
	// Connector is the connector's name as given to New.
	Connector string
	// Problems are the failing fields, sorted by field; never empty.
	Problems []kit.ConfigProblem
}

// Error lists the config's problems, field by field.
func (e *ConfigValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the config does not match the connector's spec (print the spec with goab spec %s):", e.Connector, e.Connector)
	for _, p := range e.Problems {
		field := p.Field
		if field == "" {
			field = "(the config)"
		}
		fmt.Fprintf(&b, "\n  %s: %s", field, p.Reason)
	}
	return b.String()
}

// Is matches ErrConfigInvalid.
func (e *ConfigValidationError) Is(target error) bool { return target == ErrConfigInvalid }

// NoConfigError says that a command needing a config ran before one was
// set.
type NoConfigError struct {
	// Connector is the connector's name as given to New.
	Connector string
}

// Error says that the connector needs a config.
func (e *NoConfigError) Error() string {
	return fmt.Sprintf("%s: no config set; pass connector.WithConfig or call SetConfig first", e.Connector)
}

// Is matches ErrNoConfig.
func (e *NoConfigError) Is(target error) bool { return target == ErrNoConfig }

// OptionError says that an option does not fit the connector or the other
// options: two ways of running it, a knob of one way given for another, an
// option of sources given to a destination.
type OptionError struct {
	// Connector is the connector's name as given to New.
	Connector string
	// Option names the option(s) at fault.
	Option string
	// Reason says why the option does not fit, and often what to use
	// instead.
	Reason string
}

// Error names the option and why it does not fit.
func (e *OptionError) Error() string {
	if e.Option == "" {
		return fmt.Sprintf("%s: %s", e.Connector, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", e.Connector, e.Option, e.Reason)
}

// Is matches ErrInvalidOption.
func (e *OptionError) Is(target error) bool { return target == ErrInvalidOption }

// NoMethodError says that no way of running a connector was given and none
// was found: nothing is registered in process under its name, no executable
// of that name is on PATH, and either the registry cannot say how to run it
// (Err says why) or what its entry offers needs what this machine lacks
// (Needs says what). It matches executor.ErrNotInstalled.
type NoMethodError struct {
	// Connector is the connector's name as given to New.
	Connector string
	// Needs lists, when the registry has an entry, what would let this
	// machine run it: one line per way the entry offers.
	Needs []string
	// Err is why the registry has no entry for it, such as a
	// *registry.NotFoundError, a malformed entry that was skipped or a
	// registry that could be neither fetched nor read from the disk cache.
	Err error
}

// Error says which options would run the connector and why the registry
// did not help.
func (e *NoMethodError) Error() string {
	choose := "connector.WithLocalExecutable(path), connector.WithDockerImage(\"\") or connector.WithPipURL(url)"
	if len(e.Needs) > 0 {
		return fmt.Sprintf("%s: cannot run it on this machine; any one of these would do: %s; or choose a way with %s",
			e.Connector, strings.Join(e.Needs, "; "), choose)
	}
	return fmt.Sprintf("%s: no executable named %q on PATH and no way of running it chosen; use %s. "+
		"The connector registry cannot say how to run it either: %v", e.Connector, e.Connector, choose, e.Err)
}

// Is matches executor.ErrNotInstalled.
func (e *NoMethodError) Is(target error) bool { return target == executor.ErrNotInstalled }

// Unwrap returns the registry's reason.
func (e *NoMethodError) Unwrap() error { return e.Err }

// pythonComponentsError says that a manifest-only connector needs Python
// code (custom components, from its components.py) that goairbyte's
// declarative engine cannot run, and that its Docker image, which can, has
// no Docker engine to run in. It matches executor.ErrNotInstalled.
type pythonComponentsError struct {
	// Connector is the connector's name in the registry.
	Connector string
	// Components lists each custom component as "class at path".
	Components []string
	// HasComponentsPy says whether the connector publishes a components.py.
	HasComponentsPy bool
	// Image is the Docker image that would run the connector.
	Image string
	// DockerErr is why no Docker engine answered.
	DockerErr error
}

// Error names the components and what would run them.
func (e *pythonComponentsError) Error() string {
	code := "Python code"
	if e.HasComponentsPy {
		code = "Python code (its components.py)"
	}
	return fmt.Sprintf("%s: its manifest needs custom components written in %s, which only the Python CDK runs: %s; "+
		"a Docker engine would run its image %s, but none answers (%v)",
		e.Connector, code, strings.Join(e.Components, ", "), e.Image, e.DockerErr)
}

// Is matches executor.ErrNotInstalled.
func (e *pythonComponentsError) Is(target error) bool { return target == executor.ErrNotInstalled }

// Unwrap returns why no Docker engine answered.
func (e *pythonComponentsError) Unwrap() error { return e.DockerErr }
