// Package secretstest holds a secret manager for tests that count how
// often secrets are asked for.
package secretstest

import (
	"context"
	"maps"
	"sync"

	"github.com/x/goairbyte/secrets"
)

// CountingManager is a secrets.SecretManager that counts how often each
// secret is asked for, as a remote secret service would bill it. Its
// methods are safe for concurrent use.
type CountingManager struct {
	mu     sync.Mutex
	values map[string]string
	asked  map[string]int
}

// NewCountingManager returns a CountingManager that has values.
func NewCountingManager(values map[string]string) *CountingManager {
	return &CountingManager{values: maps.Clone(values), asked: map[string]int{}}
}

// Name implements secrets.SecretManager.
func (m *CountingManager) Name() string { return "counting manager" }

// Get implements secrets.SecretManager, counting the question.
func (m *CountingManager) Get(_ context.Context, name string) (secrets.SecretString, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asked[name]++
	v, ok := m.values[name]
	return secrets.NewSecretString(v), ok, nil
}

// Set gives the secret name a new value (a rotation).
func (m *CountingManager) Set(name, value string) {
	m.mu.Lock()
	m.values[name] = value
	m.mu.Unlock()
}

// Counts returns how often each secret was asked for.
func (m *CountingManager) Counts() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.asked)
}
