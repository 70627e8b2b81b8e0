package duckdb_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(bigCommitChild); path != "" {
		bigCommit(path)
	}
	cachetest.ChildMain(openPath)
	os.Exit(m.Run())
}

// openPath opens the cache at path, or at a duckdb: URL (with its
// settings).
func openPath(ctx context.Context, path string) (*cache.Cache, error) {
	if strings.HasPrefix(path, "duckdb:") {
		return cache.Open(ctx, path)
	}
	return cache.New(ctx, duckdb.NewConnector(path))
}

func open(t *testing.T) *cache.Cache {
	c, err := openPath(context.Background(), filepath.Join(t.TempDir(), "c.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSuite(t *testing.T) {
	t.Parallel()
	cachetest.Run(t, open)
}

func TestFaker(t *testing.T) {
	t.Parallel()
	cachetest.RunFaker(t, open, &cachetest.Faker{Bin: testenv.BuildBinary(t, "./cmd/source-faker"), Dir: t.TempDir()})
}

func TestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test is long")
	}
	t.Parallel()
	cachetest.Kill(t, filepath.Join(t.TempDir(), "k.duckdb"), openPath, testenv.BuildBinary(t, "./cmd/source-faker"))
}

// The suite's tests of dates and times again, in a process whose local
// zone (TZ) is five hours forty-five ahead of UTC: a date-time or time
// without a zone is UTC, as on PostgreSQL, whatever the zone of the
// program that loads it. A child process, because DuckDB reads TZ once.
func TestSuiteInAnotherZone(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.v", "-test.run=^TestSuite$/^(dates_and_date-times.*|record_lines|record_lines_keep_the_zones_of_times)$")
	cmd.Env = append(os.Environ(), "TZ=Asia/Kathmandu")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the suite with TZ=Asia/Kathmandu: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "--- PASS: TestSuite/"); n != 4 {
		t.Fatalf("%d of the 4 tests ran with TZ=Asia/Kathmandu:\n%s", n, out)
	}
}

// A second process opening a file in use gets a clear, typed error.
func TestInUse(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "locked.duckdb")
	c, err := openPath(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestInUseChild$")
	cmd.Env = append(os.Environ(), "DUCKDB_INUSE_PATH="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func TestInUseChild(t *testing.T) {
	path := os.Getenv("DUCKDB_INUSE_PATH")
	if path == "" {
		t.Skip("run by TestInUse")
	}
	_, err := openPath(context.Background(), path)
	var iu *cacheerr.InUseError
	if !errors.As(err, &iu) || !errors.Is(err, cache.ErrInUse) {
		t.Fatalf("want an InUseError, got %v", err)
	}
	t.Log(err)
}

// A file DuckDB cannot open for another reason is not "in use", even when
// its path says "lock".
func TestOpenFailureIsNotInUse(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "locked", "unlock.duckdb")
	if err := os.MkdirAll(path, 0o755); err != nil { // a directory where the file should be
		t.Fatal(err)
	}
	_, err := openPath(context.Background(), path)
	if err == nil || errors.Is(err, cache.ErrInUse) {
		t.Fatalf("opening a directory as the cache file: got %v, want an error that is not ErrInUse", err)
	}
}

// A TMPDIR that does not exist fails the open with an error that names
// it, not Go's bare "stat /that/dir: no such file or directory". Not
// parallel: it sets TMPDIR.
func TestOpenWithoutTempDir(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), "no such dir")
	t.Setenv("TMPDIR", tmp)
	c, err := openPath(context.Background(), filepath.Join(t.TempDir(), "c.duckdb"))
	if err == nil {
		c.Close()
		t.Fatal("opened a cache with no temp directory for its spool")
	}
	if !strings.Contains(err.Error(), "TMPDIR") || !strings.Contains(err.Error(), tmp) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("want an error naming TMPDIR and %s, wrapping ErrNotExist, got %v", tmp, err)
	}
}

// TestOptions: the typed options reach DuckDB, and one that does not fit
// fails cache.New.
func TestOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "opts.duckdb")
	c, err := cache.New(ctx, duckdb.NewConnector(path, duckdb.WithMemoryLimit("256MB"), duckdb.WithSchema("raw"), duckdb.WithBatchSize(3)),
		cache.WithTablePrefix("Pre"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cachetest.Equal(t, "memory limit", cachetest.Strings(t, c, `SELECT current_setting('memory_limit')`), []string{"244.1 MiB"})
	var msgs []*protocol.Message
	for i := range 7 {
		msgs = append(msgs, cachetest.Rec("users", `{"id":1}`), cachetest.StreamState("users", fmt.Sprintf(`{"n":%d}`, i)))
	}
	res := cachetest.MustLoad(t, c, cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, nil, "id")), cache.StrategyAppend, msgs...)
	// A transaction of 3 records commits the latest state it covers: after
	// records 3 and 6, and at the end.
	if res.States != 3 {
		t.Errorf("states committed: %d, want 3 (one per transaction of 3 records)", res.States)
	}
	cachetest.Equal(t, "table", cachetest.Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM raw.pre_users`), []string{"7"})

	for name, opt := range map[string]duckdb.Option{
		"batch size": duckdb.WithBatchSize(0),
		"memory":     duckdb.WithMemoryLimit(""),
		// DuckDB's syntax, checked before the file is made.
		"memory syntax": duckdb.WithMemoryLimit("banana"),
	} {
		bad := filepath.Join(t.TempDir(), "bad.duckdb")
		if _, err := cache.New(ctx, duckdb.NewConnector(bad, opt)); err == nil || !strings.HasPrefix(err.Error(), "duckdb: With") {
			t.Errorf("%s: got %v, want the option's error", name, err)
		}
		if _, err := os.Stat(bad); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: the refused cache's file: %v, want none made", name, err)
		}
	}
	if _, err := cache.New(ctx, duckdb.NewConnector(path), cache.WithSchema("raw")); err == nil || !strings.Contains(err.Error(), "duckdb.WithSchema") {
		t.Errorf("cache.WithSchema given to New: got %v", err)
	}
	if _, err := cache.New(ctx, cache.Connector{}); err == nil || !strings.Contains(err.Error(), "duckdb.NewConnector") {
		t.Errorf("the zero Connector given to New: got %v", err)
	}
}

func BenchmarkLoadFakerDuckDB(b *testing.B) {
	bin := testenv.BuildBinary(b, "./cmd/source-faker")
	open := func(b *testing.B) *cache.Cache {
		c, err := openPath(context.Background(), filepath.Join(b.TempDir(), "bench.duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	cachetest.BenchmarkFaker(b, open, &cachetest.Faker{Bin: bin, Dir: b.TempDir()}, 1_000_000)
}

// A schema may have the name of the file's stem (shop in shop.duckdb) or
// of one of DuckDB's own catalogs: DuckDB then cannot tell catalog from
// schema in a two-part name, and every statement must name both.
func TestSchemaNamedLikeACatalog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, name := range []string{"shop", "memory", "system", "temp"} {
		c, err := cache.New(ctx, duckdb.NewConnector(filepath.Join(t.TempDir(), name+".duckdb"), duckdb.WithSchema(name)))
		if err != nil {
			t.Fatalf("schema %s: %v", name, err)
		}
		defer c.Close()
		cat := cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}))
		for range 2 {
			cachetest.MustLoad(t, c, cat, cache.StrategyMerge, cachetest.Rec("users", `{"id":1}`), cachetest.Rec("users", `{"id":2}`), cachetest.Rec("users", `{"id":1}`))
		}
		full := cachetest.Catalog(cachetest.Stream("items", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil))
		cachetest.MustLoad(t, c, full, cache.StrategyReplace, cachetest.Rec("items", `{"id":1}`))
		ds, err := c.Dataset(ctx, "users")
		if err != nil {
			t.Fatalf("schema %s: %v", name, err)
		}
		if n, err := ds.Count(ctx); err != nil || n != 2 {
			t.Fatalf("schema %s: %d rows, %v", name, n, err)
		}
		cachetest.Equal(t, "rows by the qualified name", cachetest.Strings(t, c, "SELECT CAST(count(*) AS VARCHAR) FROM "+ds.QualifiedTableName()), []string{"2"})
		lines := 0
		for _, err := range ds.RecordLines(ctx, nil) {
			if err != nil {
				t.Fatalf("schema %s: export: %v", name, err)
			}
			lines++
		}
		if lines != 2 {
			t.Fatalf("schema %s: exported %d lines", name, lines)
		}
	}
}

// A sync of 1,000 streams into a cache at the default memory limit: every
// table an open transaction writes into holds memory until the data is
// checkpointed, so a single transaction into them all failed out of
// memory at the 430th table (issue 17). The load commits and checkpoints
// along the way instead.
func TestThousandStreams(t *testing.T) {
	t.Parallel()
	c := open(t)
	const streams, each = 1000, 5
	var cat []protocol.ConfiguredStream
	var msgs []*protocol.Message
	for i := range streams {
		name := fmt.Sprintf("s%03d", i)
		cat = append(cat, cachetest.Stream(name, `{"id":{"type":"integer"},"a":{"type":"string"},"b":{"type":"number"},"c":{"type":"string","format":"date-time"},"d":{"type":"object"}}`,
			protocol.SyncIncremental, [][]string{{"id"}}, "id"))
		for j := range each {
			msgs = append(msgs, cachetest.Rec(name, fmt.Sprintf(`{"id":%d,"a":"hello","b":1.5,"c":"2024-01-01T00:00:00Z","d":{"x":%d}}`, j, j)))
		}
		msgs = append(msgs, cachetest.StreamState(name, `{"id":4}`))
	}
	res := cachetest.MustLoad(t, c, cachetest.Catalog(cat...), cache.StrategyAuto, msgs...)
	if res.Total != streams*each || len(res.Records) != streams || res.States != streams {
		t.Fatalf("loaded %d records in %d streams, %d states", res.Total, len(res.Records), res.States)
	}
	cachetest.Equal(t, "last table", cachetest.Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM s999`), []string{"5"})
}

// Deduplicating many merge streams at the end of one load: every table
// DuckDB deletes from holds about 250 KB until a checkpoint, so deleting
// from them all in the load's final transaction ran out of memory at the
// 430th table at the default limit (the 215th at 64MB). The deletes are
// committed and checkpointed in groups instead.
func TestDedupeManyStreams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, err := cache.New(ctx, duckdb.NewConnector(filepath.Join(t.TempDir(), "dedupe.duckdb"), duckdb.WithMemoryLimit("64MB")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const streams = 300
	var cat []protocol.ConfiguredStream
	var msgs []*protocol.Message
	for i := range streams {
		name := fmt.Sprintf("s%03d", i)
		cat = append(cat, cachetest.Stream(name, `{"id":{"type":"integer"},"v":{"type":"string"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "v"))
		// Keys out of order and repeated: every table needs the delete.
		for _, r := range []string{`{"id":2,"v":"a"}`, `{"id":1,"v":"a"}`, `{"id":2,"v":"b"}`} {
			msgs = append(msgs, cachetest.Rec(name, r))
		}
		msgs = append(msgs, cachetest.StreamState(name, `{"v":"b"}`))
	}
	res := cachetest.MustLoad(t, c, cachetest.Catalog(cat...), cache.StrategyMerge, msgs...)
	if res.States != streams {
		t.Fatalf("%d states committed, want %d", res.States, streams)
	}
	for _, name := range []string{"s000", "s150", "s299"} {
		cachetest.Equal(t, name, cachetest.Strings(t, c, `SELECT CAST(id AS VARCHAR) || v FROM `+name+` ORDER BY id`), []string{"1a", "2b"})
	}
}

// A record of 100 MB needs about five times that in DuckDB's memory:
// more than the default limit of 128MB, so its batch failed at every
// retry (issue 17). The limit is raised for the INSERT of the chunk that
// holds it, and restored after.
func TestHundredMegabyteRecord(t *testing.T) {
	t.Parallel()
	c := open(t)
	big := strings.Repeat("x", 100<<20)
	cachetest.MustLoad(t, c, cachetest.Catalog(cachetest.Stream("blobs", `{"id":{"type":"integer"},"s":{"type":"string"}}`, protocol.SyncFullRefresh, nil)), cache.StrategyAppend,
		cachetest.Rec("blobs", `{"id":1,"s":"small"}`), cachetest.Rec("blobs", `{"id":2,"s":"`+big+`"}`))
	cachetest.Equal(t, "lengths", cachetest.Strings(t, c, `SELECT CAST(length(s) AS VARCHAR) FROM blobs ORDER BY id`), []string{"5", fmt.Sprint(len(big))})
	cachetest.Equal(t, "the limit is restored", cachetest.Strings(t, c, `SELECT current_setting('memory_limit')`), []string{"122.0 MiB"})
}

// A load raises the limit for its largest record, but a read cannot know
// how large the records are: at the default limit a 100 MB record loaded
// and then failed Records and the export a destination's Write takes,
// with DuckDB's own error, which names no option of the cache. A read
// that runs out of memory runs again at a raised limit (up to 4 times the
// configured one), and one that still does not fit is a typed error that
// names the options. At a limit of 8MB: a 12 MB record and a 30 MB one.
func TestLargeRecordRead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mb   int
		fits bool
	}{{12, true}, {30, false}} {
		t.Run(fmt.Sprint(tc.mb), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c, err := cache.New(ctx, duckdb.NewConnector(filepath.Join(t.TempDir(), "c.duckdb"), duckdb.WithMemoryLimit("8MB")))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			big := strings.Repeat("x", tc.mb<<20)
			cachetest.MustLoad(t, c, cachetest.Catalog(cachetest.Stream("blobs", `{"id":{"type":"integer"},"s":{"type":"string"}}`, protocol.SyncFullRefresh, nil)), cache.StrategyAppend,
				cachetest.Rec("blobs", `{"id":1,"s":"small"}`), cachetest.Rec("blobs", `{"id":2,"s":"`+big+`"}`))
			ds, err := c.Dataset(ctx, "blobs")
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, n, size int, err error) {
				t.Helper()
				if !tc.fits {
					if !errors.Is(err, cache.ErrOutOfMemory) || !strings.Contains(fmt.Sprint(err), "duckdb.WithMemoryLimit") {
						t.Fatalf("%s: got %v after %d records, want an error matching ErrOutOfMemory that names duckdb.WithMemoryLimit", what, err, n)
					}
					return
				}
				if err != nil || n != 2 || size < len(big) {
					t.Fatalf("%s: %d records, the largest of %d bytes, error %v; want 2, the largest of %d", what, n, size, err, len(big))
				}
			}
			n, size := 0, 0
			var rerr error
			for r, err := range ds.Records(ctx) {
				if rerr = err; err != nil {
					break
				}
				n, size = n+1, max(size, len(fmt.Sprint(r["s"])))
			}
			check("Records", n, size, rerr)
			n, size, rerr = 0, 0, nil
			for l, err := range ds.RecordLines(ctx, nil) {
				if rerr = err; err != nil {
					break
				}
				n, size = n+1, max(size, len(l.Data))
			}
			check("RecordLines", n, size, rerr)
			cachetest.Equal(t, "the limit is restored", cachetest.Strings(t, c, `SELECT current_setting('memory_limit')`), []string{"7.6 MiB"})
		})
	}
}

// Salesforce objects and HubSpot's flattened properties make streams of
// hundreds or thousands of fields. At the default limit of 128MB, an
// INSERT into a table of 600 columns failed at every retry, and so did
// 40,000 records of 500 columns once the limit was raised for 250
// columns and more by 256 KB a column; 3 records of 3,000 columns loaded
// and then failed every read of them, Records and the export that a
// destination's Write takes alike. The limit is raised for such tables'
// statements, as for a large record, and restored after; and an export
// of a wide table reads fewer rows a page.
func TestWideTable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ columns, records int }{{600, 3000}, {500, 40_000}, {3000, 3}} {
		t.Run(fmt.Sprint(tc.columns), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := open(t)
			var props, fields []string
			for i := range tc.columns {
				props = append(props, fmt.Sprintf(`"p%d":{"type":["null","string"]}`, i))
				if i%3 == 0 {
					fields = append(fields, fmt.Sprintf(`"p%d":"v%d"`, i, i))
				}
			}
			data := "{" + strings.Join(fields, ",") + "}"
			msgs := make([]*protocol.Message, tc.records)
			for i := range msgs {
				msgs[i] = cachetest.Rec("wide", data)
			}
			cachetest.MustLoad(t, c, cachetest.Catalog(cachetest.Stream("wide", "{"+strings.Join(props, ",")+"}", protocol.SyncFullRefresh, nil)), cache.StrategyAppend, msgs...)
			last := (tc.columns - 1) / 3 * 3 // the last field set
			cachetest.Equal(t, "rows", cachetest.Strings(t, c, fmt.Sprintf(`SELECT CAST(count(*) AS VARCHAR), min(p%d), CAST(count(p%d) AS VARCHAR) FROM wide`, last, last-1)),
				[]string{fmt.Sprintf("%d|v%d|0", tc.records, last)})

			ds, err := c.Dataset(ctx, "wide")
			if err != nil {
				t.Fatal(err)
			}
			lines := 0
			for l, err := range ds.RecordLines(ctx, nil) {
				if err != nil {
					t.Fatalf("export after %d lines: %v", lines, err)
				}
				if lines == 0 && !strings.Contains(string(l.Data), fmt.Sprintf(`"p%d":"v%d"`, last, last)) {
					t.Fatalf("the first line's data lacks p%d: %.200s", last, l.Data)
				}
				lines++
			}
			records := 0
			for r, err := range ds.Records(ctx) {
				if err != nil {
					t.Fatalf("Records after %d: %v", records, err)
				}
				if r[fmt.Sprintf("p%d", last)] != fmt.Sprintf("v%d", last) {
					t.Fatalf("record %d: p%d is %v", records, last, r[fmt.Sprintf("p%d", last)])
				}
				records++
			}
			if lines != tc.records || records != tc.records {
				t.Fatalf("the export gave %d lines and Records %d records, want %d", lines, records, tc.records)
			}
			cachetest.Equal(t, "the limit is restored", cachetest.Strings(t, c, `SELECT current_setting('memory_limit')`), []string{"122.0 MiB"})
		})
	}
}

// A limit too low for the work is a typed error that names the options
// that raise it.
func TestOutOfMemory(t *testing.T) {
	t.Parallel()
	c, err := cache.New(context.Background(), duckdb.NewConnector(filepath.Join(t.TempDir(), "oom.duckdb"), duckdb.WithMemoryLimit("8MB")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Load(context.Background(), cache.LoadRequest{SourceName: "s", Strategy: cache.StrategyAppend,
		Catalog:  cachetest.Catalog(cachetest.Stream("t", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil)),
		Messages: cachetest.Messages(cachetest.Rec("t", `{"id":1}`))})
	var oe *cacheerr.OutOfMemoryError
	if !errors.As(err, &oe) || !errors.Is(err, cache.ErrOutOfMemory) || oe.Limit != "8MB" {
		t.Fatalf("got %v, want an *OutOfMemoryError", err)
	}
	for _, want := range []string{"duckdb.WithMemoryLimit", "memory_limit=", "goab --memory-limit"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
}

// A full disk — under the database file or under the load's spool files —
// is a typed error that says which.
func TestDiskFull(t *testing.T) {
	tiny := cachetest.SmallDisk(t)
	load := func(path, where, remedy string) {
		t.Helper()
		c, err := openPath(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		err = cachetest.FillDisk(context.Background(), c)
		var df *cacheerr.DiskFullError
		if !errors.As(err, &df) || !errors.Is(err, cache.ErrDiskFull) || !strings.Contains(df.Where, where) {
			t.Fatalf("got %v, want a *DiskFullError for %s", err, where)
		}
		// What to free or move is the disk that is full, not the other.
		if !strings.Contains(err.Error(), remedy) {
			t.Fatalf("the error does not say %q: %v", remedy, err)
		}
	}
	load(filepath.Join(tiny, "full.duckdb"), "the DuckDB file", "move the cache file to a larger one")
	os.Remove(filepath.Join(tiny, "full.duckdb"))
	os.Remove(filepath.Join(tiny, "full.duckdb.wal"))
	t.Setenv("AIRBYTE_TEMP_DIR", tiny)
	load(filepath.Join(t.TempDir(), "roomy.duckdb"), "spool files", "AIRBYTE_TEMP_DIR (else TMPDIR)")
}

// Two processes cannot load one DuckDB file at once: the second is
// refused as in use.
func TestConcurrentLoadsOfOneSource(t *testing.T) {
	t.Parallel()
	cachetest.ConcurrentLoads(t, filepath.Join(t.TempDir(), "c.duckdb"), openPath)
}

// A loading process killed with -9 leaves its spool files (45–107 MB each
// in issue 17). Their directory carries the owner's pid, and the next
// process that opens a cache removes those of owners that no longer run.
func TestKilledLoadLeavesNoSpool(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	spools := func() (dirs, files int, bytes int64) {
		matches, _ := filepath.Glob(filepath.Join(tmp, "goairbyte-duckdb-*"))
		for _, d := range matches {
			dirs++
			entries, _ := os.ReadDir(d)
			for _, e := range entries {
				if info, err := e.Info(); err == nil {
					files++
					bytes += info.Size()
				}
			}
		}
		return dirs, files, bytes
	}
	killed := cachetest.LoadingChild(filepath.Join(t.TempDir(), "killed.duckdb"), true)
	out, _ := killed.StdoutPipe()
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "holding\n" {
		killed.Process.Kill()
		t.Fatalf("the child did not start loading: %q", line)
	}
	killed.Process.Signal(syscall.SIGKILL)
	killed.Wait()
	dirs, files, bytes := spools()
	t.Logf("after kill -9 mid-load: %d spool dir(s), %d file(s), %d bytes", dirs, files, bytes)
	if dirs != 1 || files == 0 {
		t.Fatalf("the killed load left %d spool dirs with %d files; the test wants one to sweep", dirs, files)
	}
	if out, err := cachetest.LoadingChild(filepath.Join(t.TempDir(), "next.duckdb"), false).CombinedOutput(); err != nil {
		t.Fatalf("the next run: %v\n%s", err, out)
	}
	dirs, files, bytes = spools()
	t.Logf("after the next run: %d spool dir(s), %d file(s), %d bytes", dirs, files, bytes)
	if dirs != 0 {
		t.Fatalf("%d spool dirs are left", dirs)
	}
}

// Loads killed at random moments leave the cache as the next load needs
// it (see cachetest.Crash).
func TestCrash(t *testing.T) {
	t.Parallel()
	cachetest.Crash(t, filepath.Join(t.TempDir(), "crash.duckdb"), openPath, 1)
}

// Loads into more tables than one transaction may hold at this memory
// limit (about 67 at 64MB) commit early, in the load and in the
// deduplication of the merge streams at its end; killed at random
// moments, they too leave the cache as the next load needs it. A run
// takes about 10 s (77 tables): the test runs only in a hunt, when
// CACHETEST_CRASH_KILLS is set.
func TestCrashEarlyCommits(t *testing.T) {
	if os.Getenv("CACHETEST_CRASH_KILLS") == "" {
		t.Skip("about 10 s per run: set CACHETEST_CRASH_KILLS to hunt with it")
	}
	t.Parallel()
	cachetest.Crash(t, "duckdb:"+filepath.Join(t.TempDir(), "crash.duckdb")+"?memory_limit=64MB", openPath, 75)
}

// bigCommitChild names the cache file of TestSeenCommitIsDurable's child
// in its environment.
const bigCommitChild = "DUCKDB_TEST_BIG_COMMIT"

// bigCommitRecords is how many records the child loads in one
// transaction: about 9 MB in DuckDB's write-ahead log.
const bigCommitRecords = 20_000

// bigCommit is the child of TestSeenCommitIsDurable: with DuckDB's
// checkpoint threshold lowered below what its commit logs, it loads
// bigCommitRecords records and their state in one transaction, and prints
// "seen" once another connection sees the state.
func bigCommit(path string) {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	c, err := openPath(ctx, path)
	if err != nil {
		fail(err)
	}
	if _, err := c.ExecSQL(ctx, `SET checkpoint_threshold = '1MB'`); err != nil {
		fail(err)
	}
	go func() {
		for {
			if st, err := c.State(ctx, cache.StateKey{Source: "src", Stream: "users"}); err == nil && st != nil {
				fmt.Println("seen")
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var msgs []*protocol.Message
	rng := rand.New(rand.NewPCG(1, 2))
	text := make([]byte, 400)
	for i := range bigCommitRecords {
		for j := range text {
			text[j] = 'a' + byte(rng.IntN(26)) // so that DuckDB cannot compress it away
		}
		msgs = append(msgs, cachetest.Rec("users", fmt.Sprintf(`{"id":%d,"t":"%s"}`, i, text)))
	}
	msgs = append(msgs, cachetest.StreamState("users", fmt.Sprintf(`{"id":%d}`, bigCommitRecords-1)))
	cat := cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"},"t":{"type":"string"}}`, protocol.SyncIncremental, nil, "id"))
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: cache.StrategyAppend, Messages: cachetest.Messages(msgs...)}); err != nil {
		fail(err)
	}
	time.Sleep(time.Minute) // killed before
	os.Exit(3)
}

// A commit that takes DuckDB's write-ahead log beyond its checkpoint
// threshold checkpoints, and DuckDB's default is then to skip the log for
// a commit of more than 100,000 bytes: other connections saw the
// transaction committed while the checkpoint was still writing it, and a
// kill then lost it (the cache reopened without the state a reader had
// read). The cache keeps the log (see neverSkipWAL). The child lowers the
// threshold (16MB by default) so that its one commit crosses it, and is
// killed as soon as its state is seen, three times.
func TestSeenCommitIsDurable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for round := range 3 {
		path := filepath.Join(t.TempDir(), "c.duckdb")
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), bigCommitChild+"="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		seen := false
		for lines := bufio.NewScanner(out); !seen && lines.Scan(); {
			seen = lines.Text() == "seen"
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if !seen {
			t.Fatalf("round %d: the child ended before its state was seen", round)
		}
		c, err := openPath(ctx, path)
		if err != nil {
			t.Fatalf("round %d: reopening the cache: %v", round, err)
		}
		st, err := c.State(ctx, cache.StateKey{Source: "src", Stream: "users"})
		var rows int
		if err == nil && st != nil {
			err = c.DB().QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&rows)
		}
		c.Close()
		if err != nil || st == nil || rows != bigCommitRecords {
			t.Fatalf("round %d: killed once its state was seen, the cache reopened with the state %v (%v) and %d rows; want the state and %d rows", round, st != nil, err, rows, bigCommitRecords)
		}
	}
}

// A user's SET TimeZone on the cache's connection (for their own SQL, in
// their zone) neither changes how a load reads a date-time or time
// without a zone (UTC, as package cache says) nor is lost by the load.
// The load read 01:30 as 01:30 in Kolkata, 20:00 UTC the day before.
func TestLoadKeepsUTCUnderAUsersTimeZone(t *testing.T) {
	t.Parallel()
	c := open(t)
	ctx := context.Background()
	c.DB().SetMaxOpenConns(1) // the user's SET and the load share the connection
	if _, err := c.ExecSQL(ctx, "SET TimeZone = 'Asia/Kolkata'"); err != nil {
		t.Fatal(err)
	}
	props := `{"id":{"type":"integer"},"tz":{"type":"string","format":"date-time"},"ttz":{"type":"string","format":"time","airbyte_type":"time_with_timezone"}}`
	cat := cachetest.Catalog(cachetest.Stream("zoneless", props, protocol.SyncFullRefresh, nil))
	cachetest.MustLoad(t, c, cat, cache.StrategyAppend, cachetest.Rec("zoneless", `{"id":1,"tz":"2024-03-10T01:30:00","ttz":"2024-03-10T01:30:00"}`))
	ds, err := c.Dataset(ctx, "zoneless")
	if err != nil {
		t.Fatal(err)
	}
	for r, err := range ds.Records(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2024, 3, 10, 1, 30, 0, 0, time.UTC); !r["tz"].(time.Time).Equal(want) {
			t.Errorf("tz is %v, want %v", r["tz"], want)
		}
		if _, off := r["ttz"].(time.Time).Zone(); off != 0 || r["ttz"].(time.Time).Hour() != 1 {
			t.Errorf("ttz is %v, want 01:30:00+00", r["ttz"])
		}
	}
	if got := cachetest.Strings(t, c, "SELECT current_setting('TimeZone')"); len(got) != 1 || got[0] != "Asia/Kolkata" {
		t.Errorf("after the load the TimeZone is %q, want the user's Asia/Kolkata", got)
	}
}
