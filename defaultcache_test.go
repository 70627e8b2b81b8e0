package goairbyte_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/source"
)

// TestDefaultCacheWhereItCannotBe: the default cache lives under the
// working directory; when that directory was deleted, or the cache's
// directory cannot be made there, the error says where the cache was to
// be and how to put it elsewhere. A child process, as it changes its
// working directory.
func TestDefaultCacheWhereItCannotBe(t *testing.T) {
	if os.Getenv("GOAIRBYTE_DEFAULTCACHE_CHILD") == "1" {
		defaultCacheWhereItCannotBe(t)
		return
	}
	t.Parallel()
	passInChild(t, "GOAIRBYTE_DEFAULTCACHE_CHILD=1", "TMPDIR="+t.TempDir())
}

// passInChild runs the test t in a child process of this test binary, with
// env added to this process's environment, and fails t unless it passes
// there.
func passInChild(t *testing.T, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

func defaultCacheWhereItCannotBe(t *testing.T) {
	ctx := context.Background()
	want := func(err error, what string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "SetCacheDir") || !strings.Contains(err.Error(), "UseCache") || !strings.Contains(err.Error(), what) {
			t.Fatalf("want an error naming %s, SetCacheDir and UseCache, got %v", what, err)
		}
		t.Log(err)
	}

	// ".cache" is a file: the cache's directory cannot be made.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".cache"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	_, err := core.EnvOf(goairbyte.NewEnvironment()).DefaultCache(ctx)
	want(err, filepath.Join(dir, ".cache"))

	// The working directory is gone.
	gone := filepath.Join(dir, "gone")
	if err := os.Mkdir(gone, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(gone); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	_, err = core.EnvOf(goairbyte.NewEnvironment()).DefaultCache(ctx)
	want(err, "working directory")
}

// defaultCacheWorkEnv names, in a child of
// TestDefaultCacheInTheWorkingDirectory, the working directory it runs in;
// TestMain leaves the default Environment's cache directory alone there.
const defaultCacheWorkEnv = "GOAIRBYTE_DEFAULTCACHE_WORK"

// TestDefaultCacheInTheWorkingDirectory: goairbyte.DefaultCache is the
// DuckDB file ./.cache/default_cache/default_cache.duckdb under the working
// directory, opened once, and the cache of every Read and Write given none.
// A child process, as it changes its working directory and needs the
// default Environment as a program has it.
func TestDefaultCacheInTheWorkingDirectory(t *testing.T) {
	if dir := os.Getenv(defaultCacheWorkEnv); dir != "" {
		defaultCacheInTheWorkingDirectory(t, dir)
		return
	}
	t.Parallel()
	dir := t.TempDir()
	passInChild(t, defaultCacheWorkEnv+"="+dir)
	if _, err := os.Stat(filepath.Join(dir, ".cache", "default_cache", "default_cache.duckdb")); err != nil {
		t.Fatalf("the child left no default cache file: %v", err)
	}
}

func defaultCacheInTheWorkingDirectory(t *testing.T, dir string) {
	ctx := context.Background()
	// The file DuckDB has open is the one under the working directory.
	c := defaultCacheFrom(t, dir, filepath.Join(dir, ".cache", "default_cache", "default_cache.duckdb"))
	if again, err := goairbyte.DefaultCache(ctx); err != nil || again != c {
		t.Fatalf("a second DefaultCache is another handle (%p, %p) or fails: %v", again, c, err)
	}

	src, err := goairbyte.GetSource(ctx, "source-faker",
		connector.WithConfig(map[string]any{"count": 7, "seed": 1}), connector.WithStreams("users"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := src.Read(ctx, source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	if res.Cache() != c {
		t.Fatalf("a Read with no cache used %p, not the default cache %p", res.Cache(), c)
	}
	if n := countIn(t, c, "users"); n != 7 {
		t.Fatalf("the default cache has %d users, want 7", n)
	}

	// A Write of a source with no cache reads it into the default cache
	// first, and keeps the destination's state there.
	dst, err := goairbyte.NoopDestination(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wr *destination.WriteResult
	if wr, err = dst.Write(ctx, src, destination.Streams("products"), destination.NoProgress()); err != nil {
		t.Fatal(err)
	}
	if n := countIn(t, c, "products"); n != 7 || wr.TotalSent() != 7 {
		t.Fatalf("the default cache has %d products, the Write sent %d; want 7", n, wr.TotalSent())
	}
	if st, err := c.State(ctx, cache.StateKey{Source: wr.SourceName, Destination: wr.DestinationKey, Stream: "products"}); err != nil || st == nil {
		t.Fatalf("a Write with no cache kept no state in the default cache: %v, %v", st, err)
	}
}

// defaultCacheFrom changes the working directory to dir, opens
// goairbyte.DefaultCache there and fails the test unless its file is want.
// Only a child process may call it, as it changes the working directory.
func defaultCacheFrom(t *testing.T, dir, want string) *cache.Cache {
	t.Helper()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	c, err := goairbyte.DefaultCache(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if file := cacheFile(t, c); file != want {
		t.Fatalf("the default cache is %s, want %s", file, want)
	}
	return c
}

// countIn is the number of rows of stream in c.
func countIn(t *testing.T, c *cache.Cache, stream string) int64 {
	t.Helper()
	ds, err := c.Dataset(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ds.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A Read that fails before the connector reads (no config, a config the
// spec refuses, a stream the source lacks) does not make the default
// cache: a newcomer's first mistake leaves no .cache directory behind.
func TestFailedReadMakesNoDefaultCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	env := goairbyte.NewEnvironment()
	env.SetCacheDir(dir)
	for what, c := range map[string]struct {
		opts []connector.Option
		read []source.ReadOption
	}{
		"no config":      {},
		"invalid config": {opts: []connector.Option{connector.WithConfig(map[string]any{"count": "many"})}},
		"unknown stream": {opts: []connector.Option{connector.WithConfig(map[string]any{"count": 5})}, read: []source.ReadOption{source.Streams("nope")}},
	} {
		src, err := goairbyte.GetSource(ctx, "source-faker", append(c.opts, connector.WithEnvironment(env))...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Read(ctx, append(c.read, source.NoProgress())...); err == nil {
			t.Fatalf("%s: the read succeeded", what)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("%s: the failed read left %v in the cache directory", what, entries)
		}
		// A Write that reads through the default cache, likewise.
		dst, err := goairbyte.GetDestination(ctx, "destination-local-json", connector.WithEnvironment(env),
			connector.WithConfig(map[string]any{"destination_path": t.TempDir()}))
		if err != nil {
			t.Fatal(err)
		}
		var streams []destination.WriteOption
		if len(c.read) > 0 {
			streams = append(streams, destination.Streams("nope"))
		}
		if _, err := dst.Write(ctx, src, append(streams, destination.NoProgress())...); err == nil {
			t.Fatalf("%s: the write succeeded", what)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("%s: the failed write left %v in the cache directory", what, entries)
		}
	}
}

// TestDefaultCacheTempDirUnwritable: a default cache that cannot be opened
// because AIRBYTE_TEMP_DIR is not a directory says so, and does not send
// the program to move the cache, whose directory is fine (a nightly job
// ported from PyAirbyte, with AIRBYTE_TEMP_DIR set to a directory not yet
// made, got "choose another directory with Environment.SetCacheDir").
func TestDefaultCacheTempDirUnwritable(t *testing.T) {
	unsetAirbyteDirs(t)
	missing := filepath.Join(t.TempDir(), "missing")
	t.Setenv(tempDirVar, missing)
	env := goairbyte.NewEnvironment()
	env.SetCacheDir(t.TempDir())
	_, err := core.EnvOf(env).DefaultCache(context.Background())
	if err == nil || !strings.Contains(err.Error(), tempDirVar) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("want an error naming %s and %s, got %v", tempDirVar, missing, err)
	}
	if strings.Contains(err.Error(), "SetCacheDir") {
		t.Fatalf("the error sends the program to move the cache, which is not what failed: %v", err)
	}
}

// A DuckDB fatal error (a checkpoint on a full disk) invalidates the
// database, and the default cache, which an Environment keeps open for the
// process, stayed dead: every later Read failed with "database has been
// invalidated" until the program restarted. The operation that met the
// error fails with it; once space is freed, the next Read of a Source
// runs on the file opened again, and resumes from what was committed.
func TestDefaultCacheAfterFatalError(t *testing.T) {
	disk := testenv.SmallDisk(t, "16m")
	ctx := context.Background()
	env := goairbyte.NewEnvironment()
	env.SetCacheDir(disk)
	read := func(count int) (*source.ReadResult, error) {
		src, err := goairbyte.GetSource(ctx, "source-faker", connector.WithEnvironment(env),
			connector.WithConfig(map[string]any{"count": count, "seed": 1, "always_updated": false}))
		if err != nil {
			t.Fatal(err)
		}
		return src.Read(ctx, source.Streams("users"))
	}
	if _, err := read(5000); err != nil {
		t.Fatal(err)
	}
	c, err := core.EnvOf(env).DefaultCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The load is in the write-ahead log; its checkpoint cannot write it
	// into the file.
	filler := testenv.LeaveFree(t, disk, 64<<10)
	if _, err := c.ExecSQL(ctx, "CHECKPOINT"); err == nil || !strings.Contains(err.Error(), "No space left on device") {
		t.Fatalf("a checkpoint on a full disk: %v, want DuckDB's fatal error", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	res, err := read(6000)
	if err != nil {
		t.Fatalf("the next Read, into the default cache: %v", err)
	}
	if got := res.StreamRecords()["users"]; got != 1000 {
		t.Errorf("the next Read loaded %d users, want the 1,000 after the committed state", got)
	}
	if n := countIn(t, c, "users"); n != 6000 {
		t.Errorf("%d users in the default cache, want 6,000", n)
	}
}
