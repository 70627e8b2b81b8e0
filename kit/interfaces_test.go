package kit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// The runners find these optional methods by interfaces of their own
// (internal/kitcore); the exported names a connector author writes
// against must stay the same interfaces, or a connector built to them
// would silently get Check and Write instead. TestLineWriter and
// TestCheckEmitter show the runner calling them on these very types.
var (
	_ kit.LineWriter   = lineWriter{}
	_ kit.CheckEmitter = checkEmitter{}
)

// A kit.CheckEmitter run in process (WithGoConnector) answers check with
// CheckEmit too, and the config it emits reaches the config-change
// callback and replaces the connector's config.
func TestCheckEmitterInProcess(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var changed []map[string]any
	c, err := core.New[*connector.Connector, connector.Option](context.Background(), core.KindSource, "source-rotating", connector.WithGoConnector(checkEmitter{&source{}}),
		connector.WithConfig(map[string]any{"count": 1}),
		connector.WithConfigChangeCallback(func(cfg map[string]any) { mu.Lock(); changed = append(changed, cfg); mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(changed) != 1 || changed[0]["token"] != "rotated" || c.Config()["token"] != "rotated" {
		t.Fatalf("config changes %v, config now %v", changed, c.Config())
	}
}

// strictReader checks, in its read, its config against a stricter schema
// of its own with kit.ValidateConfig, and returns the error wrapped.
type strictReader struct{ *source }

func (strictReader) Read(ctx context.Context, config json.RawMessage, _ *protocol.ConfiguredCatalog, _ json.RawMessage, emit func(*protocol.Message) error) error {
	strict := &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object","properties":{"count":{"type":"integer","maximum":10}}}`)}
	if err := kit.ValidateConfig(strict, config); err != nil {
		return fmt.Errorf("reading items: %w", err)
	}
	return nil
}

// An *InvalidConfigError is the user's to fix: its FailureType is
// config_error, directly and through a wrapping, so that a connector that
// returns one from its read reports a TRACE ERROR of failure_type
// config_error, not system_error.
func TestInvalidConfigErrorFailureType(t *testing.T) {
	t.Parallel()
	err := kit.ValidateConfig(&protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(testSpec)}, json.RawMessage(`{"count":0}`))
	var ice *kit.InvalidConfigError
	if !errors.As(err, &ice) || ice.FailureType() != protocol.FailureConfig || kit.FailureType(fmt.Errorf("wrapped: %w", err)) != protocol.FailureConfig {
		t.Fatalf("ValidateConfig: %T %v", err, err)
	}
	r := run(t, strictReader{&source{}}, "", "read", "--config", file(t, "c.json", `{"count":50}`), "--catalog", file(t, "k.json", itemsCatalog))
	traces := r.of(protocol.TypeTrace)
	if r.code != 1 || len(traces) != 1 || traces[0].Trace.Error == nil || traces[0].Trace.Error.FailureType != protocol.FailureConfig ||
		!strings.Contains(traces[0].Trace.Error.Message, "reading items") {
		t.Fatalf("exit %d, stdout:\n%s", r.code, strings.Join(r.lines, "\n"))
	}
}
