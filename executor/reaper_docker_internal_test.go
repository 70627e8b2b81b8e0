package executor

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/x/goairbyte/internal/testenv"
)

// Releases before the pid namespace was part of labelOwner labelled their
// containers host:pid. Such a pid says nothing (its owner may run in
// another pid namespace), but no process outlives a reboot: a container of
// this host created before this boot, and not running (none is restarted),
// is a dead owner's, and the sweep removes it. Before, such containers
// were never removed. One of this boot, one still running, one of another
// host and one whose pid is alive here stay.
func TestSweepOldStyleLabels(t *testing.T) {
	cli := testenv.Docker(t)
	image := "goairbyte-test/hang:0.1.0"
	testenv.BuildImage(t, cli, "./internal/testconnectors/hang", image)
	ctx := context.Background()

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	live := exec.Command("sleep", "60")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.Process.Kill(); live.Wait() })

	const testLabel = "io.goairbyte.test.sweep"
	run := fmt.Sprint(time.Now().UnixNano())
	create := func(label string, start bool) string {
		t.Helper()
		c, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
			Config: &container.Config{Image: image, Cmd: []string{"child"},
				Labels: map[string]string{labelOwner: label, testLabel: run}},
			HostConfig: &container.HostConfig{LogConfig: container.LogConfig{Type: "none"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cli.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
		})
		if start {
			if _, err := cli.ContainerStart(ctx, c.ID, client.ContainerStartOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		return c.ID
	}
	want := map[string]string{
		create(fmt.Sprintf("%s:%d", hostName(), dead.Process.Pid), false):       "dead owner, not running",
		create(fmt.Sprintf("%s:%d", hostName(), dead.Process.Pid), true):        "dead owner, running",
		create(fmt.Sprintf("%s:%d", hostName(), live.Process.Pid), false):       "live pid",
		create(fmt.Sprintf("other-%s:%d", hostName(), dead.Process.Pid), false): "another host",
	}
	sweep := func() map[string]bool {
		t.Helper()
		sweptEngines.Delete(cli.DaemonHost())
		sweepContainers(ctx, cli)
		list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true,
			Filters: make(client.Filters).Add("label", testLabel+"="+run)})
		if err != nil {
			t.Fatal(err)
		}
		left := map[string]bool{}
		for _, c := range list.Items {
			left[want[c.ID]] = true
		}
		return left
	}

	// Created during this boot: the owner may live in another pid
	// namespace, so all stay.
	if left := sweep(); len(left) != 4 {
		t.Fatalf("containers of this boot were swept; left: %v", left)
	}
	// The host booted after they were created.
	bootTimeOf = func() (time.Time, bool) { return time.Now().Add(2 * preBootMargin), true }
	t.Cleanup(func() { bootTimeOf = bootTime })
	left := sweep()
	if left["dead owner, not running"] {
		t.Error("the container of an owner dead since before this boot was left")
	}
	for _, k := range []string{"dead owner, running", "live pid", "another host"} {
		if !left[k] {
			t.Errorf("the container (%s) was swept", k)
		}
	}
	// Without a boot time (no /proc), nothing of the old labels goes.
	bootTimeOf = func() (time.Time, bool) { return time.Time{}, false }
	if left := sweep(); len(left) != 3 {
		t.Fatalf("left without a boot time: %v", left)
	}
}
