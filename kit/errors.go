package kit

import (
	"github.com/x/goairbyte/internal/kitcore"
	"github.com/x/goairbyte/protocol"
)

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

// ConfigProblem is one reason a config does not satisfy its spec: a field
// of connector.ConfigValidationError's Problems.
type ConfigProblem = kitcore.ConfigProblem
