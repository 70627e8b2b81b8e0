package executor

import (
	"os"

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
