package progress

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/ptytest"
)

// drawAndLog draws the live line, logs, draws it again, logs again and
// finishes, all on one pseudo-terminal, with the logger writing through
// wrap(tty). It returns the rows the terminal shows.
func drawAndLog(t *testing.T, wrap func(io.Writer) io.Writer) []string {
	t.Helper()
	t.Setenv("TERM", "xterm") // one that redraws, wherever the tests run
	term := ptytest.Open(t, 200)
	tty := term.TTY
	h := newHarness(t, OpRead, "source-faker", WithOutput(tty))
	logger := slog.New(slog.NewTextHandler(wrap(tty), nil))
	users := h.tr.Stream("users")
	users.Read(10, 1000)
	h.tick(t, time.Second)
	logger.Warn("the connector is slow", "connector", "source-faker")
	users.Read(10, 1000)
	h.tick(t, time.Second)
	logger.Info("read finished", "records", 20)
	h.tr.Finish(nil)

	// The summary line is the last thing written.
	out := term.Wait(t, func(s string) bool {
		i := strings.Index(s, "Read 20 records")
		return i >= 0 && strings.Contains(s[i:], "\n")
	})
	if strings.Count(out, "Reading source-faker") != 2 {
		t.Fatalf("want the live line drawn twice before the logs, got:\n%q", out)
	}
	return ptytest.Rows(out)
}

func TestLogWriterKeepsLogsOffTheLiveLine(t *testing.T) {
	t.Setenv("NO_LIVE_PROGRESS", "")
	rows := drawAndLog(t, LogWriter)
	if len(rows) != 3 {
		t.Fatalf("want 3 rows on the terminal (two log records, the summary), got %d:\n%s", len(rows), strings.Join(rows, "\n"))
	}
	for i, want := range []string{"msg=\"the connector is slow\"", "msg=\"read finished\"", "Read 20 records from source-faker"} {
		if !strings.Contains(rows[i], want) || (i < 2 && strings.Contains(rows[i], "Reading")) || (i < 2 && !strings.HasPrefix(rows[i], "time=")) {
			t.Errorf("row %d is %q, want only a line with %q", i, rows[i], want)
		}
	}
}

// Without LogWriter the log record runs on from the live line: the
// situation LogWriter exists for, and proof that the test above can fail.
func TestLogsWithoutLogWriterMixWithTheLiveLine(t *testing.T) {
	t.Setenv("NO_LIVE_PROGRESS", "")
	rows := drawAndLog(t, func(w io.Writer) io.Writer { return w })
	if !strings.HasPrefix(rows[0], "Reading source-faker") || !strings.Contains(rows[0], "time=") {
		t.Fatalf("first row %q: expected the live line and the log record mixed", rows[0])
	}
}

// Off a terminal LogWriter changes nothing.
func TestLogWriterOffTerminalIsTheWriter(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if LogWriter(w) != io.Writer(w) {
		t.Fatal("LogWriter wrapped a pipe")
	}
	var b bytes.Buffer
	if LogWriter(&b) != io.Writer(&b) {
		t.Fatal("LogWriter wrapped a buffer")
	}
}
