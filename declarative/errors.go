package declarative

import (
	"errors"
	"fmt"
	"strings"

	"github.com/x/goairbyte/declarative/internal/manifest"
	"github.com/x/goairbyte/protocol"
)

// ErrUnsupported is wrapped by every *UnsupportedError.
var ErrUnsupported = errors.New("declarative: the manifest needs components this engine does not run")

// UnsupportedError is a manifest that uses components the engine does not
// run natively: Python code (a components.py, Custom* components) or a
// component type not built here. It is returned before any request.
type UnsupportedError struct {
	// Components lists each unsupported component with its path.
	Components []UnsupportedComponent
}

// UnsupportedComponent is one component of a manifest that the engine
// does not run.
type UnsupportedComponent struct {
	// Path is where the component sits in the resolved manifest, as a
	// JSONPath such as $.streams[0].retriever.requester.authenticator.
	Path string
	// Type is the component's type, such as "CustomRequester", or what
	// about it is not run.
	Type string
	// ClassName is the Python class a custom component names, if any.
	ClassName string
}

// unsupported is the *UnsupportedError for the manifest's components.
func unsupported(comps []manifest.Component) *UnsupportedError {
	e := &UnsupportedError{Components: make([]UnsupportedComponent, len(comps))}
	for i, c := range comps {
		e.Components[i] = UnsupportedComponent{Path: c.Path, Type: c.Type, ClassName: c.ClassName}
	}
	return e
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

// decodeError is a response whose body is not the JSON the manifest
// expects. URL is masked.
type decodeError struct {
	// Method and URL are the request's.
	Method, URL string
	// Status is the response's status code.
	Status int
	// Err is the JSON syntax error.
	Err error
}

// Error names the request and what is wrong with the body.
func (e *decodeError) Error() string {
	return fmt.Sprintf("the response to '%s' request to '%s' (status %d) is not valid JSON: %v", e.Method, e.URL, e.Status, e.Err)
}

// Unwrap returns the JSON error.
func (e *decodeError) Unwrap() error { return e.Err }

// paginationError is a paginator that asked again for a page of the slice
// it already read (the page just read, or an earlier one when tokens come
// round: A, B, A); the CDK would loop forever, the engine stops the
// stream.
type paginationError struct {
	// Stream is the stream being read.
	Stream string
	// Token is the repeated page token (masked).
	Token string
}

// Error names the stream and the repeated token.
func (e *paginationError) Error() string {
	return fmt.Sprintf("stream %s: the paginator returned the page token %q again; stopping instead of requesting the same page forever", e.Stream, e.Token)
}

// streamError is a stream that failed during a read.
type streamError struct {
	// Stream is the stream's name.
	Stream string
	// FailureType is the failure type reported in its TRACE ERROR.
	FailureType protocol.FailureType
	// Err is what failed.
	Err error
}

// Error names the stream and the failure.
func (e *streamError) Error() string { return "stream " + e.Stream + ": " + e.Err.Error() }

// Unwrap returns the failure.
func (e *streamError) Unwrap() error { return e.Err }

// readError is a read in which streams failed. Read has emitted the TRACE
// ERROR messages already when it returns one.
type readError struct {
	// Streams are the failures, one per failed stream and partition.
	Streams []*streamError
}

// Error is the CDK's summary of the failed streams.
func (e *readError) Error() string {
	var b strings.Builder
	b.WriteString("During the sync, the following streams did not sync successfully: ")
	for i, s := range e.Streams {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(s.Stream + ": " + s.Err.Error())
	}
	return b.String()
}

// Unwrap returns the stream failures.
func (e *readError) Unwrap() []error {
	out := make([]error, len(e.Streams))
	for i, s := range e.Streams {
		out[i] = s
	}
	return out
}
