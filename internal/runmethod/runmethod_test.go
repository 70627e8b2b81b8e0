package runmethod

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/registry"
)

// lookup returns the connector called name in registry's test fixture
// merged with the built-in connectors.
func lookup(t *testing.T, name string) *registry.Connector {
	t.Helper()
	l := registry.NewLoader(registry.WithLocalRegistry("../../registry/testdata/oss_registry.json"),
		registry.WithOffline(true), registry.WithCacheDir(""))
	c, err := l.Lookup(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// env builds Probes in which only the named facilities exist.
func env(executables []string, python string, docker bool) Probes {
	return Probes{
		LookPath: func(file string) (string, error) {
			for _, e := range executables {
				if e == file {
					return "/opt/bin/" + file, nil
				}
			}
			return "", exec.ErrNotFound
		},
		FindPython: func(context.Context) (string, error) {
			if python == "" {
				return "", errors.New("no python3 or python on PATH")
			}
			return python, nil
		},
		DockerAvailable: func(context.Context) error {
			if !docker {
				return errors.New("dial unix /var/run/docker.sock: connect: no such file or directory")
			}
			return nil
		},
	}
}

func TestChoose(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		connector, version string
		env                Probes
		want               Method
	}{
		{"source-github", "", env([]string{"source-github"}, "/usr/bin/python3", true),
			Method{Kind: Executable, Executable: "/opt/bin/source-github"}},
		{"source-github", "", env(nil, "/usr/bin/python3", true),
			Method{Kind: Python, Python: "/usr/bin/python3", PipRequirement: "airbyte-source-github"}},
		{"source-github", "1.8.0", env(nil, "/usr/bin/python3", true),
			Method{Kind: Python, Python: "/usr/bin/python3", PipRequirement: "airbyte-source-github==1.8.0"}},
		{"source-github", "", env(nil, "", true),
			Method{Kind: Docker, DockerImage: "airbyte/source-github:1.8.31"}},
		{"source-github", "latest", env(nil, "", true),
			Method{Kind: Docker, DockerImage: "airbyte/source-github:latest"}},
		// PyPI disabled: Docker even with Python present.
		{"source-file", "", env(nil, "/usr/bin/python3", true),
			Method{Kind: Docker, DockerImage: "airbyte/source-file:0.5.13"}},
		{"source-postgres", "3.6.0", env(nil, "/usr/bin/python3", true),
			Method{Kind: Docker, DockerImage: "airbyte/source-postgres:3.6.0"}},
		{"source-faker", "", env(nil, "/usr/bin/python3", true),
			Method{Kind: Docker, DockerImage: "goairbyte/source-faker:0.1.0"}},
		{"source-faker", "", env([]string{"source-faker"}, "", false),
			Method{Kind: Executable, Executable: "/opt/bin/source-faker"}},
	}
	for _, c := range cases {
		got, err := Choose(ctx, lookup(t, c.connector), c.version, c.env)
		if err != nil || got != c.want {
			t.Errorf("%s@%q: got %+v, %v; want %+v", c.connector, c.version, got, err, c.want)
		}
	}

	_, err := Choose(ctx, lookup(t, "source-github"), "", env(nil, "", false))
	var nm *NoMethodError
	if !errors.As(err, &nm) || nm.Connector != "source-github" || len(nm.Needs) != 3 {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"executable named source-github on PATH", "airbyte-source-github", "Python 3.10+",
		"Docker engine", "airbyte/source-github:1.8.31", "no such file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	_, err = Choose(ctx, lookup(t, "source-postgres"), "", env(nil, "/usr/bin/python3", false))
	if !errors.As(err, &nm) || len(nm.Needs) != 2 || strings.Contains(err.Error(), "Python") {
		t.Fatalf("java connector: %v", err)
	}
}

// TestChooseMethodRealEnvironment uses the machine's real PATH, Python and
// Docker engine.
func TestChooseMethodRealEnvironment(t *testing.T) {
	ctx := context.Background()
	testenv.Docker(t) // skips without an engine, unless GOAIRBYTE_REQUIRE_DOCKER=1
	if err := PingDocker(ctx); err != nil {
		t.Fatalf("the engine answers the test client but not PingDocker: %v", err)
	}
	py, err := findPython(ctx)
	if err != nil {
		t.Fatalf("no usable Python found: %v", err)
	}
	out, err := exec.Command(py, "-c", "import sys; print(sys.version_info >= (3, 10), sys.executable)").Output()
	fields := strings.Fields(string(out))
	if err != nil || len(fields) != 2 || fields[0] != "True" {
		t.Fatalf("FindPython returned %s: %s %v", py, out, err)
	}
	realPython := fields[1] // behind shims such as pyenv's

	// An executable named like the connector on PATH wins.
	bin := t.TempDir()
	exe := filepath.Join(bin, "source-faker")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\necho '{}'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	faker := lookup(t, "source-faker")
	m, err := Choose(ctx, faker, "", Probes{})
	if err != nil || m.Kind != Executable || m.Executable != exe {
		t.Fatalf("with %s on PATH: %+v %v", exe, m, err)
	}
	// Without it, our faker (no PyPI package) runs on Docker.
	t.Setenv("PATH", filepath.Dir(realPython))
	m, err = Choose(ctx, faker, "", Probes{})
	if err != nil || m.Kind != Docker || m.DockerImage != "goairbyte/source-faker:0.1.0" {
		t.Fatalf("without an executable: %+v %v", m, err)
	}
	// A Python connector uses the real interpreter.
	gh := lookup(t, "source-github")
	m, err = Choose(ctx, gh, "", Probes{})
	if err != nil || m.Kind != Python || m.Python == "" {
		t.Fatalf("python connector: %+v %v", m, err)
	}
	// An unreachable engine is reported as such.
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "none.sock"))
	if err := PingDocker(ctx); err == nil || !strings.Contains(err.Error(), "none.sock") {
		t.Fatalf("ping of a missing socket: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	_, err = Choose(ctx, faker, "", Probes{})
	var nm *NoMethodError
	if !errors.As(err, &nm) {
		t.Fatalf("nothing available: %v", err)
	}
}

func TestDockerImageAndPipRequirement(t *testing.T) {
	gh := lookup(t, "source-github")
	if img := DockerImage(gh, ""); img != "airbyte/source-github:1.8.31" {
		t.Fatal(img)
	}
	if img := DockerImage(gh, "latest"); img != "airbyte/source-github:latest" {
		t.Fatal(img)
	}
	if req := PipRequirement(gh, "1.2.3"); req != "airbyte-source-github==1.2.3" {
		t.Fatal(req)
	}
	if req := PipRequirement(gh, "latest"); req != "airbyte-source-github" {
		t.Fatal(req)
	}
	if img := DockerImage(lookup(t, "source-faker"), ""); img != "goairbyte/source-faker:0.1.0" {
		t.Fatal(img)
	}
	if img := DockerImage(lookup(t, "destination-local-json"), ""); img != "goairbyte/destination-local-json:0.1.0" {
		t.Fatal(img)
	}
}

// TestChooseWithDockerOnly is a machine with Docker but without a
// source-faker executable or a Python: our faker runs its image.
func TestChooseWithDockerOnly(t *testing.T) {
	faker := lookup(t, "source-faker")
	env := Probes{
		LookPath:        func(string) (string, error) { return "", exec.ErrNotFound },
		FindPython:      func(context.Context) (string, error) { return "", errors.New("no python") },
		DockerAvailable: func(context.Context) error { return nil },
	}
	m, err := Choose(context.Background(), faker, "", env)
	if got := fmt.Sprint(m, " ", err); got != "docker image goairbyte/source-faker:0.1.0 <nil>" {
		t.Fatal(got)
	}
}
