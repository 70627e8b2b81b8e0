package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// stopRounds is how many times each stop test starts and stops the faker:
// the Docker hang this guards against showed up in about one run of five.
const stopRounds = 12

// TestStopFakerEarly breaks out of and cancels a 1,000,000-user faker read
// many times, locally and in Docker. The faker is blocked writing output
// nobody reads when it is stopped; closing our end first must let it die of
// SIGTERM or EPIPE well inside a generous grace period (never "ignored
// SIGTERM"), and every run must return with nothing left behind.
func TestStopFakerEarly(t *testing.T) {
	// A grace period this long turns "the stop waited for the grace
	// period" into a logged warning instead of a flaky timing check.
	const grace = time.Minute
	t.Run("local", func(t *testing.T) {
		bin := testenv.BuildBinary(t, "./cmd/source-faker")
		logs := &logRecorder{}
		l := build[executor.Executor](t, "source-faker", executor.Method{Kind: executor.KindLocal, Path: bin},
			executor.Runtime{Logger: slog.New(logs), LogDir: t.TempDir(), Grace: grace})
		tmp := privateTemp(t)
		stopRepeatedly(t, l, logs)
		if left := leftovers(t, tmp); len(left) > 0 {
			t.Fatalf("temp files left behind: %v", left)
		}
	})
	t.Run("docker", func(t *testing.T) {
		cli := testenv.Docker(t)
		image := testenv.FakerImage(t, cli)
		logs := &logRecorder{}
		name := fmt.Sprintf("source-faker-stop-%d", time.Now().UnixNano())
		d := build[executor.Executor](t, name, executor.Method{Kind: executor.KindDocker, Image: image, DockerClient: cli},
			executor.Runtime{Logger: slog.New(logs), LogDir: t.TempDir(), Grace: grace, NoInstall: true})
		tmp := privateTemp(t)
		stopRepeatedly(t, d, logs)
		if n := containers(t, cli, d); n != 0 {
			t.Fatalf("%d containers left behind", n)
		}
		if left := leftovers(t, tmp); len(left) > 0 {
			t.Fatalf("temp files left behind: %v", left)
		}
	})
}

func stopRepeatedly(t *testing.T, e executor.Executor, logs *logRecorder) {
	t.Helper()
	inv := executor.Invocation{Verb: executor.VerbRead, Config: fakerConfig, Catalog: usersCatalog}
	for round := range stopRounds {
		// Break out after a few records.
		n := 0
		for m, err := range e.Run(context.Background(), inv) {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if m.Record != nil {
				if n++; n == 3 {
					break
				}
			}
		}
		if n != 3 {
			t.Fatalf("round %d: got %d records before the break", round, n)
		}
		// Cancel after a few thousand, while the faker is writing at full
		// speed: the sequence must end with the cancellation.
		ctx, cancel := context.WithCancel(context.Background())
		n = 0
		var last error
		for m, err := range e.Run(ctx, inv) {
			if err != nil {
				last = err
				break
			}
			if m.Record != nil {
				if n++; n == 5000 {
					cancel()
				}
			}
		}
		cancel()
		if !errors.Is(last, context.Canceled) || n >= 1_000_000 {
			t.Fatalf("round %d: cancelled after 5000 records, got %d records and %v", round, n, last)
		}
	}
	if strings.Contains(logs.text(), "ignored SIGTERM") {
		t.Fatalf("the faker did not stop on SIGTERM within the grace period:\n%s", logs.text())
	}
}

// A connector that ignores SIGTERM is killed after the grace period; the
// error of the cancelled run says so (a library logs nothing unless asked,
// so the warning alone went unseen). One that stops when asked is not
// said to have been killed.
func TestLocalKilledAfterGraceSaysSo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		connector string
		config    string
		killed    bool
	}{
		{"hang", `{}`, true},
		{"echo", `{"count":100000000}`, false},
	} {
		l := newLocal(t, tc.connector, withGrace(300*time.Millisecond))
		ctx, cancel := context.WithCancel(context.Background())
		var last error
		for m, err := range l.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(tc.config), Catalog: itemsCatalog}) {
			if err != nil {
				last = err
				break
			}
			if m.Type == protocol.TypeRecord {
				cancel()
			}
		}
		cancel()
		if !errors.Is(last, context.Canceled) {
			t.Fatalf("%s: want context.Canceled, got %v", tc.connector, last)
		}
		said := strings.Contains(last.Error(), "ignored SIGTERM") && strings.Contains(last.Error(), "killed")
		if said != tc.killed {
			t.Errorf("%s: killed after the grace period: %v; the error: %v", tc.connector, tc.killed, last)
		}
	}
}
