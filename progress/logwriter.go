package progress

import (
	"io"
	"os"
	"sync"
)

// LogWriter returns a writer for log output that shares a terminal with the
// live progress line, so that the two never end up on one line:
//
//	logger := slog.New(slog.NewTextHandler(progress.LogWriter(os.Stderr), nil))
//
// (For slog.Default's own handler, which writes through package log:
// log.SetOutput(progress.LogWriter(os.Stderr)).)
//
// On a terminal, every write first returns to the start of the line and
// erases it, in the same write: a log record replaces the live line instead
// of running on from its end, and the renderer draws the line again below
// it at its next tick. Elsewhere (a pipe, a file, a terminal whose TERM is
// dumb), where the renderer draws no live line, w is returned as it is.
//
// This relies on each log record arriving in one Write, as the handlers of
// log/slog do, and on a terminal not splitting one write(2) — which is why
// the erase and the record go out together, never as two writes a redraw
// could come between.
func LogWriter(w io.Writer) io.Writer {
	f, ok := w.(*os.File)
	if !ok || !redraws(f) {
		return w
	}
	return &lineClearingWriter{f: f}
}

type lineClearingWriter struct {
	f   *os.File
	mu  sync.Mutex // guards buf, reused from write to write
	buf []byte
}

// Write writes clearLine and p in one write.
func (w *lineClearingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(append(w.buf[:0], clearLine...), p...)
	n, err := w.f.Write(w.buf)
	n -= len(clearLine)
	if n < 0 {
		n = 0
	}
	return n, err
}
