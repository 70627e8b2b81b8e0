package executor

import (
	"os"

	"golang.org/x/sys/unix"
)

// stdoutPipeSize is the capacity asked for the connector's stdout pipe. The
// default 64 KiB makes a fast connector stop and wake up (and us read) every
// 64 KiB; a larger pipe takes its writes whole. Linux caps it at
// /proc/sys/fs/pipe-max-size (1 MiB by default) for unprivileged users.
const stdoutPipeSize = 1 << 20

// growPipe enlarges a pipe where the system allows it; failing is harmless.
func growPipe(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, stdoutPipeSize)
	})
}
