package specsecret

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestValues(t *testing.T) {
	spec := json.RawMessage(`{
	  "type": "object",
	  "properties": {
	    "host": {"type": "string"},
	    "pin": {"type": "integer", "airbyte_secret": true},
	    "credentials": {
	      "type": "object",
	      "oneOf": [
	        {"properties": {"auth_type": {"const": "pat"}, "personal_access_token": {"type": "string", "airbyte_secret": true}}},
	        {"properties": {"auth_type": {"const": "oauth"}, "client_secret": {"type": "string", "airbyte_secret": true}}}
	      ]
	    },
	    "tunnel": {"anyOf": [{"type": "object", "properties": {"ssh_key": {"type": "string", "airbyte_secret": true}}}]},
	    "accounts": {"type": "array", "items": {"type": "object", "properties": {"api_key": {"type": "string", "airbyte_secret": true}, "name": {"type": "string"}}}},
	    "headers": {"type": "object", "airbyte_secret": true}
	  }
	}`)
	config := json.RawMessage(`{
	  "host": "spec-host-not-secret",
	  "pin": 98765432,
	  "credentials": {"auth_type": "pat", "personal_access_token": "spec-pat-value"},
	  "tunnel": {"ssh_key": "spec-ssh-key-value"},
	  "accounts": [{"api_key": "spec-account-key-1", "name": "spec-account-name"}, {"api_key": "spec-account-key-2"}],
	  "headers": {"Authorization": "spec-header-value", "list": ["spec-header-list"]},
	  "unknown": "spec-unknown-field"
	}`)
	values, err := Values(config, spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"98765432", "spec-pat-value", "spec-ssh-key-value", "spec-account-key-1", "spec-account-key-2",
		"spec-header-value", "spec-header-list"} {
		if !slices.Contains(values, s) {
			t.Errorf("%s not found in %q", s, values)
		}
	}
	for _, s := range []string{"spec-host-not-secret", "spec-account-name", "spec-unknown-field"} {
		if slices.Contains(values, s) {
			t.Errorf("%s found though not secret", s)
		}
	}
	if _, err := Values(json.RawMessage(`{`), spec); err == nil {
		t.Fatal("bad config accepted")
	}
}
