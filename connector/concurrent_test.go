package connector_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/registry"
)

// An Environment's setters race with connectors being built and run in it,
// as in a server whose tenants are configured while others sync: every
// connector resolves, its secret reference resolves through a manager
// added before it was built, and the default cache is opened once.
func TestEnvironmentSettersRaceWithConnectors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := offline(t)
	env.AddSecretManager(vault{"TOKEN": "goodtoken-concurrent"})
	env.RegisterConnector("destination-echo", func() any { return echoDest{} })
	dir := t.TempDir()
	env.SetCacheDir(dir)
	core.EnvOf(env).SetDefaultCache(func(ctx context.Context, dir string) (*cache.Cache, error) {
		return cache.New(ctx, duckdb.NewConnector(filepath.Join(dir, "default.duckdb")))
	})

	stop := make(chan struct{})
	var setters sync.WaitGroup
	setters.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			env.SetRegistry(registry.NewLoader(registry.WithOffline(true), registry.WithCacheDir("")))
			env.AddSecretManager(vault{fmt.Sprintf("OTHER_%d", i): "x"})
			env.SetLogger(slog.New(slog.DiscardHandler))
			env.SetProgress(progress.WithRenderer(nil))
			env.RegisterConnector(fmt.Sprintf("destination-other-%d", i), func() any { return echoDest{} })
			env.SetCacheDir(dir)
		}
	})
	var users sync.WaitGroup
	caches := make([]*cache.Cache, 8)
	for i := range caches {
		users.Go(func() {
			for range 5 {
				d, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(env),
					connector.WithConfig(map[string]any{"token": "secret_reference::TOKEN"}))
				if err != nil {
					t.Error(err)
					return
				}
				if err := d.Check(ctx); err != nil {
					t.Errorf("check: %v", err)
					return
				}
				_ = core.ConnOf(d).ProgressOptions(nil)
				_ = env.Registry()
			}
			c, err := core.EnvOf(env).DefaultCache(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			caches[i] = c
		})
	}
	users.Wait()
	close(stop)
	setters.Wait()
	for i, c := range caches {
		if c != caches[0] {
			t.Fatalf("goroutine %d got default cache %p, goroutine 0 %p: want one handle", i, c, caches[0])
		}
	}
	caches[0].Close()
}

// A CacheOpener may use its Environment (here, its logger) and what else
// the program does with the Environment goes on while the default cache
// opens: DefaultCache does not hold the Environment's lock meanwhile.
func TestDefaultCacheOpenerUsesTheEnvironment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := offline(t)
	env.SetCacheDir(t.TempDir())
	core.EnvOf(env).SetDefaultCache(func(ctx context.Context, dir string) (*cache.Cache, error) {
		env.Logger().Debug("opening the default cache", "dir", dir)
		return cache.New(ctx, duckdb.NewConnector(filepath.Join(dir, "default.duckdb")))
	})
	c, err := core.EnvOf(env).DefaultCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if again, err := core.EnvOf(env).DefaultCache(ctx); err != nil || again != c {
		t.Fatalf("second call: %p, %v; want the same handle %p", again, err, c)
	}
}

// The default cache may be closed by whoever uses it: the next
// DefaultCache opens the file again instead of handing out the closed
// handle.
func TestDefaultCacheClosedOpensAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := offline(t)
	env.SetCacheDir(t.TempDir())
	core.EnvOf(env).SetDefaultCache(func(ctx context.Context, dir string) (*cache.Cache, error) {
		return cache.New(ctx, duckdb.NewConnector(filepath.Join(dir, "default.duckdb")))
	})
	first, err := core.EnvOf(env).DefaultCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := core.EnvOf(env).DefaultCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again == first {
		t.Fatal("DefaultCache handed out the handle its user closed")
	}
	if _, err := again.Streams(ctx); err != nil {
		t.Fatalf("the reopened default cache does not work: %v", err)
	}
}
