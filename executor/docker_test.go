package executor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// newDocker builds a FROM scratch image of a test connector and returns an
// executor for it, under a connector name unique to the test so that its
// containers can be counted by label.
func newDocker(t *testing.T, connector string, tweaks ...tweak) (executor.Executor, *client.Client) {
	t.Helper()
	cli := testenv.Docker(t)
	image := "goairbyte-test/" + connector + ":0.1.0"
	testenv.BuildImage(t, cli, "./internal/testconnectors/"+connector, image)
	name := fmt.Sprintf("source-%s-%d", connector, time.Now().UnixNano())
	d := build[executor.Executor](t, name, executor.Method{Kind: executor.KindDocker, Image: image, DockerClient: cli},
		executor.Runtime{LogDir: t.TempDir(), NoInstall: true}, tweaks...)
	return d, cli
}

// containers lists the containers, running or not, of this connector.
func containers(t *testing.T, cli *client.Client, d executor.Executor) int {
	t.Helper()
	res, err := cli.ContainerList(context.Background(), client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", "io.goairbyte.connector"+"="+d.Name()),
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Items)
}

func TestDockerReadAndFiles(t *testing.T) {
	d, cli := newDocker(t, "jsononly")
	tmp := privateTemp(t)
	config := `{"password":"x"}`
	state := `{"cursor":1}`
	msgs, err := collect(d.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(config), Catalog: itemsCatalog, State: json.RawMessage(state)}))
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Record == nil || !streamEnd(msgs[1]) {
		t.Fatalf("want the echo record, then the stream's end, got %+v", msgs)
	}
	var got struct {
		Args               []string
		Config, State      json.RawMessage
		StreamCapableState string `json:"stream_capable_state"`
	}
	json.Unmarshal(msgs[0].Record.Data, &got)
	if string(got.Config) != config || string(got.State) != state || len(got.Args) != 7 {
		t.Fatalf("the container did not get the files: %s", msgs[0].Record.Data)
	}
	// As the Airbyte platform sets it in every connector's container: the
	// Java CDK's sources read STREAM and GLOBAL states only with it.
	if got.StreamCapableState != "true" {
		t.Fatalf("USE_STREAM_CAPABLE_STATE is %q in the container, want true", got.StreamCapableState)
	}
	if n := containers(t, cli, d); n != 0 {
		t.Fatalf("%d containers left behind", n)
	}
	if left := leftovers(t, tmp); len(left) > 0 {
		t.Fatalf("temp files left behind: %v", left)
	}
	if v, _ := installedVersion(t, d); v != "0.1.0" {
		t.Fatalf("version: got %q", v)
	}
}

func TestDockerVolumeAndStdin(t *testing.T) {
	t.Parallel()
	d, cli := newDocker(t, "echo")
	ctx := context.Background()
	msgs, err := collect(d.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(`{"count":50000,"size":100}`), Catalog: itemsCatalog}))
	if err != nil {
		t.Fatal(err)
	}
	if count(msgs, protocol.TypeRecord) != 50000 || count(msgs, protocol.TypeState) != 6 {
		t.Fatalf("got %d records, %d states", count(msgs, protocol.TypeRecord), count(msgs, protocol.TypeState))
	}
	var in bytes.Buffer
	const n = 50_000
	for i := range n {
		fmt.Fprintf(&in, `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"items"},"stream_state":{"i":%d,"pad":"%s"}}}}`+"\n", i, strings.Repeat("z", 300))
	}
	msgs, err = collect(d.Run(ctx, executor.Invocation{Verb: executor.VerbWrite, Catalog: itemsCatalog, Stdin: &in}))
	if err != nil {
		t.Fatal(err)
	}
	if count(msgs, protocol.TypeState) != n {
		t.Fatalf("want %d states echoed, got %d", n, count(msgs, protocol.TypeState))
	}
	if n := containers(t, cli, d); n != 0 {
		t.Fatalf("%d containers left behind", n)
	}
}

func TestDockerConnectorErrors(t *testing.T) {
	t.Parallel()
	d, cli := newDocker(t, "stderrexit")
	_, err := collect(d.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}))
	ce := asConnectorError(t, err)
	if ce.ExitCode != 1 || len(ce.StderrTail) != 3 || !strings.Contains(ce.StderrTail[2], "connection refused") {
		t.Fatalf("unexpected error: %+v", ce)
	}
	if n := containers(t, cli, d); n != 0 {
		t.Fatalf("%d containers left behind after a crash", n)
	}

	d, _ = newDocker(t, "traceerror")
	_, err = collect(d.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}))
	if ce := asConnectorError(t, err); ce.ExitCode != 0 || ce.FailureType != protocol.FailureConfig {
		t.Fatalf("unexpected error: %+v", ce)
	}
}

func TestDockerHangCancelAndBreak(t *testing.T) {
	for _, how := range []string{"cancel", "break"} {
		t.Run(how, func(t *testing.T) {
			d, cli := newDocker(t, "hang", withGrace(500*time.Millisecond))
			tmp := privateTemp(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var last error
			records, running := 0, 0
			for m, err := range d.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}) {
				if err != nil {
					last = err
					break
				}
				if m.Record == nil {
					continue
				}
				records++
				running = containers(t, cli, d)
				if how == "break" {
					break
				}
				cancel()
			}
			if running != 1 {
				t.Fatalf("want the connector's container while it runs, found %d", running)
			}
			if how == "cancel" && !errors.Is(last, context.Canceled) {
				t.Fatalf("want context.Canceled, got %v", last)
			}
			if records != 1 {
				t.Fatalf("want the one record, got %d", records)
			}
			if n := containers(t, cli, d); n != 0 {
				t.Fatalf("%d containers left behind", n)
			}
			if left := leftovers(t, tmp); len(left) > 0 {
				t.Fatalf("temp files left behind: %v", left)
			}
		})
	}
}

func TestDockerMissingImage(t *testing.T) {
	t.Parallel()
	cli := testenv.Docker(t)
	ctx := context.Background()
	// Nothing listens on port 1: a pull fails at once, offline or not.
	const image = "127.0.0.1:1/goairbyte/no-such-connector:9.9.9"
	for _, install := range []bool{false, true} {
		d, err := executor.New("source-missing", executor.Method{Kind: executor.KindDocker, Image: image, DockerClient: cli},
			executor.Runtime{NoInstall: !install, LogDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = collect(d.Run(ctx, executor.Invocation{Verb: executor.VerbSpec}))
		var nie *executor.NotInstalledError
		if !errors.As(err, &nie) || !strings.Contains(err.Error(), image) {
			t.Fatalf("install-if-missing %v: want a *NotInstalledError naming the image, got %v", install, err)
		}
		if install != (nie.Err != nil) {
			t.Fatalf("install-if-missing %v: the pull failure should be kept exactly when a pull was tried: %v", install, err)
		}
	}
}

func TestDockerUnavailable(t *testing.T) {
	t.Parallel()
	cli, err := client.New(client.WithHost("unix://" + t.TempDir() + "/no-docker.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	d, err := executor.New("source-x", executor.Method{Kind: executor.KindDocker, Image: "goairbyte-test/echo:0.1.0", DockerClient: cli},
		executor.Runtime{LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = collect(d.Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec}))
	if !errors.Is(err, executor.ErrDockerUnavailable) || !strings.Contains(err.Error(), "no-docker.sock") {
		t.Fatalf("want ErrDockerUnavailable naming the socket, got %v", err)
	}
}

func TestDockerEnvBindMountHostNetwork(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "probe.txt"), []byte("from the host"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, _ := newDocker(t, "jsononly", withEnv("TEST_ECHO_ENV=hello", "USE_STREAM_CAPABLE_STATE=false"), withMount(dir, "/local"), withHostNetwork())
	msgs, err := collect(d.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Env, Probe         string
		StreamCapableState string `json:"stream_capable_state"`
	}
	if len(msgs) != 2 || msgs[0].Record == nil || !streamEnd(msgs[1]) || json.Unmarshal(msgs[0].Record.Data, &got) != nil {
		t.Fatalf("want the echo record, then the stream's end, got %+v", msgs)
	}
	// A variable the caller sets wins over goairbyte's default.
	if got.Env != "hello" || got.Probe != "from the host" || got.StreamCapableState != "false" {
		t.Fatalf("env %q, USE_STREAM_CAPABLE_STATE %q, probe %q", got.Env, got.StreamCapableState, got.Probe)
	}
}

// TestDockerStopLeavesNoGoroutine cancels runs as a long-lived program
// does all day, here at the worst moment: after the wait for the
// container's exit is registered, before the container starts. The wait
// must end with the run; one whose answer nobody takes would stay blocked
// for good, with its connection to the engine.
func TestDockerStopLeavesNoGoroutine(t *testing.T) {
	testenv.Docker(t)
	var cancelRun atomic.Pointer[context.CancelFunc]
	cli, err := client.New(client.FromEnv,
		client.WithHTTPRequestHook(func(r *http.Request) error {
			if cancel := cancelRun.Load(); cancel != nil && strings.HasSuffix(r.URL.Path, "/start") {
				(*cancel)()
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	image := "goairbyte-test/hang:0.1.0"
	testenv.BuildImage(t, cli, "./internal/testconnectors/hang", image)
	d := build[executor.Executor](t, fmt.Sprintf("source-hang-%d", time.Now().UnixNano()),
		executor.Method{Kind: executor.KindDocker, Image: image, DockerClient: cli},
		executor.Runtime{LogDir: t.TempDir(), NoInstall: true})
	before := waitingForContainers()
	for range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		cancelRun.Store(&cancel)
		if _, err := collect(d.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog})); !errors.Is(err, context.Canceled) {
			t.Fatalf("a run cancelled as its container starts: %v, want context.Canceled", err)
		}
		cancel()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := waitingForContainers()
		if len(left) <= len(before) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines still wait for containers that are gone (%d before the runs):\n%s",
				len(left), len(before), strings.Join(left, "\n\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitingForContainers returns the stacks of the goroutines that wait for
// a container's exit.
func waitingForContainers() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "(*Client).ContainerWait.func") {
			out = append(out, g)
		}
	}
	return out
}
