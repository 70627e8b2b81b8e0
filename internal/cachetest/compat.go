package cachetest

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// compatVersion is a version of goairbyte that landed on main, and the
// writer program that fits its API (compatwriter/<writer>.go.txt).
type compatVersion struct {
	commit, writer string
	// ci says that the test runs it by default; the others run when
	// CompatAllEnv is set. The internal tables' DDL is the same in all
	// six of format 1; what differs is around it. The default set is one
	// version per layout: 70fd107 wrote with DuckDB 1.5.5; 2aa88ac with
	// DuckDB 2.0 and no claims; 3849e7a, the last of format 1, leaves
	// claims (rows of _airbyte_streams with no updated_at); 26aef8e, the
	// last of format 2, keeps states per table prefix and records no
	// namespaces. 18c7631, f2dafb1 and a424875
	// store what 2aa88ac stores for this test's loads (a424875's raw-id
	// floor is computed from the rows, not stored; the two before it may
	// keep a source's states of both kinds, which the faker never sends).
	ci bool
	// marked says that the version checks the format mark, and refuses
	// at open a cache that today's code upgraded.
	marked bool
}

var compatVersions = []compatVersion{
	{"70fd107", "v1", true, false},
	{"18c7631", "v2", false, false},
	{"f2dafb1", "v2", false, false},
	{"2aa88ac", "v2", true, false},
	{"a424875", "v2", false, false},
	{"3849e7a", "v2", true, false},
	{"26aef8e", "v3", true, true},
}

// CompatAllEnv, set to 1, makes Compat open the caches of every landed
// version, not only the default set.
const CompatAllEnv = "GOAIRBYTE_COMPAT_ALL"

//go:embed compatwriter/*.txt
var compatWriters embed.FS

// compatCount is the faker count the old version loads; today's code
// then continues to twice as many.
const compatCount = 50

// Compat opens, with today's code, caches that earlier versions of
// goairbyte wrote, for one backend ("duckdb" or "postgres"). For each
// version it builds (once per machine: see writerBinary) a program at
// that commit which loads the faker into the fresh cache fresh returns —
// users merged, purchases appended, products replaced, each with its
// state. Then, as it left the cache, and after a second run of it killed
// in its merge or in its replace, today's code must read the tables,
// continue each stream from its state with no row lost or repeated and
// raw ids still in arrival order, replace, keep the table owners, and
// load another source beside; and a cache an old version wrote under a
// table prefix must keep its states under it. open opens a target with
// today's code.
func Compat(t *testing.T, backendName string, fresh func(t testing.TB) string, open PrefixOpener, fakerBin string) {
	if _, err := exec.LookPath("git"); err != nil {
		testenv.NoHistory(t, fmt.Errorf("no git command to take the old versions from: %w", err))
	}
	all := os.Getenv(CompatAllEnv) == "1"
	script, err := compatWriters.ReadFile("compatwriter/killfaker.sh.txt")
	if err != nil {
		t.Fatal(err)
	}
	killFaker := filepath.Join(t.TempDir(), "killfaker")
	if err := os.WriteFile(killFaker, script, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, v := range compatVersions {
		t.Run(v.commit, func(t *testing.T) {
			if !v.ci && !all {
				t.Skipf("%s has the layout of a version in the default set; set %s=1 to run every version", v.commit, CompatAllEnv)
			}
			bin := writerBinary(t, v)
			for _, run := range []struct {
				name     string
				killRead int // the writer's reads: 1 users (merge), 2 purchases, 3 products (replace)
			}{{"as left", 0}, {"killed in its merge", 1}, {"killed in its replace", 3}} {
				t.Run(run.name, func(t *testing.T) {
					target := fresh(t)
					// The old versions' temp dirs (runs, spools) go into the
					// test's: a writer killed with -9, or older than the
					// sweep of dead owners' dirs, would leave them in the
					// machine's at every run.
					tmp := "TMPDIR=" + t.TempDir()
					writer := exec.Command(bin, backendName, target, fakerBin, strconv.Itoa(compatCount))
					writer.Env = append(os.Environ(), tmp)
					out, err := writer.CombinedOutput()
					if err != nil {
						t.Fatalf("the writer of %s: %v\n%s", v.commit, err, out)
					}
					if run.killRead > 0 {
						dir := t.TempDir()
						cmd := exec.Command(bin, backendName, target, killFaker, strconv.Itoa(2*compatCount))
						cmd.Env = append(os.Environ(), tmp, "COMPAT_FAKER="+fakerBin, "COMPAT_KILL_DIR="+dir,
							"COMPAT_KILL_READ="+strconv.Itoa(run.killRead), "COMPAT_KILL_LINE=45")
						out, err := cmd.CombinedOutput()
						if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
							t.Fatalf("the writer of %s was not killed in its read %d: %v\n%s", v.commit, run.killRead, err, out)
						}
					}
					checkCompat(t, func(ctx context.Context, target string) (*cache.Cache, error) { return open(ctx, target, "") }, target, &Faker{Bin: fakerBin, Dir: t.TempDir()})
					if v.marked {
						writer := exec.Command(bin, backendName, target, fakerBin, strconv.Itoa(compatCount))
						writer.Env = append(os.Environ(), tmp)
						if out, err := writer.CombinedOutput(); err == nil || !strings.Contains(string(out), "newer than the") {
							t.Fatalf("the writer of %s on the cache today's code upgraded: %v\n%s; want its refusal of a newer format", v.commit, err, out)
						}
					}
				})
			}
			if v.writer == "v1" {
				return // its writer takes no table prefix
			}
			t.Run("under a table prefix", func(t *testing.T) {
				target := fresh(t)
				writer := exec.Command(bin, backendName, target, fakerBin, strconv.Itoa(compatCount))
				writer.Env = append(os.Environ(), "TMPDIR="+t.TempDir(), "COMPAT_PREFIX=acct")
				if out, err := writer.CombinedOutput(); err != nil {
					t.Fatalf("the writer of %s: %v\n%s", v.commit, err, out)
				}
				checkCompatPrefix(t, open, target, &Faker{Bin: fakerBin, Dir: t.TempDir()})
			})
		})
	}
}

// checkCompat continues, with today's code, the cache an old version
// wrote at target: to 3×compatCount users, whatever the old version's
// last state.
func checkCompat(t *testing.T, open func(ctx context.Context, target string) (*cache.Cache, error), target string, f *Faker) {
	ctx := context.Background()
	c, err := open(ctx, target)
	if err != nil {
		t.Fatalf("opening the old cache: %v", err)
	}
	defer c.Close()
	streams, err := c.Streams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	Equal(t, "streams", streams, []string{"products", "purchases", "users"})
	Equal(t, "the format today's code upgraded the old cache to", Strings(t, c, `SELECT CAST(format AS VARCHAR) FROM _airbyte_cache_format`), []string{"3"})
	Equal(t, "the table prefixes of the old states", Strings(t, c, `SELECT DISTINCT '[' || table_prefix || ']' FROM _airbyte_state`), []string{"[]"})
	Equal(t, "the namespaces of the old tables (unknown)", Strings(t, c, `SELECT DISTINCT COALESCE(namespace, 'NULL') FROM _airbyte_streams`), []string{"NULL"})
	from, err := committedUser(ctx, c)
	if err != nil || from < compatCount {
		t.Fatalf("the old users state: id %d, %v; want %d or more", from, err, compatCount)
	}
	n := strconv.FormatInt(from, 10)
	Equal(t, "users as the old version left them (to its state)", Strings(t, c, `SELECT CAST(count(DISTINCT id) AS VARCHAR) FROM users WHERE id <= ?`, from), []string{n})
	Equal(t, "users not repeated", Strings(t, c, `SELECT CAST(count(*) - count(DISTINCT id) AS VARCHAR) FROM users`), []string{"0"})
	oldPurchases, _ := strconv.ParseInt(Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM purchases`)[0], 10, 64)
	if got := Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM products`)[0]; got == "0" {
		t.Fatalf("products is empty")
	}

	checkExports(t, c, "the old version's tables")

	t.Logf("the old version left users state %d, merge watermarks on %v, staging tables %v", from,
		Strings(t, c, `SELECT table_name FROM _airbyte_streams WHERE dedupe_from IS NOT NULL`), Strings(t, c, `SELECT staging_table FROM _airbyte_streams WHERE staging_table IS NOT NULL`))

	// Each stream continues from its state with the strategy it had.
	to := int64(3 * compatCount)
	config := FakerConfig(int(to), 10)
	load := func(stream string, st cache.Strategy, fullRefresh bool) *cache.LoadResult {
		t.Helper()
		cat := f.Catalog(t, stream)
		var state []byte
		if !fullRefresh {
			if state, err = c.SourceState(ctx, "source-faker", []string{stream}); err != nil || state == nil {
				t.Fatalf("%s: the old state: %s, %v", stream, state, err)
			}
		}
		res, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-faker", Catalog: cat, Strategy: st, FullRefresh: fullRefresh,
			Messages: f.Read(ctx, config, cat, state)})
		if err != nil {
			t.Fatalf("%s: loading with today's code: %v", stream, err)
		}
		return res
	}
	if res := load("users", cache.StrategyMerge, false); res.Records["users"] != to-from {
		t.Fatalf("users: today's load got %d records, want the %d after the old state", res.Records["users"], to-from)
	}
	m := strconv.FormatInt(to, 10)
	Equal(t, "users merged", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR), CAST(count(DISTINCT id) AS VARCHAR), CAST(max(id) AS VARCHAR) FROM users`), []string{m + "|" + m + "|" + m})
	Equal(t, "users' raw ids in arrival order", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM users WHERE id > ? AND _airbyte_raw_id <= (SELECT max(_airbyte_raw_id) FROM users WHERE id <= ?)`, from, from), []string{"0"})
	if id, err := committedUser(ctx, c); err != nil || id != to {
		t.Fatalf("the users state after today's load: id %d, %v; want %d", id, err, to)
	}
	res := load("purchases", cache.StrategyAppend, false)
	if res.Records["purchases"] == 0 {
		t.Fatalf("purchases: today's load got no records")
	}
	total := strconv.FormatInt(oldPurchases+res.Records["purchases"], 10)
	Equal(t, "purchases appended", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR), CAST(count(DISTINCT id) AS VARCHAR) FROM purchases`), []string{total + "|" + total})
	res = load("products", cache.StrategyReplace, true)
	Equal(t, "products replaced", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR), CAST(count(DISTINCT id) AS VARCHAR) FROM products`),
		[]string{fmt.Sprintf("%d|%d", res.Records["products"], res.Records["products"])})
	Equal(t, "staging tables left", Strings(t, c, `SELECT table_name FROM information_schema.tables WHERE table_name LIKE '_airbyte_tmp_%'`), nil)
	Equal(t, "watermarks left", Strings(t, c, `SELECT table_name FROM _airbyte_streams WHERE dedupe_from IS NOT NULL OR staging_table IS NOT NULL`), nil)

	checkExports(t, c, "the old version's tables loaded again")

	// The old version's tables keep their owner; another source loads
	// its own beside them, with a state apart.
	cat := Catalog(Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
	_, err = c.Load(ctx, cache.LoadRequest{SourceName: "source-other", Catalog: cat, Messages: Messages(Rec("users", `{"id":1}`))})
	if owner := (*cacheerr.TableOwnerError)(nil); !errors.As(err, &owner) || owner.Owner != "source-faker" {
		t.Fatalf("another source loading into the old version's users: %v, want a *cacheerr.TableOwnerError naming source-faker", err)
	}
	cat = Catalog(Stream("others", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-other", Catalog: cat,
		Messages: Messages(Rec("others", `{"id":1}`), StreamState("others", `{"id":1}`))}); err != nil {
		t.Fatalf("another source loading beside: %v", err)
	}
	if streams, err = c.Streams(ctx); err != nil {
		t.Fatal(err)
	}
	Equal(t, "streams after", streams, []string{"others", "products", "purchases", "users"})
	st, err := c.SourceState(ctx, "source-faker", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"users", "purchases", "products"} {
		if !strings.Contains(string(st), `"name":"`+s+`"`) {
			t.Fatalf("the faker's states lack %s: %s", s, st)
		}
	}
	if strings.Contains(string(st), "others") {
		t.Fatalf("the faker's states hold the other source's: %s", st)
	}
}

// checkExports exports the faker's streams with RecordLines, which read
// them in pages by ranges of raw ids: every row of each comes out, from
// the tables as an old version made them (on PostgreSQL without the index
// on the raw id, which a table gets at its next load) and as today's
// loads left them.
func checkExports(t *testing.T, c *cache.Cache, label string) {
	t.Helper()
	ctx := context.Background()
	for _, s := range []string{"users", "purchases", "products"} {
		ds, err := c.Dataset(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, err := range ds.RecordLines(ctx, nil) {
			if err != nil {
				t.Fatalf("%s: exporting %s: %v", label, s, err)
			}
			n++
		}
		Equal(t, label+": "+s+" exported", []string{strconv.Itoa(n)}, Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM `+s))
	}
}

// checkCompatPrefix continues, with today's code and the table prefix
// "acct", the cache an old version wrote at target under that prefix,
// whose states it kept by source alone: the upgrade keeps them under the
// prefix, where today's load of users continues from its state; opened
// without the prefix, the cache has no state of the faker and no stream.
func checkCompatPrefix(t *testing.T, open PrefixOpener, target string, f *Faker) {
	ctx := context.Background()
	c, err := open(ctx, target, "acct")
	if err != nil {
		t.Fatalf("opening the old cache with its prefix: %v", err)
	}
	defer c.Close()
	streams, err := c.Streams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	Equal(t, "streams under acct", streams, []string{"products", "purchases", "users"})
	Equal(t, "the table prefixes of the old states", Strings(t, c, `SELECT DISTINCT table_prefix FROM _airbyte_state`), []string{"acct_"})
	from, err := committedUser(ctx, c)
	if err != nil || from < compatCount {
		t.Fatalf("the old users state under acct: id %d, %v; want %d or more", from, err, compatCount)
	}
	to := int64(3 * compatCount)
	cat := f.Catalog(t, "users")
	state, err := c.SourceState(ctx, "source-faker", []string{"users"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-faker", Catalog: cat, Strategy: cache.StrategyMerge,
		Messages: f.Read(ctx, FakerConfig(int(to), 10), cat, state)})
	if err != nil {
		t.Fatalf("loading with today's code under acct: %v", err)
	}
	if res.Records["users"] != to-from {
		t.Fatalf("users: today's load got %d records, want the %d after the old state", res.Records["users"], to-from)
	}
	m := strconv.FormatInt(to, 10)
	Equal(t, "acct_users merged", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR), CAST(count(DISTINCT id) AS VARCHAR) FROM acct_users`), []string{m + "|" + m})
	none, err := open(ctx, target, "")
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	if st, err := none.SourceState(ctx, "source-faker", nil); err != nil || st != nil {
		t.Fatalf("the faker's state without a prefix: %s, %v; want none", st, err)
	}
	if streams, err := none.Streams(ctx); err != nil || len(streams) != 0 {
		t.Fatalf("the streams without a prefix: %v, %v; want none", streams, err)
	}
}

// writerBinaries builds each version's writer once per test binary.
var writerBinaries sync.Map // commit → *writerBuild

type writerBuild struct {
	once sync.Once
	path string
	err  error
}

// writerBinary returns the writer program of version v, built from the
// commit's tree (git archive of this checkout) with the writer's main
// added. Builds take 20 to 70 s (DuckDB is linked in), so the program is
// kept in the user's cache directory under a key of the commit, the
// writer's text and the Go version (goairbyte-compat/<commit>-<key>),
// and built there only once per machine. The build needs the commit's
// modules (70fd107: DuckDB 1.5.5's bindings) in the module cache or from
// the proxy; it fails the test otherwise. A commit this checkout does not
// have (a shallow clone) skips, or fails under GOAIRBYTE_REQUIRE_HISTORY=1.
func writerBinary(t *testing.T, v compatVersion) string {
	t.Helper()
	e, _ := writerBinaries.LoadOrStore(v.commit, new(writerBuild))
	b := e.(*writerBuild)
	root := testenv.ModuleRoot(t)
	b.once.Do(func() { b.path, b.err = buildWriter(root, v) })
	if errors.Is(b.err, errNoCommit) {
		testenv.NoHistory(t, b.err)
	}
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

var errNoCommit = errors.New("this checkout does not have the commit (a shallow clone?)")

func buildWriter(root string, v compatVersion) (string, error) {
	if err := exec.Command("git", "-C", root, "cat-file", "-e", v.commit+"^{commit}").Run(); err != nil {
		return "", fmt.Errorf("%s: %w", v.commit, errNoCommit)
	}
	src, err := compatWriters.ReadFile("compatwriter/" + v.writer + ".go.txt")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append([]byte(v.commit+runtime.Version()), src...))
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "goairbyte-compat")
	bin := filepath.Join(dir, v.commit+"-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tree, err := os.MkdirTemp("", "goairbyte-compat-"+v.commit+"-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tree)
	archive := exec.Command("sh", "-c", `git -C "$0" archive "$1" | tar -x -C "$2"`, root, v.commit, tree)
	if out, err := archive.CombinedOutput(); err != nil {
		return "", fmt.Errorf("git archive %s: %v\n%s", v.commit, err, out)
	}
	main := filepath.Join(tree, "cmd", "compatwriter")
	if err := os.MkdirAll(main, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(main, "main.go"), src, 0o644); err != nil {
		return "", err
	}
	tmp := bin + ".tmp" + strconv.Itoa(os.Getpid())
	build := exec.Command(testenv.GoTool(), "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, "./cmd/compatwriter")
	build.Dir = tree
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the writer at %s: %v\n%s", v.commit, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	// The commit's programs built from an earlier writer are stale: each
	// is about 90 MB.
	old, _ := filepath.Glob(filepath.Join(dir, v.commit+"-*"))
	for _, o := range old {
		if o != bin && !strings.Contains(filepath.Base(o), ".tmp") {
			os.Remove(o)
		}
	}
	return bin, nil
}
