package cachetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/protocol"
)

// Environment of the child processes of the concurrent-loads test.
const (
	childMode = "CACHETEST_CHILD_MODE" // "concurrent", "crash", "upgrade"; the kill test's child otherwise
	childHold = "CACHETEST_CHILD_HOLD" // "1": stop halfway until stdin ends
)

// concurrentCount is how many users a child of the concurrent test loads;
// it says "holding" on stdout after holdAfter of them.
const concurrentCount, holdAfter = 20_000, 5_000

// Exit codes of a child of the concurrent test.
const (
	exitInUse  = 5
	exitFailed = 3
)

// concurrentChild loads users 1..concurrentCount as source-concurrent
// into the cache at target, merging by id, with a state every 1,000. It
// reports on stdout how long the load took and its peak RSS.
func concurrentChild(open func(ctx context.Context, target string) (*cache.Cache, error), target string) {
	start := time.Now()
	ctx := context.Background()
	c, err := open(ctx, target)
	if err != nil {
		childExit(err)
	}
	msgs := func(yield func(*protocol.Message, error) bool) {
		for id := 1; id <= concurrentCount; id++ {
			if !yield(u(id, "u", "2024-01-01T00:00:00Z"), nil) {
				return
			}
			if id%1000 == 0 && !yield(StreamState("users", fmt.Sprintf(`{"id":%d}`, id)), nil) {
				return
			}
			if id == holdAfter && os.Getenv(childHold) == "1" {
				fmt.Println("holding")
				io.Copy(io.Discard, os.Stdin)
			}
		}
	}
	_, err = c.Load(ctx, cache.LoadRequest{SourceName: "source-concurrent", Catalog: users(protocol.SyncIncremental), BatchSize: 2000, Messages: msgs})
	c.Close()
	fmt.Printf("loaded in %v, peak RSS %.0f MB\n", time.Since(start).Round(time.Millisecond), PeakRSSMB())
	childExit(err)
}

func childExit(err error) {
	switch {
	case err == nil:
		os.Exit(0)
	case errors.Is(err, cache.ErrInUse):
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(exitInUse)
	}
	fmt.Fprintln(os.Stderr, "child:", err)
	os.Exit(exitFailed)
}

// LoadingChild is a command that re-executes the test binary (whose
// TestMain calls ChildMain) as a process that loads 20,000 users into the
// cache at target. With hold it stops halfway, having said "holding" on
// stdout, until its stdin ends.
func LoadingChild(target string, hold bool) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	h := "0"
	if hold {
		h = "1"
	}
	cmd.Env = append(os.Environ(), childTarget+"="+target, childMode+"=concurrent", childHold+"="+h)
	return cmd
}

// ConcurrentLoads runs two processes that load the same source into the
// cache at target at once (the second while the first holds halfway) and
// checks that the second is refused as in use, that the first completes,
// and that no key is left twice; then the second runs alone. Before loads
// were locked, both ran and a merge left keys twice.
func ConcurrentLoads(t *testing.T, target string, open func(ctx context.Context, target string) (*cache.Cache, error)) {
	child := func(hold bool) *exec.Cmd { return LoadingChild(target, hold) }
	first := child(true)
	stdin, _ := first.StdinPipe()
	stdout, _ := first.StdoutPipe()
	var firstErr strings.Builder
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "holding" {
		first.Wait()
		t.Fatalf("the first load did not start: %q %s", lines.Text(), firstErr.String())
	}
	second := child(false)
	out, err := second.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInUse {
		stderr := ""
		if ee != nil {
			stderr = string(ee.Stderr)
		}
		t.Errorf("the second load, while the first runs: %v %s%s; want it refused as in use", err, out, stderr)
	} else {
		t.Logf("the second load, while the first runs: %s", strings.TrimSpace(string(ee.Stderr)))
	}
	stdin.Close()
	lines.Scan()
	if err := first.Wait(); err != nil {
		t.Fatalf("the first load: %v %s", err, firstErr.String())
	}
	t.Logf("the first load: %s", lines.Text())
	if out, err := child(false).Output(); err != nil {
		t.Fatalf("the second load, alone: %v %s", err, out)
	} else {
		t.Logf("the second load, alone: %s", strings.TrimSpace(string(out)))
	}
	c, err := open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := fmt.Sprintf("%d|%d", concurrentCount, concurrentCount)
	Equal(t, "users once each", Strings(t, c, `SELECT CAST(count(*) AS VARCHAR), CAST(count(DISTINCT id) AS VARCHAR) FROM users`), []string{want})
}

// FillDisk loads 20 MB of records into a table "users" of c, more than a
// SmallDisk holds, and returns the load's error.
func FillDisk(ctx context.Context, c *cache.Cache) error {
	msgs := func(yield func(*protocol.Message, error) bool) {
		for i := range 20_000 {
			if !yield(Rec("users", fmt.Sprintf(`{"id":%d,"s":%q}`, i, strings.Repeat("x", 1000))), nil) {
				return
			}
		}
	}
	_, err := c.Load(ctx, cache.LoadRequest{SourceName: "s", Strategy: cache.StrategyAppend, Messages: msgs,
		Catalog: Catalog(Stream("users", `{"id":{"type":"integer"},"s":{"type":"string"}}`, protocol.SyncFullRefresh, nil))})
	return err
}
