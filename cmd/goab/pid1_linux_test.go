package main_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/x/goairbyte/internal/testenv"
)

// goab as a container's PID 1 (FROM scratch, no init) stopped by docker
// stop's SIGTERM exits with 143, as the help says: the kernel does not kill
// PID 1 with a signal it has not asked for, so goab's dying of the signal
// left Go's runtime to exit with status 2, which says usage error. goab
// runs here as PID 1 of a new pid namespace, as in a container.
func TestTerminatedAsPID1Exits143(t *testing.T) {
	testenv.NeedRoot(t, "running goab as PID 1 of a new pid namespace")
	cmd := exec.Command(goabBin, "records", "source-faker", "--config", `{"count": 100000000}`, "--stream", "users")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOAIRBYTE_LOG_DIR="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	if line, err := r.ReadString('\n'); err != nil {
		t.Fatalf("first line %q: %v\n%s", line, err, errb.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 128+int(syscall.SIGTERM) {
		t.Fatalf("goab as PID 1 stopped by SIGTERM exited with %d (%v), not 143\n%s", code, cmd.ProcessState, errb.String())
	}
	if !strings.Contains(errb.String(), "terminated") {
		t.Errorf("stderr does not say goab was stopped:\n%s", errb.String())
	}
}
