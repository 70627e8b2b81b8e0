package leaktest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/connectors/noop"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/internal/testconnectors/twoway"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// leakRuns is how many times each leak test repeats its operation.
const leakRuns = 50

// repeat runs op once to warm up, takes the baseline, runs it n times and
// checks what is left.
func repeat(t *testing.T, w *leakWatch, what string, n int, op func(i int)) {
	t.Helper()
	op(-1)
	w.start()
	for i := range n {
		op(i)
		if t.Failed() {
			t.FailNow()
		}
	}
	w.check(what, n)
}

// leakEnv is an Environment of its own whose default cache lives in a
// directory of the test.
func leakEnv(t *testing.T) *goairbyte.Environment {
	env := goairbyte.NewEnvironment()
	env.SetCacheDir(t.TempDir())
	return env
}

// leakDuckDB opens a DuckDB cache in a directory of the test, closed when
// the test ends.
func leakDuckDB(t *testing.T) *cache.Cache {
	t.Helper()
	c, err := goairbyte.NewLocalCache(context.Background(), "leak", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// leakPostgres opens a PostgreSQL cache on dsn, closed when the test ends.
func leakPostgres(t *testing.T, dsn string) *cache.Cache {
	t.Helper()
	c, err := goairbyte.NewPostgresCache(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// cachedUsers reads 5,000 faker users into each of caches and returns
// their datasets.
func cachedUsers(t *testing.T, env *goairbyte.Environment, caches ...*cache.Cache) []*cache.Dataset {
	t.Helper()
	ctx := context.Background()
	var users []*cache.Dataset
	for _, c := range caches {
		res, err := leakFaker(t, env, 5000).Read(ctx, source.UseCache(c), source.NoProgress())
		if err != nil {
			t.Fatal(err)
		}
		ds, err := res.Stream(ctx, "users")
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, ds)
	}
	return users
}

func leakFaker(t *testing.T, env *goairbyte.Environment, count int, opts ...connector.Option) *goairbyte.Source {
	t.Helper()
	src, err := goairbyte.GetSource(context.Background(), "source-faker",
		append([]connector.Option{connector.WithEnvironment(env), connector.WithConfig(map[string]any{"count": count, "seed": 1}),
			connector.WithStreams("users")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// cancelOnFirstRecord is a read option that cancels the read once the
// progress tracker has seen a record: mid-stream, whatever the connector.
func cancelOnFirstRecord(cancel context.CancelFunc) source.ReadOption {
	return source.WithProgress(progress.WithRenderer(nil), progress.WithListener(func(s progress.Snapshot) {
		if s.Total.RecordsRead > 0 {
			cancel()
		}
	}))
}

// A server that reads into one DuckDB cache it never closes.
func TestLeakReadIntoDuckDB(t *testing.T) {
	if isolate(t) {
		return
	}
	w := watchLeaks(t)
	env := leakEnv(t)
	c := leakDuckDB(t)
	repeat(t, w, "a read of faker into DuckDB", leakRuns, func(int) {
		if _, err := leakFaker(t, env, 200).Read(context.Background(), source.UseCache(c), source.NoProgress()); err != nil {
			t.Fatal(err)
		}
	})
}

// The same into the default cache of an Environment.
func TestLeakReadIntoDefaultCache(t *testing.T) {
	if isolate(t) {
		return
	}
	w := watchLeaks(t)
	env := leakEnv(t)
	repeat(t, w, "a read of faker into the default cache", leakRuns, func(int) {
		if _, err := leakFaker(t, env, 200).Read(context.Background(), source.NoProgress()); err != nil {
			t.Fatal(err)
		}
	})
}

// A server whose workers share one PostgreSQL cache.
func TestLeakReadIntoPostgres(t *testing.T) {
	if isolate(t, sharedPostgres(t)) {
		return
	}
	dsn := testenv.Postgres(t)
	w := watchLeaks(t).withPostgres(dsn)
	env := leakEnv(t)
	c, err := goairbyte.NewPostgresCache(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	repeat(t, w, "a read of faker into PostgreSQL", leakRuns, func(int) {
		if _, err := leakFaker(t, env, 200).Read(context.Background(), source.UseCache(c), source.NoProgress()); err != nil {
			t.Fatal(err)
		}
	})
}

// Caches opened and closed over and over: DuckDB files, in-memory DuckDB,
// PostgreSQL.
func TestLeakOpenCloseCaches(t *testing.T) {
	if isolate(t, sharedPostgres(t)) {
		return
	}
	dsn := testenv.Postgres(t)
	w := watchLeaks(t).withPostgres(dsn)
	dir := t.TempDir()
	ctx := context.Background()
	repeat(t, w, "opening and closing caches", leakRuns, func(i int) {
		for _, conn := range []cache.Connector{
			duckdb.NewConnector(filepath.Join(dir, "c.duckdb")),
			duckdb.NewConnector(":memory:"),
			postgres.NewConnector(dsn),
		} {
			c, err := cache.New(ctx, conn)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Reads cancelled mid-stream, in process.
func TestLeakCancelledReadInProcess(t *testing.T) {
	if isolate(t) {
		return
	}
	w := watchLeaks(t)
	env := leakEnv(t)
	c := leakDuckDB(t)
	repeat(t, w, "a cancelled in-process read", 20, func(int) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if _, err := leakFaker(t, env, 10_000_000).Read(ctx, source.UseCache(c), cancelOnFirstRecord(cancel)); !errors.Is(err, context.Canceled) {
			t.Fatalf("a cancelled read: %v", err)
		}
	})
}

// Records streams, broken out of after a few records.
func TestLeakRecordsBroken(t *testing.T) {
	if isolate(t) {
		return
	}
	w := watchLeaks(t)
	env := leakEnv(t)
	repeat(t, w, "Records broken out of", leakRuns, func(int) {
		n := 0
		for _, err := range leakFaker(t, env, 10_000_000).Records(context.Background(), "users") {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 10 {
				break
			}
		}
	})
}

// Check, Discover and Spec that fail, in process: a config the spec
// refuses.
func TestLeakFailures(t *testing.T) {
	if isolate(t) {
		return
	}
	w := watchLeaks(t)
	env := leakEnv(t)
	ctx := context.Background()
	repeat(t, w, "failed Check, Discover and Read", leakRuns, func(int) {
		src, err := goairbyte.GetSource(ctx, "source-faker", connector.WithEnvironment(env),
			connector.WithConfig(map[string]any{"count": "many"}))
		if err != nil {
			t.Fatal(err)
		}
		if err := src.Check(ctx); err == nil {
			t.Fatal("Check of a bad config succeeded")
		}
		if _, err := src.Discover(ctx); err == nil {
			t.Fatal("Discover of a bad config succeeded")
		}
		if _, err := src.Read(ctx, source.NoProgress()); err == nil {
			t.Fatal("Read of a bad config succeeded")
		}
		if _, err := src.Spec(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// Writes to the noop and local-JSON destinations from a read's cache.
// (Cancelled writes are TestLeakCancelledWrite's and TestLeakStreamedWrite's:
// from a cache, these two destinations take 20,000 records before a
// progress listener sees the first.)
func TestLeakWrite(t *testing.T) {
	if isolate(t) {
		return
	}
	w := watchLeaks(t)
	env := leakEnv(t)
	ctx := context.Background()
	c := leakDuckDB(t)
	read, err := leakFaker(t, env, 2_000).Read(ctx, source.UseCache(c), source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	repeat(t, w, "writes to noop and local JSON", 20, func(int) {
		for _, name := range []string{"destination-noop", "destination-local-json"} {
			dst, err := goairbyte.GetDestination(ctx, name, connector.WithEnvironment(env),
				connector.WithConfig(map[string]any{"destination_path": out}))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dst.Write(ctx, read, destination.NoProgress(), destination.ForceFullRefresh()); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	})
}

// A manifest-only source against a local server, a new Source per read.
func TestLeakManifestSource(t *testing.T) {
	if isolate(t) {
		return
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		rw.Write([]byte(`{"items":[{"id":1},{"id":2},{"id":3}]}`))
	}))
	t.Cleanup(srv.Close)
	manifest := itemsManifest(srv.URL, 0)
	w := watchLeaks(t)
	env := leakEnv(t)
	ctx := context.Background()
	c := leakDuckDB(t)
	repeat(t, w, "check and read of a manifest-only source", leakRuns, func(int) {
		src := manifestSource(t, env, "source-leaky-api", manifest)
		if err := src.Check(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := src.Read(ctx, source.UseCache(c), source.NoProgress()); err != nil {
			t.Fatal(err)
		}
	})
}

// Two Environments in one process, each with its own default cache,
// reading by turns.
func TestLeakTwoEnvironments(t *testing.T) {
	if isolate(t) {
		return
	}
	w := watchLeaks(t)
	envs := []*goairbyte.Environment{leakEnv(t), leakEnv(t)}
	read := func(env *goairbyte.Environment) {
		if _, err := leakFaker(t, env, 100).Read(context.Background(), source.NoProgress()); err != nil {
			t.Fatal(err)
		}
	}
	repeat(t, w, "reads by turns in two Environments", leakRuns, func(i int) {
		if i < 0 { // the warm-up opens both default caches
			read(envs[0])
			read(envs[1])
			return
		}
		read(envs[i%2])
	})
}

// Reads by a local executable (the faker's binary): whole, cancelled
// mid-stream, and Records broken out of.
func TestLeakLocalExecutable(t *testing.T) {
	if isolate(t) {
		return
	}
	bin := testenv.BuildBinary(t, "./cmd/source-faker")
	w := watchLeaks(t)
	env := leakEnv(t)
	c := leakDuckDB(t)
	repeat(t, w, "reads by a local executable: whole, cancelled, broken out of", 15, func(int) {
		wholeCancelledBroken(t, env, c, connector.WithLocalExecutable(bin))
	})
}

// Local executables that fail: a check that reports FAILED, a read that
// exits 1 with only text on stderr.
func TestLeakLocalExecutableFailures(t *testing.T) {
	if isolate(t) {
		return
	}
	checkfailed := testenv.BuildBinary(t, "./internal/testconnectors/checkfailed")
	stderrexit := testenv.BuildBinary(t, "./internal/testconnectors/stderrexit")
	w := watchLeaks(t)
	env := leakEnv(t)
	repeat(t, w, "failing local executables", 20, func(int) {
		checkAndReadFail(t, env, connector.WithLocalExecutable(checkfailed), connector.WithLocalExecutable(stderrexit))
	})
}

// checkAndReadFail runs the test connector checkfailed's check and
// stderrexit's read, each the way its option says, and fails t unless both
// fail.
func checkAndReadFail(t *testing.T, env *goairbyte.Environment, checkfailed, stderrexit connector.Option) {
	t.Helper()
	ctx := context.Background()
	src, err := goairbyte.GetSource(ctx, "source-checkfailed", connector.WithEnvironment(env), checkfailed,
		connector.WithConfig(map[string]any{"count": 1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Check(ctx); err == nil {
		t.Fatal("checkfailed's check succeeded")
	}
	src, err = goairbyte.GetSource(ctx, "source-stderrexit", connector.WithEnvironment(env), stderrexit,
		connector.WithConfig(map[string]any{"count": 1}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Read(ctx, source.NoProgress()); err == nil {
		t.Fatal("stderrexit's read succeeded")
	}
}

// Reads by Docker containers: whole, cancelled mid-stream, and Records
// broken out of; the Source built anew each time, as a server builds one
// per sync.
func TestLeakDocker(t *testing.T) {
	if isolate(t) {
		return
	}
	cli := testenv.Docker(t)
	image := testenv.FakerImage(t, cli)
	w := watchLeaks(t).withDocker()
	env := leakEnv(t)
	c := leakDuckDB(t)
	repeat(t, w, "reads by Docker: whole, cancelled, broken out of", 3, func(int) {
		wholeCancelledBroken(t, env, c, connector.WithDockerImage(image))
	})
}

// wholeCancelledBroken reads the faker, run the way opt says, three times
// into c, each with a Source of its own: a read to its end, one cancelled
// at its first record, and Records broken out of at the tenth.
func wholeCancelledBroken(t *testing.T, env *goairbyte.Environment, c *cache.Cache, opt connector.Option) {
	t.Helper()
	ctx := context.Background()
	if _, err := leakFaker(t, env, 100, opt).Read(ctx, source.UseCache(c), source.NoProgress()); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, err := leakFaker(t, env, 10_000_000, opt).Read(cctx, source.UseCache(c), cancelOnFirstRecord(cancel)); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled read: %v", err)
	}
	n := 0
	for _, err := range leakFaker(t, env, 10_000_000, opt).Records(ctx, "users") {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			break
		}
	}
}

// cancellingDest is an in-process destination that cancels the Write it
// serves when the first record reaches it, and then reads on until its
// input ends: a Write cancelled mid-stream, at a known point.
type cancellingDest struct {
	cancel *atomic.Pointer[context.CancelFunc]
}

func (cancellingDest) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	return noop.Destination{}.Spec(ctx)
}

func (cancellingDest) Check(context.Context, json.RawMessage) error { return nil }

func (d cancellingDest) Write(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	for m, err := range input {
		if err != nil {
			return err
		}
		if m.Type == protocol.TypeRecord {
			if cancel := d.cancel.Load(); cancel != nil {
				(*cancel)()
			}
		}
	}
	return nil
}

// Writes cancelled mid-stream: in process at the first record, and by a
// local executable and a Docker container once progress has seen records.
func TestLeakCancelledWrite(t *testing.T) {
	if isolate(t) {
		return
	}
	cli := testenv.Docker(t)
	image := testenv.LocalJSONImage(t, cli)
	bin := testenv.BuildBinary(t, "./cmd/destination-local-json")
	w := watchLeaks(t).withDocker()
	env := leakEnv(t)
	var cancelWrite atomic.Pointer[context.CancelFunc]
	env.RegisterConnector("destination-cancelling", func() any { return cancellingDest{&cancelWrite} })
	ctx := context.Background()
	c := leakDuckDB(t)
	read, err := leakFaker(t, env, 200_000).Read(ctx, source.UseCache(c), source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	dests := []struct {
		name string
		opts []connector.Option
	}{
		{"destination-cancelling", []connector.Option{connector.WithConfig(map[string]any{})}},
		{"destination-local-json", []connector.Option{connector.WithLocalExecutable(bin), connector.WithConfig(map[string]any{"destination_path": out})}},
		{"destination-local-json", []connector.Option{connector.WithDockerImage(image), connector.WithConfig(map[string]any{"destination_path": "/local/out"}), connector.WithLocalMount(out)}},
	}
	repeat(t, w, "cancelled writes: in process, local executable, Docker", 6, func(int) {
		for _, d := range dests {
			dst, err := goairbyte.GetDestination(ctx, d.name, append([]connector.Option{connector.WithEnvironment(env)}, d.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithCancel(ctx)
			cancelWrite.Store(&cancel)
			_, err = dst.Write(cctx, read, destination.ForceFullRefresh(), destination.WithProgress(progress.WithRenderer(nil), progress.WithListener(func(s progress.Snapshot) {
				if s.Total.RecordsRead > 0 {
					cancel()
				}
			})))
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s %v, cancelled: %v", d.name, dst, err)
			}
		}
	})
}

// Docker connectors that fail: a check that reports FAILED, a read that
// exits 1 with only text on stderr.
func TestLeakDockerFailures(t *testing.T) {
	if isolate(t) {
		return
	}
	cli := testenv.Docker(t)
	testenv.BuildImage(t, cli, "./internal/testconnectors/checkfailed", "goairbyte-test/checkfailed:0.1.0")
	testenv.BuildImage(t, cli, "./internal/testconnectors/stderrexit", "goairbyte-test/stderrexit:0.1.0")
	w := watchLeaks(t).withDocker()
	env := leakEnv(t)
	repeat(t, w, "failing Docker connectors", 3, func(int) {
		checkAndReadFail(t, env, connector.WithDockerImage("goairbyte-test/checkfailed:0.1.0"), connector.WithDockerImage("goairbyte-test/stderrexit:0.1.0"))
	})
}

// An Environment per tenant or per sync, dropped when done: nobody closes
// an Environment's default cache (its doc says nobody has to), so it must
// not stay open once the Environment and everything that uses the cache
// are gone.
func TestLeakEnvironmentDropped(t *testing.T) {
	if isolate(t) {
		return
	}
	w := watchLeaks(t)
	repeat(t, w, "an Environment per read, dropped", 20, func(int) {
		if _, err := leakFaker(t, leakEnv(t), 100).Read(context.Background(), source.NoProgress()); err != nil {
			t.Fatal(err)
		}
	})
}

// The default cache of a dropped Environment stays open while a read's
// result still uses it.
func TestDefaultCacheOutlivesItsEnvironmentInUse(t *testing.T) {
	if isolate(t) {
		return
	}
	ctx := context.Background()
	res, err := leakFaker(t, leakEnv(t), 100).Read(ctx, source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	usersAfterGC(t, res, "the users of a read whose Environment was dropped")
}

// usersAfterGC collects garbage, gives cleanups that should not run their
// chance, and checks that res still reads its 100 users (what they are is
// for the failure's message).
func usersAfterGC(t *testing.T, res *source.ReadResult, what string) {
	t.Helper()
	ctx := context.Background()
	for range 3 {
		runtime.GC()
	}
	time.Sleep(10 * time.Millisecond)
	users, err := res.Stream(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := users.Count(ctx); err != nil || n != 100 {
		t.Fatalf("%s: %d, %v", what, n, err)
	}
}

// A server that points one Environment's default cache at a directory per
// tenant or job (SetCacheDir) and drops each read's result: the caches of
// the directories it moved away from close once nothing uses them.
func TestLeakSetCacheDir(t *testing.T) {
	if isolate(t) {
		return
	}
	w := watchLeaks(t)
	env := goairbyte.NewEnvironment()
	repeat(t, w, "SetCacheDir to a new directory and a read into its default cache", 20, func(int) {
		env.SetCacheDir(t.TempDir())
		if _, err := leakFaker(t, env, 100).Read(context.Background(), source.NoProgress()); err != nil {
			t.Fatal(err)
		}
	})
	runtime.KeepAlive(env) // the server's Environment lives on
}

// The default cache of a directory SetCacheDir moved away from stays open
// while a read's result still uses it, and a return to the directory
// finds the records there.
func TestDefaultCacheOfAnotherDirectoryInUse(t *testing.T) {
	if isolate(t) {
		return
	}
	ctx := context.Background()
	env := goairbyte.NewEnvironment()
	first := t.TempDir()
	env.SetCacheDir(first)
	res, err := leakFaker(t, env, 100).Read(ctx, source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	env.SetCacheDir(t.TempDir())
	if _, err := leakFaker(t, env, 10).Read(ctx, source.NoProgress()); err != nil {
		t.Fatal(err)
	}
	usersAfterGC(t, res, "the users of a read into a directory moved away from")
	env.SetCacheDir(first)
	res = nil
	for range 3 {
		runtime.GC()
	}
	c, err := core.EnvOf(env).DefaultCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := c.Dataset(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ds.Count(ctx); err != nil || n != 100 {
		t.Fatalf("the users back in the first directory: %d, %v", n, err)
	}
}

// Reads cancelled mid-stream: a manifest-only source at its second page,
// and a read into PostgreSQL, whose sessions must come back to the pool.
func TestLeakCancelledManifestAndPostgresReads(t *testing.T) {
	if isolate(t, sharedPostgres(t)) {
		return
	}
	var cancelRead atomic.Pointer[context.CancelFunc]
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			if cancel := cancelRead.Load(); cancel != nil {
				(*cancel)()
			}
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.Write([]byte(`{"items":[{"id":1},{"id":2},{"id":3}]}`))
	}))
	t.Cleanup(srv.Close)
	manifest := itemsManifest(srv.URL, 3)
	dsn := testenv.Postgres(t)
	w := watchLeaks(t).withPostgres(dsn)
	env := leakEnv(t)
	ctx := context.Background()
	pc := leakPostgres(t, dsn)
	repeat(t, w, "cancelled reads: manifest-only, into PostgreSQL", 20, func(int) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		cancelRead.Store(&cancel)
		src := manifestSource(t, env, "source-leaky-api", manifest)
		if _, err := src.Read(cctx, source.UseCache(pc), source.NoProgress()); !errors.Is(err, context.Canceled) {
			t.Fatalf("a manifest read cancelled at its second page: %v", err)
		}
		cancelRead.Store(nil)
		// As in TestLeakManifestRecordsBroken: whether the transport keeps
		// a connection the read-ahead dialled idle depends on timing; the
		// server closing every connection lets the pool drop them, while a
		// response left unclosed would still hold its connection's reader.
		srv.CloseClientConnections()
		cctx, cancel = context.WithCancel(ctx)
		defer cancel()
		if _, err := leakFaker(t, env, 10_000_000).Read(cctx, source.UseCache(pc), cancelOnFirstRecord(cancel)); !errors.Is(err, context.Canceled) {
			t.Fatalf("a read into PostgreSQL, cancelled: %v", err)
		}
	})
}

// A cache's records read back and broken out of, on DuckDB and
// PostgreSQL: each Records and RecordLines loop that stops early must
// give back its rows, connection and reader.
func TestLeakDatasetIterationBroken(t *testing.T) {
	if isolate(t, sharedPostgres(t)) {
		return
	}
	dsn := testenv.Postgres(t)
	w := watchLeaks(t).withPostgres(dsn)
	env := leakEnv(t)
	ctx := context.Background()
	dc := leakDuckDB(t)
	pc := leakPostgres(t, dsn)
	users := cachedUsers(t, env, dc, pc)
	repeat(t, w, "Records and RecordLines of DuckDB and PostgreSQL broken out of", leakRuns, func(int) {
		for _, ds := range users {
			n := 0
			for _, err := range ds.Records(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				if n++; n == 10 {
					break
				}
			}
			n = 0
			for _, err := range ds.RecordLines(ctx, nil) {
				if err != nil {
					t.Fatal(err)
				}
				if n++; n == 10 {
					break
				}
			}
		}
	})
}

// heldSource is an in-process faker stand-in whose read emits one
// record and then waits until its context ends or hold is closed: a read
// that holds its source's lock in the cache.
type heldSource struct {
	base.Items
	started chan<- struct{}
	hold    <-chan struct{}
}

func (s heldSource) Discover(ctx context.Context, config json.RawMessage) (*protocol.Catalog, error) {
	cat, err := s.Items.Discover(ctx, config)
	if err == nil {
		cat.Streams[0].Name = "users"
	}
	return cat, err
}

func (s heldSource) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	rec := base.Record(`{"id":1}`)
	rec.Record.Stream = "users"
	if err := emit(rec); err != nil {
		return err
	}
	s.started <- struct{}{}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.hold:
		return nil
	}
}

// Reads refused because another read of the same source into the same
// cache is under way (ErrInUse), by a local executable: the refused
// read's connector must not be left running.
func TestLeakReadRefusedInUse(t *testing.T) {
	if isolate(t) {
		return
	}
	bin := testenv.BuildBinary(t, "./cmd/source-faker")
	w := watchLeaks(t)
	env := leakEnv(t)
	started, hold := make(chan struct{}), make(chan struct{})
	env.RegisterConnector("source-held", func() any { return heldSource{started: started, hold: hold} })
	ctx := context.Background()
	c := leakDuckDB(t)
	holder, err := goairbyte.GetSource(ctx, "source-held", connector.WithEnvironment(env), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan error, 1)
	go func() {
		_, err := holder.Read(ctx, source.UseCache(c), source.NoProgress())
		held <- err
	}()
	<-started
	repeat(t, w, "reads refused as in use", 20, func(int) {
		// The local faker, under the holder's name: the same source.
		src, err := goairbyte.GetSource(ctx, "source-held", connector.WithEnvironment(env), connector.WithLocalExecutable(bin),
			connector.WithConfig(map[string]any{"count": 1000}), connector.WithStreams("users"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Read(ctx, source.UseCache(c), source.NoProgress()); !errors.Is(err, cache.ErrInUse) {
			t.Fatalf("a read of a source being read: %v, want ErrInUse", err)
		}
	})
	close(hold)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
}

// Connectors that fail every way twoway can, in process (panics
// included) and as a local executable: check, discover and read; and
// specs that fail, in process.
func TestLeakTwowayFailures(t *testing.T) {
	if isolate(t) {
		return
	}
	bin := testenv.BuildBinary(t, "./internal/testconnectors/twoway/source-twoway")
	w := watchLeaks(t)
	env := leakEnv(t)
	ctx := context.Background()
	c := leakDuckDB(t)
	ways := map[string]connector.Option{
		"in process": connector.WithGoConnector(twoway.Connector{}),
		"process":    connector.WithLocalExecutable(bin),
	}
	repeat(t, w, "failing checks, discovers and reads, in process and as a process", 10, func(int) {
		for way, opt := range ways {
			for _, mode := range []string{"check-fail", "check-panic", "nil-catalog", "panic", "config-error", "fail", "emit-nil", "trace-error"} {
				src, err := goairbyte.GetSource(ctx, "source-twoway", connector.WithEnvironment(env), opt,
					connector.WithConfig(map[string]any{"mode": mode}))
				if err != nil {
					t.Fatal(err)
				}
				var failed error
				switch mode {
				case "check-fail", "check-panic":
					failed = src.Check(ctx)
				case "nil-catalog":
					_, failed = src.Discover(ctx)
				default:
					_, failed = src.Read(ctx, source.UseCache(c), source.NoProgress())
				}
				if failed == nil {
					t.Fatalf("%s, %s: no error", way, mode)
				}
			}
		}
		for _, mode := range []string{"fail", "nil"} {
			src, err := goairbyte.GetSource(ctx, "source-twoway", connector.WithEnvironment(env),
				connector.WithGoConnector(twoway.Connector{SpecMode: mode}), connector.WithConfig(map[string]any{"mode": "x"}))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := src.Spec(ctx); err == nil {
				t.Fatalf("spec %s: no error", mode)
			}
		}
	})
}

// Reads of hang cancelled mid-stream: hang and the child it starts ignore
// SIGTERM, so only the kill after the grace period stops them; neither
// may outlive the read.
func TestLeakCancelledHangLocal(t *testing.T) {
	if isolate(t) {
		return
	}
	bin := testenv.BuildBinary(t, "./internal/testconnectors/hang")
	logs := &testenv.Buffer{}
	cancelledHang(t, connector.WithLocalExecutable(bin), logs, false)
	// hang and its child, by the pids it logged.
	var pids []int
	for _, m := range regexp.MustCompile(`pids (\d+) (\d+)`).FindAllStringSubmatch(logs.String(), -1) {
		for _, p := range m[1:] {
			pid, _ := strconv.Atoi(p)
			pids = append(pids, pid)
		}
	}
	if len(pids) == 0 {
		t.Fatalf("hang logged no pids:\n%s", logs.String())
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var alive []int
		for _, pid := range pids {
			if syscall.Kill(pid, 0) == nil {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hang's processes %v still run after their reads were cancelled", alive)
		}
	}
}

// The same in Docker: the container must go.
func TestLeakCancelledHangDocker(t *testing.T) {
	if isolate(t) {
		return
	}
	cli := testenv.Docker(t)
	image := "goairbyte-test/hang:0.1.0"
	testenv.BuildImage(t, cli, "./internal/testconnectors/hang", image)
	cancelledHang(t, connector.WithDockerImage(image), &testenv.Buffer{}, true)
}

// cancelledHang reads hang run as way says, cancelled once a record came,
// and checks what is left; hang's LOG messages go to logs.
func cancelledHang(t *testing.T, way connector.Option, logs *testenv.Buffer, docker bool) {
	w := watchLeaks(t)
	if docker {
		w.withDocker()
	}
	env := leakEnv(t)
	env.SetLogger(slog.New(slog.NewTextHandler(logs, nil)))
	ctx := context.Background()
	c := leakDuckDB(t)
	repeat(t, w, "cancelled reads of hang", 2, func(int) {
		src, err := goairbyte.GetSource(ctx, "source-hang", connector.WithEnvironment(env), way, connector.WithConfig(map[string]any{}))
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if _, err := src.Read(cctx, source.UseCache(c), cancelOnFirstRecord(cancel)); !errors.Is(err, context.Canceled) {
			t.Fatalf("%v, cancelled: %v", src, err)
		}
	})
}

// Records loops whose body panics (recovered by the caller, as an HTTP
// server recovers a handler's panic): the panic unwinds through the
// iterator, whose clean-up must still stop the connector, in process and
// as a local executable.
func TestLeakRecordsPanicking(t *testing.T) {
	if isolate(t) {
		return
	}
	bin := testenv.BuildBinary(t, "./cmd/source-faker")
	w := watchLeaks(t)
	env := leakEnv(t)
	ctx := context.Background()
	repeat(t, w, "Records loops that panic", 10, func(int) {
		for _, opts := range [][]connector.Option{nil, {connector.WithLocalExecutable(bin)}} {
			src := leakFaker(t, env, 10_000_000, opts...)
			func() {
				defer func() {
					if r := recover(); r != "stop" {
						t.Fatalf("recovered %v", r)
					}
				}()
				n := 0
				for _, err := range src.Records(ctx, "users") {
					if err != nil {
						t.Fatal(err)
					}
					if n++; n == 10 {
						panic("stop")
					}
				}
			}()
		}
	})
}

// panicAt10 ranges over seq and panics at its tenth element; the caller
// recovers.
func panicAt10[T any](t *testing.T, seq iter.Seq2[T, error]) {
	t.Helper()
	defer func() {
		if r := recover(); r != "stop" {
			t.Fatalf("recovered %v", r)
		}
	}()
	n := 0
	for _, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			panic("stop")
		}
	}
	t.Fatalf("the loop ended after %d elements", n)
}

// Records and RecordLines of DuckDB and PostgreSQL datasets whose loop
// body panics, and Records of a Docker connector likewise.
func TestLeakIterationPanicking(t *testing.T) {
	if isolate(t, sharedPostgres(t)) {
		return
	}
	dsn := testenv.Postgres(t)
	cli := testenv.Docker(t)
	image := testenv.FakerImage(t, cli)
	w := watchLeaks(t).withPostgres(dsn).withDocker()
	env := leakEnv(t)
	ctx := context.Background()
	dc := leakDuckDB(t)
	pc := leakPostgres(t, dsn)
	users := cachedUsers(t, env, dc, pc)
	repeat(t, w, "dataset and Docker loops that panic", 3, func(int) {
		for range 10 {
			for _, ds := range users {
				panicAt10(t, ds.Records(ctx))
				panicAt10(t, ds.RecordLines(ctx, nil))
			}
		}
		panicAt10(t, leakFaker(t, env, 10_000_000, connector.WithDockerImage(image)).Records(ctx, "users"))
	})
}

// Caches that fail to open: a directory where the DuckDB file should be,
// a file that is no database, a PostgreSQL database that does not exist.
func TestLeakFailedOpens(t *testing.T) {
	if isolate(t, sharedPostgres(t)) {
		return
	}
	dsn := testenv.Postgres(t)
	w := watchLeaks(t).withPostgres(dsn)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.duckdb")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("not a database\n"), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/no_such_database"
	ctx := context.Background()
	repeat(t, w, "failed opens", leakRuns, func(int) {
		for _, conn := range []cache.Connector{
			duckdb.NewConnector(dir),
			duckdb.NewConnector(junk),
			postgres.NewConnector(u.String()),
		} {
			if c, err := cache.New(ctx, conn); err == nil {
				c.Close()
				t.Fatal("a cache that cannot be opened opened")
			}
		}
	})
}

// Writes that stream a Source straight into a destination (NoCache),
// whole and cancelled mid-stream: in process, and with both connectors as
// local executables.
func TestLeakStreamedWrite(t *testing.T) {
	if isolate(t) {
		return
	}
	fakerBin := testenv.BuildBinary(t, "./cmd/source-faker")
	jsonBin := testenv.BuildBinary(t, "./cmd/destination-local-json")
	w := watchLeaks(t)
	env := leakEnv(t)
	ctx := context.Background()
	out := t.TempDir()
	type pair struct{ src, dst []connector.Option }
	pairs := []pair{
		{nil, nil},
		{[]connector.Option{connector.WithLocalExecutable(fakerBin)}, []connector.Option{connector.WithLocalExecutable(jsonBin)}},
	}
	repeat(t, w, "streamed writes, whole and cancelled", 3, func(int) {
		for _, p := range pairs {
			dst, err := goairbyte.GetDestination(ctx, "destination-local-json", append([]connector.Option{connector.WithEnvironment(env),
				connector.WithConfig(map[string]any{"destination_path": out})}, p.dst...)...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dst.Write(ctx, leakFaker(t, env, 100, p.src...), destination.NoCache(), destination.NoStateCache(), destination.NoProgress()); err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithCancel(ctx)
			_, err = dst.Write(cctx, leakFaker(t, env, 10_000_000, p.src...), destination.NoCache(), destination.NoStateCache(),
				destination.WithProgress(progress.WithRenderer(nil), progress.WithListener(func(s progress.Snapshot) {
					if s.Total.RecordsRead > 0 {
						cancel()
					}
				})))
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("a streamed write, cancelled: %v", err)
			}
		}
	})
}

// Records of a paginated manifest-only source, broken out of in its first
// page and with its loop body panicking: the engine's HTTP responses must
// be closed and its connections come back.
func TestLeakManifestRecordsBroken(t *testing.T) {
	if isolate(t) {
		return
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		rw.Write([]byte(`{"items":[` + strings.Repeat(`{"id":1},`, 99) + `{"id":2}]}`))
	}))
	t.Cleanup(srv.Close)
	manifest := itemsManifest(srv.URL, 100)
	w := watchLeaks(t)
	env := leakEnv(t)
	ctx := context.Background()
	repeat(t, w, "manifest Records broken out of and panicking", leakRuns, func(int) {
		src := manifestSource(t, env, "source-paged-api", manifest)
		for _, err := range src.Records(ctx, "items") {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		panicAt10(t, src.Records(ctx, "items"))
		// The engine's read-ahead may be dialling for the next page when
		// the loop ends; the transport then keeps the new connection idle
		// in its pool (three goroutines, two files), on purpose, or not,
		// with that timing. The server closes its side of every connection
		// so the pool lets them go; a body left unclosed would still hold
		// its connection's reader, which is what this test looks for.
		srv.CloseClientConnections()
	})
}

// A Python connector in its virtualenv: Records broken out of, a read
// cancelled mid-stream and a check that fails.
func TestLeakPython(t *testing.T) {
	if isolate(t) {
		return
	}
	testenv.NeedPython(t)
	pkg := testenv.PythonPackage(t, "0.1.0")
	root := t.TempDir()
	w := watchLeaks(t)
	env := leakEnv(t)
	ctx := context.Background()
	c := leakDuckDB(t)
	pytest := func(config map[string]any) *goairbyte.Source {
		src, err := goairbyte.GetSource(ctx, "source-pytest", connector.WithEnvironment(env), connector.WithPipURL(pkg),
			connector.WithPython(testenv.SystemPython), connector.WithInstallRoot(root), connector.WithConfig(config))
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	repeat(t, w, "a Python connector: Records broken out of, a read cancelled, a check failed", 5, func(int) {
		n := 0
		for _, err := range pytest(map[string]any{"count": 1_000_000}).Records(ctx, "items") {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 10 {
				break
			}
		}
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if _, err := pytest(map[string]any{"count": 10_000_000}).Read(cctx, source.UseCache(c), cancelOnFirstRecord(cancel)); !errors.Is(err, context.Canceled) {
			t.Fatalf("a cancelled read: %v", err)
		}
		if err := pytest(map[string]any{"fail": true}).Check(ctx); err == nil {
			t.Fatal("a check told to fail succeeded")
		}
	})
}

// manifestSource is the manifest-only source name that manifest describes,
// with an empty config.
func manifestSource(t *testing.T, env *goairbyte.Environment, name string, manifest []byte) *goairbyte.Source {
	t.Helper()
	src, err := goairbyte.GetSource(context.Background(), name, connector.WithEnvironment(env), connector.WithManifest(manifest),
		connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// itemsManifest is a manifest-only source of one stream, items, read from
// GET <base>/items (the records under "items"); with pageSize, it asks for
// pages of that size (?page=1, 2 …) until one comes back short.
func itemsManifest(base string, pageSize int) []byte {
	paginator := ""
	if pageSize > 0 {
		paginator = fmt.Sprintf(`
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}
        pagination_strategy: {type: PageIncrement, page_size: %d, start_from_page: 1}`, pageSize)
	}
	return []byte(`
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
streams:
  - type: DeclarativeStream
    name: items
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}}}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "` + base + `", path: /items, http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [items]}}` + paginator + `
spec:
  type: Spec
  connection_specification: {type: object, properties: {}}
`)
}
