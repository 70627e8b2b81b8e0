// Package ptytest gives tests a real pseudo-terminal and a way to read what
// it shows, for output that behaves differently on a terminal (the live
// progress line, log records that must not run into it).
package ptytest

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// Terminal is a pseudo-terminal: programs write to TTY as to a terminal
// cols wide, and everything they write is collected from the other side.
type Terminal struct {
	// TTY is the terminal side, to hand to the code under test.
	TTY *os.File

	master  *os.File
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every read
	closed  bool
}

// Open opens a pseudo-terminal cols columns wide, closed when the test
// ends. The test is skipped where the system has none.
func Open(t testing.TB, cols uint16) *Terminal {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine: %v", err)
	}
	if err := pty.Setsize(tty, &pty.Winsize{Rows: 24, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	term := &Terminal{TTY: tty, master: master, changed: make(chan struct{})}
	t.Cleanup(func() { master.Close(); tty.Close() })
	go term.collect()
	return term
}

// Type sends s to the terminal as if typed on its keyboard: programs read
// it from TTY, and the terminal echoes it as it does typing.
func (term *Terminal) Type(t testing.TB, s string) {
	t.Helper()
	if _, err := term.master.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func (term *Terminal) collect() {
	chunk := make([]byte, 4096)
	for {
		n, err := term.master.Read(chunk)
		term.mu.Lock()
		term.buf.Write(chunk[:n])
		term.closed = err != nil
		close(term.changed)
		term.changed = make(chan struct{})
		term.mu.Unlock()
		if err != nil { // EIO once the terminal side is closed
			return
		}
	}
}

// Wait returns what arrived so far once done says it is complete, or once
// the terminal side is closed. Ten seconds without that fail the test: a
// guard against a hang, not a timing assertion.
func (term *Terminal) Wait(t testing.TB, done func(out string) bool) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		term.mu.Lock()
		out, closed, changed := term.buf.String(), term.closed, term.changed
		term.mu.Unlock()
		if closed || done(out) {
			return out
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("the terminal output never completed; so far:\n%q", out)
		}
	}
}

// Rows plays terminal output the way a terminal shows it — carriage
// return, erase to the end of the line, newline — and returns the rows.
func Rows(out string) []string {
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
