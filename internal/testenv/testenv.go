// Package testenv gives goairbyte's tests the real things they need — a
// Docker engine, a throwaway PostgreSQL server, static connector binaries,
// connector images and a local container registry — or skips the test with a
// message that says what is missing and how to get it.
//
// Everything here is real: no mocks. What is expensive is done once per test
// binary (one PostgreSQL server, one build per package, one image per tag)
// and shared by the tests of that binary; what a test changes (a database, a
// registry) is fresh for that test and removed in its t.Cleanup.
//
// Absence is a skip by default, so `go test ./...` works on a laptop without
// Docker or PostgreSQL. CI sets GOAIRBYTE_REQUIRE_DOCKER=1 and
// GOAIRBYTE_REQUIRE_POSTGRES=1 (and GOAIRBYTE_REQUIRE_PYTHON=1; see .ci/run), which turns every such skip
// into a failure so that a broken environment can never pass silently.
//
// A package whose tests use Postgres should stop the shared server when its
// test binary ends:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Without it nothing is left behind either: a small watcher process started
// with the server (and one for the build directory) stops the server and
// removes the temporary directories within about a second of the test
// binary exiting, even when the binary was killed. Every run uses a fresh
// directory and port, so a stale server can never block a later run.
package testenv

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// Environment variables that turn a missing dependency from a skip into a
// test failure. .ci/run sets them all.
const (
	RequireDockerEnv   = "GOAIRBYTE_REQUIRE_DOCKER"
	RequirePostgresEnv = "GOAIRBYTE_REQUIRE_POSTGRES"
	// RequirePythonEnv covers Debian's python3 with what the Python
	// executor's tests and the CPython/Jinja2 reference tests import.
	RequirePythonEnv = "GOAIRBYTE_REQUIRE_PYTHON"
	// RequireHistoryEnv covers git and the checkout's history: the
	// compatibility tests build earlier versions from their commits, which
	// a shallow clone or a source archive lacks.
	RequireHistoryEnv = "GOAIRBYTE_REQUIRE_HISTORY"
	// PostgresDSNEnv names an existing server to use instead of starting
	// one. Its user must be allowed to CREATE DATABASE: every Postgres call
	// creates a fresh database there and drops it afterwards.
	PostgresDSNEnv = "GOAIRBYTE_TEST_POSTGRES_DSN"
)

// unavailable skips t, or fails it when the variable env is "1" (or "true"),
// with a message saying what is missing and how to provide it.
func unavailable(t testing.TB, env, format string, args ...any) {
	t.Helper()
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	if required(env) {
		t.Fatalf("%s (required because %s=%s)", msg, env, os.Getenv(env))
	}
	t.Skipf("%s (skipping; set %s=1 to make this a failure)", msg, env)
}

// NeedRoot skips t unless the test runs as root, or fails it under
// GOAIRBYTE_REQUIRE_DOCKER=1, as CI runs as root; why says what the test
// does that needs it.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Getuid() != 0 {
		unavailable(t, RequireDockerEnv, "testenv: %s, which needs root", why)
	}
}

// NoHistory skips t, or fails it under GOAIRBYTE_REQUIRE_HISTORY=1, for a
// test that needs a commit or the git command this checkout lacks; why
// says what is missing.
func NoHistory(t testing.TB, why error) {
	t.Helper()
	unavailable(t, RequireHistoryEnv, "%v; a full clone has it (git fetch --unshallow deepens a shallow one)", why)
}

func required(env string) bool {
	switch strings.ToLower(os.Getenv(env)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

var (
	teardownMu sync.Mutex
	teardowns  []func()
)

// atExit registers f to run when Main's tests are done (last registered runs
// first). It is for what lives as long as the test binary: the shared server,
// the build directory.
func atExit(f func()) {
	teardownMu.Lock()
	defer teardownMu.Unlock()
	teardowns = append(teardowns, f)
}

// Teardown stops everything testenv started for the whole test binary (the
// PostgreSQL server) and removes its temporary directories. Main calls it;
// call it yourself only from a TestMain that cannot use Main.
func Teardown() {
	teardownMu.Lock()
	fs := teardowns
	teardowns = nil
	teardownMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// Main runs the tests, then tears down what testenv started for the whole
// binary, and exits with the tests' status. Use it as a package's TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Teardown()
	os.Exit(code)
}

// Buffer is a goroutine-safe buffer: what one goroutine writes (a child
// process's output, a logger's lines) while the test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset forgets what was written.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}
