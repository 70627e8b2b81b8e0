// Package unstated is a kit source whose config says which of its two
// incremental streams get a STATE after their records, for the tests of
// what a read or a write does when a stream's records come with none.
package unstated

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// Connector is a source of two incremental streams with a cursor and no
// key ("events", "clicks": a cache appends them), two records each; the
// config says which streams get a STATE after their records, and a stream
// read with its state gets none.
type Connector struct{}

var _ kit.Source = Connector{}

// Spec takes "stated", the streams that get a state.
func (Connector) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","properties":{"stated":{"type":"array","items":{"type":"string"}}}}`)}, nil
}

// Check accepts every config.
func (Connector) Check(context.Context, json.RawMessage) error { return nil }

// Discover returns "events" and "clicks", incremental with the cursor id.
func (Connector) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	schema := json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`)
	yes := true
	modes := []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental}
	cat := &protocol.Catalog{}
	for _, name := range []string{"events", "clicks"} {
		cat.Streams = append(cat.Streams, protocol.Stream{Name: name, JSONSchema: schema, SupportedSyncModes: modes,
			SourceDefinedCursor: &yes, DefaultCursorField: []string{"id"}})
	}
	return cat, nil
}

// Read sends each stream's records 1 and 2 unless its state is given, and
// a state after them to the streams stated.
func (Connector) Read(_ context.Context, raw json.RawMessage, cat *protocol.ConfiguredCatalog, state json.RawMessage, emit func(*protocol.Message) error) error {
	var cfg struct{ Stated []string }
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return err
	}
	var states []protocol.State
	if state != nil {
		if err := json.Unmarshal(state, &states); err != nil {
			return err
		}
	}
	for _, cs := range cat.Streams {
		name := cs.Stream.Name
		ids := []string{"1", "2"}
		for _, st := range states {
			if st.Stream != nil && st.Stream.StreamDescriptor.Name == name {
				ids = nil // its state is past both records
			}
		}
		for _, id := range ids {
			if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: name, Data: json.RawMessage(`{"id":` + id + `}`)}}); err != nil {
				return err
			}
		}
		for _, s := range cfg.Stated {
			if s == name {
				err := emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
					Stream: &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: name}, StreamState: json.RawMessage(`{"id":2}`)}}})
				if err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// NewSource is the connector as a source run in process, stating the
// streams stated, its warnings written to log.
func NewSource(t testing.TB, stated []string, log io.Writer) *source.Source {
	t.Helper()
	src, err := source.New(context.Background(), "source-unstated", connector.WithGoConnector(Connector{}),
		connector.WithConfig(map[string]any{"stated": stated}),
		connector.WithLogger(slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// CheckWarned fails t unless log holds one warning of records with no
// state per run, each naming want (none at all when want is "").
func CheckWarned(t testing.TB, log, want string, runs int) {
	t.Helper()
	warned := strings.Count(log, "no state for")
	switch {
	case want == "" && warned > 0:
		t.Errorf("warned of streams that need no state:\n%s", log)
	case want != "" && (warned != runs || !strings.Contains(log, want)):
		t.Errorf("want %d warnings naming %s, got:\n%s", runs, want, log)
	}
}
