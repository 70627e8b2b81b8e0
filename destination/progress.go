package destination

import (
	"github.com/x/goairbyte/progress"
)

// WithProgress passes options to the progress tracker Write creates (see
// package progress): progress.WithListener to subscribe to snapshots,
// progress.WithOutput, progress.WithLiveProgress(false) for the summary line
// only, progress.WithRenderer(nil) for no output at all. WithProgress() alone
// draws on os.Stderr — a live line on a terminal, a plain line every few
// seconds elsewhere, none when NO_LIVE_PROGRESS is set — and ends with one
// summary line. Without it, Write draws only when the Environment asks
// (connector.Environment.SetProgress): a library is silent by default.
// A logger that writes to the same terminal should write through
// progress.LogWriter.
//
// A Write is one operation, also when it reads its source into a cache
// first: one tracker (progress.OpWrite) follows both steps. Per stream it
// counts the records read from the source (or, for a ReadResult, taken
// from its cache) with their bytes, the records sent to the destination
// (written), those the destination confirmed, the destination states
// committed to the state cache, the stream statuses the source reports and
// the time to the first record.
func WithProgress(opts ...progress.Option) WriteOption {
	// Never nil, even with no options: WithProgress() asks for progress,
	// where a nil list means the Environment's (none by default).
	return func(w *writeSettings) { w.progress = append(append([]progress.Option{}, w.progress...), opts...) }
}

// NoProgress makes Write write no progress and no summary line. Listeners
// given with WithProgress still receive every snapshot.
func NoProgress() WriteOption { return WithProgress(progress.WithRenderer(nil)) }

// WithTracker makes Write report into t, which the caller created and
// finishes, instead of a tracker of its own; WithProgress options are then
// ignored.
func WithTracker(t *progress.Tracker) WriteOption {
	return func(w *writeSettings) { w.tracker = t }
}

// confirmDelta reports to h the records a destination's echo confirmed:
// the growth of the WriteResult's count for the stream, however it was
// worked out (the state's own count, or the records sent before it).
func confirmDelta(h *progress.Stream, before, after int64) {
	if after > before {
		h.Confirmed(int(after - before))
	}
}
