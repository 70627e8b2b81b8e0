//go:build !windows

package executor

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// signalGroup sends sig to the process group p leads (procAttr made it a
// leader): a negative pid is the whole group.
func signalGroup(p *os.Process, sig syscall.Signal) { _ = syscall.Kill(-p.Pid, sig) }

// killPgid kills process group pgid.
func killPgid(pgid int) { _ = syscall.Kill(-pgid, syscall.SIGKILL) }

// signalName is sig's name, such as SIGKILL (syscall's String says
// "killed").
func signalName(sig syscall.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	return sig.String()
}
