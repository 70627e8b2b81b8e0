package goairbyte_test

import (
	"context"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/testenv"
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
