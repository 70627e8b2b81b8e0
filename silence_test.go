package goairbyte_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/source"
)

// TestLibraryIsSilent runs a program that never asks for progress or logs
// — GetSource, Check, Read into the default cache, Records, Write to a
// destination through the cache and with no cache — in a process of its own
// and checks that it wrote nothing at all on stderr. (The connectors' own
// stderr goes to their log files, not to ours.)
func TestLibraryIsSilent(t *testing.T) {
	if os.Getenv("GOAIRBYTE_SILENCE_CHILD") == "1" {
		silentProgram(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLibraryIsSilent$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GOAIRBYTE_SILENCE_CHILD=1", "GOAIRBYTE_LOG_DIR="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the program failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Fatalf("the library wrote on stderr:\n%s", stderr.String())
	}
}

func silentProgram(t *testing.T) {
	ctx := context.Background()
	out := t.TempDir()
	src, err := goairbyte.GetSource(ctx, "source-faker", connector.WithConfig(map[string]any{"count": 2000, "seed": 1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Check(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := src.Read(ctx)
	if err != nil || res.RecordsProcessed() == 0 {
		t.Fatalf("read: %v", err)
	}
	for _, err := range src.Records(ctx, "users", source.Limit(10)) {
		if err != nil {
			t.Fatal(err)
		}
	}
	dst, err := goairbyte.GetDestination(ctx, "destination-local-json", connector.WithConfig(map[string]any{"destination_path": out}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Write(ctx, res); err != nil {
		t.Fatal(err)
	}
	noop, err := goairbyte.NoopDestination(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noop.Write(ctx, src, destination.NoCache(), destination.NoStateCache()); err != nil {
		t.Fatal(err)
	}
}
