package secrets_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/registry"
	"github.com/x/goairbyte/secrets"
)

// The secrets of a Connector's config are masked while the Connector
// lives, not for good: a server that runs connectors for many tenants and
// configs over months would otherwise mask every secret it was ever given,
// and pay for them on every masked line.

// tokenDest is a destination written in Go whose config has one secret,
// token (airbyte_secret); its check refuses a token not starting with
// "good", quoting it.
type tokenDest struct{}

func (tokenDest) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","required":["token"],"properties":{"token":{"type":"string","airbyte_secret":true}}}`)}, nil
}

func (tokenDest) Check(_ context.Context, config json.RawMessage) error {
	var c struct{ Token string }
	if err := json.Unmarshal(config, &c); err != nil {
		return err
	}
	if !strings.HasPrefix(c.Token, "good") {
		return errors.New("token " + c.Token + " refused")
	}
	return nil
}

func (tokenDest) Write(context.Context, json.RawMessage, *protocol.ConfiguredCatalog,
	iter.Seq2[*protocol.Message, error], func(*protocol.Message) error) error {
	return nil
}

// offlineEnv is an Environment whose registry never reaches the network.
func offlineEnv() *connector.Environment {
	env := connector.NewEnvironment()
	env.SetRegistry(registry.NewLoader(registry.WithOffline(true), registry.WithCacheDir("")))
	return env
}

// checkedDest is a destination configured with token whose check ran
// (the config reached the connector, its secret masked); err is the
// check's.
func checkedDest(tb testing.TB, env *connector.Environment, token string) (d *destination.Destination, err error) {
	tb.Helper()
	d, err = destination.New(context.Background(), "destination-token", connector.WithEnvironment(env),
		connector.WithGoConnector(tokenDest{}), connector.WithConfig(map[string]any{"token": token}))
	if err != nil {
		tb.Fatal(err)
	}
	return d, d.Check(context.Background())
}

// settleForms collects garbage until at most limit forms are masked, or
// 5 s passed (a Connector's cleanup runs after the collection that found
// it unreachable), and returns how many are.
func settleForms(limit int) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		if n := secrets.MaskedForms(); n <= limit || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settleUnmasked collects garbage until value is no longer masked, or 5 s
// passed, and reports whether it is unmasked.
func settleUnmasked(value string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		if secrets.Mask(value) == value {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDroppedConnectorsForgetTheirSecrets: 200 Connectors, each with a
// secret of its own, used and dropped, leave the masked set as it was.
func TestDroppedConnectorsForgetTheirSecrets(t *testing.T) {
	env := offlineEnv()
	if _, err := checkedDest(t, env, "good-warm-up-token"); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	before := secrets.MaskedForms()
	const n = 200
	for i := range n {
		token := fmt.Sprintf("good-dropped-connector-token-%04d", i)
		if _, err := checkedDest(t, env, token); err != nil {
			t.Fatal(err)
		}
		if got := secrets.Mask(token); got != "****" {
			t.Fatalf("while its Connector lives: %q", got)
		}
	}
	after := settleForms(before)
	t.Logf("masked forms: %d before, %d after %d Connectors", before, after, n)
	if after > before {
		t.Fatalf("%d Connectors dropped left %d more masked forms (%.1f per Connector)", n, after-before, float64(after-before)/n)
	}
	if token := "good-dropped-connector-token-0000"; secrets.Mask(token) != token {
		t.Fatal("a dropped Connector's secret is still masked")
	}
}

// TestErrorOutlivesItsConnector: an error a Connector returned while its
// secret was masked still masks it once the Connector is gone and the
// secret is not masked any more.
func TestErrorOutlivesItsConnector(t *testing.T) {
	token := "refused-token-outliving-1"
	_, err := checkedDest(t, offlineEnv(), token)
	var cf *connector.CheckFailedError
	if !errors.As(err, &cf) {
		t.Fatalf("check: %v, want a *CheckFailedError", err)
	}
	if !settleUnmasked(token) {
		t.Fatal("the secret of a dropped Connector is still masked")
	}
	for _, text := range []string{err.Error(), errors.Unwrap(err).Error(), fmt.Sprintf("%+v", err)} {
		if strings.Contains(text, token) || !strings.Contains(text, "token **** refused") {
			t.Fatalf("printed after its Connector is gone: %q", text)
		}
	}
}

// TestLiveConnectorKeepsItsSecretsMasked: collections do not unmask the
// secrets of a Connector still in use; SetConfig releases the old config's,
// and a value two Connectors hold stays masked until both let it go.
func TestLiveConnectorKeepsItsSecretsMasked(t *testing.T) {
	env := offlineEnv()
	token := "good-live-connector-token-1"
	d, err := checkedDest(t, env, token)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		runtime.GC()
		time.Sleep(5 * time.Millisecond) // let cleanups run, if any were due
	}
	if got := secrets.Mask(token); got != "****" {
		t.Fatalf("a live Connector's secret after collections: %q", got)
	}
	runtime.KeepAlive(d)

	shared := "good-shared-token-2"
	a, err := checkedDest(t, env, shared)
	if err != nil {
		t.Fatal(err)
	}
	b, err := checkedDest(t, env, shared)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetConfig(map[string]any{"token": "good-replacing-token-3"}); err != nil {
		t.Fatal(err)
	}
	if got := secrets.Mask(shared); got != "****" {
		t.Fatalf("held by another Connector, after one let it go: %q", got)
	}
	if err := b.SetConfig(map[string]any{"token": "good-replacing-token-3"}); err != nil {
		t.Fatal(err)
	}
	if got := secrets.Mask(shared); got != shared {
		t.Fatalf("after both Connectors were given other configs: %q", got)
	}
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
}
