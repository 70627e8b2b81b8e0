package destination

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/protocol"
)

// fakeCommits records what each commit of a stateCommitter stored, and
// holds the first until released.
type fakeCommits struct {
	mu      sync.Mutex
	batches []map[cache.StateKey]string
	started chan struct{}
	release chan struct{}
	fail    error
}

func newFakeCommits() *fakeCommits {
	return &fakeCommits{started: make(chan struct{}, 100), release: make(chan struct{})}
}

func (f *fakeCommits) commit(_ context.Context, states map[cache.StateKey]*protocol.State) error {
	f.started <- struct{}{}
	f.mu.Lock()
	first := len(f.batches) == 0
	b := map[cache.StateKey]string{}
	for k, st := range states {
		b[k] = string(st.Stream.StreamState)
	}
	f.batches = append(f.batches, b)
	f.mu.Unlock()
	if first {
		<-f.release
	}
	return f.fail
}

func streamState(stream string, n int) *protocol.State {
	return &protocol.State{Type: protocol.StateStream, Stream: &protocol.StreamState{
		StreamDescriptor: protocol.StreamDescriptor{Name: stream}, StreamState: []byte(fmt.Sprint(n))}}
}

// TestStateCommitterGroups echoes many states while a commit runs: they
// are committed together, the latest per stream only, and every echo's
// callback runs once its state is committed, never before.
func TestStateCommitterGroups(t *testing.T) {
	f := newFakeCommits()
	sc := newStateCommitter(context.Background(), f.commit)
	var mu sync.Mutex
	var committed []string
	note := func(s string) func() {
		return func() { mu.Lock(); committed = append(committed, s); mu.Unlock() }
	}
	key := func(s string) cache.StateKey { return cache.StateKey{Source: "src", Destination: "dst", Stream: s} }
	if err := sc.add(key("a"), streamState("a", 1), note("a1")); err != nil {
		t.Fatal(err)
	}
	<-f.started // the first commit holds a1 and waits
	for i := 2; i <= 100; i++ {
		if err := sc.add(key("a"), streamState("a", i), note(fmt.Sprint("a", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := sc.add(key("b"), streamState("b", 7), note("b7")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(committed) != 0 {
		t.Errorf("callbacks %v ran before their commit", committed)
	}
	mu.Unlock()
	close(f.release)
	if err := sc.close(); err != nil {
		t.Fatal(err)
	}
	want := []map[cache.StateKey]string{{key("a"): "1"}, {key("a"): "100", key("b"): "7"}}
	if len(f.batches) != 2 || !maps2Equal(f.batches, want) {
		t.Fatalf("commits %v, want %v", f.batches, want)
	}
	if len(committed) != 101 || committed[0] != "a1" || !slices.Contains(committed, "b7") {
		t.Fatalf("callbacks ran for %d echoes (%v…), want 101", len(committed), committed[:min(3, len(committed))])
	}
}

func maps2Equal(a, b []map[cache.StateKey]string) bool {
	return slices.EqualFunc(a, b, func(x, y map[cache.StateKey]string) bool {
		if len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if y[k] != v {
				return false
			}
		}
		return true
	})
}

// TestStateCommitterKinds: a GLOBAL state echoed after STREAM states is
// committed after them, in a commit of its own, so that the kind echoed
// last is the one stored.
func TestStateCommitterKinds(t *testing.T) {
	f := newFakeCommits()
	close(f.release)
	var order []cache.StateKey
	sc := newStateCommitter(context.Background(), func(ctx context.Context, states map[cache.StateKey]*protocol.State) error {
		if len(states) != 1 {
			t.Errorf("one commit held %d states of both kinds", len(states))
		}
		for k := range states {
			order = append(order, k)
		}
		return nil
	})
	global := &protocol.State{Type: protocol.StateGlobal, Global: &protocol.GlobalState{SharedState: []byte(`{}`)}}
	sc.add(cache.StateKey{Source: "s", Stream: "a"}, streamState("a", 1), nil)
	sc.add(cache.StateKey{Source: "s"}, global, nil)
	sc.add(cache.StateKey{Source: "s", Stream: "a"}, streamState("a", 2), nil)
	if err := sc.close(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "", "a"}; len(order) != 3 || order[0].Stream != want[0] || order[1].Stream != want[1] || order[2].Stream != want[2] {
		t.Fatalf("committed %v, want a, the global state, a", order)
	}
}

// TestStateCommitterFailure: once a commit fails, add and close return its
// error and nothing more is committed.
func TestStateCommitterFailure(t *testing.T) {
	f := newFakeCommits()
	f.fail = errors.New("disk full")
	sc := newStateCommitter(context.Background(), f.commit)
	sc.add(cache.StateKey{Source: "s", Stream: "a"}, streamState("a", 1), func() { t.Error("callback of a failed commit ran") })
	<-f.started
	close(f.release)
	if err := sc.close(); !errors.Is(err, f.fail) {
		t.Fatalf("close after a failed commit: %v; want the commit's error", err)
	}
	if err := sc.add(cache.StateKey{Source: "s", Stream: "a"}, streamState("a", 2), nil); !errors.Is(err, f.fail) || len(f.batches) != 1 {
		t.Fatalf("add after a failed commit: %v; want the commit's error", err)
	}
}

// A cancelled Write's commits go on for the grace period, then a commit
// that still runs (a state table locked by another session) is cancelled:
// close returns, with an error saying so, rather than hang.
func TestStateCommitterCancelledWriteEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	blocked := make(chan struct{})
	sc := newStateCommitterGrace(ctx, func(ctx context.Context, _ map[cache.StateKey]*protocol.State) error {
		close(blocked)
		<-ctx.Done() // as a commit waiting for a lock
		return context.Cause(ctx)
	}, 50*time.Millisecond)
	if err := sc.add(cache.StateKey{Source: "s", Stream: "a"}, streamState("a", 1), func() { t.Error("callback of a cancelled commit ran") }); err != nil {
		t.Fatal(err)
	}
	<-blocked
	cancel()
	done := make(chan error)
	go func() { done <- sc.close() }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "did not end within") {
			t.Fatalf("close: %v; want the cancelled commit's error", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("close of a cancelled write's committer hangs behind its blocked commit")
	}
}

// Before the grace period ends, a cancelled Write's commit is not cut
// short: what the destination confirmed is stored.
func TestStateCommitterCommitsWithinGrace(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var got []string
	sc := newStateCommitterGrace(ctx, func(ctx context.Context, states map[cache.StateKey]*protocol.State) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		for k := range states {
			got = append(got, k.Stream)
		}
		return nil
	}, time.Minute)
	if err := sc.add(cache.StateKey{Source: "s", Stream: "a"}, streamState("a", 1), nil); err != nil {
		t.Fatal(err)
	}
	if err := sc.close(); err != nil || len(got) != 1 {
		t.Fatalf("close: %v, committed %v; want stream a committed", err, got)
	}
}

// An echo that comes after the grace period of a cancelled Write (a
// destination given a longer grace period of its own, still echoing while
// it stops) is not stored: its commit fails at once with the cancellation,
// and close says so, rather than commit past the bound.
func TestStateCommitterEchoAfterGrace(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sc := newStateCommitterGrace(ctx, func(ctx context.Context, _ map[cache.StateKey]*protocol.State) error {
		return context.Cause(ctx)
	}, time.Millisecond)
	<-sc.ctx.Done() // the grace period is over
	if err := sc.add(cache.StateKey{Source: "s", Stream: "a"}, streamState("a", 1), func() { t.Error("callback of a failed commit ran") }); err != nil {
		t.Fatal(err)
	}
	if err := sc.close(); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "did not end within") {
		t.Fatalf("close: %v; want the cancellation, with the grace period", err)
	}
}
