package source_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/secretstest"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// keySource is an in-process source of one stream that notes the key of
// every command's config.
type keySource struct {
	mu   *sync.Mutex
	keys *[]string
}

func (s keySource) note(config json.RawMessage) {
	var c struct{ Key string }
	_ = json.Unmarshal(config, &c)
	s.mu.Lock()
	*s.keys = append(*s.keys, c.Key)
	s.mu.Unlock()
}

func (keySource) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","required":["key"],"properties":{"key":{"type":"string","airbyte_secret":true}}}`)}, nil
}

func (s keySource) Check(_ context.Context, config json.RawMessage) error {
	s.note(config)
	return nil
}

func (s keySource) Discover(_ context.Context, config json.RawMessage) (*protocol.Catalog, error) {
	s.note(config)
	return &protocol.Catalog{Streams: []protocol.Stream{{Name: "items",
		JSONSchema:         json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}}}}, nil
}

func (s keySource) Read(_ context.Context, config json.RawMessage, _ *protocol.ConfiguredCatalog, _ json.RawMessage,
	emit func(*protocol.Message) error) error {
	s.note(config)
	return emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: json.RawMessage(`{"id":1}`), EmittedAt: 1}})
}

// TestSecretsResolvedOncePerOperation: a Read of a source whose catalog is
// not known yet runs the connector twice (discover, then read) and asks the
// secret managers for its reference once; so do Records and Documents.
// Every operation asks again: a rotated secret reaches the next one, and
// SetConfig takes effect.
func TestSecretsResolvedOncePerOperation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mgr := secretstest.NewCountingManager(map[string]string{"KEY": "key-value-1", "OTHER_KEY": "other-key-value"})
	env := connector.NewEnvironment()
	env.AddSecretManager(mgr)
	var mu sync.Mutex
	var keys []string
	newKeySource := func() *source.Source {
		src, err := source.New(ctx, "source-key", connector.WithEnvironment(env), connector.WithGoConnector(keySource{&mu, &keys}),
			connector.WithConfig(map[string]any{"key": "secret_reference::KEY"}))
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	asked := func(what string, want int) {
		t.Helper()
		if got := mgr.Counts()["KEY"]; got != want {
			t.Errorf("after %s the secret was asked for %d times, want %d", what, got, want)
		}
	}
	c := openDuckDB(t)
	src := newKeySource()
	if _, err := src.Read(ctx, source.UseCache(c), source.NoProgress()); err != nil {
		t.Fatal(err)
	}
	asked("a Read that discovered", 1)
	mgr.Set("KEY", "key-value-2")
	if _, err := src.Read(ctx, source.UseCache(c), source.NoProgress()); err != nil {
		t.Fatal(err)
	}
	asked("a second Read", 2)
	for _, err := range newKeySource().Records(ctx, "items") {
		if err != nil {
			t.Fatal(err)
		}
	}
	asked("Records that discovered", 3)
	for _, err := range newKeySource().Documents(ctx, "items") {
		if err != nil {
			t.Fatal(err)
		}
	}
	asked("Documents that discovered", 4)
	if err := src.Check(ctx); err != nil {
		t.Fatal(err)
	}
	asked("Check", 5)
	mu.Lock()
	if len(keys) != 8 || keys[0] != "key-value-1" || keys[1] != "key-value-1" || keys[2] != "key-value-2" || keys[7] != "key-value-2" {
		t.Errorf("the connector ran with the keys %q, want key-value-1 twice (discover and read), then key-value-2", keys)
	}
	mu.Unlock()
	if err := src.SetConfig(map[string]any{"key": "secret_reference::OTHER_KEY"}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Read(ctx, source.UseCache(c), source.NoProgress()); err != nil {
		t.Fatal(err)
	}
	if got := mgr.Counts(); got["KEY"] != 5 || got["OTHER_KEY"] != 1 {
		t.Errorf("a Read after SetConfig asked %v, want OTHER_KEY once and KEY no more", got)
	}
	mu.Lock()
	if last := keys[len(keys)-1]; last != "other-key-value" {
		t.Errorf("the Read after SetConfig ran with %q", last)
	}
	mu.Unlock()
}
