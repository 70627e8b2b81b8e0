package source_test

import (
	"context"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/testconnectors/mixedstate"
	"github.com/x/goairbyte/source"
)

// TestReadKeepsAGlobalStateBesideStreamStates: a source that sends, in one
// read, a GLOBAL state for its CDC stream and a STREAM state for its
// full-refresh stream, as a version of Airbyte's bulk CDK did, is given
// the GLOBAL state back by the next read, on DuckDB and PostgreSQL: the
// CDC stream's append table gets its records once. The cache used to let
// the STREAM state, sent after it, replace the GLOBAL state, and the next
// read started the CDC stream over.
func TestReadKeepsAGlobalStateBesideStreamStates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		open func(t *testing.T) *cache.Cache
	}{
		{"duckdb", func(t *testing.T) *cache.Cache { return openDuckDB(t) }},
		{"postgres", func(t *testing.T) *cache.Cache { return openPostgres(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.open(t)
			src := mixedstate.NewSource(t)
			var res *source.ReadResult
			for range 2 {
				var err error
				if res, err = src.Read(ctx, source.UseCache(c), source.NoProgress()); err != nil {
					t.Fatal(err)
				}
			}
			if n := count(t, ctx, res, "users"); n != 2 {
				t.Errorf("users: %d rows after two reads, want 2: the second read was not given the CDC position", n)
			}
			if n := count(t, ctx, res, "pages"); n != 2 {
				t.Errorf("pages: %d rows, want 2 (replaced)", n)
			}
			st, err := c.SourceState(ctx, "source-mixedstate", []string{"users"})
			if err != nil || !strings.Contains(string(st), `"shared_state":{"lsn":2}`) {
				t.Errorf("state of users = %s (%v), want the GLOBAL state", st, err)
			}
		})
	}
}
