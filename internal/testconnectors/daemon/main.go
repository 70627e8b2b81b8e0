// Command daemon is a test connector whose read starts a child in a session
// of its own (as a daemonising helper or a tunnel does), which inherits
// stdout and stderr and sleeps for a minute; the connector reports the
// child's pid in a LOG message, emits one record and exits 0. Killing the
// connector's process group does not reach the child, which keeps the
// connector's output open after the connector is gone.
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
	child := exec.Command(self, "child")
	child.Stdout, child.Stderr = os.Stdout, os.Stderr
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := child.Start(); err != nil {
		return fmt.Errorf("starting the child: %w", err)
	}
	if err := emit(base.Log(protocol.LevelInfo, fmt.Sprintf("child %d", child.Process.Pid))); err != nil {
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
