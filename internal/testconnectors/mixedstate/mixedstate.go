// Package mixedstate is a kit source that sends both kinds of state in
// one read, as a version of Airbyte's bulk CDK did (airbytehq/airbyte,
// bulk CDK StateManager.checkpoint): a GLOBAL state, the CDC position,
// with the part of its incremental stream, and a STREAM state of its
// full-refresh stream. For the tests of what a cache keeps of them.
package mixedstate

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// Connector is a source of "users", read by CDC (incremental, with a
// cursor and no key: a cache appends it), and "pages", read in full. A
// read sends the users after the position its GLOBAL state gives (all
// of 1 and 2 without one), then that state, at position 2; then pages 1
// and 2 and a STREAM state of pages. Its spec and check are base.Items'.
type Connector struct{ base.Items }

var _ kit.Source = Connector{}

// Discover returns "users", incremental with the cursor id, and "pages",
// full refresh only.
func (Connector) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	schema := json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`)
	yes := true
	return &protocol.Catalog{Streams: []protocol.Stream{
		{Name: "users", JSONSchema: schema, SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental},
			SourceDefinedCursor: &yes, DefaultCursorField: []string{"id"}},
		{Name: "pages", JSONSchema: schema, SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}},
	}}, nil
}

// Read sends the streams selected as the Connector doc says.
func (Connector) Read(_ context.Context, _ json.RawMessage, cat *protocol.ConfiguredCatalog, state json.RawMessage, emit func(*protocol.Message) error) error {
	var states []protocol.State
	if state != nil {
		if err := json.Unmarshal(state, &states); err != nil {
			return err
		}
	}
	var pos struct{ LSN int }
	for _, st := range states {
		if st.Type == protocol.StateGlobal && st.Global != nil {
			if err := json.Unmarshal(st.Global.SharedState, &pos); err != nil {
				return err
			}
		}
	}
	rec := func(stream string, id int) error {
		return emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: stream, Data: json.RawMessage(fmt.Sprintf(`{"id":%d}`, id))}})
	}
	for _, cs := range cat.Streams {
		switch cs.Stream.Name {
		case "users":
			for id := pos.LSN + 1; id <= 2; id++ {
				if err := rec("users", id); err != nil {
					return err
				}
			}
			err := emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateGlobal, Global: &protocol.GlobalState{
				SharedState:  json.RawMessage(`{"lsn":2}`),
				StreamStates: []protocol.StreamState{{StreamDescriptor: protocol.StreamDescriptor{Name: "users"}, StreamState: json.RawMessage(`{"lsn":2}`)}},
			}}})
			if err != nil {
				return err
			}
		case "pages":
			for id := 1; id <= 2; id++ {
				if err := rec("pages", id); err != nil {
					return err
				}
			}
			err := emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
				Stream: &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: "pages"}, StreamState: json.RawMessage(`{"done":true}`)}}})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// NewSource is the connector as a source run in process.
func NewSource(t testing.TB) *source.Source {
	t.Helper()
	src, err := source.New(context.Background(), "source-mixedstate", connector.WithGoConnector(Connector{}), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	return src
}
