package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// lastWordsCount is how many states the lastwords connectors emit once
// they are told to stop.
const lastWordsCount = 1000

// TestCancelledWriteDrains cancels a run of the lastwords connector once
// its first STATE has come; stopping (SIGTERM, or its context in process),
// it emits lastWordsCount more. A write yields all of them before the
// cancellation, as a destination's last echoes must be; a read yields none
// (its output is not wanted once it is cancelled). Locally, in Docker and
// in process.
func TestCancelledWriteDrains(t *testing.T) {
	t.Parallel()
	t.Run("local", func(t *testing.T) {
		t.Parallel()
		bin := testenv.BuildBinary(t, "./internal/testconnectors/lastwords")
		e := build[executor.Executor](t, "destination-lastwords", executor.Method{Kind: executor.KindLocal, Path: bin},
			executor.Runtime{LogDir: t.TempDir()})
		checkDrains(t, e, itemsCatalog)
	})
	t.Run("docker", func(t *testing.T) {
		t.Parallel()
		e, cli := newDocker(t, "lastwords")
		checkDrains(t, e, itemsCatalog)
		if n := containers(t, cli, e); n != 0 {
			t.Fatalf("%d containers left behind", n)
		}
	})
	t.Run("inprocess", func(t *testing.T) {
		t.Parallel()
		checkDrains(t, inProcess(t, &goLastWords{}, executor.Runtime{}), itemsCatalogInProcess)
	})
}

// checkDrains runs e's write and read, each cancelled after its first
// state, and checks what came after.
func checkDrains(t *testing.T, e executor.Executor, catalog json.RawMessage) {
	t.Helper()
	for _, verb := range []executor.Verb{executor.VerbWrite, executor.VerbRead} {
		inv := executor.Invocation{Verb: verb, Catalog: catalog}
		if verb == executor.VerbWrite {
			inv.Stdin = strings.NewReader("")
		}
		ctx, cancel := context.WithCancel(context.Background())
		var cursors []int
		var last error
		for m, err := range e.Run(ctx, inv) {
			if err != nil {
				last = err
				break
			}
			if m.State == nil {
				continue
			}
			var v struct{ Cursor int }
			if err := json.Unmarshal(m.State.Stream.StreamState, &v); err != nil {
				t.Fatal(err)
			}
			cursors = append(cursors, v.Cursor)
			if v.Cursor == 0 {
				cancel()
			}
		}
		cancel()
		if !errors.Is(last, context.Canceled) {
			t.Fatalf("%s: the cancelled run ended with %v, want the cancellation", verb, last)
		}
		want := 1
		if verb == executor.VerbWrite {
			want += lastWordsCount
		}
		if len(cursors) != want || cursors[len(cursors)-1] != want-1 {
			t.Errorf("%s: got %d states (the last of cursor %d), want %d: the first and, for a write only, those emitted while it stopped",
				verb, len(cursors), cursors[len(cursors)-1], want)
		}
	}
}

// goLastWords is the lastwords connector in process: read and write emit
// a state, then lastWordsCount more once their context is cancelled (flush
// later), or with forever more until emit fails.
type goLastWords struct {
	goDestination
	forever bool
	flush   time.Duration
}

func (*goLastWords) Discover(ctx context.Context, config json.RawMessage) (*protocol.Catalog, error) {
	return &protocol.Catalog{}, nil
}

func (c *goLastWords) Read(ctx context.Context, _ json.RawMessage, _ *protocol.ConfiguredCatalog, _ json.RawMessage,
	emit func(*protocol.Message) error) error {
	return c.say(ctx, emit)
}

func (c *goLastWords) Write(ctx context.Context, _ json.RawMessage, _ *protocol.ConfiguredCatalog,
	_ iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	return c.say(ctx, emit)
}

func (c *goLastWords) say(ctx context.Context, emit func(*protocol.Message) error) error {
	state := func(i int) *protocol.Message {
		return &protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream, Stream: &protocol.StreamState{
			StreamDescriptor: protocol.StreamDescriptor{Name: "items"}, StreamState: json.RawMessage(`{"cursor":` + itoa(i) + `}`)}}}
	}
	if err := emit(state(0)); err != nil {
		return err
	}
	<-ctx.Done()
	time.Sleep(c.flush)
	for i := 1; i <= lastWordsCount || c.forever; i++ {
		if err := emit(state(i)); err != nil {
			return err
		}
	}
	return nil
}

// TestCancelledWriteFlushes cancels a write of a lastwords that takes 3 s
// to flush once told to stop, less than the 5 s the kit gives a connector
// (kit's cancelGrace), before it echoes its last states: with the default
// grace period they all come, locally, in Docker and in process. With the
// 2 s of a read, it was killed (or, in process, no longer listened to)
// before its echoes, and the next Write sent the records they confirm
// again.
func TestCancelledWriteFlushes(t *testing.T) {
	t.Parallel()
	const flush = 3 * time.Second
	config := json.RawMessage(`{"flush_ms":3000}`)
	t.Run("local", func(t *testing.T) {
		t.Parallel()
		bin := testenv.BuildBinary(t, "./internal/testconnectors/lastwords")
		e := build[executor.Executor](t, "destination-lastwords", executor.Method{Kind: executor.KindLocal, Path: bin},
			executor.Runtime{LogDir: t.TempDir()})
		checkFlushed(t, e, config, itemsCatalog)
	})
	t.Run("docker", func(t *testing.T) {
		t.Parallel()
		e, cli := newDocker(t, "lastwords")
		checkFlushed(t, e, config, itemsCatalog)
		if n := containers(t, cli, e); n != 0 {
			t.Fatalf("%d containers left behind", n)
		}
	})
	t.Run("inprocess", func(t *testing.T) {
		t.Parallel()
		checkFlushed(t, inProcess(t, &goLastWords{flush: flush}, executor.Runtime{}), nil, itemsCatalogInProcess)
	})
}

// checkFlushed runs e's write, cancelled after its first state, and wants
// every state the connector emitted while it stopped.
func checkFlushed(t *testing.T, e executor.Executor, config, catalog json.RawMessage) {
	t.Helper()
	states, last := cancelledWrite(e, executor.Invocation{Verb: executor.VerbWrite, Config: config, Catalog: catalog, Stdin: strings.NewReader("")})
	if !errors.Is(last, context.Canceled) || strings.Contains(last.Error(), "killed") {
		t.Fatalf("the cancelled write ended with %v, want the cancellation alone", last)
	}
	if states != 1+lastWordsCount {
		t.Errorf("%d states came, want the first and the %d it echoed once its flush was done", states, lastWordsCount)
	}
}

// cancelledWrite runs inv on e, cancelled once its first state has come,
// and returns how many states came and the error it ended with.
func cancelledWrite(e executor.Executor, inv executor.Invocation) (states int, last error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for m, err := range e.Run(ctx, inv) {
		if err != nil {
			return states, err
		}
		if m.State != nil {
			if states++; states == 1 {
				cancel()
			}
		}
	}
	return states, nil
}

// TestCancelledWriteDrainIsBounded cancels a write of a lastwords that
// never stops emitting states once told to stop: draining its output must
// not hold the run past the grace period, after which it is killed as any
// connector that ignores SIGTERM, locally and in Docker; in process, the
// run stops taking its messages (its emit fails).
func TestCancelledWriteDrainIsBounded(t *testing.T) {
	t.Parallel()
	// The grace period is shorter than the kit's own, so that the kill is
	// ours.
	const grace = 300 * time.Millisecond
	t.Run("local", func(t *testing.T) {
		t.Parallel()
		bin := testenv.BuildBinary(t, "./internal/testconnectors/lastwords")
		logs := &logRecorder{}
		e := build[executor.Executor](t, "destination-lastwords", executor.Method{Kind: executor.KindLocal, Path: bin},
			executor.Runtime{LogDir: t.TempDir(), Grace: grace, Logger: slogOf(logs)})
		checkDrainKilled(t, e, logs)
	})
	t.Run("docker", func(t *testing.T) {
		t.Parallel()
		logs := &logRecorder{}
		e, cli := newDocker(t, "lastwords", withGrace(grace), withLogger(slogOf(logs)))
		checkDrainKilled(t, e, logs)
		if n := containers(t, cli, e); n != 0 {
			t.Fatalf("%d containers left behind", n)
		}
	})
	t.Run("inprocess", func(t *testing.T) {
		t.Parallel()
		checkDrainKilled(t, inProcess(t, &goLastWords{forever: true}, executor.Runtime{Grace: grace}), nil)
	})
}

func checkDrainKilled(t *testing.T, e executor.Executor, logs *logRecorder) {
	t.Helper()
	inv := executor.Invocation{Verb: executor.VerbWrite, Config: json.RawMessage(`{"count":-1}`), Catalog: itemsCatalog,
		Stdin: strings.NewReader("")}
	if logs == nil { // in process
		inv.Catalog = itemsCatalogInProcess
	}
	states, last := cancelledWrite(e, inv)
	if !errors.Is(last, context.Canceled) {
		t.Fatalf("the cancelled write ended with %v after %d states, want the cancellation", last, states)
	}
	if states < 2 {
		t.Errorf("%d states came, want the first and some emitted while it stopped", states)
	}
	if logs != nil && !strings.Contains(logs.text(), "ignored SIGTERM; killing it") {
		t.Errorf("the connector was not killed at the end of the grace period; the log says:\n%s", logs.text())
	}
}
