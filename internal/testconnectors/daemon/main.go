// Command daemon is a test connector whose read starts two children in
// sessions of their own (as a daemonising helper or a tunnel does), which
// inherit stdout and stderr and sleep for a minute; the second starts with
// an empty environment. The connector reports the children's pids in a LOG
// message ("child P bare Q"), emits one record and exits 0. Killing the
// connector's process group reaches neither child; the bare one, without
// the environment it inherited, keeps the connector's output open after
// the connector is gone whatever the executor does.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

func read(ctx context.Context, c base.Config, emit func(*protocol.Message) error) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var pids [2]int
	for i, env := range [][]string{nil, {}} {
		child := exec.Command(self, "child")
		child.Stdout, child.Stderr = os.Stdout, os.Stderr
		child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		child.Env = env // nil: ours; empty: none
		if err := child.Start(); err != nil {
			return fmt.Errorf("starting the child: %w", err)
		}
		pids[i] = child.Process.Pid
	}
	if err := emit(base.Log(protocol.LevelInfo, fmt.Sprintf("child %d bare %d", pids[0], pids[1]))); err != nil {
		return err
	}
	return emit(base.Record(`{"id":1}`))
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "child" {
		// Long enough to outlast any test; a test kills it when it is done.
		time.Sleep(time.Minute)
		return
	}
	os.Exit(kit.Run(context.Background(), base.Reader(read), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
