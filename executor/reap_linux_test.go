package executor_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// TestReapChild, as PID 1 of a pid namespace of its own, runs the hang
// connector (which starts a child) three times, stopping each run at its
// first record, and prints how many zombies its namespace then holds;
// TestAdoptedChildrenReaped runs it.
func TestReapChild(t *testing.T) {
	if os.Getenv("REAP_HANG") == "" {
		t.Skip("run by TestAdoptedChildrenReaped")
	}
	l, err := executor.New("source-hang", executor.Method{Kind: executor.KindLocal, Path: os.Getenv("REAP_HANG")},
		executor.Runtime{LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		for m, err := range l.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}) {
			if err != nil {
				t.Fatal(err)
			}
			if m.Type == protocol.TypeRecord {
				break
			}
		}
	}
	zombies := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if i := strings.LastIndexByte(string(b), ')'); err == nil && i > 0 && strings.HasPrefix(string(b[i+1:]), " Z") {
			zombies++
		}
	}
	fmt.Printf("pid %d zombies %d\n", os.Getpid(), zombies)
}

// A Go service (or goab) as a container's PID 1, with no init, is handed
// what a connector started when the connector dies; goairbyte kills it,
// and nothing waited for it: each run of a connector that starts a child
// left a zombie holding a pid, until the container's pids limit (docker
// --pids-limit 64) refused every new process. Measured with a service
// reading the hang connector five times: 1, 2, 3, 4, 5 zombies.
func TestAdoptedChildrenReaped(t *testing.T) {
	t.Parallel() // its child counts the zombies of a pid namespace of its own
	testenv.NeedRoot(t, "running a process as PID 1 of a new pid namespace")
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare")
	}
	hang := testenv.BuildBinary(t, "./internal/testconnectors/hang")
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", os.Args[0], "-test.run=^TestReapChild$", "-test.v")
	cmd.Env = append(os.Environ(), "REAP_HANG="+hang, "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "pid 1 zombies 0\n") {
		t.Fatalf("runs of a connector that starts a child left zombies in PID 1:\n%s", out)
	}
}
