package executor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/x/goairbyte/internal/owner"
)

// A process that reads from connectors can die with kill -9 at any moment.
// What it leaves behind is found and removed by the next one:
//
//   - each run's temp dir (which holds the resolved config, secrets
//     included) is named goairbyte-<owner pid>-…; dirs of owners that no
//     longer run are removed when this process first runs a connector;
//   - containers carry labelOwner (host name, pid, pid namespace); exited
//     or running containers of owners on this host and in this pid
//     namespace that no longer run are removed when this process first
//     talks to that Docker engine, and those of earlier releases (no pid
//     namespace in the label) once they are from before this boot;
//   - local connectors get SIGKILL when their parent dies (Pdeathsig, on
//     Linux), so none is left running with parent 1; what they started in
//     their process group is killed by the sweep of their temp dir, which
//     records the group (pgidFile);
//   - the steps of a Python connector's install (venv, pip) are recorded
//     and marked the same way, so that what they started (ensurepip, a
//     build) stops writing into the venv before the next process installs
//     it;
//   - what a local connector moved out of its process group (setsid) is
//     found by runMarker in its environment: killed when the run ends, or
//     by the sweep of the run's temp dir when the owner died first.

// runMarker is set in a local connector's environment to the name of its
// run's temp dir, and inherited by what it starts.
const runMarker = "GOAIRBYTE_RUN"

// labelOwner is set on every container a Docker executor creates: the
// host name and pid of the process that owns it, and on Linux its pid
// namespace ("host:pid:namespace").
const labelOwner = "io.goairbyte.owner"

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
		Filters: make(client.Filters).Add("label", labelOwner)})
	if err != nil {
		sweptEngines.Delete(cli.DaemonHost()) // try again next time
		return 0
	}
	for _, c := range list.Items {
		if !deadOwner(c.Labels[labelOwner], time.Unix(c.Created, 0), c.State) {
			continue
		}
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err == nil {
			removed++
		}
	}
	return removed
}

// deadOwner reports whether a container's labelOwner names a process of
// this host that no longer runs, given when the container was created and
// its state. A pid says nothing outside its namespace: a goairbyte in a
// container sharing the host's name (docker run --network host) and Docker
// socket would otherwise take the host's live goairbyte for dead and
// remove the containers of its runs, and the host the container's. So the
// label (host:pid:namespace) must name this pid namespace.
//
// Releases before the namespace was in the label wrote host:pid: its pid
// may be of any namespace, alive or dead here whatever its owner does. But
// no process outlives a reboot, so such a container is a dead owner's when
// it was created before this boot, with preBootMargin to spare, and is not
// running (the executor sets no restart policy: after a reboot its
// containers are exited or never started; a running one is of this boot,
// whatever the clock says). As a last guard against a clock stepped far
// forward, a pid alive here keeps the container. Without a boot time such
// containers stay, as before. Where pid namespaces cannot be read (no
// /proc: macOS, Windows) host:pid is the label this release writes too,
// and its pid is judged as such.
func deadOwner(label string, created time.Time, state container.ContainerState) bool {
	h, rest, ok := strings.Cut(label, ":")
	p, ns, hasNS := strings.Cut(rest, ":")
	pid, err := strconv.Atoi(p)
	if !ok || err != nil || pid <= 0 || h != hostName() {
		return false
	}
	here := pidNamespace()
	if !hasNS && here != "" {
		boot, ok := bootTimeOf()
		if !ok || !created.Add(preBootMargin).Before(boot) {
			return false
		}
		switch state {
		case container.StateExited, container.StateCreated, container.StateDead:
		default:
			return false
		}
	} else if ns != here {
		return false
	}
	return pid != os.Getpid() && !owner.Alive(pid)
}

// preBootMargin is how long before this boot a container with an old
// label (host:pid) must have been created for the sweep to take its owner
// for dead. The boot time is the clock now less the time since boot: a
// clock stepped forward after boot (the first NTP sync of a machine with a
// wrong or no real-time clock, a paused virtual machine resumed) moves it
// later, past containers created since. An hour covers the corrections of
// a real-time clock; what it leaves (containers created in the last hour
// before a reboot) costs disk space, not a live run.
const preBootMargin = time.Hour

// bootTimeOf is bootTime; tests replace it to act as a host booted later.
var bootTimeOf = bootTime

// bootTime is when this host booted, from /proc/stat (the host's, inside a
// container too); false where there is no /proc.
func bootTime() (time.Time, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			sec, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || sec <= 0 {
				return time.Time{}, false
			}
			return time.Unix(sec, 0), true
		}
	}
	return time.Time{}, false
}

// ownerLabel is this process's labelOwner value: host name, pid and, where
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
