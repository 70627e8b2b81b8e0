package source_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/envtest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

func openDuckDB(t testing.TB) *cache.Cache {
	t.Helper()
	c, err := cache.New(context.Background(), duckdb.NewConnector(filepath.Join(t.TempDir(), "read.duckdb")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// openPostgres opens a cache in a database of the test's own.
func openPostgres(t testing.TB) *cache.Cache {
	t.Helper()
	c, err := cache.New(context.Background(), postgres.NewConnector(testenv.Postgres(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func fakerSource(t *testing.T, config map[string]any, opts ...connector.Option) *source.Source {
	t.Helper()
	opts = append([]connector.Option{connector.WithLocalExecutable(testenv.BuildBinary(t, "./cmd/source-faker")), connector.WithConfig(config)}, opts...)
	src, err := source.New(context.Background(), "source-faker", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func count(t *testing.T, ctx context.Context, res *source.ReadResult, stream string) int64 {
	t.Helper()
	ds, err := res.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ds.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReadIncrementalTwice reads users and purchases into DuckDB, then
// reads again with a larger count: the second read passes the committed
// state and adds only the new rows.
func TestReadIncrementalTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openDuckDB(t)
	src := fakerSource(t, map[string]any{"count": 300, "seed": 7, "records_per_slice": 50, "always_updated": false},
		connector.WithStreams("users", "purchases"))

	res, err := src.Read(ctx, source.UseCache(c))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.ProcessedStreams(); len(got) != 2 || got[0] != "users" || got[1] != "purchases" {
		t.Fatalf("processed streams %v, want [users purchases]", got)
	}
	if res.StreamRecords()["users"] != 300 || res.RecordsProcessed() != 300+res.StreamRecords()["purchases"] {
		t.Fatalf("records processed %d %v", res.RecordsProcessed(), res.StreamRecords())
	}
	if n := count(t, ctx, res, "users"); n != 300 {
		t.Fatalf("users in the cache: %d, want 300", n)
	}
	if res.SourceName() != "source-faker" || res.Cache() != c {
		t.Fatalf("result names %q and cache %v", res.SourceName(), res.Cache())
	}
	var nf *protocol.StreamNotFoundError
	if _, err := res.Stream(ctx, "products"); !errors.As(err, &nf) {
		t.Fatalf("a stream that was not read: got %v, want a *StreamNotFoundError", err)
	}
	// The source has the stream: the message must not say it has none,
	// but that this read did not get it.
	if msg := nf.Error(); !strings.Contains(msg, "read of source-faker") {
		t.Errorf("a stream the source has but the read did not get: %q; want it to name the read", msg)
	}
	state, err := c.SourceState(ctx, "source-faker", nil)
	if err != nil || state == nil {
		t.Fatalf("no state committed after the first read: %s, %v", state, err)
	}

	if err := src.SetConfig(map[string]any{"count": 500, "seed": 7, "records_per_slice": 50, "always_updated": false}); err != nil {
		t.Fatal(err)
	}
	res2, err := src.Read(ctx, source.UseCache(c))
	if err != nil {
		t.Fatal(err)
	}
	if got := res2.StreamRecords()["users"]; got != 200 {
		t.Fatalf("second read loaded %d users, want only the 200 new ones", got)
	}
	if n := count(t, ctx, res2, "users"); n != 500 {
		t.Fatalf("users in the cache after the second read: %d, want 500", n)
	}
	ds, _ := res2.Stream(ctx, "users")
	if n, err := ds.Where("id > ?", 300).Count(ctx); err != nil || n != 200 {
		t.Fatalf("users with id > 300: %d, %v", n, err)
	}

	// A full refresh reads everything again; merge keeps one row per id.
	res3, err := src.Read(ctx, source.UseCache(c), source.ForceFullRefresh(), source.Streams("users"))
	if err != nil {
		t.Fatal(err)
	}
	if res3.StreamRecords()["users"] != 500 || count(t, ctx, res3, "users") != 500 {
		t.Fatalf("full refresh: read %v, want 500 users and 500 rows", res3.StreamRecords())
	}
}

// TestReadAllStreamsByDefault reads with nothing selected: every stream of
// the catalog, into the default cache under the working directory.
func TestReadAllStreamsByDefault(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := envtest.New(t)
	src := fakerSource(t, map[string]any{"count": 20, "seed": 1}, connector.WithEnvironment(env))
	res, err := src.Read(ctx, source.Strategy(cache.StrategyAppend))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.ProcessedStreams(); len(got) != 3 {
		t.Fatalf("processed %v, want all three faker streams", got)
	}
	def, err := core.EnvOf(env).DefaultCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Cache() != def {
		t.Fatal("Read without a cache did not use the default cache")
	}
	dss, err := res.Streams(ctx)
	if err != nil || len(dss) != 3 {
		t.Fatalf("datasets %v, %v", dss, err)
	}
	for name, ds := range dss {
		n, err := ds.Count(ctx)
		if err != nil || n != 20 {
			t.Errorf("stream %s: %d rows, %v; want 20", name, n, err)
		}
	}
	if _, err := src.Read(ctx, source.Streams("nope")); !errors.As(err, new(*protocol.StreamNotFoundError)) {
		t.Fatalf("unknown stream: %v", err)
	}
}

// TestReadWithoutDefaultCache reads in an Environment that has no default
// cache (no package registered one, or connector.NewEnvironment made it):
// the error says which import and constructor add it, and nothing runs.
func TestReadWithoutDefaultCache(t *testing.T) {
	t.Parallel()
	src := fakerSource(t, map[string]any{"count": 5}, connector.WithEnvironment(connector.NewEnvironment()))
	_, err := src.Read(context.Background())
	if !strings.HasPrefix(err.Error(), "no default cache: ") || !strings.Contains(err.Error(), `github.com/x/goairbyte`) ||
		!strings.Contains(err.Error(), "source.UseCache") || !strings.Contains(err.Error(), "goairbyte.NewEnvironment") {
		// A program that imports the root package and made its Environment
		// with connector.NewEnvironment is told the constructor that wires
		// the default cache, not only the import it already has.
		t.Fatalf("want ErrNoDefaultCache naming the import, goairbyte.NewEnvironment and UseCache, got %v", err)
	}
}

// A Read cancelled while records flow into the cache says so, naming the
// source, with context.Canceled in its chain; not the pipe or socket error
// the cancellation caused on the way (item 28 of the hardening round).
// Its ReadResult comes with the error and counts what the cache kept, for
// a server's status of the read.
func TestReadCancelledSaysSo(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := fakerSource(t, map[string]any{"count": 1_000_000, "seed": 1}, connector.WithStreams("users"))
	res, err := src.Read(ctx, source.UseCache(openDuckDB(t)), source.WithProgress(progress.WithRenderer(nil),
		progress.WithListener(func(s progress.Snapshot) {
			if s.Total.RecordsRead > 0 {
				cancel()
			}
		})))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if res == nil {
		t.Fatal("no ReadResult with the error")
	}
	if kept := count(t, context.Background(), res, "users"); res.StreamRecords()["users"] != kept {
		t.Errorf("StreamRecords %v, the cache kept %d users", res.StreamRecords(), kept)
	}
	msg := err.Error()
	for _, want := range []string{"source-faker", "cancelled"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q: %s", want, msg)
		}
	}
	for _, noise := range []string{"closed network connection", "broken pipe", "file already closed"} {
		if strings.Contains(msg, noise) {
			t.Errorf("the error carries %q: %s", noise, msg)
		}
	}
}

// TestStreamNamedTwice: a stream named twice, not next to each other, is
// read once — in Streams, in SelectStreams and in WithStreams — instead of
// being configured twice, which the cache refused as two streams of one
// name.
func TestStreamNamedTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := map[string]any{"count": 20, "seed": 1}
	twice := []string{"users", "products", "users"}

	src := fakerSource(t, cfg)
	res, err := src.Read(ctx, source.UseCache(openDuckDB(t)), source.Streams(twice...))
	if err != nil {
		t.Fatalf("Streams(%q): %v", twice, err)
	}
	if got := res.ProcessedStreams(); len(got) != 2 || res.StreamRecords()["users"] != 20 {
		t.Fatalf("Streams(%q): processed %v, records %v; want users and products once", twice, got, res.StreamRecords())
	}

	if err := src.SelectStreams(ctx, twice...); err != nil {
		t.Fatal(err)
	}
	if got, err := src.SelectedStreams(ctx); err != nil || len(got) != 2 {
		t.Fatalf("SelectStreams(%q): selected %v, %v; want users and products", twice, got, err)
	}
	if _, err := src.Read(ctx, source.UseCache(openDuckDB(t))); err != nil {
		t.Fatalf("SelectStreams(%q) then Read: %v", twice, err)
	}

	at := fakerSource(t, cfg, connector.WithStreams(twice...))
	if got, err := at.SelectedStreams(ctx); err != nil || len(got) != 2 {
		t.Fatalf("WithStreams(%q): selected %v, %v; want users and products", twice, got, err)
	}
}

// UseCache(nil) — a cache variable a failed open left nil — is refused: it
// read into the Environment's default cache, a file in the working
// directory the program never named.
func TestReadUseCacheNil(t *testing.T) {
	t.Parallel()
	src := fakerSource(t, map[string]any{"count": 5}, connector.WithEnvironment(connector.NewEnvironment()))
	var c *cache.Cache
	_, err := src.Read(context.Background(), source.UseCache(c))
	if !errors.Is(err, connector.ErrInvalidOption) || !strings.Contains(err.Error(), "source.UseCache: it got a nil *cache.Cache") {
		t.Fatalf("want an error naming the nil cache, got %v", err)
	}
}
