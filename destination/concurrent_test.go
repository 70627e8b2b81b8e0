package destination_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/cacheerr"
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
