package cachetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/protocol"
)

// PrefixOpener opens the cache at target with a table prefix ("" for
// none), as another Cache each time.
type PrefixOpener func(ctx context.Context, target, prefix string) (*cache.Cache, error)

// Prefixes checks that a table prefix is a space of its own in a cache:
// the states of sources and destinations, and the lock that runs one load
// of a source at a time, are kept per prefix, so that one connector read
// with two configs (two accounts) under two prefixes of one cache gets
// each account's records and state; and that a cache of format 1, whose
// states were shared by every prefix, is upgraded (once, however many
// Caches or processes open it at once) with every prefix keeping the
// states it used, and that
// an upgrade killed midway leaves format 1 for the next open to upgrade
// (the child processes of that test need ChildMain in TestMain). fresh
// returns a new target; fakerBin is the faker connector.
func Prefixes(t *testing.T, fresh func(t testing.TB) string, open PrefixOpener, fakerBin string) {
	opener := func(t *testing.T, target string) func(prefix string) *cache.Cache {
		return func(prefix string) *cache.Cache {
			t.Helper()
			c, err := open(context.Background(), target, prefix)
			if err != nil {
				t.Fatalf("opening with prefix %q: %v", prefix, err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		}
	}
	t.Run("two accounts of one source", func(t *testing.T) {
		t.Parallel()
		testTwoAccounts(t, opener(t, fresh(t)), &Faker{Bin: fakerBin, Dir: t.TempDir()})
	})
	t.Run("loads and writes of one source under two prefixes run at once", func(t *testing.T) {
		t.Parallel()
		testLocksPerPrefix(t, opener(t, fresh(t)))
	})
	t.Run("destination states per prefix", func(t *testing.T) {
		t.Parallel()
		testDestinationStatesPerPrefix(t, opener(t, fresh(t)))
	})
	t.Run("one source's streams that two prefixes make one table name", func(t *testing.T) {
		t.Parallel()
		testOneTableOfTwoPrefixes(t, opener(t, fresh(t)))
	})
	t.Run("a Cache lists the streams of its prefix", func(t *testing.T) {
		t.Parallel()
		testStreamsPerPrefix(t, opener(t, fresh(t)))
	})
	t.Run("a load of a source leaves alone its replace running under another prefix", func(t *testing.T) {
		t.Parallel()
		testReplaceBesideAnotherPrefix(t, opener(t, fresh(t)))
	})
	for _, marked := range []bool{true, false} {
		name := "a cache of format 1 is upgraded"
		if !marked {
			name += ", unmarked"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			target := fresh(t)
			makeFormat1(t, open, target, marked, 0)
			c := opener(t, target)("q")
			Equal(t, "format", Strings(t, c, `SELECT CAST(format AS VARCHAR) FROM _airbyte_cache_format`), []string{"3"})
			checkUpgraded(t, opener(t, target), "q_")
		})
	}
	t.Run("an upgrade keeps the states of the upgrading Cache's long prefix", func(t *testing.T) {
		t.Parallel()
		testUpgradeLongPrefix(t, fresh(t), open)
	})
	t.Run("processes that open a cache of format 1 at once upgrade it once", func(t *testing.T) {
		t.Parallel()
		testUpgradeByProcesses(t, fresh(t), open)
	})
	t.Run("an upgrade keeps a view over the state table", func(t *testing.T) {
		t.Parallel()
		testUpgradeKeepsView(t, fresh(t), open)
	})
	t.Run("an upgrade killed midway leaves format 1, and the next open upgrades", func(t *testing.T) {
		t.Parallel()
		testKilledUpgrade(t, fresh, open)
	})
	t.Run("concurrent opens of a new cache create it once", func(t *testing.T) {
		t.Parallel()
		target := fresh(t)
		const n = 4
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := open(context.Background(), target, fmt.Sprintf("p%d", i))
				if err == nil {
					c.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("open %d of %d: %v", i, n, err)
			}
		}
	})
	t.Run("concurrent opens of a cache of format 1 upgrade it once", func(t *testing.T) {
		t.Parallel()
		target := fresh(t)
		opn := opener(t, target)
		makeFormat1(t, open, target, true, 0)
		const n = 4
		caches := openAtOnce(t, open, target, n)
		// The source without tables is kept under the prefix of the one
		// open that upgraded.
		var upgraders []string
		for i := range n {
			if st := sourceState(t, caches[i], "src-z"); st != "" {
				upgraders = append(upgraders, fmt.Sprintf("p%d_", i))
			}
		}
		if len(upgraders) != 1 {
			t.Fatalf("src-z's state is kept under %v: want one prefix, of the one open that upgraded", upgraders)
		}
		checkUpgraded(t, opn, upgraders[0])
	})
}

// openAtOnce opens the cache at target n times at once, under the
// prefixes p0, p1, …, and fails the test unless every open succeeds. The
// Caches are closed when the test ends.
func openAtOnce(t *testing.T, open PrefixOpener, target string, n int) []*cache.Cache {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	caches := make([]*cache.Cache, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			caches[i], errs[i] = open(context.Background(), target, fmt.Sprintf("p%d", i))
		}()
	}
	close(start)
	wg.Wait()
	for _, c := range caches {
		if c != nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d of %d: %v", i, n, err)
		}
	}
	return caches
}

// accountConfig is the faker's config of one account: its own seed.
func accountConfig(count, seed int) string {
	return fmt.Sprintf(`{"count":%d,"seed":%d,"records_per_slice":10,"always_updated":false}`, count, seed)
}

// testTwoAccounts: the faker read with two seeds (two accounts) under two
// prefixes of one cache, incrementally, each from its own state.
func testTwoAccounts(t *testing.T, open func(prefix string) *cache.Cache, f *Faker) {
	ctx := context.Background()
	cat := f.Catalog(t, "users")
	read := func(c *cache.Cache, count, seed int) int64 {
		t.Helper()
		state, err := c.SourceState(ctx, "source-faker", nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-faker", Catalog: cat, Strategy: cache.StrategyMerge,
			Messages: f.Read(ctx, accountConfig(count, seed), cat, state)})
		if err != nil {
			t.Fatal(err)
		}
		return res.Records["users"]
	}
	a, b := open("acct_a"), open("acct_b_")
	if n := read(a, 30, 1); n != 30 {
		t.Fatalf("account A's first read: %d users, want 30", n)
	}
	if n := read(b, 20, 2); n != 20 {
		t.Fatalf("account B's first read, under its own prefix: %d users, want its 20", n)
	}
	for c, want := range map[*cache.Cache]int64{a: 30, b: 20} {
		if id, err := committedUser(ctx, c); err != nil || id != want {
			t.Fatalf("a state: users id %d (%v), want %d", id, err, want)
		}
	}
	if n := read(b, 25, 2); n != 5 {
		t.Fatalf("account B's second read: %d users, want the 5 after its state", n)
	}
	if n := read(open("acct_a_"), 40, 1); n != 10 {
		t.Fatalf("account A's second read, with the prefix written acct_a_: %d users, want the 10 after its state", n)
	}
	Equal(t, "account A's users", Strings(t, a, `SELECT CAST(count(*) AS VARCHAR), CAST(max(id) AS VARCHAR) FROM acct_a_users`), []string{"40|40"})
	Equal(t, "account B's users", Strings(t, a, `SELECT CAST(count(*) AS VARCHAR), CAST(max(id) AS VARCHAR) FROM acct_b_users`), []string{"25|25"})
	if st := sourceState(t, open(""), "source-faker"); st != "" {
		t.Fatalf("the cache without a prefix has a state of the faker: %s", st)
	}
}

// testLocksPerPrefix: while a load of a source runs under one prefix, a
// load of it under another runs and one under the same prefix (another
// Cache) is refused; so is a Write's lock.
func testLocksPerPrefix(t *testing.T, open func(prefix string) *cache.Cache) {
	ctx := context.Background()
	a, a2, b := open("a"), open("a_"), open("b")
	cat := Catalog(Stream("items", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
	started, release := make(chan struct{}), make(chan struct{})
	held := func(yield func(*protocol.Message, error) bool) {
		if yield(Rec("items", `{"id":1}`), nil) {
			close(started)
			<-release
		}
	}
	done := make(chan error)
	go func() {
		_, err := a.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Messages: held})
		done <- err
	}()
	<-started
	load := func(c *cache.Cache) error {
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat,
			Messages: Messages(Rec("items", `{"id":2}`), StreamState("items", `{"id":2}`))})
		return err
	}
	errB := load(b)
	errA2 := load(a2)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if errB != nil {
		t.Errorf("a load of the source under another prefix, while one runs: %v", errB)
	}
	if !errors.Is(errA2, cache.ErrInUse) || !strings.Contains(errA2.Error(), `under table prefix "a_"`) {
		t.Errorf("a load of the source under the same prefix (another Cache), while one runs: %v, want an error matching ErrInUse that names the prefix", errA2)
	}
	_, unlock, err := cacheOps.LockWrite(a, ctx, "src", "dst")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, unlockB, err := cacheOps.LockWrite(b, ctx, "src", "dst"); err != nil {
		t.Errorf("a Write of the source under another prefix, while one runs: %v", err)
	} else {
		unlockB()
	}
	if _, _, err := cacheOps.LockWrite(a2, ctx, "src", "dst"); !errors.Is(err, cache.ErrInUse) || !strings.Contains(err.Error(), `under table prefix "a_"`) {
		t.Errorf("a Write of the source under the same prefix (another Cache), while one runs: %v, want an error matching ErrInUse that names the prefix", err)
	}
}

// testDestinationStatesPerPrefix: a destination's states (its watermarks)
// under one prefix are not another's, and replacing them leaves the
// other's alone.
func testDestinationStatesPerPrefix(t *testing.T, open func(prefix string) *cache.Cache) {
	ctx := context.Background()
	a, b, none := open("a"), open("b"), open("")
	key := cache.StateKey{Source: "src", Destination: "dst", Stream: "users"}
	for c, wm := range map[*cache.Cache]string{a: "a", b: "b"} {
		if err := cacheOps.PutStates(c, ctx, map[cache.StateKey]*protocol.State{key: StreamState("users", `{"wm":"`+wm+`"}`).State}); err != nil {
			t.Fatal(err)
		}
	}
	watermarks := func(c *cache.Cache) string {
		t.Helper()
		states, err := cacheOps.States(c, ctx, "src", "dst", nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for name, st := range states {
			if st.Stream != nil {
				out = append(out, name+" "+string(st.Stream.StreamState))
			} else {
				out = append(out, "whole "+string(st.Data))
			}
		}
		return strings.Join(out, ", ")
	}
	for c, want := range map[*cache.Cache]string{a: `users {"wm":"a"}`, b: `users {"wm":"b"}`, none: ``} {
		if got := watermarks(c); got != want {
			t.Fatalf("watermarks: %s, want %s", got, want)
		}
	}
	if err := cacheOps.PutStates(b, ctx, map[cache.StateKey]*protocol.State{{Source: "src", Destination: "dst"}: LegacyState(`{"b":1}`).State}); err != nil {
		t.Fatal(err)
	}
	if got := watermarks(a); got != `users {"wm":"a"}` {
		t.Fatalf("prefix a's watermark after prefix b's changed kind: %s", got)
	}
	if got := watermarks(b); got != `whole {"b":1}` {
		t.Fatalf("prefix b's watermark: %s", got)
	}
}

// testOneTableOfTwoPrefixes: prefix "pfx" with stream "a_users" and prefix
// "pfx_a" with stream "users" make one table, pfx_a_users. Of two sources
// the second is refused as the table's owner; of one source (two accounts,
// each with a state of its own under its prefix), the second load must be
// refused too, not mix its records into the other prefix's table.
func testOneTableOfTwoPrefixes(t *testing.T, open func(prefix string) *cache.Cache) {
	ctx := context.Background()
	load := func(c *cache.Cache, stream, id string) error {
		t.Helper()
		cat := Catalog(Stream(stream, `{"id":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: cache.StrategyAppend,
			Messages: Messages(Rec(stream, `{"id":`+id+`}`), StreamState(stream, `{"id":`+id+`}`))})
		return err
	}
	pfx, pfxA := open("pfx"), open("pfx_a")
	if err := load(pfx, "a_users", "1"); err != nil {
		t.Fatal(err)
	}
	err := load(pfxA, "users", "2")
	if !errors.Is(err, cache.ErrNameCollision) || !strings.Contains(err.Error(), `"a_users"`) || !strings.Contains(err.Error(), "pfx_a_users") {
		t.Errorf("a load of stream users under prefix pfx_a into pfx_a_users, which holds the same source's stream a_users under prefix pfx: %v, want an error matching ErrNameCollision that names both", err)
	}
	Equal(t, "pfx_a_users", Strings(t, pfx, `SELECT CAST(id AS VARCHAR) FROM pfx_a_users ORDER BY id`), []string{"1"})
	if st := sourceState(t, pfxA, "src"); st != "" {
		t.Errorf("the state under prefix pfx_a after its load was refused: %s", st)
	}
	// The stream of the same normalised name under the same prefix (a
	// connector that renamed Users to users) still loads into its table.
	if err := load(pfx, "A_Users", "3"); err != nil {
		t.Errorf("a load of A_Users under prefix pfx, whose table pfx_a_users holds a_users: %v", err)
	}
	// A claim (updated_at NULL) that a load of the source under prefix
	// pfx left on pfx_a_b when it was killed before it created the table
	// holds no records: a load under pfx_a takes it over, as it does
	// another source's claim.
	if _, err := pfx.ExecSQL(ctx, `INSERT INTO _airbyte_streams (table_name, stream_name, source_name) VALUES ('pfx_a_b', 'a_b', 'src')`); err != nil {
		t.Fatal(err)
	}
	if err := load(pfxA, "b", "4"); err != nil {
		t.Errorf("a load of b under prefix pfx_a, whose table pfx_a_b the source's load of a_b under pfx only claimed: %v", err)
	}
	Equal(t, "pfx_a_b", Strings(t, pfx, `SELECT CAST(id AS VARCHAR) FROM pfx_a_b`), []string{"4"})
	Equal(t, "pfx_a_b's stream", Strings(t, pfx, `SELECT stream_name FROM _airbyte_streams WHERE table_name = 'pfx_a_b'`), []string{"b"})
}

// testStreamsPerPrefix: Cache.Streams lists the streams that have a table
// under the Cache's prefix, the ones Dataset opens, and a stream not found
// names those as the available ones; not those of other prefixes.
func testStreamsPerPrefix(t *testing.T, open func(prefix string) *cache.Cache) {
	ctx := context.Background()
	a, b, none := open("a"), open("b"), open("")
	for c, stream := range map[*cache.Cache]string{a: "users", b: "orders"} {
		cat := Catalog(Stream(stream, `{"id":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
		if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Messages: Messages(Rec(stream, `{"id":1}`))}); err != nil {
			t.Fatal(err)
		}
	}
	for c, want := range map[*cache.Cache][]string{a: {"users"}, b: {"orders"}, none: nil} {
		got, err := c.Streams(ctx)
		if err != nil {
			t.Fatal(err)
		}
		Equal(t, "streams", got, want)
		for _, s := range got {
			if _, err := c.Dataset(ctx, s); err != nil {
				t.Errorf("the dataset of %s, which Streams lists: %v", s, err)
			}
		}
	}
	_, err := b.Dataset(ctx, "users")
	var nf *protocol.StreamNotFoundError
	if !errors.As(err, &nf) || !slices.Equal(nf.Available, []string{"orders"}) {
		t.Errorf("the dataset of users under prefix b, which has none: %v; want a stream not found that offers orders", err)
	}
}

// testReplaceBesideAnotherPrefix: while a replace load of a source runs
// under one prefix (its records in a staging table, recorded in
// _airbyte_streams for a killed load's clean-up), a load of the source
// under another prefix, which may run at once, runs to its end; and the
// first completes with its records swapped in. A load clears the staging
// tables that its source's killed loads left; it took the running load's
// under the other prefix for one, and dropped it. Likewise, it forgot the
// other prefix's claims as tables of its own that were gone.
func testReplaceBesideAnotherPrefix(t *testing.T, open func(prefix string) *cache.Cache) {
	ctx := context.Background()
	a, b := open("a"), open("b")
	cat := Catalog(Stream("items", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, [][]string{{"id"}}))
	started, release := make(chan struct{}), make(chan struct{})
	held := func(yield func(*protocol.Message, error) bool) {
		if !yield(Rec("items", `{"id":1}`), nil) {
			return
		}
		close(started)
		<-release
		yield(Rec("items", `{"id":2}`), nil)
	}
	done := make(chan error)
	go func() {
		_, err := a.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: cache.StrategyReplace, Messages: held})
		done <- err
	}()
	<-started
	_, errB := b.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: cache.StrategyReplace, Messages: Messages(Rec("items", `{"id":3}`))})
	close(release)
	if err := <-done; err != nil {
		t.Errorf("the replace under prefix a, while one under prefix b ran: %v", err)
	}
	if errB != nil {
		t.Fatalf("the replace under prefix b: %v", errB)
	}
	Equal(t, "a_items", Strings(t, a, `SELECT CAST(id AS VARCHAR) FROM a_items ORDER BY id`), []string{"1", "2"})
	Equal(t, "b_items", Strings(t, a, `SELECT CAST(id AS VARCHAR) FROM b_items ORDER BY id`), []string{"3"})
	// A claim under prefix b (a load there that has not created its table
	// yet, or was killed before it did) is left to b's loads: a load
	// under a took it for a table of its own that was gone.
	if _, err := b.ExecSQL(ctx, `INSERT INTO _airbyte_streams (table_name, stream_name, source_name) VALUES ('b_new', 'new', 'src')`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: cache.StrategyReplace, Messages: Messages(Rec("items", `{"id":4}`))}); err != nil {
		t.Fatal(err)
	}
	Equal(t, "b's claim", Strings(t, a, `SELECT source_name FROM _airbyte_streams WHERE table_name = 'b_new'`), []string{"src"})
}

// sourceState is the SourceState of source in c, "" for none.
func sourceState(t testing.TB, c *cache.Cache, source string) string {
	t.Helper()
	st, err := c.SourceState(context.Background(), source, nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(st)
}

// The states makeFormat1 leaves, and a stream name longer than
// PostgreSQL's identifiers, whose table's name is shortened.
const (
	format1Users  = `{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"id":7}}}`
	format1Dest   = `{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"wm":"x"}}}`
	format1Legacy = `{"data":{"orders":{"id":3}}}`
	format1Z      = `{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"id":9}}}`
)

var longStream = "events_" + strings.Repeat("long", 16)

// makeFormat1 makes the cache that open opens a cache as a version before
// states were kept per prefix left it (_airbyte_streams as in format 2,
// which kept it as format 1 had): the tables of src-x (users under no
// prefix, a and b_; a long stream under c) and of src-y (orders under b),
// then the state table of format 1, as those versions created it, with
// src-x's state and a destination's, src-y's LEGACY state, the state of
// src-z, which has no table, and bulk STREAM states of src-bulk, which has
// none either; format 1, or no mark at all; then the statements then. It
// closes what it opened.
func makeFormat1(t *testing.T, open PrefixOpener, target string, marked bool, bulk int, then ...string) {
	ctx := context.Background()
	opn := func(prefix string) *cache.Cache {
		t.Helper()
		c, err := open(ctx, target, prefix)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	load := func(prefix, source, stream string) {
		t.Helper()
		c := opn(prefix)
		defer c.Close()
		cat := Catalog(Stream(stream, `{"id":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
		if _, err := c.Load(ctx, cache.LoadRequest{SourceName: source, Catalog: cat, Messages: Messages(Rec(stream, `{"id":1}`))}); err != nil {
			t.Fatal(err)
		}
	}
	load("", "src-x", "users")
	load("a", "src-x", "users")
	load("b_", "src-x", "users")
	load("c", "src-x", longStream)
	load("b", "src-y", "orders")
	c := opn("")
	defer c.Close()
	for _, q := range slices.Concat(format2Statements, []string{
		`DROP TABLE _airbyte_state`,
		`CREATE TABLE IF NOT EXISTS _airbyte_state (source_name VARCHAR NOT NULL, destination_name VARCHAR NOT NULL, stream_name VARCHAR NOT NULL, state_type VARCHAR NOT NULL, state_json VARCHAR NOT NULL, updated_at TIMESTAMPTZ, PRIMARY KEY (source_name, destination_name, stream_name))`,
		`INSERT INTO _airbyte_state VALUES ('src-x', '', 'users', 'STREAM', '` + format1Users + `', CAST('2026-01-01 00:00:00+00' AS TIMESTAMPTZ))`,
		`INSERT INTO _airbyte_state VALUES ('src-x', 'dst', 'users', 'STREAM', '` + format1Dest + `', CAST('2026-01-02 00:00:00+00' AS TIMESTAMPTZ))`,
		`INSERT INTO _airbyte_state VALUES ('src-y', '', '', 'LEGACY', '` + format1Legacy + `', CAST('2026-01-03 00:00:00+00' AS TIMESTAMPTZ))`,
		`INSERT INTO _airbyte_state VALUES ('src-z', '', 'users', 'STREAM', '` + format1Z + `', CAST('2026-01-04 00:00:00+00' AS TIMESTAMPTZ))`,
		map[bool]string{true: `UPDATE _airbyte_cache_format SET format = 1`, false: `DROP TABLE _airbyte_cache_format`}[marked],
		`INSERT INTO _airbyte_state SELECT 'src-bulk', '', 's' || CAST(i AS VARCHAR), 'STREAM', '{}', CAST('2026-01-05 00:00:00+00' AS TIMESTAMPTZ) FROM generate_series(1, ` + strconv.Itoa(bulk) + `) AS g(i)`,
	}, then) {
		if _, err := c.ExecSQL(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// checkUpgraded checks the states of the cache makeFormat1 made, once
// upgraded by a Cache of prefix upgrader: src-x's, the destination's
// included, under each of its prefixes; src-y's under b_; src-z's under
// upgrader only.
func checkUpgraded(t *testing.T, open func(prefix string) *cache.Cache, upgrader string) {
	ctx := context.Background()
	for _, prefix := range []string{"", "a", "a_", "b", "c_", upgrader} {
		c := open(prefix)
		x, y, z := format1Users, `{"orders":{"id":3}}`, format1Z // SourceState passes a LEGACY state's data
		p := prefix
		if p != "" && !strings.HasSuffix(p, "_") {
			p += "_"
		}
		if p != "b_" {
			y = ""
		}
		if p == upgrader {
			x = ""
		} else {
			z = ""
		}
		if x != "" {
			x = "[" + x + "]"
		}
		if z != "" {
			z = "[" + z + "]"
		}
		for _, s := range []struct{ source, want string }{{"src-x", x}, {"src-y", y}, {"src-z", z}} {
			if got := sourceState(t, c, s.source); got != s.want {
				t.Errorf("prefix %q: the state of %s: %s, want %s", prefix, s.source, got, s.want)
			}
		}
		dest, err := c.State(ctx, cache.StateKey{Source: "src-x", Destination: "dst", Stream: "users"})
		if err != nil {
			t.Fatal(err)
		}
		if got := dest != nil; got != (p != upgrader) {
			t.Errorf("prefix %q: the destination's state of src-x: %+v", prefix, dest)
		}
	}
	// updated_at is kept: SourceState orders the kinds a source left by it.
	got := Strings(t, open(upgrader), `SELECT table_prefix || ' ' || source_name || ' ' || destination_name || ' ' || CAST(CAST(updated_at AS DATE) AS VARCHAR) FROM _airbyte_state`)
	want := []string{
		" src-x  2026-01-01", " src-x dst 2026-01-02",
		"a_ src-x  2026-01-01", "a_ src-x dst 2026-01-02",
		"b_ src-x  2026-01-01", "b_ src-x dst 2026-01-02", "b_ src-y  2026-01-03",
		"c_ src-x  2026-01-01", "c_ src-x dst 2026-01-02",
		upgrader + " src-z  2026-01-04",
	}
	slices.Sort(got)
	slices.Sort(want)
	Equal(t, "states by prefix", got, want)
}

// longPrefix is a table prefix so long that PostgreSQL's 63-byte limit
// cuts its tables' names within it, where no table name tells it.
var longPrefix = "acct_" + strings.Repeat("x", 55)

// testUpgradeLongPrefix: a source loaded under no prefix and under
// longPrefix by a version of format 1, whose one state both shared, is
// upgraded by a Cache with longPrefix: that prefix keeps the state, as
// "" does. Its tables' names (cut on PostgreSQL) do not tell the prefix,
// but they are the names this Cache gives its streams.
func testUpgradeLongPrefix(t *testing.T, target string, open PrefixOpener) {
	ctx := context.Background()
	for _, prefix := range []string{"", longPrefix} {
		c, err := open(ctx, target, prefix)
		if err != nil {
			t.Fatal(err)
		}
		cat := Catalog(Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
		_, err = c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Messages: Messages(Rec("users", `{"id":1}`))})
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	c, err := open(ctx, target, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range slices.Concat(format2Statements, []string{
		`DROP TABLE _airbyte_state`,
		`CREATE TABLE _airbyte_state (source_name VARCHAR NOT NULL, destination_name VARCHAR NOT NULL, stream_name VARCHAR NOT NULL, state_type VARCHAR NOT NULL, state_json VARCHAR NOT NULL, updated_at TIMESTAMPTZ, PRIMARY KEY (source_name, destination_name, stream_name))`,
		`INSERT INTO _airbyte_state VALUES ('src', '', 'users', 'STREAM', '` + format1Users + `', CURRENT_TIMESTAMP)`,
		`UPDATE _airbyte_cache_format SET format = 1`,
	}) {
		if _, err := c.ExecSQL(ctx, q); err != nil {
			c.Close()
			t.Fatalf("%s: %v", q, err)
		}
	}
	c.Close()
	for _, prefix := range []string{longPrefix, ""} {
		c, err := open(ctx, target, prefix)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got := sourceState(t, c, "src"); got != "["+format1Users+"]" {
			t.Errorf("prefix %q: the state of src after the upgrade: %q, want the one it used", prefix, got)
		}
	}
}

// testUpgradeByProcesses starts processes (children of the test binary,
// which open with no prefix) that open a cache of format 1 at once, with
// enough states that the upgrade takes a while: on PostgreSQL each waits
// for the one that upgrades (the lock is the server's, across processes)
// and finds the cache upgraded; on a DuckDB file, whose one writing
// process holds its lock, the others are refused with an error matching
// ErrInUse. The cache is upgraded once, with every state where it belongs.
func testUpgradeByProcesses(t *testing.T, target string, open PrefixOpener) {
	const bulk, n = 50_000, 4
	makeFormat1(t, open, target, true, bulk)
	cmds := make([]*exec.Cmd, n)
	stderr := make([]strings.Builder, n)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^$")
		cmds[i].Env = append(os.Environ(), childTarget+"="+target, childMode+"=upgrade")
		cmds[i].Stderr = &stderr[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	duckdb := strings.HasSuffix(target, ".duckdb")
	opened := 0
	for i, cmd := range cmds {
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
			opened++
		case duckdb && errors.As(err, &ee) && ee.ExitCode() == exitInUse:
			t.Logf("process %d, refused: %s", i, strings.TrimSpace(stderr[i].String()))
		default:
			t.Errorf("process %d: %v %s", i, err, stderr[i].String())
		}
	}
	if opened == 0 {
		t.Fatal("no process opened the cache")
	}
	t.Logf("%d of %d processes opened the cache", opened, n)
	c, err := open(context.Background(), target, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	Equal(t, "format", Strings(t, c, `SELECT CAST(format AS VARCHAR) FROM _airbyte_cache_format`), []string{"3"})
	got := Strings(t, c, `SELECT table_prefix || ' ' || source_name || ' ' || CAST(count(*) AS VARCHAR) FROM _airbyte_state GROUP BY table_prefix, source_name`)
	want := []string{" src-x 2", " src-z 1", " src-bulk " + strconv.Itoa(bulk), "a_ src-x 2", "b_ src-x 2", "b_ src-y 1", "c_ src-x 2"}
	slices.Sort(got)
	slices.Sort(want)
	Equal(t, "states by prefix and source", got, want)
}

// testUpgradeKeepsView: a view a user made over the state table of a
// cache of format 1 (to watch the states) does not stop the upgrade, and
// reads the upgraded table. On PostgreSQL, creating the table anew needed
// to drop it, which the view refused: the cache could not be opened.
func testUpgradeKeepsView(t *testing.T, target string, open PrefixOpener) {
	makeFormat1(t, open, target, true, 0, `CREATE VIEW watched_states AS SELECT source_name, state_type FROM _airbyte_state`)
	c, err := open(context.Background(), target, "")
	if err != nil {
		t.Fatalf("opening a cache of format 1 with a view over its states: %v", err)
	}
	defer c.Close()
	Equal(t, "format", Strings(t, c, `SELECT CAST(format AS VARCHAR) FROM _airbyte_cache_format`), []string{"3"})
	Equal(t, "the view's states", Strings(t, c, `SELECT source_name || ' ' || CAST(count(*) AS VARCHAR) FROM watched_states GROUP BY source_name ORDER BY source_name`),
		[]string{"src-x 8", "src-y 1", "src-z 1"})
}

// killBulk is how many states of src-bulk testKilledUpgrade's caches hold,
// so that the upgrade takes long enough for kills to land in it.
const killBulk = 200_000

// upgradeChild opens the cache at target, saying "opening" on stdout
// before and "opened in <µs>" after: a child of testKilledUpgrade.
func upgradeChild(open func(ctx context.Context, target string) (*cache.Cache, error), target string) {
	fmt.Println("opening")
	start := time.Now()
	c, err := open(context.Background(), target)
	if err != nil {
		childExit(err)
	}
	fmt.Println("opened in", time.Since(start).Microseconds())
	c.Close()
	os.Exit(0)
}

// testKilledUpgrade kills child processes with -9 while they open (and
// upgrade) a cache of format 1, at fractions of the time an open took
// unkilled: each kill must leave the cache as it was or upgraded, never
// half (the upgrade is one transaction), and the next open (with no
// prefix) upgrades it with every state where it belongs.
func testKilledUpgrade(t *testing.T, fresh func(t testing.TB) string, open PrefixOpener) {
	ctx := context.Background()
	run := func(target string, kill time.Duration) (took time.Duration) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childTarget+"="+target, childMode+"=upgrade")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		if !lines.Scan() || lines.Text() != "opening" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the child did not start opening: %q %s", lines.Text(), stderr.String())
		}
		if kill > 0 {
			time.Sleep(kill)
			cmd.Process.Signal(syscall.SIGKILL)
		}
		for lines.Scan() {
			if us, ok := strings.CutPrefix(lines.Text(), "opened in "); ok {
				n, _ := strconv.Atoi(us)
				took = time.Duration(n) * time.Microsecond
			}
		}
		if err := cmd.Wait(); kill == 0 && err != nil {
			t.Fatalf("the child: %v %s", err, stderr.String())
		}
		return took
	}
	check := func(target string) {
		t.Helper()
		c, err := open(ctx, target, "")
		if err != nil {
			t.Fatalf("opening after the kill: %v", err)
		}
		defer c.Close()
		Equal(t, "format", Strings(t, c, `SELECT CAST(format AS VARCHAR) FROM _airbyte_cache_format`), []string{"3"})
		got := Strings(t, c, `SELECT table_prefix || ' ' || source_name || ' ' || CAST(count(*) AS VARCHAR) FROM _airbyte_state GROUP BY table_prefix, source_name`)
		want := []string{" src-x 2", " src-z 1", " src-bulk " + strconv.Itoa(killBulk), "a_ src-x 2", "b_ src-x 2", "b_ src-y 1", "c_ src-x 2"}
		slices.Sort(got)
		slices.Sort(want)
		Equal(t, "states by prefix and source", got, want)
	}
	target := fresh(t)
	makeFormat1(t, open, target, true, killBulk)
	took := run(target, 0)
	check(target)
	var during int
	fractions := []float64{0.2, 0.4, 0.6, 0.8, 0.95}
	for _, f := range fractions {
		target := fresh(t)
		makeFormat1(t, open, target, true, killBulk)
		if run(target, time.Duration(f*float64(took))) == 0 {
			during++
		}
		check(target)
	}
	t.Logf("an open that upgraded %d states took %v; %d of %d kills landed before the child had opened the cache", killBulk, took, during, len(fractions))
}
