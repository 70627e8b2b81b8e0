// Command hang is a test connector that never ends: its read starts a child
// process, reports both pids in a LOG message, emits one record, and then
// both ignore SIGTERM and sleep forever. Only SIGKILL of the whole process
// group stops them.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/x/goairbyte/internal/testconnectors/kit"
)

func main() {
	signal.Ignore(syscall.SIGTERM)
	if len(os.Args) == 2 && os.Args[1] == "child" {
		sleepForever()
	}
	kit.Common()
	self, err := os.Executable()
	if err != nil {
		kit.Fail(1, "os.Executable: %v", err)
	}
	child := exec.Command(self, "child")
	if err := child.Start(); err != nil {
		kit.Fail(1, "starting the child: %v", err)
	}
	kit.Log("INFO", fmt.Sprintf("pids %d %d", os.Getpid(), child.Process.Pid))
	kit.Record(kit.M{"id": 1})
	kit.Flush()
	sleepForever()
}

// sleepForever blocks for good; an empty select would be a fatal "all
// goroutines are asleep" instead.
func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}
