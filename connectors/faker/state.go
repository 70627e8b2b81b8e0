package faker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// cursor is how far a previous read got in one stream: our state shape,
// {"id": last id emitted, "updated_at": "..."}.
type cursor struct {
	ID        int64
	UpdatedAt string
}

// updatedUnix is the cursor's updated_at in unix seconds, or 0.
func (c cursor) updatedUnix() int64 {
	t, err := time.Parse(time.RFC3339, c.UpdatedAt)
	if err != nil {
		return 0
	}
	return t.Unix()
}

// stateHint says what to pass instead of a state the faker cannot use.
const stateHint = " (pass the STATE messages of a previous read, or no --state for a full read)"

// stateError reports a stream state the faker cannot understand: the
// caller's to fix, so a config_error.
type stateError struct {
	reason string
}

func (e *stateError) Error() string { return "invalid source-faker state: " + e.reason + stateHint }

// FailureType makes the TRACE ERROR a config_error (see kit.FailureType).
func (e *stateError) FailureType() protocol.FailureType { return protocol.FailureConfig }

// parseState reads the --state file in every form kit.ParseState accepts
// and returns each stream's cursor.
func parseState(raw []byte) (map[string]cursor, error) {
	states, err := kit.ParseState(raw)
	if err != nil {
		return nil, fmt.Errorf("source-faker: %w%s", err, stateHint)
	}
	streams, err := kit.StreamStates(states)
	if err != nil {
		return nil, fmt.Errorf("source-faker: %w%s", err, stateHint)
	}
	out := map[string]cursor{}
	for d, s := range streams {
		if err := addCursor(out, d.Name, s); err != nil {
			return nil, &stateError{err.Error()}
		}
	}
	return out, nil
}

// addCursor reads one stream's state: ours ({"id", "updated_at"}) or
// Airbyte source-faker's ({"seed", "updated_at", "loop_offset"}), where
// loop_offset counts the records already emitted, i.e. the last id.
func addCursor(out map[string]cursor, stream string, raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s struct {
		ID         *json.Number `json:"id"`
		LoopOffset *json.Number `json:"loop_offset"`
		UpdatedAt  string       `json:"updated_at"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("stream %q: state is not an object with id and updated_at: %v", stream, err)
	}
	n := s.ID
	if n == nil {
		n = s.LoopOffset
	}
	c := cursor{UpdatedAt: s.UpdatedAt}
	if n != nil {
		v, ok := toInt64(*n)
		if !ok || v < 0 {
			return fmt.Errorf("stream %q: id %s is not a non-negative integer", stream, *n)
		}
		c.ID = v
	}
	out[stream] = c
	return nil
}
