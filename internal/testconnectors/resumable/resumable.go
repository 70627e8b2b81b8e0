// Package resumable is a kit source that treats the state it is given as
// Airbyte's Python CDK does, for the tests of which states a read passes
// back: a resumable full-refresh stream whose state says it was read to
// its end reads nothing, as the platform never passes such a state to a
// new sync.
package resumable

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// Pages is the number of pages of "pages", and PageSize the records of
// each: a full read of it holds Pages*PageSize records.
const (
	Pages    = 3
	PageSize = 2
)

// complete is the state the Python CDK gives a resumable full-refresh
// stream read to its end (FULL_REFRESH_COMPLETE_STATE,
// airbyte_cdk/sources/streams/checkpoint/checkpoint_reader.py).
const complete = `{"__ab_full_refresh_sync_complete":true}`

// Connector is a source of two streams: "pages", full refresh only and
// resumable (is_resumable), read page by page with a state {"page": n}
// after each page but the last and the complete state after that; and
// "events", incremental with the cursor id, records 1 and 2 and the state
// {"id": 2}, none when that state is given. Given the complete state,
// "pages" sends no record and the complete state again, as the CDK's
// ResumableFullRefreshCheckpointReader ends at once on it; given
// {"page": n}, it starts at page n. With "global" in the config the states
// are GLOBAL (a shared state and both streams' states, as a CDC source
// sends them), else per stream.
type Connector struct{}

var _ kit.Source = Connector{}

// Spec takes "global", whether the states are GLOBAL.
func (Connector) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","properties":{"global":{"type":"boolean"}}}`)}, nil
}

// Check accepts every config.
func (Connector) Check(context.Context, json.RawMessage) error { return nil }

// Discover returns "pages" and "events".
func (Connector) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	schema := json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`)
	yes := true
	return &protocol.Catalog{Streams: []protocol.Stream{
		{Name: "pages", JSONSchema: schema, SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}, IsResumable: &yes},
		{Name: "events", JSONSchema: schema, SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental},
			SourceDefinedCursor: &yes, DefaultCursorField: []string{"id"}},
	}}, nil
}

// Read reads the configured streams from the states given.
func (Connector) Read(_ context.Context, raw json.RawMessage, cat *protocol.ConfiguredCatalog, state json.RawMessage, emit func(*protocol.Message) error) error {
	var cfg struct{ Global bool }
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return err
	}
	given, err := streamStates(state)
	if err != nil {
		return err
	}
	r := &reader{global: cfg.Global, emit: emit, states: map[string]json.RawMessage{}}
	for _, cs := range cat.Streams {
		switch name := cs.Stream.Name; name {
		case "pages":
			err = r.pages(given[name])
		case "events":
			err = r.events(given[name])
		default:
			err = fmt.Errorf("unknown stream %q", name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// streamStates is each stream's state in a --state of STREAM messages or
// one GLOBAL message.
func streamStates(state json.RawMessage) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if state == nil {
		return out, nil
	}
	var msgs []protocol.State
	if err := json.Unmarshal(state, &msgs); err != nil {
		return nil, err
	}
	for _, m := range msgs {
		switch {
		case m.Stream != nil:
			out[m.Stream.StreamDescriptor.Name] = m.Stream.StreamState
		case m.Global != nil:
			for _, s := range m.Global.StreamStates {
				out[s.StreamDescriptor.Name] = s.StreamState
			}
		}
	}
	return out, nil
}

// reader emits one read's records and states.
type reader struct {
	global bool
	emit   func(*protocol.Message) error
	states map[string]json.RawMessage // GLOBAL: each stream's last state
}

func (r *reader) pages(state json.RawMessage) error {
	first := 1
	if state != nil {
		var st struct {
			Page     int  `json:"page"`
			Complete bool `json:"__ab_full_refresh_sync_complete"`
		}
		if err := json.Unmarshal(state, &st); err != nil {
			return err
		}
		if st.Complete {
			return r.state("pages", complete)
		}
		first = max(st.Page, 1)
	}
	for page := first; page <= Pages; page++ {
		for i := range PageSize {
			if err := r.record("pages", (page-1)*PageSize+i+1); err != nil {
				return err
			}
		}
		next := complete
		if page < Pages {
			next = `{"page":` + strconv.Itoa(page+1) + `}`
		}
		if err := r.state("pages", next); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) events(state json.RawMessage) error {
	if state == nil {
		for id := 1; id <= 2; id++ {
			if err := r.record("events", id); err != nil {
				return err
			}
		}
	}
	return r.state("events", `{"id":2}`)
}

func (r *reader) record(stream string, id int) error {
	return r.emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: stream,
		Data: json.RawMessage(`{"id":` + strconv.Itoa(id) + `}`)}})
}

func (r *reader) state(stream, state string) error {
	if !r.global {
		return r.emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
			Stream: &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: stream}, StreamState: json.RawMessage(state)}}})
	}
	r.states[stream] = json.RawMessage(state)
	g := &protocol.GlobalState{SharedState: json.RawMessage(`{"lsn":1}`)}
	for _, name := range []string{"pages", "events"} {
		if st, ok := r.states[name]; ok {
			g.StreamStates = append(g.StreamStates, protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: name}, StreamState: st})
		}
	}
	return r.emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateGlobal, Global: g}})
}

// NewSource is the connector as a source run in process.
func NewSource(global bool) (*source.Source, error) {
	return source.New(context.Background(), "source-resumable", connector.WithGoConnector(Connector{}),
		connector.WithConfig(map[string]any{"global": global}))
}
