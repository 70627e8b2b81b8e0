package secrets

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/x/goairbyte/internal/jsonscan"
)

// ReferencePrefix marks a config value that names a secret instead of
// holding it: {"api_key": "secret_reference::GITHUB_TOKEN"}.
const ReferencePrefix = "secret_reference::"

// ResolveReferences returns a copy of config in which every string of the
// form secret_reference::NAME — at any depth, in objects and arrays — is
// replaced by the value of [GetSecret](ctx, NAME, opts...). Every resolved
// value is registered for masking. config itself is never modified, so a
// source's stored config keeps the references and never holds a secret.
//
// config is a decoded JSON value (map[string]any, []any, string, ...) or a
// json.RawMessage / []byte, which comes back as a json.RawMessage. Any other
// type (a struct, a typed map) is converted through JSON and comes back as
// its generic form.
func ResolveReferences(ctx context.Context, config any, opts ...Option) (any, error) {
	o := buildOptions(opts)
	cache := map[string]string{}
	switch c := config.(type) {
	case json.RawMessage:
		return resolveRaw(ctx, c, o, cache)
	case []byte:
		return resolveRaw(ctx, c, o, cache)
	case nil, map[string]any, []any, string, bool, float64, json.Number:
		return resolve(ctx, c, "", o, cache)
	default:
		raw, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("secrets: config of type %T cannot be converted to JSON: %w", c, err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		return resolve(ctx, v, "", o, cache)
	}
}

func resolveRaw(ctx context.Context, raw []byte, o *options, cache map[string]string) (json.RawMessage, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	// Cheap exit: most configs have no reference at all.
	if !strings.Contains(string(raw), ReferencePrefix) {
		return append(json.RawMessage(nil), raw...), nil
	}
	// The references are replaced in the text itself, which keeps the
	// config's key order and its numbers as written.
	var resolveErr error
	out, err := jsonscan.ReplaceStrings(raw, func(path, value string) (string, bool, error) {
		if !strings.HasPrefix(value, ReferencePrefix) {
			return "", false, nil
		}
		r, err := resolve(ctx, value, path, o, cache)
		if err != nil {
			resolveErr = err
			return "", false, err
		}
		return r.(string), true, nil
	})
	if resolveErr != nil {
		return nil, resolveErr
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: config is not valid JSON: %w", err)
	}
	return out, nil
}

func resolve(ctx context.Context, v any, path string, o *options, cache map[string]string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			r, err := resolve(ctx, e, path+"."+k, o, cache)
			if err != nil {
				return nil, err
			}
			m[k] = r
		}
		return m, nil
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			r, err := resolve(ctx, e, fmt.Sprintf("%s[%d]", path, i), o, cache)
			if err != nil {
				return nil, err
			}
			s[i] = r
		}
		return s, nil
	case string:
		name, ok := strings.CutPrefix(x, ReferencePrefix)
		if !ok {
			return x, nil
		}
		name = strings.TrimSpace(name)
		if val, ok := cache[name]; ok {
			return val, nil
		}
		s, err := o.get(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("resolving config field %s: %w", strings.TrimPrefix(path, "."), err)
		}
		// GetSecret registered it already; custom managers may build
		// SecretStrings by other means, so make sure.
		Register(s.Reveal())
		cache[name] = s.Reveal()
		return s.Reveal(), nil
	default:
		return v, nil
	}
}
