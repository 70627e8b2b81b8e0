package executor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// unplugged dials the Docker engine until it is unplugged: then every
// connection it made is closed and every new one refused, as when the
// engine stops or the network to a remote one fails.
type unplugged struct {
	host  string
	mu    sync.Mutex
	gone  bool
	conns []net.Conn
}

func (u *unplugged) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.gone {
		return nil, &net.OpError{Op: "dial", Net: "unix", Err: syscall.ECONNREFUSED}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", strings.TrimPrefix(u.host, "unix://"))
	if err == nil {
		u.conns = append(u.conns, conn)
	}
	return conn, err
}

func (u *unplugged) unplug() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.gone = true
	for _, c := range u.conns {
		c.Close()
	}
}

// echoOnSocket returns the engine, which must be on a Unix socket (else t
// is skipped), and the echo test connector's image.
func echoOnSocket(t *testing.T) (engine *client.Client, image string) {
	t.Helper()
	engine = testenv.Docker(t)
	if !strings.HasPrefix(engine.DaemonHost(), "unix://") {
		t.Skipf("the engine is at %s; this test dials a Unix socket", engine.DaemonHost())
	}
	image = "goairbyte-test/echo:0.1.0"
	testenv.BuildImage(t, engine, "./internal/testconnectors/echo", image)
	return engine, image
}

// removedAtEnd removes the containers of connector name when t ends, and
// returns a function that lists them.
func removedAtEnd(t *testing.T, engine *client.Client, name string) func() []container.Summary {
	list := func() ([]container.Summary, error) {
		res, err := engine.ContainerList(context.Background(), client.ContainerListOptions{All: true,
			Filters: make(client.Filters).Add("label", "io.goairbyte.connector="+name)})
		return res.Items, err
	}
	t.Cleanup(func() {
		left, err := list()
		if err != nil {
			t.Error(err)
		}
		for _, c := range left {
			engine.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
		}
	})
	return func() []container.Summary {
		t.Helper()
		left, err := list()
		if err != nil {
			t.Fatal(err)
		}
		return left
	}
}

// An engine that goes away in the middle of a read ended it with "reading
// its output: use of closed network connection". The error now says that
// the engine stopped answering, matches ErrDockerUnavailable, and names
// the container it could not remove.
func TestDockerEngineGoneMidRead(t *testing.T) {
	t.Parallel()
	engine, image := echoOnSocket(t)
	u := &unplugged{host: engine.DaemonHost()}
	cli, err := client.New(client.WithHost(engine.DaemonHost()), client.WithDialContext(u.dial))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	const name = "source-engine-gone"
	containersOf := removedAtEnd(t, engine, name) // the engine never went: it removes what the run could not
	d := build[executor.Executor](t, name, executor.Method{Kind: executor.KindDocker, Image: image, DockerClient: cli},
		executor.Runtime{LogDir: t.TempDir(), NoInstall: true})
	records := 0
	var last error
	for m, err := range d.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(`{"count":100000000}`), Catalog: itemsCatalog}) {
		if err != nil {
			last = err
			break
		}
		if m.Type == protocol.TypeRecord {
			if records++; records == 100 {
				u.unplug()
			}
		}
	}
	if !errors.Is(last, executor.ErrDockerUnavailable) {
		t.Fatalf("want ErrDockerUnavailable, got %v", last)
	}
	left := containersOf()
	if len(left) != 1 {
		t.Fatalf("want the one container the run could not remove: %v", left)
	}
	if id := left[0].ID[:12]; !strings.Contains(last.Error(), id) {
		t.Errorf("the error does not name the container %s: %v", id, last)
	}
}

// heldCreate dials the Docker engine and holds the answer to a container
// create: it tells created once the engine has answered, and passes the
// answer on once release is closed. It tells dropped when the client
// closes the connection that waits for that answer, as it does when the
// request is cancelled.
type heldCreate struct {
	host                      string
	created, release, dropped chan struct{}
	once, dropOnce            sync.Once
}

func (h *heldCreate) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", strings.TrimPrefix(h.host, "unix://"))
	if err != nil {
		return nil, err
	}
	return &heldConn{Conn: conn, h: h}, nil
}

// heldConn is one connection to the engine; a create request sent on it
// makes its next read wait for release.
type heldConn struct {
	net.Conn
	h        *heldCreate
	creating bool
	holding  atomic.Bool // its read holds the create's answer
}

func (c *heldConn) Close() error {
	if c.holding.Load() {
		c.h.dropOnce.Do(func() { close(c.h.dropped) })
	}
	return c.Conn.Close()
}

func (c *heldConn) Write(b []byte) (int, error) {
	if bytes.HasPrefix(b, []byte("POST ")) && bytes.Contains(b[:bytes.IndexByte(b, '\n')+1], []byte("/containers/create")) {
		c.creating = true
	}
	return c.Conn.Write(b)
}

func (c *heldConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if c.creating && n > 0 {
		c.creating = false
		c.holding.Store(true)
		c.h.once.Do(func() { close(c.h.created) })
		<-c.h.release
		c.holding.Store(false)
	}
	return n, err
}

// A run cancelled while the engine created its container: the engine
// creates it all the same, and the client, cancelled, had no id to remove;
// the container stayed, in state Created, one per cancelled run. The
// engine's answer is held here until the run's context has ended.
func TestDockerCancelledDuringCreate(t *testing.T) {
	t.Parallel()
	engine, image := echoOnSocket(t)
	h := &heldCreate{host: engine.DaemonHost(), created: make(chan struct{}), release: make(chan struct{}), dropped: make(chan struct{})}
	cli, err := client.New(client.WithHost(engine.DaemonHost()), client.WithDialContext(h.dial))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	const name = "source-cancelled-create"
	containersOf := removedAtEnd(t, engine, name)
	d := build[executor.Executor](t, name, executor.Method{Kind: executor.KindDocker, Image: image, DockerClient: cli},
		executor.Runtime{LogDir: t.TempDir(), NoInstall: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-h.created
		cancel()
		// A client that gives up on the create closes its connection:
		// only then is the answer passed on, so that it cannot take the
		// answer before it sees the cancellation (without the fix the
		// test then failed about one run in four). A client that waits
		// for the create (the fix) closes nothing: the answer goes after
		// a second.
		select {
		case <-h.dropped:
		case <-time.After(time.Second):
		}
		close(h.release)
	}()
	var last error
	for _, err := range d.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(`{"count":10}`), Catalog: itemsCatalog}) {
		if err != nil {
			last = err
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Fatalf("a run cancelled during its create: %v", last)
	}
	for _, c := range containersOf() {
		t.Errorf("container %s (%s) left behind by a run cancelled during its create", c.ID[:12], c.State)
	}
}
