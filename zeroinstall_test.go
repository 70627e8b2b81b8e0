package goairbyte_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/testenv"
)

// zeroInstallProgram is a newcomer's first program: GetSource with a
// config and no way of running the connector, then Records and a Read into
// the default cache.
const zeroInstallProgram = `package main

import (
	"context"
	"fmt"
	"log"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
)

func main() {
	ctx := context.Background()
	src, err := goairbyte.GetSource(ctx, "source-faker", connector.WithConfig(map[string]any{"count": 50}))
	if err != nil {
		log.Fatal(err)
	}
	n := 0
	for _, err := range src.Records(ctx, "users") {
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	res, err := src.Read(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("records", n, "read", res.RecordsProcessed(), "via", src.String())
}
`

// TestZeroInstallFirstRun builds the program above in a module of its own
// outside the checkout (a replace directive points at it) and runs it with
// no Docker engine and no source-faker on PATH: the faker runs in process.
func TestZeroInstallFirstRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module of its own; skipped with -short")
	}
	t.Parallel()
	dir := outsideModule(t, "example.com/firstrun", map[string]string{"main.go": zeroInstallProgram})
	work := t.TempDir()
	stdout, stderr := runOutside(t, dir, ".", work)
	if got := strings.TrimSpace(stdout); got != "records 50 read 150 via source-faker (in process)" {
		t.Fatalf("the program printed %q (stderr %q)", got, stderr)
	}
	if _, err := os.Stat(filepath.Join(work, ".cache", "default_cache", "default_cache.duckdb")); err != nil {
		t.Fatalf("the default cache is not where PyAirbyte puts it: %v", err)
	}
}

// runOutside builds the main package pkg of the outside module dir and
// runs it in the working directory work (where the default cache lands,
// under ./.cache) as a newcomer's machine would, with no connector
// anywhere: an empty PATH, no Docker engine, no registry. A build or run
// that fails fails the test; it returns what the program printed.
func runOutside(t *testing.T, dir, pkg, work string) (stdout, stderr string) {
	t.Helper()
	bin := filepath.Join(dir, "outside-program")
	build := exec.Command("go", "build", "-mod=mod", "-o", bin, pkg)
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	run := exec.Command(bin)
	run.Dir = work
	run.Env = []string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir(), "DOCKER_HOST=unix:///nonexistent.sock",
		"AIRBYTE_OFFLINE_MODE=1", "TMPDIR=" + t.TempDir()}
	var out, errb bytes.Buffer
	run.Stdout, run.Stderr = &out, &errb
	if err := run.Run(); err != nil {
		t.Fatalf("%s failed: %v\n%s%s", pkg, err, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// outsideModule writes a module of its own, named path, in a temporary
// directory outside the checkout: files (paths relative to the module root)
// plus a go.mod that requires github.com/x/goairbyte with a replace
// directive to the checkout, and the checkout's go.sum, so that it builds
// offline as a user's program would.
func outsideModule(t *testing.T, path string, files map[string]string) string {
	t.Helper()
	root := testenv.ModuleRoot(t)
	dir := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	gomod := "module " + path + "\n\ngo 1.26\n\nrequire github.com/x/goairbyte v0.0.0\n\nreplace github.com/x/goairbyte => " + root + "\n"
	all := map[string]string{"go.mod": gomod, "go.sum": string(sum)}
	for name, content := range files {
		all[name] = content
	}
	for name, content := range all {
		file := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
