package executor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/moby/client"
	"github.com/x/goairbyte/internal/owner"
)

// A process that reads from connectors can die with kill -9 at any moment.
// What it leaves behind is found and removed by the next one:
//
//   - each run's temp dir (which holds the resolved config, secrets
//     included) is named goairbyte-<owner pid>-…; dirs of owners that no
//     longer run are removed when this process first runs a connector;
//   - containers carry LabelOwner (host name, pid, pid namespace); exited
//     or running containers of owners on this host and in this pid
//     namespace that no longer run are removed when this process first
//     talks to that Docker engine;
//   - local connectors get SIGKILL when their parent dies (Pdeathsig, on
//     Linux), so none is left running with parent 1; what they started in
//     their process group is killed by the sweep of their temp dir, which
//     records the group (pgidFile);
//   - what a local connector moved out of its process group (setsid) is
//     found by runMarker in its environment: killed when the run ends, or
//     by the sweep of the run's temp dir when the owner died first.

// runMarker is set in a local connector's environment to the name of its
// run's temp dir, and inherited by what it starts.
const runMarker = "GOAIRBYTE_RUN"

// LabelOwner is set on every container a Docker executor creates: the
// host name and pid of the process that owns it, and on Linux its pid
// namespace ("host:pid:namespace").
const LabelOwner = "io.goairbyte.owner"

// tempPrefix begins the name of every run's temp dir.
const tempPrefix = "goairbyte-"

// runDirPattern is the os.MkdirTemp pattern of a run's temp dir.
func runDirPattern(connector string) string {
	return owner.Prefix(tempPrefix) + connector + "-"
}

// pgidFile, in a run's temp dir, holds the process group of a local
// connector and the start time of the connector that leads it ("pgid
// start"), so that a sweep can stop what the connector started and left
// running after its owner died.
const pgidFile = ".pgid"

// pgidRecord is what pgidFile holds for the group led by pid.
func pgidRecord(pid int) string { return strconv.Itoa(pid) + " " + procStart(pid) }

// procStartOf is procStart; tests replace it to act as a system without
// /proc.
var procStartOf = procStart

// procStart is the start time of process pid (in clock ticks since boot,
// from /proc), "" when there is no such process or no /proc.
func procStart(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The fields after the command name (in parentheses) begin with the
	// state, field 3; the start time is field 22.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// killGroup kills the process group a dead owner's connector led, as
// pgidFile recorded it. The group's id is its leader's pid, which Linux
// does not reuse while the group has members: with the leader gone (killed
// at its owner's death) whatever remains in the group is the connector's.
// A live process with that pid is the leader only if it started when the
// connector did; otherwise the pid was reused, and its group, maybe not
// even ours, is left alone.
func killGroup(record string) {
	f := strings.Fields(record)
	if len(f) == 0 {
		return
	}
	pgid, err := strconv.Atoi(f[0])
	if err != nil || pgid <= 1 {
		return
	}
	switch now := procStartOf(pgid); {
	case now != "" && (len(f) < 2 || f[1] != now):
		return // the pid was reused
	case now == "" && owner.Alive(pgid):
		// No start time to compare (no /proc): a live leader may be a
		// new group that reused the number. Left alone; with the number
		// free, what remains in the group can only be the connector's.
		return
	}
	killPgid(pgid)
}

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
		owner.Sweep(tempPrefix, func(dir string) {
			if b, err := os.ReadFile(filepath.Join(dir, pgidFile)); err == nil {
				killGroup(string(b))
			}
			killMarked(filepath.Base(dir))
			_ = os.RemoveAll(dir)
		})
	})
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
	for _, c := range list.Items {
		if !deadOwner(c.Labels[LabelOwner]) {
			continue
		}
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err == nil {
			removed++
		}
	}
	return removed
}

// deadOwner reports whether a container's LabelOwner names a process of
// this host and pid namespace that no longer runs. A pid says nothing
// outside its namespace: a goairbyte in a container sharing the host's name
// (docker run --network host) and Docker socket would otherwise take the
// host's live goairbyte for dead and remove the containers of its runs, and
// the host the container's.
func deadOwner(label string) bool {
	h, rest, ok := strings.Cut(label, ":")
	p, ns, _ := strings.Cut(rest, ":")
	pid, err := strconv.Atoi(p)
	if !ok || err != nil || h != hostName() || ns != pidNamespace() {
		return false
	}
	return pid != os.Getpid() && !owner.Alive(pid)
}

// ownerLabel is this process's LabelOwner value: host name, pid and, where
// there is one (Linux), pid namespace.
func ownerLabel() string {
	l := fmt.Sprintf("%s:%d", hostName(), os.Getpid())
	if ns := pidNamespace(); ns != "" {
		l += ":" + ns
	}
	return l
}

// pidNamespace is the inode number of this process's pid namespace, ""
// where it cannot be read (no /proc).
func pidNamespace() string {
	l, err := os.Readlink("/proc/self/ns/pid") // pid:[4026531836]
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(l, "pid:["), "]")
}
