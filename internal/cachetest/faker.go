package cachetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/protocol"
)

// Faker runs the faker connector binary: discover, then read.
type Faker struct {
	Bin string // the faker's executable
	Dir string // where config, catalog and state files go
}

// FakerConfig is a faker config.
func FakerConfig(count, recordsPerSlice int) string {
	return fmt.Sprintf(`{"count":%d,"seed":1,"records_per_slice":%d,"always_updated":false}`, count, recordsPerSlice)
}

// Catalog discovers the faker's streams and configures the named ones
// (all when none) incrementally with their source-defined key and cursor.
func (f *Faker) Catalog(t testing.TB, streams ...string) *protocol.ConfiguredCatalog {
	t.Helper()
	cfg := filepath.Join(f.Dir, "discover-config.json")
	os.WriteFile(cfg, []byte(`{"count":1}`), 0o600)
	out, err := exec.Command(f.Bin, "discover", "--config", cfg).Output()
	if err != nil {
		t.Fatalf("faker discover: %v", err)
	}
	var cat *protocol.Catalog
	for _, line := range strings.Split(string(out), "\n") {
		if m := protocol.ParseMessage([]byte(line)); m.Type == protocol.TypeCatalog {
			cat = m.Catalog
		}
	}
	if cat == nil {
		t.Fatalf("faker discover printed no catalog: %s", out)
	}
	cc := &protocol.ConfiguredCatalog{}
	for _, s := range cat.Streams {
		if len(streams) > 0 && !contains(streams, s.Name) {
			continue
		}
		cc.Streams = append(cc.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: protocol.SyncIncremental, CursorField: s.DefaultCursorField,
			PrimaryKey: s.SourceDefinedPrimaryKey, DestinationSyncMode: protocol.DestinationAppendDedup})
	}
	return cc
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Read starts a faker read and yields its messages.
func (f *Faker) Read(ctx context.Context, config string, cat *protocol.ConfiguredCatalog, state json.RawMessage) iter.Seq2[*protocol.Message, error] {
	cfg := filepath.Join(f.Dir, "config.json")
	catf := filepath.Join(f.Dir, "catalog.json")
	raw, _ := json.Marshal(cat)
	os.WriteFile(cfg, []byte(config), 0o600)
	os.WriteFile(catf, raw, 0o600)
	args := []string{"read", "--config", cfg, "--catalog", catf}
	if state != nil {
		st := filepath.Join(f.Dir, "state.json")
		os.WriteFile(st, state, 0o600)
		args = append(args, "--state", st)
	}
	cmd := exec.CommandContext(ctx, f.Bin, args...)
	cmd.Stderr = os.Stderr
	return Command(cmd)
}

// LoadFaker reads the faker into c incrementally (with the cache's state
// unless fullRefresh).
func LoadFaker(ctx context.Context, c *cache.Cache, f *Faker, config string, cat *protocol.ConfiguredCatalog, fullRefresh bool, batch int) (*cache.LoadResult, error) {
	var state json.RawMessage
	if !fullRefresh {
		var names []string
		for _, s := range cat.Streams {
			names = append(names, s.Stream.Name)
		}
		var err error
		if state, err = c.SourceState(ctx, "source-faker", names); err != nil {
			return nil, err
		}
	}
	return c.Load(ctx, cache.LoadRequest{SourceName: "source-faker", Catalog: cat, FullRefresh: fullRefresh, BatchSize: batch,
		Messages: f.Read(ctx, config, cat, state)})
}

// RunFaker runs the faker tests: incremental twice, then a full refresh.
func RunFaker(t *testing.T, open Opener, f *Faker) {
	ctx := context.Background()
	c := open(t)
	cat := f.Catalog(t)
	res, err := LoadFaker(ctx, c, f, FakerConfig(1000, 100), cat, false, 700)
	if err != nil {
		t.Fatal(err)
	}
	if res.Records["users"] != 1000 || res.Records["products"] != 100 || res.Records["purchases"] == 0 {
		t.Fatalf("first read: %+v", res)
	}
	Equal(t, "users", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR), CAST(count(DISTINCT id) AS VARCHAR), CAST(max(id) AS VARCHAR) FROM users`), []string{"1000|1000|1000"})
	// The second read gets the state and adds only the new rows.
	res, err = LoadFaker(ctx, c, f, FakerConfig(1500, 100), cat, false, 700)
	if err != nil {
		t.Fatal(err)
	}
	if res.Records["users"] != 500 {
		t.Fatalf("second read: %+v", res)
	}
	Equal(t, "users", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR), CAST(count(DISTINCT id) AS VARCHAR) FROM users`), []string{"1500|1500"})
	// A full refresh reads everything again; merge keeps one row per id.
	res, err = LoadFaker(ctx, c, f, FakerConfig(1500, 100), cat, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Records["users"] != 1500 {
		t.Fatalf("full refresh: %+v", res)
	}
	Equal(t, "users", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR), CAST(count(DISTINCT id) AS VARCHAR) FROM users`), []string{"1500|1500"})
	Equal(t, "timestamps keep their instant", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM users WHERE updated_at IS NULL OR created_at IS NULL`), []string{"0"})
}

// Environment of the child process of the kill test.
const (
	childTarget = "CACHETEST_CHILD_TARGET"
	childFaker  = "CACHETEST_CHILD_FAKER"
	childCount  = "CACHETEST_CHILD_COUNT"
)

// killCount is the faker count of the kill test: large enough that kills
// land mid-load.
const killCount = 300_000

// ChildMain runs the child of the kill test or of the concurrent-loads
// test when the test binary was started as one, and then exits; otherwise
// it returns. Call it first in TestMain.
func ChildMain(open func(ctx context.Context, target string) (*cache.Cache, error)) {
	target := os.Getenv(childTarget)
	if target == "" {
		return
	}
	switch os.Getenv(childMode) {
	case "concurrent":
		concurrentChild(open, target)
	case "crash":
		crashChild(open, target)
	case "upgrade":
		upgradeChild(open, target)
	}
	ctx := context.Background()
	c, err := open(ctx, target)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	dir, _ := os.MkdirTemp("", "cachetest-child-*")
	f := &Faker{Bin: os.Getenv(childFaker), Dir: dir}
	count, _ := strconv.Atoi(os.Getenv(childCount))
	cat := killCatalog(&fatalTB{}, f)
	state, err := c.SourceState(ctx, "source-faker", []string{"users", "purchases", "products"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	go reportCommits(ctx, c)
	msgs := func(yield func(*protocol.Message, error) bool) {
		for m, err := range f.Read(ctx, FakerConfig(count, 1000), cat, state) {
			if !yield(m, err) {
				return
			}
		}
		fmt.Println("sent all")
	}
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-faker", Catalog: cat, BatchSize: 5000, Messages: msgs}); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	c.Close()
	os.RemoveAll(dir)
	os.Exit(0)
}

// reportCommits prints "committed <id>" on stdout each time the users
// state the cache holds changes, as long as the process runs: the kill
// test kills the child on these events.
func reportCommits(ctx context.Context, c *cache.Cache) {
	last := int64(-1)
	for range time.Tick(2 * time.Millisecond) {
		if id, err := committedUser(ctx, c); err == nil && id != last {
			fmt.Println("committed", id)
			last = id
		}
	}
}

// committedUser is the id of the users state the cache holds, 0 if none.
func committedUser(ctx context.Context, c *cache.Cache) (int64, error) {
	st, err := c.State(ctx, cache.StateKey{Source: "source-faker", Stream: "users"})
	if err != nil || st == nil {
		return 0, err
	}
	var cur struct{ ID int64 }
	err = json.Unmarshal(st.Stream.StreamState, &cur)
	return cur.ID, err
}

// killCatalog is users and purchases (merge) plus products stripped of its
// key and cursor (replace).
func killCatalog(t testing.TB, f *Faker) *protocol.ConfiguredCatalog {
	cat := f.Catalog(t)
	for i := range cat.Streams {
		if cat.Streams[i].Stream.Name == "products" {
			s := &cat.Streams[i]
			s.SyncMode, s.PrimaryKey, s.CursorField = protocol.SyncFullRefresh, nil, nil
			s.Stream.SourceDefinedPrimaryKey, s.Stream.DefaultCursorField = nil, nil
		}
	}
	return cat
}

type fatalTB struct{ testing.TB }

func (fatalTB) Helper() {}
func (fatalTB) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "child: "+format+"\n", args...)
	os.Exit(4)
}

// RunChild re-executes the test binary, running no test, with env added
// to its environment (its TestMain sees it and does the child's work), and
// SIGKILLs it after kill; with kill 0 it waits for it, and fails t unless
// it succeeds.
func RunChild(t *testing.T, kill time.Duration, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if kill > 0 {
		time.Sleep(kill)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		return
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("uninterrupted child: %v", err)
	}
}

// Kill re-executes the test binary as a child that loads the faker into
// the cache at target and SIGKILLs it on events the child reports: after
// its 1st, 3rd and 8th commit of a users state, and once every message was
// sent (the final swap and deduplication then run). After each kill the
// cache must hold at least the state the child was seen committing, every
// user up to that state, and products empty or complete (never half
// replaced); a final uninterrupted run resumes from the state and
// completes the data. The children spool in a temp dir of their own: what
// a kill leaves there is logged, and the next run must sweep it.
func Kill(t *testing.T, target string, open func(ctx context.Context, target string) (*cache.Cache, error), fakerBin string) {
	ctx := context.Background()
	tmp := t.TempDir()
	run := func(killAfter int, atEnd bool) (seen int64) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childTarget+"="+target, childFaker+"="+fakerBin, childCount+"="+strconv.Itoa(killCount), "TMPDIR="+tmp)
		cmd.Stderr = os.Stderr
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		commits, killed := 0, false
		for lines := bufio.NewScanner(out); lines.Scan(); {
			id, isCommit := strings.CutPrefix(lines.Text(), "committed ")
			if isCommit {
				n, _ := strconv.ParseInt(id, 10, 64)
				if n > 0 {
					commits++
					seen = n
				}
			}
			if !killed && ((isCommit && commits == killAfter && killAfter > 0) || (atEnd && lines.Text() == "sent all")) {
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		err := cmd.Wait()
		if (killAfter > 0 || atEnd) && !killed {
			t.Fatalf("the child ended (%v) before its kill point (commit %d, at end %v): it committed %d states", err, killAfter, atEnd, commits)
		}
		if !killed && err != nil {
			t.Fatalf("uninterrupted child: %v", err)
		}
		return seen
	}
	check := func(label string, seen int64) (committed int64) {
		c, err := open(ctx, target)
		if err != nil {
			t.Fatalf("%s: reopening the cache: %v", label, err)
		}
		defer c.Close()
		if committed, err = committedUser(ctx, c); err != nil {
			t.Fatal(err)
		}
		if committed < seen {
			t.Fatalf("%s: the cache holds users state %d, but the child was seen committing %d", label, committed, seen)
		}
		if committed > 0 {
			got := Strings(t, c, `SELECT CAST(count(DISTINCT id) AS VARCHAR) FROM users WHERE id <= ?`, committed)
			Equal(t, label+": users up to the committed state", got, []string{strconv.FormatInt(committed, 10)})
		}
		if ds, err := c.Dataset(ctx, "products"); err == nil {
			if n, _ := ds.Count(ctx); n != 0 && n != 100 {
				t.Fatalf("%s: products is half replaced: %d rows", label, n)
			}
		}
		dirs, bytes := spoolLeft(tmp)
		t.Logf("%s: users state %d (seen %d); left in the temp dir: %d spool dir(s), %.1f MB", label, committed, seen, dirs, float64(bytes)/1e6)
		return committed
	}
	for _, p := range []struct {
		label string
		after int
		atEnd bool
	}{{"killed after its 1st commit", 1, false}, {"killed after its 3rd commit", 3, false}, {"killed after its 8th commit", 8, false}, {"killed once every message was sent", 0, true}} {
		check(p.label, run(p.after, p.atEnd))
	}
	run(0, false)
	if got := check("after the uninterrupted run", 0); got != killCount {
		t.Fatalf("final state id = %d, want %d", got, killCount)
	}
	if dirs, bytes := spoolLeft(tmp); dirs > 0 {
		t.Fatalf("the runs left %d spool dirs (%d bytes) behind", dirs, bytes)
	}
	c, err := open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	Equal(t, "users complete", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR), CAST(count(DISTINCT id) AS VARCHAR) FROM users`), []string{fmt.Sprintf("%d|%d", killCount, killCount)})
	Equal(t, "products complete", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM products`), []string{"100"})
}

// spoolLeft counts the spool dirs a DuckDB cache's loads left in dir, and
// their bytes.
func spoolLeft(dir string) (dirs int, bytes int64) {
	matches, _ := filepath.Glob(filepath.Join(dir, "goairbyte-duckdb-*"))
	for _, d := range matches {
		dirs++
		filepath.WalkDir(d, func(_ string, e fs.DirEntry, err error) error {
			if info, ierr := e.Info(); err == nil && ierr == nil && !e.IsDir() {
				bytes += info.Size()
			}
			return nil
		})
	}
	return dirs, bytes
}

// BenchmarkFaker loads faker users and purchases (count records each) into
// a fresh cache per iteration, end to end from the faker process, and
// reports records/s.
// CACHE_BENCH_COUNT overrides count (for memory measurements at 10M),
// CACHE_BENCH_BATCH the batch size.
func BenchmarkFaker(b *testing.B, open func(b *testing.B) *cache.Cache, f *Faker, count int) {
	if n, err := strconv.Atoi(os.Getenv("CACHE_BENCH_COUNT")); err == nil {
		count = n
	}
	batch, _ := strconv.Atoi(os.Getenv("CACHE_BENCH_BATCH")) // 0: the default
	cat := f.Catalog(b, "users", "purchases")
	ctx := context.Background()
	var total int64
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		b.StopTimer()
		c := open(b)
		b.StartTimer()
		res, err := LoadFaker(ctx, c, f, fmt.Sprintf(`{"count":%d,"seed":1}`, count), cat, true, batch)
		if err != nil {
			b.Fatal(err)
		}
		total += res.Total
		b.StopTimer()
		c.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "records/s")
	if mb := PeakRSSMB(); mb > 0 {
		b.ReportMetric(mb, "peak-RSS-MB")
	}
}

// PeakRSSMB is this process's peak resident set size (VmHWM) in MB, 0 if
// unknown. The connector runs in its own process and is not included.
func PeakRSSMB() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
