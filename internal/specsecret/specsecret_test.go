package specsecret

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/x/goairbyte/internal/shareddata"
)

// harvestSpec is the spec of Airbyte's source-harvest, recorded from the
// Python CDK: an account_id secret at the top and secrets in both branches
// of its credentials oneOf.
func harvestSpec(t *testing.T) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(shareddata.Need(t, "manifests/corpus/source-harvest/expected/spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Spec struct {
			ConnectionSpecification json.RawMessage `json:"connectionSpecification"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	return msg.Spec.ConnectionSpecification
}

func TestPathsFollowTheSpecIntoOneOf(t *testing.T) {
	spec := harvestSpec(t)
	cfg := map[string]any{
		"account_id":             "123",
		"replication_start_date": "2021-01-01T00:00:00Z",
		"credentials":            map[string]any{"auth_type": "Token", "api_token": "tok"},
		"password":               "not secret here: the spec does not mark it",
	}
	got := Paths(spec, cfg)
	want := [][]string{{"account_id"}, {"credentials", "api_token"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Paths = %v, want %v", got, want)
	}
	m := Masked(spec, cfg)
	if m["account_id"] != Mask || m["credentials"].(map[string]any)["api_token"] != Mask || m["password"] == Mask {
		t.Fatalf("Masked = %v", m)
	}
	if cfg["account_id"] != "123" {
		t.Fatal("Masked changed its input")
	}
	upd := map[string]any{"account_id": Mask, "credentials": map[string]any{"auth_type": "Token", "api_token": "new"}}
	kept := KeepMasked(spec, upd, cfg)
	if kept["account_id"] != "123" || kept["credentials"].(map[string]any)["api_token"] != "new" {
		t.Fatalf("KeepMasked = %v", kept)
	}
}

// TestPathsFollowArrayItems uses source-onesignal's spec, which marks
// app_id and app_api_key inside the items of its applications array, and
// a spec whose items are secret strings themselves.
func TestPathsFollowArrayItems(t *testing.T) {
	b, err := os.ReadFile(shareddata.Need(t, "manifests/corpus/source-onesignal/expected/spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Spec struct {
			ConnectionSpecification json.RawMessage `json:"connectionSpecification"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	spec := msg.Spec.ConnectionSpecification
	cfg := map[string]any{
		"user_auth_key": "uak",
		"applications": []any{
			map[string]any{"app_name": "a", "app_id": "id-a", "app_api_key": "key-a"},
			map[string]any{"app_name": "b", "app_id": "id-b", "app_api_key": "key-b"},
		},
	}
	want := [][]string{{"applications", "0", "app_api_key"}, {"applications", "0", "app_id"},
		{"applications", "1", "app_api_key"}, {"applications", "1", "app_id"}, {"user_auth_key"}}
	if got := Paths(spec, cfg); !reflect.DeepEqual(got, want) {
		t.Fatalf("Paths = %v, want %v", got, want)
	}
	m := Masked(spec, cfg)
	app := m["applications"].([]any)[1].(map[string]any)
	if app["app_api_key"] != Mask || app["app_id"] != Mask || app["app_name"] != "b" {
		t.Fatalf("Masked = %v", m)
	}
	kept := KeepMasked(spec, m, cfg)
	if !reflect.DeepEqual(kept, cfg) {
		t.Fatalf("KeepMasked = %v, want %v", kept, cfg)
	}

	strs := json.RawMessage(`{"type":"object","properties":{"keys":{"type":"array","items":{"anyOf":[{"type":"string","airbyte_secret":true}]}}}}`)
	if got := Paths(strs, map[string]any{"keys": []any{"k1", "k2"}}); !reflect.DeepEqual(got, [][]string{{"keys", "0"}, {"keys", "1"}}) {
		t.Fatalf("secret items: Paths = %v", got)
	}
}
