package owner_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/x/goairbyte/internal/owner"
	"github.com/x/goairbyte/internal/testenv"
)

const testPrefix = "goairbyte-ownertest-"

// TestOwnerChild makes an owned directory, prints it and waits for its
// stdin to close; TestSweepAcrossPidNamespaces runs it as PID 1 of a new
// pid namespace, as goab runs in a container.
func TestOwnerChild(t *testing.T) {
	if os.Getenv("OWNER_CHILD") == "" {
		t.Skip("run by TestSweepAcrossPidNamespaces")
	}
	dir, release, err := owner.MkdirTemp(owner.Prefix(testPrefix) + "*")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	fmt.Println("dir " + dir)
	io.Copy(io.Discard, os.Stdin)
}

// In a container every goab is PID 1, and so was the one an OOM kill or
// docker kill ended before it on the same volume; another replica's pids
// mean nothing here. The sweep must leave a live owner's directory alone
// whatever its pid, and remove a dead one's though its pid is 1 (which
// runs here, and is the sweeper's own in a container): before, a killed
// container's run dirs (config and secrets) and spools (a chunk of
// records each) stayed on the volume for good.
func TestSweepAcrossPidNamespaces(t *testing.T) {
	testenv.NeedRoot(t, "running a process as PID 1 of a new pid namespace")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("AIRBYTE_TEMP_DIR", "")
	cmd := exec.Command(os.Args[0], "-test.run=^TestOwnerChild$", "-test.v")
	cmd.Env = append(os.Environ(), "OWNER_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
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
	defer func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() }()
	var dir string
	for sc := bufio.NewScanner(stdout); sc.Scan(); {
		if d, ok := strings.CutPrefix(sc.Text(), "dir "); ok {
			dir = d
			break
		}
	}
	if dir == "" {
		t.Fatalf("the child made no directory: %s", stderr.String())
	}
	if pid, ok := owner.PID(filepath.Base(dir), testPrefix); !ok || pid != 1 {
		t.Fatalf("the child's directory %s is not PID 1's", dir)
	}
	if n := owner.Sweep(testPrefix, func(d string) { os.RemoveAll(d) }); n != 0 {
		t.Fatalf("the sweep removed %d directories of a live owner", n)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("a live owner's directory is gone: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if n := owner.Sweep(testPrefix, func(d string) { os.RemoveAll(d) }); n != 1 {
		t.Fatalf("the sweep removed %d directories, not the one of the killed PID 1", n)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the killed owner's directory %s is still there: %v", dir, err)
	}
}
