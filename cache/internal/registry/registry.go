// Package registry holds the cache backends registered by URL scheme. It
// lives apart so that the backend SPI registers into it and package cache
// looks up in it, and neither exports the other's half.
package registry

import (
	"slices"
	"sync"
)

var (
	mu      sync.RWMutex
	openers = map[string]any{}
)

// Register records the opener of scheme; a second registration panics.
func Register(scheme string, opener any) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := openers[scheme]; dup {
		panic("cache: backend.Register called twice for scheme " + scheme)
	}
	openers[scheme] = opener
}

// Lookup returns the opener of scheme.
func Lookup(scheme string) (any, bool) {
	mu.RLock()
	defer mu.RUnlock()
	o, ok := openers[scheme]
	return o, ok
}

// Schemes lists the registered schemes in order.
func Schemes() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(openers))
	for s := range openers {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
