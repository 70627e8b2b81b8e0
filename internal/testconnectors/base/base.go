// Package base is what the test connectors share: a well-behaved kit.Source
// of one stream, "items", whose methods each connector embeds and
// overrides where it misbehaves, the config they read and messages they
// emit.
package base

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// Config is what the test connectors read from their config.
type Config struct {
	Count    int    `json:"count"`
	Size     int    `json:"size"`
	Password string `json:"password"`
	// DropStates makes echo's write swallow STATE messages: a destination
	// that never confirms anything.
	DropStates bool `json:"drop_states"`
	// FlushMillis is how long lastwords takes, once told to stop, before
	// its last words: a destination flushing a batch to a slow store.
	FlushMillis int `json:"flush_ms"`
}

// ParseConfig decodes a config (kit has validated it against Items' spec).
func ParseConfig(raw json.RawMessage) (Config, error) {
	var c Config
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, kit.ConfigError(fmt.Errorf("parsing the config: %w", err))
	}
	return c, nil
}

// Items is a source of one full-refresh stream, "items", whose spec has an
// integer count and a secret password. Its check succeeds and its read
// emits nothing.
type Items struct{}

// Spec is a minimal spec: count and password (airbyte_secret).
func (Items) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","properties":{"count":{"type":"integer"},"password":{"type":"string","airbyte_secret":true}}}`)}, nil
}

// Check succeeds.
func (Items) Check(context.Context, json.RawMessage) error { return nil }

// Discover returns the catalog of the stream "items".
func (Items) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	return &protocol.Catalog{Streams: []protocol.Stream{{
		Name:               "items",
		JSONSchema:         json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh},
	}}}, nil
}

// Read emits nothing.
func (Items) Read(context.Context, json.RawMessage, *protocol.ConfiguredCatalog, json.RawMessage, func(*protocol.Message) error) error {
	return nil
}

// Record is a RECORD of stream "items" with data (a JSON object) and
// emitted_at now in milliseconds.
func Record(data string) *protocol.Message {
	return &protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: json.RawMessage(data), EmittedAt: time.Now().UnixMilli()}}
}

// WriteRecords writes n records of "items" ({"id": 0} on) straight to
// stdout, past the kit, for a connector that then fails in a way the kit
// would report for it.
func WriteRecords(n int) {
	var out []byte
	for i := range n {
		out = protocol.AppendRecord(out, Record(fmt.Sprintf(`{"id":%d}`, i)).Record)
	}
	os.Stdout.Write(out)
}

// State is a STREAM state of "items": {"cursor": cursor}.
func State(cursor int) *protocol.Message {
	return &protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream, Stream: &protocol.StreamState{
		StreamDescriptor: protocol.StreamDescriptor{Name: "items"}, StreamState: fmt.Appendf(nil, `{"cursor":%d}`, cursor),
	}}}
}

// Log is a LOG message.
func Log(level protocol.Level, msg string) *protocol.Message {
	return &protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: level, Message: msg}}
}

// ErrorTrace is a TRACE ERROR.
func ErrorTrace(e protocol.ErrorTrace) *protocol.Message {
	return &protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{Type: protocol.TraceError, EmittedAt: float64(time.Now().UnixMilli()), Error: &e}}
}

// Reader is a source like Items whose read is the function: what most test
// connectors need to write.
type Reader func(ctx context.Context, c Config, emit func(*protocol.Message) error) error

// Spec is Items'.
func (Reader) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	return Items{}.Spec(ctx)
}

// Check succeeds.
func (Reader) Check(context.Context, json.RawMessage) error { return nil }

// Discover is Items'.
func (Reader) Discover(ctx context.Context, config json.RawMessage) (*protocol.Catalog, error) {
	return Items{}.Discover(ctx, config)
}

// Read calls r with the parsed config.
func (r Reader) Read(ctx context.Context, config json.RawMessage, _ *protocol.ConfiguredCatalog, _ json.RawMessage,
	emit func(*protocol.Message) error) error {
	c, err := ParseConfig(config)
	if err != nil {
		return err
	}
	return r(ctx, c, emit)
}
