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
	// Where is what was asked: a connector's name, or "cache".
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

// StreamNames lists the catalog's stream names in catalog order.
func (c *Catalog) StreamNames() []string {
	names := make([]string, len(c.Streams))
	for i := range c.Streams {
		names[i] = c.Streams[i].Name
	}
	return names
}

// Find returns the stream called name, or a *StreamNotFoundError whose
// Where is where.
func (c *Catalog) Find(where, name string) (*Stream, error) {
	for i := range c.Streams {
		if c.Streams[i].Name == name {
			return &c.Streams[i], nil
		}
	}
	return nil, &StreamNotFoundError{Where: where, Stream: name, Available: c.StreamNames()}
}
