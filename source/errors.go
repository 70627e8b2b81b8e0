package source

import (
	"errors"
	"fmt"
)

// Sentinels of the source's errors, for errors.Is; the root package
// goairbyte re-exports them.
var (
	// ErrIncompleteStream: a read ended before a stream was reported
	// complete.
	ErrIncompleteStream = errors.New("stream incomplete")
	// ErrNoStreamsSelected: a read had no stream to read.
	ErrNoStreamsSelected = errors.New("no streams selected")
)

// IncompleteStreamError says that a read ended, without any other error,
// before a stream was complete: the connector announced the stream
// (STARTED/RUNNING) and never said COMPLETE, or said INCOMPLETE, or lines
// of its output that claimed to be the stream's RECORD or STATE messages
// did not parse (Malformed), or sent nothing at all for a stream the cache
// replaces (Status empty: the cache kept the table it had). The records
// seen so far may be a part of the stream only.
type IncompleteStreamError struct {
	// Connector is the source connector's name as given to New.
	Connector string
	// Stream is the stream found incomplete, the first one when several
	// are.
	Stream string
	// Status is the last status the connector reported for the stream, ""
	// if none.
	Status string
	// Malformed counts the stream's lines that did not parse (and the
	// lines that named no stream).
	Malformed int64
}

// Error names the stream and why it is incomplete.
func (e *IncompleteStreamError) Error() string {
	if e.Malformed > 0 {
		return fmt.Sprintf("%s: stream %q is incomplete: %d line(s) of the connector's output claimed to be its RECORD or STATE messages "+
			"and did not parse (the connector's log file has them); no state was committed after them, so the next read asks for those records again "+
			"(source.TolerateMalformed accepts such a read)", e.Connector, e.Stream, e.Malformed)
	}
	if e.Status == "" {
		return fmt.Sprintf("%s: the connector sent nothing for stream %q (no record, state or status); the cache keeps its table from the last read "+
			"(a connector marks a stream done, an empty one too, with a STATE of it or a TRACE STREAM_STATUS COMPLETE"+doneByKits+")",
			e.Connector, e.Stream)
	}
	return fmt.Sprintf("%s: stream %q ended without being reported complete (last status %s); the data may be partial, read again",
		e.Connector, e.Stream, e.Status)
}

// Is matches ErrIncompleteStream.
func (e *IncompleteStreamError) Is(target error) bool { return target == ErrIncompleteStream }

// NoStreamsSelectedError says that a read had no stream to read: none was
// named or selected, which reads every stream, and the connector's catalog
// has none.
type NoStreamsSelectedError struct {
	// Connector is the source connector's name as given to New.
	Connector string
	// Available lists the streams of the discovered catalog, in its order.
	Available []string
}

// Error says that there is no stream to read, and which there are if any.
func (e *NoStreamsSelectedError) Error() string {
	if len(e.Available) == 0 {
		return fmt.Sprintf("%s: no streams to read: its catalog has none", e.Connector)
	}
	return fmt.Sprintf("%s: no streams selected; call SelectStreams or SelectAllStreams (available: %v)", e.Connector, e.Available)
}

// Is matches ErrNoStreamsSelected.
func (e *NoStreamsSelectedError) Is(target error) bool { return target == ErrNoStreamsSelected }
