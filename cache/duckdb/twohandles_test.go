package duckdb_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// Two caches open on one DuckDB file in one process (DefaultCache and an
// Open of the same path, one by a relative path): a load of a source
// through one refuses a load of the same source through the other, as
// one cache refuses a second load of it, since both would write its
// records and race for its states. Another schema of the file is another
// cache, and loads there.
func TestTwoHandlesOnOneFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "two.duckdb")
	first, err := openPath(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	t.Chdir(dir)
	second, err := openPath(ctx, "two.duckdb")
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	// A third through a symbolic link to the file's directory.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	third, err := openPath(ctx, filepath.Join(link, "two.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	other, err := cache.Open(ctx, "duckdb://"+path+"?schema=other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	cat := cachetest.Catalog(cachetest.Stream("items", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
	started, release := make(chan struct{}), make(chan struct{})
	held := func(yield func(*protocol.Message, error) bool) {
		if yield(cachetest.Rec("items", `{"id":1}`), nil) {
			close(started)
			<-release
		}
	}
	done := make(chan error)
	go func() {
		_, err := first.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Messages: held})
		done <- err
	}()
	<-started
	_, err = second.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Messages: cachetest.Messages(cachetest.Rec("items", `{"id":2}`))})
	if !errors.Is(err, cache.ErrInUse) {
		t.Errorf("a load of the source through a second handle on the file: %v, want an error matching ErrInUse", err)
	}
	_, err = third.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Messages: cachetest.Messages(cachetest.Rec("items", `{"id":4}`))})
	if !errors.Is(err, cache.ErrInUse) {
		t.Errorf("a load of the source through a handle opened by a symbolic link: %v, want an error matching ErrInUse", err)
	}
	if _, err := other.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Messages: cachetest.Messages(cachetest.Rec("items", `{"id":3}`))}); err != nil {
		t.Errorf("a load of the source into another schema of the file: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := second.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Messages: cachetest.Messages(cachetest.Rec("items", `{"id":2}`))}); err != nil {
		t.Fatalf("a load through the second handle after the first: %v", err)
	}
}

// TestConcurrentOpensOfANewFile opens one new file from eight goroutines
// at once, thirty times: each open succeeds. DuckDB writes a new file's
// header while it opens it; before opens of one file were serialised in
// the process, about one round in eight had an open find the file empty
// ("is empty, not a DuckDB database file") or refused by DuckDB ("Unique
// file handle conflict").
func TestConcurrentOpensOfANewFile(t *testing.T) {
	t.Parallel()
	for round := range 30 {
		path := filepath.Join(t.TempDir(), "new.duckdb")
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := openPath(context.Background(), path)
				if err == nil {
					err = c.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, open %d of %d: %v", round, i, len(errs), err)
			}
		}
	}
}
