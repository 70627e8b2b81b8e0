package interpolation

import (
	"errors"
	"fmt"
)

// Sentinels that an *Error wraps, by the kind of Python exception it stands for.
var (
	// ErrSyntax: the template does not parse (Jinja's TemplateSyntaxError, including an unknown
	// filter or test) or uses a Jinja feature this evaluator does not have.
	ErrSyntax = errors.New("template syntax error")
	// ErrUndefined: an operation on an undefined value (Jinja's UndefinedError), such as an
	// attribute of a missing key.
	ErrUndefined = errors.New("undefined value")
	// ErrType: an operation on values of the wrong types (Python's TypeError).
	ErrType = errors.New("type error")
	// ErrEval: any other exception raised while evaluating (ValueError, ZeroDivisionError, ...).
	ErrEval = errors.New("evaluation error")
)

// Error is an exception raised while compiling or evaluating a template. Type is the name of
// the Python exception the CDK raises in the same case and Message its text, so that a message
// that reaches the user reads like the CDK's.
type Error struct {
	Type    string // Python exception class, e.g. "TypeError", "UndefinedError", "ValueError"
	Message string // the exception's message, as Python prints it
}

// Error returns "Type: Message".
func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Unwrap returns the sentinel of the error's kind: ErrSyntax, ErrUndefined, ErrType or ErrEval.
func (e *Error) Unwrap() error {
	switch e.Type {
	case "TemplateSyntaxError", "TemplateAssertionError":
		return ErrSyntax
	case "UndefinedError", "SecurityError":
		return ErrUndefined
	case "TypeError":
		return ErrType
	}
	return ErrEval
}

func newError(typ, format string, args ...any) *Error {
	if len(args) == 0 {
		return &Error{Type: typ, Message: format}
	}
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

func typeErrorf(format string, args ...any) *Error  { return newError("TypeError", format, args...) }
func valueErrorf(format string, args ...any) *Error { return newError("ValueError", format, args...) }
func syntaxErrorf(format string, args ...any) *Error {
	return newError("TemplateSyntaxError", format, args...)
}

// isType reports whether err is an *Error of the given Python type.
func isType(err error, typ string) bool {
	var e *Error
	return errors.As(err, &e) && e.Type == typ
}
