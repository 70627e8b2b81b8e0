package executor_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// buildImageWith builds image from a Dockerfile given as text whose build
// context holds the static binary of the test connector pkg as ./connector.
func buildImageWith(t *testing.T, cli *client.Client, pkg, image, dockerfile string) {
	t.Helper()
	exe, err := os.ReadFile(testenv.BuildBinary(t, pkg))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		body []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}, {"connector", 0o755, exe}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := cli.ImageBuild(context.Background(), &buf, client.ImageBuildOptions{Tags: []string{image}, Remove: true, ForceRemove: true})
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
		"FROM scratch\nCOPY connector /airbyte/connector\nENV AIRBYTE_ENTRYPOINT=\"/airbyte/connector\"\n")
	buildImageWith(t, cli, "./internal/testconnectors/echo", none,
		"FROM scratch\nCOPY connector /airbyte/connector\nCMD [\"/airbyte/connector\"]\n")
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
