package destination_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/source"
)

// newMisecho is the misecho test destination (see its doc) with cfg.
func newMisecho(t *testing.T, cfg map[string]any) *destination.Destination {
	t.Helper()
	d, err := destination.New(context.Background(), "destination-misecho",
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./destination/internal/misecho")),
		connector.WithConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestWriteFromCacheOddEchoes writes 25,000 users (three states: after
// 10,000, 20,000 and 25,000) to destinations that echo their states oddly,
// then writes again to a well-behaved one under the same key: what the
// first Write says was confirmed, what progress says, and what the second
// Write sends must add up to the rows, whatever the echoes were. Only an
// echo of a state this Write sent, after the last one confirmed of its
// stream, confirms anything.
func TestWriteFromCacheOddEchoes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const users = 25_000
	rr, err := newFaker(t, users, "users", "purchases").Read(ctx, source.UseCache(openCache(t)), source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		cfg       map[string]any
		confirmed int64 // users confirmed by the odd destination
		states    int   // echoes that confirmed them
		fails     bool
	}{
		// A made-up id above every real one would skip every row after
		// the real echo, for good.
		{"fabricated then died", map[string]any{"mode": "fabricate", "die": "exit", "after": 1}, 10_000, 1, true},
		// The last echo is the first state: it confirms nothing more than
		// the echoes before it did, and takes nothing back.
		{"reversed", map[string]any{"mode": "reverse"}, users, 1, false},
		// Each echo twice, each with its count: the second confirms nothing.
		{"twice with counts", map[string]any{"mode": "twice", "counts": true}, users, 3, false},
		// States collapsed: the echo of the second confirms the first's rows
		// too, though its count is only the rows since the first.
		{"every other", map[string]any{"mode": "every_other"}, 20_000, 1, false},
		// A state of purchases (not written) carrying a users id.
		{"foreign stream", map[string]any{"mode": "foreign", "other_stream": "purchases"}, users, 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := destination.StateKey("odd " + tc.name)
			var f finals
			res, err := newMisecho(t, tc.cfg).Write(ctx, rr, key, destination.Streams("users"),
				destination.NoProgress(), destination.WithProgress(progress.WithListener(f.listen)))
			if (err != nil) != tc.fails {
				t.Fatalf("write: %v, want failure %v", err, tc.fails)
			}
			if got := res.RecordsConfirmed["users"]; got != tc.confirmed {
				t.Errorf("%d users confirmed, want %d", got, tc.confirmed)
			}
			if res.StatesConfirmed != tc.states {
				t.Errorf("%d states confirmed, want %d: only echoes of states sent, in order, confirm", res.StatesConfirmed, tc.states)
			}
			if got := res.RecordsConfirmed["purchases"]; got != 0 {
				t.Errorf("%d purchases confirmed by a Write that sent none", got)
			}
			if len(f.snaps) == 1 {
				for _, st := range f.snaps[0].Streams {
					if st.RecordsConfirmed != res.RecordsConfirmed[st.Name] {
						t.Errorf("progress has %d %s confirmed, the result %d", st.RecordsConfirmed, st.Name, res.RecordsConfirmed[st.Name])
					}
				}
			}
			if wm, err := res.State.Watermark(ctx, "purchases"); wm != "" || err != nil {
				t.Errorf("purchases has watermark %q (%v) after a Write of users only", wm, err)
			}
			next, err := newMisecho(t, map[string]any{}).Write(ctx, rr, key, destination.NoProgress())
			if err != nil {
				t.Fatal(err)
			}
			if got, want := next.RecordsSent["users"], users-tc.confirmed; got != want {
				t.Errorf("the next Write sent %d users, want the %d not confirmed", got, want)
			}
			if next.RecordsSent["purchases"] != rr.StreamRecords()["purchases"] {
				t.Errorf("the next Write sent %d purchases, want all %d", next.RecordsSent["purchases"], rr.StreamRecords()["purchases"])
			}
		})
	}
}

// TestWriteNoCacheOddEchoes is TestWriteFromCacheOddEchoes with NoCache:
// the faker's 5,000 users come with a state every 100, passed through, and
// the states the destination echoes are handed back to the source by the
// next Write. Only an echo of a state this Write forwarded, after the last
// one confirmed of its stream, confirms anything and is stored.
func TestWriteNoCacheOddEchoes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const users = 5_000
	for _, tc := range []struct {
		name string
		cfg  map[string]any
	}{
		// A state of purchases (not written) that carries users' cursor
		// would make the next Write read no purchases at all.
		{"foreign stream", map[string]any{"mode": "foreign", "other_stream": "purchases"}},
		// A made-up state stored for users would be given to the source.
		{"fabricated", map[string]any{"mode": "fabricate"}},
		// The last state first: what it confirmed stays confirmed.
		{"reversed", map[string]any{"mode": "reverse"}},
		{"twice with counts", map[string]any{"mode": "twice", "counts": true}},
		{"every other", map[string]any{"mode": "every_other"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			states := openCache(t)
			opts := []destination.WriteOption{destination.NoCache(), destination.StateCache(states), destination.StateKey("k"), destination.NoProgress()}
			var f finals
			res, err := newMisecho(t, tc.cfg).Write(ctx, newFaker(t, users, "users"),
				append(opts, destination.WithProgress(progress.WithListener(f.listen)))...)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.RecordsConfirmed["users"]; got != users {
				t.Errorf("%d users confirmed, want %d", got, users)
			}
			if got := res.RecordsConfirmed["purchases"]; got != 0 {
				t.Errorf("%d purchases confirmed by a Write that sent none", got)
			}
			if len(f.snaps) == 1 {
				for _, st := range f.snaps[0].Streams {
					if st.RecordsConfirmed != res.RecordsConfirmed[st.Name] {
						t.Errorf("progress has %d %s confirmed, the result %d", st.RecordsConfirmed, st.Name, res.RecordsConfirmed[st.Name])
					}
				}
			}
			if st, err := res.State.State(ctx, "purchases"); st != nil || err != nil {
				t.Errorf("purchases has a state (%v) after a Write of users only: %s", err, st.Stream.StreamState)
			}
			next, err := newMisecho(t, map[string]any{}).Write(ctx, newFaker(t, users, "users", "purchases"), opts...)
			if err != nil {
				t.Fatal(err)
			}
			if next.RecordsSent["users"] != 0 || next.RecordsSent["purchases"] == 0 {
				t.Errorf("the next Write sent %v, want every purchase and no user", next.RecordsSent)
			}
		})
	}
}

// A destination that echoes a state it was not sent after each one it was
// (50 of them for 5,000 users) gets one warning and a count at the end,
// not a warning an echo: with a state a record, that was a line a record.
func TestIgnoredEchoesWarnOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, noCache := range []bool{true, false} {
		var logs testenv.Buffer
		d, err := destination.New(ctx, "destination-misecho",
			connector.WithLocalExecutable(testenv.BuildBinary(t, "./destination/internal/misecho")),
			connector.WithConfig(map[string]any{"mode": "fabricate"}), connector.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		if err != nil {
			t.Fatal(err)
		}
		var src destination.Input = newFaker(t, 5_000, "users")
		opts := []destination.WriteOption{destination.NoCache(), destination.StateCache(openCache(t)), destination.NoProgress()}
		if !noCache {
			rr, err := newFaker(t, 25_000, "users").Read(ctx, source.UseCache(openCache(t)), source.NoProgress())
			if err != nil {
				t.Fatal(err)
			}
			src, opts = rr, []destination.WriteOption{destination.NoProgress()}
		}
		res, err := d.Write(ctx, src, opts...)
		if err != nil {
			t.Fatal(err)
		}
		ignored := res.StatesSent // one fabricated echo after each real one
		if ignored < 3 {
			t.Fatalf("the test is void: %d states sent", ignored)
		}
		text := logs.String()
		if n := strings.Count(text, "level=WARN"); n != 2 || !strings.Contains(text, fmt.Sprintf("%d echoes in all", ignored)) {
			t.Errorf("NoCache %v: %d warnings for %d ignored echoes, want the first and a count:\n%s", noCache, n, ignored, text)
		}
	}
}

// A destination that ends well without echoing the state after its last
// records (every_other leaves the third of three unechoed) makes a Write
// that succeeds with 5,000 of 25,000 users unconfirmed: it warns, naming
// how many, as nothing else but RecordsConfirmed says so.
func TestWriteUnconfirmedTailWarns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var logs testenv.Buffer
	d, err := destination.New(ctx, "destination-misecho",
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./destination/internal/misecho")),
		connector.WithConfig(map[string]any{"mode": "every_other"}), connector.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	rr, err := newFaker(t, 25_000, "users").Read(ctx, source.UseCache(openCache(t)), source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Write(ctx, rr, destination.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	if res.TotalConfirmed() != 20_000 {
		t.Fatalf("the test is void: %d of %d confirmed, want 20,000", res.TotalConfirmed(), res.TotalSent())
	}
	if text := logs.String(); strings.Count(text, "level=WARN") != 1 || !strings.Contains(text, "records=5000") {
		t.Errorf("want one warning of the 5000 records not confirmed; the log says:\n%s", text)
	}
}
