package declarative

import (
	"slices"
	"testing"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// fuzzWindowFormat keeps every microsecond of a window's bounds, so that
// the windows can be read back and compared.
const fuzzWindowFormat = "%Y-%m-%dT%H:%M:%S.%f"

// FuzzWindowGen checks the lazy date windows (windowGen) for random starts,
// ends, steps (exact or calendar), granularities, lookbacks and closed
// windows: they are the windows the eager list of before gave, in the same
// order; and with no closed window, as ConcurrentCursor._split_per_slice_range
// makes them: the first starts at the start, each next one starts where the
// previous one's step ended (its end plus the granularity), the last ends
// at the end, and an exact step makes ceil(span/step) of them.
func FuzzWindowGen(f *testing.F) {
	day := int64(86400e6)
	f.Add(int64(946684800), int64(3*day), int64(day), int64(0), int64(1e6), int64(0), false, int64(0), int64(0))    // PT1D by the day, PT1S granularity
	f.Add(int64(946684800), int64(10*day+5e6), int64(day), int64(0), int64(0), int64(0), false, int64(0), int64(0)) // a short last window, no granularity
	f.Add(int64(946684800), int64(40*day), int64(0), int64(1), int64(1e6), int64(day), false, int64(0), int64(0))   // P1M, a day's lookback
	f.Add(int64(949276800), int64(400*day), int64(0), int64(1), int64(1), int64(0), false, int64(0), int64(0))      // P1M from Jan 31
	f.Add(int64(946684800), int64(30*day), int64(2*day), int64(0), int64(1e6), int64(0), true, int64(5*day), int64(3*day))
	f.Add(int64(946684800), int64(30*day), int64(2*day), int64(0), int64(3*day), int64(0), true, int64(5*day), int64(day))
	f.Add(int64(946684800), int64(day), int64(0), int64(0), int64(0), int64(0), false, int64(0), int64(0))    // no step: one window
	f.Add(int64(946684800), int64(day), int64(-day), int64(0), int64(0), int64(0), false, int64(0), int64(0)) // a negative step
	f.Fuzz(func(t *testing.T, startSec, spanMicros, stepMicros, stepMonths, granMicros, lookbackMicros int64, closed bool, closedAt, closedLen int64) {
		const lo, hi = 946684800, 1893456000 // 2000 to 2030
		startSec = lo + ((startSec-lo)%(hi-lo)+(hi-lo))%(hi-lo)
		start := time.Unix(startSec, 0).UTC()
		span := mod(spanMicros, 3*366*86400e6)
		end := start.Add(time.Duration(span) * time.Microsecond)
		step := &interpolation.Duration{Months: float64(mod(stepMonths, 4)), Micros: stepMicros % (400 * 86400e6)}
		if step.Months == 0 && step.Micros == 0 {
			step = nil
		}
		if step != nil && step.Months == 0 && step.Micros > 0 && span/step.Micros > 5000 {
			return // a window count a seed corpus can afford
		}
		r := &cursorRun{c: &datetimeCursor{datetimeFormat: fuzzWindowFormat}, start: start,
			end: func() (time.Time, error) { return end, nil }}
		r.step = step
		if g := mod(granMicros, 5*86400e6); g != 0 {
			r.gran = &interpolation.Duration{Micros: g}
		}
		if l := mod(lookbackMicros, 10*86400e6); l != 0 {
			r.lookback = &interpolation.Duration{Micros: l}
		}
		r.slices = []interval{{start: start, end: start}}
		if closed {
			// A window closed within the range, as a read's state leaves it.
			at := start.Add(time.Duration(mod(closedAt, span+1)) * time.Microsecond)
			r.slices = append(r.slices, interval{start: at, end: at.Add(time.Duration(mod(closedLen, 5*86400e6)) * time.Microsecond)})
		}
		want := eagerWindows(r, end)
		g, err := r.windows()
		if err != nil {
			t.Fatal(err)
		}
		var got []window
		for w, ok := g.next(); ok; w, ok = g.next() {
			if got = append(got, w); len(got) > len(want)+1 {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("windows %v, the eager list %v", got, want)
		}
		if closed {
			return
		}
		// One range, [start, end]: its windows by the CDK's rule.
		parse := func(s string) time.Time {
			u, err := time.Parse("2006-01-02T15:04:05.000000", s)
			if err != nil {
				t.Fatalf("window bound %q: %v", s, err)
			}
			return u
		}
		if len(got) == 0 {
			if start.Before(end) && (step == nil || r.stepFrom(start, end).After(start)) {
				t.Fatalf("no window from %v to %v", start, end)
			}
			return
		}
		if s := parse(got[0].start); !s.Equal(start) {
			t.Fatalf("the first window %v starts at %v, not at the start %v", got[0], s, start)
		}
		if e := parse(got[len(got)-1].end); !e.Equal(end) {
			t.Fatalf("the last window %v ends at %v, not at the end %v", got[len(got)-1], e, end)
		}
		for i := 1; i < len(got); i++ {
			prevEnd, cur := parse(got[i-1].end), parse(got[i].start)
			if r.gran != nil {
				prevEnd, _ = r.gran.AddTo(prevEnd)
			}
			if !prevEnd.Equal(cur) {
				t.Fatalf("window %d %v does not start where window %d %v stepped to (%v)", i, got[i], i-1, got[i-1], prevEnd)
			}
			if !parse(got[i-1].start).Before(cur) {
				t.Fatalf("window %d %v does not start after window %d %v", i, got[i], i-1, got[i-1])
			}
		}
		if step != nil && step.Months == 0 && step.Micros > 0 {
			if n := (span + step.Micros - 1) / step.Micros; int64(len(got)) != max(n, 1) {
				t.Fatalf("%d windows of %d µs over %d µs, want %d: %v", len(got), step.Micros, span, n, got)
			}
		}
	})
}

// mod is n modulo m, in [0, m).
func mod(n, m int64) int64 { return (n%m + m) % m }

// eagerWindows is the list windows made before they were made lazily
// (commit f17a142's parent): the reference the generator must agree with.
func eagerWindows(r *cursorRun, end time.Time) []window {
	r.merge()
	var out []window
	split := func(lower, upper time.Time, upperIsEnd bool) {
		if !lower.Before(upper) || upper.Before(r.start) {
			return
		}
		if lower.Before(r.start) {
			lower = r.start
		}
		next := func(t time.Time) time.Time {
			if r.step == nil {
				return upper
			}
			u, err := r.step.AddTo(t)
			if err != nil {
				return upper
			}
			return u
		}
		minusGran := func(t time.Time) time.Time {
			if r.gran == nil {
				return t
			}
			u, err := r.gran.SubFrom(t)
			if err != nil {
				return t
			}
			return u
		}
		if r.step == nil || !next(lower).Before(upper) {
			e := upper
			if r.gran != nil && !upperIsEnd {
				e = minusGran(upper)
			}
			out = append(out, window{r.format(lower), r.format(e)})
			return
		}
		for cur := lower; ; {
			hi := next(cur)
			if hi.After(upper) {
				hi = upper
			}
			reached := !hi.Before(upper)
			if !cur.Before(hi) {
				break
			}
			e := hi
			if r.gran != nil && (!upperIsEnd || !reached) {
				e = minusGran(hi)
			}
			out = append(out, window{r.format(cur), r.format(e)})
			cur = hi
			if reached {
				break
			}
		}
	}
	if r.start.Before(r.slices[0].start) {
		split(r.start, r.slices[0].start, false)
	}
	for i := 0; i+1 < len(r.slices); i++ {
		lo := r.slices[i].end
		if r.gran != nil {
			lo, _ = r.gran.AddTo(lo)
		}
		split(lo, r.slices[i+1].start, false)
	}
	lastLower := r.slices[len(r.slices)-1].end
	if r.lookback != nil {
		if u, err := r.lookback.SubFrom(lastLower); err == nil {
			lastLower = u
		}
	}
	split(lastLower, end, true)
	return out
}
