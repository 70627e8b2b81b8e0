package faker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
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

// StateError reports a state file that cannot be understood.
type StateError struct {
	Reason string
}

// Error says what is wrong with the state and what to pass instead.
func (e *StateError) Error() string {
	return "invalid source-faker state: " + e.Reason + " (pass the STATE messages of a previous read, or no --state for a full read)"
}

// parseState accepts every input state form of the protocol: an array of
// STREAM, GLOBAL or LEGACY state messages (optionally wrapped as
// {"type":"STATE","state":...}), a single such message, or a LEGACY object
// mapping stream names to their state.
func parseState(raw []byte) (map[string]cursor, error) {
	out := map[string]cursor{}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return out, nil
	}
	var msgs []json.RawMessage
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return nil, &StateError{"not a JSON array of state messages: " + err.Error()}
		}
	} else {
		msgs = []json.RawMessage{raw}
	}
	for i, m := range msgs {
		if err := addStateMessage(out, m); err != nil {
			return nil, &StateError{fmt.Sprintf("state message %d: %v", i+1, err)}
		}
	}
	return out, nil
}

type stateMessage struct {
	Type   string          `json:"type"`
	State  json.RawMessage `json:"state"`
	Stream *struct {
		Descriptor struct {
			Name string `json:"name"`
		} `json:"stream_descriptor"`
		State json.RawMessage `json:"stream_state"`
	} `json:"stream"`
	Global *struct {
		Streams []struct {
			Descriptor struct {
				Name string `json:"name"`
			} `json:"stream_descriptor"`
			State json.RawMessage `json:"stream_state"`
		} `json:"stream_states"`
	} `json:"global"`
	Data json.RawMessage `json:"data"`
}

func addStateMessage(out map[string]cursor, raw json.RawMessage) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return fmt.Errorf("not a JSON object: %v", err)
	}
	_, hasType := keys["type"]
	_, hasStream := keys["stream"]
	_, hasGlobal := keys["global"]
	_, hasData := keys["data"]
	if !hasType && !hasStream && !hasGlobal && !(hasData && len(keys) == 1) {
		return addLegacy(out, raw) // a bare LEGACY object: {"users": {...}, ...}
	}
	var m stateMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	if m.Type == "STATE" && m.State != nil { // a whole AirbyteMessage
		return addStateMessage(out, m.State)
	}
	switch {
	case m.Type == "STREAM" || (m.Type == "" && m.Stream != nil):
		if m.Stream == nil {
			return fmt.Errorf("STREAM state without a stream")
		}
		return addCursor(out, m.Stream.Descriptor.Name, m.Stream.State)
	case m.Type == "GLOBAL" || (m.Type == "" && m.Global != nil):
		if m.Global == nil {
			return fmt.Errorf("GLOBAL state without global")
		}
		for _, s := range m.Global.Streams {
			if err := addCursor(out, s.Descriptor.Name, s.State); err != nil {
				return err
			}
		}
		return nil
	case m.Type == "LEGACY" || m.Type == "":
		return addLegacy(out, m.Data)
	}
	return fmt.Errorf("unknown state type %q", m.Type)
}

func addLegacy(out map[string]cursor, data json.RawMessage) error {
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	var streams map[string]json.RawMessage
	if err := json.Unmarshal(data, &streams); err != nil {
		return fmt.Errorf("LEGACY data is not an object of stream states: %v", err)
	}
	for name, s := range streams {
		if err := addCursor(out, name, s); err != nil {
			return err
		}
	}
	return nil
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
