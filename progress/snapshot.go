package progress

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/x/goairbyte/internal/humanize"
	"github.com/x/goairbyte/protocol"
)

// Snapshot is the state of an operation at one moment. It is a plain value:
// listeners may keep it.
type Snapshot struct {
	// Operation is OpRead or OpWrite, as given to New.
	Operation Operation
	// Connector is the name of the connector read or written, as given to
	// New.
	Connector string
	// Elapsed is the time since the tracker was created.
	Elapsed time.Duration
	// Streams holds one entry per stream, in the order they first appeared.
	Streams []StreamSnapshot
	// Total sums the streams. Its rates are over Elapsed; its recent rates
	// are the sum of the streams'; its TimeToFirstRecord is the earliest.
	// StatesCommitted also counts GLOBAL and LEGACY states.
	Total Stats
	// Done is set on the final snapshot, the one Finish returns.
	Done bool
	// Err is the error Finish was given; nil on success.
	Err error
}

// StreamSnapshot is one stream's part of a [Snapshot].
type StreamSnapshot struct {
	// Name is the stream's name, as given to Tracker.Stream.
	Name string
	// Status is the last status reported, or "" if none was.
	Status protocol.StreamStatus
	Stats
}

// Stats are the counts and rates of a stream, or of all of them.
//
// Rates measure what enters the pipeline — records and bytes read — which,
// for a write, are the records taken from the source or the cache. The
// average rates run from the stream's start (its Start, STARTED status or
// first record) to its end (COMPLETE or INCOMPLETE status, or Finish); the
// recent rates cover the last sampling interval and equal the averages until
// the first interval has passed.
type Stats struct {
	// RecordsRead counts the records read from the source, or for a write
	// from the source or the cache that feeds the destination.
	RecordsRead int64
	// BytesRead is the size of those records in bytes: their data's JSON,
	// or for a write from a cache their whole RECORD lines.
	BytesRead int64
	// RecordsWritten counts the records sent to the destination, or for a
	// read the rows landed in the cache, known only once the load ends.
	RecordsWritten int64
	// RecordsConfirmed counts the records the destination confirmed by
	// echoing the states after them; 0 for a read.
	RecordsConfirmed int64
	// StatesCommitted counts the stream's STATE messages committed after
	// their records: into the cache for a read, echoed and stored for a
	// write.
	StatesCommitted int64
	// MalformedLines counts lines of the connector's output that claimed
	// to be a RECORD or STATE message and did not parse.
	MalformedLines int64

	// RecordsPerSec is RecordsRead per second, averaged from the stream's
	// start to its end (for Total, over Elapsed).
	RecordsPerSec float64
	// BytesPerSec is BytesRead per second over the same span.
	BytesPerSec float64
	// RecentRecordsPerSec is RecordsRead per second over about the last
	// second (from the newest sample at least a second old; samples are
	// taken every 250 ms); before the first sample, RecordsPerSec. For
	// Total it is the rate of all the streams' records together.
	RecentRecordsPerSec float64
	// RecentBytesPerSec is BytesRead per second over the same span.
	RecentBytesPerSec float64

	// TimeToFirstRecord is the time from the tracker's creation to the
	// first record read; it means something only when RecordsRead > 0.
	TimeToFirstRecord time.Duration
}

// snapshotLocked builds a snapshot at time now (since the start). t.mu is held.
func (t *Tracker) snapshotLocked(now time.Duration, done bool) Snapshot {
	snap := Snapshot{
		Operation: t.op,
		Connector: t.connector,
		Elapsed:   now,
		Streams:   make([]StreamSnapshot, 0, len(t.streams)),
		Done:      done,
	}
	tot := &snap.Total
	tot.StatesCommitted = t.globalStates.Load()
	tot.MalformedLines = t.globalMalformed.Load()
	first := time.Duration(-1)
	for _, s := range t.streams {
		ss := StreamSnapshot{Name: s.name}
		if st := s.status.Load(); st != nil {
			ss.Status = *st
		}
		ss.RecordsRead = s.records.Load()
		ss.BytesRead = s.bytes.Load()
		ss.RecordsWritten = s.written.Load()
		ss.RecordsConfirmed = s.confirmed.Load()
		ss.StatesCommitted = s.states.Load()
		ss.MalformedLines = s.malformed.Load()
		if f := s.firstAt.Load(); f != unset {
			ss.TimeToFirstRecord = time.Duration(f)
			if first < 0 || ss.TimeToFirstRecord < first {
				first = ss.TimeToFirstRecord
			}
		}
		if start := s.startAt.Load(); start != unset {
			end := int64(now)
			if e := s.endAt.Load(); e != unset {
				end = e
			}
			if secs := time.Duration(end - start).Seconds(); secs > 0 {
				ss.RecordsPerSec = float64(ss.RecordsRead) / secs
				ss.BytesPerSec = float64(ss.BytesRead) / secs
			}
		}
		ss.RecentRecordsPerSec, ss.RecentBytesPerSec = ss.RecordsPerSec, ss.BytesPerSec
		if s.haveRecent {
			ss.RecentRecordsPerSec, ss.RecentBytesPerSec = s.recentRec, s.recentBytes
		}

		tot.RecordsRead += ss.RecordsRead
		tot.BytesRead += ss.BytesRead
		tot.RecordsWritten += ss.RecordsWritten
		tot.RecordsConfirmed += ss.RecordsConfirmed
		tot.StatesCommitted += ss.StatesCommitted
		tot.MalformedLines += ss.MalformedLines
		snap.Streams = append(snap.Streams, ss)
	}
	if first >= 0 {
		tot.TimeToFirstRecord = first
	}
	if secs := now.Seconds(); secs > 0 {
		tot.RecordsPerSec = float64(tot.RecordsRead) / secs
		tot.BytesPerSec = float64(tot.BytesRead) / secs
	}
	tot.RecentRecordsPerSec, tot.RecentBytesPerSec = tot.RecordsPerSec, tot.BytesPerSec
	if t.haveRecent {
		tot.RecentRecordsPerSec, tot.RecentBytesPerSec = t.recentRec, t.recentBytes
	}
	return snap
}

// count is the number an operation is about: records read for a read,
// records written for a write.
func (s *Stats) count(op Operation) int64 {
	if op == OpWrite {
		return s.RecordsWritten
	}
	return s.RecordsRead
}

// summary returns the one line that ends every operation, for example
//
//	Read 2,000,100 records from source-faker in 4.21 s (475,083 rec/s, 152.3 MB/s): products 100, users 1,000,000, purchases 1,000,000
//	Wrote 1,000 records to destination-local-json in 0.52 s (1,923 rec/s, 1,000 confirmed): users 1,000
//	Read from source-faker failed after 1.07 s: 12,000 records (11,215 rec/s, 3.6 MB/s): users 12,000
//
// The rate is the average over the whole operation. It does not include the
// error's text, which the caller reports.
func (s Snapshot) summary() string {
	var b strings.Builder
	n := s.Total.count(s.Operation)
	secs := s.Elapsed.Seconds()
	verb, noun, prep := "Read", "Read", "from"
	if s.Operation == OpWrite {
		verb, noun, prep = "Wrote", "Write", "to"
	}
	if s.Err == nil {
		fmt.Fprintf(&b, "%s %s %s %s %s in %s", verb, humanize.Int(n), plural(n, "record"), prep, s.Connector, formatDuration(s.Elapsed, true))
	} else {
		how := "failed"
		if errors.Is(s.Err, context.Canceled) || errors.Is(s.Err, context.DeadlineExceeded) {
			how = "was cancelled"
		}
		fmt.Fprintf(&b, "%s %s %s %s after %s: %s %s", noun, prep, s.Connector, how, formatDuration(s.Elapsed, true), humanize.Int(n), plural(n, "record"))
		if s.Operation == OpWrite {
			b.WriteString(" written")
		}
	}
	var rate []string
	if secs > 0 {
		rate = append(rate, formatRate(float64(n)/secs)+" rec/s")
		if s.Operation == OpRead && s.Total.BytesRead > 0 {
			rate = append(rate, formatMB(float64(s.Total.BytesRead)/secs))
		}
	}
	if s.Operation == OpWrite {
		rate = append(rate, humanize.Int(s.Total.RecordsConfirmed)+" confirmed")
	}
	if len(rate) > 0 {
		b.WriteString(" (" + strings.Join(rate, ", ") + ")")
	}
	for i, st := range s.Streams {
		if i == maxSummaryStreams {
			b.WriteString(", +" + humanize.Int(int64(len(s.Streams)-i)) + " more")
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(st.Name + " " + humanize.Int(st.count(s.Operation)))
	}
	if m := s.Total.MalformedLines; m > 0 {
		fmt.Fprintf(&b, "; %s %s did not parse and %s left out", humanize.Int(m), plural(m, "protocol line"), map[bool]string{true: "was", false: "were"}[m == 1])
	}
	return b.String()
}

// maxLineStreams bounds the streams the live line names: with 10,000
// streams, naming them all made a 190 KB line every tick. Eight fit the
// terminal widths people use once the line is cut to the width.
const maxLineStreams = 8

// maxSummaryStreams bounds the streams the summary names, in the order they
// appeared, before it counts the rest: with 3,000 streams, naming them all
// made a summary of 30,000 columns. Snapshot.Streams has every one.
const maxSummaryStreams = 10

// progressLine is the line the renderer draws while the operation runs, e.g.
//
//	Reading source-faker: users 412,344 rec (301,210 rec/s, 98.1 MB/s) · purchases 0 · 1.4 s
//
// Streams still receiving records show their recent rate; the others only
// their count. Of more than maxLineStreams streams it names the running
// ones first, then those not started, then those done, up to the bound, in
// the order they appeared, and counts the rest:
//
//	Reading source-x: s_04 50 rec (1,000 rec/s, 0.1 MB/s) · … · +9,992 more, 5,000 complete · 3.0 s
//
// sep goes between the parts: " ·", or " |" in ASCII; most is how many
// streams it names at most when there are more than that.
func (s Snapshot) progressLine(sep string, most int) string {
	return s.lineOf(sep, s.rankedStreams(most), s.complete())
}

// lineOf is the live line naming the streams of s at the indexes picked (in
// any order), of which complete have completed.
func (s Snapshot) lineOf(sep string, picked []int, complete int) string {
	var b strings.Builder
	if s.Operation == OpWrite {
		b.WriteString("Writing " + s.Connector + ":")
	} else {
		b.WriteString("Reading " + s.Connector + ":")
	}
	for i, k := range slices.Sorted(slices.Values(picked)) {
		st := &s.Streams[k]
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(" " + st.Name + " " + humanize.Int(st.count(s.Operation)))
		active := st.active()
		if s.Operation == OpWrite {
			b.WriteString(" written")
			if active {
				b.WriteString(" (" + formatRate(st.RecentRecordsPerSec) + " rec/s)")
			}
			if st.RecordsConfirmed > 0 {
				b.WriteString(", " + humanize.Int(st.RecordsConfirmed) + " confirmed")
			}
		} else if active {
			b.WriteString(" rec (" + formatRate(st.RecentRecordsPerSec) + " rec/s, " + formatMB(st.RecentBytesPerSec) + ")")
		}
		if st.Status == protocol.StatusIncomplete {
			b.WriteString(" (incomplete)")
		}
	}
	if more := len(s.Streams) - len(picked); more > 0 {
		b.WriteString(sep + " +" + humanize.Int(int64(more)) + " more, " + humanize.Int(int64(complete)) + " complete")
	}
	if len(s.Streams) > 0 {
		b.WriteString(sep)
	}
	b.WriteString(" " + formatDuration(s.Elapsed, false))
	return b.String()
}

// complete is how many streams have completed.
func (s Snapshot) complete() int {
	n := 0
	for i := range s.Streams {
		if s.Streams[i].Status == protocol.StatusComplete {
			n++
		}
	}
	return n
}

// active reports whether the stream is receiving records: it has some and
// has not ended.
func (st *StreamSnapshot) active() bool {
	return st.RecordsRead > 0 && !st.done()
}

// done reports whether the stream has ended.
func (st *StreamSnapshot) done() bool {
	return st.Status == protocol.StatusComplete || st.Status == protocol.StatusIncomplete
}

// rankedStreams picks the indexes of the streams the live line names: all
// of them up to most; beyond, those receiving records now first, then the
// others running (started, or with records and not ended: a connector that
// sends no statuses never ends its streams), then those not started, then
// those ended, each group in the order the streams appeared. The indexes
// come in that order of preference, so that a prefix of them is the pick
// for a smaller most.
func (s Snapshot) rankedStreams(most int) []int {
	if len(s.Streams) <= most {
		all := make([]int, len(s.Streams))
		for i := range all {
			all[i] = i
		}
		return all
	}
	rank := func(st *StreamSnapshot) int {
		switch {
		case st.done():
			return 3
		case st.RecordsRead > 0 && st.RecentRecordsPerSec > 0:
			return 0
		case st.RecordsRead > 0 || st.Status == protocol.StatusStarted || st.Status == protocol.StatusRunning:
			return 1
		}
		return 2
	}
	var pick [4][]int // indexes by rank, at most most in all
	left := most
	for r := 0; r < len(pick) && left > 0; r++ {
		for i := range s.Streams {
			if rank(&s.Streams[i]) == r {
				pick[r] = append(pick[r], i)
				if left--; left == 0 {
					break
				}
			}
		}
	}
	return slices.Concat(pick[:]...)
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func formatRate(perSec float64) string { return humanize.Int(int64(math.Round(perSec))) }

func formatMB(bytesPerSec float64) string { return fmt.Sprintf("%.1f MB/s", bytesPerSec/1e6) }

// formatDuration writes seconds below a minute ("4.21 s", or "4.2 s" when not
// precise), then minutes and seconds ("2 min 05 s"), then hours and minutes.
func formatDuration(d time.Duration, precise bool) string {
	switch {
	case d < time.Minute && precise:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%d min %02d s", int(d/time.Minute), int(d%time.Minute/time.Second))
	default:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
}
