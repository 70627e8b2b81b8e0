package progress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/humanize"
	"github.com/x/goairbyte/protocol"
)

// manualClock is a Clock that moves only when the test says so. Its tickers
// deliver a tick only from Tick, which makes every snapshot deterministic.
type manualClock struct {
	mu      sync.Mutex
	now     time.Time
	tickers []chan time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) NewTicker(time.Duration) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time) // unbuffered: Tick returns once the tick is taken
	c.tickers = append(c.tickers, ch)
	return ch, func() {}
}

// Advance moves the clock without a tick.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Tick moves the clock by d and delivers a tick to every ticker.
func (c *manualClock) Tick(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now, tickers := c.now, append([]chan time.Time(nil), c.tickers...)
	c.mu.Unlock()
	for _, ch := range tickers {
		ch <- now
	}
}

// harness is a tracker on a manual clock whose snapshots arrive on snaps.
type harness struct {
	tr    *Tracker
	clock *manualClock
	snaps chan Snapshot
}

func newHarness(t *testing.T, op Operation, connector string, opts ...Option) *harness {
	t.Helper()
	h := &harness{clock: newManualClock(), snaps: make(chan Snapshot, 1000)}
	opts = append([]Option{
		withClock(h.clock),
		WithListener(func(s Snapshot) { h.snaps <- s }),
	}, opts...)
	h.tr = New(op, connector, opts...)
	return h
}

// tick advances the clock by d, delivers a tick and returns the snapshot the
// tracker published for it (after the renderer ran).
func (h *harness) tick(t *testing.T, d time.Duration) Snapshot {
	t.Helper()
	h.clock.Tick(d)
	return <-h.snaps
}

func TestCountsAreExactUnderConcurrency(t *testing.T) {
	h := newHarness(t, OpRead, "source-faker", WithRenderer(nil))
	names := []string{"products", "users", "purchases"}
	const workers, perWorker = 8, 5000

	// Sample concurrently with the writers, as the real ticker would.
	stopTicks := make(chan struct{})
	ticking := make(chan struct{})
	go func() {
		defer close(ticking)
		for {
			select {
			case <-stopTicks:
				return
			default:
				h.tick(t, 10*time.Millisecond)
			}
		}
	}()

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				// Each worker asks for the handle itself: creation races too.
				s := h.tr.Stream(names[(w+i)%len(names)])
				if i%2 == 0 {
					s.Read(1, 100)
				} else {
					s.Read(3, 300) // a batch
				}
				s.Written(2)
				s.Confirmed(1)
				s.StateCommitted()
				h.tr.StateCommitted()
				_ = h.tr.Snapshot()
			}
		})
	}
	wg.Wait()
	close(stopTicks)
	<-ticking

	final := h.tr.Finish(nil)
	const ops = workers * perWorker
	want := Stats{
		RecordsRead:      ops / 2 * 4,
		BytesRead:        ops / 2 * 400,
		RecordsWritten:   ops * 2,
		RecordsConfirmed: ops,
		StatesCommitted:  ops * 2,
	}
	got := final.Total
	if got.RecordsRead != want.RecordsRead || got.BytesRead != want.BytesRead ||
		got.RecordsWritten != want.RecordsWritten || got.RecordsConfirmed != want.RecordsConfirmed ||
		got.StatesCommitted != want.StatesCommitted {
		t.Fatalf("totals = %+v, want counts %+v", got, want)
	}
	var sum int64
	for _, s := range final.Streams {
		sum += s.RecordsRead
	}
	if len(final.Streams) != 3 || sum != want.RecordsRead {
		t.Fatalf("streams = %+v, want 3 streams summing to %d records", final.Streams, want.RecordsRead)
	}
}

func TestListenerGetsPeriodicSnapshotsAndTheFinalOne(t *testing.T) {
	h := newHarness(t, OpRead, "source-faker", WithRenderer(nil))
	users := h.tr.Stream("users")
	purchases := h.tr.Stream("purchases")

	h.clock.Advance(2 * time.Second) // the connector takes 2 s to start
	users.Read(100, 28_000)
	s1 := h.tick(t, 1*time.Second)
	if s1.Done || s1.Elapsed != 3*time.Second {
		t.Fatalf("first snapshot: done=%v elapsed=%v, want running at 3s", s1.Done, s1.Elapsed)
	}
	u := s1.Streams[0]
	if u.Name != "users" || u.RecordsRead != 100 || u.BytesRead != 28_000 {
		t.Fatalf("users = %+v", u)
	}
	if u.TimeToFirstRecord != 2*time.Second {
		t.Errorf("time to first record = %v, want 2s", u.TimeToFirstRecord)
	}
	// The stream started with its first record, 1 s before the tick.
	if u.RecordsPerSec != 100 || u.BytesPerSec != 28_000 {
		t.Errorf("users average = %v rec/s %v B/s, want 100 and 28000", u.RecordsPerSec, u.BytesPerSec)
	}
	if s1.Streams[1].RecordsRead != 0 || s1.Streams[1].TimeToFirstRecord != 0 {
		t.Errorf("purchases = %+v, want nothing yet", s1.Streams[1])
	}

	users.Read(400, 112_000)
	purchases.SetStatus(protocol.StatusStarted)
	purchases.Read(50, 10_000)
	s2 := h.tick(t, 2*time.Second)
	u, p := s2.Streams[0], s2.Streams[1]
	if u.RecentRecordsPerSec != 200 || u.RecentBytesPerSec != 56_000 {
		t.Errorf("users recent = %v rec/s %v B/s, want 200 and 56000", u.RecentRecordsPerSec, u.RecentBytesPerSec)
	}
	if p.Status != protocol.StatusStarted || p.TimeToFirstRecord != 3*time.Second {
		t.Errorf("purchases = %+v, want STARTED, first record at 3s", p)
	}
	if s2.Total.RecordsRead != 550 || s2.Total.RecentRecordsPerSec != 225 || s2.Total.TimeToFirstRecord != 2*time.Second {
		t.Errorf("total = %+v", s2.Total)
	}
	if s2.Total.RecordsPerSec != 110 { // 550 records in 5 s
		t.Errorf("total average = %v, want 110", s2.Total.RecordsPerSec)
	}

	users.SetStatus(protocol.StatusComplete)
	h.clock.Advance(5 * time.Second)
	users.StateCommitted()
	final := h.tr.Finish(nil)
	last := <-h.snaps
	if !last.Done || !final.Done || last.Elapsed != 10*time.Second {
		t.Fatalf("final snapshot: done=%v/%v elapsed=%v", last.Done, final.Done, last.Elapsed)
	}
	if last.Total.RecordsRead != 550 || last.Total.StatesCommitted != 1 || last.Streams[0].Status != protocol.StatusComplete {
		t.Fatalf("final = %+v", last)
	}
	// users completed at 5 s, 3 s after its first record: its average stops there.
	if got := last.Streams[0].RecordsPerSec; got != 500.0/3 {
		t.Errorf("users final average = %v, want %v", got, 500.0/3)
	}
	if again := h.tr.Finish(errors.New("late")); again.Err != nil || again.Elapsed != last.Elapsed {
		t.Errorf("second Finish = %+v, want the first result", again)
	}
	if n := len(h.snaps); n != 0 {
		t.Errorf("listener called %d more times after a second Finish", n)
	}
	if got := h.tr.Snapshot(); !got.Done || got.Total.RecordsRead != 550 {
		t.Errorf("Snapshot after Finish = %+v", got)
	}
}

func TestSummary(t *testing.T) {
	read := Snapshot{
		Operation: OpRead, Connector: "source-faker", Elapsed: 4210 * time.Millisecond, Done: true,
		Streams: []StreamSnapshot{
			{Name: "products", Stats: Stats{RecordsRead: 100}},
			{Name: "users", Stats: Stats{RecordsRead: 1_000_000}},
			{Name: "purchases", Stats: Stats{RecordsRead: 1_000_000}},
		},
		Total: Stats{RecordsRead: 2_000_100, BytesRead: 641_200_000},
	}
	write := Snapshot{
		Operation: OpWrite, Connector: "destination-local-json", Elapsed: 2 * time.Second, Done: true,
		Streams: []StreamSnapshot{{Name: "users", Stats: Stats{RecordsRead: 1000, RecordsWritten: 1000, RecordsConfirmed: 900}}},
		Total:   Stats{RecordsRead: 1000, RecordsWritten: 1000, RecordsConfirmed: 900},
	}
	failed := read
	failed.Err = fmt.Errorf("connector exited: %w", errors.New("exit status 1"))
	cancelled := write
	cancelled.Err = context.Canceled
	long := Snapshot{Operation: OpRead, Connector: "source-x", Elapsed: 125 * time.Second, Total: Stats{RecordsRead: 1}}
	malformed := Snapshot{Operation: OpRead, Connector: "source-x", Elapsed: time.Second,
		Streams: []StreamSnapshot{{Name: "items", Stats: Stats{RecordsRead: 2, MalformedLines: 3}}},
		Total:   Stats{RecordsRead: 2, MalformedLines: 3}}

	for _, tc := range []struct {
		snap Snapshot
		want string
	}{
		{read, "Read 2,000,100 records from source-faker in 4.21 s (475,083 rec/s, 152.3 MB/s): products 100, users 1,000,000, purchases 1,000,000"},
		{write, "Wrote 1,000 records to destination-local-json in 2.00 s (500 rec/s, 900 confirmed): users 1,000"},
		{failed, "Read from source-faker failed after 4.21 s: 2,000,100 records (475,083 rec/s, 152.3 MB/s): products 100, users 1,000,000, purchases 1,000,000"},
		{cancelled, "Write to destination-local-json was cancelled after 2.00 s: 1,000 records written (500 rec/s, 900 confirmed): users 1,000"},
		{long, "Read 1 record from source-x in 2 min 05 s (0 rec/s)"},
		{malformed, "Read 2 records from source-x in 1.00 s (2 rec/s): items 2; 3 protocol lines did not parse and were left out"},
		{Snapshot{Connector: "source-empty"}, "Read 0 records from source-empty in 0.00 s"},
	} {
		if got := tc.snap.summary(); got != tc.want {
			t.Errorf("Summary()\n got  %q\n want %q", got, tc.want)
		}
	}
}

func TestCommas(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 2_000_100: "2,000,100", -12345: "-12,345"} {
		if got := humanize.Int(n); got != want {
			t.Errorf("humanize.Int(%d) = %q, want %q", n, got, want)
		}
	}
}

// Plain output (not a terminal): one line every plain interval, no carriage
// returns, then the summary.
func TestRendererPlainLines(t *testing.T) {
	t.Setenv("NO_LIVE_PROGRESS", "")
	var out bytes.Buffer
	h := newHarness(t, OpRead, "source-faker", WithOutput(&out), withPlainInterval(5*time.Second))
	users := h.tr.Stream("users")
	h.tr.Stream("purchases")
	for range 4 { // 1..4 s: too early for a line
		users.Read(1000, 280_000)
		h.tick(t, time.Second)
	}
	if out.Len() != 0 {
		t.Fatalf("output before the first plain interval: %q", out.String())
	}
	for range 7 { // 5..11 s: lines at 5 and 10 s
		users.Read(1000, 280_000)
		h.tick(t, time.Second)
	}
	h.tr.Finish(nil)

	text := out.String()
	if strings.Contains(text, "\r") || strings.Contains(text, "\x1b") {
		t.Fatalf("plain output contains terminal control: %q", text)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	want := []string{
		"Reading source-faker: users 5,000 rec (1,000 rec/s, 0.3 MB/s) · purchases 0 · 5.0 s",
		"Reading source-faker: users 10,000 rec (1,000 rec/s, 0.3 MB/s) · purchases 0 · 10.0 s",
		"Read 11,000 records from source-faker in 11.00 s (1,000 rec/s, 0.3 MB/s): users 11,000, purchases 0",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("output:\n%s\nwant:\n%s", text, strings.Join(want, "\n"))
	}
}

func TestRendererOff(t *testing.T) {
	for name, opt := range map[string]Option{
		"option": WithLiveProgress(false),
		"env":    nil,
	} {
		t.Run(name, func(t *testing.T) {
			if opt == nil {
				t.Setenv("NO_LIVE_PROGRESS", "1")
				opt = WithLiveProgress(true) // the variable wins
			} else {
				t.Setenv("NO_LIVE_PROGRESS", "")
			}
			var out bytes.Buffer
			h := newHarness(t, OpWrite, "destination-local-json", WithOutput(&out), opt, withPlainInterval(time.Second))
			s := h.tr.Stream("users")
			for range 5 {
				s.Read(10, 100)
				s.Written(10)
				h.tick(t, time.Second)
			}
			if out.Len() != 0 {
				t.Fatalf("live progress off, yet output: %q", out.String())
			}
			s.Confirmed(50)
			h.tr.Finish(nil)
			want := "Wrote 50 records to destination-local-json in 5.00 s (10 rec/s, 50 confirmed): users 50\n"
			if out.String() != want {
				t.Fatalf("output %q, want only the summary %q", out.String(), want)
			}
		})
	}
}

func TestRendererNilWritesNothing(t *testing.T) {
	var out bytes.Buffer
	h := newHarness(t, OpRead, "source-faker", WithOutput(&out), WithRenderer(nil))
	h.tr.Stream("users").Read(1, 1)
	h.tick(t, 10*time.Second)
	if h.tr.Finish(nil); out.Len() != 0 {
		t.Fatalf("WithRenderer(nil) wrote %q", out.String())
	}
}

func TestMask(t *testing.T) {
	t.Setenv("NO_LIVE_PROGRESS", "")
	const secret = "hunter2"
	mask := func(s string) string { return strings.ReplaceAll(s, secret, "****") }
	var out bytes.Buffer
	h := newHarness(t, OpRead, "source-"+secret, WithOutput(&out), WithMask(mask), withPlainInterval(time.Second))
	h.tr.Stream("stream_"+secret).Read(3, 30)
	h.tick(t, time.Second)
	if got := h.tr.summary(); strings.Contains(got, secret) || !strings.Contains(got, "source-****") {
		t.Errorf("Summary() = %q, want it masked", got)
	}
	h.tr.Finish(errors.New("boom"))
	text := out.String()
	if strings.Contains(text, secret) {
		t.Fatalf("output leaks the secret: %q", text)
	}
	if strings.Count(text, "****") != 4 || strings.Count(text, "\n") != 2 {
		t.Fatalf("output %q, want a masked progress line and a masked summary", text)
	}
}

// TestControlCharactersEscaped names a stream with escape sequences, as a
// hostile connector may: what is written shows them, the terminal never
// receives them.
func TestControlCharactersEscaped(t *testing.T) {
	t.Setenv("NO_LIVE_PROGRESS", "")
	var out bytes.Buffer
	h := newHarness(t, OpRead, "source-faker", WithOutput(&out), withPlainInterval(time.Second))
	h.tr.Stream("users\x1b]52;c;aGVsbG8=\a\x1b[2J").Read(3, 30)
	h.tick(t, time.Second)
	h.tr.Finish(nil)
	text := out.String()
	if strings.ContainsAny(text, "\x1b\a") || strings.Count(text, `users\x1b]52;c;aGVsbG8=\a\x1b[2J`) != 2 {
		t.Fatalf("output %q, want the progress line and the summary with the name escaped", text)
	}
}

func TestNilTrackerAndStreamDoNothing(t *testing.T) {
	var tr *Tracker
	s := tr.Stream("users")
	s.start()
	s.Read(1, 1)
	s.Written(1)
	s.Confirmed(1)
	s.StateCommitted()
	s.SetStatus(protocol.StatusComplete)
	tr.StateCommitted()
	if tr.summary() != "" || tr.Finish(nil).Done || tr.Snapshot().Done {
		t.Fatal("nil tracker did something")
	}
}

func TestStartAndStatus(t *testing.T) {
	h := newHarness(t, OpRead, "source-faker", WithRenderer(nil))
	s := h.tr.Stream("users")
	if h.tr.Stream("users") != s {
		t.Fatal("Stream returned a second handle for the same name")
	}
	h.clock.Advance(time.Second)
	s.start()
	h.clock.Advance(time.Second)
	s.Read(10, 10)
	s.SetStatus(protocol.StatusRunning)
	h.clock.Advance(3 * time.Second)
	s.SetStatus(protocol.StatusIncomplete)
	h.clock.Advance(5 * time.Second)
	snap := h.tr.Finish(errors.New("failed"))
	u := snap.Streams[0]
	// Started at 1 s, ended at 5 s: 10 records over 4 s.
	if u.Status != protocol.StatusIncomplete || u.RecordsPerSec != 2.5 || u.TimeToFirstRecord != 2*time.Second {
		t.Fatalf("users = %+v", u)
	}
	if !strings.HasPrefix(snap.summary(), "Read from source-faker failed after 10.00 s: 10 records") {
		t.Fatalf("summary = %q", snap.summary())
	}
}

// The live line while a write runs, and a stream's line once it is complete.
func TestProgressLine(t *testing.T) {
	h := newHarness(t, OpWrite, "destination-x", WithRenderer(nil))
	a, b := h.tr.Stream("a"), h.tr.Stream("b")
	a.Read(100, 1000)
	a.Written(100)
	a.Confirmed(40)
	b.Read(5, 50)
	b.Written(5)
	b.SetStatus(protocol.StatusComplete)
	snap := h.tick(t, 2*time.Second)
	want := "Writing destination-x: a 100 written (50 rec/s), 40 confirmed · b 5 written · 2.0 s"
	if got := snap.progressLine(unicodeGlyphs.sep, maxLineStreams); got != want {
		t.Fatalf("progressLine\n got  %q\n want %q", got, want)
	}
	h.tr.Finish(nil)
}

// TestProgressLineBound reads many streams: the live line names at most
// maxLineStreams of them, the running ones first, and counts the others;
// the summary names the first maxSummaryStreams and counts the others.
func TestProgressLineBound(t *testing.T) {
	h := newHarness(t, OpRead, "source-many", WithRenderer(nil))
	const n = 10_000
	for i := range n {
		s := h.tr.Stream(fmt.Sprintf("s%d", i))
		switch {
		case i < 5_000:
			s.Read(1, 10)
			s.SetStatus(protocol.StatusComplete)
		case i == 5_000:
			s.Read(1, 10)
			s.SetStatus(protocol.StatusIncomplete)
		case i == 7_000 || i == 9_999:
			s.Read(2, 20)
		case i == 8_000:
			s.SetStatus(protocol.StatusStarted)
		}
	}
	snap := h.tick(t, time.Second)
	want := "Reading source-many: s5001 0 · s5002 0 · s5003 0 · s5004 0 · s5005 0 · " +
		"s7000 2 rec (2 rec/s, 0.0 MB/s) · s8000 0 · s9999 2 rec (2 rec/s, 0.0 MB/s) · +9,992 more, 5,000 complete · 1.0 s"
	if got := snap.progressLine(unicodeGlyphs.sep, maxLineStreams); got != want {
		t.Fatalf("progressLine\n got  %q\n want %q", got, want)
	}
	final := h.tr.Finish(nil)
	sum := final.summary()
	if want := ": s0 1, s1 1, s2 1, s3 1, s4 1, s5 1, s6 1, s7 1, s8 1, s9 1, +9,990 more"; !strings.HasSuffix(sum, want) {
		t.Fatalf("summary %q does not end with the first %d streams and the count of the others", sum, maxSummaryStreams)
	}

	// Exactly the bound: every stream named, nothing counted.
	few := Snapshot{Operation: OpWrite, Connector: "destination-x", Elapsed: time.Second}
	for i := range maxLineStreams {
		few.Streams = append(few.Streams, StreamSnapshot{Name: fmt.Sprintf("t%d", i),
			Status: protocol.StatusComplete, Stats: Stats{RecordsRead: 1, RecordsWritten: 1}})
	}
	if got := few.progressLine(unicodeGlyphs.sep, maxLineStreams); strings.Contains(got, "more") || strings.Count(got, " written") != maxLineStreams {
		t.Fatalf("progressLine of %d streams = %q, want all named", maxLineStreams, got)
	}
	// One over, all done: the first ones are named.
	few.Streams = append(few.Streams, StreamSnapshot{Name: "last", Status: protocol.StatusComplete})
	if got := few.progressLine(unicodeGlyphs.sep, maxLineStreams); !strings.HasPrefix(got, "Writing destination-x: t0 1 written") ||
		strings.Contains(got, "last") || !strings.HasSuffix(got, " · +1 more, 9 complete · 1.0 s") {
		t.Fatalf("progressLine = %q", got)
	}
}

// Of many streams without statuses (a connector that sends none), the live
// line names the ones receiving records now before those that did and went
// quiet: it showed s00 to s07 at 0 rec/s while s15 was the one moving.
func TestProgressLineNamesTheMovingStreams(t *testing.T) {
	h := newHarness(t, OpRead, "source-quiet", WithRenderer(nil))
	streams := make([]*Stream, 20)
	for i := range streams {
		streams[i] = h.tr.Stream(fmt.Sprintf("s%02d", i))
	}
	for _, s := range streams[:10] {
		s.Read(10, 100)
	}
	h.tick(t, time.Second)
	streams[15].Read(10, 100)
	snap := h.tick(t, time.Second)
	line := snap.progressLine(unicodeGlyphs.sep, maxLineStreams)
	quiet := " 10 rec (0 rec/s, 0.0 MB/s) · "
	want := "Reading source-quiet: s00" + quiet + "s01" + quiet + "s02" + quiet + "s03" + quiet + "s04" + quiet + "s05" + quiet + "s06" + quiet +
		"s15 10 rec (10 rec/s, 0.0 MB/s) · +12 more, 0 complete · 2.0 s"
	if line != want {
		t.Fatalf("progressLine\n got  %q\n want %q", line, want)
	}
}

// A stream whose records come in bursts (a cache writer that pauses the
// read while it flushes a batch) shows a steady recent rate, taken over
// the last second, rather than one that jumps between a burst's rate and
// 0 rec/s from one 250 ms tick to the next.
func TestRecentRateOverTheLastSecond(t *testing.T) {
	h := newHarness(t, OpRead, "source-bursty", WithRenderer(nil))
	users := h.tr.Stream("users")
	var rates []float64
	for i := range 12 {
		if i%2 == 0 {
			users.Read(1000, 1000) // a burst every other tick: 2,000 rec/s on average
		}
		rates = append(rates, h.tick(t, 250*time.Millisecond).Streams[0].RecentRecordsPerSec)
	}
	for i, r := range rates[4:] { // from the first full second on
		if r != 2000 {
			t.Fatalf("recent rate at tick %d = %v rec/s, want 2,000 at every tick from 1 s on: %v", i+4, r, rates)
		}
	}
}

// The Total's recent rate is the rate of every stream's records together.
// An operation over before the first sample (a short write of three
// streams one after another) gave the sum of each stream's average over
// its own span: 150 records over 2 ms each made 225,000 rec/s where the
// operation did 8,800.
func TestRecentRateOfTheTotal(t *testing.T) {
	h := newHarness(t, OpWrite, "destination-short", WithRenderer(nil))
	for _, name := range []string{"a", "b", "c"} {
		s := h.tr.Stream(name)
		s.Read(50, 500)
		h.clock.Advance(time.Millisecond)
		s.Read(100, 1000)
		h.clock.Advance(time.Millisecond)
		s.SetStatus(protocol.StatusComplete)
		h.clock.Advance(15 * time.Millisecond)
	}
	final := h.tr.Finish(nil)
	tot := final.Total
	if tot.RecordsPerSec < 8800 || tot.RecordsPerSec > 8830 || tot.RecentRecordsPerSec != tot.RecordsPerSec || tot.RecentBytesPerSec != tot.BytesPerSec {
		t.Errorf("total: %.0f rec/s on average, %.0f recently (%.0f / %.0f B/s); want both 450 records over 51 ms",
			tot.RecordsPerSec, tot.RecentRecordsPerSec, tot.BytesPerSec, tot.RecentBytesPerSec)
	}

	// Sampled, it is the records of the last second, whichever stream.
	h = newHarness(t, OpRead, "source-two", WithRenderer(nil))
	a, b := h.tr.Stream("a"), h.tr.Stream("b")
	var snap Snapshot
	for range 8 {
		a.Read(100, 100)
		b.Read(400, 400)
		snap = h.tick(t, 250*time.Millisecond)
	}
	if r := snap.Total.RecentRecordsPerSec; r != 2000 {
		t.Errorf("sampled total: %v rec/s, want 2,000", r)
	}
}
