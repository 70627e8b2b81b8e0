// Package twoway is a small kit connector, a source and a destination at
// once, for tests that run the same value both ways — as a process
// (source-twoway, kit.Serve) and in process (executor.KindInProcess) — and
// compare what the caller sees. Its config's "mode" picks a misbehaviour;
// Connector.SpecMode (the TWOWAY_SPEC variable for the process) picks one
// of Spec, which has no config.
package twoway

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"strconv"

	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// Connector is the connector. SpecMode is "" (a spec requiring the string
// "mode"), "nil" (Spec returns no spec and no error) or "fail".
type Connector struct{ SpecMode string }

type config struct {
	Mode string `json:"mode"`
}

func mode(raw json.RawMessage) string {
	var c config
	_ = json.Unmarshal(raw, &c) // kit has validated it (or, in the bug this exists for, not)
	return c.Mode
}

// Spec requires "mode", a string.
func (c Connector) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	switch c.SpecMode {
	case "nil":
		return nil, nil
	case "fail":
		return nil, errors.New("no spec today")
	}
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","required":["mode"],"properties":{"mode":{"type":"string"}}}`)}, nil
}

// Check fails with mode "check-fail" and panics with "check-panic".
func (Connector) Check(_ context.Context, raw json.RawMessage) error {
	switch mode(raw) {
	case "check-fail":
		return errors.New("the service said no")
	case "check-panic":
		panic("check blew up")
	}
	return nil
}

// Discover returns the streams "items" and "empty" (full refresh, no
// primary key: a cache replaces their tables), or no catalog with mode
// "nil-catalog".
func (Connector) Discover(_ context.Context, raw json.RawMessage) (*protocol.Catalog, error) {
	if mode(raw) == "nil-catalog" {
		return nil, nil
	}
	schema := json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`)
	full := []protocol.SyncMode{protocol.SyncFullRefresh}
	return &protocol.Catalog{Streams: []protocol.Stream{{Name: "items", JSONSchema: schema, SupportedSyncModes: full},
		{Name: "empty", JSONSchema: schema, SupportedSyncModes: full}}}, nil
}

// Read emits two records of each configured stream, then, by mode: a
// panic ("panic"), a config error ("config-error"), a plain error
// ("fail"), a nil message ("emit-nil"), a TRACE ERROR and a nil return
// ("trace-error"); else a state holding the --state it was given. Two modes say nothing of their streams' ends, as a
// connector whose author does not know the statuses: "quiet" emits the
// records of "items" only (none of any other stream: an empty stream) and
// no state; "statuses" does the same between a STREAM_STATUS STARTED of
// every configured stream and its end, COMPLETE for "items" and INCOMPLETE
// for the others, and succeeds all the same.
func (Connector) Read(_ context.Context, raw json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	switch m := mode(raw); m {
	case "quiet", "statuses":
		return readQuietly(catalog, m == "statuses", emit)
	}
	for _, s := range catalog.Streams {
		for i := range 2 {
			data := json.RawMessage(`{"id":` + strconv.Itoa(i) + `}`)
			if err := emit(&protocol.Message{Type: protocol.TypeRecord,
				Record: &protocol.Record{Stream: s.Stream.Name, Data: data, EmittedAt: 1}}); err != nil {
				return err
			}
		}
	}
	switch mode(raw) {
	case "panic":
		panic("read blew up")
	case "config-error":
		return kit.ConfigError(errors.New("the account is closed"))
	case "fail":
		return errors.New("the API broke")
	case "emit-nil":
		if err := emit(nil); err != nil {
			return err
		}
	case "trace-error":
		return emit(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{Type: protocol.TraceError, EmittedAt: 1,
			Error: &protocol.ErrorTrace{Message: "the account is closed", FailureType: protocol.FailureConfig}}})
	}
	if state == nil {
		state = json.RawMessage(`null`)
	}
	return emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
		Stream: &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: "items"}, StreamState: state}}})
}

// readQuietly is Read's "quiet" and "statuses" modes.
func readQuietly(catalog *protocol.ConfiguredCatalog, statuses bool, emit func(*protocol.Message) error) error {
	status := func(s protocol.ConfiguredStream, st protocol.StreamStatus) error {
		if !statuses {
			return nil
		}
		return emit(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{Type: protocol.TraceStreamStatus, EmittedAt: 1,
			StreamStatus: &protocol.StreamStatusTrace{StreamDescriptor: protocol.StreamDescriptor{Name: s.Stream.Name, Namespace: s.Stream.Namespace},
				Status: st}}})
	}
	for _, s := range catalog.Streams {
		if err := status(s, protocol.StatusStarted); err != nil {
			return err
		}
		end := protocol.StatusIncomplete
		if s.Stream.Name == "items" {
			end = protocol.StatusComplete
			for i := range 2 {
				data := json.RawMessage(`{"id":` + strconv.Itoa(i) + `}`)
				if err := emit(&protocol.Message{Type: protocol.TypeRecord,
					Record: &protocol.Record{Stream: s.Stream.Name, Data: data, EmittedAt: 1}}); err != nil {
					return err
				}
			}
		}
		if err := status(s, end); err != nil {
			return err
		}
	}
	return nil
}

// Write echoes each STATE of its input, after a LOG counting the records
// before it; it fails on an input it cannot read.
func (Connector) Write(_ context.Context, _ json.RawMessage, _ *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	n := 0
	for m, err := range input {
		if err != nil {
			return err
		}
		switch m.Type {
		case protocol.TypeRecord:
			n++
		case protocol.TypeState:
			if err := emit(&protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: protocol.LevelInfo,
				Message: strconv.Itoa(n) + " records"}}); err != nil {
				return err
			}
			if err := emit(m); err != nil {
				return err
			}
		}
	}
	return nil
}
