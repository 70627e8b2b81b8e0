package secrets

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MaskSpecSecrets registers for masking every value in config whose property
// in connectionSpecification (the JSON schema of a connector's spec) has
// "airbyte_secret": true. It follows nested properties, oneOf/anyOf/allOf
// branches and array items, so a secret inside a chosen auth method is found
// too. Non-string secrets (a numeric PIN) are registered by their JSON text;
// object or array secrets by each string inside them.
func MaskSpecSecrets(config, connectionSpecification json.RawMessage) error {
	if len(config) == 0 || len(connectionSpecification) == 0 {
		return nil
	}
	var cfg, spec any
	if err := decodeNumber(config, &cfg); err != nil {
		return fmt.Errorf("secrets: config is not valid JSON: %w", err)
	}
	if err := decodeNumber(connectionSpecification, &spec); err != nil {
		return fmt.Errorf("secrets: connection specification is not valid JSON: %w", err)
	}
	var found []string
	collectSpecSecrets(cfg, spec, &found, 0)
	Register(found...)
	return nil
}

func decodeNumber(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// collectSpecSecrets walks value and schema side by side. depth guards
// against pathological or self-referencing schemas.
func collectSpecSecrets(value, schema any, found *[]string, depth int) {
	s, ok := schema.(map[string]any)
	if !ok || value == nil || depth > 64 {
		return
	}
	if b, _ := s["airbyte_secret"].(bool); b {
		collectLeaves(value, found)
		return
	}
	for _, key := range []string{"oneOf", "anyOf", "allOf"} {
		if branches, ok := s[key].([]any); ok {
			for _, b := range branches {
				collectSpecSecrets(value, b, found, depth+1)
			}
		}
	}
	switch v := value.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for k, e := range v {
			if ps, ok := props[k]; ok {
				collectSpecSecrets(e, ps, found, depth+1)
			}
		}
	case []any:
		items := s["items"]
		for _, e := range v {
			collectSpecSecrets(e, items, found, depth+1)
		}
	}
}

func collectLeaves(v any, found *[]string) {
	switch x := v.(type) {
	case string:
		*found = append(*found, x)
	case json.Number:
		*found = append(*found, x.String())
	case map[string]any:
		for _, e := range x {
			collectLeaves(e, found)
		}
	case []any:
		for _, e := range x {
			collectLeaves(e, found)
		}
	}
}
