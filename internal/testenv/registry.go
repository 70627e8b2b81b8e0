package testenv

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// RegistryBinary is where Debian's docker-registry package (the CNCF
// distribution registry) installs its server.
const RegistryBinary = "/usr/bin/docker-registry"

// Registry starts a private container registry for t alone — Debian's
// docker-registry, storing in a temporary directory and listening on a free
// 127.0.0.1 port — and returns its address "127.0.0.1:PORT". The Docker
// engine treats registries on 127.0.0.0/8 as insecure (plain HTTP) without
// any configuration, so images tagged "127.0.0.1:PORT/name:tag" can be
// pushed and pulled at once. The registry is stopped when t ends.
//
// Without docker-registry the test is skipped — or fails when
// GOAIRBYTE_REQUIRE_DOCKER=1 (the registry is part of the Docker setup that
// .ci/run installs).
func Registry(t testing.TB) string {
	t.Helper()
	return startRegistry(t, "")
}

// Registry users: LoginRegistry's registry admits RegistryUser with
// RegistryPassword (whose bcrypt hash, at the lowest cost, it keeps).
const (
	RegistryUser     = "goairbyte"
	RegistryPassword = "goairbyte-test-pw"
	registryHash     = "$2b$04$pOHb65hUDKq74gUiluDr6e08czsuIycgpqW1.NVi8G9J39yZpAvD."
)

// LoginRegistry is Registry with a login: pushes and pulls need
// RegistryUser and RegistryPassword (htpasswd basic auth, over plain HTTP
// on 127.0.0.1), as a company's private registry does.
func LoginRegistry(t testing.TB) string {
	t.Helper()
	return startRegistry(t, RegistryUser+":"+registryHash+"\n")
}

// startRegistry starts the registry, with htpasswd's users when it is not
// empty.
func startRegistry(t testing.TB, htpasswd string) string {
	t.Helper()
	bin := RegistryBinary
	if _, err := os.Stat(bin); err != nil {
		p, lerr := exec.LookPath("docker-registry")
		if lerr != nil {
			unavailable(t, RequireDockerEnv, "testenv: no container registry server: %s not found; apt-get install docker-registry (or run .ci/run)", RegistryBinary)
		}
		bin = p
	}
	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	config := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "storage"), addr)
	if htpasswd != "" {
		users := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(users, []byte(htpasswd), 0o600); err != nil {
			t.Fatalf("testenv: %v", err)
		}
		config += fmt.Sprintf("auth:\n  htpasswd:\n    realm: goairbyte-test\n    path: %s\n", users)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	var logs Buffer
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout = &logs
	cmd.Stderr = &logs
	// Killed with the test binary even if Cleanup never runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	// Ready when the v2 API answers.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || htpasswd != "" && resp.StatusCode == http.StatusUnauthorized {
				return addr
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("testenv: the registry exited before it was ready: %v\n%s", err, logs.String())
		case <-ctx.Done():
			t.Fatalf("testenv: the registry at %s did not answer within 30s\n%s", addr, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// PushImage tags the local image as remote (registry/repo:tag), pushes it
// with the X-Registry-Auth value auth ("" for none) and removes the remote
// reference locally (the image stays under its own name), so that a
// connector using remote must pull it. The reference is removed again
// when t ends.
func PushImage(t testing.TB, cli *client.Client, image, remote, auth string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := cli.ImageTag(ctx, client.ImageTagOptions{Source: image, Target: remote}); err != nil {
		t.Fatal(err)
	}
	push, err := cli.ImagePush(ctx, remote, client.ImagePushOptions{RegistryAuth: cmp.Or(auth, "e30=")})
	if err == nil {
		err = push.Wait(ctx)
	}
	if err != nil {
		t.Fatalf("testenv: pushing %s: %v", remote, err)
	}
	t.Cleanup(func() { cli.ImageRemove(context.Background(), remote, client.ImageRemoveOptions{Force: true}) })
	if _, err := cli.ImageRemove(ctx, remote, client.ImageRemoveOptions{Force: true}); err != nil {
		t.Fatalf("testenv: removing %s locally: %v", remote, err)
	}
}
