package executor

import (
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Where start times cannot be read (no /proc: macOS, BSDs), a recorded
// group whose leader's pid is alive cannot be told from a new group that
// reused the number, so it is left alone; with the pid free, the group
// (if any remains) can only be the connector's, since a group's number is
// not reused while it has members. Before, such a group was always killed.
func TestKillGroupWithoutStartTimes(t *testing.T) {
	procStartOf = func(int) string { return "" }
	t.Cleanup(func() { procStartOf = procStart })

	live := exec.Command("sleep", "60")
	live.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.Process.Kill(); live.Wait() })
	exited := make(chan struct{})
	go func() { live.Wait(); close(exited) }()

	killGroup(strconv.Itoa(live.Process.Pid) + " ")
	select {
	case <-exited:
		t.Fatal("a live group whose start time cannot be read was killed")
	case <-time.After(200 * time.Millisecond):
	}
}
