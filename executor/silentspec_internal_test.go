package executor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/testenv"
)

// A program that is no connector (a server's image given as a connector's)
// answers nothing to spec and runs on: the run waited in silence for ever.
// A warning now says, after silentSpecWarning, what may be wrong
// (outsider16). A connector that answers gets none.
func TestSilentSpecWarns(t *testing.T) {
	silentSpecWarning = 300 * time.Millisecond // parallel tests wait until this sequential one has ended
	t.Cleanup(func() { silentSpecWarning = time.Minute })
	dir := t.TempDir()
	server := filepath.Join(dir, "server")
	if err := os.WriteFile(server, []byte("#!/bin/sh\necho 'acme web server listening on :8080'\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	answers := filepath.Join(dir, "answers")
	if err := os.WriteFile(answers, []byte("#!/bin/sh\necho '{\"type\":\"SPEC\",\"spec\":{\"connectionSpecification\":{}}}'\nexec sleep 2\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(path string) string {
		var logs testenv.Buffer
		e, err := New("source-acme", Method{Kind: KindLocal, Path: path},
			Runtime{LogDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		for _, err := range e.Run(ctx, Invocation{Verb: VerbSpec}) {
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s: %v", path, err)
			}
		}
		return logs.String()
	}
	if logs := run(server); !strings.Contains(logs, "answered nothing to spec") || !strings.Contains(logs, "no Airbyte connector") {
		t.Errorf("no warning of a spec that answers nothing:\n%s", logs)
	}
	if logs := run(answers); strings.Contains(logs, "answered nothing") {
		t.Errorf("a warning for a spec that answered:\n%s", logs)
	}
}
