package declarative

import (
	"errors"
	"strings"

	"github.com/x/goairbyte/declarative/manifest"
)

// ErrUnsupported is wrapped by every *UnsupportedError.
var ErrUnsupported = errors.New("declarative: the manifest needs components this engine does not run")

// UnsupportedError is a manifest that uses components the engine does not
// run natively: Python code (a components.py, Custom* components) or a
// component type not built here. It is returned before any request.
type UnsupportedError struct {
	// Components lists each unsupported component with its path.
	Components []manifest.Component
}

// Error lists the unsupported components and where they are.
func (e *UnsupportedError) Error() string {
	var b strings.Builder
	b.WriteString("declarative: the manifest needs components this engine does not run natively: ")
	for i, c := range e.Components {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.Type)
		if c.ClassName != "" {
			b.WriteString(" (Python class " + c.ClassName + ")")
		}
		b.WriteString(" at " + c.Path)
	}
	b.WriteString("; run this connector with its Docker image or Python package instead")
	return b.String()
}

// Unwrap returns ErrUnsupported.
func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }
