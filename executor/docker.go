package executor

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"path"
	"strings"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/oklog/ulid/v2"

	"github.com/x/goairbyte/protocol"
)

// Labels set on every container a Docker executor creates, so that leftovers
// can be found (docker ps -a --filter label=io.goairbyte.connector).
const (
	LabelConnector = "io.goairbyte.connector" // the connector's name
	LabelRun       = "io.goairbyte.run"       // a unique id per run
)

// containerRunDir is where the run files are copied inside the container.
const containerRunDir = "/tmp/goairbyte"

// dockerTimeout bounds the engine calls of clean-up, which must not hang on
// a cancelled context.
const dockerTimeout = 30 * time.Second

// Docker runs a connector as a Docker container, one per command, through
// the Docker engine API.
type Docker struct {
	runner
	image string
	cli   *client.Client
	ready atomic.Bool // the image is known to be present
}

var _ Executor = (*Docker)(nil)

// NewDocker returns an executor for a complete image reference (with its
// tag). The client comes from WithDockerClient or from the environment
// (DOCKER_HOST etc.); the engine is first contacted by Run or Install.
func NewDocker(name, image string, opts ...Option) (*Docker, error) {
	if image == "" {
		return nil, fmt.Errorf("executor: connector %s: no Docker image given", name)
	}
	o := buildOptions(opts)
	cli := o.dockerClient
	if cli == nil {
		var err error
		if cli, err = client.New(client.FromEnv); err != nil {
			return nil, &DockerUnavailableError{Host: "(from the environment)", Err: err}
		}
	}
	return &Docker{runner: newRunner(name, o), image: image, cli: cli}, nil
}

// Image is the image the connector runs.
func (d *Docker) Image() string { return d.image }

// String says how the connector runs.
func (d *Docker) String() string { return d.name + " (Docker image " + d.image + ")" }

// InstalledVersion is the image's tag ("latest" when it has none).
func (d *Docker) InstalledVersion(ctx context.Context) (string, error) { return imageTag(d.image), nil }

func imageTag(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	last := image[strings.LastIndexByte(image, '/')+1:]
	if i := strings.LastIndexByte(last, ':'); i >= 0 {
		return last[i+1:]
	}
	return "latest"
}

// Install pulls the image unless it is present.
func (d *Docker) Install(ctx context.Context) error { return d.ensureImage(ctx, true) }

// Uninstall does nothing: images are shared with other tools and other
// connectors; remove one with docker image rm.
func (d *Docker) Uninstall(ctx context.Context) error { return nil }

// ensureImage checks that the image is present, pulling it when allowed.
func (d *Docker) ensureImage(ctx context.Context, pull bool) error {
	if d.ready.Load() {
		return nil
	}
	_, err := d.cli.ImageInspect(ctx, d.image)
	switch {
	case err == nil:
	case cerrdefs.IsNotFound(err) && pull:
		if err := d.pull(ctx); err != nil {
			return &NotInstalledError{Connector: d.name, Missing: "Docker image " + d.image, Hint: "pull it with docker pull " + d.image, Err: err}
		}
	case cerrdefs.IsNotFound(err):
		return &NotInstalledError{Connector: d.name, Missing: "Docker image " + d.image,
			Hint: "pull it with docker pull " + d.image + ", call Install, or allow WithInstallIfMissing(true)"}
	default:
		return d.engineErr(err)
	}
	d.ready.Store(true)
	return nil
}

func (d *Docker) pull(ctx context.Context) error {
	d.o.logger.Info("pulling Docker image", "connector", d.name, "image", d.image)
	resp, err := d.cli.ImagePull(ctx, d.image, client.ImagePullOptions{})
	if err != nil {
		return d.engineErr(err)
	}
	for m, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return err
		}
		if m.Error != nil {
			return errors.New(m.Error.Message)
		}
		if m.Status != "" {
			d.o.logger.Info("pull: "+m.Status, "connector", d.name, "image", d.image, "layer", m.ID)
		}
	}
	return nil
}

// engineErr turns a refused connection into a *DockerUnavailableError.
func (d *Docker) engineErr(err error) error {
	if client.IsErrConnectionFailed(err) {
		return &DockerUnavailableError{Host: d.cli.DaemonHost(), Err: err}
	}
	return fmt.Errorf("connector %s: Docker engine: %w", d.name, err)
}

// Run runs the command in a new container; see Executor. The container is
// always removed, whatever happens.
func (d *Docker) Run(ctx context.Context, inv Invocation) iter.Seq2[*protocol.Message, error] {
	return d.run(ctx, inv, d.start)
}

func (d *Docker) start(ctx context.Context, ln launch) (started, error) {
	if err := d.ensureImage(ctx, d.o.installIfMissing); err != nil {
		return started{}, err
	}
	cfg := &container.Config{
		Image:        d.image,
		Cmd:          ln.args(containerRunDir),
		Env:          d.o.env,
		AttachStdin:  ln.stdin,
		OpenStdin:    ln.stdin,
		StdinOnce:    ln.stdin,
		AttachStdout: true,
		AttachStderr: true,
		Labels:       map[string]string{LabelConnector: d.name, LabelRun: ulid.Make().String()},
	}
	host := &container.HostConfig{
		// The default json-file driver copies every line to disk and caps
		// throughput at a third; we read the output ourselves.
		LogConfig: container.LogConfig{Type: "none"},
		Binds:     d.o.binds,
	}
	if d.o.hostNetwork {
		host.NetworkMode = "host"
	}
	created, err := d.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: host})
	if err != nil {
		return started{}, d.engineErr(err)
	}
	p := &dockerProcess{cli: d.cli, id: created.ID, logger: d.o.logger}
	ok := false
	defer func() {
		if !ok {
			p.release()
		}
	}()
	if len(ln.files) > 0 {
		if _, err := d.cli.CopyToContainer(ctx, p.id, client.CopyToContainerOptions{
			DestinationPath: "/",
			Content:         runFilesTar(ln.files),
			// The files belong to the container's user, who may not be root.
			CopyUIDGID: true,
		}); err != nil {
			return started{}, d.engineErr(err)
		}
	}
	att, err := d.cli.ContainerAttach(ctx, p.id, client.ContainerAttachOptions{Stream: true, Stdin: ln.stdin, Stdout: true, Stderr: true})
	if err != nil {
		return started{}, d.engineErr(err)
	}
	p.att = &att.HijackedResponse
	// Waiting for the next exit is registered before the start, so that a
	// quick exit cannot be missed; it is not tied to ctx, because
	// cancellation stops the container and the wait must still see it go.
	p.waited = d.cli.ContainerWait(context.WithoutCancel(ctx), p.id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := d.cli.ContainerStart(ctx, p.id, client.ContainerStartOptions{}); err != nil {
		return started{}, d.engineErr(err)
	}
	p.errR, p.errW = io.Pipe()
	ok = true
	st := started{proc: p, stdout: &demux{r: p.att.Reader, stderr: p.errW}, stderr: p.errR}
	if ln.stdin {
		st.stdin = attachedStdin{p.att}
	}
	return st, nil
}

// runFilesTar packs the run files into a tar of containerRunDir, private
// as on the host.
func runFilesTar(files []runFile) io.Reader {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := strings.TrimPrefix(containerRunDir, "/")
	now := time.Now()
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o700, ModTime: now})
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: path.Join(dir, f.name), Mode: 0o600, Size: int64(len(f.data)), ModTime: now})
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

type dockerProcess struct {
	cli    *client.Client
	logger *slog.Logger
	id     string
	att    *client.HijackedResponse
	waited client.ContainerWaitResult
	errR   *io.PipeReader
	errW   *io.PipeWriter
}

func (p *dockerProcess) wait() (int, error) {
	select {
	case r := <-p.waited.Result:
		if r.Error != nil && r.Error.Message != "" {
			return int(r.StatusCode), errors.New(r.Error.Message)
		}
		return int(r.StatusCode), nil
	case err := <-p.waited.Error:
		return -1, err
	}
}

func (p *dockerProcess) terminate() {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	_, _ = p.cli.ContainerKill(ctx, p.id, client.ContainerKillOptions{Signal: "SIGTERM"})
}

func (p *dockerProcess) kill() {
	p.remove()
	// Nobody may read stdout any more, and with it the stderr frames: end
	// the stderr stream here.
	p.errW.CloseWithError(errors.New("connector stopped"))
}

// remove kills and removes the container; a container already gone is
// fine.
func (p *dockerProcess) remove() {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	_, err := p.cli.ContainerRemove(ctx, p.id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		p.logger.Warn("cannot remove the connector's container", "container", p.id, "error", err)
	}
}

func (p *dockerProcess) release() {
	if p.att != nil {
		p.att.Close()
	}
	p.remove()
	if p.errR != nil {
		p.errR.Close()
	}
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
	left   int // stdout bytes left in the current frame
	hdr    [8]byte
}

func (d *demux) Read(b []byte) (int, error) {
	for d.left == 0 {
		if _, err := io.ReadFull(d.r, d.hdr[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF // a torn header at the end is the end
			}
			d.stderr.CloseWithError(err)
			return 0, err
		}
		size := int(binary.BigEndian.Uint32(d.hdr[4:]))
		switch d.hdr[0] {
		case 1: // stdout
			d.left = size
		case 2: // stderr
			if _, err := io.CopyN(d.stderr, d.r, int64(size)); err != nil {
				d.stderr.CloseWithError(err)
				return 0, err
			}
		default: // stdin echo or an engine message: not the connector's output
			if _, err := io.CopyN(io.Discard, d.r, int64(size)); err != nil {
				d.stderr.CloseWithError(err)
				return 0, err
			}
		}
	}
	n, err := d.r.Read(b[:min(len(b), d.left)])
	d.left -= n
	if err != nil && (d.left > 0 || !errors.Is(err, io.EOF)) {
		d.stderr.CloseWithError(err)
		return n, err
	}
	return n, nil
}
