package executor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/moby/moby/client"
)

// A process that reads from connectors can die with kill -9 at any moment.
// What it leaves behind is found and removed by the next one:
//
//   - each run's temp dir (which holds the resolved config, secrets
//     included) is named goairbyte-<owner pid>-…; dirs of owners that no
//     longer run are removed when this process first runs a connector;
//   - containers carry LabelOwner (host name and pid); exited or running
//     containers of owners on this host that no longer run are removed when
//     this process first talks to that Docker engine;
//   - local connectors get SIGKILL when their parent dies (Pdeathsig, on
//     Linux), so none is left running with parent 1; what they started in
//     their process group is killed by the sweep of their temp dir, which
//     records the group (pgidFile).

// LabelOwner is set on every container a Docker executor creates: the
// host name and pid of the process that owns it ("host:pid").
const LabelOwner = "io.goairbyte.owner"

// tempPrefix begins the name of every run's temp dir.
const tempPrefix = "goairbyte-"

// ownerTag is this process's part of temp dir names and container labels.
var ownerTag = strconv.Itoa(os.Getpid())

// runDirPattern is the os.MkdirTemp pattern of a run's temp dir.
func runDirPattern(connector string) string {
	return tempPrefix + ownerTag + "-" + connector + "-"
}

// alive reports whether a process with this pid runs on this host; a
// zombie (dead, not yet reaped by its parent) does not.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc here: trust kill
	}
	// The state follows the command name, which is in parentheses.
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// pgidFile, in a run's temp dir, holds the process group of a local
// connector, so that a sweep can stop what the connector started and left
// running after its owner died.
const pgidFile = ".pgid"

// hostName is this host's name, as container owner labels carry it.
func hostName() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

var sweepTempOnce sync.Once

// sweepTempDirs removes the run temp dirs of owners that no longer run,
// once per process. Dirs of the old layout (no pid) are left alone.
func sweepTempDirs() {
	sweepTempOnce.Do(func() {
		entries, err := os.ReadDir(os.TempDir())
		if err != nil {
			return
		}
		for _, e := range entries {
			if pid, ok := runDirOwner(e.Name()); ok && e.IsDir() && pid != os.Getpid() && !alive(pid) {
				dir := filepath.Join(os.TempDir(), e.Name())
				if b, err := os.ReadFile(filepath.Join(dir, pgidFile)); err == nil {
					if pgid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pgid > 1 {
						_ = syscall.Kill(-pgid, syscall.SIGKILL)
					}
				}
				_ = os.RemoveAll(dir)
			}
		}
	})
}

// runDirOwner returns the owner pid in a run temp dir's name.
func runDirOwner(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, tempPrefix)
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(digits)
	return pid, err == nil && pid > 0
}

// sweptEngines records the Docker engines whose leftovers this process
// removed already, by daemon host.
var sweptEngines sync.Map

// sweepContainers removes, once per engine and process, the containers of
// this host's goairbyte owners that no longer run. It never touches a
// container without the owner label or of another host.
func sweepContainers(ctx context.Context, cli *client.Client) (removed int) {
	if _, done := sweptEngines.LoadOrStore(cli.DaemonHost(), true); done {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dockerTimeout)
	defer cancel()
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: make(client.Filters).Add("label", LabelOwner)})
	if err != nil {
		sweptEngines.Delete(cli.DaemonHost()) // try again next time
		return 0
	}
	host := hostName()
	for _, c := range list.Items {
		owner := c.Labels[LabelOwner]
		h, p, ok := strings.Cut(owner, ":")
		pid, err := strconv.Atoi(p)
		if !ok || err != nil || h != host || pid == os.Getpid() || alive(pid) {
			continue
		}
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err == nil {
			removed++
		}
	}
	return removed
}

// ownerLabel is this process's LabelOwner value.
func ownerLabel() string { return fmt.Sprintf("%s:%d", hostName(), os.Getpid()) }
