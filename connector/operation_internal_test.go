package connector

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/secretstest"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/secrets"
)

// roundSource is an in-process source whose check notes the config it got
// and sends it back in a CONTROL message, its round counted up.
type roundSource struct {
	mu      sync.Mutex
	configs []map[string]any
}

func (*roundSource) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","properties":{"token":{"type":"string","airbyte_secret":true}}}`)}, nil
}

func (s *roundSource) Check(ctx context.Context, config json.RawMessage) error {
	return s.CheckEmit(ctx, config, nil)
}

func (s *roundSource) CheckEmit(_ context.Context, config json.RawMessage, emit func(*protocol.Message) error) error {
	var c map[string]any
	if err := json.Unmarshal(config, &c); err != nil {
		return err
	}
	s.mu.Lock()
	s.configs = append(s.configs, maps.Clone(c))
	s.mu.Unlock()
	if emit == nil {
		return nil
	}
	round, _ := c["round"].(float64)
	c["round"] = round + 1
	b, _ := json.Marshal(c)
	return emit(&protocol.Message{Type: protocol.TypeControl, Control: &protocol.Control{Type: protocol.ControlConnectorConfig,
		EmittedAt: 1, ConnectorConfig: &protocol.ControlConnectorConfigMessage{Config: b}}})
}

func (*roundSource) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	return &protocol.Catalog{}, nil
}

func (*roundSource) Read(context.Context, json.RawMessage, *protocol.ConfiguredCatalog, json.RawMessage, func(*protocol.Message) error) error {
	return nil
}

// Runs within one operation resolve a reference once, also after a
// CONTROL config changed the stored config between them: the operation
// remembers secrets by name, not by config. The CONTROL config still gets
// its reference back.
func TestOperationResolvesOnceAcrossConfigChanges(t *testing.T) {
	t.Parallel()
	env := NewEnvironment()
	mgr := secretstest.NewCountingManager(map[string]string{"ROUND_TOKEN": "round-token-value"})
	env.AddSecretManager(mgr)
	src := &roundSource{}
	c, err := newConnector(context.Background(), core.KindSource, "source-round", WithEnvironment(env), WithGoConnector(src),
		WithConfig(map[string]any{"token": "secret_reference::ROUND_TOKEN", "round": 0}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := withOperation(context.Background())
	for range 3 {
		if err := c.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := mgr.Counts()["ROUND_TOKEN"]; got != 1 {
		t.Errorf("three checks in one operation asked for the token %d times, want once", got)
	}
	for i, cfg := range src.configs {
		if cfg["token"] != "round-token-value" || cfg["round"] != float64(i) {
			t.Errorf("check %d got the config %v", i, cfg)
		}
	}
	if cfg := c.Config(); cfg["token"] != "secret_reference::ROUND_TOKEN" {
		t.Errorf("after the CONTROL configs, Config() is %v: the reference is gone", cfg)
	}
	// Outside the operation, each Check is one.
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := mgr.Counts()["ROUND_TOKEN"]; got != 2 {
		t.Errorf("a check of its own asked for the token %d times in all, want twice", got)
	}
}

// A Connector's SecretStrings are its own: another Connector whose config
// holds a reference into the first one's vault does not get the value
// from an operation both run in.
func TestOperationKeepsVaultsApart(t *testing.T) {
	t.Setenv("CI", "true") // no prompt for the secret b cannot have
	ctx := withOperation(context.Background())
	env := NewEnvironment()
	a, err := newConnector(ctx, core.KindSource, "source-a", WithEnvironment(env), WithGoConnector(&roundSource{}),
		WithConfig(map[string]any{"token": secrets.NewSecretString("vault-secret-of-a")}))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ValidateConfig(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := newConnector(ctx, core.KindSource, "source-b", WithEnvironment(env), WithGoConnector(&roundSource{}),
		WithConfig(a.Config()))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ValidateConfig(ctx); !errors.Is(err, secrets.ErrSecretNotFound) {
		t.Fatalf("b resolved a's SecretString reference: %v", err)
	}
}

// Two Environments (two tenants) in one operation ask their own managers.
func TestOperationKeepsEnvironmentsApart(t *testing.T) {
	t.Parallel()
	ctx := withOperation(context.Background())
	var configs []*roundSource
	for _, value := range []string{"tenant-one-token", "tenant-two-token"} {
		env := NewEnvironment()
		env.AddSecretManager(secretstest.NewCountingManager(map[string]string{"TENANT_TOKEN": value}))
		src := &roundSource{}
		configs = append(configs, src)
		c, err := newConnector(ctx, core.KindSource, "source-tenant", WithEnvironment(env), WithGoConnector(src),
			WithConfig(map[string]any{"token": "secret_reference::TENANT_TOKEN"}))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := configs[0].configs[0]["token"], configs[1].configs[0]["token"]; a != "tenant-one-token" || b != "tenant-two-token" {
		t.Fatalf("the tenants' checks got %q and %q", a, b)
	}
}

// runningManager is a secret manager that runs a connector's check to find
// a secret, with the context it is asked with.
type runningManager struct{ c *Connector }

func (runningManager) Name() string { return "running manager" }

func (m runningManager) Get(ctx context.Context, name string) (secrets.SecretString, bool, error) {
	if name != "OUTER_TOKEN" {
		return secrets.SecretString{}, false, nil
	}
	if err := m.c.Check(ctx); err != nil {
		return secrets.SecretString{}, false, err
	}
	return secrets.NewSecretString("outer-token-value"), true, nil
}

// A secret manager may run a connector (of its own Environment) with the
// context it is given: the operation that asks it does not make it wait for
// itself.
func TestOperationManagerRunsAConnector(t *testing.T) {
	t.Parallel()
	inner := NewEnvironment()
	inner.AddSecretManager(secretstest.NewCountingManager(map[string]string{"INNER_TOKEN": "inner-token-value"}))
	ic, err := newConnector(context.Background(), core.KindSource, "source-inner", WithEnvironment(inner), WithGoConnector(&roundSource{}),
		WithConfig(map[string]any{"token": "secret_reference::INNER_TOKEN"}))
	if err != nil {
		t.Fatal(err)
	}
	outer := NewEnvironment()
	outer.AddSecretManager(runningManager{ic})
	src := &roundSource{}
	oc, err := newConnector(context.Background(), core.KindSource, "source-outer", WithEnvironment(outer), WithGoConnector(src),
		WithConfig(map[string]any{"token": "secret_reference::OUTER_TOKEN"}))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- oc.Check(context.Background()) }()
	select {
	case err := <-done:
		if err != nil || src.configs[0]["token"] != "outer-token-value" {
			t.Fatalf("check: %v, config %v", err, src.configs)
		}
	case <-time.After(10 * time.Second): // a guard against the hang, not a timing assertion
		t.Fatal("the check waits for the secret manager, which waits for the check's operation")
	}
}

// A secret no one has is reported with the managers asked; the vault of
// SecretStrings is one only for a config that was given SecretStrings.
func TestSecretNotFoundNamesTheVaultOnlyWhenUsed(t *testing.T) {
	t.Setenv("CI", "true") // no prompt
	for _, tc := range []struct {
		config map[string]any
		vault  bool
	}{
		{map[string]any{"token": "secret_reference::GOAIRBYTE_NOWHERE_TOKEN"}, false},
		{map[string]any{"token": "secret_reference::GOAIRBYTE_NOWHERE_TOKEN", "key": secrets.NewSecretString("vault-held-key")}, true},
	} {
		c, err := newConnector(context.Background(), core.KindSource, "source-nowhere", WithEnvironment(NewEnvironment()),
			WithGoConnector(&roundSource{}), WithConfig(tc.config))
		if err != nil {
			t.Fatal(err)
		}
		err = c.ValidateConfig(context.Background())
		var nf *secrets.SecretNotFoundError
		if !errors.As(err, &nf) || slices.Contains(nf.Tried, c.vault.Name()) != tc.vault {
			t.Errorf("with SecretStrings %v: %v", tc.vault, err)
		}
	}
}

// TestPutResolvedKeepsTheOrder puts an operation's known values into a
// config: only the references change, the keys keep their order (the
// second run of an operation gets the config as the first did).
func TestPutResolvedKeepsTheOrder(t *testing.T) {
	config := json.RawMessage(`{"zeta":"secret_reference::ORDER_A","alpha":[1.50,"secret_reference::ORDER_B","secret_reference::ORDER_C"]}`)
	got := putResolved(config, map[string]string{"ORDER_A": "a<&>", "ORDER_B": "secret_reference::ORDER_X"})
	want := `{"zeta":"a<&>","alpha":[1.50,"secret_reference::ORDER_B","secret_reference::ORDER_C"]}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
