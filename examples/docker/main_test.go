package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/internal/testenv"
)

// TestDocker runs the example against the faker image, built from this
// checkout by testenv (skipped without Docker unless
// GOAIRBYTE_REQUIRE_DOCKER=1).
func TestDocker(t *testing.T) {
	cli := testenv.Docker(t)
	image := testenv.FakerImage(t, cli)
	t.Chdir(t.TempDir())
	var out bytes.Buffer
	if err := run(context.Background(), &out, image, t.TempDir(), 30); err != nil {
		t.Fatalf("docker example: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("printed %d lines, want 5:\n%s", len(lines), out.String())
	}
	if want := "connection check passed: source-faker (Docker image " + image + ")"; lines[0] != want {
		t.Errorf("line 1 = %q, want %q", lines[0], want)
	}
	for i, l := range lines[1:4] {
		if !regexp.MustCompile(fmt.Sprintf(`^user %d: \S+@\S+$`, i+1)).MatchString(l) {
			t.Errorf("line %d = %q, want user %d and an email", i+2, l, i+1)
		}
	}
	if want := "read 90 records from the container: products 30 users 30 purchases 30"; lines[4] != want {
		t.Errorf("last line = %q, want %q", lines[4], want)
	}
}

// TestDockerMissingImage checks that a missing image is reported as not
// installed, not pulled.
func TestDockerMissingImage(t *testing.T) {
	testenv.Docker(t)
	err := run(context.Background(), &bytes.Buffer{}, "goairbyte/no-such-image:0.0.0", t.TempDir(), 10)
	var missing *goairbyte.NotInstalledError
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "goairbyte/no-such-image:0.0.0") {
		t.Fatalf("err = %v, want a *NotInstalledError naming the image", err)
	}
}
