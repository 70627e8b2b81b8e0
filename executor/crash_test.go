package executor_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// TestKilledOwnerLeavesNothing kills -9 a process in the middle of reading
// from a local connector (the hang connector, which starts a child and
// ignores SIGTERM) and, when Docker is there, from a container; then a new
// process runs one connector command. Afterwards no connector process, no
// run temp dir (which held the resolved config) and no container of the
// dead process is left.
func TestKilledOwnerLeavesNothing(t *testing.T) {
	switch os.Getenv("GOAIRBYTE_CRASH_CHILD") {
	case "owner":
		crashOwner(t)
		return
	case "next":
		crashNext(t)
		return
	}
	t.Run("local", func(t *testing.T) { crashScenario(t, "", nil, "") })
	t.Run("docker", func(t *testing.T) {
		cli := testenv.Docker(t)
		image := "goairbyte-test/hang:0.1.0"
		testenv.BuildImage(t, cli, "./internal/testconnectors/hang", image)
		crashScenario(t, image, cli, "")
	})
	// With AIRBYTE_TEMP_DIR set, PyAirbyte's temp directory, the run dirs
	// are made there and swept from there, and from the system's temp
	// directory too: a run made before the variable was set left its dir
	// there.
	t.Run("AIRBYTE_TEMP_DIR", func(t *testing.T) {
		sys := t.TempDir()
		dead := exec.Command("true")
		if err := dead.Run(); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(fmt.Sprintf("%s/goairbyte-%d-source-old-1", sys, dead.Process.Pid), 0o700); err != nil {
			t.Fatal(err)
		}
		crashScenario(t, "", nil, sys)
		if left := leftovers(t, sys); len(left) > 0 {
			t.Fatalf("run temp dirs left behind in the system's temp dir: %v", left)
		}
	})
}

// crashScenario kills an owner in the middle of its runs and has the next
// process sweep what it left. With sysTemp, the processes have their temp
// directory in AIRBYTE_TEMP_DIR and TMPDIR is sysTemp.
func crashScenario(t *testing.T, image string, cli *client.Client, sysTemp string) {
	hang := testenv.BuildBinary(t, "./internal/testconnectors/hang")
	tmp := t.TempDir()
	temp := []string{"TMPDIR=" + tmp, "AIRBYTE_TEMP_DIR="}
	if sysTemp != "" {
		temp = []string{"TMPDIR=" + sysTemp, "AIRBYTE_TEMP_DIR=" + tmp}
	}

	owner := exec.Command(os.Args[0], "-test.run=^TestKilledOwnerLeavesNothing$", "-test.count=1")
	owner.Env = append(os.Environ(), append(temp, "GOAIRBYTE_CRASH_CHILD=owner", "CRASH_HANG="+hang, "CRASH_IMAGE="+image)...)
	out, err := owner.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	owner.Stderr = os.Stderr
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	// The owner says "ready pid pid" once its connectors run.
	var pids []int
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "ready" {
			for _, p := range f[1:] {
				n, _ := strconv.Atoi(p)
				pids = append(pids, n)
			}
			break
		}
	}
	if len(pids) != 2 {
		owner.Process.Kill()
		owner.Wait()
		t.Fatalf("the owner did not get its connectors running (%v)", sc.Err())
	}
	if err := owner.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	owner.Wait()

	// The connector itself dies with its parent (Pdeathsig).
	waitDead(t, pids[0])
	if len(leftovers(t, tmp)) == 0 {
		t.Fatal("the killed owner left no run temp dir: the test proves nothing")
	}
	if cli != nil && ownedContainers(t, cli, owner.Process.Pid) == 0 {
		t.Fatal("the killed owner left no container: the test proves nothing")
	}

	next := exec.Command(os.Args[0], "-test.run=^TestKilledOwnerLeavesNothing$", "-test.count=1")
	next.Env = append(os.Environ(), append(temp, "GOAIRBYTE_CRASH_CHILD=next", "CRASH_IMAGE="+image)...)
	if b, err := next.CombinedOutput(); err != nil {
		t.Fatalf("the next process failed: %v\n%s", err, b)
	}
	// What the connector started in its group was killed by the sweep.
	waitDead(t, pids[1])
	if left := leftovers(t, tmp); len(left) > 0 {
		t.Fatalf("run temp dirs left behind: %v", left)
	}
	if cli != nil {
		if n := ownedContainers(t, cli, owner.Process.Pid); n != 0 {
			t.Fatalf("%d containers of the killed owner left behind", n)
		}
	}
}

// crashOwner runs the hang connector locally and, given an image, in
// Docker, says "ready" with the local connector's pids, and waits to be
// killed.
func crashOwner(t *testing.T) {
	ctx := context.Background()
	l, err := executor.New("source-hang", executor.Method{Kind: executor.KindLocal, Path: os.Getenv("CRASH_HANG")},
		executor.Runtime{LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	pids := make(chan string, 1)
	go func() {
		for m, err := range l.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}) {
			if err == nil && m.Type == protocol.TypeLog && strings.HasPrefix(m.Log.Message, "pids ") {
				pids <- strings.TrimPrefix(m.Log.Message, "pids ")
			}
		}
	}()
	ready := <-pids
	if image := os.Getenv("CRASH_IMAGE"); image != "" {
		d, err := executor.New("source-hang", executor.Method{Kind: executor.KindDocker, Image: image}, executor.Runtime{NoInstall: true})
		if err != nil {
			t.Fatal(err)
		}
		started := make(chan bool)
		go func() {
			for m, err := range d.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}) {
				if err == nil && m.Type == protocol.TypeRecord {
					started <- true
				}
			}
		}()
		<-started
	}
	fmt.Println("ready", ready)
	time.Sleep(time.Hour)
}

// crashNext runs one command of a local connector and one in Docker, which
// sweep what the dead owner left.
func crashNext(t *testing.T) {
	ctx := context.Background()
	l, err := executor.New("source-true", executor.Method{Kind: executor.KindLocal, Path: "/bin/true"}, executor.Runtime{LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for range l.Run(ctx, executor.Invocation{Verb: executor.VerbCheck, Config: json.RawMessage(`{}`)}) {
	}
	if image := os.Getenv("CRASH_IMAGE"); image != "" {
		d, err := executor.New("source-hang", executor.Method{Kind: executor.KindDocker, Image: image}, executor.Runtime{NoInstall: true})
		if err != nil {
			t.Fatal(err)
		}
		for range d.Run(ctx, executor.Invocation{Verb: executor.VerbSpec}) {
			break
		}
	}
}

// waitDead waits until pid is gone; a process that outlives a generous
// limit is a leak.
func waitDead(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !alive(pid) {
			return
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("process %d is still running", pid)
}

func ownedContainers(t *testing.T, cli *client.Client, pid int) int {
	t.Helper()
	host, _ := os.Hostname()
	res, err := cli.ContainerList(context.Background(), client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", "io.goairbyte.owner")})
	if err != nil {
		t.Fatal(err)
	}
	// host:pid, then the pid namespace where there is one.
	n, want := 0, fmt.Sprintf("%s:%d", host, pid)
	for _, c := range res.Items {
		if l := c.Labels["io.goairbyte.owner"]; l == want || strings.HasPrefix(l, want+":") {
			n++
		}
	}
	return n
}

// TestSweepSparesReusedGroup: the sweep of a dead owner's run dir kills the
// process group its connector led, by the number recorded. Once that group
// is empty, the number can be reused by any new process group; killing it
// then would hit an unrelated program. A group is killed only while its
// leader is gone or is the very process that was recorded.
func TestSweepSparesReusedGroup(t *testing.T) {
	group := func() *exec.Cmd {
		c := exec.Command("sleep", "60")
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
		return c
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	runDir := func(name, record string) {
		dir := fmt.Sprintf("%s/goairbyte-%d-%s-1", tmp, dead.Process.Pid, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/.pgid", []byte(record), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Groups whose number was reused: another start time, a record of the
	// earlier layout (no start time).
	reused, oldLayout := group(), group()
	runDir("source-a", fmt.Sprintf("%d 1", reused.Process.Pid))
	runDir("source-b", strconv.Itoa(oldLayout.Process.Pid))
	// The recorded leader itself, still running: killed.
	leader := group()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", leader.Process.Pid))
	if err != nil {
		t.Skip("no /proc: start times cannot be told")
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	runDir("source-c", fmt.Sprintf("%d %s", leader.Process.Pid, fields[19])) // field 22: the start time

	next := exec.Command(os.Args[0], "-test.run=^TestKilledOwnerLeavesNothing$", "-test.count=1")
	next.Env = append(os.Environ(), "GOAIRBYTE_CRASH_CHILD=next", "TMPDIR="+tmp, "CRASH_IMAGE=")
	if out, err := next.CombinedOutput(); err != nil {
		t.Fatalf("the next process failed: %v\n%s", err, out)
	}
	if left := leftovers(t, tmp); len(left) > 0 {
		t.Fatalf("the sweep left run dirs behind: %v", left)
	}
	for _, c := range []*exec.Cmd{reused, oldLayout} {
		if !alive(c.Process.Pid) {
			t.Errorf("process group %d, whose number was reused, was killed by the sweep", c.Process.Pid)
		}
	}
	waitDead(t, leader.Process.Pid)
}

// TestSweepKillsEscapedProcesses: what a dead owner's local connector
// started outside its process group (setsid) carries the run's name in its
// environment; the sweep of the run dir kills it, and spares a process
// marked with the name of a run whose owner is alive.
func TestSweepKillsEscapedProcesses(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	escaped := func(run string) *exec.Cmd {
		c := exec.Command("sleep", "60")
		c.Env = append(os.Environ(), "GOAIRBYTE_RUN="+run)
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
		return c
	}
	deadRun := fmt.Sprintf("goairbyte-%d-source-a-1", dead.Process.Pid)
	if err := os.Mkdir(tmp+"/"+deadRun, 0o700); err != nil {
		t.Fatal(err)
	}
	orphan := escaped(deadRun)
	// A live owner's run (ours) whose name the dead one's begins with.
	liveRun := fmt.Sprintf("goairbyte-%d-source-a-1", os.Getpid())
	spared := escaped(liveRun)
	prefixed := escaped(deadRun + "0")

	next := exec.Command(os.Args[0], "-test.run=^TestKilledOwnerLeavesNothing$", "-test.count=1")
	next.Env = append(os.Environ(), "GOAIRBYTE_CRASH_CHILD=next", "TMPDIR="+tmp, "CRASH_IMAGE=")
	if out, err := next.CombinedOutput(); err != nil {
		t.Fatalf("the next process failed: %v\n%s", err, out)
	}
	for _, c := range []*exec.Cmd{spared, prefixed} {
		if !alive(c.Process.Pid) {
			t.Errorf("process %d, not of the dead owner's run, was killed by the sweep", c.Process.Pid)
		}
	}
	// The orphan is our child here, so its zombie is reaped by Wait.
	done := make(chan struct{})
	go func() { orphan.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the process %d that left the dead owner's connector's group outlived the sweep", orphan.Process.Pid)
	}
}
