package executor

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/x/goairbyte/internal/owner"
)

// Where start times cannot be read (no /proc: macOS, BSDs), a recorded
// group whose leader's pid is alive cannot be told from a new group that
// reused the number, so it is left alone; with the pid free, the group
// (if any remains) can only be the connector's, since a group's number is
// not reused while it has members. Before, such a group was always killed.
func TestKillGroupWithoutStartTimes(t *testing.T) {
	procStartOf = func(int) string { return "" }
	t.Cleanup(func() { procStartOf = procStart })

	live := exec.Command("sleep", "60")
	live.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	// Waited for once, here: a second Wait in the cleanup raced with it.
	exited := make(chan struct{})
	go func() { live.Wait(); close(exited) }()
	t.Cleanup(func() { live.Process.Kill(); <-exited })

	killGroup(strconv.Itoa(live.Process.Pid) + " ")
	select {
	case <-exited:
		t.Fatal("a live group whose start time cannot be read was killed")
	case <-time.After(200 * time.Millisecond):
	}
}

// TestOwnerLabelChild prints its labelOwner value and waits for stdin to
// close; TestSweepSparesAnotherPidNamespace runs it.
func TestOwnerLabelChild(t *testing.T) {
	if os.Getenv("OWNER_LABEL_CHILD") == "" {
		t.Skip("run by TestSweepSparesAnotherPidNamespace")
	}
	fmt.Println("label " + ownerLabel())
	io.Copy(io.Discard, os.Stdin)
}

// A goairbyte in another pid namespace with this host's name (a container
// run with --network host, sharing the Docker socket) is alive, though its
// pid is not one here: the sweep must leave its containers alone. Before,
// its label (host:pid) passed for a dead owner's, and its running
// connectors' containers were removed.
func TestSweepSparesAnotherPidNamespace(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil || os.Geteuid() != 0 || pidNamespace() == "" {
		t.Skip("needs unshare, root and /proc")
	}
	// In its own pid namespace, the child gets a pid above this host's
	// pid_max: not a process here.
	script := `echo 99990 > /proc/sys/kernel/ns_last_pid && "$0" -test.run='^TestOwnerLabelChild$' -test.v`
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script, os.Args[0])
	cmd.Env = append(os.Environ(), "OWNER_LABEL_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); io.Copy(io.Discard, stdout); cmd.Wait() }()
	var label string
	for sc := bufio.NewScanner(stdout); sc.Scan(); {
		if l, ok := strings.CutPrefix(sc.Text(), "label "); ok {
			label = l
			break
		}
	}
	if label == "" {
		t.Skipf("no process in a new pid namespace here: %s", stderr.String())
	}
	_, rest, _ := strings.Cut(label, ":")
	p, _, _ := strings.Cut(rest, ":")
	if pid, err := strconv.Atoi(p); err != nil || pid == os.Getpid() || owner.Alive(pid) {
		t.Skipf("the child's pid %s runs here too, or is unreadable: %v", p, err)
	}
	if deadOwner(label, time.Now(), container.StateRunning) {
		t.Fatalf("the container of a live process in another pid namespace (label %s) would be swept", label)
	}
	// And a dead owner of this namespace is still swept.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if l := fmt.Sprintf("%s:%d:%s", hostName(), dead.Process.Pid, pidNamespace()); !deadOwner(l, time.Now(), container.StateRunning) {
		t.Fatalf("the container of a dead owner (label %s) would be left", l)
	}
}
