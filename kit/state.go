package kit

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/x/goairbyte/protocol"
)

// ParseState reads the --state argument of a read in every form the
// protocol and real runners use: a JSON array of AirbyteStateMessages
// (STREAM, GLOBAL or LEGACY), a single one, either wrapped as a whole
// AirbyteMessage ({"type":"STATE","state":...}), or a bare LEGACY object
// (the stream states keyed by stream name, what old runners pass). A state
// without a type is LEGACY, as the protocol says; a bare object comes back
// as a LEGACY state whose Data is the object. Empty input, null and [] are
// no state (nil). Blobs are kept byte for byte.
//
// Errors are config errors (see [ConfigError]).
func ParseState(raw json.RawMessage) ([]protocol.State, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, stateErrorf("not a JSON array of state messages: %v", err)
		}
	} else {
		items = []json.RawMessage{raw}
	}
	var out []protocol.State
	for i, item := range items {
		st, err := parseStateItem(item)
		if err != nil {
			if len(items) > 1 || raw[0] == '[' {
				return nil, stateErrorf("state message %d: %v", i+1, err)
			}
			return nil, stateErrorf("%v", err)
		}
		out = append(out, st)
	}
	return out, nil
}

func stateErrorf(format string, a ...any) error {
	return ConfigError(fmt.Errorf("invalid state: "+format, a...))
}

// parseStateItem reads one element of the state: a state message, an
// AirbyteMessage holding one, or a bare LEGACY object.
func parseStateItem(raw json.RawMessage) (protocol.State, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return protocol.State{}, fmt.Errorf("not a JSON object: %v", err)
	}
	_, hasType := keys["type"]
	_, hasStream := keys["stream"]
	_, hasGlobal := keys["global"]
	_, hasData := keys["data"]
	if !hasType && !hasStream && !hasGlobal && !(hasData && len(keys) == 1) {
		// A bare LEGACY object: {"users": {...}, ...} (a stream may be
		// called "data": only {"data": ...} alone is an untyped message).
		return protocol.State{Type: protocol.StateLegacy, Data: raw}, nil
	}
	if string(keys["type"]) == `"STATE"` {
		inner, ok := keys["state"]
		if !ok {
			return protocol.State{}, fmt.Errorf("a STATE message without its state")
		}
		return parseStateItem(inner)
	}
	var st protocol.State
	if err := json.Unmarshal(raw, &st); err != nil {
		return protocol.State{}, err
	}
	switch st.Type {
	case "":
		switch {
		case st.Stream != nil:
			st.Type = protocol.StateStream
		case st.Global != nil:
			st.Type = protocol.StateGlobal
		default:
			st.Type = protocol.StateLegacy
		}
	case protocol.StateStream, protocol.StateGlobal, protocol.StateLegacy:
	default:
		return protocol.State{}, fmt.Errorf("unknown state type %q", st.Type)
	}
	if st.Type == protocol.StateStream && st.Stream == nil {
		return protocol.State{}, fmt.Errorf("a STREAM state without its stream")
	}
	if st.Type == protocol.StateGlobal && st.Global == nil {
		return protocol.State{}, fmt.Errorf("a GLOBAL state without global")
	}
	return st, nil
}

// StreamStates returns the state of each stream that states cover: the
// stream_state of STREAM states, the stream_states of GLOBAL states, and
// the entries of LEGACY data read as an object from stream name to state
// (how source connectors wrote legacy state). A later state of a stream
// wins. Streams whose state is null are left out. LEGACY data that is not
// an object is a config error.
func StreamStates(states []protocol.State) (map[protocol.StreamDescriptor]json.RawMessage, error) {
	out := map[protocol.StreamDescriptor]json.RawMessage{}
	put := func(d protocol.StreamDescriptor, s json.RawMessage) {
		if len(bytes.TrimSpace(s)) == 0 || string(bytes.TrimSpace(s)) == "null" {
			return
		}
		out[d] = s
	}
	for _, st := range states {
		switch st.EffectiveType() {
		case protocol.StateStream:
			if st.Stream != nil {
				put(st.Stream.StreamDescriptor, st.Stream.StreamState)
			}
		case protocol.StateGlobal:
			if st.Global != nil {
				for _, s := range st.Global.StreamStates {
					put(s.StreamDescriptor, s.StreamState)
				}
			}
		case protocol.StateLegacy:
			data := bytes.TrimSpace(st.Data)
			if len(data) == 0 || string(data) == "null" {
				continue
			}
			var streams map[string]json.RawMessage
			if err := json.Unmarshal(data, &streams); err != nil {
				return nil, stateErrorf("LEGACY data is not an object of stream states: %v", err)
			}
			for name, s := range streams {
				put(protocol.StreamDescriptor{Name: name}, s)
			}
		}
	}
	return out, nil
}
