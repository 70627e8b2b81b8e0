package destination

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/protocol"
)

// maxPendingEchoes bounds the echoed states a stateCommitter holds while it
// commits the ones before them: beyond it, reading the destination's output
// waits for the commit, so what a kill -9 of this process can lose stays
// bounded however slow the state cache is.
const maxPendingEchoes = 10_000

// cancelGrace is how long commits go on once the Write's context is
// cancelled: long enough for the destination to stop within the default
// grace period of a write (6 s, more than the 5 s the kit gives a
// destination to flush) while the echoes it writes meanwhile are read and
// committed (milliseconds, even for thousands of states), short enough
// that a cancelled Write does not hang behind a state table another
// session holds locked. An echo that comes later (a destination given a
// longer grace period) is not stored: its commit fails, and the Write ends
// with that error.
const cancelGrace = 8 * time.Second

// stateCommitter stores the states a destination echoes into the state
// cache by group commit. Storing each echo in a transaction of its own
// cost one transaction per record for a destination that echoes a state
// after every record. The committer commits, in one transaction, the
// latest state per key echoed since its last commit began; when echoes
// come slower than commits, each is committed as it comes.
//
// What it keeps is what the old way kept: a state is committed only after
// its echo, so never before the destination confirmed the records it
// covers; what a kill -9 of this process loses is what arrived while one
// commit ran (the old way left that unread in the pipe), at most
// maxPendingEchoes echoes; and when the destination dies, close still
// commits everything it echoed. A whole-source (GLOBAL, LEGACY) state and
// STREAM states are never committed together, so that the kind echoed last
// is the kind stored, as when each was stored in turn.
type stateCommitter struct {
	ctx    context.Context
	commit func(ctx context.Context, states map[cache.StateKey]*protocol.State) error
	done   chan struct{}
	// stop ends ctx and its cancelGrace timer once the committer closes.
	stop func()

	mu      sync.Mutex
	cond    *sync.Cond
	pending map[cache.StateKey]*protocol.State
	after   []func() // called once the pending states are committed
	echoes  int      // echoes taken since the last commit began
	closed  bool
	err     error
}

// newStateCommitter starts committing with commit (cacheOps.PutStates).
// Commits outlive ctx's cancellation by cancelGrace, so that a cancelled
// Write still stores what its destination confirmed; a commit still
// running then is cancelled, and fails the committer.
func newStateCommitter(ctx context.Context, commit func(context.Context, map[cache.StateKey]*protocol.State) error) *stateCommitter {
	return newStateCommitterGrace(ctx, commit, cancelGrace)
}

func newStateCommitterGrace(ctx context.Context, commit func(context.Context, map[cache.StateKey]*protocol.State) error, grace time.Duration) *stateCommitter {
	cctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stopAfter := context.AfterFunc(ctx, func() { // on its own goroutine
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel(fmt.Errorf("the write was cancelled and its state commit did not end within %s: %w", grace, context.Cause(ctx)))
		case <-cctx.Done(): // the committer closed
		}
	})
	sc := &stateCommitter{ctx: cctx, commit: commit, done: make(chan struct{}), pending: map[cache.StateKey]*protocol.State{}}
	sc.stop = func() {
		stopAfter()
		cancel(nil)
	}
	sc.cond = sync.NewCond(&sc.mu)
	go sc.run()
	return sc
}

// add queues an echoed state for the next commit, and after to be called
// once it is committed. It returns the error of a commit that failed: the
// committer then takes nothing more.
func (sc *stateCommitter) add(key cache.StateKey, st *protocol.State, after func()) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for sc.err == nil && (sc.echoes >= maxPendingEchoes || (len(sc.pending) > 0 && sc.otherKind(key))) {
		sc.cond.Wait()
	}
	if sc.err != nil {
		return sc.err
	}
	sc.pending[key] = st
	if after != nil {
		sc.after = append(sc.after, after)
	}
	sc.echoes++
	sc.cond.Broadcast()
	return nil
}

// otherKind reports whether key is of the other kind (whole-source or
// STREAM) than the pending states. sc.mu is held.
func (sc *stateCommitter) otherKind(key cache.StateKey) bool {
	for k := range sc.pending {
		return (k.Stream == "") != (key.Stream == "")
	}
	return false
}

func (sc *stateCommitter) run() {
	defer close(sc.done)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for {
		for len(sc.pending) == 0 && !sc.closed {
			sc.cond.Wait()
		}
		if len(sc.pending) == 0 {
			return
		}
		states, after := sc.pending, sc.after
		sc.pending, sc.after, sc.echoes = map[cache.StateKey]*protocol.State{}, nil, 0
		sc.cond.Broadcast() // room for the echoes that waited
		sc.mu.Unlock()
		err := sc.commit(sc.ctx, states)
		if err == nil {
			for _, f := range after {
				f()
			}
		}
		sc.mu.Lock()
		if err != nil {
			sc.err = err
			sc.cond.Broadcast()
			return
		}
	}
}

// close commits what is pending, stops the committer and returns the error
// of the commit that failed, if one did.
func (sc *stateCommitter) close() error {
	sc.mu.Lock()
	sc.closed = true
	sc.cond.Broadcast()
	sc.mu.Unlock()
	<-sc.done
	sc.stop()
	return sc.err
}
