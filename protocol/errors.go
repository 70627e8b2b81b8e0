package protocol

import (
	"errors"
	"fmt"
	"strings"
)

// ErrStreamNotFound is the sentinel of every "no such stream" error: a
// stream a connector's catalog, a read's result or a cache does not have.
// [StreamNotFoundError] matches it; the root package goairbyte re-exports it.
var ErrStreamNotFound = errors.New("stream not found")

// StreamNotFoundError says that a stream the caller named is not there.
type StreamNotFoundError struct {
	// Where is what was asked: a connector's name, "cache", or "the read
	// of " and a connector's name (source.ReadResult.Stream, for a stream
	// the connector may have but that read did not get).
	Where string
	// Stream is the name asked for.
	Stream string
	// Available lists the streams there are.
	Available []string
}

// Error names the stream and the streams there are.
func (e *StreamNotFoundError) Error() string {
	avail := "none"
	if len(e.Available) > 0 {
		avail = strings.Join(e.Available, ", ")
	}
	return fmt.Sprintf("%s: no stream %q; available streams: %s", e.Where, e.Stream, avail)
}

// Is matches ErrStreamNotFound.
func (e *StreamNotFoundError) Is(target error) bool { return target == ErrStreamNotFound }
