package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestResolveReferences(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CI", "true")
	t.Setenv("REF_TOKEN", "resolved-token-value")
	t.Setenv("REF_PASSWORD", "resolved-password-value")
	ctx := context.Background()

	config := map[string]any{
		"host": "db.example.com",
		"port": float64(5432),
		"credentials": map[string]any{
			"auth_type": "token",
			"token":     "secret_reference::REF_TOKEN",
		},
		"replicas": []any{
			map[string]any{"password": "secret_reference::REF_PASSWORD"},
			"secret_reference::REF_TOKEN",
			[]any{"plain", "secret_reference:: REF_PASSWORD"},
		},
		"note": "mentions secret_reference::REF_TOKEN but is not one",
	}
	before, _ := json.Marshal(config)
	got, err := ResolveReferences(ctx, config)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(config)
	if string(before) != string(after) {
		t.Fatalf("input modified:\n%s\n%s", before, after)
	}
	want := map[string]any{
		"host": "db.example.com",
		"port": float64(5432),
		"credentials": map[string]any{
			"auth_type": "token",
			"token":     "resolved-token-value",
		},
		"replicas": []any{
			map[string]any{"password": "resolved-password-value"},
			"resolved-token-value",
			[]any{"plain", "resolved-password-value"},
		},
		"note": "mentions secret_reference::REF_TOKEN but is not one",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
	if Mask("resolved-password-value") != masked || Mask("resolved-token-value") != masked {
		t.Fatal("resolved values not registered")
	}

	// Raw JSON in, raw JSON out; big integers stay exact.
	raw := json.RawMessage(`{"id": 12345678901234567890, "key": "secret_reference::REF_TOKEN", "list": ["secret_reference::REF_PASSWORD"]}`)
	rawCopy := append(json.RawMessage(nil), raw...)
	resolved, err := ResolveReferences(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := resolved.(json.RawMessage)
	if string(raw) != string(rawCopy) {
		t.Fatal("raw input modified")
	}
	if string(out) != `{"id":12345678901234567890,"key":"resolved-token-value","list":["resolved-password-value"]}` {
		t.Fatalf("raw out = %s", out)
	}
	if v, err := ResolveReferences(ctx, raw); err != nil || string(v.(json.RawMessage)) != string(out) {
		t.Fatalf("ResolveReferences(RawMessage) = %s, %v", v, err)
	}

	// A struct goes through JSON.
	type cfg struct {
		User  string   `json:"user"`
		Token string   `json:"token"`
		Keys  []string `json:"keys"`
	}
	in := cfg{"me", "secret_reference::REF_TOKEN", []string{"secret_reference::REF_PASSWORD"}}
	v, err := ResolveReferences(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if m := v.(map[string]any); m["token"] != "resolved-token-value" || m["keys"].([]any)[0] != "resolved-password-value" ||
		in.Token != "secret_reference::REF_TOKEN" {
		t.Fatalf("struct: %v", v)
	}

	// A missing secret names the config field and the secret.
	_, err = ResolveReferences(ctx, map[string]any{"a": []any{map[string]any{"b": "secret_reference::REF_MISSING"}}})
	var nf *SecretNotFoundError
	if !errors.As(err, &nf) || nf.Name != "REF_MISSING" || !strings.Contains(err.Error(), "a[0].b") {
		t.Fatalf("missing: %v", err)
	}
	// Custom managers take part.
	v, err = ResolveReferences(ctx, map[string]any{"k": "secret_reference::REF_VAULT"},
		WithManager(&mapManager{name: "vault", values: map[string]string{"REF_VAULT": "from-the-vault-1"}}))
	if err != nil || v.(map[string]any)["k"] != "from-the-vault-1" {
		t.Fatalf("vault: %v %v", v, err)
	}
}

// TestResolveReferencesKeepsTheText resolves a config given as JSON text:
// only the references change. The keys keep their order (a manifest
// injected in a config builds query strings in it), numbers stay as
// written, and a reference's error names its field's path.
func TestResolveReferencesKeepsTheText(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CI", "true")
	t.Setenv("ORDER_TOKEN", `tok<&>"\`)
	ctx := context.Background()
	raw := json.RawMessage(`{"zeta": 1.50, "alpha": {"b": "secret_reference::ORDER_TOKEN", "a": [1e3, "x", "secret_reference:: ORDER_TOKEN"]},` +
		` "secret_reference::KEY": "a key is not a reference", "mid": "<b>", "n": -0.0}`)
	got, err := ResolveReferences(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"zeta":1.50,"alpha":{"b":"tok<&>\"\\","a":[1e3,"x","tok<&>\"\\"]},"secret_reference::KEY":"a key is not a reference","mid":"<b>","n":-0.0}`
	if string(got.(json.RawMessage)) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}

	for config, field := range map[string]string{
		`{"a": {"b": [0, {"c": "secret_reference::ORDER_MISSING"}]}}`: "a.b[1].c",
		`["x", ["secret_reference::ORDER_MISSING"]]`:                  "[1][0]",
		`{"k": {}, "l": [], "m": "secret_reference::ORDER_MISSING"}`:  "m",
	} {
		_, err := ResolveReferences(ctx, json.RawMessage(config), WithPrompt(false))
		if err == nil || !strings.Contains(err.Error(), "resolving config field "+field+":") {
			t.Errorf("%s: %v, want an error naming field %s", config, err, field)
		}
	}
	for _, bad := range []string{`{"a": "secret_reference::ORDER_TOKEN"`, `{"a": "secret_reference::ORDER_TOKEN"} {}`} {
		if _, err := ResolveReferences(ctx, json.RawMessage(bad)); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
			t.Errorf("%s: %v, want invalid JSON", bad, err)
		}
	}
}
