package connector

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/x/goairbyte/internal/jsonscan"
	"github.com/x/goairbyte/internal/secretref"
	"github.com/x/goairbyte/secrets"
)

// An operation is one call of the API — a Check, a ValidateConfig, a
// Discover, a Read, a Records or Documents loop, a Write — however many
// connector runs it makes: a Read that does not know the catalog yet runs
// discover and then read; a Write validates the destination's config,
// reads the source (validate, discover, read) and runs the destination.
// Within one operation each secret reference is resolved once, so the
// interactive prompt asks once and a remote secret service is called once.
// The next operation resolves again: a rotated secret, or a SetConfig, is
// seen there. Resolved secrets live as long as the operation that asked
// for them, never as long as the Connector.
//
// The operation travels in the context. The public method starts it
// (withOperation) and hands the context down; prepare finds it there. A
// call made within another operation (the Read a Write makes of its
// source) joins it.

// operation is the secrets one operation resolved.
type operation struct {
	// mu is held while a config is resolved within the operation, so that
	// two runs that start at once (a Write's source and destination with
	// no cache) ask for a secret once, not once each.
	mu sync.Mutex
	// resolved holds the values resolved so far, by the Environment whose
	// secret managers gave them and the secret's name: a source and a
	// destination of one Environment share them, another Environment
	// (another tenant) asks its own managers.
	resolved map[*Environment]map[string]string
}

type operationKey struct{}

// withOperation returns ctx within an operation: ctx itself when it is in
// one already, else a context that starts one.
func withOperation(ctx context.Context) context.Context {
	if operationOf(ctx) != nil {
		return ctx
	}
	return context.WithValue(ctx, operationKey{}, &operation{})
}

// operationOf returns the operation ctx is in, nil outside one (and in
// the context the secret managers are asked with: see resolve).
func operationOf(ctx context.Context) *operation {
	op, _ := ctx.Value(operationKey{}).(*operation)
	return op
}

// resolve resolves the references of stored, a config of a Connector of
// env, through resolveAll, the references resolved earlier in the
// operation put in first: only the others are asked for, and they are
// remembered for the rest of the operation. References into a Connector's
// vault (its SecretStrings) are neither put in nor remembered: the vault is
// the Connector's own and asks nothing of anyone.
//
// The secret managers are asked with a context outside the operation: one
// that ran a connector with it would otherwise wait for itself.
func (op *operation) resolve(ctx context.Context, env *Environment, stored json.RawMessage,
	resolveAll func(context.Context, json.RawMessage) (json.RawMessage, error)) (json.RawMessage, error) {
	op.mu.Lock()
	defer op.mu.Unlock()
	known := op.resolved[env]
	resolved, err := resolveAll(context.WithValue(ctx, operationKey{}, (*operation)(nil)), putResolved(stored, known))
	if err != nil {
		return nil, err
	}
	eachReference(stored, resolved, func(ref, value string) {
		name := secretref.Name(ref)
		if strings.HasPrefix(name, vaultPrefix) {
			return
		}
		if known == nil {
			if op.resolved == nil {
				op.resolved = map[*Environment]map[string]string{}
			}
			known = map[string]string{}
			op.resolved[env] = known
		}
		known[name] = value
	})
	return resolved, nil
}

// putResolved returns config with every reference to a secret known has
// replaced by its value, registered for masking again, in the text itself
// (the config's key order is kept). config itself is returned when there
// is nothing to replace.
func putResolved(config json.RawMessage, known map[string]string) json.RawMessage {
	if len(known) == 0 {
		return config
	}
	out, err := jsonscan.ReplaceStrings(config, func(_, v string) (string, bool, error) {
		if !strings.HasPrefix(v, secrets.ReferencePrefix) {
			return "", false, nil
		}
		// A value that looks like a reference itself is not put in:
		// resolution would take it for one. It is asked for again.
		val, ok := known[secretref.Name(v)]
		if !ok || strings.HasPrefix(val, secrets.ReferencePrefix) {
			return "", false, nil
		}
		secrets.Register(val)
		return val, true, nil
	})
	if err != nil {
		return config
	}
	return out
}
