package declarative

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// cdkEnsurePartitionLimit is ConcurrentPerPartitionCursor's
// _ensure_partition_limit step by step, as the engine did before: one
// drop at a time, each after a scan from the oldest partition.
func cdkEnsurePartitionLimit(p *perPartitionRun) {
	for len(p.entries) > p.max-1 && len(p.order) > 0 {
		p.overLimit.Add(1)
		drop := 0
		finished := false
		for i, k := range p.order {
			if e := p.entries[k]; e.generated && e.pending == 0 {
				drop, finished = i, true
				break
			}
		}
		if p.warn != nil {
			what := "oldest partition"
			if finished {
				what = "oldest finished partition"
			}
			p.warn(fmt.Sprintf("The maximum number of partitions has been reached. Dropping the %s: %s. Over limit: %d.", what, warnKey(p.entries[p.order[drop]].partition), p.overLimit.Load()))
		}
		delete(p.entries, p.order[drop])
		p.order = append(p.order[:drop], p.order[drop+1:]...)
	}
}

// limitRun is a per-partition cursor holding n partitions, each read to
// the end, pending or untouched (as loaded from a state) at random.
func limitRun(rng *rand.Rand, n, max int) *perPartitionRun {
	p := &perPartitionRun{max: max, entries: map[string]*partitionCursor{}}
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("p%d", i)
		part := interpolation.NewDict(1)
		part.Set("p", int64(i))
		e := &partitionCursor{partition: part, kept: true}
		switch rng.Intn(3) {
		case 0:
			e.generated = true
		case 1:
			e.generated, e.pending = true, 1+rng.Intn(2)
		}
		p.order = append(p.order, key)
		p.entries[key] = e
	}
	p.finished = countFinished(p)
	return p
}

// countFinished counts the partitions of a cursor read to the end, as
// perPartitionRun.finished should.
func countFinished(p *perPartitionRun) int {
	n := 0
	for _, e := range p.entries {
		if e.generated && e.pending == 0 {
			n++
		}
	}
	return n
}

// TestPartitionLimitDropsAsTheCDK checks that the one-pass
// ensureLimitLocked drops the partitions the CDK's loop drops, keeps the
// others in order, counts the same partitions over the limit and logs the
// CDK's warning for each drop, in the CDK's order.
func TestPartitionLimitDropsAsTheCDK(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		n, max := rng.Intn(40), rng.Intn(30)-2
		seed := rng.Int63()
		got := limitRun(rand.New(rand.NewSource(seed)), n, max)
		want := limitRun(rand.New(rand.NewSource(seed)), n, max)
		var gotWarnings, wantWarnings []string
		got.warn = func(msg string) { gotWarnings = append(gotWarnings, msg) }
		want.warn = func(msg string) { wantWarnings = append(wantWarnings, msg) }
		// Drops already counted: the warnings count on from them.
		already := int64(rng.Intn(3))
		got.overLimit.Store(already)
		want.overLimit.Store(already)
		got.ensureLimitLocked()
		cdkEnsurePartitionLimit(want)
		if !slices.Equal(got.order, want.order) || len(got.entries) != len(want.entries) || got.overLimit.Load() != want.overLimit.Load() {
			t.Fatalf("n=%d max=%d: kept %v (%d over the limit), the CDK keeps %v (%d)", n, max,
				got.order, got.overLimit.Load(), want.order, want.overLimit.Load())
		}
		if !slices.Equal(gotWarnings, wantWarnings) {
			t.Fatalf("n=%d max=%d: warnings\n%s\nthe CDK's\n%s", n, max, strings.Join(gotWarnings, "\n"), strings.Join(wantWarnings, "\n"))
		}
		for _, k := range got.order {
			if got.entries[k] == nil {
				t.Fatalf("n=%d max=%d: %s kept in order, not in entries", n, max, k)
			}
		}
		if want := countFinished(got); got.finished != want {
			t.Fatalf("n=%d max=%d: %d partitions counted finished, %d are", n, max, got.finished, want)
		}
	}
}

// TestPartitionLimitOverAReadAsTheCDK drives a per-partition cursor with
// a small limit as the reader does (partitions seen once, again, and again
// after they were dropped; windows closed at once or later, in a random
// order), and checks before each partition that ensureLimitLocked drops
// what the CDK's loop drops from the same partitions, with its warnings,
// and after each step that the count of finished partitions it relies on
// is right.
func TestPartitionLimitOverAReadAsTheCDK(t *testing.T) {
	src, err := New([]byte(cachedStateManifest), WithClock(func() time.Time { return featureNow }))
	if err != nil {
		t.Fatal(err)
	}
	c := src.streamByName("items").cursor
	for seed := int64(0); seed < 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		// A clock a day on at each look, so that a partition read to the
		// end has a window more to read when seen again.
		day := 0
		now := func() time.Time { day++; return time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, day) }
		cfg, _ := decodeJSON([]byte(`{"start": "2024-01-01"}`))
		v := &vars{config: cfg}
		v.Now = now
		v.Set(interpolation.VarConfig, cfg)
		max := 2 + rng.Intn(6)
		p, err := newPerPartitionRun(context.Background(), c, nil, nil, v, now, max)
		if err != nil {
			t.Fatal(err)
		}
		var warnings []string
		p.warn = func(msg string) { warnings = append(warnings, msg) }
		type job struct {
			e *partitionCursor
			w window
		}
		var open []job
		checkCount := func(step string) {
			t.Helper()
			if want := countFinished(p); p.finished != want {
				t.Fatalf("seed %d, %s: %d partitions counted finished, %d are", seed, step, p.finished, want)
			}
		}
		closeOne := func(i int) {
			j := open[i]
			open = append(open[:i], open[i+1:]...)
			if _, err := p.closeWindow(j.e, j.w, newest{}); err != nil {
				t.Fatal(err)
			}
			checkCount("after a window")
		}
		for i := 0; i < 300; i++ {
			part := interpolation.NewDict(1)
			part.Set("id", int64(rng.Intn(3*max)))
			cdk := &perPartitionRun{max: p.max, entries: maps.Clone(p.entries), order: slices.Clone(p.order)}
			cdk.overLimit.Store(p.overLimit.Load())
			var cdkWarnings []string
			cdk.warn = func(msg string) { cdkWarnings = append(cdkWarnings, msg) }
			cdkEnsurePartitionLimit(cdk)
			warnings = nil
			e, g, err := p.windows(part)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.order[:min(len(p.order), len(cdk.order))], cdk.order) || p.overLimit.Load() != cdk.overLimit.Load() {
				t.Fatalf("seed %d, partition %d: kept %v (%d over the limit), the CDK keeps %v (%d)", seed, i,
					p.order, p.overLimit.Load(), cdk.order, cdk.overLimit.Load())
			}
			if !slices.Equal(warnings, cdkWarnings) {
				t.Fatalf("seed %d, partition %d: warnings\n%s\nthe CDK's\n%s", seed, i, strings.Join(warnings, "\n"), strings.Join(cdkWarnings, "\n"))
			}
			checkCount("after a new partition")
			next, more := g.next()
			for more {
				w := next
				next, more = g.next()
				p.handOut(e, !more)
				checkCount("after a window handed out")
				open = append(open, job{e, w})
			}
			// Half the partitions are read at once, the others later.
			if rng.Intn(2) == 0 {
				for k := len(open) - 1; k >= 0; k-- {
					if open[k].e == e {
						closeOne(k)
					}
				}
			}
			for len(open) > 0 && rng.Intn(3) > 0 {
				closeOne(rng.Intn(len(open)))
			}
		}
	}
}

// BenchmarkPartitionLimitFromLargeState is the first new partition after a
// state of 20,000 partitions (none read in this sync) was loaded into a
// cursor that keeps 10,000: 10,001 are dropped.
func BenchmarkPartitionLimitFromLargeState(b *testing.B) {
	p := &perPartitionRun{max: defaultMaxPartitions}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p.entries = make(map[string]*partitionCursor, 20000)
		p.order = make([]string, 0, 20000)
		for j := 0; j < 20000; j++ {
			key := fmt.Sprintf(`{"region":"r%d"}`, j)
			p.order = append(p.order, key)
			p.entries[key] = &partitionCursor{}
		}
		b.StartTimer()
		p.ensureLimitLocked()
	}
}

// BenchmarkPartitionLimitSteadyState is a cursor at its limit of 10,000
// partitions, every one read to the end, taking one new partition at a
// time (a substream of more than 10,000 parents): each drops the oldest.
func BenchmarkPartitionLimitSteadyState(b *testing.B) { benchPartitionLimit(b, true) }

// BenchmarkPartitionLimitNoneFinished is a cursor at its limit of 10,000
// partitions, none read to the end (their windows all handed out, none
// closed: partitions generated faster than they are read, as
// source-nylas's cartesian product of 27,000), taking one new partition at
// a time: each drops the oldest of the unfinished ones.
func BenchmarkPartitionLimitNoneFinished(b *testing.B) { benchPartitionLimit(b, false) }

// benchPartitionLimit fills a cursor to its limit with partitions read to
// the end (finished) or each with a window still open, then adds one
// partition at a time.
func benchPartitionLimit(b *testing.B, finished bool) {
	p := &perPartitionRun{max: defaultMaxPartitions, entries: map[string]*partitionCursor{}}
	add := func(j int) {
		key := fmt.Sprintf(`{"parent":"p%d"}`, j)
		p.order = append(p.order, key)
		e := &partitionCursor{generated: true, kept: true}
		if finished {
			p.finished++
		} else {
			e.pending = 1
		}
		p.entries[key] = e
	}
	for j := 0; j < defaultMaxPartitions-1; j++ {
		add(j)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.ensureLimitLocked()
		add(defaultMaxPartitions + i)
	}
	if len(p.entries) != defaultMaxPartitions {
		b.Fatalf("%d partitions kept", len(p.entries))
	}
}

// BenchmarkCursorStateWithLegacyKeys is the state a cursor writes after a
// window when the state it was read from has other keys than its cursor
// field (kept and written back, as the CDK's "legacy" mapping): here
// 10,000 objects under one key, about 1 MB of JSON.
func BenchmarkCursorStateWithLegacyKeys(b *testing.B) {
	var doc strings.Builder
	doc.WriteString(`{"updated": "2024-06-01", "junk": [`)
	for i := 0; i < 10000; i++ {
		if i > 0 {
			doc.WriteString(",")
		}
		doc.WriteString(`{"k": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "n": 12345}`)
	}
	doc.WriteString(`]}`)
	v, err := decodeJSON([]byte(doc.String()))
	if err != nil {
		b.Fatal(err)
	}
	c := &datetimeCursor{datetimeFormat: "%Y-%m-%d"}
	r := &cursorRun{c: c, formats: []string{"%Y-%m-%d"}}
	r.field = "updated"
	r.legacy = v.(*dict)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	r.slices = []interval{{start: start, end: start, mostRecent: &start}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := encodeJSON(r.state()); err != nil {
			b.Fatal(err)
		}
	}
}

// warnLog is a slog handler that keeps the messages of warnings.
type warnLog struct {
	mu   sync.Mutex
	msgs []string
}

func (h *warnLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *warnLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Level == slog.LevelWarn {
		h.msgs = append(h.msgs, r.Message)
	}
	return nil
}
func (h *warnLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *warnLog) WithGroup(string) slog.Handler      { return h }

// TestPartitionLimitWarns follows _ensure_partition_limit's
// logger.warning, a LOG WARN in the CDK's output, for each partition
// dropped (TestPartitionLimit's first read: 1, then 2, read to the end).
func TestPartitionLimitWarns(t *testing.T) {
	state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "events"}, "stream_state": {
		"states": [{"partition": {"p": "9"}, "cursor": {"updated": "2024-02-01"}}], "state": {"updated": "2024-01-15"}}}}]`
	h := &warnLog{}
	run := runFeature(t, manyPartitionsManifest, `{"ids": ["1", "2", "3", "4"]}`, state, manyPartitionsAPI, withMaxPartitions(3), WithLogger(slog.New(h)))
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "warnings", h.msgs, []string{
		`The maximum number of partitions has been reached. Dropping the oldest finished partition: {"p":"1"}. Over limit: 1.`,
		`The maximum number of partitions has been reached. Dropping the oldest finished partition: {"p":"2"}. Over limit: 2.`,
	})
}

// TestPartitionedParentLimitWarns follows PerPartitionCursor's
// _ensure_partition_limit, which logs a warning for each partition of a
// partitioned parent it drops (TestIncrementalDependencyOnPartitionedParentOverLimit's
// first read: accounts 1, then 2).
func TestPartitionedParentLimitWarns(t *testing.T) {
	h := &warnLog{}
	run := runFeature(t, nestedDependencyManifest, `{"start": "2024-01-01T00:00:00Z"}`, "", manyAccountsAPI(4), withMaxPartitions(2), WithLogger(slog.New(h)))
	if run.err != nil {
		t.Fatal(run.err)
	}
	var parents []string
	for _, m := range h.msgs {
		if strings.Contains(m, `partition: {"account"`) {
			parents = append(parents, m)
		}
	}
	sameStrings(t, "the parent's warnings", parents, []string{
		`The maximum number of partitions has been reached. Dropping the oldest partition: {"account":1,"parent_slice":{}}. Over limit: 1.`,
		`The maximum number of partitions has been reached. Dropping the oldest partition: {"account":2,"parent_slice":{}}. Over limit: 2.`,
	})
}

// TestPartitionedParentFilterAfterGlobalSwitch follows a partitioned
// parent with is_client_side_incremental whose cursor turns global in the
// middle of a page. The CDK's record filter
// (ClientSideIncrementalRecordFilterDecorator) asks the
// PerPartitionWithGlobalCursor's active cursor record by record, between
// the observe calls (its generators are lazy): the first record of account
// 4 is filtered with the partition's cursor (2024-06-01) and switches the
// cursor to global (three partitions dropped, more than the limit of two),
// so the next ones are filtered with the global cursor (2024-01-01):
// conversation 42 of March is kept, 43 of 2023 is not.
func TestPartitionedParentFilterAfterGlobalSwitch(t *testing.T) {
	manifest := strings.Replace(nestedDependencyManifest, `            partition_field: account
            incremental_dependency: true
    incremental_sync: {$ref: "#/definitions/cursor"}`, `            partition_field: account
            incremental_dependency: true
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated_at
      datetime_format: "%Y-%m-%dT%H:%M:%SZ"
      start_datetime: "{{ config['start'] }}"
      is_client_side_incremental: true`, 1)
	if manifest == nestedDependencyManifest {
		t.Fatal("no conversations cursor to replace")
	}
	api := func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/accounts":
			fmt.Fprint(w, `{"data": [{"id": 4, "updated_at": "2024-02-04T00:00:00Z"}]}`)
		case r.URL.Path == "/accounts/4/conversations":
			fmt.Fprint(w, `{"data": [{"id": 41, "updated_at": "2024-07-01T00:00:00Z"}, {"id": 42, "updated_at": "2024-03-01T00:00:00Z"}, {"id": 43, "updated_at": "2023-12-01T00:00:00Z"}]}`)
		default:
			fmt.Fprint(w, `{"data": []}`)
		}
	}
	var states []string
	for k := 1; k <= 4; k++ {
		states = append(states, fmt.Sprintf(`{"partition": {"account": %d, "parent_slice": {}}, "cursor": {"updated_at": "2024-06-01T00:00:00Z"}}`, k))
	}
	state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "threads"}, "stream_state": {"parent_state": {"conversations":
		{"use_global_cursor": false, "state": {"updated_at": "2024-01-01T00:00:00Z"}, "lookback_window": 0, "states": [` + strings.Join(states, ", ") + `],
		 "parent_state": {"accounts": {"updated_at": "2024-01-01T00:00:00Z"}}}}}}}]`
	run := runFeature(t, manifest, `{"start": "2023-01-01T00:00:00Z"}`, state, api, withMaxPartitions(2))
	if run.err != nil {
		t.Fatal(run.err)
	}
	var threads []string
	for _, r := range run.requests {
		if strings.HasPrefix(r, "GET /conversations/") {
			threads = append(threads, r)
		}
	}
	// The threads of the two conversations are read concurrently.
	slices.Sort(threads)
	sameStrings(t, "threads requests", threads, []string{
		"GET /conversations/41/threads",
		"GET /conversations/42/threads"})
}

// TestConcurrentFilterAfterGlobalSwitch pins the other side of
// TestPartitionedParentFilterAfterGlobalSwitch: a stream read concurrently
// with is_client_side_incremental. Its ConcurrentPerPartitionCursor turns
// global at the first record of partition 4 (three partitions dropped,
// more than the limit of two), but the CDK's record filter asks another
// cursor, the PerPartitionWithGlobalCursor that _get_retriever set from
// the incoming state and that is never observed: it never turns, so each
// record of the page, before the switch and after, is filtered with
// partition 4's cursor (2024-06-01), and conversation 42 of March is not
// kept.
func TestConcurrentFilterAfterGlobalSwitch(t *testing.T) {
	manifest := strings.Replace(manyPartitionsManifest, `      end_datetime: "2024-12-31"`, `      end_datetime: "2024-12-31"
      is_client_side_incremental: true`, 1)
	if manifest == manyPartitionsManifest {
		t.Fatal("no cursor to make client-side")
	}
	api := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [{"id": "41", "updated": "2024-07-01"}, {"id": "42", "updated": "2024-03-01"}, {"id": "43", "updated": "2023-12-01"}]}`)
	}
	var states []string
	for k := 1; k <= 4; k++ {
		states = append(states, fmt.Sprintf(`{"partition": {"p": "%d"}, "cursor": {"updated": "2024-06-01"}}`, k))
	}
	state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "events"}, "stream_state": {
		"use_global_cursor": false, "states": [` + strings.Join(states, ", ") + `], "state": {"updated": "2024-01-01"}, "lookback_window": 0}}}]`
	run := runFeature(t, manifest, `{"ids": ["4"]}`, state, api, withMaxPartitions(2))
	if run.err != nil {
		t.Fatal(run.err)
	}
	sameStrings(t, "records", run.recordIDs("events"), []string{"41"})
	if st := run.states("events"); len(st) == 0 || !strings.HasPrefix(st[len(st)-1], `{"use_global_cursor":true`) {
		t.Errorf("the cursor did not turn global: states %q", st)
	}
}
