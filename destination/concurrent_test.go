package destination_test

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/secretstest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// Writes from one cache into several destinations at once, as a server
// fanning one sync out does: each destination gets every record once, its
// own state advances, and a second round sends nothing.
func TestConcurrentWritesFromOneCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openCache(t)
	const users = 300
	rr, err := newFaker(t, users, "users").Read(ctx, source.UseCache(c))
	if err != nil {
		t.Fatal(err)
	}
	dirs := make([]string, 4)
	dsts := make([]*destination.Destination, len(dirs))
	for i := range dirs {
		dirs[i] = t.TempDir()
		dsts[i] = newLocalJSON(t, dirs[i], nil)
	}
	write := func(round int, want int64) {
		results := make([]*destination.WriteResult, len(dsts))
		errs := make([]error, len(dsts))
		var wg sync.WaitGroup
		for i, d := range dsts {
			wg.Go(func() { results[i], errs[i] = d.Write(ctx, rr, destination.Strategy(cache.StrategyAppend)) })
		}
		wg.Wait()
		keys := map[string]bool{}
		for i, res := range results {
			if errs[i] != nil {
				t.Fatalf("round %d, destination %d: %v", round, i, errs[i])
			}
			if res.RecordsSent["users"] != want || res.RecordsConfirmed["users"] != want {
				t.Errorf("round %d, destination %d: sent %v, confirmed %v, want %d", round, i, res.RecordsSent, res.RecordsConfirmed, want)
			}
			if keys[res.DestinationKey] {
				t.Errorf("two destinations share the key %s", res.DestinationKey)
			}
			keys[res.DestinationKey] = true
		}
	}
	write(1, users)
	write(2, 0)
	for i, dir := range dirs {
		n, ids := fileIDs(t, dir, "users")
		if n != users {
			t.Errorf("destination %d got %d lines, want %d", i, n, users)
		}
		wantOnce(t, ids, users)
	}
}

// Writes of one Source through one cache into two destinations at once:
// the source's reads into the cache run one at a time, so a Write either
// completes or is refused with an *InUseError before it sends anything.
func TestConcurrentWritesOfOneSource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openCache(t)
	const users = 200
	src := newFaker(t, users, "users")
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	errs := make([]error, len(dirs))
	results := make([]*destination.WriteResult, len(dirs))
	var wg sync.WaitGroup
	for i, dir := range dirs {
		d := newLocalJSON(t, dir, nil)
		wg.Go(func() { results[i], errs[i] = d.Write(ctx, src, destination.UseCache(c)) })
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		var inUse *cacheerr.InUseError
		if errors.As(err, &inUse) {
			if results[i] != nil && results[i].TotalSent() != 0 {
				t.Errorf("destination %d was refused after sending %d records", i, results[i].TotalSent())
			}
			continue
		}
		if err != nil {
			t.Fatalf("destination %d: %v", i, err)
		}
		ok++
		if n, ids := fileIDs(t, dirs[i], "users"); n != users {
			t.Errorf("destination %d got %d lines, want %d", i, n, users)
		} else {
			wantOnce(t, ids, users)
		}
	}
	if ok == 0 {
		t.Fatal("no Write succeeded")
	}
	t.Logf("%d of %d concurrent Writes of one Source ran; the others were refused", ok, len(dirs))
}

// gateDest is a destination that counts the records it gets and echoes
// every state; its first Write waits, once started, until release is
// closed, so that a test can run a second Write while the first runs.
type gateDest struct {
	started, release chan struct{}
	calls            atomic.Int32
	mu               sync.Mutex
	records          int
}

func (g *gateDest) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (g *gateDest) Check(context.Context, json.RawMessage) error { return nil }

func (g *gateDest) Write(ctx context.Context, _ json.RawMessage, _ *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	if g.calls.Add(1) == 1 {
		close(g.started)
		<-g.release
	}
	for m, err := range input {
		if err != nil {
			return err
		}
		switch m.Type {
		case protocol.TypeRecord:
			g.mu.Lock()
			g.records++
			g.mu.Unlock()
		case protocol.TypeState:
			if err := emit(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// Two Writes of one source into one destination (one state key) at once,
// as two workers sharing a PostgreSQL cache run them: each would send
// every row the destination has not confirmed, so under append the
// destination got them twice. The second is refused with an error
// matching cache.ErrInUse before it sends anything.
func TestConcurrentWritesToOneDestination(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openCache(t)
	const users = 50
	rr, err := newFaker(t, users, "users").Read(ctx, source.UseCache(c))
	if err != nil {
		t.Fatal(err)
	}
	gate := &gateDest{started: make(chan struct{}), release: make(chan struct{})}
	d, err := destination.New(ctx, "destination-gate", connector.WithGoConnector(gate), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	var first *destination.WriteResult
	var firstErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		first, firstErr = d.Write(ctx, rr, destination.Strategy(cache.StrategyAppend))
	}()
	<-gate.started
	second, err := d.Write(ctx, rr, destination.Strategy(cache.StrategyAppend))
	close(gate.release)
	<-done
	if firstErr != nil {
		t.Fatalf("the first Write: %v", firstErr)
	}
	if !errors.Is(err, cache.ErrInUse) || !strings.Contains(err.Error(), "destination-gate") {
		t.Errorf("the second Write, while the first ran: sent %v, %v; want an error matching cache.ErrInUse naming the destination", second, err)
	}
	if first.TotalSent() != users || gate.records != users {
		t.Fatalf("the first Write sent %d records and the destination got %d in all, want %d", first.TotalSent(), gate.records, users)
	}
	// Once the first is done, the next Write runs, with nothing new to send.
	if res, err := d.Write(ctx, rr, destination.Strategy(cache.StrategyAppend)); err != nil || res.TotalSent() != 0 {
		t.Fatalf("a Write after the first: sent %v, %v; want nothing and no error", res, err)
	}
}

// A Write whose lock's session ended (pg_terminate_backend, a cut
// connection), while its destination had yet to echo a state, cannot
// store that state once the next Write took the lock: before, it landed
// after the next Write's last state and took the destination's state
// back, so that a third Write sent again what the second had confirmed.
// The workers keep the destination's state in one PostgreSQL database.
func TestWriteFencedOnceItsLockIsLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const users = destination.StateInterval + 1 // states after 10,000 and at the end
	rr, err := newFaker(t, users, "users").Read(ctx, source.UseCache(openCache(t)))
	if err != nil {
		t.Fatal(err)
	}
	dsn := testenv.Postgres(t)
	var states [2]*cache.Cache // the two workers'
	for i := range states {
		if states[i], err = cache.New(ctx, postgres.NewConnector(dsn)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { states[i].Close() })
	}
	fd := &fenceDest{held: make(chan struct{}), release: make(chan struct{})}
	d, err := destination.New(ctx, "destination-fence", connector.WithGoConnector(fd), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	write := func(c *cache.Cache) (*destination.WriteResult, error) {
		return d.Write(ctx, rr, destination.StateCache(c), destination.StateKey("k"), destination.Strategy(cache.StrategyAppend))
	}
	var errA error
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, errA = write(states[0])
	}()
	<-fd.held
	if !testenv.EndLockSessions(t, dsn) {
		close(fd.release)
		<-done
		t.FailNow()
	}
	second, err := write(states[1])
	close(fd.release)
	<-done
	if err != nil || second.TotalConfirmed() != users {
		t.Fatalf("the second worker's Write: confirmed %d records, %v; want %d", second.TotalConfirmed(), err, users)
	}
	if errA == nil || !strings.Contains(errA.Error(), "was lost") || !strings.Contains(errA.Error(), "write again") {
		t.Errorf("the Write that lost its lock returned %v, want an error saying the lock was lost and to write again", errA)
	}
	if third, err := write(states[1]); err != nil || third.TotalSent() != 0 {
		t.Errorf("a third Write after the second: sent %v, %v; want nothing and no error", third.RecordsSent, err)
	}
}

// fenceDest is a destination that echoes every state, except in its first
// Write: there it holds its first echo until release is closed (held is
// closed meanwhile), and stops after it, as a worker stopped once it lost
// its lock.
type fenceDest struct {
	held, release chan struct{}
	calls         atomic.Int32
}

func (f *fenceDest) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (f *fenceDest) Check(context.Context, json.RawMessage) error { return nil }

func (f *fenceDest) Write(ctx context.Context, _ json.RawMessage, _ *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	first := f.calls.Add(1) == 1
	for m, err := range input {
		if err != nil {
			return err
		}
		if m.Type != protocol.TypeState {
			continue
		}
		if first {
			close(f.held)
			<-f.release
		}
		if err := emit(m); err != nil {
			return err
		}
		if first {
			return errors.New("stopped after its first echo")
		}
	}
	return nil
}

// Two tenants' Environments used at once from many goroutines, as a
// server syncing for several customers does: each Environment's secret
// manager gives the same secret name its own value, and a Write may take
// its source from one tenant and its destination from the other, both
// configs naming that secret. Every
// connector run gets the values of its own Environment, never the other
// tenant's (the operation shares resolved secrets only within one
// Environment), and each Write sends its records.
func TestTwoEnvironmentsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tenants := []string{"alpha", "beta"}
	envs := make([]*connector.Environment, len(tenants))
	for i, name := range tenants {
		envs[i] = connector.NewEnvironment()
		envs[i].AddSecretManager(secretstest.NewCountingManager(map[string]string{"KEY": name + "-key"}))
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for round := range 3 {
				s, d := (g+round)%2, (g/2+round)%2
				srcRuns, dstRuns := &configNoter{key: "token"}, &configNoter{key: "password"}
				src, err := source.New(ctx, "source-token", connector.WithEnvironment(envs[s]), connector.WithGoConnector(tokenSource{srcRuns}),
					connector.WithConfig(map[string]any{"token": "secret_reference::KEY"}))
				if err != nil {
					t.Error(err)
					return
				}
				dst, err := destination.New(ctx, "destination-password", connector.WithEnvironment(envs[d]),
					connector.WithGoConnector(passwordDestination{dstRuns}),
					connector.WithConfig(map[string]any{"password": "secret_reference::KEY"}))
				if err != nil {
					t.Error(err)
					return
				}
				opts := []destination.WriteOption{destination.NoCache(), destination.NoStateCache()}
				if g%4 == 0 {
					opts = []destination.WriteOption{destination.UseCache(openCache(t))}
				}
				res, err := dst.Write(ctx, src, opts...)
				if err != nil {
					t.Errorf("goroutine %d round %d: %v", g, round, err)
					return
				}
				if res.TotalSent() != 2 {
					t.Errorf("goroutine %d round %d: sent %v, want 2 records", g, round, res.RecordsSent)
				}
				for _, run := range srcRuns.runs() {
					if run != tenants[s]+"-key" {
						t.Errorf("goroutine %d round %d: %s's source ran with %q (runs %q)", g, round, tenants[s], run, srcRuns.runs())
					}
				}
				for _, run := range dstRuns.runs() {
					if run != tenants[d]+"-key" {
						t.Errorf("goroutine %d round %d: %s's destination ran with %q (runs %q)", g, round, tenants[d], run, dstRuns.runs())
					}
				}
				if len(srcRuns.runs()) == 0 || len(dstRuns.runs()) == 0 {
					t.Errorf("goroutine %d round %d: source runs %q, destination runs %q", g, round, srcRuns.runs(), dstRuns.runs())
				}
			}
		})
	}
	wg.Wait()
}

// A Write whose lock's session ended (pg_terminate_backend, a cut
// connection) stops at once, with an error saying the lock was lost:
// before, it went on sending records until its destination echoed a
// state, which it then failed to store, while the next Write, which the
// lost lock let in, sent those records too.
func TestWriteStopsOnceItsLockIsLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const users = 50
	rr, err := newFaker(t, users, "users").Read(ctx, source.UseCache(openCache(t)))
	if err != nil {
		t.Fatal(err)
	}
	dsn := testenv.Postgres(t)
	states, err := cache.New(ctx, postgres.NewConnector(dsn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { states.Close() })
	sd := &stallDest{stalled: make(chan struct{}), release: make(chan struct{})}
	d, err := destination.New(ctx, "destination-stall", connector.WithGoConnector(sd), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	var errA error
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, errA = d.Write(ctx, rr, destination.StateCache(states), destination.StateKey("k"), destination.Strategy(cache.StrategyAppend))
	}()
	<-sd.stalled
	if !testenv.EndLockSessions(t, dsn) {
		close(sd.release)
		<-done
		t.FailNow()
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		close(sd.release)
		<-done
		t.Fatalf("the Write went on after its lock was lost, its destination given %d records of %d, and returned %v", sd.records.Load(), users, errA)
	}
	if errA == nil || !strings.Contains(errA.Error(), "was lost") || !strings.Contains(errA.Error(), "write again") {
		t.Errorf("the Write that lost its lock returned %v, want an error saying the lock was lost and to write again", errA)
	}
}

// stallDest is a destination that, in its first Write, stops after the
// first record (stalled is closed then) until it is cancelled or release
// is closed, then takes the rest; it counts the records it was given.
type stallDest struct {
	stalled, release chan struct{}
	calls            atomic.Int32
	records          atomic.Int64
}

func (s *stallDest) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (s *stallDest) Check(context.Context, json.RawMessage) error { return nil }

func (s *stallDest) Write(ctx context.Context, _ json.RawMessage, _ *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	first := s.calls.Add(1) == 1
	for m, err := range input {
		if err != nil {
			return err
		}
		if m.Type != protocol.TypeRecord {
			continue
		}
		if s.records.Add(1) == 1 && first {
			close(s.stalled)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-s.release:
			}
		}
	}
	return nil
}
