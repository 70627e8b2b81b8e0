package destination_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// crashUsers is how many users a crash test's Write sends, each followed
// by a STATE (records_per_slice 1), which the local-JSON destination
// echoes once the user is fsynced.
const crashUsers = 5_000

// crashKillPoints are the numbers of states the destination has echoed
// when the Write is killed or cancelled: at the first echoes, in the
// middle, and at the last ones, when the Write's committer makes its final
// commit.
var crashKillPoints = []int{1, 10, 100, 500, 1_500, 2_500, 3_500, 4_500, crashUsers - 1, crashUsers}

// crashChildEnv carries a crashRun to TestWriteKilledChild.
const crashChildEnv = "DESTINATION_CRASH_CHILD"

// crashRun is one Write under test: the cache holding the destination's
// state, where the destination writes and logs the states it echoed, the
// binaries to run.
type crashRun struct {
	CacheKind, CacheAt string // "duckdb" and a file, or "postgres" and a DSN
	Key                string // the Write's StateKey
	Dest, StateLog     string
	// Echoes makes the destination of the Write under test log each
	// state once it has written it on its stdout, in echoLog (and SIGTERM
	// then ends it between two writes).
	Echoes bool
	// Image, when set, runs the destination as this image of dieafter,
	// with the directory of Dest and StateLog mounted at /local.
	Image            string
	Faker, LocalJSON string
	// Users is how many users the faker has: crashUsers unless set.
	Users int64
	// Replace writes with the replace strategy (overwrite), in full.
	Replace bool
	// FromCache reads the faker into the cache and writes from there (a
	// STATE every StateInterval rows), not with NoCache.
	FromCache bool
}

func (r crashRun) openCache(ctx context.Context) (*cache.Cache, error) {
	if r.CacheKind == "postgres" {
		return cache.New(ctx, postgres.NewConnector(r.CacheAt))
	}
	return cache.New(ctx, duckdb.NewConnector(r.CacheAt))
}

// echoLog is where the destination logs the states it wrote on its stdout
// (with Echoes).
func (r crashRun) echoLog() string { return filepath.Join(filepath.Dir(r.StateLog), "echoes.jsonl") }

func (r crashRun) users() int64 {
	if r.Users == 0 {
		return crashUsers
	}
	return r.Users
}

// write runs the Write: the faker's users streamed with no cache into the
// local-JSON destination (append, so that a record sent twice is in its
// file twice), the echoed states stored in the run's cache under its key.
// The Write under test (underTest) has a state after every user, and its
// destination logs the states it echoes; the one that resumes after it
// has a state every 100 users, the faker's default here. FromCache, the
// users are read into the cache first (incrementally) and written from
// there.
func (r crashRun) write(ctx context.Context, c *cache.Cache, underTest bool) (*destination.WriteResult, error) {
	fakerCfg := fakerConfig(int(r.users()))
	if underTest && !r.FromCache {
		fakerCfg["records_per_slice"] = 1
	}
	src, err := source.New(ctx, "source-faker", connector.WithLocalExecutable(r.Faker),
		connector.WithConfig(fakerCfg), connector.WithStreams("users"))
	if err != nil {
		return nil, err
	}
	in, runs := func(p string) string { return p }, connector.WithLocalExecutable(r.LocalJSON)
	if r.Image != "" {
		in = func(p string) string { return "/local/" + filepath.Base(p) }
		runs = connector.WithDockerImage(r.Image)
	}
	cfg := map[string]any{"destination_path": in(r.Dest)}
	if underTest {
		cfg["state_log"] = in(r.StateLog)
		if r.Echoes {
			cfg["echo_log"] = in(r.echoLog())
		}
	}
	dopts := []connector.Option{runs, connector.WithConfig(cfg)}
	if r.Image != "" {
		dopts = append(dopts, connector.WithLocalMount(filepath.Dir(r.Dest)))
	}
	dst, err := destination.New(ctx, "destination-local-json", dopts...)
	if err != nil {
		return nil, err
	}
	opts := []destination.WriteOption{destination.NoCache(), destination.StateCache(c), destination.StateKey(r.Key),
		destination.Strategy(cache.StrategyAppend), destination.NoProgress()}
	if r.Replace {
		opts = append(opts, destination.Strategy(cache.StrategyReplace), destination.ForceFullRefresh())
	}
	if r.FromCache {
		opts = []destination.WriteOption{destination.UseCache(c), destination.StateKey(r.Key),
			destination.Strategy(cache.StrategyAppend), destination.NoProgress()}
	}
	return dst.Write(ctx, src, opts...)
}

// TestWriteKilledChild is the Write TestWriteKilled kills: it says ready,
// writes, and then waits to be killed.
func TestWriteKilledChild(t *testing.T) {
	raw := os.Getenv(crashChildEnv)
	if raw == "" {
		t.Skip("the process TestWriteKilled kills")
	}
	var r crashRun
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := r.openCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	_, err = r.write(ctx, c, true)
	fmt.Println("written:", err)
	select {} // until killed: the Write's end is one more kill point
}

// TestWriteKilled SIGKILLs the program during a Write that stores, by group
// commit, a state the destination echoes after each record: after the
// destination echoed k states, for each of crashKillPoints, on DuckDB and
// PostgreSQL. Then the cache must open, the stored state must be one the
// destination committed (it logs them, fsynced, before echoing them), and a
// second Write must resume from it with no record lost: a user up to the
// stored state is in the destination's file once, one after it once or
// twice (at least once: it was committed by the destination but its state
// not stored).
func TestWriteKilled(t *testing.T) {
	t.Parallel()
	bins := crashBinaries(t)
	eachCrashCache(t, bins, crashKillPoints, crashAt)
}

// TestWriteKilledFromCache is TestWriteKilled for a Write that reads the
// users into the cache first and writes them from there, with a state
// (the watermark) every StateInterval rows: killed after each of its
// three echoes, the last during the final commit.
func TestWriteKilledFromCache(t *testing.T) {
	t.Parallel()
	bins := crashBinaries(t)
	bins.FromCache, bins.Users = true, 3*destination.StateInterval
	eachCrashCache(t, bins, []int{1, 2, 3}, crashAt)
}

// TestWriteKilledReplace SIGKILLs the program during a Write with the
// replace strategy, once the local-JSON destination has written part of
// the new table to its work file: the destination must die with the
// program before it sees the end of its input, else it would take the
// partial input for the whole and replace the previous table with it. A
// local connector is killed with its parent (Pdeathsig); a Docker one is
// not (see the package documentation).
func TestWriteKilledReplace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := crashBinaries(t)
	dir := t.TempDir()
	r.CacheKind, r.CacheAt, r.Key, r.Replace = "duckdb", filepath.Join(dir, "c.duckdb"), "local-json", true
	r.Dest, r.StateLog = filepath.Join(dir, "out"), filepath.Join(dir, "states.jsonl")
	c, err := r.openCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.write(ctx, c, false); err != nil {
		t.Fatal(err)
	}
	c.Close()
	final := filepath.Join(r.Dest, "_airbyte_raw_users.jsonl")
	before, err := os.ReadFile(final)
	if err != nil {
		t.Fatal(err)
	}
	child, exited := startCrashChild(t, r)
	work := filepath.Join(r.Dest, "._airbyte_raw_users.jsonl.tmp")
	for written := int64(0); written < int64(len(before))/4; {
		select {
		case err := <-exited:
			t.Fatalf("the child ended before the destination wrote a quarter of the table: %v\n%s", err, child.Output())
		default:
			time.Sleep(100 * time.Microsecond)
		}
		if fi, err := os.Stat(work); err == nil {
			written = fi.Size()
		}
	}
	if err := child.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	waitGone(t, r.StateLog)
	after, err := os.ReadFile(final)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, before) {
		t.Fatalf("the destination's table changed from %d to %d bytes: it committed the input of a Write killed mid-stream",
			len(before), len(after))
	}
}

// startCrashChild starts TestWriteKilledChild with the run r, once it is
// ready; exited gets what its Wait returns.
func startCrashChild(t *testing.T, r crashRun) (*testenv.Child, <-chan error) {
	t.Helper()
	env, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	child := testenv.StartChild(t, "TestWriteKilledChild", "ready", crashChildEnv+"="+string(env))
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	return child, exited
}

// eachCrashCache runs at (crashAt or cancelAt) for each of points on a
// DuckDB cache of its own each time, and on PostgreSQL under a state key
// of its own each time, as two parallel subtests.
func eachCrashCache(t *testing.T, bins crashRun, points []int, at func(*testing.T, crashRun, int)) {
	t.Run("duckdb", func(t *testing.T) {
		t.Parallel()
		for _, k := range points {
			r := bins
			r.CacheKind, r.CacheAt, r.Key = "duckdb", filepath.Join(t.TempDir(), "c.duckdb"), "local-json"
			at(t, r, k)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := testenv.Postgres(t)
		for _, k := range points {
			r := bins
			r.CacheKind, r.CacheAt, r.Key = "postgres", dsn, fmt.Sprintf("local-json-%d", k)
			at(t, r, k)
		}
	})
}

func crashBinaries(t *testing.T) crashRun {
	return crashRun{Faker: testenv.BuildBinary(t, "./cmd/source-faker"), LocalJSON: testenv.BuildBinary(t, "./destination/internal/dieafter")}
}

// crashAt runs the Write in a child process, kills it once the destination
// has echoed k states, and checks what is left.
func crashAt(t *testing.T, r crashRun, k int) {
	t.Helper()
	dir := t.TempDir()
	r.Dest, r.StateLog = filepath.Join(dir, "out"), filepath.Join(dir, "states.jsonl")
	child, exited := startCrashChild(t, r)
	echoes := &lineCounter{path: r.StateLog}
	defer echoes.close()
	for n := 0; n < k; n = echoes.count(t) {
		select {
		case err := <-exited:
			t.Fatalf("k=%d: the child ended before the destination echoed %d states (%d): %v\n%s", k, k, n, err, child.Output())
		default:
			time.Sleep(100 * time.Microsecond)
		}
	}
	if err := child.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	waitGone(t, r.StateLog)
	checkResumed(t, r, k, "killed")
}

// waitGone waits until the destination that logs to stateLog has exited
// (it dies with the process that ran it): it holds the log's flock.
func waitGone(t *testing.T, stateLog string) {
	t.Helper()
	f, err := os.Open(stateLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
}

// lineCounter counts the lines of a file that grows, reading only what
// was added since it last looked: the tests poll the state log while the
// Write runs, and must not take the CPU the Write needs.
type lineCounter struct {
	path  string
	f     *os.File
	lines int
	buf   []byte
}

func (c *lineCounter) count(t *testing.T) int {
	t.Helper()
	if c.f == nil {
		f, err := os.Open(c.path)
		if errors.Is(err, os.ErrNotExist) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		c.f, c.buf = f, make([]byte, 64<<10)
	}
	for {
		n, err := c.f.Read(c.buf)
		c.lines += bytes.Count(c.buf[:n], []byte{'\n'})
		if n == 0 || err != nil {
			return c.lines
		}
	}
}

func (c *lineCounter) close() {
	if c.f != nil {
		c.f.Close()
	}
}

// committed is a state the destination logged as committed and echoed:
// what identifies it (stateKey) and how many users it covers.
type committed struct {
	key   string
	users int64
}

// loggedStates reads the states the destination logged, in order. A line
// not ended yet is not one.
func (r crashRun) loggedStates(t *testing.T) []committed {
	t.Helper()
	return r.statesIn(t, r.StateLog)
}

// statesIn reads the states logged in the file at path, in order.
func (r crashRun) statesIn(t *testing.T, path string) []committed {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []committed
	for line := range bytes.Lines(b) {
		if line[len(line)-1] != '\n' {
			break
		}
		m := protocol.ParseMessage(line)
		if m.Type != protocol.TypeState || m.State == nil || m.State.Stream == nil {
			t.Fatalf("the state log holds %q", line)
		}
		c := committed{key: r.stateKey(t, m.State)}
		if r.FromCache {
			// Write sends a state every StateInterval rows and after the
			// last; the destination echoes each.
			c.users = min(int64(len(out)+1)*destination.StateInterval, r.users())
		} else {
			c.users = userID(t, m.State)
		}
		out = append(out, c)
	}
	return out
}

// stateKey identifies a state of users: the faker's id, or from a cache
// the watermark.
func (r crashRun) stateKey(t *testing.T, st *protocol.State) string {
	t.Helper()
	if !r.FromCache {
		return fmt.Sprint(userID(t, st))
	}
	var v struct {
		ID string `json:"_airbyte_raw_id"`
	}
	if st.Stream == nil || st.Stream.StreamDescriptor.Name != "users" || json.Unmarshal(st.Stream.StreamState, &v) != nil || v.ID == "" {
		t.Fatalf("not a watermark of users: %+v", st)
	}
	return v.ID
}

// userID is the id of the last user a faker's users state covers.
func userID(t *testing.T, st *protocol.State) int64 {
	t.Helper()
	var v struct {
		ID *int64 `json:"id"`
	}
	if st.Stream == nil || st.Stream.StreamDescriptor.Name != "users" || json.Unmarshal(st.Stream.StreamState, &v) != nil || v.ID == nil {
		t.Fatalf("not a faker's state of users: %+v", st)
	}
	return *v.ID
}

// checkResumed checks the cache the Write left (how stopped says) and runs
// a second Write from it: the stored state is one the destination
// committed, and after the second Write the destination has every user,
// each up to the stored state once, each after it once or twice. It
// returns how many users the stored state covers, 0 for none.
func checkResumed(t *testing.T, r crashRun, k int, stopped string) int64 {
	t.Helper()
	ctx := context.Background()
	c, err := r.openCache(ctx)
	if err != nil {
		t.Fatalf("k=%d: the cache does not open after the Write was %s: %v", k, stopped, err)
	}
	defer c.Close()
	logged := r.loggedStates(t)
	key := cache.StateKey{Source: "source-faker", Destination: r.Key, Stream: "users"}
	st, err := c.State(ctx, key)
	if err != nil {
		t.Fatalf("k=%d: reading the stored state: %v", k, err)
	}
	var stored int64
	if st != nil {
		i := slices.IndexFunc(logged, func(c committed) bool { return c.key == r.stateKey(t, st) })
		if i < 0 {
			t.Fatalf("k=%d: the stored state (%s) is not one the destination committed (it committed %d states, up to user %d)",
				k, st.Stream.StreamState, len(logged), last(logged))
		}
		stored = logged[i].users
	}
	users := r.users()
	res, err := r.write(ctx, c, false)
	if err != nil {
		t.Fatalf("k=%d: the second Write: %v", k, err)
	}
	if got, want := res.RecordsSent["users"], users-stored; got != want {
		t.Errorf("k=%d: the second Write sent %d users, want the %d after the stored state", k, got, want)
	}
	if res.RecordsConfirmed["users"] != res.RecordsSent["users"] {
		t.Errorf("k=%d: the second Write confirmed %d users of %d", k, res.RecordsConfirmed["users"], res.RecordsSent["users"])
	}
	if st, err := c.State(ctx, key); err != nil || st == nil || !r.FromCache && userID(t, st) != users {
		t.Errorf("k=%d: after the second Write the cache holds state %+v (%v), want the last user's", k, st, err)
	}
	n, ids := fileIDs(t, r.Dest, "users")
	for id := int64(1); id <= users; id++ {
		switch times := ids[id]; {
		case times == 0:
			t.Errorf("k=%d: user %d is lost", k, id)
		case id <= stored && times != 1:
			t.Errorf("k=%d: user %d, covered by the stored state, is in the file %d times", k, id, times)
		case times > 2:
			t.Errorf("k=%d: user %d is in the file %d times", k, id, times)
		}
	}
	if int64(len(ids)) != users {
		t.Errorf("k=%d: %d distinct users in the file, want %d", k, len(ids), users)
	}
	t.Logf("%s after %d echoes: the destination had committed %d states (up to user %d), the cache stored one up to user %d; %d users sent twice",
		stopped, k, len(logged), last(logged), stored, int64(n)-users)
	return stored
}

// last is the number of users the last state logged covers.
func last(logged []committed) int64 {
	if len(logged) == 0 {
		return 0
	}
	return logged[len(logged)-1].users
}

// TestWriteCancelled is TestWriteKilled with the Write's context cancelled
// instead of the program killed, at fewer points: the Write returns (with
// the cancellation, or with no error if it had ended), its destination is
// gone, the stored state is one the destination committed — the last one
// when the Write ended without an error — and a second Write resumes from
// it with no record lost.
func TestWriteCancelled(t *testing.T) {
	t.Parallel()
	bins := crashBinaries(t)
	points := []int{1, 60, 1_200, crashUsers}
	eachCrashCache(t, bins, points, cancelAt)
}

// TestWriteCancelledKeepsEchoes is TestWriteCancelled with the states the
// destination wrote on its stdout logged by it (its echo log): cancelled
// once the destination has echoed k states, with more echoes on their
// way (in the pipe, or written while the destination stops), the Write
// still reads and stores them, so that the stored state is the last one
// the destination wrote before it exited and the next Write sends again
// none of the users it confirmed.
//
// The destination runs as a local executable and as a container.
func TestWriteCancelledKeepsEchoes(t *testing.T) {
	t.Parallel()
	bins := crashBinaries(t)
	bins.Echoes = true
	points := []int{60, 1_200, 3_500}
	t.Run("local", func(t *testing.T) {
		t.Parallel()
		eachCrashCache(t, bins, points, cancelAt)
	})
	t.Run("docker", func(t *testing.T) {
		t.Parallel()
		cli := testenv.Docker(t)
		r := bins
		r.Image = "goairbyte-test/dieafter:0.1.0"
		testenv.BuildImage(t, cli, "./destination/internal/dieafter", r.Image)
		eachCrashCache(t, r, points, cancelAt)
	})
}

// cancelAt runs the Write, cancels it once the destination has echoed k
// states, and checks what is left.
func cancelAt(t *testing.T, r crashRun, k int) {
	t.Helper()
	dir := t.TempDir()
	r.Dest, r.StateLog = filepath.Join(dir, "out"), filepath.Join(dir, "states.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := r.openCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		res *destination.WriteResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := r.write(ctx, c, true)
		done <- result{res, err}
	}()
	var ended *result
	echoes := &lineCounter{path: r.StateLog}
	defer echoes.close()
	for n := 0; n < k && ended == nil; n = echoes.count(t) {
		select {
		case res := <-done:
			ended = &res
		default:
			time.Sleep(100 * time.Microsecond)
		}
	}
	cancel()
	if ended == nil {
		deadline(t, fmt.Sprintf("k=%d: the cancelled Write", k), func() { res := <-done; ended = &res })
	}
	if ended.err != nil && !errors.Is(ended.err, context.Canceled) {
		t.Fatalf("k=%d: the cancelled Write failed with %v, want the cancellation", k, ended.err)
	}
	deadline(t, fmt.Sprintf("k=%d: the destination of the cancelled Write", k), func() { waitGone(t, r.StateLog) })
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	stopped := "cancelled"
	if ended.err == nil {
		stopped = "cancelled after its end"
	}
	stored := checkResumed(t, r, k, stopped)
	if r.Echoes {
		echoed := last(r.statesIn(t, r.echoLog()))
		t.Logf("%s after %d echoes: the destination wrote its last state (user %d) on its stdout, the cache stored user %d: %d users it had confirmed sent again",
			stopped, k, echoed, stored, echoed-stored)
		if stored != echoed {
			t.Errorf("k=%d: the %s Write stored the state of user %d, but the last state the destination wrote on its stdout was of user %d: the next Write sent %d users it had confirmed again",
				k, stopped, stored, echoed, echoed-stored)
		}
	}
	if logged := r.loggedStates(t); ended.err == nil && stored != last(logged) {
		t.Errorf("k=%d: the Write ended without an error and stored user %d, but the destination's last state was of user %d", k, stored, last(logged))
	}
	// Users come with ids 1, 2, … in order: the users confirmed are the id
	// of the last state confirmed, which a cancelled Write still stores.
	if confirmed := ended.res.RecordsConfirmed["users"]; stored != confirmed {
		t.Errorf("k=%d: the cancelled Write confirmed %d users (%d states) but stored user %d", k, confirmed, ended.res.StatesConfirmed, stored)
	}
}

// deadline runs f and fails the test if f has not returned a minute
// before the test's deadline: what it waits for hangs.
func deadline(t *testing.T, what string, f func()) {
	t.Helper()
	end, ok := t.Deadline()
	if !ok {
		end = time.Now().Add(10 * time.Minute)
	}
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(time.Until(end) - time.Minute):
		t.Fatalf("%s has not returned by the test's deadline: it hangs", what)
	}
}
