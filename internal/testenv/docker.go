package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// Docker returns a client for the Docker engine named by the usual
// environment (DOCKER_HOST etc., default unix:///var/run/docker.sock), with
// the API version negotiated down to what the engine speaks (Debian 12's
// dockerd speaks 1.41). The client is closed when t ends.
//
// When no engine answers, the test is skipped — or fails when
// GOAIRBYTE_REQUIRE_DOCKER=1.
func Docker(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.New(client.FromEnv)
	if err != nil {
		unavailable(t, RequireDockerEnv, "testenv: cannot configure a Docker client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		unavailable(t, RequireDockerEnv, "testenv: no Docker engine answers at %s: %v; start dockerd (or run .ci/run, which installs and starts it)", cli.DaemonHost(), err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}
