// Package demo is a source connector written with package kit, as a user
// of goairbyte writes one from its docs alone: two streams, "events"
// (incremental, its cursor the id, its state the last id read) and "teams"
// (full refresh), and a config with a secret.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// Token is the only api_token Check accepts.
const Token = "good-token-123"

// Source is the connector.
type Source struct{}

type config struct {
	APIToken string `json:"api_token"`
	Count    int    `json:"count"`
	// Pages is how many pages the events come in, each fetched by a
	// goroutine of its own: a bug a worker hits with 0 pages.
	Pages *int `json:"pages"`
}

type cursor struct {
	ID int `json:"id"`
}

// Spec describes the config: a secret token and a record count.
func (Source) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{
		"type": "object", "required": ["api_token", "count"],
		"properties": {
			"api_token": {"type": "string", "airbyte_secret": true, "minLength": 8},
			"count": {"type": "integer", "minimum": 1},
			"pages": {"type": "integer"}}}`)}, nil
}

func parse(raw json.RawMessage) (config, error) {
	var c config
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, kit.ConfigError(err)
	}
	return c, nil
}

// Check refuses every token but Token, quoting it as a careless API would.
func (Source) Check(_ context.Context, raw json.RawMessage) error {
	c, err := parse(raw)
	if err != nil {
		return err
	}
	if c.APIToken != Token {
		return errors.New("the API refused the token " + c.APIToken)
	}
	return nil
}

// Discover returns the two streams.
func (Source) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	yes := true
	return &protocol.Catalog{Streams: []protocol.Stream{{
		Name:                    "events",
		JSONSchema:              json.RawMessage(`{"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}`),
		SupportedSyncModes:      []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental},
		SourceDefinedCursor:     &yes,
		DefaultCursorField:      []string{"id"},
		SourceDefinedPrimaryKey: [][]string{{"id"}},
	}, {
		Name:               "teams",
		JSONSchema:         json.RawMessage(`{"type": "object", "properties": {"team": {"type": "string"}}}`),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh},
	}}}, nil
}

// Read emits the events after the state's id up to count, then the new
// state; and the two teams, then a state of that stream too, which tells
// the runner the stream is done. It sets no record's EmittedAt, as a
// newcomer forgets to.
func (Source) Read(ctx context.Context, raw json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	c, err := parse(raw)
	if err != nil {
		return err
	}
	states, err := kit.ParseState(state)
	if err != nil {
		return err
	}
	byStream, err := kit.StreamStates(states)
	if err != nil {
		return err
	}
	record := func(stream string, data []byte) error {
		return emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: stream, Data: data}})
	}
	stateOf := func(stream string, blob []byte) error {
		return emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
			Stream: &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: stream}, StreamState: blob}}})
	}
	for _, cs := range catalog.Streams {
		switch cs.Stream.Name {
		case "events":
			var from cursor
			if s, ok := byStream[protocol.StreamDescriptor{Name: "events"}]; ok && cs.SyncMode == protocol.SyncIncremental {
				if err := json.Unmarshal(s, &from); err != nil {
					return kit.ConfigError(fmt.Errorf("the state of stream events: %w", err))
				}
			}
			if c.Pages != nil {
				fetched := make(chan int)
				go func() { fetched <- c.Count / *c.Pages }() // the bug: a panic no recover of the kit's reaches
				<-fetched
			}
			for i := from.ID + 1; i <= c.Count; i++ {
				if err := record("events", fmt.Appendf(nil, `{"id": %d, "name": "event %d"}`, i, i)); err != nil {
					return err
				}
			}
			if err := stateOf("events", fmt.Appendf(nil, `{"id": %d}`, max(from.ID, c.Count))); err != nil {
				return err
			}
		case "teams":
			for _, t := range []string{"red", "blue"} {
				if err := record("teams", fmt.Appendf(nil, `{"team": %q}`, t)); err != nil {
					return err
				}
			}
			if err := stateOf("teams", []byte(`{}`)); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}
