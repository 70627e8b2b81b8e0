package executor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// itemsCatalog is a configured catalog with the test connectors' stream.
var itemsCatalog = json.RawMessage(`{"streams":[{"stream":{"name":"items","json_schema":{"type":"object"},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`)

// collect runs the whole sequence and returns its messages and its error.
func collect(seq iter.Seq2[*protocol.Message, error]) ([]*protocol.Message, error) {
	var msgs []*protocol.Message
	for m, err := range seq {
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// streamEnd reports whether m is a STREAM_STATUS COMPLETE, as kit ends
// each stream of a read that succeeds.
func streamEnd(m *protocol.Message) bool {
	return m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.StreamStatus != nil &&
		m.Trace.StreamStatus.Status == protocol.StatusComplete
}

func count(msgs []*protocol.Message, t protocol.Type) int {
	n := 0
	for _, m := range msgs {
		if m.Type == t && m.Unparsed == nil {
			n++
		}
	}
	return n
}

// privateTemp points os.TempDir at a fresh directory for this test and
// returns it, so that what a run leaves behind in it can be seen. Build the
// connectors first: testenv keeps its binaries under the first TMPDIR.
func privateTemp(t *testing.T) string {
	d := t.TempDir()
	t.Setenv("TMPDIR", d)
	return d
}

func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "goairbyte-") {
			names = append(names, e.Name())
		}
	}
	return names
}

// alive reports whether pid is a live process (a zombie is dead).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

func itoa(i int) string { return strings.TrimSpace(string(json.RawMessage(mustJSON(i)))) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// logRecorder is a slog handler that keeps every message and attribute.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.Key + "=" + a.Value.String()); return true })
	l.mu.Lock()
	l.lines = append(l.lines, b.String())
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }
func (l *logRecorder) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func asConnectorError(t *testing.T, err error) *executor.ConnectorError {
	t.Helper()
	var ce *executor.ConnectorError
	if !errors.As(err, &ce) {
		t.Fatalf("want a *ConnectorError, got %T: %v", err, err)
	}
	return ce
}

// tweak adjusts the Method and Runtime a test builds an executor with.
type tweak func(*executor.Method, *executor.Runtime)

func build[E executor.Executor](t testing.TB, name string, m executor.Method, rt executor.Runtime, tweaks ...tweak) E {
	t.Helper()
	for _, tw := range tweaks {
		tw(&m, &rt)
	}
	ex, err := executor.New(name, m, rt)
	if err != nil {
		t.Fatal(err)
	}
	return ex.(E)
}

func withGrace(d time.Duration) tweak {
	return func(_ *executor.Method, rt *executor.Runtime) { rt.Grace = d }
}
func withLogger(l *slog.Logger) tweak {
	return func(_ *executor.Method, rt *executor.Runtime) { rt.Logger = l }
}
func withMask(f func(string) string) tweak {
	return func(_ *executor.Method, rt *executor.Runtime) { rt.Mask = f }
}
func withEnv(vars ...string) tweak {
	return func(m *executor.Method, _ *executor.Runtime) { m.Env = append(m.Env, vars...) }
}
func withMount(host, container string) tweak {
	return func(m *executor.Method, _ *executor.Runtime) {
		m.Mounts = append(m.Mounts, executor.Mount{HostDir: host, ContainerDir: container})
	}
}
func withHostNetwork() tweak {
	return func(m *executor.Method, _ *executor.Runtime) { m.HostNetwork = true }
}

func slogOf(l *logRecorder) *slog.Logger { return slog.New(l) }
func withLinger(d time.Duration) tweak {
	return func(_ *executor.Method, rt *executor.Runtime) { rt.LingerGrace = d }
}

// venvOf is the virtualenv of a Python executor.
func venvOf(e executor.Executor) string {
	return filepath.Join(e.Method().InstallRoot, ".venv-"+e.Name())
}

// installedVersion asks an executor which version it runs.
func installedVersion(t testing.TB, e executor.Executor) (string, error) {
	t.Helper()
	v, ok := e.(interface {
		InstalledVersion(ctx context.Context) (string, error)
	})
	if !ok {
		t.Fatalf("%s cannot tell its version", e)
	}
	return v.InstalledVersion(context.Background())
}
