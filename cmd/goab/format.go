package main

import (
	"encoding/json"
	"flag"
	"math"
	"time"

	"github.com/x/goairbyte/progress"
)

// formatFlag is --format table|json of read, sync, benchmark, connectors
// and validate: table (the default) for people, json for scripts.
func formatFlag(fs *flag.FlagSet) *choice {
	return choiceFlag(fs, "format", "table", "table (for people) or json (one JSON document on stdout, for scripts; the README's goab section lists its fields)", "table", "json")
}

// printDoc writes v, a command's whole result, as one indented JSON
// document on stdout, in one write once it is whole: a command that fails
// has printed nothing of it.
func (e *env) printDoc(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return e.printJSON(append(b, '\n'))
}

// keepFinal is a progress option that stores the operation's final
// snapshot in *s: its time and per-stream rates are what the JSON of
// read, sync and benchmark report.
func keepFinal(s *progress.Snapshot) progress.Option {
	return progress.WithListener(func(snap progress.Snapshot) {
		if snap.Done {
			*s = snap
		}
	})
}

// seconds is d in seconds to the millisecond, as goab's JSON gives times.
func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

// perSecond is n per second over d, to a tenth, as goab's JSON gives
// rates; 0 when no time passed.
func perSecond(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return tenth(n / d.Seconds())
}

// tenth is x rounded to a tenth.
func tenth(x float64) float64 { return math.Round(x*10) / 10 }
