package specsecret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Values returns every value in config whose property in
// connectionSpecification (the JSON schema of a connector's spec) has
// "airbyte_secret": true, for the caller to mask while the config is in
// use. It follows nested properties, oneOf/anyOf/allOf branches and array
// items, so a secret inside a chosen auth method is found too. Non-string
// secrets (a numeric PIN) are given by their JSON text; object or array
// secrets by each string inside them.
func Values(config, connectionSpecification json.RawMessage) ([]string, error) {
	if len(config) == 0 || len(connectionSpecification) == 0 {
		return nil, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(config))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("secrets: config is not valid JSON: %w", err)
	}
	cfg, _ := v.(map[string]any) // a config is an object; anything else holds no field
	if !json.Valid(connectionSpecification) {
		return nil, errors.New("secrets: connection specification is not valid JSON")
	}
	var found []string
	for _, p := range Paths(connectionSpecification, cfg) {
		v, _ := Get(cfg, p)
		found = Leaves(v, found)
	}
	return found, nil
}
