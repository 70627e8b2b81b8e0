package executor

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// killMarked kills every process whose environment holds runMarker=run:
// what a local connector started and moved out of its process group
// (setsid, a daemonising helper, a tunnel) inherited the marker, and
// killing the group missed it. It scans /proc until a round finds none,
// so that a process forked during a round is found by the next.
//
// The marker is read through a pidfd opened first and the signal sent
// through it, so that a pid reused between the read and the kill is never
// signalled (where the kernel has no pidfds, the pid is signalled). A process that cleared its environment (env -i) is not
// found: this is a best effort for well-behaved helpers.
func killMarked(run string) {
	if run == "" {
		return
	}
	entry := []byte(runMarker + "=" + run + "\x00")
	self := os.Getpid()
	for range 10 {
		if killMarkedOnce(entry, self) == 0 {
			return
		}
	}
}

// killMarkedOnce sends SIGKILL to the processes whose environment holds
// entry and returns how many it signalled.
func killMarkedOnce(entry []byte, self int) int {
	d, err := os.Open("/proc")
	if err != nil {
		return 0
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	killed := 0
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid == self || pid <= 1 {
			continue
		}
		fd, err := unix.PidfdOpen(pid, 0)
		noPidfd := err == unix.ENOSYS || err == unix.EPERM // before Linux 5.3, or a seccomp filter
		if err != nil && !noPidfd {
			continue // gone
		}
		// Other users' environments are unreadable (EACCES): never ours.
		env, err := os.ReadFile("/proc/" + name + "/environ")
		if err == nil && hasEntry(env, entry) {
			if noPidfd {
				// Without a pidfd, a pid reused between the read and the
				// kill could be hit: a window of microseconds.
				err = unix.Kill(pid, unix.SIGKILL)
			} else {
				err = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			}
			if err == nil {
				killed++
			}
		}
		if !noPidfd {
			unix.Close(fd)
		}
	}
	return killed
}

// hasEntry reports whether env, NUL-separated NAME=value entries as
// /proc/<pid>/environ holds them, has entry (which ends in NUL) as one.
func hasEntry(env, entry []byte) bool {
	return bytes.HasPrefix(env, entry) || bytes.Contains(env, append([]byte{0}, entry...))
}
