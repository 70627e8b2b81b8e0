package filelock_test

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/testenv"

	"github.com/x/goairbyte/internal/filelock"
)

// holdLock is run by the tests in a child process: it takes the lock named
// by FILELOCK_PATH, says so and waits to be killed.
func TestHoldLockChild(t *testing.T) {
	path := os.Getenv("FILELOCK_PATH")
	if path == "" {
		t.Skip("run by the other tests")
	}
	unlock, err := filelock.Lock(context.Background(), path, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	// Kept alive: a lock no longer referenced is released when the
	// garbage collector closes its file. And no select {}: the runtime
	// ends a process whose goroutines all block for good.
	defer unlock()
	os.Stdout.WriteString("locked\n")
	for {
		time.Sleep(time.Hour)
	}
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
	if _, err := filelock.Lock(ctx, path, nil, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock while another process holds it: %v, want it to wait until its context ends", err)
	}
	if _, err := filelock.RLock(ctx, path, nil, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("RLock while another process holds it: %v, want it to wait until its context ends", err)
	}

	holder.Process.Kill() // SIGKILL
	holder.Wait()
	unlock, err := filelock.Lock(context.Background(), path, nil, "")
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
	r1, err := filelock.RLock(ctx, path, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := filelock.RLock(ctx, path, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := filelock.Lock(cancelled, path, nil, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock under two shared locks: %v, want it to wait", err)
	}
	r1()
	r2()
	unlock, err := filelock.Lock(ctx, path, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := filelock.RLock(cancelled, path, nil, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("RLock under an exclusive lock: %v, want it to wait", err)
	}
	unlock()
}

// A wait of more than a second says, once, what waits and for which file,
// through the caller's logger; cancelling the context ends the wait with
// the context's error. Before, the wait was silent.
func TestLongWaitIsLogged(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.lock")
	startHolder(t, path)
	for _, shared := range []bool{false, true} {
		var log testenv.Buffer
		logger := slog.New(slog.NewTextHandler(&log, nil))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			lock := filelock.Lock
			if shared {
				lock = filelock.RLock
			}
			_, err := lock(ctx, path, logger, "the test's thing")
			done <- err
		}()
		// The line comes after a second; thirty is a generous limit.
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(log.String(), "waiting"); {
			select {
			case err := <-done:
				t.Fatalf("shared %v: the wait ended (%v) before it was logged", shared, err)
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("shared %v: still waiting for the lock after 30 s, and nothing logged", shared)
			}
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("shared %v: a cancelled wait returned %v, want context.Canceled", shared, err)
		}
		line := log.String()
		if strings.Count(line, "\n") != 1 || !strings.Contains(line, `for="the test's thing"`) || !strings.Contains(line, "lock="+path) {
			t.Fatalf("shared %v: logged %q, want one line naming the thing and the file", shared, line)
		}
	}
}
