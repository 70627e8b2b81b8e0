package goairbyte_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/source"
)

// TestWithProgressAloneDraws: source.WithProgress() and
// destination.WithProgress() with no options ask for progress on os.Stderr,
// as their docs say, where the Environment asks for none; so each draws its
// summary line there. (destination.WithProgress() alone was taken for no
// option at all, and drew nothing.)
func TestWithProgressAloneDraws(t *testing.T) {
	if os.Getenv("GOAIRBYTE_PROGRESS_CHILD") == "1" {
		progressAloneProgram(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWithProgressAloneDraws$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GOAIRBYTE_PROGRESS_CHILD=1", "GOAIRBYTE_LOG_DIR="+t.TempDir(), "NO_LIVE_PROGRESS=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the program failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"Read 30 records from source-faker", "Wrote 30 records to destination-local-json"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

func progressAloneProgram(t *testing.T) {
	ctx := context.Background()
	c, err := goairbyte.NewLocalCache(ctx, "progress", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	src, err := goairbyte.GetSource(ctx, "source-faker", connector.WithConfig(map[string]any{"count": 10, "seed": 1}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := src.Read(ctx, source.UseCache(c), source.WithProgress())
	if err != nil {
		t.Fatal(err)
	}
	dst, err := goairbyte.GetDestination(ctx, "destination-local-json", connector.WithConfig(map[string]any{"destination_path": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Write(ctx, res, destination.WithProgress()); err != nil {
		t.Fatal(err)
	}
}
