package kit

import (
	"fmt"
	"strings"

	"github.com/x/goairbyte/internal/kitcore"
	"github.com/x/goairbyte/protocol"
)

// FailureType is the failure_type of the TRACE ERROR that reports err: the
// FailureType() of the first error in its chain that has such a method
// (func (e *MyError) FailureType() protocol.FailureType), system_error when
// none has. [ConfigError] and [InvalidConfigError] say config_error.
func FailureType(err error) protocol.FailureType { return kitcore.FailureType(err) }

// ConfigError marks err as the user's to fix (a config, catalog or state
// the connector cannot work with): Serve reports it with failure_type
// config_error. The message and the chain are err's. ConfigError(nil) is
// nil.
func ConfigError(err error) error {
	if err == nil {
		return nil
	}
	return &configError{err}
}

type configError struct{ err error }

func (e *configError) Error() string                     { return e.err.Error() }
func (e *configError) Unwrap() error                     { return e.err }
func (e *configError) FailureType() protocol.FailureType { return protocol.FailureConfig }

// ConfigProblem is one reason a config does not satisfy its spec.
type ConfigProblem struct {
	// Field is the path of the config key at fault, dot-separated
	// ("credentials.client_id"), "" for the config as a whole.
	Field string
	// Reason says what is wrong with it. It never quotes a string of the
	// config nor the value of a field marked airbyte_secret.
	Reason string
}

// InvalidConfigError reports a config that does not satisfy the spec's
// connectionSpecification, naming every field at fault. Its failure type is
// config_error.
type InvalidConfigError struct {
	// Problems are the faults, sorted by field; never empty.
	Problems []ConfigProblem
}

// Error lists every problem, field by field.
func (e *InvalidConfigError) Error() string {
	var b strings.Builder
	b.WriteString("invalid config: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		if p.Field == "" {
			b.WriteString(p.Reason)
		} else {
			fmt.Fprintf(&b, "field %q: %s", p.Field, p.Reason)
		}
	}
	b.WriteString(" (run `spec` to see the options)")
	return b.String()
}

// FailureType is config_error: the config is the user's to fix.
func (e *InvalidConfigError) FailureType() protocol.FailureType { return protocol.FailureConfig }
