package registry

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/testenv"
)

func fixtureRegistry(t *testing.T) *Registry {
	t.Helper()
	reg, err := parseBytes(readFixture(t), fixture)
	if err != nil {
		t.Fatal(err)
	}
	return merge(reg.Source, Builtins(), reg)
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

func TestChooseMethod(t *testing.T) {
	reg := fixtureRegistry(t)
	ctx := context.Background()
	cases := []struct {
		connector, version string
		env                Probes
		want               Method
	}{
		{"source-github", "", env([]string{"source-github"}, "/usr/bin/python3", true),
			Method{Kind: MethodExecutable, Executable: "/opt/bin/source-github"}},
		{"source-github", "", env(nil, "/usr/bin/python3", true),
			Method{Kind: MethodPython, Python: "/usr/bin/python3", PipRequirement: "airbyte-source-github"}},
		{"source-github", "1.8.0", env(nil, "/usr/bin/python3", true),
			Method{Kind: MethodPython, Python: "/usr/bin/python3", PipRequirement: "airbyte-source-github==1.8.0"}},
		{"source-github", "", env(nil, "", true),
			Method{Kind: MethodDocker, DockerImage: "airbyte/source-github:1.8.31"}},
		{"source-github", "latest", env(nil, "", true),
			Method{Kind: MethodDocker, DockerImage: "airbyte/source-github:latest"}},
		// PyPI disabled: Docker even with Python present.
		{"source-file", "", env(nil, "/usr/bin/python3", true),
			Method{Kind: MethodDocker, DockerImage: "airbyte/source-file:0.5.13"}},
		{"source-postgres", "3.6.0", env(nil, "/usr/bin/python3", true),
			Method{Kind: MethodDocker, DockerImage: "airbyte/source-postgres:3.6.0"}},
		{"source-faker", "", env(nil, "/usr/bin/python3", true),
			Method{Kind: MethodDocker, DockerImage: "goairbyte/source-faker:0.1.0"}},
		{"source-faker", "", env([]string{"source-faker"}, "", false),
			Method{Kind: MethodExecutable, Executable: "/opt/bin/source-faker"}},
	}
	for _, c := range cases {
		got, err := ChooseMethod(ctx, reg.Lookup(c.connector), c.version, c.env)
		if err != nil || got != c.want {
			t.Errorf("%s@%q: got %+v, %v; want %+v", c.connector, c.version, got, err, c.want)
		}
	}

	_, err := ChooseMethod(ctx, reg.Lookup("source-github"), "", env(nil, "", false))
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
	_, err = ChooseMethod(ctx, reg.Lookup("source-postgres"), "", env(nil, "/usr/bin/python3", false))
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
	faker := Builtins().Lookup("source-faker")
	m, err := ChooseMethod(ctx, faker, "", Probes{})
	if err != nil || m.Kind != MethodExecutable || m.Executable != exe {
		t.Fatalf("with %s on PATH: %+v %v", exe, m, err)
	}
	// Without it, our faker (no PyPI package) runs on Docker.
	t.Setenv("PATH", filepath.Dir(realPython))
	m, err = ChooseMethod(ctx, faker, "", Probes{})
	if err != nil || m.Kind != MethodDocker || m.DockerImage != "goairbyte/source-faker:0.1.0" {
		t.Fatalf("without an executable: %+v %v", m, err)
	}
	// A Python connector uses the real interpreter.
	gh := fixtureRegistry(t).Lookup("source-github")
	m, err = ChooseMethod(ctx, gh, "", Probes{})
	if err != nil || m.Kind != MethodPython || m.Python == "" {
		t.Fatalf("python connector: %+v %v", m, err)
	}
	// An unreachable engine is reported as such.
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "none.sock"))
	if err := PingDocker(ctx); err == nil || !strings.Contains(err.Error(), "none.sock") {
		t.Fatalf("ping of a missing socket: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	_, err = ChooseMethod(ctx, faker, "", Probes{})
	var nm *NoMethodError
	if !errors.As(err, &nm) {
		t.Fatalf("nothing available: %v", err)
	}
}
