// Package runmethod decides how a connector of the registry runs on this
// machine, as PyAirbyte does: a local executable, a Python package in its
// own virtualenv, or a Docker image. Package connector asks it when a
// connector is given by name alone.
package runmethod

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/x/goairbyte/registry"
)

// Kind is how a connector runs.
type Kind string

// The ways to run a connector, in the order [Choose] prefers them.
const (
	Executable Kind = "executable" // a program on PATH named like the connector
	Python     Kind = "python"     // a PyPI package in its own virtualenv
	Docker     Kind = "docker"     // a Docker image
)

// Method is the outcome of [Choose]: how to run one connector.
type Method struct {
	// Kind is Executable, Python or Docker, and says which of the
	// fields below is set.
	Kind Kind
	// Executable is the program's path (Executable).
	Executable string
	// Python is the interpreter that creates the virtualenv
	// (Python).
	Python string
	// PipRequirement is what pip installs into it, "package" or
	// "package==version" (Python).
	PipRequirement string
	// DockerImage is "repository:tag" (Docker).
	DockerImage string
}

// String describes the method for messages: "docker image airbyte/source-x:1.0".
func (m Method) String() string {
	switch m.Kind {
	case Executable:
		return "executable " + m.Executable
	case Python:
		return fmt.Sprintf("python package %s (with %s)", m.PipRequirement, m.Python)
	case Docker:
		return "docker image " + m.DockerImage
	}
	return "no method"
}

// Probes holds the checks Choose makes of the machine. A nil
// field uses the real check (detectProbes); tests and programs with
// their own policy replace them.
type Probes struct {
	// LookPath finds an executable, like exec.LookPath.
	LookPath func(file string) (string, error)
	// FindPython returns a Python interpreter able to create virtualenvs.
	FindPython func(ctx context.Context) (string, error)
	// DockerAvailable returns nil when a Docker engine answers.
	DockerAvailable func(ctx context.Context) error
}

// detectProbes returns the real checks: exec.LookPath, a python3 (or
// python) of version 3.10 or later with the venv module, and a ping of the
// Docker engine at DOCKER_HOST (default unix:///var/run/docker.sock).
func detectProbes() Probes {
	return Probes{LookPath: exec.LookPath, FindPython: findPython, DockerAvailable: PingDocker}
}

func (e Probes) withDefaults() Probes {
	d := detectProbes()
	if e.LookPath == nil {
		e.LookPath = d.LookPath
	}
	if e.FindPython == nil {
		e.FindPython = d.FindPython
	}
	if e.DockerAvailable == nil {
		e.DockerAvailable = d.DockerAvailable
	}
	return e
}

// NoMethodError says that a connector cannot run on this machine and what
// each way of running it would need.
type NoMethodError struct {
	// Connector is the connector's name in the registry.
	Connector string
	Needs     []string // one line per method that was considered
}

// Error lists what each way of running the connector would need.
func (e *NoMethodError) Error() string {
	return fmt.Sprintf("cannot run %s on this machine; any one of these would do: %s", e.Connector, strings.Join(e.Needs, "; "))
}

// Choose decides how to run c, as PyAirbyte does: an executable named
// like the connector on PATH first; otherwise its PyPI package when it has
// an enabled one and a Python interpreter is available; otherwise its
// Docker image when a Docker engine answers. version shapes the pip
// requirement and the image tag: a pinned "1.2.3" pins both; "latest" is
// the newest package and the latest tag; "" is the newest package too (as
// PyAirbyte installs it) but the registry's tag for the image, whose latest
// tag may lag or lead. A local executable is used as it is. When nothing fits,
// the error is a *[NoMethodError] that lists what would be needed.
func Choose(ctx context.Context, c *registry.Connector, version string, env Probes) (Method, error) {
	if c == nil {
		return Method{}, errors.New("runmethod: Choose needs a connector")
	}
	env = env.withDefaults()
	var needs []string
	if path, err := env.LookPath(c.Name); err == nil {
		return Method{Kind: Executable, Executable: path}, nil
	}
	needs = append(needs, fmt.Sprintf("an executable named %s on PATH", c.Name))

	if c.PyPIPackage != "" && c.PyPIEnabled {
		py, err := env.FindPython(ctx)
		if err == nil {
			return Method{Kind: Python, Python: py, PipRequirement: PipRequirement(c, version)}, nil
		}
		needs = append(needs, fmt.Sprintf("Python 3.10+ to install the PyPI package %s (%v)", PipRequirement(c, version), err))
	}

	if c.DockerRepository != "" {
		err := env.DockerAvailable(ctx)
		if err == nil {
			return Method{Kind: Docker, DockerImage: DockerImage(c, version)}, nil
		}
		needs = append(needs, fmt.Sprintf("a running Docker engine for the image %s (%v)", DockerImage(c, version), err))
	}
	if ctx.Err() != nil {
		return Method{}, ctx.Err()
	}
	return Method{}, &NoMethodError{Connector: c.Name, Needs: needs}
}

// findPython looks for python3, then python, on PATH and returns the first
// that is version 3.10 or later and has the venv module.
func findPython(ctx context.Context) (string, error) {
	var problems []string
	for _, name := range []string{"python3", "python"} {
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		out, err := exec.CommandContext(cctx, path, "-c",
			"import sys, venv; sys.exit(0 if sys.version_info >= (3, 10) else 3)").CombinedOutput()
		cancel()
		if err == nil {
			return path, nil
		}
		problems = append(problems, fmt.Sprintf("%s: %v %s", path, err, strings.TrimSpace(string(out))))
	}
	if len(problems) == 0 {
		return "", errors.New("no python3 or python on PATH")
	}
	return "", fmt.Errorf("no usable Python 3.10+ with venv: %s", strings.Join(problems, "; "))
}

// PingDocker returns nil when the Docker engine at DOCKER_HOST (default
// unix:///var/run/docker.sock) answers its /_ping endpoint within 3 s.
// With DOCKER_TLS_VERIFY set it only checks that the TCP port accepts a
// connection, as TLS needs the client certificates.
func PingDocker(ctx context.Context) error {
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	u, err := url.Parse(host)
	if err != nil {
		return fmt.Errorf("DOCKER_HOST=%q is not a URL: %w", host, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var network, addr string
	switch u.Scheme {
	case "unix":
		network, addr = "unix", u.Path
	case "tcp", "http", "https":
		network, addr = "tcp", u.Host
	default:
		return fmt.Errorf("DOCKER_HOST=%q: unsupported scheme %q", host, u.Scheme)
	}
	var d net.Dialer
	if u.Scheme == "https" || os.Getenv("DOCKER_TLS_VERIFY") != "" {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return fmt.Errorf("docker engine at %s: %w", host, err)
		}
		return conn.Close()
	}
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker/_ping", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("docker engine at %s: %w", host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("docker engine at %s: ping answered %s %s", host, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// DockerImage is c's image for version: the registry's tag when version is
// "", otherwise version itself ("latest" or a pinned "1.2.3").
func DockerImage(c *registry.Connector, version string) string {
	if version == "" {
		version = c.DockerImageTag
	}
	if version == "" {
		version = "latest"
	}
	return c.DockerRepository + ":" + version
}

// PipRequirement is c's pip requirement for version: the bare package for
// "" or "latest", "pkg==version" otherwise. It is "" when the connector has
// no PyPI package.
func PipRequirement(c *registry.Connector, version string) string {
	if c.PyPIPackage == "" {
		return ""
	}
	if version == "" || version == "latest" {
		return c.PyPIPackage
	}
	return c.PyPIPackage + "==" + version
}
