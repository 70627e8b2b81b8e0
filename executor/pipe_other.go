//go:build !linux && !windows

package executor

import (
	"os"
	"os/exec"
	"syscall"
)

// growPipe does nothing where pipes cannot be enlarged.
func growPipe(*os.File) {}

// procAttr puts a connector in its own process group, so that signals reach
// everything it started.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// startCommand starts cmd.
func startCommand(cmd *exec.Cmd) error { return cmd.Start() }
