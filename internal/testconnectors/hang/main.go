// Command hang is a test connector that never ends: its read starts a child
// process, reports both pids in a LOG message, emits one record, and then
// both ignore SIGTERM and sleep forever. Only SIGKILL of the whole process
// group stops them. It runs on kit.Run, not kit.Serve, which would end it
// after a grace period.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
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
	if err := child.Start(); err != nil {
		return fmt.Errorf("starting the child: %w", err)
	}
	if err := emit(base.Log(protocol.LevelInfo, fmt.Sprintf("pids %d %d", os.Getpid(), child.Process.Pid))); err != nil {
		return err
	}
	if err := emit(base.Record(`{"id":1}`)); err != nil {
		return err
	}
	sleepForever() // the kit's timed flush puts both messages out
	return nil
}

// sleepForever blocks for good; an empty select would be a fatal "all
// goroutines are asleep" instead.
func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}

func main() {
	signal.Ignore(syscall.SIGTERM)
	if len(os.Args) == 2 && os.Args[1] == "child" {
		sleepForever()
	}
	os.Exit(kit.Run(context.Background(), base.Reader(read), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
