package cachetest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/protocol"
)

// The crash test: a sequence of loads of one source, each into a merge, an
// append and a replace stream, every one of them run in a child process
// that is SIGKILLed at a random moment and run again until it completes.
// After every run the parent reopens the cache and checks what a kill must
// leave (see checkRun).

// Environment of the crash test's child (childMode "crash").
const (
	crashSource = "CACHETEST_CRASH_SOURCE" // the source's name; its streams are named after it
	crashLoad   = "CACHETEST_CRASH_LOAD"   // which load of the sequence, from 1
	crashBatch  = "CACHETEST_CRASH_BATCH"  // LoadRequest.BatchSize
	crashGlobal = "CACHETEST_CRASH_GLOBAL" // "1": the load sends GLOBAL states
	crashMerges = "CACHETEST_CRASH_MERGES" // how many merge streams
)

// What each load of the crash test sends: crashN records of the merge and
// the append stream and crashR of the replace stream, a state of the merge
// stream every 37 records and of the append stream every 53 (and after
// their last). Load k's merge keys are k*crashShift + i%crashKeys, so
// that a load repeats its keys, shares some with the load before and
// leaves others as they were; its cursor v grows with every record sent.
const (
	crashN     = 1500
	crashR     = 300
	crashKeys  = 400
	crashShift = 150
)

// crashStreams are the names of a source's streams: merge (merges of
// them), append and replace (tables of the same names).
func crashStreams(source string, merges int) (ms []string, a, r string) {
	n, _ := cache.NormalizeName(source)
	for j := range merges {
		ms = append(ms, fmt.Sprintf("%s_m%d", n, j))
	}
	return ms, n + "_a", n + "_r"
}

// crashCatalog: the merge stream has key id and cursor v, the append
// stream cursor seq and no key, the replace stream neither and is read in
// full; StrategyAuto gives each its strategy.
func crashCatalog(source string, merges int) *protocol.ConfiguredCatalog {
	ms, a, r := crashStreams(source, merges)
	var cat protocol.ConfiguredCatalog
	for _, m := range ms {
		cat.Streams = append(cat.Streams, Stream(m, `{"id":{"type":"integer"},"v":{"type":"integer"},"ld":{"type":"integer"},"pos":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "v"))
	}
	cat.Streams = append(cat.Streams,
		Stream(a, `{"ld":{"type":"integer"},"pos":{"type":"integer"},"seq":{"type":"integer"}}`, protocol.SyncIncremental, nil, "seq"),
		Stream(r, `{"ld":{"type":"integer"},"pos":{"type":"integer"}}`, protocol.SyncFullRefresh, nil))
	return &cat
}

func crashKey(k, i int) int   { return k*crashShift + i%crashKeys }
func crashV(k, i int) int64   { return int64(k)*crashN + int64(i) }
func crashState(k, i int) any { return map[string]int{"load": k, "pos": i} }

// crashPosition is where the stored state of an incremental stream says
// load k stands: the last position it covers, -1 when it covers none of
// load k (no state, or the state of an earlier load). The stream's state
// is its STREAM state, or its part of the source's GLOBAL state.
func crashPosition(ctx context.Context, c *cache.Cache, source, stream string, k int) (int, error) {
	raw, err := crashStreamState(ctx, c, source, stream)
	if err != nil || raw == nil {
		return -1, err
	}
	var s struct{ Load, Pos int }
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, err
	}
	if s.Load > k {
		return 0, fmt.Errorf("the state of %s is of load %d, after load %d", stream, s.Load, k)
	}
	if s.Load < k {
		return -1, nil
	}
	return s.Pos, nil
}

// crashStreamState is the stored state of a stream, nil if none; the
// replace stream's is the GLOBAL state's shared state.
func crashStreamState(ctx context.Context, c *cache.Cache, source, stream string) (json.RawMessage, error) {
	if g, err := c.State(ctx, cache.StateKey{Source: source}); err != nil || g != nil {
		if err != nil || g.Global == nil {
			return nil, err
		}
		if strings.HasSuffix(stream, "_r") { // the replace stream
			return g.Global.SharedState, nil
		}
		for _, ss := range g.Global.StreamStates {
			if ss.StreamDescriptor.Name == stream {
				return ss.StreamState, nil
			}
		}
		return nil, nil
	}
	st, err := c.State(ctx, cache.StateKey{Source: source, Stream: stream})
	if err != nil || st == nil || st.Stream == nil {
		return nil, err
	}
	return st.Stream.StreamState, nil
}

// crashMessages are load k's messages as an incremental source resuming
// from the positions from (each merge stream's, the append stream's) sends
// them; record i of the merge streams goes to stream i%len(fromM). The
// replace stream is read in full every time. With global, a GLOBAL state
// stands for the STREAM states (one resume position for all streams):
// the states of the merge and the append streams, with the load as the
// shared state, the replace stream's.
func crashMessages(source string, k int, fromM []int, fromA int, global bool) func(yield func(*protocol.Message, error) bool) {
	ms, a, r := crashStreams(source, len(fromM))
	return func(yield func(*protocol.Message, error) bool) {
		send := func(msg *protocol.Message) bool { return yield(msg, nil) }
		enc := func(v any) string {
			raw, _ := json.Marshal(v)
			return string(raw)
		}
		state := func(stream string, i int) *protocol.Message { return StreamState(stream, enc(crashState(k, i))) }
		for i := range crashN {
			if j := i % len(ms); i > fromM[j] && !send(Rec(ms[j], fmt.Sprintf(`{"id":%d,"v":%d,"ld":%d,"pos":%d}`, crashKey(k, i), crashV(k, i), k, i))) {
				return
			}
			if i > fromA && !send(Rec(a, fmt.Sprintf(`{"ld":%d,"pos":%d,"seq":%d}`, k, i, crashV(k, i)))) {
				return
			}
			if i < crashR && !send(Rec(r, fmt.Sprintf(`{"ld":%d,"pos":%d}`, k, i))) {
				return
			}
			last := i == crashN-1
			switch {
			case global:
				if i > fromA && (i%37 == 36 || last) {
					var pairs []string
					for _, stream := range append(ms[:len(ms):len(ms)], a) {
						pairs = append(pairs, stream, enc(crashState(k, i)))
					}
					if !send(GlobalState(enc(map[string]int{"load": k}), pairs...)) {
						return
					}
				}
			default:
				for j, m := range ms {
					if i > fromM[j] && (i%37 == 36 || last) && !send(state(m, i)) {
						return
					}
				}
				if i > fromA && (i%53 == 52 || last) && !send(state(a, i)) {
					return
				}
			}
		}
		if !global && !send(StreamState(r, enc(map[string]int{"load": k}))) {
			return
		}
		fmt.Println("sent all")
	}
}

// crashChild is the crash test's child: it resumes load k of the source
// from the cache's states and prints "loading" before the load, "commit"
// after each of its commits and "sent all" once every message was sent.
func crashChild(open func(ctx context.Context, target string) (*cache.Cache, error), target string) {
	ctx := context.Background()
	source := os.Getenv(crashSource)
	k, _ := strconv.Atoi(os.Getenv(crashLoad))
	batch, _ := strconv.Atoi(os.Getenv(crashBatch))
	c, err := open(ctx, target)
	if err != nil {
		childExit(err)
	}
	merges, _ := strconv.Atoi(os.Getenv(crashMerges))
	ms, a, _ := crashStreams(source, merges)
	fromM := make([]int, merges)
	for j, m := range ms {
		if fromM[j], err = crashPosition(ctx, c, source, m, k); err != nil {
			childExit(err)
		}
	}
	fromA, err := crashPosition(ctx, c, source, a, k)
	if err != nil {
		childExit(err)
	}
	fmt.Println("loading")
	_, err = c.Load(ctx, cache.LoadRequest{SourceName: source, Catalog: crashCatalog(source, merges), BatchSize: batch,
		Messages:  crashMessages(source, k, fromM, fromA, os.Getenv(crashGlobal) == "1"),
		Committed: func(map[string]int64, []cache.StateKey) { fmt.Println("commit") }})
	if err == nil {
		err = c.Close()
	}
	childExit(err)
}

// crashRun is what the parent saw of one child.
type crashRun struct {
	killed  bool
	phase   string // where a kill landed: "starting", "loading" or "finalising"
	err     error  // of an uninterrupted child
	stderr  string
	commits int
	// From its start to "loading", from "loading" to the end and to the
	// first commit, and from "sent all" to the end, of an uninterrupted
	// child.
	start, load, first, final time.Duration
}

// crashTimes are what the kills aim at, from the last uninterrupted
// child: how long a load ran, how long it took to its first commit (the
// DDL that readies the tables comes before it), how many commits it made
// and how long its finalisation took.
type crashTimes struct {
	start, load, first, final time.Duration
	commits                   int
}

// runCrashChild runs load k of mod's source in a child (with tmp as its
// temporary directory) and SIGKILLs it at a
// random moment: a random time into its start, into the load or before
// its first commit, on a random commit, or a random time into the
// finalisation; or lets it run (kill false).
func runCrashChild(t *testing.T, rnd *rand.Rand, target, tmp string, mod *crashModel, k int, kill bool, aim crashTimes) crashRun {
	t.Helper()
	batch := []int{64, 250, 1000, 5000}[rnd.IntN(4)]
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childTarget+"="+target, childMode+"=crash", crashSource+"="+mod.source, crashMerges+"="+strconv.Itoa(mod.merges),
		crashLoad+"="+strconv.Itoa(k), crashBatch+"="+strconv.Itoa(batch), crashGlobal+"="+map[bool]string{true: "1"}[mod.global], "TMPDIR="+tmp)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	mode := rnd.IntN(5)
	started := time.Now()
	atCommit := 1 + rnd.IntN(max(1, aim.commits))
	delay := func(d time.Duration) time.Duration { return time.Duration(rnd.Int64N(int64(max(d, time.Millisecond)))) }
	kills := make(chan time.Duration, 1) // a kill after a delay
	go func() {
		for d := range kills {
			time.Sleep(d)
			cmd.Process.Signal(syscall.SIGKILL)
		}
	}()
	var run crashRun
	var loading, sentAll time.Time
	armed := false
	arm := func(d time.Duration) {
		if kill && !armed {
			armed = true
			kills <- d
		}
	}
	if mode == 4 {
		arm(delay(aim.start))
	}
	for lines := bufio.NewScanner(out); lines.Scan(); {
		switch lines.Text() {
		case "loading":
			loading = time.Now()
			switch mode {
			case 0:
				arm(delay(aim.load * 6 / 5))
			case 3:
				arm(delay(aim.first))
			}
		case "commit":
			if run.commits++; run.commits == 1 {
				run.first = time.Since(loading)
			}
			if mode == 1 && run.commits == atCommit {
				arm(0)
			}
		case "sent all":
			sentAll = time.Now()
			if mode == 2 {
				arm(delay(aim.final * 6 / 5))
			}
		}
	}
	err := cmd.Wait()
	close(kills)
	end := time.Now()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			run.killed, run.phase = true, "starting"
			switch {
			case !sentAll.IsZero():
				run.phase = "finalising"
			case !loading.IsZero():
				run.phase = "loading"
			}
			return run
		}
	}
	run.err, run.stderr = err, stderr.String()
	if !loading.IsZero() {
		run.start, run.load = loading.Sub(started), end.Sub(loading)
	}
	if !sentAll.IsZero() {
		run.final = end.Sub(sentAll)
	}
	return run
}

// crashModel is what the parent knows of one source's loads: the append
// rows it saw last, per (load, position), and the load whose replace
// stream was last swapped in.
type crashModel struct {
	source     string
	merges     int // merge streams
	appendRows map[[2]int]int
	// The load of the last check, and where the append stream's state
	// stood then: where the next run of that load resumes.
	load, appendPos int
	replaced        int // load, 0 for none
	dups            int // append rows written twice, as the docs allow
	// Whether the load sends GLOBAL states, and whether the last
	// completed one did.
	global, wasGlobal bool
}

// Crash runs loads of several sources, each into merges merge streams, an
// append and a replace stream, into the cache at target in child
// processes that it SIGKILLs at random moments, and checks after each what
// the cache promises (see checkRun); each load is run again until one run
// completes. It makes 15 kills (a few seconds), or CACHETEST_CRASH_KILLS
// for a longer hunt, and logs how many runs it made and where the kills
// landed. CACHETEST_CRASH_SEED replays the choices of a seed the test
// logged (not the timing of the kills).
func Crash(t *testing.T, target string, open func(ctx context.Context, target string) (*cache.Cache, error), merges int) {
	kills := 15
	if n, err := strconv.Atoi(os.Getenv("CACHETEST_CRASH_KILLS")); err == nil {
		kills = n
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("CACHETEST_CRASH_SEED"), 10, 64); err == nil {
		seed = s
	}
	rnd := rand.New(rand.NewPCG(seed, 0))
	tmp := t.TempDir() // the children's: a completed load sweeps what killed ones left
	t.Logf("seed %d (CACHETEST_CRASH_SEED replays it)", seed)
	aim := crashTimes{start: 50 * time.Millisecond, load: 200 * time.Millisecond, first: 20 * time.Millisecond, final: 20 * time.Millisecond, commits: 10}
	runs, killed, completed, dups, copies, takeOvers := 0, 0, 0, 0, 0, 0
	phases := map[string]int{}
	defer func() {
		t.Logf("%d runs: %d killed (%d starting, %d loading, %d finalising), %d completed; %d append rows written again after a kill, at most %d copies of one record; "+
			"%d times another source took over the tables a kill left claimed", runs, killed, phases["starting"], phases["loading"], phases["finalising"], completed, dups, copies, takeOvers)
	}()
	for round := 1; killed < kills; round++ {
		mod := &crashModel{source: fmt.Sprintf("crash-%d", round), merges: merges, appendRows: map[[2]int]int{}}
		loads := 1 + rnd.IntN(3)
	sequence:
		for k := 1; k <= loads; k++ {
			mod.global = rnd.IntN(3) == 0 // a GLOBAL state for the STREAM states
			for try := 0; ; try++ {
				kill := try < 4 && killed < kills
				run := runCrashChild(t, rnd, target, tmp, mod, k, kill, aim)
				runs++
				if run.err != nil {
					t.Fatalf("%s load %d, run %d: %v\n%s", mod.source, k, try+1, run.err, run.stderr)
				}
				if run.killed {
					killed++
					phases[run.phase]++
				} else {
					completed++
					if dirs, bytes := spoolLeft(tmp); dirs > 0 {
						t.Fatalf("%s load %d completed, and %d spool dirs (%d bytes) of killed loads are left", mod.source, k, dirs, bytes)
					}
					aim = crashTimes{start: run.start, load: run.load, first: run.first, final: run.final, commits: run.commits}
				}
				if checkRun(t, open, target, mod, k, !run.killed, rnd.IntN(2) == 0) {
					takeOvers++
					break sequence
				}
				if !run.killed {
					break
				}
			}
		}
		dups += mod.dups
		for _, n := range mod.appendRows {
			copies = max(copies, n)
		}
	}
}

// checkRun reopens the cache after a run of load k, killed or complete,
// and checks:
//   - every table recorded in _airbyte_streams exists, or the staging table
//     recorded with it does, but for the tables the killed load claimed
//     and did not make: with takeOver, another source then loads streams
//     of those names (and the killed source is refused: taken reports it);
//     else the next load of the killed source makes or clears them;
//   - merge: every record the merge stream's state covers is in the table
//     (the key's row has its version or a newer one); complete, one row
//     per key with the newest version;
//   - append: the run added each record after its resume point at most
//     once, a prefix of them that reaches the state it left (nothing lost,
//     nothing duplicated but what the docs allow: the records after the
//     last committed state, which the next run sends again); complete,
//     every record of every load at least once;
//   - replace: the table holds one whole load, this one or the last
//     completed, never a part, and the state says that load;
//   - complete: no staging table or merge watermark is left;
//   - after a kill, another source loads.
func checkRun(t *testing.T, open func(ctx context.Context, target string) (*cache.Cache, error), target string, mod *crashModel, k int, complete, takeOver bool) (taken bool) {
	t.Helper()
	ctx := context.Background()
	what := fmt.Sprintf("%s load %d, %s", mod.source, k, map[bool]string{true: "completed", false: "killed"}[complete])
	c, err := open(ctx, target)
	if err != nil {
		t.Fatalf("%s: reopening the cache: %v", what, err)
	}
	defer c.Close()
	ms, a, r := crashStreams(mod.source, mod.merges)

	tables := map[string]bool{}
	for _, n := range Strings(t, c, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`) {
		tables[n] = true
	}
	var unmade []string // tables the crashed source recorded and did not make
	for _, row := range Strings(t, c, `SELECT table_name, source_name, COALESCE(staging_table, ''), COALESCE(dedupe_from, '') FROM _airbyte_streams`) {
		f := strings.Split(row, "|")
		switch {
		case tables[f[0]] || tables[f[2]]:
		case !complete && f[1] == mod.source:
			unmade = append(unmade, f[0])
		default:
			t.Fatalf("%s: _airbyte_streams records table %s for %s, and neither it nor a staging table exists", what, f[0], f[1])
		}
		if complete && f[1] == mod.source && (f[2] != "" || f[3] != "") {
			t.Fatalf("%s: _airbyte_streams keeps the staging table %q and the merge watermark %q of %s", what, f[2], f[3], f[0])
		}
	}
	if len(unmade) > 0 && takeOver {
		// The kill came between the load's claim of its new tables and
		// their creation: another source loads streams of those names and
		// owns them, and the killed source is refused from then on.
		thief := mod.source + "-thief"
		var streams []protocol.ConfiguredStream
		var msgs []*protocol.Message
		for _, s := range crashCatalog(mod.source, mod.merges).Streams {
			if slices.Contains(unmade, s.Stream.Name) {
				streams = append(streams, s)
				msgs = append(msgs, Rec(s.Stream.Name, `{"pos":0}`))
			}
		}
		if _, err := c.Load(ctx, cache.LoadRequest{SourceName: thief, Catalog: Catalog(streams...), Strategy: cache.StrategyAppend, Messages: Messages(msgs...)}); err != nil {
			t.Fatalf("%s: another source's load of %q, which the killed load claimed but did not make: %v", what, unmade, err)
		}
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: mod.source, Catalog: crashCatalog(mod.source, mod.merges), Messages: Messages()})
		if !errors.Is(err, cache.ErrTableOwned) {
			t.Fatalf("%s: the killed source's load after another took %q: %v, want it refused", what, unmade, err)
		}
		return true
	}

	// Merge.
	for j, m := range ms {
		pos, err := crashPosition(ctx, c, mod.source, m, k)
		if err != nil {
			t.Fatal(err)
		}
		if complete && pos != crashN-1 {
			t.Fatalf("%s: merge stream %s's state stands at %d, want %d", what, m, pos, crashN-1)
		}
		want := map[int]int64{} // newest version per key that the state covers
		for l := 1; l <= k; l++ {
			for i := j; i < crashN; i += len(ms) {
				if l == k && i > pos {
					break
				}
				want[crashKey(l, i)] = crashV(l, i)
			}
		}
		have := map[int][]int64{}
		if tables[m] {
			for _, row := range Strings(t, c, `SELECT CAST(id AS VARCHAR), CAST(v AS VARCHAR) FROM `+m) {
				f := strings.Split(row, "|")
				id, _ := strconv.Atoi(f[0])
				v, _ := strconv.ParseInt(f[1], 10, 64)
				have[id] = append(have[id], v)
			}
		}
		for id, v := range want {
			if len(have[id]) == 0 || slices.Max(have[id]) < v {
				t.Fatalf("%s: merge stream %s's key %d has versions %v; the committed state covers version %d", what, m, id, have[id], v)
			}
			if complete && (len(have[id]) != 1 || have[id][0] != v) {
				t.Fatalf("%s: merge stream %s's key %d has versions %v, want one row of version %d", what, m, id, have[id], v)
			}
		}
		if complete && len(have) != len(want) {
			t.Fatalf("%s: merge stream %s holds %d keys, want %d", what, m, len(have), len(want))
		}
	}

	// Append.
	start := -1 // where the run resumed
	if mod.load == k {
		start = mod.appendPos
	}
	posA, err := crashPosition(ctx, c, mod.source, a, k)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[[2]int]int{}
	if tables[a] {
		for _, row := range Strings(t, c, `SELECT CAST(ld AS VARCHAR), CAST(pos AS VARCHAR), CAST(count(*) AS VARCHAR) FROM `+a+` GROUP BY ld, pos`) {
			f := strings.Split(row, "|")
			l, _ := strconv.Atoi(f[0])
			p, _ := strconv.Atoi(f[1])
			n, _ := strconv.Atoi(f[2])
			rows[[2]int{l, p}] = n
		}
	}
	reached := start // the last position the run added
	for key, n := range rows {
		switch d := n - mod.appendRows[key]; {
		case d == 0:
		case d == 1 && key[0] == k && key[1] > start:
			reached = max(reached, key[1])
		default:
			t.Fatalf("%s: append record %v is there %d times, %d before the run (which resumed after position %d)", what, key, n, mod.appendRows[key], start)
		}
	}
	for key, n := range mod.appendRows {
		if rows[key] < n {
			t.Fatalf("%s: append record %v is there %d times, %d before the run", what, key, rows[key], n)
		}
	}
	for i := start + 1; i <= reached; i++ {
		if rows[[2]int{k, i}] == mod.appendRows[[2]int{k, i}] {
			t.Fatalf("%s: the run added append records up to position %d but not %d", what, reached, i)
		}
	}
	if posA < start || posA > reached {
		t.Fatalf("%s: the append stream's state stands at %d; the run resumed after %d and its records reach %d", what, posA, start, reached)
	}
	if complete && posA != crashN-1 {
		t.Fatalf("%s: the append stream's state stands at %d, want %d", what, posA, crashN-1)
	}
	mod.dups += countDups(rows) - countDups(mod.appendRows)
	mod.appendRows, mod.load, mod.appendPos = rows, k, posA

	// Replace.
	var loads []string
	if tables[r] {
		loads = Strings(t, c, `SELECT CAST(ld AS VARCHAR), CAST(count(*) AS VARCHAR), CAST(count(DISTINCT pos) AS VARCHAR) FROM `+r+` GROUP BY ld`)
	}
	got := 0
	switch {
	case len(loads) == 0 && tables[r]:
		t.Fatalf("%s: the replace table is empty", what)
	case len(loads) > 1:
		t.Fatalf("%s: the replace table holds records of several loads: %q", what, loads)
	case len(loads) == 1:
		f := strings.Split(loads[0], "|")
		got, _ = strconv.Atoi(f[0])
		if f[1] != strconv.Itoa(crashR) || f[2] != strconv.Itoa(crashR) {
			t.Fatalf("%s: the replace table holds %s records of load %d (%s distinct), want %d", what, f[1], got, f[2], crashR)
		}
	}
	if got != k && got != mod.replaced {
		t.Fatalf("%s: the replace table holds load %d; the last completed was %d", what, got, mod.replaced)
	}
	if complete && got != k {
		t.Fatalf("%s: the replace table holds load %d", what, got)
	}
	stateR := 0
	if raw, err := crashStreamState(ctx, c, mod.source, r); err != nil {
		t.Fatal(err)
	} else if raw != nil {
		var s struct{ Load int }
		json.Unmarshal(raw, &s)
		stateR = s.Load
	}
	// Swapped in with its state, in one transaction; but a STREAM state
	// replaces a GLOBAL one, so the first one committed by a source that
	// switched kinds drops the replace stream's state (in the GLOBAL
	// state) that the last load left: behind the data, never ahead.
	if stateR > got || (stateR != got && mod.global == mod.wasGlobal) {
		t.Fatalf("%s: the replace stream's state is of load %d, its table of load %d", what, stateR, got)
	}
	if complete {
		mod.replaced, mod.wasGlobal = k, mod.global
	}

	if complete {
		if left := Strings(t, c, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE '\_airbyte\_tmp\_%' ESCAPE '\'`); len(left) > 0 {
			t.Fatalf("%s: staging tables left: %q", what, left)
		}
		return false
	}
	// Another source is not held up by what the kill left.
	other := Catalog(Stream("crash_other", `{"n":{"type":"integer"}}`, protocol.SyncIncremental, nil, "n"))
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "crash-other", Catalog: other, Messages: Messages(Rec("crash_other", `{"n":1}`))}); err != nil {
		t.Fatalf("%s: another source's load: %v", what, err)
	}
	return false
}

// countDups counts the rows beyond the first of each record.
func countDups(rows map[[2]int]int) int {
	n := 0
	for _, c := range rows {
		n += c - 1
	}
	return n
}
