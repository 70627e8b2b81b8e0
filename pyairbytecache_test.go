package goairbyte_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// TestPyAirbyteDefaultCache: the first read of a PyAirbyte user after the
// switch, into the default cache, whose path is PyAirbyte's default
// cache's. The read fails naming PyAirbyte, SetCacheDir and UseCache, and
// leaves PyAirbyte's file as it was; given another directory, the read
// goes there; and a cache given PyAirbyte's
// stored states (read with SQL, loaded as STATE messages) continues the
// incremental read from PyAirbyte's position: source-faker (always_updated
// false), which PyAirbyte read to its 5th user, reads users 6 to 8 of 8,
// not 1 to 8.
func TestPyAirbyteDefaultCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	file := filepath.Join(root, "default_cache", "default_cache.duckdb")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	raw := func() *sql.DB { return cachetest.RawDB("duckdb")(t, file) }
	db := raw()
	cachetest.WritePyAirbyteCache(t, db, "main", true)
	// Airbyte's source-faker's state after a read of 5 users, as
	// PyAirbyte's SqlStateWriter stores it (see WritePyAirbyteCache): it
	// deletes the row of the table name first, whatever its source.
	if _, err := db.Exec(`DELETE FROM _airbyte_state WHERE table_name = 'users'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO _airbyte_state VALUES ('source-faker', 'users', 'users', '{"type":"STREAM","stream":{"stream_descriptor":{"name":"users","namespace":null},` +
		`"stream_state":{"seed":1,"updated_at":"2026-11-21T14:01:44+00:00","loop_offset":5}},"global_":null,"data":null,"sourceStats":{"recordCount":5.0},"destinationStats":null}', now())`); err != nil {
		t.Fatal(err)
	}
	before := cachetest.PyAirbyteSnapshot(t, db, "main")
	db.Close()

	env := goairbyte.NewEnvironment()
	env.SetCacheDir(root)
	src, err := goairbyte.GetSource(ctx, "source-faker", connector.WithEnvironment(env),
		connector.WithConfig(map[string]any{"count": 5, "seed": 1}), connector.WithStreams("users"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Read(ctx, source.NoProgress())
	for _, w := range []string{"PyAirbyte", "SetCacheDir", "UseCache", root} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Fatalf("read into PyAirbyte's default cache: %v; want an error that says %q", err, w)
		}
	}
	t.Log(err)
	db = raw()
	cachetest.Equal(t, "PyAirbyte's default cache after the read", cachetest.PyAirbyteSnapshot(t, db, "main"), before)
	db.Close()

	moved := t.TempDir()
	env.SetCacheDir(moved)
	if got, want := readFaker(t, env), filepath.Join(moved, "default_cache", "default_cache.duckdb"); got != want {
		t.Fatalf("the read went into %s, want %s", got, want)
	}

	// Continue from PyAirbyte's state, in a cache of goairbyte's.
	db = raw()
	var stateJSON string
	if err := db.QueryRow(`SELECT state_json FROM _airbyte_state WHERE source_name = 'source-faker' AND stream_name = 'users'`).Scan(&stateJSON); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var st protocol.State
	if err := json.Unmarshal([]byte(stateJSON), &st); err != nil {
		t.Fatal(err)
	}
	src, err = goairbyte.GetSource(ctx, "source-faker", connector.WithEnvironment(env),
		connector.WithConfig(map[string]any{"count": 8, "seed": 1, "always_updated": false}), connector.WithStreams("users"))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := src.ConfiguredCatalog(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := goairbyte.NewLocalCache(ctx, "continued", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-faker", Catalog: cat,
		Messages: cachetest.Messages(&protocol.Message{Type: protocol.TypeState, State: &st})}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Read(ctx, source.UseCache(c), source.NoProgress()); err != nil {
		t.Fatal(err)
	}
	cachetest.Equal(t, "users read after PyAirbyte's state", cachetest.Strings(t, c, `SELECT CAST(id AS VARCHAR) FROM users ORDER BY id`), []string{"6", "7", "8"})
}
