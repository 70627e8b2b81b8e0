// Package usercursor is a kit source shaped like Airbyte's Java database
// sources in their standard (non-CDC) mode, for the tests of the catalog a
// read configures: a table with a primary key and no cursor of its own,
// read incrementally only by a cursor the user picks.
package usercursor

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// Connector is a source of one stream, "rows": primary key id, full
// refresh and incremental, no source-defined or default cursor, as the
// Java CDK's JDBC sources discover a table. Its config's "count" rows have
// ids 1 to count. Read in full it sends them all; read incrementally it
// needs a cursor_field, and fails without one as the Java CDK does
// (IncrementalUtils.getCursorField, airbytehq/airbyte
// airbyte-cdk/java/.../IncrementalUtils); with the cursor id it sends the
// rows after its state {"id": n} and then the state of the last one.
type Connector struct{}

var _ kit.Source = Connector{}

// errNoCursor is the Java CDK's error for an incremental stream that was
// configured without a cursor field.
var errNoCursor = errors.New("No cursor field specified for stream attempting to do incremental.")

// Spec takes "count", the number of rows.
func (Connector) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","properties":{"count":{"type":"integer"}}}`)}, nil
}

// Check accepts every config.
func (Connector) Check(context.Context, json.RawMessage) error { return nil }

// Discover returns "rows".
func (Connector) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	no := false
	return &protocol.Catalog{Streams: []protocol.Stream{{Name: "rows",
		JSONSchema:              json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`),
		SupportedSyncModes:      []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental},
		SourceDefinedCursor:     &no,
		SourceDefinedPrimaryKey: [][]string{{"id"}},
	}}}, nil
}

// Read sends the rows as the stream is configured.
func (Connector) Read(_ context.Context, raw json.RawMessage, cat *protocol.ConfiguredCatalog, state json.RawMessage, emit func(*protocol.Message) error) error {
	var cfg struct{ Count int }
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return err
	}
	for _, cs := range cat.Streams {
		after := 0
		if cs.SyncMode == protocol.SyncIncremental {
			if len(cs.CursorField) == 0 {
				return errNoCursor
			}
			var states []protocol.State
			if state != nil {
				if err := json.Unmarshal(state, &states); err != nil {
					return err
				}
			}
			for _, st := range states {
				if st.Stream != nil && st.Stream.StreamDescriptor.Name == cs.Stream.Name {
					var s struct{ ID int }
					if err := json.Unmarshal(st.Stream.StreamState, &s); err != nil {
						return err
					}
					after = s.ID
				}
			}
		}
		for id := after + 1; id <= cfg.Count; id++ {
			err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: cs.Stream.Name,
				Data: json.RawMessage(`{"id":` + strconv.Itoa(id) + `}`)}})
			if err != nil {
				return err
			}
		}
		if cs.SyncMode == protocol.SyncIncremental {
			err := emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
				Stream: &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: cs.Stream.Name},
					StreamState: json.RawMessage(`{"id":` + strconv.Itoa(max(after, cfg.Count)) + `}`)}}})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// NewSource is the connector as a source of count rows run in process.
func NewSource(count int) (*source.Source, error) {
	return source.New(context.Background(), "source-usercursor", connector.WithGoConnector(Connector{}),
		connector.WithConfig(map[string]any{"count": count}))
}
