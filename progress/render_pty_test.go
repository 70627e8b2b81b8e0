package progress

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/x/goairbyte/internal/ptytest"
)

// ptyOutput opens a pseudo-terminal of the given width. wait returns what
// was written to it once the summary line (the first newline, which the
// terminal turns into \r\n) has arrived.
func ptyOutput(t *testing.T, cols uint16) (tty *os.File, wait func() string) {
	t.Helper()
	t.Setenv("TERM", "xterm") // one that redraws, wherever the tests run
	term := ptytest.Open(t, cols)
	return term.TTY, func() string {
		return term.Wait(t, func(out string) bool { return strings.Contains(out, "\n") })
	}
}

func TestRendererOnTerminalRedrawsOneLine(t *testing.T) {
	t.Setenv("NO_LIVE_PROGRESS", "")
	tty, wait := ptyOutput(t, 200)
	h := newHarness(t, OpRead, "source-faker", WithOutput(tty))
	products, users := h.tr.Stream("products"), h.tr.Stream("users")
	h.tr.Stream("purchases")
	products.Read(100, 10_000)
	products.SetStatus("COMPLETE")
	for range 3 {
		users.Read(250, 75_000)
		h.tick(t, 500*time.Millisecond)
	}
	h.tr.Finish(nil)
	out := wait()

	summary := "Read 850 records from source-faker in 1.50 s (567 rec/s, 0.2 MB/s): products 100, users 750, purchases 0\r\n"
	if !strings.HasSuffix(out, clearLine+summary) {
		t.Fatalf("terminal output does not end with the cleared line and the summary:\n%q", out)
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("want exactly one line break (after the summary), got:\n%q", out)
	}
	// Three redraws in place, then the erase before the summary.
	if n := strings.Count(out, clearLine); n != 4 {
		t.Fatalf("want 4 carriage-return-and-erase sequences, got %d:\n%q", n, out)
	}
	want := clearLine + "Reading source-faker: products 100 · users 500 rec (500 rec/s, 0.1 MB/s) · purchases 0 · 1.0 s"
	if !strings.Contains(out, want) {
		t.Fatalf("live line %q missing from:\n%q", want, out)
	}
}

// liveLineOn40Columns is the first live line drawn on a 40-column
// terminal for a read of streams of these names.
func liveLineOn40Columns(t *testing.T, streams ...string) string {
	t.Setenv("NO_LIVE_PROGRESS", "")
	tty, wait := ptyOutput(t, 40)
	h := newHarness(t, OpRead, "source-faker", WithOutput(tty))
	for _, name := range streams {
		h.tr.Stream(name).Read(1000, 1000)
	}
	h.tick(t, time.Second)
	h.tr.Finish(nil)
	return strings.Split(wait(), clearLine)[1]
}

func TestRendererOnTerminalFitsTheWidth(t *testing.T) {
	live := liveLineOn40Columns(t, "products", "users", "purchases")
	if n := utf8.RuneCountInString(live); n != 39 || !strings.HasSuffix(live, "…") {
		t.Fatalf("live line %q has %d runes, want it cut to 39 for a 40-column terminal", live, n)
	}
}

// TestRendererOnTerminalFitsWideNames: stream names in CJK take two columns
// a character; a line cut by its runes alone wraps, and each redraw then
// leaves a copy of its first row on the screen.
func TestRendererOnTerminalFitsWideNames(t *testing.T) {
	live := liveLineOn40Columns(t, "用户用户", "产品产品", "订单订单")
	cols := 0
	for _, r := range live {
		cols++
		if r >= 0x4e00 && r <= 0x9fff {
			cols++ // a CJK ideograph is two columns wide
		}
	}
	if cols < 38 || cols > 39 || !strings.HasSuffix(live, "…") {
		t.Fatalf("live line %q takes %d columns, want it cut to 39 (38 before a wide character) for a 40-column terminal", live, cols)
	}
}

// WithASCII: the live line on a terminal whose locale is not UTF-8 has
// " | " between its parts and "..." where it is cut, and its bytes are all
// ASCII, as are those of the plain lines written elsewhere.
func TestRendererInASCII(t *testing.T) {
	t.Setenv("NO_LIVE_PROGRESS", "")
	tty, wait := ptyOutput(t, 60)
	h := newHarness(t, OpRead, "source-faker", WithOutput(tty), WithASCII(true))
	for _, name := range []string{"products", "users", "purchases"} {
		h.tr.Stream(name).Read(1000, 1000)
	}
	h.tick(t, time.Second)
	h.tr.Finish(nil)
	live := strings.Split(wait(), clearLine)[1]
	want := "Reading source-faker: products 1,000 rec (1,000 rec/s, 0..."
	if live != want {
		t.Fatalf("live line on 60 columns\n got  %q\n want %q", live, want)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	h = newHarness(t, OpRead, "source-faker", WithOutput(w), withPlainInterval(time.Second), WithASCII(true))
	h.tr.Stream("users").Read(10, 10)
	h.tr.Stream("purchases")
	h.tick(t, time.Second)
	h.tr.Finish(nil)
	w.Close()
	out, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, os.ErrClosed) {
		t.Fatal(err)
	}
	if want := "Reading source-faker: users 10 rec (10 rec/s, 0.0 MB/s) | purchases 0 | 1.0 s\n"; !strings.HasPrefix(string(out), want) {
		t.Fatalf("pipe output %q, want it to start with %q", out, want)
	}
}

func TestRendererOnTerminalWithoutLiveProgress(t *testing.T) {
	t.Setenv("NO_LIVE_PROGRESS", "yes")
	tty, wait := ptyOutput(t, 200)
	h := newHarness(t, OpRead, "source-faker", WithOutput(tty))
	h.tr.Stream("users").Read(10, 10)
	h.tick(t, time.Second)
	h.tr.Finish(nil)
	out := wait()
	if want := "Read 10 records from source-faker in 1.00 s (10 rec/s, 0.0 MB/s): users 10\r\n"; out != want {
		t.Fatalf("output %q, want only the summary %q", out, want)
	}
}

// The renderer must not take a pipe or a file for a terminal.
func TestRendererOnPipeIsPlain(t *testing.T) {
	t.Setenv("NO_LIVE_PROGRESS", "")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, OpRead, "source-faker", WithOutput(w), withPlainInterval(time.Second))
	h.tr.Stream("users").Read(10, 10)
	h.tick(t, time.Second)
	h.tr.Finish(nil)
	w.Close()
	out, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, os.ErrClosed) {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "\r") || strings.Count(string(out), "\n") != 2 {
		t.Fatalf("pipe output %q, want one plain progress line and the summary", out)
	}
}

// A terminal whose TERM is dumb (an editor's shell buffer, a serial
// console) does not erase a line: it shows "\x1b[K" as it is, and every
// redraw stays on the screen. There the renderer writes plain lines, as to
// a pipe, and LogWriter leaves the terminal as it is.
func TestDumbTerminalGetsPlainLines(t *testing.T) {
	t.Setenv("NO_LIVE_PROGRESS", "")
	t.Setenv("TERM", "dumb")
	term := ptytest.Open(t, 200)
	tty := term.TTY
	if LogWriter(tty) != io.Writer(tty) {
		t.Error("LogWriter wrapped a dumb terminal")
	}
	h := newHarness(t, OpRead, "source-faker", WithOutput(tty), withPlainInterval(time.Second))
	h.tr.Stream("users").Read(10, 10)
	h.tick(t, time.Second)
	h.tr.Finish(nil)
	out := term.Wait(t, func(out string) bool { return strings.HasSuffix(out, "users 10\r\n") })
	if strings.ContainsAny(out, "\x1b") {
		t.Fatalf("escape sequences sent to a dumb terminal:\n%q", out)
	}
	if !strings.HasPrefix(out, "Reading source-faker: users 10 rec") {
		t.Fatalf("output %q, want a plain progress line first", out)
	}
}

// With more streams than the live line names, it names fewer on a narrow
// terminal rather than let the cut take the count of the others and the
// elapsed time: on 100 columns, one stream of twenty, then the count.
func TestRendererOnTerminalKeepsTheCount(t *testing.T) {
	t.Setenv("NO_LIVE_PROGRESS", "")
	tty, wait := ptyOutput(t, 100)
	h := newHarness(t, OpRead, "source-faker", WithOutput(tty))
	for i := range 20 {
		h.tr.Stream(fmt.Sprintf("s%02d", i)).Read(1000, 1000)
	}
	h.tick(t, time.Second)
	h.tr.Finish(nil)
	live := strings.Split(wait(), clearLine)[1]
	if want := "Reading source-faker: s00 1,000 rec (1,000 rec/s, 0.0 MB/s) · +19 more, 0 complete · 1.0 s"; live != want {
		t.Fatalf("live line on 100 columns\n got  %q\n want %q", live, want)
	}
}
