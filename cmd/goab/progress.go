package main

import (
	"flag"

	"github.com/x/goairbyte/progress"
)

// progressFlag is --no-progress, shared by read, sync and benchmark.
type progressFlag struct{ off bool }

func addProgressFlag(fs *flag.FlagSet) *progressFlag {
	pf := &progressFlag{}
	fs.BoolVar(&pf.off, "no-progress", false, "show no progress and no summary line on stderr (NO_LIVE_PROGRESS=1 keeps only the summary line)")
	return pf
}

// options are the progress options of the command: the library's renderer
// on goab's stderr (a live line on a terminal, a plain line every few
// seconds elsewhere, the summary line at the end), or nothing with
// --no-progress; in ASCII where the locale is not UTF-8. extra adds
// listeners.
func (pf *progressFlag) options(e *env, extra ...progress.Option) []progress.Option {
	opts := []progress.Option{progress.WithOutput(e.stderr), progress.WithASCII(e.ascii)}
	if pf.off {
		opts = append(opts, progress.WithRenderer(nil))
	}
	return append(opts, extra...)
}
