package cache_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/internal/cachelink"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// cacheOps are the operations package cache gives package destination.
var cacheOps = cachelink.Get[*cache.Cache, *cache.Dataset, cache.StateKey]()

// eachBackend runs f, as parallel subtests, on a new cache of each backend.
func eachBackend(t *testing.T, f func(t *testing.T, c *cache.Cache)) {
	for name, open := range map[string]func(t *testing.T) cache.Connector{
		"duckdb": func(t *testing.T) cache.Connector {
			return duckdb.NewConnector(filepath.Join(t.TempDir(), "c.duckdb"))
		},
		"postgres": func(t *testing.T) cache.Connector { return postgres.NewConnector(testenv.Postgres(t)) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := cache.New(context.Background(), open(t))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			f(t, c)
		})
	}
}

func streamState(stream, v string) *protocol.State {
	return &protocol.State{Type: protocol.StateStream, Stream: &protocol.StreamState{
		StreamDescriptor: protocol.StreamDescriptor{Name: stream}, StreamState: json.RawMessage(v)}}
}

// PutStates stores every state in one call, each replacing what its key
// held, and refuses a whole-source state beside STREAM states of the same
// source and destination, storing nothing: which should survive depends
// on an order a map does not keep.
func TestPutStates(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *cache.Cache) {
		ctx := context.Background()
		key := func(stream string) cache.StateKey {
			return cache.StateKey{Source: "source-x", Destination: "destination-y", Stream: stream}
		}
		if err := cacheOps.PutStates(c, ctx, map[cache.StateKey]*protocol.State{key("a"): streamState("a", `{"n":0}`)}); err != nil {
			t.Fatal(err)
		}
		if err := cacheOps.PutStates(c, ctx, map[cache.StateKey]*protocol.State{
			key("a"): streamState("a", `{"n":1}`), key("b"): streamState("b", `{"n":2}`),
			{Source: "source-z", Destination: "destination-y"}: {Type: protocol.StateGlobal, Global: &protocol.GlobalState{SharedState: json.RawMessage(`{"g":1}`)}},
		}); err != nil {
			t.Fatal(err)
		}
		for stream, want := range map[string]string{"a": `{"n":1}`, "b": `{"n":2}`} {
			st, err := c.State(ctx, key(stream))
			if err != nil || st == nil || string(st.Stream.StreamState) != want {
				t.Fatalf("state of %s: %+v, %v; want %s", stream, st, err, want)
			}
		}
		err := cacheOps.PutStates(c, ctx, map[cache.StateKey]*protocol.State{
			key("a"): streamState("a", `{"n":3}`),
			key(""):  {Type: protocol.StateGlobal, Global: &protocol.GlobalState{SharedState: json.RawMessage(`{"g":2}`)}},
		})
		if err == nil || !strings.Contains(err.Error(), "separate calls") {
			t.Fatalf("both kinds of one source together: %v; want a refusal", err)
		}
		if st, err := c.State(ctx, key("a")); err != nil || string(st.Stream.StreamState) != `{"n":1}` {
			t.Fatalf("after the refusal, state of a: %+v, %v; want it unchanged", st, err)
		}
	})
}
