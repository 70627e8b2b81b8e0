package executor_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/x/goairbyte/executor"
)

// A local connector killed by a signal it did not get from us (the
// kernel's out-of-memory killer sends SIGKILL; a crash is SIGSEGV or
// SIGABRT) failed with "exit status -1" and nothing else. The error now
// names the signal, and for SIGKILL its usual sender.
func TestLocalKilledBySignal(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no signals on Windows")
	}
	for _, tc := range []struct {
		signal string
		want   []string
	}{
		{"KILL", []string{"signal SIGKILL", "out of memory"}},
		{"SEGV", []string{"signal SIGSEGV"}},
	} {
		p := filepath.Join(t.TempDir(), "source-"+tc.signal)
		if err := os.WriteFile(p, []byte("#!/bin/sh\necho 'about to die' >&2\nkill -"+tc.signal+" $$\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		ex := build[executor.Executor](t, "source-signal", executor.Method{Kind: executor.KindLocal, Path: p}, executor.Runtime{LogDir: t.TempDir()})
		_, err := collect(ex.Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec}))
		ce := asConnectorError(t, err)
		if ce.ExitCode != -1 {
			t.Fatalf("%s: want exit status -1, got %v", tc.signal, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: the error does not say %q: %v", tc.signal, w, err)
			}
		}
		if tc.signal != "KILL" && strings.Contains(err.Error(), "out of memory") {
			t.Errorf("%s: blamed on memory: %v", tc.signal, err)
		}
	}
}
