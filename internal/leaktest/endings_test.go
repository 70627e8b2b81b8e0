package leaktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/connectors/noop"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// The endings tests run each operation under each way it may end that the
// tests above leave out: a context cancelled before the operation began
// (during the spawn), or a moment into it (a sweep of delays that falls in
// the spawn, the first records and the load), iterators never ranged or
// broken out of at their first element, and Documents. Each ending is a row;
// a leak names the row.

// cancelDelays is when a read is cancelled after it began: during the
// spawn of a process, among its first records, and in the load.
var cancelDelays = []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond, 80 * time.Millisecond, 300 * time.Millisecond}

// ending is one way an operation ends; run fails t unless it ended so.
type ending struct {
	name string
	run  func(t *testing.T, src func(count int) *goairbyte.Source, c *cache.Cache)
}

// cancelledAfter reads 10 million faker records into c, cancelled d after
// the read began (d 0: before), and wants the context's error.
func cancelledAfter(d time.Duration) ending {
	return ending{"Read cancelled after " + d.String(), func(t *testing.T, src func(int) *goairbyte.Source, c *cache.Cache) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := src(10_000_000)
		if d == 0 {
			cancel()
		} else {
			time.AfterFunc(d, cancel)
		}
		if _, err := s.Read(ctx, source.UseCache(c), source.NoProgress()); !errors.Is(err, context.Canceled) {
			t.Fatalf("a read cancelled after %v: %v", d, err)
		}
	}}
}

// sourceEndings are the endings of a Source's operations.
func sourceEndings() []ending {
	var out []ending
	for _, d := range cancelDelays {
		out = append(out, cancelledAfter(d))
	}
	return append(out,
		ending{"Records and Documents never ranged", func(t *testing.T, src func(int) *goairbyte.Source, _ *cache.Cache) {
			ctx := context.Background()
			_ = src(10).Records(ctx, "users")
			_ = src(10).Documents(ctx, "users")
		}},
		ending{"Documents broken out of at the first", func(t *testing.T, src func(int) *goairbyte.Source, _ *cache.Cache) {
			for _, err := range src(10_000_000).Documents(context.Background(), "users") {
				if err != nil {
					t.Fatal(err)
				}
				break
			}
		}},
		ending{"Records cancelled by the loop at the first, ranged on", func(t *testing.T, src func(int) *goairbyte.Source, _ *cache.Cache) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var last error
			for _, err := range src(10_000_000).Records(ctx, "users") {
				cancel()
				last = err
			}
			if !errors.Is(last, context.Canceled) {
				t.Fatalf("Records cancelled: last %v", last)
			}
		}},
		ending{"Records with a context cancelled before", func(t *testing.T, src func(int) *goairbyte.Source, _ *cache.Cache) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			for _, err := range src(10).Records(ctx, "users") {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Records of a cancelled context: %v", err)
				}
			}
		}},
		ending{"a read's Documents and Records never ranged, broken out of", func(t *testing.T, src func(int) *goairbyte.Source, c *cache.Cache) {
			ctx := context.Background()
			res, err := src(100).Read(ctx, source.UseCache(c), source.NoProgress())
			if err != nil {
				t.Fatal(err)
			}
			_ = res.Documents(ctx, "users")
			for _, err := range res.Documents(ctx, "users") {
				if err != nil {
					t.Fatal(err)
				}
				break
			}
			ds, err := res.Stream(ctx, "users")
			if err != nil {
				t.Fatal(err)
			}
			_ = ds.Records(ctx)
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var last error
			for _, err := range ds.Records(cctx) {
				cancel()
				last = err
			}
			if last != nil && !errors.Is(last, context.Canceled) {
				t.Fatalf("a dataset's Records cancelled: %v", last)
			}
		}},
	)
}

// runEndings repeats every ending of sourceEndings n times, the source
// run the way opts say, into c.
func runEndings(t *testing.T, w *leakWatch, env *goairbyte.Environment, c *cache.Cache, n int, opts ...connector.Option) {
	src := func(count int) *goairbyte.Source { return leakFaker(t, env, count, opts...) }
	for _, e := range sourceEndings() {
		t.Run(e.name, func(t *testing.T) {
			w.t = t
			repeat(t, w, e.name, n, func(int) { e.run(t, src, c) })
		})
	}
}

// Every ending, in process, into DuckDB; then the DuckDB file, closed,
// opens again in this process and in another.
func TestLeakEndingsInProcess(t *testing.T) {
	if isolate(t) {
		return
	}
	w := watchLeaks(t)
	env := leakEnv(t)
	path := filepath.Join(t.TempDir(), "endings.duckdb")
	c, err := cache.New(context.Background(), duckdb.NewConnector(path))
	if err != nil {
		t.Fatal(err)
	}
	runEndings(t, w, env, c, 3)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	reopens(t, path)
}

// Every ending, by a local executable, into PostgreSQL: no session and no
// advisory lock stays.
func TestLeakEndingsLocalPostgres(t *testing.T) {
	if isolate(t, sharedPostgres(t)) {
		return
	}
	bin := testenv.BuildBinary(t, "./cmd/source-faker")
	dsn := testenv.Postgres(t)
	w := watchLeaks(t).withPostgres(dsn)
	runEndings(t, w, leakEnv(t), leakPostgres(t, dsn), 3, connector.WithLocalExecutable(bin))
}

// The reads cancelled during a Docker container's start and its first
// records, and a read whose image cannot be pulled.
func TestLeakEndingsDocker(t *testing.T) {
	if isolate(t) {
		return
	}
	cli := testenv.Docker(t)
	image := testenv.FakerImage(t, cli)
	w := watchLeaks(t).withDocker()
	env := leakEnv(t)
	c := leakDuckDB(t)
	src := func(count int) *goairbyte.Source { return leakFaker(t, env, count, connector.WithDockerImage(image)) }
	repeat(t, w, "Docker reads cancelled before they began and 5 ms to 1 s after, and of an image no registry has", 1, func(int) {
		for _, d := range []time.Duration{0, 5 * time.Millisecond, 80 * time.Millisecond, 300 * time.Millisecond, time.Second} {
			cancelledAfter(d).run(t, src, c)
		}
		// Its pull fails: the registry's port refuses.
		unpulled := leakFaker(t, env, 10, connector.WithDockerImage("127.0.0.1:1/goairbyte-test/unpulled:0.1.0"))
		if _, err := unpulled.Read(context.Background(), source.UseCache(c), source.NoProgress()); err == nil {
			t.Fatal("a read of an image that cannot be pulled succeeded")
		}
	})
}

// reopens checks that the DuckDB file at path, closed, opens again in this
// process and in another (this test binary again, see testMain).
func reopens(t *testing.T, path string) {
	t.Helper()
	c, err := cache.New(context.Background(), duckdb.NewConnector(path))
	if err != nil {
		t.Fatalf("the DuckDB file, closed, does not open again in this process: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), openDuckDBEnv+"="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the DuckDB file, closed, does not open in another process: %v\n%s", err, out)
	}
}

// openDuckDBEnv names a DuckDB file the test binary, started with it,
// opens as a cache and closes, instead of running tests.
const openDuckDBEnv = "GOAIRBYTE_LEAKTEST_OPEN_DUCKDB"

// openDuckDB opens the DuckDB file at path as a cache and closes it.
func openDuckDB(path string) error {
	c, err := cache.New(context.Background(), duckdb.NewConnector(path))
	if err != nil {
		return err
	}
	return c.Close()
}

// itemsSource is an in-process source of base.Items' stream, items, whose
// read emits n records and a state, calling at(i) before the i-th record
// and end() once the last message went out.
func itemsSource(t *testing.T, env *goairbyte.Environment, n int, at func(i int), end func()) *goairbyte.Source {
	t.Helper()
	read := base.Reader(func(ctx context.Context, _ base.Config, emit func(*protocol.Message) error) error {
		for i := range n {
			at(i)
			if err := emit(base.Record(fmt.Sprintf(`{"id":%d}`, i))); err != nil {
				return err
			}
		}
		if err := emit(base.State(n)); err != nil {
			return err
		}
		end()
		return nil
	})
	src, err := goairbyte.GetSource(context.Background(), "source-items", connector.WithEnvironment(env), connector.WithGoConnector(read),
		connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// Reads whose cache fails under them, and reads cancelled as their source
// ends (during the last flush and the final commit): a DuckDB file on a
// disk that fills, a PostgreSQL cache whose sessions the server ends
// mid-load. Then the DuckDB file opens again, here and in another process.
func TestLeakCacheFailures(t *testing.T) {
	if isolate(t, sharedPostgres(t)) {
		return
	}
	dsn := testenv.Postgres(t)
	w := watchLeaks(t).withPostgres(dsn)
	env := leakEnv(t)
	ctx := context.Background()
	tiny := testenv.SmallDisk(t, "4m")
	t.Setenv("AIRBYTE_TEMP_DIR", tiny)
	full := filepath.Join(tiny, "full.duckdb")
	ends := filepath.Join(t.TempDir(), "ends.duckdb")
	pc := leakPostgres(t, dsn)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	nothing := func(int) {}
	rows := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"a read into DuckDB on a disk that fills", func(t *testing.T) {
			c, err := cache.New(ctx, duckdb.NewConnector(full))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := leakFaker(t, env, 1_000_000).Read(ctx, source.UseCache(c), source.NoProgress()); !errors.Is(err, cache.ErrDiskFull) {
				t.Fatalf("a read into a full disk: %v", err)
			}
			// The load spools there too (AIRBYTE_TEMP_DIR), and fills it
			// first: nothing of it may stay.
			entries, _ := os.ReadDir(tiny)
			for _, e := range entries {
				if e.Name() != filepath.Base(full) && e.Name() != filepath.Base(full)+".wal" {
					t.Errorf("left on the full disk: %s", e.Name())
				}
			}
		}},
		{"a read into PostgreSQL whose sessions the server ends mid-load", func(t *testing.T) {
			kill := func(i int) {
				if i == 2_000 {
					if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
						WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`); err != nil {
						t.Error(err)
					}
				}
			}
			if _, err := itemsSource(t, env, 5_000, kill, func() {}).Read(ctx, source.UseCache(pc), source.NoProgress()); err == nil {
				t.Fatal("a read whose cache sessions ended succeeded")
			}
		}},
		{"reads cancelled as their source ends, into DuckDB and PostgreSQL", func(t *testing.T) {
			dc, err := cache.New(ctx, duckdb.NewConnector(ends))
			if err != nil {
				t.Fatal(err)
			}
			defer dc.Close()
			for _, c := range []*cache.Cache{dc, pc} {
				cctx, cancel := context.WithCancel(ctx)
				_, err := itemsSource(t, env, 5_000, nothing, cancel).Read(cctx, source.UseCache(c), source.NoProgress())
				cancel()
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Fatalf("a read cancelled as its source ended: %v", err)
				}
			}
		}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			w.t = t
			repeat(t, w, r.name, 3, func(int) { r.run(t) })
		})
	}
	os.Remove(full) // room for the reopen
	os.Remove(full + ".wal")
	os.Unsetenv("AIRBYTE_TEMP_DIR")
	c, err := cache.New(ctx, duckdb.NewConnector(full))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := itemsSource(t, env, 10, nothing, func() {}).Read(ctx, source.UseCache(c), source.NoProgress()); err != nil {
		t.Fatal(err)
	}
	c.Close()
	reopens(t, full)
}

// A paged manifest-only source whose API fails on page 2 — an error status,
// a body that is not JSON — and reads of it
// cancelled before they began, and its Records never ranged: the engine's
// requests, pages and workers must all end.
func TestLeakManifestEndings(t *testing.T) {
	if isolate(t) {
		return
	}
	var mode atomic.Value // how page 2 answers
	mode.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("page") == "2" {
			switch mode.Load() {
			case "404":
				rw.WriteHeader(http.StatusNotFound)
			case "garbage":
				rw.Write([]byte("<html>not JSON</html>"))
				return
			}
		}
		rw.Write([]byte(`{"items":[{"id":1},{"id":2},{"id":3}]}`))
	}))
	t.Cleanup(srv.Close)
	manifest := itemsManifest(srv.URL, 3)
	w := watchLeaks(t)
	env := leakEnv(t)
	ctx := context.Background()
	c := leakDuckDB(t)
	src := func() *goairbyte.Source { return manifestSource(t, env, "source-failing-api", manifest) }
	repeat(t, w, "manifest reads failing on page 2, cancelled before they began, Records never ranged", 10, func(int) {
		for _, m := range []string{"404", "garbage"} {
			mode.Store(m)
			if _, err := src().Read(ctx, source.UseCache(c), source.NoProgress()); err == nil {
				t.Fatalf("a read whose page 2 is %s succeeded", m)
			}
		}
		mode.Store("")
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := src().Read(cctx, source.UseCache(c), source.NoProgress()); !errors.Is(err, context.Canceled) {
			t.Fatalf("a read cancelled before it began: %v", err)
		}
		_ = src().Records(ctx, "items")
	})
}

// sweepEnv, set to 1, runs TestLeakCancelSweep: reads cancelled every
// 10 ms from their start to a second in, by a local executable and a Docker
// container, each of the hundred points twice (the warm-up and the run):
// 400 reads, 281 s on a 2-core machine shared with other work.
const sweepEnv = "GOAIRBYTE_LEAK_SWEEP"

// The wide sweep of TestLeakEndingsLocalPostgres's and
// TestLeakEndingsDocker's cancellations: every 10 ms of a read's first
// second, where a container is created, attached, started and first read.
func TestLeakCancelSweep(t *testing.T) {
	if isolate(t) {
		return
	}
	if os.Getenv(sweepEnv) != "1" {
		t.Skipf("set %s=1 to cancel reads every 10 ms of their first second (about five minutes)", sweepEnv)
	}
	bin := testenv.BuildBinary(t, "./cmd/source-faker")
	cli := testenv.Docker(t)
	image := testenv.FakerImage(t, cli)
	w := watchLeaks(t).withDocker()
	env := leakEnv(t)
	c := leakDuckDB(t)
	for _, way := range []connector.Option{connector.WithLocalExecutable(bin), connector.WithDockerImage(image)} {
		src := func(count int) *goairbyte.Source { return leakFaker(t, env, count, way) }
		repeat(t, w, "reads cancelled every 10 ms of their first second", 1, func(int) {
			for d := time.Duration(0); d < time.Second; d += 10 * time.Millisecond {
				cancelledAfter(d).run(t, src, c)
			}
		})
	}
}

// failingDest is an in-process destination that fails at the first record
// it is given. (It does not embed noop.Destination, whose WriteLines the
// executor would call instead of Write.)
type failingDest struct{}

func (failingDest) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	return noop.Destination{}.Spec(ctx)
}

func (failingDest) Check(context.Context, json.RawMessage) error { return nil }

func (failingDest) Write(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	for m, err := range input {
		if err != nil {
			return err
		}
		if m.Type == protocol.TypeRecord {
			return errors.New("the warehouse refused the record")
		}
	}
	return nil
}

// Writes that fail: a destination that fails at its first record, in
// process and as a local executable whose output path is a file, from a
// cache and streamed from a source; and streamed writes whose source fails
// (a TRACE ERROR, an exit with an error) while the destination runs.
func TestLeakWriteFailures(t *testing.T) {
	if isolate(t) {
		return
	}
	jsonBin := testenv.BuildBinary(t, "./cmd/destination-local-json")
	twowayBin := testenv.BuildBinary(t, "./internal/testconnectors/twoway/source-twoway")
	w := watchLeaks(t)
	env := leakEnv(t)
	env.RegisterConnector("destination-failing", func() any { return failingDest{} })
	ctx := context.Background()
	c := leakDuckDB(t)
	read, err := leakFaker(t, env, 1_000).Read(ctx, source.UseCache(c), source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dest := func(name string, opts ...connector.Option) *goairbyte.Destination {
		d, err := goairbyte.GetDestination(ctx, name, append([]connector.Option{connector.WithEnvironment(env)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	failing := []*goairbyte.Destination{
		dest("destination-failing", connector.WithConfig(map[string]any{})),
		dest("destination-local-json", connector.WithLocalExecutable(jsonBin), connector.WithConfig(map[string]any{"destination_path": filepath.Join(notADir, "out")})),
	}
	out := t.TempDir()
	good := dest("destination-local-json", connector.WithLocalExecutable(jsonBin), connector.WithConfig(map[string]any{"destination_path": out}))
	repeat(t, w, "failing writes: the destination, the source", 5, func(int) {
		for _, d := range failing {
			if _, err := d.Write(ctx, read, destination.NoProgress(), destination.ForceFullRefresh()); err == nil {
				t.Fatalf("%v: a failing write from a cache succeeded", d)
			}
			if _, err := d.Write(ctx, leakFaker(t, env, 1_000), destination.NoCache(), destination.NoStateCache(), destination.NoProgress()); err == nil {
				t.Fatalf("%v: a failing streamed write succeeded", d)
			}
		}
		for _, mode := range []string{"trace-error", "fail"} {
			src, err := goairbyte.GetSource(ctx, "source-twoway", connector.WithEnvironment(env), connector.WithLocalExecutable(twowayBin),
				connector.WithConfig(map[string]any{"mode": mode}))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := good.Write(ctx, src, destination.NoCache(), destination.NoStateCache(), destination.NoProgress()); err == nil {
				t.Fatalf("a streamed write whose source fails (%s) succeeded", mode)
			}
		}
	})
}
