package goairbyte_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// TestNewPostgresCache reads the faker (on PATH, see TestMain) into a
// PostgreSQL cache opened through the facade, in a schema of its own.
func TestNewPostgresCache(t *testing.T) {
	ctx := context.Background()
	c, err := goairbyte.NewPostgresCache(ctx, testenv.Postgres(t), postgres.WithSchema("facade"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	src, err := goairbyte.GetSource(ctx, "source-faker",
		connector.WithConfig(map[string]any{"count": 30, "seed": 1}), connector.WithStreams("users"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := src.Read(ctx, source.UseCache(c), source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	users, err := res.Stream(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	if got := users.QualifiedTableName(); got != `"facade"."users"` {
		t.Errorf("table %s, want it in schema facade", got)
	}
	n, err := users.Count(ctx)
	if err != nil || n != 30 {
		t.Fatalf("users: %d rows, %v; want 30", n, err)
	}
}

// The cache's typed errors are caught through the facade's sentinels and
// aliases, as the README tells users to.
func TestCacheErrorsThroughTheFacade(t *testing.T) {
	ctx := context.Background()
	c, err := goairbyte.NewLocalCache(ctx, "errors", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	load := func(source string, stream protocol.ConfiguredStream, records ...*protocol.Message) error {
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: source, Catalog: cachetest.Catalog(stream), Messages: cachetest.Messages(records...)})
		return err
	}
	var ce *cacheerr.CollisionError
	if err := load("s", cachetest.Stream("users", `{"_airbyte_meta":{}}`, protocol.SyncFullRefresh, nil)); !errors.Is(err, goairbyte.ErrNameCollision) || !errors.As(err, &ce) {
		t.Errorf("reserved field: %v", err)
	}
	var ne *cacheerr.NameError
	if err := load("s", cachetest.Stream("日本", `{}`, protocol.SyncFullRefresh, nil)); !errors.Is(err, goairbyte.ErrInvalidName) || !errors.As(err, &ne) {
		t.Errorf("name: %v", err)
	}
	var se *cacheerr.StrategyError
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "s", Strategy: cache.StrategyMerge, Messages: cachetest.Messages(),
		Catalog: cachetest.Catalog(cachetest.Stream("users", `{}`, protocol.SyncFullRefresh, nil))}); !errors.Is(err, goairbyte.ErrStrategy) || !errors.As(err, &se) {
		t.Errorf("strategy: %v", err)
	} else if !strings.Contains(err.Error(), "Source.SetPrimaryKey") {
		t.Errorf("merge without a primary key: %v; want it to name Source.SetPrimaryKey", err)
	}
	// Replace on an incremental read: the error says which option asks
	// for the full refresh it needs.
	_, err = c.Load(ctx, cache.LoadRequest{SourceName: "s", Strategy: cache.StrategyReplace, Messages: cachetest.Messages(),
		Catalog: cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, nil, "id"))})
	if !errors.Is(err, goairbyte.ErrStrategy) || !strings.Contains(err.Error(), "source.ForceFullRefresh") {
		t.Errorf("incremental replace: %v; want an ErrStrategy that names source.ForceFullRefresh", err)
	}
	users := cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil)
	// A table is a source's once its load made it: one record does.
	if err := load("a", users, cachetest.Rec("users", `{"id":1}`)); err != nil {
		t.Fatal(err)
	}
	var oe *cacheerr.TableOwnerError
	if err := load("b", users); !errors.Is(err, goairbyte.ErrTableOwned) || !errors.As(err, &oe) {
		t.Errorf("owner: %v", err)
	} else if !strings.Contains(err.Error(), "Cache.Load") {
		// source.Read has no ShareTables: the remedy says where it is.
		t.Errorf("owner: %v; want the ShareTables remedy to say it is Cache.Load's", err)
	}
}
