package airbyteapi

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors an *APIError matches with errors.Is.
var (
	// ErrNotFound: the object does not exist (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request conflicts with the object's state, such as
	// a sync started while another runs (HTTP 409).
	ErrConflict = errors.New("conflict")
	// ErrUnauthorized: the credentials were refused (HTTP 401 or 403).
	ErrUnauthorized = errors.New("unauthorized")
)

// ErrNoConfigAPI: a call needs the Configuration API, whose root the
// client cannot derive from the public API's (one that does not end in
// /api/public/v1, such as behind a proxy); WithConfigAPIURL gives it.
var ErrNoConfigAPI = errors.New("the Configuration API's URL is unknown")

// noConfigAPIError is a Configuration API call made without its root; it
// matches ErrNoConfigAPI and says which call needed it.
type noConfigAPIError struct{ method, base string }

// Error says which call needs the root and how to give it.
func (e *noConfigAPIError) Error() string {
	return fmt.Sprintf("airbyteapi: %s needs the Configuration API, whose URL cannot be derived from %s: use WithConfigAPIURL", e.method, e.base)
}

// Is matches ErrNoConfigAPI.
func (e *noConfigAPIError) Is(target error) bool { return target == ErrNoConfigAPI }

// APIError is an answer of the server with a status other than 2xx.
type APIError struct {
	// Method is the HTTP method of the request, such as "POST".
	Method string
	// URL is the URL the request went to, query string included.
	URL string
	// Status is the HTTP status code of the answer, such as 404.
	Status  int
	Message string // the server's message, secrets masked
}

// Error says which request failed, with what status and message.
func (e *APIError) Error() string {
	s := fmt.Sprintf("airbyteapi: %s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		s += " (check the credentials and that they may use this workspace)"
	case http.StatusTooManyRequests:
		s += " (rate limited; retried until the retry policy gave up)"
	}
	return s
}

// Is matches the sentinel that corresponds to the status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	}
	return false
}

// networkError is a request that got no answer (refused, reset, timed out).
type networkError struct {
	Method string
	URL    string
	Err    error
}

// Error says which request got no answer and why.
func (e *networkError) Error() string {
	return fmt.Sprintf("airbyteapi: %s %s: no answer: %v", e.Method, e.URL, e.Err)
}

// Unwrap returns the transport's error.
func (e *networkError) Unwrap() error { return e.Err }

// authFailure is a request that was not sent because its credentials
// could not be had: the token request failed.
type authFailure struct{ err error }

// Error returns the token request's error.
func (e *authFailure) Error() string { return e.err.Error() }

// Unwrap returns the token request's error.
func (e *authFailure) Unwrap() error { return e.err }
