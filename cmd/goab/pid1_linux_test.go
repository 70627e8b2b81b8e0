package main_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/testenv"
)

// goab as a container's PID 1 (FROM scratch, no init) stopped by docker
// stop's SIGTERM exits with 143, as the help says: the kernel does not kill
// PID 1 with a signal it has not asked for, so goab's dying of the signal
// left Go's runtime to exit with status 2, which says usage error. goab
// runs here as PID 1 of a new pid namespace, as in a container.
func TestTerminatedAsPID1Exits143(t *testing.T) {
	testenv.NeedRoot(t, "running goab as PID 1 of a new pid namespace")
	cmd, stderr := interruptRecords(t, syscall.SIGTERM, &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID})
	if code := cmd.ProcessState.ExitCode(); code != 128+int(syscall.SIGTERM) {
		t.Fatalf("goab as PID 1 stopped by SIGTERM exited with %d (%v), not 143\n%s", code, cmd.ProcessState, stderr)
	}
	if !strings.Contains(stderr, "terminated") {
		t.Errorf("stderr does not say goab was stopped:\n%s", stderr)
	}
}

// goab in a container killed with -9 mid-read (an OOM kill, docker kill)
// leaves its run dir (the config, secrets included) and its DuckDB spool
// (a chunk of records) in TMPDIR, on the volume; the next goab, PID 1 of
// the restarted container too, removes them. Before, their names carried
// pid 1, the sweeper's own, and they stayed for good.
func TestKilledAsPID1LeavesNothingForTheNext(t *testing.T) {
	testenv.NeedRoot(t, "running goab as PID 1 of a new pid namespace")
	fk, tmp := faker(t), t.TempDir()
	env := append(os.Environ(), "TMPDIR="+tmp, "AIRBYTE_TEMP_DIR=", "GOAIRBYTE_LOG_DIR="+t.TempDir())
	read := func(count int) *exec.Cmd {
		cmd := exec.Command(goabBin, "read", "source-faker", "--local-executable", fk, "--config", fmt.Sprintf(`{"count": %d}`, count),
			"--cache", filepath.Join(t.TempDir(), "c.duckdb"), "--no-progress")
		cmd.Env = env
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
		return cmd
	}
	leftovers := func() []string {
		runs, _ := filepath.Glob(filepath.Join(tmp, "goairbyte-1-*"))
		spools, _ := filepath.Glob(filepath.Join(tmp, "goairbyte-duckdb-1-*", "batch-*"))
		return append(runs, spools...)
	}
	first := read(100000000)
	var errb bytes.Buffer
	first.Stderr = &errb
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); len(leftovers()) < 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			first.Process.Kill()
			first.Wait()
			t.Fatalf("no run dir and spool file after a minute: %v\n%s", leftovers(), errb.String())
		}
	}
	first.Process.Kill()
	first.Wait()
	left := leftovers()
	if len(left) < 2 {
		t.Fatalf("the killed goab left %v", left)
	}
	second := read(10)
	if out, err := second.CombinedOutput(); err != nil {
		t.Fatalf("the next goab: %v\n%s", err, out)
	}
	if left := leftovers(); len(left) > 0 {
		t.Fatalf("the next goab as PID 1 left the killed one's files in TMPDIR: %v", left)
	}
}
