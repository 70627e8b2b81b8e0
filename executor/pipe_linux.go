package executor

import (
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// pipeSize is the capacity asked for the connector's stdout and stdin
// pipes. The default 64 KiB makes the writing side stop and wake up (and
// the reading side read) every 64 KiB; a larger pipe takes writes whole.
// Linux caps it at /proc/sys/fs/pipe-max-size (1 MiB by default) for
// unprivileged users.
const pipeSize = 1 << 20

// growPipe enlarges a pipe where the system allows it; failing is harmless.
func growPipe(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeSize)
	})
}

// procAttr puts a connector in its own process group, so that signals reach
// everything it started, and kills it when this process dies (even of
// SIGKILL), so that no connector is left running with parent 1.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// Linux sends Pdeathsig when the thread that forked the child ends, not the
// process; Go may end a thread (one locked with LockOSThread whose
// goroutine returns, as the cache's writer does). So connectors are forked
// from one thread that never ends.
var (
	spawnOnce sync.Once
	spawnJobs chan func()
)

// startCommand starts cmd from the spawning thread.
func startCommand(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnJobs = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for job := range spawnJobs {
				job()
			}
		}()
	})
	done := make(chan error, 1)
	spawnJobs <- func() { done <- cmd.Start() }
	return <-done
}
