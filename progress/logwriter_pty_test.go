package progress

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// screenRows plays terminal output the way a terminal shows it — carriage
// return, erase to the end of the line, newline — and returns the rows.
func screenRows(out string) []string {
	var rows []string
	var row []rune
	col := 0
	for i := 0; i < len(out); {
		switch {
		case strings.HasPrefix(out[i:], "\x1b[K"):
			row = row[:min(col, len(row))]
			i += len("\x1b[K")
			continue
		case out[i] == '\r':
			col = 0
		case out[i] == '\n':
			rows = append(rows, string(row))
			row, col = nil, 0
		default:
			r := []rune(out[i:])[0]
			if col < len(row) {
				row[col] = r
			} else {
				row = append(row, r)
			}
			col++
			i += len(string(r))
			continue
		}
		i++
	}
	if len(row) > 0 {
		rows = append(rows, string(row))
	}
	return rows
}

// drawAndLog draws the live line, logs, draws it again, logs again and
// finishes, all on one pseudo-terminal, with the logger writing through
// wrap(tty). It returns the rows the terminal shows.
func drawAndLog(t *testing.T, wrap func(io.Writer) io.Writer) []string {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine: %v", err)
	}
	if err := pty.Setsize(tty, &pty.Winsize{Rows: 24, Cols: 200}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close(); tty.Close() })
	var (
		mu   sync.Mutex
		buf  bytes.Buffer
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		chunk := make([]byte, 4096)
		for {
			n, err := master.Read(chunk)
			mu.Lock()
			buf.Write(chunk[:n])
			s := buf.String()
			mu.Unlock()
			// The summary line is the last thing written.
			if i := strings.Index(s, "Read 20 records"); (i >= 0 && strings.Contains(s[i:], "\n")) || err != nil {
				return
			}
		}
	}()

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

	select {
	case <-done:
	case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("no summary line arrived on the terminal")
	}
	mu.Lock()
	defer mu.Unlock()
	out := buf.String()
	if strings.Count(out, "Reading source-faker") != 2 {
		t.Fatalf("want the live line drawn twice before the logs, got:\n%q", out)
	}
	return screenRows(out)
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
