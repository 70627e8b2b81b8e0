package executor_test

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// buildImageWith builds image from a Dockerfile given as text whose build
// context holds the static binary of the test connector pkg as ./connector,
// as edit returns it when edit is not nil.
func buildImageWith(t *testing.T, cli *client.Client, pkg, image, dockerfile string, edit func([]byte) []byte, platforms ...ocispec.Platform) {
	t.Helper()
	exe, err := os.ReadFile(testenv.BuildBinary(t, pkg))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		exe = edit(exe)
	}
	buf, err := testenv.ImageContext([]byte(dockerfile), "connector", exe)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cli.ImageBuild(context.Background(), buf, client.ImageBuildOptions{Tags: []string{image}, Remove: true, ForceRemove: true,
		Platforms: platforms, NoCache: len(platforms) > 0}) // the classic builder's cache ignores the platform
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil || bytes.Contains(out, []byte(`"error"`)) {
		t.Fatalf("building %s: %v\n%s", image, err, out)
	}
}

// Airbyte's Docker interface has images set AIRBYTE_ENTRYPOINT to their
// ENTRYPOINT, and the platform runs that variable's command. An image that
// sets only the variable runs it; one with neither fails saying so, where
// the engine said `exec: "spec": executable file not found in $PATH`.
func TestDockerEntrypoint(t *testing.T) {
	t.Parallel()
	cli := testenv.Docker(t)
	const (
		envOnly = "goairbyte-test/echo-airbyte-entrypoint:0.1.0"
		none    = "goairbyte-test/echo-no-entrypoint:0.1.0"
	)
	buildImageWith(t, cli, "./internal/testconnectors/echo", envOnly,
		"FROM scratch\nCOPY connector /airbyte/connector\nENV AIRBYTE_ENTRYPOINT=\"/airbyte/connector\"\n", nil)
	buildImageWith(t, cli, "./internal/testconnectors/echo", none,
		"FROM scratch\nCOPY connector /airbyte/connector\nCMD [\"/airbyte/connector\"]\n", nil)
	run := func(image string) ([]*protocol.Message, error) {
		d := build[executor.Executor](t, "source-entrypoint", executor.Method{Kind: executor.KindDocker, Image: image, DockerClient: cli},
			executor.Runtime{LogDir: t.TempDir(), NoInstall: true})
		return collect(d.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(`{"count":2}`), Catalog: itemsCatalog}))
	}
	msgs, err := run(envOnly)
	if err != nil || count(msgs, protocol.TypeRecord) != 2 {
		t.Fatalf("%s: want 2 records, got %d, %v", envOnly, count(msgs, protocol.TypeRecord), err)
	}
	_, err = run(none)
	if err == nil || strings.Contains(err.Error(), "$PATH") {
		t.Fatalf("%s: want an error saying the image has no entrypoint, got %v", none, err)
	}
	for _, w := range []string{none, "ENTRYPOINT", "AIRBYTE_ENTRYPOINT", "/airbyte/connector"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error does not say %q: %v", w, err)
		}
	}
}

// An image for another platform than the engine's fails with the kernel's
// "exec format error" on stderr and exit status 1; the error now says which
// platforms differ, and is still the connector's error.
func TestDockerImageOfAnotherPlatform(t *testing.T) {
	t.Parallel()
	cli := testenv.Docker(t)
	server, err := cli.ServerVersion(context.Background(), client.ServerVersionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other, machine := "arm64", elf.EM_AARCH64
	if server.Arch == "arm64" {
		other, machine = "amd64", elf.EM_X86_64
	}
	const image = "goairbyte-test/echo-other-platform:0.1.0"
	// The test connector built for this machine, marked as a program for
	// the other one: the kernel refuses it as it would a real build for it.
	buildImageWith(t, cli, "./internal/testconnectors/echo", image,
		"FROM scratch\nCOPY connector /connector\nENTRYPOINT [\"/connector\"]\n",
		func(exe []byte) []byte { binary.LittleEndian.PutUint16(exe[18:], uint16(machine)); return exe },
		ocispec.Platform{OS: "linux", Architecture: other})
	d := build[executor.Executor](t, "source-other-platform", executor.Method{Kind: executor.KindDocker, Image: image, DockerClient: cli},
		executor.Runtime{LogDir: t.TempDir(), NoInstall: true})
	_, err = collect(d.Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec}))
	if err == nil {
		t.Skipf("the engine runs linux/%s images here (an emulator is registered with binfmt_misc)", other)
	}
	asConnectorError(t, err)
	for _, w := range []string{"linux/" + other, server.Os + "/" + server.Arch, image} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error does not say %q: %v", w, err)
		}
	}
}

// An image that is not here and whose registry cannot be reached (no
// network; nothing listens on port 1) failed with the advice to docker pull
// it, which fails the same way. The error now says the engine cannot reach
// the registry and how to bring the image over.
func TestDockerRegistryUnreachable(t *testing.T) {
	t.Parallel()
	cli := testenv.Docker(t)
	const image = "127.0.0.1:1/goairbyte/unreachable:1.0"
	d := build[executor.Executor](t, "source-unreachable", executor.Method{Kind: executor.KindDocker, Image: image, DockerClient: cli},
		executor.Runtime{LogDir: t.TempDir()})
	err := d.Install(context.Background())
	if !errors.Is(err, executor.ErrNotInstalled) {
		t.Fatalf("want ErrNotInstalled, got %v", err)
	}
	for _, w := range []string{image, "cannot reach", "docker save", "docker load"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error does not say %q: %v", w, err)
		}
	}
}

// An image its registry does not have (a typo in the name, a tag never
// pushed) failed with the advice to docker pull it, which fails the same
// way. The error now names the registry and says it has no such image,
// and to check the name and the tag.
func TestDockerImageNotInRegistry(t *testing.T) {
	t.Parallel()
	cli := testenv.Docker(t)
	reg := testenv.Registry(t)
	image := reg + "/goairbyte/no-such-image:1.0"
	d := build[executor.Executor](t, "source-no-such-image", executor.Method{Kind: executor.KindDocker, Image: image, DockerClient: cli},
		executor.Runtime{LogDir: t.TempDir()})
	err := d.Install(context.Background())
	if !errors.Is(err, executor.ErrNotInstalled) {
		t.Fatalf("want ErrNotInstalled, got %v", err)
	}
	for _, w := range []string{image, "registry " + reg + " has no image goairbyte/no-such-image:1.0", "check the image's name and tag"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error does not say %q: %v", w, err)
		}
	}
	if strings.Contains(err.Error(), "docker pull") {
		t.Errorf("the error advises a docker pull, which fails the same way: %v", err)
	}
}

// Mounts were passed to the engine as "host:container" binds: a host
// directory with a colon in its name could not be mounted, and one that did
// not exist (a typo) was made, as root, by the engine, and the connector
// wrote into it unseen. A colon is fine now, and a missing directory an
// error that names it.
func TestDockerMountHostDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "exports:2026-12-07")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "probe.txt"), []byte("from the host"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, _ := newDocker(t, "jsononly", withMount(dir, "/local"))
	msgs, err := collect(d.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}))
	var got struct{ Probe string }
	if err != nil || len(msgs) == 0 || msgs[0].Record == nil || json.Unmarshal(msgs[0].Record.Data, &got) != nil || got.Probe != "from the host" {
		t.Fatalf("a host directory with a colon: want the probe read back, got %+v, %v", msgs, err)
	}

	missing := filepath.Join(t.TempDir(), "ouptut")
	d, _ = newDocker(t, "jsononly", withMount(missing, "/local"))
	_, err = collect(d.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}))
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("a missing host directory: want an error naming %s, got %v", missing, err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the missing host directory was made: %v", err)
	}
}

// cancelOn is a slog handler that cancels a context when a record with
// this message is logged.
type cancelOn struct {
	slog.Handler
	msg    string
	cancel context.CancelFunc
}

func (h cancelOn) Enabled(context.Context, slog.Level) bool { return true }

func (h cancelOn) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.cancel()
	}
	return nil
}

// A run cancelled while its container was being set up (the image pulled,
// the container made, its files copied) failed with the engine call's
// error: a missing image to docker pull for a cancelled pull, or "Docker
// engine: Put \"http://%2Fvar%2Frun%2Fdocker.sock/…/archive?…\": context
// canceled". It says now that the command was cancelled, as a run
// cancelled later does (outsider16).
func TestDockerCancelledWhileStarting(t *testing.T) {
	t.Parallel()
	cli := testenv.Docker(t)
	const image = "127.0.0.1:1/goairbyte/cancelled-pull:1.0"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := slog.New(cancelOn{Handler: slog.DiscardHandler, msg: "pulling Docker image", cancel: cancel})
	d := build[executor.Executor](t, "source-cancelled-pull", executor.Method{Kind: executor.KindDocker, Image: image, DockerClient: cli},
		executor.Runtime{LogDir: t.TempDir(), Logger: logger})
	_, err := collect(d.Run(ctx, executor.Invocation{Verb: executor.VerbSpec}))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "connector source-cancelled-pull: spec cancelled") {
		t.Fatalf("want the spec cancelled, got %v", err)
	}
	var ni *executor.NotInstalledError
	if errors.As(err, &ni) || strings.Contains(err.Error(), "docker pull") {
		t.Errorf("a cancelled pull is reported as a missing image: %v", err)
	}
}

// A FROM scratch image that runs as a numeric user (USER 65534, the usual
// hardening of a static binary's image) has no /etc/passwd: the engine's
// copy of the run files as the container's user failed ("getent unable to
// find entry \"65534\" in passwd database"), so no such image could run a
// command. The files now go in owned by that user, private as before
// (outsider16).
func TestDockerImageWithNumericUser(t *testing.T) {
	t.Parallel()
	cli := testenv.Docker(t)
	for _, user := range []string{"65534:65534", "65534"} {
		image := "goairbyte-test/jsononly-user-" + strings.ReplaceAll(user, ":", "-") + ":0.1.0"
		buildImageWith(t, cli, "./internal/testconnectors/jsononly", image,
			"FROM scratch\nCOPY connector /connector\nUSER "+user+"\nENTRYPOINT [\"/connector\"]\n", nil)
		d := build[executor.Executor](t, "source-numeric-user", executor.Method{Kind: executor.KindDocker, Image: image, DockerClient: cli},
			executor.Runtime{LogDir: t.TempDir(), NoInstall: true})
		msgs, err := collect(d.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(`{"password":"x"}`),
			Catalog: itemsCatalog}))
		if err != nil || len(msgs) == 0 || msgs[0].Record == nil {
			t.Fatalf("USER %s: want the run files read back, got %+v, %v", user, msgs, err)
		}
	}
}

// A user who may not use the engine's socket (not in the docker group) was
// told to start Docker, which runs. The error says now to give the user
// access to the socket. The test runs itself again as nobody (uid 65534),
// which it can only do as root (outsider16).
func TestDockerSocketRefusesUser(t *testing.T) {
	if os.Getenv("GOAIRBYTE_TEST_AS_NOBODY") == "1" {
		d := build[executor.Executor](t, "source-refused", executor.Method{Kind: executor.KindDocker, Image: "goairbyte-test/refused:1.0"},
			executor.Runtime{LogDir: t.TempDir()})
		_, err := collect(d.Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec}))
		fmt.Println("ERROR:", err)
		return
	}
	t.Parallel()
	testenv.Docker(t)
	testenv.NeedRoot(t, "the test runs itself as another user")
	if fi, err := os.Stat("/var/run/docker.sock"); err != nil || fi.Mode().Perm()&0o006 != 0 {
		t.Skip("the engine's socket is not at /var/run/docker.sock, or anyone may use it")
	}
	// A copy of the test binary that nobody may run, in a directory it may enter.
	dir, err := os.MkdirTemp("", "goairbyte-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "executor.test")
	if err := os.WriteFile(bin, exe, 0o755); err != nil || os.Chmod(dir, 0o755) != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil || os.Chown(home, 65534, 65534) != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestDockerSocketRefusesUser$", "-test.count=1")
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "GOAIRBYTE_TEST_AS_NOBODY=1", "DOCKER_HOST=unix:///var/run/docker.sock", "HOME="+home, "TMPDIR="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("running the test as nobody: %v\n%s", err, out)
	}
	for _, w := range []string{"refuses this user", "docker group"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("the error does not say %q:\n%s", w, out)
		}
	}
	if strings.Contains(string(out), "start Docker") {
		t.Errorf("the error says to start Docker, which runs:\n%s", out)
	}
}

// A program whose interpreter the image lacks — a Go program built with
// cgo (dynamically linked) in a FROM scratch image, a script whose #! line
// names a shell the image has not — fails with the kernel's "exec
// /connector: no such file or directory", which names a file the image
// has. The error now says what is missing and how to build the image
// (outsider16).
func TestDockerImageWithoutInterpreter(t *testing.T) {
	t.Parallel()
	cli := testenv.Docker(t)
	const image = "goairbyte-test/echo-no-interpreter:0.1.0"
	buildImageWith(t, cli, "./internal/testconnectors/echo", image,
		"FROM scratch\nCOPY connector /connector\nENTRYPOINT [\"/connector\"]\n",
		func([]byte) []byte { return []byte("#!/bin/sh\nexec /connector-real \"$@\"\n") })
	d := build[executor.Executor](t, "source-no-interpreter", executor.Method{Kind: executor.KindDocker, Image: image, DockerClient: cli},
		executor.Runtime{LogDir: t.TempDir(), NoInstall: true})
	_, err := collect(d.Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec}))
	asConnectorError(t, err)
	for _, w := range []string{"/connector", "the program's interpreter", "CGO_ENABLED=0", "#!"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error does not say %q: %v", w, err)
		}
	}
}

// An image its registry has only for other platforms (a manifest list
// with arm64 builds alone, pulled on amd64) failed to pull with the advice
// to docker pull it, which fails the same way ("no matching manifest for
// linux/amd64 in the manifest list entries"). The error says now to build
// and push the image for the engine's platform (outsider16).
func TestDockerImageNotForThisPlatform(t *testing.T) {
	t.Parallel()
	cli := testenv.Docker(t)
	reg := testenv.Registry(t)
	server, err := cli.ServerVersion(context.Background(), client.ServerVersionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other := "arm64"
	if server.Arch == "arm64" {
		other = "amd64"
	}
	testenv.BuildImage(t, cli, "./internal/testconnectors/echo", "goairbyte-test/echo:0.1.0")
	testenv.PushImage(t, cli, "goairbyte-test/echo:0.1.0", reg+"/goairbyte/echo:one", "")
	// A manifest list of the tag's manifest, said to be for the other platform.
	const single, list = "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json"
	req, _ := http.NewRequest(http.MethodGet, "http://"+reg+"/v2/goairbyte/echo/manifests/one", nil)
	req.Header.Set("Accept", single)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != single {
		t.Fatalf("the manifest: %s %v %s", resp.Status, err, manifest)
	}
	body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[{"mediaType":%q,"digest":%q,"size":%d,"platform":{"architecture":%q,"os":"linux"}}]}`,
		list, single, resp.Header.Get("Docker-Content-Digest"), len(manifest), other)
	req, _ = http.NewRequest(http.MethodPut, "http://"+reg+"/v2/goairbyte/echo/manifests/elsewhere", strings.NewReader(body))
	req.Header.Set("Content-Type", list)
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("pushing the manifest list: %v %v", resp, err)
	}
	resp.Body.Close()

	image := reg + "/goairbyte/echo:elsewhere"
	d := build[executor.Executor](t, "source-elsewhere", executor.Method{Kind: executor.KindDocker, Image: image, DockerClient: cli},
		executor.Runtime{LogDir: t.TempDir()})
	err = d.Install(context.Background())
	if !errors.Is(err, executor.ErrNotInstalled) {
		t.Fatalf("want ErrNotInstalled, got %v", err)
	}
	for _, w := range []string{image, "only for other platforms", "--platform"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error does not say %q: %v", w, err)
		}
	}
	if strings.Contains(err.Error(), "docker pull "+image) {
		t.Errorf("the error advises a docker pull, which fails the same way: %v", err)
	}
}
