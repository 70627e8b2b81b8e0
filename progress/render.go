package progress

import (
	"io"
	"os"
	"time"

	"github.com/x/goairbyte/internal/termsafe"
	"golang.org/x/term"
)

// Terminal control: return to the start of the line and erase it.
const clearLine = "\r\x1b[K"

// textRenderer is the default renderer. It is only ever called from one
// goroutine at a time (see Tracker.publish), so it needs no lock.
type textRenderer struct {
	w          io.Writer
	mask       func(string) string
	live       bool
	tty        bool
	fd         int
	plainEvery time.Duration
	nextPlain  time.Duration
	drawn      bool // a live line is on the screen and must be erased first
}

func newTextRenderer(w io.Writer, mask func(string) string, live bool, plainEvery time.Duration) *textRenderer {
	r := &textRenderer{w: w, mask: mask, live: live, plainEvery: plainEvery, nextPlain: plainEvery}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.tty, r.fd = true, int(f.Fd())
	}
	return r
}

// render draws s. Write errors are ignored: a closed terminal must not fail a
// sync.
func (r *textRenderer) render(s Snapshot) {
	if s.Done {
		line := r.masked(s.summary()) + "\n"
		if r.drawn {
			line = clearLine + line
			r.drawn = false
		}
		io.WriteString(r.w, line)
		return
	}
	if !r.live {
		return
	}
	if r.tty {
		io.WriteString(r.w, clearLine+r.fit(r.masked(s.progressLine())))
		r.drawn = true
		return
	}
	if s.Elapsed >= r.nextPlain {
		io.WriteString(r.w, r.masked(s.progressLine())+"\n")
		// Keep to the cadence even when a tick comes late.
		r.nextPlain = (s.Elapsed/r.plainEvery + 1) * r.plainEvery
	}
}

// masked makes line fit to show: secrets masked, and the control
// characters a connector may have put in its names escaped.
func (r *textRenderer) masked(line string) string {
	if r.mask != nil {
		line = r.mask(line)
	}
	return termsafe.String(line)
}

// fit cuts line to the terminal's width: a line that wraps cannot be redrawn
// in place by a carriage return.
func (r *textRenderer) fit(line string) string {
	width, _, err := term.GetSize(r.fd)
	if err != nil || width <= 1 {
		return line
	}
	runes := []rune(line)
	if len(runes) < width {
		return line
	}
	return string(runes[:width-2]) + "…"
}
