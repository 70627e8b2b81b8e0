package source_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// tokenSource requires a token of at least 8 characters and notes the
// token each read was given.
type tokenSource struct {
	mu     *sync.Mutex
	tokens *[]string
}

func (tokenSource) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","required":["token"],"properties":{"token":{"type":"string","minLength":8}}}`)}, nil
}
func (tokenSource) Check(context.Context, json.RawMessage) error { return nil }
func (tokenSource) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	return &protocol.Catalog{Streams: []protocol.Stream{{Name: "items", JSONSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}}}}, nil
}
func (s tokenSource) Read(_ context.Context, config json.RawMessage, _ *protocol.ConfiguredCatalog, _ json.RawMessage, emit func(*protocol.Message) error) error {
	var c struct{ Token string }
	if err := json.Unmarshal(config, &c); err != nil {
		return err
	}
	s.mu.Lock()
	*s.tokens = append(*s.tokens, c.Token)
	s.mu.Unlock()
	return emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: json.RawMessage(`{"id":1}`), EmittedAt: 1}})
}

// SkipValidation: a read validates the config it runs with (here a secret
// rotated, since discover, to one the spec refuses) before the connector
// runs, unless told not to; then the connector runs and judges it itself
// (a kit connector refuses it with a config_error).
func TestSkipValidation(t *testing.T) {
	ctx := context.Background()
	t.Setenv("GOAIRBYTE_SKIPVALIDATION_TOKEN", "long-enough-token")
	var mu sync.Mutex
	var tokens []string
	src, err := source.New(ctx, "source-token", connector.WithGoConnector(tokenSource{&mu, &tokens}),
		connector.WithConfig(map[string]any{"token": "secret_reference::GOAIRBYTE_SKIPVALIDATION_TOKEN"}))
	if err != nil {
		t.Fatal(err)
	}
	c := openDuckDB(t)
	if res, err := src.Read(ctx, source.UseCache(c), source.NoProgress(), source.SkipValidation()); err != nil || res.StreamRecords()["items"] != 1 ||
		len(tokens) != 1 || tokens[0] != "long-enough-token" {
		t.Fatalf("a read of a valid config with SkipValidation: %v; the connector got %v", err, tokens)
	}

	t.Setenv("GOAIRBYTE_SKIPVALIDATION_TOKEN", "short")
	_, err = src.Read(ctx, source.UseCache(c), source.NoProgress())
	var ve *connector.ConfigValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("a read of a config the spec refuses: %v, want a *connector.ConfigValidationError", err)
	}
	_, err = src.Read(ctx, source.UseCache(c), source.NoProgress(), source.SkipValidation())
	var ce *executor.ConnectorError
	if errors.As(err, &ve) || !errors.As(err, &ce) || ce.Command != executor.VerbRead || ce.FailureType != protocol.FailureConfig {
		t.Fatalf("with SkipValidation: %v, want the connector's own config_error from its read", err)
	}
	t.Log(err)
}

// StreamRecordsRead counts what the connector sent, StreamRecords what
// stayed: after a connector that sends three records and exits 1 with no
// state, the three were read and none was loaded.
func TestStreamRecordsReadOfAFailedRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := newSource(t, "source-stderrexit", connector.WithConfig(map[string]any{}),
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./internal/testconnectors/stderrexit")))
	res, err := src.Read(ctx, source.UseCache(openDuckDB(t)), source.NoProgress())
	if !errors.Is(err, executor.ErrConnectorFailed) {
		t.Fatalf("got %v, want the connector's failure", err)
	}
	if res == nil {
		t.Fatalf("no result with the error %v", err)
	}
	if got := res.StreamRecordsRead(); len(got) != 1 || got["items"] != 3 {
		t.Errorf("StreamRecordsRead %v, want items: 3", got)
	}
	if got := res.StreamRecords(); got["items"] != 0 {
		t.Errorf("StreamRecords %v, want nothing loaded", got)
	}
	t.Log(err)
}
