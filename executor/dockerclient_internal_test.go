package executor

import (
	"testing"

	"github.com/moby/moby/client"
)

// Docker executors built without a client (a Source per sync in a
// server) share one per Docker environment: each client keeps its own
// idle connections to the engine, with two goroutines each, so a client
// per executor left two connections per dropped Source open for the
// transport's 30 s idle timeout (TestLeakDocker in internal/leaktest: +4
// goroutines and +2 sockets per Source).
func TestDockerExecutorsShareAClient(t *testing.T) {
	t.Setenv(client.EnvOverrideHost, "unix:///var/run/docker.sock")
	build := func() *dockerExecutor {
		t.Helper()
		d, err := newDocker("source-x", "example/source-x:1.0", buildOptions(Method{Kind: KindDocker, Image: "example/source-x:1.0"}, Runtime{}))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a, b := build(), build()
	if a.cli != b.cli {
		t.Fatal("two Docker executors for one engine have a client each")
	}
	t.Setenv(client.EnvOverrideHost, "unix:///run/other/docker.sock")
	if c := build(); c.cli == a.cli || c.cli.DaemonHost() != "unix:///run/other/docker.sock" {
		t.Fatalf("an executor built after DOCKER_HOST changed talks to %s", c.cli.DaemonHost())
	}
	mine, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	d, err := newDocker("source-x", "example/source-x:1.0", buildOptions(Method{Kind: KindDocker, Image: "example/source-x:1.0", DockerClient: mine}, Runtime{}))
	if err != nil {
		t.Fatal(err)
	}
	if d.cli != mine {
		t.Fatal("the Method's DockerClient was not used")
	}
}
