package connector

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/x/goairbyte/internal/jsonwalk"
	"github.com/x/goairbyte/internal/masklease"
	"github.com/x/goairbyte/internal/secretref"
	"github.com/x/goairbyte/internal/specsecret"
	"github.com/x/goairbyte/secrets"
)

// This file is the one place where a connector deals with secrets:
//
//   - normalizeConfig turns the config the user gave into the JSON object
//     the Connector stores and Config returns. It may hold secret_reference::NAME
//     values; they stay references there, never secrets.
//   - prepare turns the stored config into the JSON the connector gets, at
//     execution time, for every command: references are resolved through
//     secrets.ResolveReferences (nested objects and arrays too, every value
//     registered for masking), once per operation (see operation.go), and
//     the values of the fields the spec marks airbyte_secret (found by
//     specsecret.Values) and those resolved from references are held for
//     masking (see heldSecrets) — before the connector sees the config,
//     so that nothing it prints escapes.
//   - secrets.Mask is process-wide; the executor applies it to every
//     stderr line, LOG message, log file line and error text, and the
//     Connector to the errors and messages it makes itself, when they are
//     made: a config's secrets are masked while its Connector lives (and
//     while a run of it does), not for good, so what is printed later
//     must have been masked before.
//   - rereference puts the references back into a config the connector
//     sends in a CONTROL message, so that Config and the config-change
//     callback never hold a resolved secret either.

// normalizeConfig turns a config given as a map, struct, json.RawMessage,
// []byte or string into the JSON object the Connector stores.
func normalizeConfig(config any) (json.RawMessage, error) {
	var raw []byte
	text := true // the caller gave the config's text
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
		text = false
		b, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("the config cannot be encoded as JSON: %w", err)
		}
		raw = b
	}
	var obj map[string]any
	if err := decodeJSON(raw, &obj); err != nil || obj == nil {
		if text && !json.Valid(raw) {
			// A path of a config file, or YAML (which goab's --config takes).
			return nil, fmt.Errorf("%w: the config must be a JSON object, such as {\"count\": 10}; a string or []byte config is "+
				"that JSON text, not a file's path or YAML: pass os.ReadFile's bytes of a JSON file, or a map[string]any decoded from YAML", ErrConfigInvalid)
		}
		return nil, fmt.Errorf("%w: the config must be a JSON object, such as {\"count\": 10}", ErrConfigInvalid)
	}
	// Compact into a buffer of our own, so the connector gets compact JSON
	// and the caller's buffer is never shared. The keys keep their order:
	// a manifest injected in the config (source-declarative-manifest)
	// builds query strings and bodies in that order.
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfigInvalid, err)
	}
	return out.Bytes(), nil
}

// normalize is normalizeConfig after the config's SecretStrings were put in
// the Connector's vault, replaced by references to it.
func (c *Connector) normalize(config any) (json.RawMessage, error) {
	tree, ok, err := referenceSecretStrings(config, &c.vault)
	if err != nil {
		return nil, fmt.Errorf("the config cannot be encoded as JSON: %w", err)
	}
	if ok {
		config = tree
	}
	return normalizeConfig(config)
}

// decodeJSON decodes with json.Number, so that big integers in a config
// survive the round trip exactly.
func decodeJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the JSON value")
	}
	return nil
}

// prepare returns the config to hand to the connector for a command that
// needs one, or a *NoConfigError, and refs, which maps each value resolved
// from a reference back to it: what a CONTROL config of the same run has
// put back (see rereference). Every command gets its config here. It
// fetches the spec first (once), resolves the secret references of the
// stored config (those the operation of ctx has not resolved yet) and
// holds every secret value for masking, for the Connector's life, before
// the connector runs; held are those values, for a run to hold as well
// (a SetConfig meanwhile releases the Connector's hold).
func (c *Connector) prepare(ctx context.Context) (resolved json.RawMessage, refs map[string]string, held []string, err error) {
	stored, err := c.storedConfig()
	if err != nil {
		return nil, nil, nil, err
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if resolved, err = c.resolve(ctx, stored); err != nil {
		return nil, nil, nil, err
	}
	refs = referencedValues(stored, resolved)
	held = c.secretValues(spec.ConnectionSpecification, resolved)
	for v := range refs {
		held = append(held, v)
	}
	c.held.hold(held)
	return resolved, refs, held, nil
}

// resolve resolves the secret references of a stored config: the config's
// own SecretStrings first, then the Environment's managers. Within an
// operation (see operation.go), a reference the operation resolved already
// is not asked for again.
func (c *Connector) resolve(ctx context.Context, stored json.RawMessage) (json.RawMessage, error) {
	resolveAll := func(ctx context.Context, config json.RawMessage) (json.RawMessage, error) {
		var opts []secrets.Option
		if c.vault.holdsAny() || bytes.Contains(config, []byte(secrets.ReferencePrefix+vaultPrefix)) {
			// Only then: a secret not found lists the managers asked,
			// and a config of plain references has no SecretString
			// (unless it was copied from another Connector's Config:
			// the vault then says so).
			opts = append(opts, secrets.WithManager(&c.vault))
		}
		r, err := secrets.ResolveReferences(ctx, config, append(opts, c.env.SecretOptions()...)...)
		if err != nil {
			return nil, secrets.MaskError(fmt.Errorf("%s: %w", c.name, err))
		}
		resolved, _ := r.(json.RawMessage) // what ResolveReferences makes of a json.RawMessage
		return resolved, nil
	}
	if op := operationOf(ctx); op != nil && bytes.Contains(stored, []byte(secrets.ReferencePrefix)) {
		return op.resolve(ctx, c.env, stored, resolveAll)
	}
	return resolveAll(ctx, stored)
}

// resolvedConfig returns the config as the connector receives it: its
// SecretString values and secret references resolved through the
// Environment's secret managers, numbers kept exactly. It is for handing
// the config to another runner (cloud's DeploySource sends it to an
// Airbyte workspace); it holds the secrets in clear, so keep it out of
// logs. The resolved values are registered for masking.
func (c *Connector) resolvedConfig(ctx context.Context) (map[string]any, error) {
	stored, err := c.storedConfig()
	if err != nil {
		return nil, err
	}
	resolved, err := c.resolve(withOperation(ctx), stored)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := decodeJSON(resolved, &m); err != nil {
		return nil, fmt.Errorf("%s: the resolved config: %w", c.name, err)
	}
	return m, nil
}

// maskErr returns err with its text masked, keeping its type when nothing
// needed masking (the usual case), so that callers' errors.As and type
// switches see the error as the executor made it. A masked error still
// unwraps to it.
func maskErr(err error) error {
	if err == nil {
		return nil
	}
	if msg := err.Error(); secrets.Mask(msg) != msg {
		return secrets.MaskError(err)
	}
	return err
}

// secretValues returns the values of the config fields the spec marks
// airbyte_secret. config must be resolved: a field holding a reference
// would give the reference's text instead of the secret.
func (c *Connector) secretValues(spec, config json.RawMessage) []string {
	if len(spec) == 0 || len(config) == 0 {
		return nil
	}
	values, err := specsecret.Values(config, spec)
	if err != nil {
		// Both came through encoding/json already; say so and go on, since
		// the connector would reject them too.
		c.logger.Warn("cannot find the secret fields of the config", "connector", c.name, "error", secrets.MaskError(err))
	}
	return values
}

// heldSecrets masks the secret values of a Connector's configs while the
// Connector may print them, rather than for good (secrets.Register): a
// server that makes a Connector per tenant or job would otherwise mask
// every secret it was ever given, and every masked line and every new
// secret would pay for all of them. The values are held (see package
// internal/masklease) from the first run of a config until SetConfig
// replaces it or the Connector becomes unreachable; a value another
// Connector, a run or secrets.Register holds stays masked. A config the
// connector changed (CONTROL) keeps the old values held too: an old OAuth
// token is still a secret in what the connector prints.
//
// What is printed after its Connector is gone (an error kept, a summary)
// was masked when it was made: secrets.MaskError masks when it wraps.
type heldSecrets struct {
	mu       sync.Mutex
	values   map[string]struct{}
	releases []func()
}

// newHeldSecrets returns the holder of c's secrets, released once c is
// unreachable.
func newHeldSecrets(c *Connector) *heldSecrets {
	h := &heldSecrets{}
	runtime.AddCleanup(c, (*heldSecrets).releaseAll, h)
	return h
}

// hold masks values until releaseAll; a value held already is not held
// twice.
func (h *heldSecrets) hold(values []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var fresh []string
	for _, v := range values {
		if _, ok := h.values[v]; ok {
			continue
		}
		if h.values == nil {
			h.values = map[string]struct{}{}
		}
		h.values[v] = struct{}{}
		fresh = append(fresh, v)
	}
	if len(fresh) > 0 {
		h.releases = append(h.releases, masklease.Hold(fresh...))
	}
}

// releaseAll stops holding every value held so far. A nil h (a Connector
// not made by newConnector) holds nothing.
func (h *heldSecrets) releaseAll() {
	if h == nil {
		return
	}
	h.mu.Lock()
	releases := h.releases
	h.values, h.releases = nil, nil
	h.mu.Unlock()
	for _, release := range releases {
		release()
	}
}

// referencedValues maps each secret value that resolution put into resolved
// to the reference it came from ("secret_reference::NAME").
func referencedValues(stored, resolved json.RawMessage) map[string]string {
	refs := map[string]string{}
	eachReference(stored, resolved, func(ref, value string) { refs[value] = ref })
	if len(refs) == 0 {
		return nil
	}
	return refs
}

// eachReference calls f with each reference of stored ("secret_reference::NAME")
// and the value resolution put in its place in resolved.
func eachReference(stored, resolved json.RawMessage, f func(ref, value string)) {
	if !bytes.Contains(stored, []byte(secrets.ReferencePrefix)) {
		return
	}
	var a, b any
	if decodeJSON(stored, &a) != nil || decodeJSON(resolved, &b) != nil {
		return
	}
	secretref.Pairs(a, b, f)
}

// holdsReference reports whether the JSON object config has a string, at
// any depth, that is a secret reference. Strings are compared decoded: an
// escape such as "secret_reference\u003a\u003aNAME" is a reference too.
func holdsReference(config json.RawMessage) bool {
	var v any
	if decodeJSON(config, &v) != nil {
		return true // cannot tell: as unsafe as a reference
	}
	return jsonwalk.AnyString(v, func(s string) bool { return strings.HasPrefix(s, secrets.ReferencePrefix) })
}

// rereference returns config with every string that equals a value resolved
// from a reference replaced by that reference again. A connector that sends
// its config back (CONTROL CONNECTOR_CONFIG) sends the resolved secrets;
// what it changed (a refreshed token) is new and stays as sent.
func rereference(config json.RawMessage, refs map[string]string) json.RawMessage {
	if len(refs) == 0 {
		return config
	}
	var v any
	if decodeJSON(config, &v) != nil {
		return config
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			if ref, ok := refs[x]; ok {
				return ref
			}
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		}
		return v
	}
	out, err := json.Marshal(walk(v))
	if err != nil {
		return config
	}
	return out
}

// configFingerprint is a short hash of the config without its secrets: the
// fields the spec marks airbyte_secret and the SecretString values are left
// out (a secret reference in another field is hashed as the reference,
// never resolved). Two configs that differ only in secrets have the same
// fingerprint. It is "" when no config is set.
func (c *Connector) configFingerprint(ctx context.Context) (string, error) {
	stored, err := c.storedConfig()
	if err != nil {
		return "", nil
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return "", err
	}
	var cfg map[string]any
	if err := decodeJSON(stored, &cfg); err != nil {
		return "", err
	}
	for _, p := range specsecret.Paths(spec.ConnectionSpecification, cfg) {
		removePath(cfg, p)
	}
	removeVaultReferences(cfg)
	canon, err := json.Marshal(cfg) // maps marshal with sorted keys
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:6]), nil
}

// removePath deletes the value at path (JSON-pointer tokens) from v.
func removePath(v any, path []string) {
	for i, key := range path {
		switch x := v.(type) {
		case map[string]any:
			if i == len(path)-1 {
				delete(x, key)
				return
			}
			v = x[key]
		case []any:
			n, err := strconv.Atoi(key)
			if err != nil || n < 0 || n >= len(x) {
				return
			}
			if i == len(path)-1 {
				x[n] = nil
				return
			}
			v = x[n]
		default:
			return
		}
	}
}
