package testenv

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	"github.com/x/goairbyte/internal/builtin"
)

// Image names and the version of our connectors' images: the connectors'
// own, from the one place that says it (internal/builtin), so that testenv
// does not depend on the packages it builds.
const (
	ConnectorVersion   = builtin.FakerVersion
	FakerImageName     = "goairbyte/source-faker:" + builtin.FakerVersion
	LocalJSONImageName = "goairbyte/destination-local-json:" + builtin.LocalJSONVersion
	// DeclarativeManifestImageName is the image of
	// ./cmd/source-declarative-manifest.
	DeclarativeManifestImageName = "goairbyte/source-declarative-manifest:" + builtin.ManifestVersion
)

// ModuleRoot returns the directory of this module's go.mod, found by
// walking up from the test's working directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return root
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; run the tests from inside the goairbyte module")
		}
		dir = parent
	}
}

// once runs an expensive step at most once per key per test binary and
// remembers its result (or error) for every later caller; different keys
// run concurrently.
type once[T any] struct {
	mu sync.Mutex
	m  map[string]*onceEntry[T]
}

type onceEntry[T any] struct {
	once sync.Once
	val  T
	err  error
}

func (o *once[T]) do(key string, f func() (T, error)) (T, error) {
	o.mu.Lock()
	if o.m == nil {
		o.m = map[string]*onceEntry[T]{}
	}
	e := o.m[key]
	if e == nil {
		e = &onceEntry[T]{}
		o.m[key] = e
	}
	o.mu.Unlock()
	e.once.Do(func() { e.val, e.err = f() })
	return e.val, e.err
}

var (
	binaries once[string]
	images   once[struct{}]

	binDirOnce sync.Once
	binDir     string
	binDirErr  error
)

// BuildBinary builds the main package pkg of this module (a path relative to
// the module root, such as "./cmd/source-faker") as a static executable
// (CGO_ENABLED=0) and returns its path. It builds once per test binary;
// later calls return the same file. A build failure fails the test with the
// compiler's output.
func BuildBinary(t testing.TB, pkg string) string {
	t.Helper()
	p, err := binaries.do(pkg, func() (string, error) { return buildBinary(pkg) })
	if err != nil {
		t.Fatalf("testenv: building %s: %v", pkg, err)
	}
	return p
}

func buildBinary(pkg string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	binDirOnce.Do(func() {
		binDir, binDirErr = os.MkdirTemp("", "goairbyte-bin-")
		if binDirErr == nil {
			atExit(func() { os.RemoveAll(binDir) })
			// Also when the binary has no TestMain or is killed.
			binDirErr = afterExit(`rm -rf "$0"`, binDir)
		}
	})
	if binDirErr != nil {
		return "", binDirErr
	}
	dir, err := os.MkdirTemp(binDir, "")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, path.Base(pkg))
	cmd := exec.Command(GoTool(), "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	if err := touchSources(root, pkg); err != nil {
		return "", err
	}
	return out, nil
}

// touchSources stats every file of the module's packages that pkg is built
// from. go test caches a passing result and reruns it only when the test's
// own dependencies or the files and environment it touched change; a binary
// built by a child `go build` is invisible to it. Statting the sources from
// the test process records them, so editing the connector reruns the test.
func touchSources(root, pkg string) error {
	cmd := exec.Command(GoTool(), "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go list -deps %s: %v", pkg, err)
	}
	for _, dir := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasPrefix(dir, root+string(filepath.Separator)) {
			continue // other modules are pinned by go.sum
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !e.IsDir() {
				if _, err := os.Stat(filepath.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// GoTool finds the go command: the toolchain running these tests first.
func GoTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); runtime.GOROOT() != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// BuildImage builds the Docker image named image (e.g.
// "goairbyte/source-faker:0.1.0") from the main package pkg: a FROM scratch
// image holding the static binary as its entrypoint. It uses the engine's
// build API with an in-memory context, so no docker CLI is needed. When the
// module has docker/<name>.Dockerfile (name = the package's last element),
// that Dockerfile is used, so tests cover the files `make images` uses, with
// the build argument VERSION set to the image's tag and, when it copies
// busybox, the host's static busybox in the context as `make images` puts
// it (see [StaticBusybox]); otherwise an equivalent one is generated. Each
// tag is built once per test binary.
func BuildImage(t testing.TB, cli *client.Client, pkg, image string) {
	t.Helper()
	bin := BuildBinary(t, pkg)
	_, err := images.do(image, func() (struct{}, error) { return struct{}{}, buildImage(cli, bin, image) })
	if err != nil {
		t.Fatalf("testenv: building image %s from %s: %v", image, pkg, err)
	}
}

// FakerImage builds goairbyte/source-faker:0.1.0 from ./cmd/source-faker and
// returns its name.
func FakerImage(t testing.TB, cli *client.Client) string {
	t.Helper()
	BuildImage(t, cli, "./cmd/source-faker", FakerImageName)
	return FakerImageName
}

// LocalJSONImage builds goairbyte/destination-local-json:0.1.0 from
// ./cmd/destination-local-json and returns its name.
func LocalJSONImage(t testing.TB, cli *client.Client) string {
	t.Helper()
	BuildImage(t, cli, "./cmd/destination-local-json", LocalJSONImageName)
	return LocalJSONImageName
}

// DeclarativeManifestImage builds goairbyte/source-declarative-manifest:0.1.0
// from ./cmd/source-declarative-manifest and returns its name.
func DeclarativeManifestImage(t testing.TB, cli *client.Client) string {
	t.Helper()
	BuildImage(t, cli, "./cmd/source-declarative-manifest", DeclarativeManifestImageName)
	return DeclarativeManifestImageName
}

func dockerfileFor(name string) ([]byte, error) {
	if root, err := moduleRoot(); err == nil {
		b, err := os.ReadFile(filepath.Join(root, "docker", name+".Dockerfile"))
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return []byte(fmt.Sprintf("FROM scratch\nCOPY %s /%s\nENTRYPOINT [\"/%s\"]\n", name, name, name)), nil
}

// ImageContext is the build context of an image of one program: the
// Dockerfile and the executable exe as name, in a tar archive.
func ImageContext(dockerfile []byte, name string, exe []byte) (*bytes.Buffer, error) {
	return imageContext(dockerfile, []contextFile{{name, exe}})
}

// contextFile is an executable of a build context.
type contextFile struct {
	name string
	body []byte
}

// appendFile adds the file at path to files as name.
func appendFile(files []contextFile, name, path string) ([]contextFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return append(files, contextFile{name, b}), nil
}

// imageContext is a build context of the Dockerfile and executables.
func imageContext(dockerfile []byte, files []contextFile) (*bytes.Buffer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, mode int64, body []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(body)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	if err := add("Dockerfile", 0o644, dockerfile); err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := add(f.name, 0o755, f.body); err != nil {
			return nil, err
		}
	}
	return &buf, tw.Close()
}

// StaticBusybox is the path of a statically linked busybox on this machine
// (Debian's busybox-static), which `make images` and BuildImage copy into
// our connectors' images as /bin/sh: the Airbyte platform starts every
// connector container with sh -c. A dynamically linked one would not run
// in a FROM scratch image, so it is refused.
func StaticBusybox() (string, error) {
	p, err := exec.LookPath("busybox")
	if err != nil {
		return "", fmt.Errorf("no busybox on PATH: our connector images need a static one as /bin/sh (apt-get install busybox-static)")
	}
	f, err := elf.Open(p)
	if err != nil {
		return "", fmt.Errorf("busybox %s: %w", p, err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return "", fmt.Errorf("busybox %s is dynamically linked: our connector images need a static one as /bin/sh (apt-get install busybox-static)", p)
		}
	}
	return p, nil
}

func buildImage(cli *client.Client, bin, image string) error {
	name := filepath.Base(bin)
	dockerfile, err := dockerfileFor(name)
	if err != nil {
		return err
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	files := []contextFile{{name, exe}}
	if bytes.Contains(dockerfile, []byte("COPY busybox ")) {
		bb, err := StaticBusybox()
		if err != nil {
			return err
		}
		if files, err = appendFile(files, "busybox", bb); err != nil {
			return err
		}
	}
	buf, err := imageContext(dockerfile, files)
	if err != nil {
		return err
	}
	version := image[strings.LastIndex(image, ":")+1:]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := cli.ImageBuild(ctx, buf, client.ImageBuildOptions{
		Tags:        []string{image},
		Dockerfile:  "Dockerfile",
		BuildArgs:   map[string]*string{"VERSION": &version},
		Remove:      true,
		ForceRemove: true,
	})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	return readJSONStream(res.Body)
}

// readJSONStream drains a build/push/pull progress stream and returns the
// first error it reports, with the stream's text so far for context.
func readJSONStream(r io.Reader) error {
	dec := json.NewDecoder(r)
	var log strings.Builder
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading the engine's progress stream: %w", err)
		}
		log.WriteString(m.Stream)
		if m.Error != nil {
			return fmt.Errorf("%s\n%s", m.Error.Message, log.String())
		}
	}
}
