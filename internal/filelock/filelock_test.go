package filelock_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/internal/filelock"
)

// holdLock is run by the tests in a child process: it takes the lock named
// by FILELOCK_PATH, says so and waits to be killed.
func TestHoldLockChild(t *testing.T) {
	path := os.Getenv("FILELOCK_PATH")
	if path == "" {
		t.Skip("run by the other tests")
	}
	if _, err := filelock.Lock(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	select {}
}

// startHolder starts a child process holding the lock of path and returns
// once it holds it.
func startHolder(t *testing.T, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldLockChild$")
	cmd.Env = append(os.Environ(), "FILELOCK_PATH="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("the holder said %q (%v)", line, err)
	}
	return cmd
}

// A lock another process holds is not taken (Lock waits until its context
// ends); once that process is killed with -9, it is.
func TestHolderKilled(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.lock")
	holder := startHolder(t, path)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := filelock.Lock(ctx, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock while another process holds it: %v, want it to wait until its context ends", err)
	}
	if _, err := filelock.RLock(ctx, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("RLock while another process holds it: %v, want it to wait until its context ends", err)
	}

	holder.Process.Kill() // SIGKILL
	holder.Wait()
	unlock, err := filelock.Lock(context.Background(), path)
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	unlock()
}

// Shared locks coexist; an exclusive one waits for them, within one
// process too.
func TestSharedAndExclusive(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.lock")
	ctx := context.Background()
	r1, err := filelock.RLock(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := filelock.RLock(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := filelock.Lock(cancelled, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock under two shared locks: %v, want it to wait", err)
	}
	r1()
	r2()
	unlock, err := filelock.Lock(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := filelock.RLock(cancelled, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("RLock under an exclusive lock: %v, want it to wait", err)
	}
	unlock()
}
