package watch_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/airbyteapi"
	"github.com/x/goairbyte/cloud"
	"github.com/x/goairbyte/fivetran"
	api "github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/airbytetest"
	"github.com/x/goairbyte/internal/fakersync"
	"github.com/x/goairbyte/internal/fivetrantest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/watch"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const fakerDef = "dfd88b22-b603-4c3d-aad7-3701784586b1"

// quiet runs Events from cur until the server has had n more polls (polls
// counts them), and returns what it yielded. n is chosen so that the last
// poll counted belongs to a round after the one to wait for: rounds run one
// after the other, so that round is over, its cursor moved (and saved). A
// window of time proved nothing on a slow machine, where a poll could take
// longer than the window.
func quiet(t *testing.T, w *watch.Watcher, cur *watch.Cursor, polls func() int, n int) []watch.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	want := polls() + n
	go func() {
		for ctx.Err() == nil && polls() < want {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	var out []watch.Event
	for ev, err := range w.Events(ctx, cur) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	if got := polls(); got < want {
		t.Fatalf("%d polls in 10 s, want %d", n-(want-got), n)
	}
	return out
}

// collect reads events until n have come or the timeout passes.
func collect(t *testing.T, w *watch.Watcher, cur *watch.Cursor, n int, timeout time.Duration) []watch.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []watch.Event
	for ev, err := range w.Events(ctx, cur) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
		if len(out) == n {
			break
		}
	}
	if len(out) < n {
		t.Fatalf("%d events in %v, want %d: %+v", len(out), timeout, n, out)
	}
	return out
}

// ending runs Events from cur until it ends, for at most 5 s, and returns
// the errors it yielded and whether it ran out of time; an event fails t.
func ending(t *testing.T, w *watch.Watcher, cur *watch.Cursor) (errs []error, timedOut bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for ev, err := range w.Events(ctx, cur) {
		if err == nil {
			t.Fatalf("event %+v before the watch ended", ev)
		}
		errs = append(errs, err)
	}
	return errs, ctx.Err() != nil
}

// watched is an Airbyte test server with one connection, a faker source
// into a DuckDB destination, for the watch to watch.
type watched struct {
	srv    *airbytetest.Server
	client *airbyteapi.Client
	conn   *cloud.Connection
}

func newWatched(t *testing.T, opts ...airbytetest.Option) *watched {
	t.Helper()
	srv := airbytetest.Start(t, opts...)
	client, err := airbyteapi.New(srv.URL, airbyteapi.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ws := cloud.NewWorkspace(client, srv.WorkspaceID)
	dst, err := ws.DeployDestination(ctx, "duck", "destination-duckdb", map[string]any{"destination_path": filepath.Join(t.TempDir(), "w.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	src := &cloud.DeployedSource{Source: cloud.Source{ID: srv.AddSource("good", fakerDef, map[string]any{"count": 5})}}
	conn, err := ws.DeployConnection(ctx, "watched", src, dst)
	if err != nil {
		t.Fatal(err)
	}
	return &watched{srv: srv, client: client, conn: conn}
}

// listings counts the rounds of job listings the server has answered: an
// Airbyte watch of one connection lists its jobs three times a round (sync
// and reset jobs, refresh jobs, clear jobs).
func (wd *watched) listings() int { return wd.srv.Calls("GET /jobs") / 3 }

// finish starts a job of a type as the scheduler or the UI would, waits
// for it to end and returns its id.
func (wd *watched) finish(t *testing.T, jobType string) int64 {
	t.Helper()
	id, err := wd.srv.StartJob(wd.conn.ID(), jobType)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		j, err := (*api.Client)(wd.client).Job(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status.Terminal() {
			return id
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sync runs a sync of the connection from this library, waits for it to
// end and returns its job id.
func (wd *watched) sync(t *testing.T) int64 {
	t.Helper()
	ctx := context.Background()
	res, err := wd.conn.RunSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Wait(ctx, cloud.PollInterval(10*time.Millisecond, 50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	return res.JobID
}

func TestAirbyteEventsOnceEach(t *testing.T) {
	wd := newWatched(t)
	srv, client, conn := wd.srv, wd.client, wd.conn
	run := func() int64 { return wd.sync(t) }
	history := run() // before the watch started: not reported

	w, err := watch.New(watch.Airbyte(client, conn.ID()), watch.Interval(30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cur := &watch.Cursor{}
	if evs := quiet(t, w, cur, wd.listings, 2); len(evs) != 0 || cur.Airbyte[conn.ID()] != history {
		t.Fatalf("history reported: %+v, cursor %+v", evs, cur)
	}
	mine := run() // triggered by this library
	elsewhere, err := srv.StartSync(conn.ID())
	if err != nil {
		t.Fatal(err)
	}
	evs := collect(t, w, cur, 2, 10*time.Second)
	if evs[0].JobID != mine || evs[1].JobID != elsewhere || evs[0].Status != "succeeded" || evs[1].Rows == 0 || evs[1].Rows != evs[0].Rows {
		t.Fatalf("events %+v, want jobs %d and %d", evs, mine, elsewhere)
	}
	// Resume from the persisted cursor: nothing again.
	b, _ := json.Marshal(cur)
	var resumed watch.Cursor
	if err := json.Unmarshal(b, &resumed); err != nil {
		t.Fatal(err)
	}
	if evs := quiet(t, w, &resumed, wd.listings, 2); len(evs) != 0 {
		t.Fatalf("reported again after resuming: %+v", evs)
	}
	next := run()
	if evs := collect(t, w, &resumed, 1, 10*time.Second); evs[0].JobID != next {
		t.Fatalf("after resuming: %+v", evs)
	}
}

// TestEveryJobType: Airbyte lists sync and reset jobs unless asked for
// another type, and a watch saw no refresh or clear job, which end a sync
// too; a new connection whose newest finished job was a refresh started
// at an older sync, and reported the refresh.
func TestEveryJobType(t *testing.T) {
	wd := newWatched(t)
	wd.sync(t)
	history := wd.finish(t, "refresh")
	w, err := watch.New(watch.Airbyte(wd.client, wd.conn.ID()), watch.Interval(30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cur := &watch.Cursor{}
	if evs := quiet(t, w, cur, wd.listings, 2); len(evs) != 0 || cur.Airbyte[wd.conn.ID()] != history {
		t.Fatalf("history reported: %+v, cursor %+v, want it at job %d", evs, cur, history)
	}
	want := []struct {
		id  int64
		typ string
	}{{wd.finish(t, "clear"), "clear"}, {wd.finish(t, "refresh"), "refresh"}, {wd.sync(t), "sync"}, {wd.finish(t, "reset"), "reset"}}
	evs := collect(t, w, cur, len(want), 10*time.Second)
	for i, ev := range evs {
		if ev.JobID != want[i].id || ev.JobType != want[i].typ || ev.Status != "succeeded" {
			t.Fatalf("event %d: %+v, want job %d of type %s", i, ev, want[i].id, want[i].typ)
		}
	}
}

// TestKilledWatchLosesNoSync: a watch killed before any event has still
// saved where each connection starts; a sync that finished while it was
// down is reported when it resumes, not taken as the new starting point.
func TestKilledWatchLosesNoSync(t *testing.T) {
	wd := newWatched(t)
	wd.sync(t) // history: not reported
	path := filepath.Join(t.TempDir(), "cursor.json")
	w, err := watch.New(watch.Airbyte(wd.client, wd.conn.ID()), watch.Interval(30*time.Millisecond), watch.SaveCursor(path))
	if err != nil {
		t.Fatal(err)
	}
	cur, err := watch.LoadCursor(path)
	if err != nil {
		t.Fatal(err)
	}
	if evs := quiet(t, w, cur, wd.listings, 2); len(evs) != 0 {
		t.Fatalf("history reported: %+v", evs)
	}
	// Killed here: the caller never saved. A sync finishes meanwhile.
	missed := wd.sync(t)
	resumed, err := watch.LoadCursor(path)
	if err != nil {
		t.Fatal(err)
	}
	if evs := collect(t, w, resumed, 1, 10*time.Second); evs[0].JobID != missed {
		t.Fatalf("after the restart: %+v, want job %d", evs, missed)
	}
	// The event handled, the cursor on disk has it: nothing comes again.
	again, err := watch.LoadCursor(path)
	if err != nil {
		t.Fatal(err)
	}
	if evs := quiet(t, w, again, wd.listings, 2); len(evs) != 0 {
		t.Fatalf("reported again: %+v", evs)
	}
}

// TestCompletionTimeWithoutSeconds: Airbyte prints a job's times with
// Java's OffsetDateTime.toString, which leaves the seconds out when they
// are zero ("2024-05-01T12:34Z"); such a job's CompletedAt must still be
// its time, not the zero time.
func TestCompletionTimeWithoutSeconds(t *testing.T) {
	wd := newWatched(t, airbytetest.WithTimeLayout("2006-01-02T15:04Z07:00"))
	srv, client, conn := wd.srv, wd.client, wd.conn
	w, err := watch.New(watch.Airbyte(client, conn.ID()), watch.Interval(30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// Known with no job yet: the first sync is reported.
	cur := &watch.Cursor{Airbyte: map[string]int64{conn.ID(): 0}}
	if _, err := srv.StartSync(conn.ID()); err != nil {
		t.Fatal(err)
	}
	ev := collect(t, w, cur, 1, 10*time.Second)[0]
	now := srv.Clock.Now()
	if ev.CompletedAt.IsZero() || ev.CompletedAt.After(now) || now.Sub(ev.CompletedAt) > 2*time.Minute {
		t.Fatalf("CompletedAt = %v for a job that ended at about %v", ev.CompletedAt, now)
	}
}

// TestCursorAheadOfTheServer: a cursor whose job id is beyond the
// connection's newest job (a cursor file from another instance, jobs
// deleted) would pass over every job up to it without a word; the watch
// says so instead.
func TestCursorAheadOfTheServer(t *testing.T) {
	wd := newWatched(t)
	job := wd.sync(t)
	w, err := watch.New(watch.Airbyte(wd.client, wd.conn.ID()), watch.Interval(30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cur := &watch.Cursor{Airbyte: map[string]int64{wd.conn.ID(): job + 1000}}
	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got error
	for ev, err := range w.Events(wctx, cur) {
		if err == nil {
			t.Fatalf("event %+v from a cursor ahead of the server", ev)
		}
		got = err
		break
	}
	if got == nil || !strings.Contains(got.Error(), "cursor") {
		t.Fatalf("a cursor ahead of the server's jobs: error %v, want one about the cursor", got)
	}
}

// An id of no connection (a typo, a name) listed no job and was watched in
// silence for ever; the watch ends with an error naming it instead. A
// connection found is read once per Watcher, however many polls and
// Events follow.
func TestUnknownAirbyteIDEndsTheWatch(t *testing.T) {
	wd := newWatched(t)
	for _, bad := range []string{"5d0b7a3e-0c55-4f7e-9a0e-8b1f3a1c2d4e", "watched"} {
		w, err := watch.New(watch.Airbyte(wd.client, wd.conn.ID(), bad), watch.Interval(10*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		errs, timedOut := ending(t, w, &watch.Cursor{})
		if timedOut || len(errs) != 1 || !errors.Is(errs[0], airbyteapi.ErrNotFound) || !strings.Contains(errs[0].Error(), "no Airbyte connection "+bad) {
			t.Fatalf("watching %q: errors %v (timed out: %v), want the watch to end with one not-found error naming it", bad, errs, timedOut)
		}
		t.Log(errs[0])
	}

	before := wd.srv.Calls("GET /connections/{id}")
	w, err := watch.New(watch.Airbyte(wd.client, wd.conn.ID()), watch.Interval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cur := &watch.Cursor{}
	quiet(t, w, cur, wd.listings, 2)
	quiet(t, w, cur, wd.listings, 2)
	if n := wd.srv.Calls("GET /connections/{id}") - before; n != 1 {
		t.Fatalf("the connection was read %d times by a Watcher's polls, want once", n)
	}

	// Every connection is checked before any is polled: a sync of the
	// connection there, after the cursor's job, is not reported before
	// the watch ends on the one not there.
	wd.sync(t)
	w, err = watch.New(watch.Airbyte(wd.client, wd.conn.ID(), "5d0b7a3e-0c55-4f7e-9a0e-8b1f3a1c2d4e"), watch.Interval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cur = &watch.Cursor{Airbyte: map[string]int64{wd.conn.ID(): 0}}
	for ev, err := range w.Events(ctx, cur) {
		if err == nil {
			t.Fatalf("event %+v before the watch ended on the connection not there", ev)
		}
		if !errors.Is(err, airbyteapi.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if ctx.Err() != nil || cur.Airbyte[wd.conn.ID()] != 0 {
		t.Fatalf("the watch did not end (%v), or moved the cursor: %v", ctx.Err(), cur.Airbyte)
	}
}

func TestFivetranEventsOnceEach(t *testing.T) {
	srv := fivetrantest.Start(t)
	client, _ := fivetran.New(fivetrantest.APIKey, fivetrantest.APISecret, fivetran.WithBaseURL(srv.URL))
	path := filepath.Join(t.TempDir(), "f.duckdb")
	ok := srv.AddConnection(fivetrantest.Connection{Schema: "ok", FakerConfig: map[string]any{"count": 5}, Streams: []string{"users"},
		Destination: fakersync.Destination{DuckDBPath: path}})
	bad := srv.AddConnection(fivetrantest.Connection{Schema: "bad", FakerConfig: map[string]any{"records_per_slice": 0}, Streams: []string{"users"},
		Destination: fakersync.Destination{DuckDBPath: filepath.Join(t.TempDir(), "g.duckdb")}})
	w, err := watch.New(watch.Fivetran(client, ok, bad), watch.Interval(30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cur := &watch.Cursor{}
	// A round reads each of the two connections; the first reads each
	// once more to check it: the fifth read is the second round's.
	reads := func() int { return srv.Calls("GET /v1/connections/{id}") }
	quiet(t, w, cur, reads, 5)
	ctx := context.Background()
	if _, err := client.SyncAndPoll(ctx, ok, fivetran.PollInterval(10*time.Millisecond, 50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	srv.StartSync(bad)
	evs := collect(t, w, cur, 2, 10*time.Second)
	got := map[string]string{}
	for _, ev := range evs {
		got[ev.Connection] = ev.Status
	}
	if got[ok] != "succeeded" || got[bad] != "failed" {
		t.Fatalf("events %+v", evs)
	}
	if evs := quiet(t, w, cur, reads, 3); len(evs) != 0 {
		t.Fatalf("reported twice: %+v", evs)
	}
}

// A Fivetran id of no connection (a typo) failed every poll with a 404 and
// was watched for ever, a warning a round, where an Airbyte one ends the
// watch: it ends the watch as well, before any event.
func TestUnknownFivetranIDEndsTheWatch(t *testing.T) {
	srv := fivetrantest.Start(t)
	client, _ := fivetran.New(fivetrantest.APIKey, fivetrantest.APISecret, fivetran.WithBaseURL(srv.URL))
	ok := srv.AddConnection(fivetrantest.Connection{Schema: "ok", FakerConfig: map[string]any{"count": 5}, Streams: []string{"users"},
		Destination: fakersync.Destination{DuckDBPath: filepath.Join(t.TempDir(), "f.duckdb")}})
	if _, err := client.SyncAndPoll(context.Background(), ok, fivetran.PollInterval(10*time.Millisecond, 50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	const bad = "dominion_lamp_typo"
	w, err := watch.New(watch.Fivetran(client, ok, bad), watch.Interval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// The cursor predates the sync above: a watch that polled ok before
	// checking bad would report it.
	errs, timedOut := ending(t, w, &watch.Cursor{Fivetran: map[string]time.Time{ok: {}}})
	if timedOut || len(errs) != 1 || !errors.Is(errs[0], fivetran.ErrNotFound) || !strings.Contains(errs[0].Error(), "no Fivetran connection "+bad) {
		t.Fatalf("errors %v (timed out: %v), want the watch to end with one not-found error naming %s", errs, timedOut, bad)
	}
}

// Credentials the service refuses failed every poll for ever, a warning a
// round (goab watch --for exiting 0 from cron); the first poll's check
// ends the watch on them instead, before any event, for either service.
func TestRefusedCredentialsEndTheWatch(t *testing.T) {
	wd := newWatched(t)
	srv := fivetrantest.Start(t)
	ft, _ := fivetran.New(fivetrantest.APIKey, fivetrantest.APISecret, fivetran.WithBaseURL(srv.URL))
	ok := srv.AddConnection(fivetrantest.Connection{Schema: "ok", FakerConfig: map[string]any{"count": 5}, Streams: []string{"users"},
		Destination: fakersync.Destination{DuckDBPath: filepath.Join(t.TempDir(), "f.duckdb")}})
	badAB, err := airbyteapi.New(wd.srv.URL, airbyteapi.WithClientCredentials(airbytetest.ClientID, "wrong"),
		airbyteapi.WithRetry(airbyteapi.RetryPolicy{MaxAttempts: 1, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	badFT, _ := fivetran.New(fivetrantest.APIKey, "wrong", fivetran.WithBaseURL(srv.URL))
	for _, c := range []struct {
		name string
		opts []watch.Option
		is   error
	}{
		{"airbyte", []watch.Option{watch.Airbyte(badAB, wd.conn.ID()), watch.Fivetran(ft, ok)}, airbyteapi.ErrUnauthorized},
		{"fivetran", []watch.Option{watch.Airbyte(wd.client, wd.conn.ID()), watch.Fivetran(badFT, ok)}, fivetran.ErrUnauthorized},
	} {
		w, err := watch.New(append(c.opts, watch.Interval(10*time.Millisecond))...)
		if err != nil {
			t.Fatal(err)
		}
		errs, timedOut := ending(t, w, &watch.Cursor{})
		if timedOut || len(errs) != 1 || !errors.Is(errs[0], c.is) {
			t.Fatalf("%s credentials refused: errors %v (timed out: %v), want the watch to end with one matching %v", c.name, errs, timedOut, c.is)
		}
	}
}

func TestNeedsSomethingToWatch(t *testing.T) {
	if _, err := watch.New(); err == nil {
		t.Fatal("no error")
	}
	if _, err := watch.New(watch.Interval(0)); err == nil {
		t.Fatal("no error for a zero interval")
	}
}
