// Package cachelink gives package destination the operations of package
// cache that a Write from a cache needs and users do not: many streams'
// datasets and states in shared statements, a dataset's watermark, the
// destination's states stored in groups, and the lock of a destination's
// Writes. Package cache sets them in
// its init function, so they stay out of its public API; this package
// cannot import cache, so the operations are generic in cache's types.
package cachelink

import (
	"context"

	"github.com/x/goairbyte/protocol"
)

// Ops are the operations, in terms of package cache's *Cache (C),
// *Dataset (D) and StateKey (K). Their docs are on the unexported methods
// of package cache that implement them.
type Ops[C, D any, K comparable] struct {
	// Datasets returns the datasets of streams, in their order, each with
	// the greatest raw id its table held (see LastRawID), in statements of
	// many tables.
	Datasets func(c C, ctx context.Context, streams []string) ([]D, error)
	// LastRawID returns the greatest raw id of the dataset's table when
	// Datasets made it; known is false for a dataset made otherwise.
	LastRawID func(d D) (id string, known bool)
	// States returns the states stored for a source and a destination under
	// the named streams, by stream name, in one query.
	States func(c C, ctx context.Context, source, destination string, streams []string) (map[string]*protocol.State, error)
	// PutStates stores several states in one transaction.
	PutStates func(c C, ctx context.Context, states map[K]*protocol.State) error
	// LockWrite takes the lock of the Writes of a source into a
	// destination whose state the cache keeps, or fails at once with an
	// error matching ErrInUse. The Write stores its states with locked,
	// which fails them once the lock is lost.
	LockWrite func(c C, ctx context.Context, source, destination string) (locked context.Context, unlock func(), err error)
	// CloseWhenUnreachable has the cache's database closed once nothing
	// refers to the cache any more, unless it was closed first. The
	// channel is closed once the database is closed, either way.
	CloseWhenUnreachable func(c C) <-chan struct{}
}

var ops any

// Set records the operations; package cache calls it in its init function.
func Set[C, D any, K comparable](o Ops[C, D, K]) { ops = o }

// Get returns the operations package cache set. It panics if cache is not
// linked in or the types are not cache's.
func Get[C, D any, K comparable]() Ops[C, D, K] { return ops.(Ops[C, D, K]) }
