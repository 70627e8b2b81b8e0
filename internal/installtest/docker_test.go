package installtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	mobyregistry "github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/registry"
	"github.com/x/goairbyte/source"
)

// pushed pushes the local image to the registry at reg under the name
// repo:tag, then removes that reference locally (the image itself stays
// under its own name), and returns the remote reference.
func pushed(t *testing.T, cli *client.Client, image, reg, repo, tag string) string {
	t.Helper()
	remote := reg + "/" + repo + ":" + tag
	testenv.PushImage(t, cli, image, remote, "")
	if present(t, cli, remote) {
		t.Fatalf("%s is still present locally", remote)
	}
	return remote
}

func removeLocal(t *testing.T, cli *client.Client, ref string) {
	t.Helper()
	if _, err := cli.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
		t.Fatal(err)
	}
	if present(t, cli, ref) {
		t.Fatalf("%s is still present locally", ref)
	}
}

func present(t *testing.T, cli *client.Client, ref string) bool {
	t.Helper()
	_, err := cli.ImageInspect(context.Background(), ref)
	if err != nil && !cerrdefs.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

var fakerConfig = map[string]any{"count": 7, "seed": 3}

// TestDockerPullExplicitImage: source.New with an image that is only in the
// private registry pulls it (logging the pull) and reads records.
func TestDockerPullExplicitImage(t *testing.T) {
	cli := testenv.Docker(t)
	reg := testenv.Registry(t)
	remote := pushed(t, cli, testenv.FakerImage(t, cli), reg, "goairbyte/source-faker", "0.1.0")

	var logs testenv.Buffer
	src, err := source.New(context.Background(), "source-faker", connector.WithDockerImage(remote), connector.WithInstallIfMissing(true),
		connector.WithConfig(fakerConfig), connector.WithLogger(debugLogger(&logs)), connector.WithLogDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if n := countRecords(t, src, "users"); n != 7 {
		t.Fatalf("read %d users, want 7", n)
	}
	if !present(t, cli, remote) {
		t.Fatalf("%s was not pulled", remote)
	}
	text := logs.String()
	if !strings.Contains(text, "pulling Docker image") || !strings.Contains(text, "pull: ") || !strings.Contains(text, remote) {
		t.Errorf("the pull and its progress were not logged:\n%s", text)
	}
	if v := src.Version(context.Background()); v != "0.1.0" {
		t.Errorf("Version = %q, want 0.1.0", v)
	}
}

// TestDockerThroughRegistryEntry: with no execution method and nothing on
// PATH, a connector whose registry entry points at the private registry is
// run from there; "latest" and a pinned version shape the tag; an image the
// registry does not have fails naming the image and the registry.
func TestDockerThroughRegistryEntry(t *testing.T) {
	cli := testenv.Docker(t)
	reg := testenv.Registry(t)
	repo := reg + "/goairbyte/source-regfaker"
	remote := pushed(t, cli, testenv.FakerImage(t, cli), reg, "goairbyte/source-regfaker", "0.1.0")
	useRegistry(t, entry{kind: "source", repo: repo, tag: "0.1.0", language: "go"})
	cleanPath(t)
	ctx := context.Background()

	var logs testenv.Buffer
	src, err := source.New(ctx, "source-regfaker", connector.WithConfig(fakerConfig),
		connector.WithLogger(debugLogger(&logs)), connector.WithLogDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if m := core.ConnOf(src.Connector).Executor().Method(); m.Kind != executor.KindDocker || m.Image != remote {
		t.Fatalf("resolved to %s, want the Docker image %s", src, remote)
	}
	if n := countRecords(t, src, "users"); n != 7 {
		t.Fatalf("read %d users, want 7", n)
	}
	if !strings.Contains(logs.String(), "pulling Docker image") {
		t.Errorf("no pull logged:\n%s", logs.String())
	}

	for version, want := range map[string]string{"0.1.0": repo + ":0.1.0", "latest": repo + ":latest", "9.9.9": repo + ":9.9.9"} {
		src, err := source.New(ctx, "source-regfaker", connector.WithVersion(version))
		if err != nil {
			t.Fatal(err)
		}
		if m := core.ConnOf(src.Connector).Executor().Method(); m.Kind != executor.KindDocker || m.Image != want {
			t.Errorf("version %q resolved to %s, want %s", version, src, want)
		}
	}

	// The registry has no 9.9.9: installing fails, naming image and registry.
	missing, err := source.New(ctx, "source-regfaker", connector.WithVersion("9.9.9"), connector.WithLogDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	err = missing.Install(ctx)
	var ni *executor.NotInstalledError
	if !errors.As(err, &ni) || !strings.Contains(err.Error(), repo+":9.9.9") || !strings.Contains(err.Error(), reg) {
		t.Fatalf("want a *NotInstalledError naming %s:9.9.9 and the registry %s, got %v", repo, reg, err)
	}
	t.Logf("pull failure: %v", err)

	// Our built-in source-faker resolves to our image, here present.
	testenv.FakerImage(t, cli)
	builtin, err := source.New(ctx, "source-faker")
	if err != nil {
		t.Fatal(err)
	}
	if m := core.ConnOf(builtin.Connector).Executor().Method(); m.Kind != executor.KindDocker || m.Image != testenv.FakerImageName {
		t.Errorf("the built-in source-faker resolved to %s, want %s", builtin, testenv.FakerImageName)
	}
}

// TestNoMethod: with no executable, no Python and no Docker engine, the
// error lists what would be needed; a name no registry knows says so. Both
// are a *connector.NoMethodError matching ErrNotInstalled.
func TestNoMethod(t *testing.T) {
	useRegistry(t, entry{kind: "source", repo: "airbyte/source-nowhere", tag: "1.0.0", language: "python", pypi: "airbyte-source-nowhere"})
	t.Setenv("PATH", t.TempDir())
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	ctx := context.Background()
	_, err := source.New(ctx, "source-nowhere", connector.WithVersion("1.2.3"))
	var nm *connector.NoMethodError
	if !errors.As(err, &nm) || len(nm.Needs) != 3 || !errors.Is(err, executor.ErrNotInstalled) ||
		!strings.Contains(err.Error(), "airbyte-source-nowhere==1.2.3") || !strings.Contains(err.Error(), "airbyte/source-nowhere:1.2.3") {
		t.Fatalf("want a *connector.NoMethodError listing an executable, Python and Docker, got %v", err)
	}
	_, err = source.New(ctx, "source-unheard-of")
	var cnm *connector.NoMethodError
	var nf *registry.NotFoundError
	if !errors.As(err, &cnm) || !errors.As(err, &nf) {
		t.Fatalf("want a *connector.NoMethodError and a *registry.NotFoundError, got %v", err)
	}
}

// TestDockerImageRemovedBetweenRuns: an image removed after a Source first
// used it (docker rmi, docker image prune -a by a cleanup job, between the
// commands of one read or between two reads of a service) is pulled again
// by the next command, as it was on first use, where that command failed
// with the engine's "No such image" (outsider16).
func TestDockerImageRemovedBetweenRuns(t *testing.T) {
	cli := testenv.Docker(t)
	reg := testenv.Registry(t)
	remote := pushed(t, cli, testenv.FakerImage(t, cli), reg, "goairbyte/source-prunedfaker", "0.1.0")

	var logs testenv.Buffer
	src, err := source.New(context.Background(), "source-faker", connector.WithDockerImage(remote),
		connector.WithConfig(fakerConfig), connector.WithLogger(debugLogger(&logs)), connector.WithLogDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if n := countRecords(t, src, "users"); n != 7 {
		t.Fatalf("read %d users, want 7", n)
	}
	removeLocal(t, cli, remote)
	logs.Reset()
	if n := countRecords(t, src, "users"); n != 7 {
		t.Fatalf("after the image was removed: read %d users, want 7", n)
	}
	if !present(t, cli, remote) || !strings.Contains(logs.String(), "pulling Docker image") {
		t.Errorf("the removed image was not pulled again:\n%s", logs.String())
	}

	// Without installing, the removal is a missing image, with what to do.
	noPull, err := source.New(context.Background(), "source-faker", connector.WithDockerImage(remote), connector.WithInstallIfMissing(false),
		connector.WithConfig(fakerConfig), connector.WithLogDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if n := countRecords(t, noPull, "users"); n != 7 {
		t.Fatalf("read %d users, want 7", n)
	}
	removeLocal(t, cli, remote)
	for _, err = range noPull.Records(context.Background(), "users") {
		if err != nil {
			break
		}
	}
	var ni *executor.NotInstalledError
	if !errors.As(err, &ni) || !strings.Contains(err.Error(), "docker pull "+remote) {
		t.Fatalf("without installing: want a *NotInstalledError saying to docker pull %s, got %v", remote, err)
	}
}

// TestDockerPullWithLogin: an image in a private registry that needs a
// login is pulled with the credentials docker login keeps — in the Docker
// CLI's config file, or behind its credential helper — as docker pull does.
// The engine reads no credentials itself: goairbyte sent none, so after a
// docker login that docker pull honoured, its pull still failed ("no basic
// auth credentials"), with the advice to docker pull (outsider16).
func TestDockerPullWithLogin(t *testing.T) {
	cli := testenv.Docker(t)
	reg := testenv.LoginRegistry(t)
	login := registryAuth(t, mobyregistry.AuthConfig{Username: testenv.RegistryUser, Password: testenv.RegistryPassword, ServerAddress: reg})
	remote := reg + "/goairbyte/source-loginfaker:0.1.0"
	ctx := context.Background()
	testenv.PushImage(t, cli, testenv.FakerImage(t, cli), remote, login)
	install := func() error {
		src, err := source.New(ctx, "source-faker", connector.WithDockerImage(remote), connector.WithConfig(fakerConfig),
			connector.WithLogDir(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		return src.Install(ctx)
	}

	// Not logged in: the error says to log in.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	err := install()
	if !errors.Is(err, executor.ErrNotInstalled) || !strings.Contains(err.Error(), "docker login "+reg) {
		t.Fatalf("not logged in: want ErrNotInstalled saying to docker login %s, got %v", reg, err)
	}

	// Logged in, as docker login writes it with no credential helper.
	dir := t.TempDir()
	userPass := base64.StdEncoding.EncodeToString([]byte(testenv.RegistryUser + ":" + testenv.RegistryPassword))
	writeFile(t, filepath.Join(dir, "config.json"), `{"auths": {"`+reg+`": {"auth": "`+userPass+`"}}}`, 0o600)
	t.Setenv("DOCKER_CONFIG", dir)
	if err := install(); err != nil {
		t.Fatalf("logged in (auths): %v", err)
	}
	removeLocal(t, cli, remote)

	// Logged in through a credential helper (docker-credential-<name>).
	dir = t.TempDir()
	writeFile(t, filepath.Join(dir, "config.json"), `{"credHelpers": {"`+reg+`": "goairbytetest"}}`, 0o600)
	writeFile(t, filepath.Join(dir, "docker-credential-goairbytetest"), `#!/bin/sh
read -r server
if [ "$1" = get ] && [ "$server" = "`+reg+`" ]; then
  printf '{"ServerURL":"%s","Username":"`+testenv.RegistryUser+`","Secret":"`+testenv.RegistryPassword+`"}' "$server"
  exit 0
fi
echo "credentials not found in native keychain"
exit 1
`, 0o755)
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	if err := install(); err != nil {
		t.Fatalf("logged in (credential helper): %v", err)
	}
}

// registryAuth encodes ac as the X-Registry-Auth header of a push or pull.
func registryAuth(t *testing.T, ac mobyregistry.AuthConfig) string {
	t.Helper()
	b, err := json.Marshal(ac)
	if err != nil {
		t.Fatal(err)
	}
	return base64.URLEncoding.EncodeToString(b)
}

func writeFile(t *testing.T, path, text string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
}
