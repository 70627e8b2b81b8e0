package cachetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/protocol"
)

// Damaged opens caches whose internal tables are in a shape today's code
// does not know: a column missing, a column it cannot fill (as a newer
// version might add), a table dropped by hand. Each must be refused at
// open with an error naming the table and what is wrong, before any load
// could read from the start or give a table to another source; an extra
// column the cache need not fill is harmless and loads go on. fresh
// returns a new target, open opens one.
func Damaged(t *testing.T, fresh func(t testing.TB) string, open func(ctx context.Context, target string) (*cache.Cache, error)) {
	ctx := context.Background()
	cat := Catalog(Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
	load := func(c *cache.Cache, source, id string) error {
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: source, Catalog: cat, Strategy: cache.StrategyAppend,
			Messages: Messages(Rec("users", `{"id":`+id+`}`), StreamState("users", `{"id":`+id+`}`))})
		return err
	}
	t.Run("a stream named like the format table", func(t *testing.T) {
		c, err := open(ctx, fresh(t))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cat := Catalog(Stream("_airbyte_cache_format", `{"format":{"type":"string"}}`, protocol.SyncFullRefresh, nil))
		_, err = c.Load(ctx, cache.LoadRequest{SourceName: "source-a", Catalog: cat, Messages: Messages(Rec("_airbyte_cache_format", `{"format":"x"}`))})
		if ne := (*cacheerr.NameError)(nil); !errors.As(err, &ne) {
			t.Fatalf("load: %v, want a *cacheerr.NameError", err)
		}
	})
	for _, tc := range []struct {
		name   string
		damage []string
		want   []string // in the error of the open; none: the open and a load work
	}{
		{"a column missing from the streams table", []string{`ALTER TABLE _airbyte_streams DROP COLUMN dedupe_from`}, []string{"_airbyte_streams", "dedupe_from"}},
		{"a column missing from the state table", []string{`ALTER TABLE _airbyte_state DROP COLUMN state_type`}, []string{"_airbyte_state", "state_type"}},
		{"a column the cache cannot fill", []string{`ALTER TABLE _airbyte_streams ADD COLUMN future VARCHAR DEFAULT 'x'`,
			`ALTER TABLE _airbyte_streams ALTER COLUMN future SET NOT NULL`, `ALTER TABLE _airbyte_streams ALTER COLUMN future DROP DEFAULT`}, []string{"_airbyte_streams", "future"}},
		{"a column the cache need not fill", []string{`ALTER TABLE _airbyte_state ADD COLUMN note VARCHAR`}, nil},
		{"the streams table dropped", []string{`DROP TABLE _airbyte_streams`}, []string{"_airbyte_streams", "missing"}},
		{"the state table dropped", []string{`DROP TABLE _airbyte_state`}, []string{"_airbyte_state", "missing"}},
		{"both tables dropped, the format kept", []string{`DROP TABLE _airbyte_state`, `DROP TABLE _airbyte_streams`}, []string{"_airbyte_state", "missing"}},
		{"a newer format", []string{`UPDATE _airbyte_cache_format SET format = format + 1`}, []string{"_airbyte_cache_format", "newer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := fresh(t)
			c, err := open(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			if err := load(c, "source-a", "1"); err != nil {
				t.Fatal(err)
			}
			for _, q := range tc.damage {
				if _, err := c.ExecSQL(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			c.Close()
			c, err = open(ctx, target)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				defer c.Close()
				if err := load(c, "source-a", "2"); err != nil {
					t.Fatalf("load: %v", err)
				}
				Equal(t, "users", Strings(t, c, `SELECT CAST(id AS VARCHAR) FROM users ORDER BY id`), []string{"1", "2"})
				return
			}
			if err == nil {
				defer c.Close()
				errB := load(c, "source-b", "3")
				t.Fatalf("the damaged cache opened (then another source's load: %v; users: %v)", errB,
					Strings(t, c, `SELECT CAST(id AS VARCHAR) FROM users ORDER BY id`))
			}
			t.Logf("refused: %v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("open: %v; want an error that says %q", err, w)
				}
			}
		})
	}
}
