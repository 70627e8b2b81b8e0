package connections

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/secretstest"
	"github.com/x/goairbyte/secrets"
)

// WithSecretOptions reaches the lookups of the declarations' references:
// a secret only a .env file of the caller's has, and one only a manager of
// the caller's has, are what the server stores; without the options the
// plan says they are not found.
func TestWithSecretOptions(t *testing.T) {
	e := setup(t)
	const fromFile, fromManager = "dotenv-tok-31c7", "mgr-tok-9e2a"
	dotenv := filepath.Join(t.TempDir(), "secrets.env")
	if err := os.WriteFile(dotenv, []byte("GOAIRBYTE_DOTENV_ONLY_TOKEN="+fromFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	declared := `
sources:
  faker:
    type: source-faker
    config:
      count: 100
      tokens: [{a: secret_reference::GOAIRBYTE_DOTENV_ONLY_TOKEN}, {b: secret_reference::GOAIRBYTE_MANAGER_ONLY_TOKEN}]
`
	_, err := e.reconciler(t, declared, WithSecretOptions(secrets.WithPrompt(false))).Plan(context.Background())
	var nf *secrets.SecretNotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("without the options: %v, want a *secrets.SecretNotFoundError", err)
	}
	r := e.reconciler(t, declared, WithSecretOptions(secrets.WithDotenvFile(dotenv), secrets.WithPrompt(false)),
		WithSecretOptions(secrets.WithManager(mapManager{"GOAIRBYTE_MANAGER_ONLY_TOKEN": fromManager})))
	p := e.plan(t, r)
	for _, s := range []string{fromFile, fromManager} {
		if strings.Contains(p.String(), s) {
			t.Fatalf("the plan prints a secret:\n%s", p)
		}
	}
	e.apply(t, r, p)
	if got, want := fmt.Sprint(storedByName(t, e, "faker")["tokens"]), "[map[a:"+fromFile+"] map[b:"+fromManager+"]]"; got != want {
		t.Fatalf("the source holds tokens %s, want %s", got, want)
	}
}

// mapManager is a secret manager holding a map.
type mapManager map[string]string

func (mapManager) Name() string { return "map" }

func (m mapManager) Get(_ context.Context, name string) (secrets.SecretString, bool, error) {
	v, ok := m[name]
	return secrets.NewSecretString(v), ok, nil
}

// A secret that several declarations name is asked for once per Plan (with
// the prompt, it would be asked once for each), and every declaration gets
// it; the next Plan asks again.
func TestSecretAskedOncePerPlan(t *testing.T) {
	e := setup(t)
	mgr := secretstest.NewCountingManager(map[string]string{"GOAIRBYTE_SHARED_TOKEN": "shared-tok-5d1e"})
	declared := `
sources:
  faker-a:
    type: source-faker
    config: {count: 100, token: secret_reference::GOAIRBYTE_SHARED_TOKEN}
  faker-b:
    type: source-faker
    config: {count: 200, nested: {tokens: [secret_reference::GOAIRBYTE_SHARED_TOKEN]}}
`
	r := e.reconciler(t, declared, WithSecretOptions(secrets.WithManager(mgr), secrets.WithPrompt(false)))
	p := e.plan(t, r)
	if n := mgr.Counts()["GOAIRBYTE_SHARED_TOKEN"]; n != 1 {
		t.Errorf("one Plan of two declarations naming the secret asked for it %d times, want once", n)
	}
	e.apply(t, r, p) // and plans again: the plan after Apply is empty
	if got := fmt.Sprintf("%v %v", storedByName(t, e, "faker-a")["token"], storedByName(t, e, "faker-b")["nested"]); got != "shared-tok-5d1e map[tokens:[shared-tok-5d1e]]" {
		t.Fatalf("the sources hold %s", got)
	}
	if n := mgr.Counts()["GOAIRBYTE_SHARED_TOKEN"]; n != 2 {
		t.Errorf("two Plans asked for the secret %d times in all, want twice", n)
	}
}
