package executor

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

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
func killMarked(run string) (killed []int) {
	if run == "" {
		return nil
	}
	entry := []byte(runMarker + "=" + run + "\x00")
	self := os.Getpid()
	for range 10 {
		n := len(killed)
		if killed = killMarkedOnce(entry, self, killed); len(killed) == n {
			return killed
		}
	}
	return killed
}

// killMarkedOnce sends SIGKILL to the processes whose environment holds
// entry and returns killed with their pids added.
func killMarkedOnce(entry []byte, self int, killed []int) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return killed
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
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
				killed = append(killed, pid)
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

// reapAdopted waits for the processes of a connector's group (pgid) and
// those killMarked killed that were handed to this process when their
// parent died. That happens where this process is PID 1 (a container with
// no init: a Go service, goab) or a subreaper: nothing else waits for
// them, and each stayed a zombie holding its pid, one more per run of a
// connector that starts a child, until the container's pids limit
// refused every new process. Only those are waited for, by pid: a child
// the program started itself is in no connector's group and was never
// marked. What was just killed may take a moment to die and be handed
// over, so the scan goes on while any is left, a second at most.
func reapAdopted(pgid int, killed []int) {
	self := os.Getpid()
	if self != 1 && !subreaper() {
		return
	}
	for range 100 {
		left := 0
		d, err := os.Open("/proc")
		if err != nil {
			return
		}
		names, _ := d.Readdirnames(-1)
		d.Close()
		for _, name := range names {
			pid, err := strconv.Atoi(name)
			if err != nil {
				continue
			}
			ppid, pgrp, zombie, ok := procParent(pid)
			if !ok || ppid != self || pgrp != pgid && !slices.Contains(killed, pid) {
				continue
			}
			if !zombie {
				left++
				continue
			}
			// A zombie leader of threads still exiting is not reaped yet.
			if wpid, err := unix.Wait4(pid, nil, unix.WNOHANG, nil); wpid == 0 || err == unix.EINTR {
				left++
			}
		}
		if left == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// procParent reads process pid's parent, process group and whether it is
// a zombie from /proc/<pid>/stat.
func procParent(pid int) (ppid, pgrp int, zombie, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false, false
	}
	// After the command name (in parentheses): state, ppid, pgrp.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 {
		return 0, 0, false, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	pgrp, err2 := strconv.Atoi(f[2])
	return ppid, pgrp, f[0] == "Z", err1 == nil && err2 == nil
}

// subreaper reports whether this process is a child subreaper
// (PR_SET_CHILD_SUBREAPER), to which orphans of its descendants go.
func subreaper() bool {
	var v int32
	err := unix.Prctl(unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&v)), 0, 0, 0)
	return err == nil && v != 0
}
