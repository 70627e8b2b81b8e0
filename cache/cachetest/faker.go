package cachetest

import (
	"context"
	"encoding/json"
	"fmt"
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
	if os.Getenv(childMode) == "concurrent" {
		concurrentChild(open, target)
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
	if _, err := LoadFaker(ctx, c, f, FakerConfig(count, 1000), killCatalog(&fatalTB{}, f), false, 5000); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	c.Close()
	os.RemoveAll(dir)
	os.Exit(0)
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

// Kill re-executes the test binary as a child that loads the faker into
// the cache at target and SIGKILLs it at several moments. After each kill
// the cache must be consistent: every user up to the committed state's id
// is there, products is empty or complete (never half replaced); a final
// uninterrupted run resumes from the state and completes the data.
func Kill(t *testing.T, target string, open func(ctx context.Context, target string) (*cache.Cache, error), fakerBin string) {
	ctx := context.Background()
	run := func(kill time.Duration) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childTarget+"="+target, childFaker+"="+fakerBin, childCount+"="+strconv.Itoa(killCount))
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
	check := func(label string) (committed int64) {
		c, err := open(ctx, target)
		if err != nil {
			t.Fatalf("%s: reopening the cache: %v", label, err)
		}
		defer c.Close()
		st, err := c.State(ctx, cache.StateKey{Source: "source-faker", Stream: "users"})
		if err != nil {
			t.Fatal(err)
		}
		if st != nil {
			var cur struct{ ID int64 }
			json.Unmarshal(st.Stream.StreamState, &cur)
			committed = cur.ID
			got := Strings(t, c, `SELECT CAST(count(DISTINCT id) AS VARCHAR) FROM users WHERE id <= ?`, committed)
			Equal(t, label+": users up to the committed state", got, []string{strconv.FormatInt(committed, 10)})
		}
		if ds, err := c.Dataset(ctx, "products"); err == nil {
			if n, _ := ds.Count(ctx); n != 0 && n != 100 {
				t.Fatalf("%s: products is half replaced: %d rows", label, n)
			}
		}
		t.Logf("%s: users state id %d", label, committed)
		return committed
	}
	for i, d := range []time.Duration{150 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1500 * time.Millisecond} {
		run(d)
		check(fmt.Sprintf("kill %d after %v", i+1, d))
	}
	run(0)
	if got := check("after the uninterrupted run"); got != killCount {
		t.Fatalf("final state id = %d, want %d", got, killCount)
	}
	c, err := open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	Equal(t, "users complete", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR), CAST(count(DISTINCT id) AS VARCHAR) FROM users`), []string{fmt.Sprintf("%d|%d", killCount, killCount)})
	Equal(t, "products complete", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM products`), []string{"100"})
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
	if mb := peakRSSMB(); mb > 0 {
		b.ReportMetric(mb, "peak-RSS-MB")
	}
}

// peakRSSMB is this process's peak resident set size (VmHWM) in MB, 0 if
// unknown. The connector runs in its own process and is not included.
func peakRSSMB() float64 {
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
