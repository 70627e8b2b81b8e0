package source

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// This file is the one place where a Source deals with secrets: turning the
// config the user gave into the JSON object it stores (resolveConfig), then
// into the JSON the connector gets (prepare), and hiding secret values from
// every error and log line (Source.mask, handed to the executor). The
// secrets package plugs in here: secret_reference::NAME resolution in
// prepare (so the stored config keeps references, never secrets),
// process-wide masking in Source.mask and registration in
// Source.learnSecrets.

// resolveConfig turns a config given as a map, struct, json.RawMessage or
// []byte into the JSON object passed to the connector.
func resolveConfig(config any) (json.RawMessage, error) {
	var raw []byte
	switch c := config.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		raw = c
	case []byte:
		raw = c
	case string:
		raw = []byte(c)
	default:
		b, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("source: config cannot be encoded as JSON: %w", err)
		}
		raw = b
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("source: the config must be a JSON object")
	}
	// Re-encode so the connector gets compact JSON and the caller's buffer is
	// never shared.
	return json.Marshal(obj)
}

// prepare returns the config to hand to the connector for a command that
// needs one, or a *NoConfigError. Every command gets its config here. It
// fetches the spec first (once), so that the config's secrets are known to
// the masking of logs and errors before the connector sees them.
func (s *Source) prepare(ctx context.Context) (json.RawMessage, error) {
	if _, err := s.configJSON(); err != nil {
		return nil, err
	}
	if _, err := s.Spec(ctx); err != nil {
		return nil, err
	}
	return s.configJSON()
}

// secretMask is the placeholder written where a secret value was.
const secretMask = "****"

// mask hides the secret values of this source's config in s. The executor
// applies it to stderr, log lines and error messages.
func (s *Source) mask(text string) string {
	s.mu.Lock()
	vals := s.secretValues
	s.mu.Unlock()
	for _, v := range vals {
		text = strings.ReplaceAll(text, v, secretMask)
	}
	return text
}

// learnSecrets adds the values of the config fields the spec marks
// airbyte_secret to those mask hides. Called whenever the config or the spec
// changes; values are never forgotten, since a replaced secret (an old
// OAuth token) is still a secret in the connector's output. Longest first,
// so that a secret containing another is masked whole.
func (s *Source) learnSecrets(spec json.RawMessage, config json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Copy on write: mask reads the slice without the lock.
	vals := slices.Clone(s.secretValues)
	for _, f := range secretFields(spec, config) {
		// Short values occur everywhere in ordinary text; masking them would
		// garble logs and hide nothing (the secrets package agrees).
		if len(f.value) >= 4 && !slices.Contains(vals, f.value) {
			vals = append(vals, f.value)
		}
	}
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	s.secretValues = vals
}

// secretField is a config field the spec marks airbyte_secret.
type secretField struct {
	path  []string // instance location, as JSON-pointer tokens
	value string   // its value as text, "" when absent
}

// secretFields walks the config alongside its JSON schema and returns the
// fields marked airbyte_secret, through properties, items and the
// oneOf/anyOf/allOf branches connectors use for authentication methods.
func secretFields(specJSON, configJSON json.RawMessage) []secretField {
	var schema, config any
	if json.Unmarshal(specJSON, &schema) != nil || json.Unmarshal(configJSON, &config) != nil {
		return nil
	}
	var out []secretField
	var walk func(schemas []map[string]any, v any, path []string)
	walk = func(schemas []map[string]any, v any, path []string) {
		schemas = expandBranches(schemas)
		for _, sc := range schemas {
			if b, _ := sc["airbyte_secret"].(bool); b {
				out = append(out, secretField{path: append([]string(nil), path...), value: secretText(v)})
				return
			}
		}
		switch val := v.(type) {
		case map[string]any:
			for key, child := range val {
				var subs []map[string]any
				for _, sc := range schemas {
					if props, ok := sc["properties"].(map[string]any); ok {
						if p, ok := props[key].(map[string]any); ok {
							subs = append(subs, p)
						}
					}
				}
				if len(subs) > 0 {
					walk(subs, child, append(path, key))
				}
			}
		case []any:
			var subs []map[string]any
			for _, sc := range schemas {
				if it, ok := sc["items"].(map[string]any); ok {
					subs = append(subs, it)
				}
			}
			if len(subs) > 0 {
				for i, child := range val {
					walk(subs, child, append(path, fmt.Sprint(i)))
				}
			}
		}
	}
	if sc, ok := schema.(map[string]any); ok {
		walk([]map[string]any{sc}, config, nil)
	}
	return out
}

// expandBranches adds the oneOf/anyOf/allOf branches of the schemas, to any
// depth.
func expandBranches(schemas []map[string]any) []map[string]any {
	out := make([]map[string]any, 0, len(schemas))
	var add func(sc map[string]any)
	add = func(sc map[string]any) {
		out = append(out, sc)
		for _, kw := range []string{"oneOf", "anyOf", "allOf"} {
			if list, ok := sc[kw].([]any); ok {
				for _, b := range list {
					if m, ok := b.(map[string]any); ok {
						add(m)
					}
				}
			}
		}
	}
	for _, sc := range schemas {
		add(sc)
	}
	return out
}

// secretText is the text a secret value appears as in logs.
func secretText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
