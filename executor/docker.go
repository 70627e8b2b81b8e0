package executor

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
	"github.com/oklog/ulid/v2"

	"github.com/x/goairbyte/internal/airbytedirs"
	"github.com/x/goairbyte/internal/dockerauth"
	"github.com/x/goairbyte/internal/imageref"
	"github.com/x/goairbyte/internal/jsonwalk"
	"github.com/x/goairbyte/protocol"
)

// Labels set on every container a Docker executor creates, so that leftovers
// can be found (docker ps -a --filter label=io.goairbyte.connector).
const (
	labelConnector = "io.goairbyte.connector" // the connector's name
	labelRun       = "io.goairbyte.run"       // a unique id per run
)

// containerRunDir is where the run files are copied inside the container.
const containerRunDir = "/tmp/goairbyte"

// dockerTimeout bounds the engine calls of clean-up, which must not hang on
// a cancelled context.
const dockerTimeout = 30 * time.Second

// dockerExecutor runs a connector as a Docker container, one per command, through
// the Docker engine API. The container runs the image's ENTRYPOINT with the
// command's arguments, or, in an image without one, the command of its
// AIRBYTE_ENTRYPOINT variable (Airbyte's Docker interface has images set
// both).
type dockerExecutor struct {
	runner
	image string
	cli   *client.Client
	ready atomic.Bool // the image is known to be present
	// entrypoint replaces the image's when it has none but says its
	// command in AIRBYTE_ENTRYPOINT; stored before ready is set.
	entrypoint atomic.Pointer[[]string]
	// platform is the image's, such as linux/arm64; stored before ready.
	platform atomic.Pointer[string]
	// user is the image's USER ("" for root); stored before ready.
	user atomic.Pointer[string]
}

var _ Executor = (*dockerExecutor)(nil)

// newDocker returns an executor for a complete image reference (with its
// tag). The client is the Method's DockerClient or the one shared by the
// executors of the environment's engine (see envClient); the engine is
// first contacted by Run or Install.
func newDocker(name, image string, o *options) (*dockerExecutor, error) {
	cli := o.dockerClient
	if cli == nil {
		var err error
		if cli, err = envClient(); err != nil {
			return nil, &dockerUnavailableError{Host: "(from the environment)", Err: err}
		}
	}
	return &dockerExecutor{runner: newRunner(name, o), image: image, cli: cli}, nil
}

// envClients holds the Docker clients built from the environment, one per
// setting of the variables client.FromEnv reads.
var envClients sync.Map // string → *client.Client

// envClient returns the client for the engine the environment names
// (DOCKER_HOST etc.), built on first use and shared by every executor
// given no client for as long as the process runs. A client keeps its own
// pool of connections to the engine, each idle one with two goroutines
// until the transport's 30 s idle timeout: a client per executor left
// about two connections open per dropped Source, so a server that builds
// a Source per sync held hundreds.
func envClient() (*client.Client, error) {
	key := strings.Join([]string{os.Getenv(client.EnvOverrideHost), os.Getenv(client.EnvOverrideAPIVersion),
		os.Getenv(client.EnvOverrideCertPath), os.Getenv(client.EnvTLSVerify)}, "\x00")
	if cli, ok := envClients.Load(key); ok {
		return cli.(*client.Client), nil
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, err
	}
	if prev, loaded := envClients.LoadOrStore(key, cli); loaded {
		cli.Close()
		return prev.(*client.Client), nil
	}
	return cli, nil
}

// Method says how the connector runs.
func (d *dockerExecutor) Method() Method { return d.method }

// String says how the connector runs.
func (d *dockerExecutor) String() string { return d.name + " (Docker image " + d.image + ")" }

// InstalledVersion is the image's tag ("latest" when it has none).
func (d *dockerExecutor) InstalledVersion(ctx context.Context) (string, error) {
	return cmp.Or(imageref.Tag(d.image), "latest"), nil
}

// Install pulls the image unless it is present.
func (d *dockerExecutor) Install(ctx context.Context) error { return d.ensureImage(ctx, true) }

// Uninstall does nothing: images are shared with other tools and other
// connectors; remove one with docker image rm.
func (d *dockerExecutor) Uninstall(ctx context.Context) error { return nil }

// ensureImage checks that the image is present, pulling it when allowed,
// and finds the command it runs.
func (d *dockerExecutor) ensureImage(ctx context.Context, pull bool) error {
	if d.ready.Load() {
		return nil
	}
	img, err := d.cli.ImageInspect(ctx, d.image)
	switch {
	case err == nil:
	case cerrdefs.IsNotFound(err) && pull:
		if err := d.pull(ctx); err != nil {
			return &NotInstalledError{Connector: d.name, Missing: "Docker image " + d.image, Hint: pullHint(d.image, err), Err: err}
		}
		if img, err = d.cli.ImageInspect(ctx, d.image); err != nil {
			return d.engineErr(err)
		}
	case cerrdefs.IsNotFound(err):
		return &NotInstalledError{Connector: d.name, Missing: "Docker image " + d.image,
			Hint: "pull it with docker pull " + d.image + ", call Install, or allow connector.WithInstallIfMissing(true)"}
	default:
		return d.engineErr(err)
	}
	entrypoint, err := d.entrypointOf(img)
	if err != nil {
		return err
	}
	d.entrypoint.Store(&entrypoint)
	platform := path.Join(img.Os, img.Architecture, img.Variant)
	d.platform.Store(&platform)
	var user string
	if img.Config != nil {
		user = img.Config.User
	}
	d.user.Store(&user)
	d.ready.Store(true)
	return nil
}

// airbyteEntrypointEnv is the variable in which Airbyte's Docker interface
// has a connector image repeat its ENTRYPOINT; the platform runs the
// command it holds.
const airbyteEntrypointEnv = "AIRBYTE_ENTRYPOINT"

// platformEnv is what the Airbyte platform sets in every connector's
// container that connectors act on (airbyte-platform, the workload
// launcher's RuntimeEnvVarFactory.getConfigurationEnvVars):
// USE_STREAM_CAPABLE_STATE=true, without which the sources of the Java
// CDK's versions that read it (EnvVariableFeatureFlags, default false)
// take a STREAM or GLOBAL --state for a LEGACY one
// (StateMessageHelper.getTypedState: the last message's data, none) and
// send LEGACY states themselves. Newer CDKs ignore it.
var platformEnv = []string{"USE_STREAM_CAPABLE_STATE=true"}

// containerEnv is a container's environment: the platform's variables
// that env does not set itself, then env.
func containerEnv(env []string) []string {
	out := make([]string, 0, len(platformEnv)+len(env))
	for _, kv := range platformEnv {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") || e == name }) {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// entrypointOf is the entrypoint a container of img needs set: nil when
// the image has one, the command of AIRBYTE_ENTRYPOINT when it has only
// that. An image with neither cannot run the connector's commands.
func (d *dockerExecutor) entrypointOf(img client.ImageInspectResult) ([]string, error) {
	if img.Config == nil {
		return nil, nil // the engine did not say: leave it to the image
	}
	if len(img.Config.Entrypoint) > 0 {
		return nil, nil
	}
	for _, kv := range img.Config.Env {
		if v, ok := strings.CutPrefix(kv, airbyteEntrypointEnv+"="); ok && strings.TrimSpace(v) != "" {
			return strings.Fields(v), nil
		}
	}
	cmd := ""
	if len(img.Config.Cmd) > 0 {
		cmd = fmt.Sprintf(" (its CMD is %q, which the connector's command line replaces)", img.Config.Cmd)
	}
	return nil, fmt.Errorf("connector %s: the Docker image %s has no ENTRYPOINT and no %s variable%s: "+
		"Airbyte connector images set both to the connector's program; set ENTRYPOINT in the image's Dockerfile, "+
		"or check that the image is an Airbyte connector", d.name, d.image, airbyteEntrypointEnv, cmd)
}

func (d *dockerExecutor) pull(ctx context.Context) error {
	d.o.logger.Info("pulling Docker image", "connector", d.name, "image", d.image)
	// The engine reads no credentials: a pull sends those docker login
	// keeps for the registry, as docker pull does.
	host, _ := imageref.Registry(d.image)
	auth, err := dockerauth.Header(ctx, host)
	if err != nil {
		d.o.logger.Warn("pulling without the Docker CLI's credentials for the registry", "connector", d.name, "image", d.image, "error", err)
	}
	resp, err := d.cli.ImagePull(ctx, d.image, client.ImagePullOptions{RegistryAuth: auth})
	if err != nil {
		return d.engineErr(err)
	}
	digest := ""
	for m, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return err
		}
		if m.Error != nil {
			return errors.New(m.Error.Message)
		}
		if m.Status != "" {
			d.o.logger.Debug("pull: "+m.Status, "connector", d.name, "image", d.image, "layer", m.ID)
		}
		if v, ok := strings.CutPrefix(m.Status, "Digest: "); ok {
			digest = v
		}
	}
	d.o.logger.Info("pulled Docker image", "connector", d.name, "image", d.image, "digest", digest)
	return nil
}

// pullHint says what to do about the failed pull of image: bring it over
// when its registry cannot be reached, check its name and tag when the
// registry has no such image (a docker pull would fail the same way), log
// in when the registry refuses it; else pull it by hand, to see why.
func pullHint(image string, err error) string {
	host, rest := imageref.Registry(image)
	msg := err.Error()
	switch {
	case registryUnreachable(err):
		return "the Docker engine cannot reach the image's registry (offline, or a proxy missing): on a machine that has the image, " +
			"docker save " + image + " -o image.tar, then docker load -i image.tar here"
	case strings.Contains(msg, "no matching manifest for"):
		// The engine names its platform in the message.
		return "the registry " + host + " has " + rest + " only for other platforms than the Docker engine's: " +
			"build and push it for the engine's platform too (docker buildx build --platform linux/amd64,linux/arm64 --push)"
	case cerrdefs.IsNotFound(err) || strings.Contains(msg, "manifest unknown"):
		return "the registry " + host + " has no image " + rest + ": check the image's name and tag"
	case strings.Contains(msg, "pull access denied") || strings.Contains(msg, "no basic auth credentials") ||
		strings.Contains(msg, "unauthorized") || cerrdefs.IsUnauthorized(err) || cerrdefs.IsPermissionDenied(err):
		return "the registry " + host + " refused it: it has no image " + rest + ", or it needs a login (docker login " + host +
			": the pull sends the credentials the Docker command line keeps)"
	}
	return "pull it with docker pull " + image
}

// registryFailures are what the engine says when a pull cannot reach the
// registry at all.
var registryFailures = []string{"dial tcp", "no such host", "connection refused", "i/o timeout", "network is unreachable",
	"TLS handshake timeout", "proxyconnect"}

// registryUnreachable reports whether a pull failed for want of a way to
// the registry, rather than for a wrong name or missing credentials.
func registryUnreachable(err error) bool {
	msg := err.Error()
	return slices.ContainsFunc(registryFailures, func(f string) bool { return strings.Contains(msg, f) })
}

// engineErr turns a refused connection into a *dockerUnavailableError.
func (d *dockerExecutor) engineErr(err error) error {
	if client.IsErrConnectionFailed(err) {
		return &dockerUnavailableError{Host: d.cli.DaemonHost(), Err: err}
	}
	return fmt.Errorf("connector %s: Docker engine: %w", d.name, err)
}

// Run runs the command in a new container; see Executor. The container is
// always removed, whatever happens.
func (d *dockerExecutor) Run(ctx context.Context, inv Invocation) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		var proc *dockerProcess // the run's container, once started
		start := func(ctx context.Context, ln launch) (started, error) {
			st, err := d.start(ctx, ln)
			proc, _ = st.proc.(*dockerProcess)
			return st, err
		}
		for m, err := range d.run(ctx, inv, start) {
			if err != nil {
				err = d.explainPlatform(err)
				err = explainInterpreter(err)
				err = explainKilled(err, proc)
				err = d.explainGone(ctx, err, proc)
			}
			if !yield(m, err) {
				return
			}
		}
	}
}

// explainGone makes the failure of a started run whose engine no longer
// answers an engine failure: the stream cut under the reader said only
// "use of closed network connection".
func (d *dockerExecutor) explainGone(ctx context.Context, err error, proc *dockerProcess) error {
	var ce *ConnectorError
	var du *dockerUnavailableError
	if proc == nil || ctx.Err() != nil || errors.As(err, &ce) || errors.As(err, &du) {
		return err
	}
	pctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	if _, perr := d.cli.Ping(pctx, client.PingOptions{}); perr == nil {
		return err
	}
	return &dockerUnavailableError{Host: d.cli.DaemonHost(), Err: err, container: proc.id}
}

// pingTimeout bounds the question whether the engine still answers, asked
// when a run failed for no reason the connector gave.
const pingTimeout = 5 * time.Second

// explainKilled adds to the error of a connector whose container was
// killed by a signal what it was: the kernel's, for lack of memory (the
// engine says so), or the signal its exit status 128+n stands for. The
// exit status and the silence of its stderr said nothing of it.
func explainKilled(err error, proc *dockerProcess) error {
	var ce *ConnectorError
	if proc == nil || !errors.As(err, &ce) || ce.ExitCode == 0 {
		return err
	}
	if !proc.oomKilled.Load() {
		// A container reports its program killed by signal n as 128+n.
		if n := ce.ExitCode - 128; n > 0 && n < 32 {
			sig := syscall.Signal(n)
			return fmt.Errorf("%w; exit status %d is how Docker reports its program killed by signal %s%s", err, ce.ExitCode, signalName(sig), dockerSignalSender(sig))
		}
		return err
	}
	return fmt.Errorf("%w; the kernel killed it because its container ran out of memory: "+
		"give Docker (or the container's limit) more memory, or have the connector hold less at once "+
		"(smaller pages or batches in its config)", err)
}

// dockerSignalSender says who usually sends sig to a container, when
// anyone does.
func dockerSignalSender(sig syscall.Signal) string {
	if sig == syscall.SIGKILL {
		return " (sent by docker kill, by docker stop after its timeout, or by the kernel when the machine is out of memory)"
	}
	return ""
}

// explainPlatform adds to the error of a connector that the kernel would
// not run ("exec format error") that its image is for another platform
// than the engine's, when it is.
func (d *dockerExecutor) explainPlatform(err error) error {
	var ce *ConnectorError
	if !errors.As(err, &ce) || ce.ExitCode == 0 || !slices.ContainsFunc(ce.StderrTail, func(l string) bool {
		return strings.Contains(l, "exec format error")
	}) {
		return err
	}
	image := d.platform.Load()
	if image == nil || *image == "" {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	v, verr := d.cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if verr != nil {
		return err
	}
	engine := path.Join(v.Os, v.Arch)
	if *image == engine || strings.HasPrefix(*image, engine+"/") {
		return err
	}
	return fmt.Errorf("%w; the image %s is built for %s and the Docker engine runs %s programs: "+
		"pull the image's %s build (docker pull --platform %s %s), or register an emulator for %s with the engine's kernel (binfmt_misc)",
		err, d.image, *image, engine, engine, engine, d.image, *image)
}

// explainInterpreter adds to the error of a connector whose program the
// kernel would not start for a missing file ("exec /connector: no such
// file or directory", all it wrote) what is missing: not the program,
// which the engine found, but its interpreter.
func explainInterpreter(err error) error {
	var ce *ConnectorError
	if !errors.As(err, &ce) || ce.ExitCode == 0 || len(ce.StderrTail) != 1 {
		return err
	}
	prog, isExec := strings.CutPrefix(ce.StderrTail[0], "exec ")
	prog, notFound := strings.CutSuffix(prog, ": no such file or directory")
	if !isExec || !notFound || !strings.HasPrefix(prog, "/") {
		return err
	}
	return fmt.Errorf("%w; the image has %s, so what is missing is the program's interpreter: a dynamically linked program "+
		"(a Go program built with cgo) in an image with no C library (FROM scratch), or a script whose #! line names a program "+
		"the image has not (or ends in a carriage return): build the program static (CGO_ENABLED=0 for Go), or base the image "+
		"on one that has what it needs", err, prog)
}

func (d *dockerExecutor) start(ctx context.Context, ln launch) (started, error) {
	if err := d.ensureImage(ctx, d.o.installIfMissing); err != nil {
		return started{}, err
	}
	if n := sweepContainers(ctx, d.cli); n > 0 {
		d.o.logger.Info("removed containers that killed goairbyte processes left behind", "containers", n)
	}
	cfg := &container.Config{
		Image:        d.image,
		Entrypoint:   *d.entrypoint.Load(),
		Cmd:          ln.args(containerRunDir),
		Env:          containerEnv(d.o.env),
		AttachStdin:  ln.stdin,
		OpenStdin:    ln.stdin,
		StdinOnce:    ln.stdin,
		AttachStdout: true,
		AttachStderr: true,
		Labels:       map[string]string{labelConnector: d.name, labelRun: ulid.Make().String(), labelOwner: ownerLabel()},
	}
	mounts, err := d.mountsFor(ln)
	if err != nil {
		return started{}, err
	}
	host := &container.HostConfig{
		// The default json-file driver copies every line to disk and caps
		// throughput at a third; we read the output ourselves.
		LogConfig: container.LogConfig{Type: "none"},
		Mounts:    mounts,
	}
	if d.o.hostNetwork {
		host.NetworkMode = "host"
	}
	created, err := d.create(ctx, cfg, host)
	if cerrdefs.IsNotFound(err) {
		// The image was found before and has gone since (docker rmi, a
		// prune): find it again, pulling it as on first use.
		d.ready.Store(false)
		if err := d.ensureImage(ctx, d.o.installIfMissing); err != nil {
			return started{}, err
		}
		cfg.Entrypoint = *d.entrypoint.Load()
		created, err = d.create(ctx, cfg, host)
	}
	if err != nil {
		return started{}, d.engineErr(err)
	}
	p := newDockerProcess(d.cli, created.ID, d.o.logger)
	ok := false
	defer func() {
		if !ok {
			p.release()
		}
	}()
	if err := ctx.Err(); err != nil {
		return started{}, err // cancelled while the engine created it
	}
	if len(ln.files) > 0 {
		// The files belong to the container's user, who may not be root.
		// A numeric one is set in the archive: the engine would look it up
		// in the image's /etc/passwd, which a FROM scratch image has not.
		uid, gid, numeric := numericUser(*d.user.Load())
		if _, err := d.cli.CopyToContainer(ctx, p.id, client.CopyToContainerOptions{
			DestinationPath: "/",
			Content:         runFilesTar(ln.files, uid, gid),
			CopyUIDGID:      !numeric,
		}); err != nil {
			return started{}, d.engineErr(err)
		}
	}
	att, err := d.cli.ContainerAttach(ctx, p.id, client.ContainerAttachOptions{Stream: true, Stdin: ln.stdin, Stdout: true, Stderr: true})
	if err != nil {
		return started{}, d.engineErr(err)
	}
	p.att = &att.HijackedResponse
	// Waiting for the next exit is registered before the start (the call
	// returns once the engine has acknowledged it), so that a quick exit
	// cannot be missed. It is not tied to ctx, because cancellation stops
	// the container and the wait must still see it go; release ends it.
	waitCtx, cancelWait := context.WithCancel(context.WithoutCancel(ctx))
	p.cancelWait = cancelWait
	p.waited = buffered(d.cli.ContainerWait(waitCtx, p.id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit}))
	if _, err := d.cli.ContainerStart(ctx, p.id, client.ContainerStartOptions{}); err != nil {
		return started{}, d.engineErr(err)
	}
	ok = true
	st := started{proc: p, stdout: &demux{r: p.att.Reader, stderr: p.errW, ended: p.outputEnded}, stderr: p.errR}
	if ln.stdin {
		st.stdin = attachedStdin{p.att}
	}
	return st, nil
}

// create creates a container, whether or not ctx ends meanwhile, and
// returns it for the caller to remove: the engine goes on creating a
// container whose request was cancelled, and the client, which then has no
// id, left it behind, in state Created (TestDockerCancelledDuringCreate).
func (d *dockerExecutor) create(ctx context.Context, cfg *container.Config, host *container.HostConfig) (client.ContainerCreateResult, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dockerTimeout)
	defer cancel()
	return d.cli.ContainerCreate(cctx, client.ContainerCreateOptions{Config: cfg, HostConfig: host})
}

// buffered returns the wait w with channels that hold its answer. The
// client's goroutine sends the exit status on an unbuffered channel, and
// wait may return another way (the container removed, or its exit found by
// inspection): nobody takes the status then, and that goroutine would stay
// blocked for good, with its connection to the engine. This one ends once
// either answer came, which release's cancelWait ensures.
func buffered(w client.ContainerWaitResult) client.ContainerWaitResult {
	res, errc := make(chan container.WaitResponse, 1), make(chan error, 1)
	go func() {
		select {
		case r := <-w.Result:
			res <- r
		case err := <-w.Error:
			errc <- err
		}
	}()
	return client.ContainerWaitResult{Result: res, Error: errc}
}

// numericUser reads an image's USER: root when it is empty, else a uid
// and an optional gid (0, as the engine makes it, when the image has no
// /etc/passwd to say the user's group); numeric is false for a user named
// (its ids are in the image's /etc/passwd).
func numericUser(user string) (uid, gid int, numeric bool) {
	if user == "" {
		return 0, 0, true
	}
	u, g, hasGroup := strings.Cut(user, ":")
	uid, err := strconv.Atoi(u)
	if err != nil || uid < 0 {
		return 0, 0, false
	}
	if hasGroup {
		if gid, err = strconv.Atoi(g); err != nil || gid < 0 {
			return 0, 0, false
		}
	}
	return uid, gid, true
}

// runFilesTar packs the run files into a tar of containerRunDir, private
// as on the host and owned by uid and gid.
func runFilesTar(files []runFile, uid, gid int) io.Reader {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := strings.TrimPrefix(containerRunDir, "/")
	now := time.Now()
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o700, Uid: uid, Gid: gid, ModTime: now})
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: path.Join(dir, f.name), Mode: 0o600, Uid: uid, Gid: gid,
			Size: int64(len(f.data)), ModTime: now})
		tw.Write(f.data)
	}
	tw.Close()
	return &buf
}

// attachedStdin writes to the container's stdin; Close half-closes the
// attach connection, which the container sees as end of input.
type attachedStdin struct{ h *client.HijackedResponse }

func (s attachedStdin) Write(b []byte) (int, error) { return s.h.Conn.Write(b) }
func (s attachedStdin) Close() error                { return s.h.CloseWrite() }

// waitPoll is how often a container whose output has ended is inspected,
// in case the engine's wait does not report its exit.
const waitPoll = time.Second

type dockerProcess struct {
	cli        *client.Client
	logger     *slog.Logger
	id         string
	att        *client.HijackedResponse
	waited     client.ContainerWaitResult
	cancelWait context.CancelFunc
	errR       *io.PipeReader
	errW       *io.PipeWriter
	// outputDone is closed when the attach stream has ended; gone when a
	// forced removal has been attempted (the container is then dead or
	// beyond our reach).
	outputDone, gone                   chan struct{}
	oomKilled                          atomic.Bool // the kernel killed it for lack of memory
	outputOnce, goneOnce, attCloseOnce sync.Once
}

func newDockerProcess(cli *client.Client, id string, logger *slog.Logger) *dockerProcess {
	p := &dockerProcess{cli: cli, id: id, logger: logger, outputDone: make(chan struct{}), gone: make(chan struct{}),
		cancelWait: func() {}}
	p.errR, p.errW = io.Pipe()
	return p
}

func (p *dockerProcess) outputEnded() { p.outputOnce.Do(func() { close(p.outputDone) }) }

// wait returns the container's exit status. The engine's wait is the
// normal way, but it must not be the only one: an engine may never report
// an exit (seen with a container force-removed while its attach stream was
// not read), so wait also returns once we have removed the container
// (status -1, as for a killed process) and, after the output has ended,
// asks the engine every waitPoll.
func (p *dockerProcess) wait() (int, error) {
	outputDone := p.outputDone
	var poll <-chan time.Time
	for {
		select {
		case r := <-p.waited.Result:
			if r.StatusCode != 0 {
				p.exitStatus() // notes an OOM kill
			}
			if r.Error != nil && r.Error.Message != "" {
				return int(r.StatusCode), errors.New(r.Error.Message)
			}
			return int(r.StatusCode), nil
		case err := <-p.waited.Error:
			if code, ok := p.exitStatus(); ok {
				return code, nil
			}
			select {
			case <-p.gone:
				return -1, nil
			default:
			}
			return -1, err
		case <-p.gone:
			return -1, nil
		case <-outputDone:
			outputDone = nil
			t := time.NewTicker(waitPoll)
			defer t.Stop()
			poll = t.C
		case <-poll:
			if code, ok := p.exitStatus(); ok {
				return code, nil
			}
		}
	}
}

// exitStatus asks the engine whether the container has exited, and with
// which status, noting whether the kernel killed it for lack of memory. A
// container already removed counts as killed.
func (p *dockerProcess) exitStatus() (int, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	res, err := p.cli.ContainerInspect(ctx, p.id, client.ContainerInspectOptions{})
	switch {
	case cerrdefs.IsNotFound(err):
		return -1, true
	case err != nil || res.Container.State == nil:
		return 0, false
	case res.Container.State.Running || res.Container.State.Restarting:
		return 0, false
	}
	if res.Container.State.OOMKilled {
		p.oomKilled.Store(true)
	}
	return res.Container.State.ExitCode, true
}

// stopOutput closes the attach connection. The engine cannot finish a
// container's exit (nor its removal) while it is blocked writing output
// nobody reads; closed, the container's later output goes nowhere.
func (p *dockerProcess) stopOutput() {
	p.attCloseOnce.Do(func() {
		if p.att != nil {
			p.att.Close()
		}
	})
}

func (p *dockerProcess) terminate() {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	_, _ = p.cli.ContainerKill(ctx, p.id, client.ContainerKillOptions{Signal: "SIGTERM"})
}

func (p *dockerProcess) kill() {
	p.stopOutput()
	p.remove()
	// Nobody may read stdout any more, and with it the stderr frames: end
	// the stderr stream here.
	p.errW.CloseWithError(errors.New("connector stopped"))
}

// remove kills and removes the container; a container already gone is
// fine. Once it has been tried, wait no longer waits for the engine.
func (p *dockerProcess) remove() {
	defer p.goneOnce.Do(func() { close(p.gone) })
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	_, err := p.cli.ContainerRemove(ctx, p.id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		p.logger.Warn("cannot remove the connector's container; remove it with docker rm -f", "container", p.id, "error", err)
	}
}

func (p *dockerProcess) release() {
	p.stopOutput()
	p.remove()
	p.cancelWait()
	p.errR.Close()
}

// demux reads the stdout of an attach stream, in which the engine
// multiplexes stdout and stderr as frames (a header of stream byte, three
// zero bytes, big-endian uint32 length, then the payload). Stdout payloads
// are read straight into the caller's buffer; stderr payloads go to stderr.
// This is stdcopy.StdCopy without its extra copy and goroutine, which
// matters at hundreds of thousands of lines a second.
type demux struct {
	r      io.Reader
	stderr *io.PipeWriter
	ended  func() // called when the stream has ended, however
	left   int    // stdout bytes left in the current frame
	hdr    [8]byte
}

func (d *demux) Read(b []byte) (int, error) {
	for d.left == 0 {
		if _, err := io.ReadFull(d.r, d.hdr[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF // a torn header at the end is the end
			}
			d.end(err)
			return 0, err
		}
		size := int(binary.BigEndian.Uint32(d.hdr[4:]))
		switch d.hdr[0] {
		case 1: // stdout
			d.left = size
		case 2: // stderr
			if _, err := io.CopyN(d.stderr, d.r, int64(size)); err != nil {
				d.end(err)
				return 0, err
			}
		default: // stdin echo or an engine message: not the connector's output
			if _, err := io.CopyN(io.Discard, d.r, int64(size)); err != nil {
				d.end(err)
				return 0, err
			}
		}
	}
	n, err := d.r.Read(b[:min(len(b), d.left)])
	d.left -= n
	if err != nil && (d.left > 0 || !errors.Is(err, io.EOF)) {
		d.end(err)
		return n, err
	}
	return n, nil
}

// end ends the stderr stream with the attach stream's end.
func (d *demux) end(err error) {
	d.stderr.CloseWithError(err)
	if d.ended != nil {
		d.ended()
	}
}

// localDir is where PyAirbyte's convention has a Docker connector read and
// write the host's files.
const localDir = "/local"

// mountsFor returns the container's mounts for a run: those given and,
// when none is at /local and the run's config names a path under /local
// (a destination_path of /local/out.jsonl), the directory name under the
// project directory ($AIRBYTE_PROJECT_DIR, else the working directory),
// made if needed, as PyAirbyte mounts it for every Docker connector.
// Without it the connector's files would stay in the container, removed
// when the run ends, while the run succeeded.
func (d *dockerExecutor) mountsFor(ln launch) ([]mount.Mount, error) {
	for _, m := range d.o.mounts {
		if path.Clean(m.Target) == localDir {
			return d.o.mounts, nil
		}
	}
	i := slices.IndexFunc(ln.files, func(f runFile) bool { return f.name == "config.json" })
	if i < 0 || !namesLocalPath(ln.files[i].data) {
		return d.o.mounts, nil
	}
	dir, err := filepath.Abs(filepath.Join(airbytedirs.ProjectDir(), d.name))
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return nil, fmt.Errorf("the config names a path under %s, which is mounted from %s: %w; "+
			"set AIRBYTE_PROJECT_DIR, or mount a directory of your own (connector.WithLocalMount)", localDir, dir, err)
	}
	d.o.logger.Info("the config names a path under /local: mounting the project's directory of the connector there, as PyAirbyte does",
		"connector", d.name, "dir", dir)
	return append(slices.Clip(d.o.mounts), mount.Mount{Type: mount.TypeBind, Source: dir, Target: localDir}), nil
}

// namesLocalPath reports whether a JSON config holds a string that is
// /local or a path under it.
func namesLocalPath(config []byte) bool {
	var v any
	if json.Unmarshal(config, &v) != nil {
		return false
	}
	return jsonwalk.AnyString(v, func(s string) bool { return s == localDir || strings.HasPrefix(s, localDir+"/") })
}
