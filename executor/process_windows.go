package executor

import (
	"os"
	"os/exec"
	"syscall"
)

// Windows has no process groups to signal, no SIGTERM to send and no
// Pdeathsig, so a local connector is weaker there than on Unix:
//
//   - stopping it (terminate) sends nothing: with its output closed, a
//     connector that writes fails at once, and one that does not is killed
//     when the grace period ends; a cancelled write's output is read on
//     (see procRun.drain), so its destination runs until the grace
//     period ends unless it stops by itself (its input ends);
//   - killing it kills that process only: what it started keeps running
//     (there is no runMarker scan either, see killMarked);
//   - when its owner dies it keeps running until it writes to the closed
//     pipe, and the sweep of the owner's temp dir does not kill it (no start
//     time to tell it from a process that reused its pid).
//
// A job object (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE) would give all three.

// growPipe does nothing: Windows pipes are not enlarged here.
func growPipe(*os.File) {}

// procAttr asks for nothing: there is no process group to put it in.
func procAttr() *syscall.SysProcAttr { return nil }

// startCommand starts cmd.
func startCommand(cmd *exec.Cmd) error { return cmd.Start() }

// signalGroup kills p for SIGKILL and does nothing for any other signal,
// which Windows cannot send to another process.
func signalGroup(p *os.Process, sig syscall.Signal) {
	if sig == syscall.SIGKILL {
		_ = p.Kill()
	}
}

// killPgid does nothing: the pid recorded for a dead owner's connector may
// name another process by now.
func killPgid(int) {}

// signalName is sig's name.
func signalName(sig syscall.Signal) string { return sig.String() }
