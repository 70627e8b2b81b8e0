package connections

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/testenv"

	"github.com/x/goairbyte/airbyteapi"
	"github.com/x/goairbyte/internal/airbytetest"
	"github.com/x/goairbyte/internal/filelock"
)

// Two teams' declarations sharing one workspace and one state file, as two
// cron jobs in one home directory: each declares objects of its own.
const (
	teamHarvest = `
sources:
  harvest:
    type: source-harvest
    config:
      account_id: secret_reference::HARVEST_ACCOUNT
      replication_start_date: "2024-01-01T00:00:00Z"
      credentials: {auth_type: Token, api_token: secret_reference::HARVEST_TOKEN}
`
	teamWarehouse = `
destinations:
  warehouse:
    type: destination-duckdb
    config:
      destination_path: /tmp/goairbyte-connections-test.duckdb
      motherduck_api_key: secret_reference::MOTHERDUCK_KEY
`
)

// TestApplyChild is one apply process of TestTwoProcessesApplyOneStateFile:
// it plans, says so, waits for a line on stdin, then applies.
func TestApplyChild(t *testing.T) {
	decl := os.Getenv("CONNECTIONS_CHILD_DECL")
	if decl == "" {
		t.Skip("run by TestTwoProcessesApplyOneStateFile")
	}
	c, err := airbyteapi.New(os.Getenv("CONNECTIONS_CHILD_URL"), airbyteapi.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parse([]byte(decl))
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(c, os.Getenv("CONNECTIONS_CHILD_WORKSPACE"), cfg, WithStateFile(os.Getenv("CONNECTIONS_CHILD_STATE")))
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("planned")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// Two processes plan, then apply, each its own objects, with one state
// file: neither loses the fingerprints the other saved, so that a plan of
// both declarations afterwards has nothing to do (the secrets compare).
func TestTwoProcessesApplyOneStateFile(t *testing.T) {
	e := setup(t)
	var children []*testenv.Child
	for _, decl := range []string{teamHarvest, teamWarehouse} {
		// Both plan before either applies.
		children = append(children, testenv.StartChild(t, "TestApplyChild", "planned", "CONNECTIONS_CHILD_DECL="+decl,
			"CONNECTIONS_CHILD_URL="+e.srv.URL, "CONNECTIONS_CHILD_WORKSPACE="+e.srv.WorkspaceID, "CONNECTIONS_CHILD_STATE="+e.state))
	}
	for _, c := range children {
		c.Send("apply")
	}
	for _, c := range children {
		if err := c.Wait(); err != nil {
			t.Fatalf("an apply process: %v\n%s", err, c.Output())
		}
	}
	both := e.reconciler(t, teamHarvest+teamWarehouse)
	if p := e.plan(t, both); !p.Empty() {
		t.Fatalf("after both applies, the plan of both declarations is not empty (a state file lost an apply's fingerprints):\n%s", p)
	}
}

// An apply that waits for the state file's lock (another apply holds it)
// says so once after a second through the logger of WithLogger, naming the
// lock file; it goes on waiting until its context ends, and ends with the
// context's error. Before, it waited without a word.
func TestApplyWaitIsLogged(t *testing.T) {
	e := setup(t)
	var log testenv.Buffer
	r := e.reconciler(t, teamHarvest, WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	p := e.plan(t, r)
	lockFile := e.state + ".lock"
	unlock, err := filelock.Lock(context.Background(), lockFile, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Apply(ctx, p) }()
	// The line comes after a second; thirty is a generous limit.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(log.String(), "waiting for a lock"); {
		select {
		case err := <-done:
			t.Fatalf("Apply ended (%v) while another apply held the state file", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("Apply still waits for the state file after 30 s, and nothing was logged")
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled wait ended with %v, want context.Canceled", err)
	}
	if line := log.String(); strings.Count(line, "waiting for a lock") != 1 || !strings.Contains(line, "lock="+lockFile) {
		t.Fatalf("logged %q, want one line naming the lock file", line)
	}
}
