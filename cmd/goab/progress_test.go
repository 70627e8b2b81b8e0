package main_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
)

// goab read with its stderr on a terminal: the live progress line is drawn
// there, the library's and the connector's info logs are written there too,
// and no row of the terminal shows both.
func TestReadOnTerminalKeepsLogsOffTheLiveLine(t *testing.T) {
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine: %v", err)
	}
	defer master.Close()
	if err := pty.Setsize(tty, &pty.Winsize{Rows: 24, Cols: 250}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		io.Copy(&out, master) // ends with EIO once the terminal side is closed
	}()

	cmd := exec.Command(goabBin, "read", "source-faker", "--local-executable", faker(t),
		"--config", `{"count": 200000}`, "--cache", filepath.Join(t.TempDir(), "r.duckdb"))
	cmd.Dir = t.TempDir()
	env := []string{"AIRBYTE_OFFLINE_MODE=1", "GOAIRBYTE_LOG_DIR=" + t.TempDir(), "GOAB_LOG_LEVEL=info"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NO_LIVE_PROGRESS=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, tty
	runErr := cmd.Run()
	tty.Close()
	<-copied
	if runErr != nil {
		t.Fatalf("goab read: %v\n%s\n%q", runErr, stdout.String(), out.String())
	}

	text := out.String()
	if !strings.Contains(text, "\r\x1b[KReading source-faker:") {
		t.Fatalf("no live line on the terminal:\n%q", text)
	}
	var logs, summaries int
	for _, row := range screenRows(text) {
		if i := strings.Index(row, "time="); i >= 0 {
			logs++
			if i > 0 {
				t.Errorf("a log record runs on from other output: %q", row)
			}
		}
		if strings.HasPrefix(row, "Read 400,100 records from source-faker in ") {
			summaries++
		}
	}
	// The faker logs its settings at INFO while the read runs; the progress
	// package's own pty test covers log records arriving mid-line.
	if logs < 1 || summaries != 1 {
		t.Fatalf("%d log rows and %d summary lines on the terminal, want info logs and one summary:\n%q", logs, summaries, text)
	}
}

// screenRows plays terminal output as a terminal shows it — carriage
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
