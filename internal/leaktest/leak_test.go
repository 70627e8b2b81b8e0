package leaktest_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The leak tests repeat what a server that embeds goairbyte does all day,
// and compare what the process holds before and after: goroutines, open
// files, child processes, files in its temp directory, Docker containers
// and PostgreSQL sessions. They count process-wide resources, so none
// shares its process with another test: each runs in one of its own (see
// isolate), beside the others.

// leakSlack is how much a count may grow over all the repetitions: a
// lazily started singleton (a pool's first connection, a client's
// reader) is not a leak, one per repetition is.
const leakSlack = 2

// resources is what the process holds at one moment.
type resources struct {
	goroutines int
	fds        int
	children   int
	tmpFiles   int
	containers int    // with our label; -1 when not counted
	pgSessions int    // of the watched database; -1 when not counted
	pgLocks    int    // advisory locks held in the watched database; -1 when not counted
	heap       uint64 // bytes of live heap after a collection: reported, not checked
}

// leakWatch measures resources before and after a test's repetitions.
type leakWatch struct {
	t      *testing.T
	tmp    string
	docker bool
	pgDSN  string
	idle   []*http.Transport // their idle connections are closed before each measure
	before resources
}

// watchLeaks gives t a private temp directory (TMPDIR). The test then runs
// its operation once, to start what is started once per process, calls
// start for the baseline, repeats the operation and calls check.
func watchLeaks(t *testing.T) *leakWatch {
	t.Helper()
	w := &leakWatch{t: t, tmp: t.TempDir()}
	t.Setenv("TMPDIR", w.tmp)
	// A connector process's log file is kept on purpose, for a week (see
	// connector.WithLogDir): not in the directory watched.
	t.Setenv("GOAIRBYTE_LOG_DIR", t.TempDir())
	return w
}

// withDocker also counts the containers labelled as ours.
func (w *leakWatch) withDocker() *leakWatch { w.docker = true; return w }

// withPostgres also counts the sessions of dsn's database.
func (w *leakWatch) withPostgres(dsn string) *leakWatch { w.pgDSN = dsn; return w }

// closingIdle also closes tr's idle connections before each measure: a
// transport keeps some on purpose, up to its bounds, and how many depends
// on timing. A connection whose response was not closed is not idle, and
// stays counted.
func (w *leakWatch) closingIdle(tr *http.Transport) *leakWatch { w.idle = append(w.idle, tr); return w }

// start takes the baseline.
func (w *leakWatch) start() {
	w.t.Helper()
	w.before = w.settled(resources{goroutines: 1 << 30, fds: 1 << 30, children: 1 << 30, tmpFiles: 1 << 30, containers: 1 << 30, pgSessions: 1 << 30, pgLocks: 1 << 30}, 2*time.Second)
}

// measure counts what the process holds now.
func (w *leakWatch) measure() resources {
	w.t.Helper()
	for _, tr := range w.idle {
		tr.CloseIdleConnections()
	}
	r := resources{goroutines: runtime.NumGoroutine(), fds: countFDs(w.t), children: len(childPids(w.t)), containers: -1, pgSessions: -1, pgLocks: -1}
	filepath.WalkDir(w.tmp, func(p string, _ os.DirEntry, err error) error {
		if err == nil && p != w.tmp {
			r.tmpFiles++
		}
		return nil
	})
	if w.docker {
		r.containers = ourContainers(w.t)
	}
	if w.pgDSN != "" {
		r.pgSessions, r.pgLocks = pgSessions(w.t, w.pgDSN)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.heap = ms.HeapAlloc
	return r
}

// settled measures until every count is at most the one in limit plus
// leakSlack, or the deadline passes (goroutines and processes take a
// moment to end), and returns the last measure.
func (w *leakWatch) settled(limit resources, within time.Duration) resources {
	w.t.Helper()
	deadline := time.Now().Add(within)
	for {
		runtime.GC() // finalizers close what was only dropped
		r := w.measure()
		if r.within(limit) || time.Now().After(deadline) {
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r resources) within(limit resources) bool {
	return r.goroutines <= limit.goroutines+leakSlack && r.fds <= limit.fds+leakSlack &&
		r.children <= limit.children && r.tmpFiles <= limit.tmpFiles &&
		r.containers <= limit.containers && r.pgSessions <= limit.pgSessions+leakSlack && r.pgLocks <= limit.pgLocks
}

// check fails the test when, after n repetitions, anything grew beyond the
// slack, saying by how much per repetition.
func (w *leakWatch) check(what string, n int) {
	w.t.Helper()
	after := w.settled(w.before, 10*time.Second)
	w.t.Logf("%s ×%d: goroutines %d → %d, fds %d → %d, children %d → %d, temp files %d → %d, containers %d → %d, PostgreSQL sessions %d → %d, advisory locks %d → %d, heap %.1f → %.1f MB",
		what, n, w.before.goroutines, after.goroutines, w.before.fds, after.fds, w.before.children, after.children,
		w.before.tmpFiles, after.tmpFiles, w.before.containers, after.containers, w.before.pgSessions, after.pgSessions, w.before.pgLocks, after.pgLocks,
		float64(w.before.heap)/1e6, float64(after.heap)/1e6)
	if after.children > 0 {
		w.t.Logf("child processes: %s", childCommands(w.t))
	}
	if after.within(w.before) {
		return
	}
	var grew []string
	per := func(name string, b, a int) {
		if a > b {
			grew = append(grew, fmt.Sprintf("%s %d → %d (%+.2f per repetition)", name, b, a, float64(a-b)/float64(n)))
		}
	}
	per("goroutines", w.before.goroutines, after.goroutines)
	per("open files", w.before.fds, after.fds)
	per("child processes", w.before.children, after.children)
	per("files in the temp directory", w.before.tmpFiles, after.tmpFiles)
	per("Docker containers", w.before.containers, after.containers)
	per("PostgreSQL sessions", w.before.pgSessions, after.pgSessions)
	per("PostgreSQL advisory locks", w.before.pgLocks, after.pgLocks)
	detail := ""
	if after.goroutines > w.before.goroutines+leakSlack {
		detail += "\n" + goroutineSummary()
	}
	if after.fds > w.before.fds+leakSlack {
		detail += "\nopen files:\n" + fdTargets()
	}
	if after.children > w.before.children {
		detail += "\nchild processes: " + childCommands(w.t)
	}
	if after.tmpFiles > w.before.tmpFiles {
		detail += "\ntemp files:\n" + tmpListing(w.tmp)
	}
	w.t.Errorf("%s ×%d left behind: %s%s", what, n, strings.Join(grew, ", "), detail)
}

func countFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	return len(entries)
}

// fdTargets lists what the open files are, with how many of each.
func fdTargets() string {
	entries, _ := os.ReadDir("/proc/self/fd")
	counts := map[string]int{}
	for _, e := range entries {
		target, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if i := strings.Index(target, ":["); i > 0 {
			target = target[:i] // socket:[123] → socket
		}
		counts[target]++
	}
	var b strings.Builder
	for k, n := range counts {
		fmt.Fprintf(&b, "  %4d %s\n", n, k)
	}
	return b.String()
}

// childPids lists the processes whose parent is this one, zombies
// included.
func childPids(t *testing.T) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("cannot list processes: %v", err)
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		rest := stat[bytes.LastIndexByte(stat, ')')+1:]
		fields := strings.Fields(string(rest))
		if len(fields) > 1 {
			if ppid, _ := strconv.Atoi(fields[1]); ppid == self {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// childCommands lists the command lines of the child processes.
func childCommands(t *testing.T) string {
	var cmds []string
	for _, pid := range childPids(t) {
		cmd, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		cmds = append(cmds, fmt.Sprintf("%d %q", pid, strings.ReplaceAll(strings.TrimRight(string(cmd), "\x00"), "\x00", " ")))
	}
	return strings.Join(cmds, "; ")
}

func tmpListing(dir string) string {
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err == nil && p != dir {
			fmt.Fprintf(&b, "  %s\n", strings.TrimPrefix(p, dir))
		}
		return nil
	})
	return b.String()
}

// goroutineSummary groups the goroutines by the function they were
// created by and where they wait, most numerous first.
func goroutineSummary() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	counts := map[string]int{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		lines := strings.Split(g, "\n")
		key := ""
		if len(lines) > 1 {
			key = lines[1]
			if i := strings.LastIndexByte(key, '('); i > 0 {
				key = key[:i] // the arguments
			}
		}
		for _, l := range lines {
			if by, ok := strings.CutPrefix(l, "created by "); ok {
				by, _, _ = strings.Cut(by, " in goroutine ")
				key += " ← " + by
			}
		}
		counts[key]++
	}
	var b strings.Builder
	b.WriteString("goroutines (count, top frame ← created by):\n")
	for k, n := range counts {
		fmt.Fprintf(&b, "  %4d %s\n", n, k)
	}
	return b.String()
}

// ourContainers counts the containers, running or not, that this process
// created: goairbyte's Docker executor labels each with its owner's host,
// pid and pid namespace. (Other processes share the engine.)
func ourContainers(t *testing.T) int {
	out, err := exec.Command("docker", "ps", "-a", "--filter", "label=io.goairbyte.owner", "--format", `{{.Label "io.goairbyte.owner"}}`).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	n := 0
	for _, owner := range strings.Fields(string(out)) {
		if parts := strings.Split(owner, ":"); len(parts) > 1 && parts[1] == strconv.Itoa(os.Getpid()) {
			n++
		}
	}
	return n
}

// pgSessions counts the client sessions of dsn's database, but for the
// one that counts them, and the advisory locks held in it (a cache's
// lock of a source being loaded).
func pgSessions(t *testing.T, dsn string) (sessions, locks int) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'),
		(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`).Scan(&sessions, &locks); err != nil {
		t.Fatal(err)
	}
	return sessions, locks
}
