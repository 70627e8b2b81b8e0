package progress

import (
	"io"
	"os"
	"time"
	"unicode"

	"github.com/x/goairbyte/internal/termsafe"
	"golang.org/x/term"
	"golang.org/x/text/width"
)

// Terminal control: return to the start of the line and erase it.
const clearLine = "\r\x1b[K"

// textRenderer is the default renderer. It is only ever called from one
// goroutine at a time (see Tracker.publish), so it needs no lock.
type textRenderer struct {
	w          io.Writer
	mask       func(string) string
	live       bool
	glyphs     glyphs
	tty        bool
	fd         int
	plainEvery time.Duration
	nextPlain  time.Duration
	drawn      bool // a live line is on the screen and must be erased first
}

// glyphs are the characters beyond letters and digits that the renderer
// draws, in Unicode or in ASCII (see WithASCII).
type glyphs struct {
	sep      string // between the parts of the live line
	ellipsis string // where a line is cut to fit the terminal
}

var (
	unicodeGlyphs = glyphs{sep: " ·", ellipsis: "…"}
	asciiGlyphs   = glyphs{sep: " |", ellipsis: "..."}
)

func newTextRenderer(w io.Writer, mask func(string) string, live, ascii bool, plainEvery time.Duration) *textRenderer {
	r := &textRenderer{w: w, mask: mask, live: live, glyphs: unicodeGlyphs, plainEvery: plainEvery, nextPlain: plainEvery}
	if ascii {
		r.glyphs = asciiGlyphs
	}
	if f, ok := w.(*os.File); ok && redraws(f) {
		r.tty, r.fd = true, int(f.Fd())
	}
	return r
}

// redraws reports whether f is a terminal that can redraw a line: a
// terminal whose TERM is not "dumb" (an editor's shell buffer, a serial
// console), which shows an erase sequence as text and keeps every redraw.
// Elsewhere lines are written plain, as to a file.
func redraws(f *os.File) bool {
	return term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb"
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
		width := r.width() // asked once a draw: an ioctl
		io.WriteString(r.w, clearLine+r.fit(r.liveLine(s, width), width))
		r.drawn = true
		return
	}
	if s.Elapsed >= r.nextPlain {
		io.WriteString(r.w, r.masked(s.progressLine(r.glyphs.sep, maxLineStreams))+"\n")
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

// liveLine is the progress line for the terminal. Where the line counts the
// streams it leaves out, it names fewer of them until that count and the
// elapsed time fit the width: on a narrow terminal the count is what tells
// how much is going on, so it must not be what fit cuts off. width is the
// terminal's (0: unknown).
func (r *textRenderer) liveLine(s Snapshot, width int) string {
	picked, complete := s.rankedStreams(maxLineStreams), s.complete()
	line := r.masked(s.lineOf(r.glyphs.sep, picked, complete))
	if len(s.Streams) <= maxLineStreams {
		return line
	}
	for most := len(picked) - 1; most > 0 && width > 0 && lineColumns(line) > width-1; most-- {
		line = r.masked(s.lineOf(r.glyphs.sep, picked[:most], complete))
	}
	return line
}

// width is the terminal's width in columns, or 0 when it cannot be told.
func (r *textRenderer) width() int {
	width, _, err := term.GetSize(r.fd)
	if err != nil {
		return 0
	}
	return width
}

// lineColumns is how many columns of a terminal line takes.
func lineColumns(line string) int {
	n := 0
	for _, c := range line {
		n += columns(c)
	}
	return n
}

// fit cuts line to the terminal's width (0: unknown, the line stays
// whole): a line that wraps cannot be redrawn
// in place by a carriage return. Columns are counted as terminals count
// them, since stream names may be in any script: two for East Asian wide
// characters, none for combining marks.
func (r *textRenderer) fit(line string, width int) string {
	ell := r.glyphs.ellipsis
	ellCols := len([]rune(ell))
	if width <= ellCols {
		return line
	}
	cols, cut := 0, -1
	for i, c := range line {
		w := columns(c)
		if cut < 0 && cols+w > width-1-ellCols {
			cut = i // where the line is cut if it does not fit
		}
		if cols += w; cols > width-1 {
			return line[:cut] + ell
		}
	}
	return line
}

// columns is how many columns of a terminal r takes.
func columns(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me):
		return 0
	case r >= 0x1100:
		if k := width.LookupRune(r).Kind(); k == width.EastAsianWide || k == width.EastAsianFullwidth {
			return 2
		}
	}
	return 1
}
