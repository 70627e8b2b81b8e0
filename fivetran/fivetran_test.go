package fivetran

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/fakersync"
	"github.com/x/goairbyte/internal/fivetrantest"
	"github.com/x/goairbyte/internal/httpretry"
	"github.com/x/goairbyte/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var fast = PollInterval(20*time.Millisecond, 100*time.Millisecond)

func setup(t *testing.T) (*fivetrantest.Server, *Client) {
	t.Helper()
	srv := fivetrantest.Start(t)
	c, err := New(fivetrantest.APIKey, fivetrantest.APISecret, WithBaseURL(srv.URL),
		withRetry(httpretry.Policy{MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: 1500 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func add(t *testing.T, srv *fivetrantest.Server, schedule string, cfg map[string]any) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "duckdb")
	id := srv.AddConnection(fivetrantest.Connection{GroupID: "group_1", Schema: "faker_data", ScheduleType: schedule,
		FakerConfig: cfg, Streams: []string{"users", "products"}, Destination: fakersync.Destination{DuckDBPath: path}})
	return id, path
}

func rows(t *testing.T, path, stream string) int64 {
	t.Helper()
	c, err := fakersync.Open(context.Background(), fakersync.Destination{DuckDBPath: path, Schema: "faker_data"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ds, err := c.Dataset(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ds.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSyncAndPoll(t *testing.T) {
	srv, c := setup(t)
	id, path := add(t, srv, "auto", map[string]any{"count": 30, "seed": 4})
	res, err := c.SyncAndPoll(context.Background(), id, fast)
	if err != nil {
		t.Fatal(err)
	}
	if res.Triggers != 1 || res.Connection.SucceededAt == nil || len(res.Tables) != 2 {
		t.Fatalf("result %+v", res)
	}
	users := res.Tables[1]
	if users.Schema != "faker_data" || users.Name != "users" || len(users.Columns) < 10 {
		t.Fatalf("users table %+v", users)
	}
	pk := 0
	for _, col := range users.Columns {
		if col.PrimaryKey {
			pk++
			if col.Name != "id" {
				t.Errorf("primary key %q", col.Name)
			}
		}
	}
	if pk != 1 {
		t.Errorf("%d primary key columns", pk)
	}
	if n := rows(t, path, "users"); n != 30 {
		t.Fatalf("%d users in the destination, want 30", n)
	}
	// A second sync is told from the first by max(succeeded_at, failed_at).
	if _, err := c.SyncAndPoll(context.Background(), id, fast); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls("POST /v1/connections/{id}/sync"); n != 2 {
		t.Errorf("%d triggers, want 2", n)
	}
}

func TestFailedSync(t *testing.T) {
	srv, c := setup(t)
	id, _ := add(t, srv, "auto", map[string]any{"records_per_slice": 0})
	_, err := c.SyncAndPoll(context.Background(), id, fast)
	var fe *SyncFailedError
	if !errors.As(err, &fe) || len(fe.Tasks) != 1 {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}

// TestManualRescheduleIsTriggeredAgain: a manual connection rescheduled
// for lack of quota never resumes by itself; SyncAndPoll triggers it again
// once rescheduled_for has passed.
func TestManualRescheduleIsTriggeredAgain(t *testing.T) {
	srv, c := setup(t)
	id, path := add(t, srv, "manual", map[string]any{"count": 10})
	srv.Quota(id, 700*time.Millisecond)
	start := time.Now()
	res, err := c.SyncAndPoll(context.Background(), id, fast)
	if err != nil {
		t.Fatal(err)
	}
	if res.Triggers != 2 {
		t.Fatalf("%d triggers, want 2", res.Triggers)
	}
	if d := time.Since(start); d < 700*time.Millisecond {
		t.Fatalf("finished after %v, before rescheduled_for", d)
	}
	if n := rows(t, path, "users"); n != 10 {
		t.Fatalf("%d users", n)
	}
}

func TestAutoRescheduleResumesByItself(t *testing.T) {
	srv, c := setup(t)
	id, _ := add(t, srv, "auto", map[string]any{"count": 10})
	srv.Quota(id, 500*time.Millisecond)
	res, err := c.SyncAndPoll(context.Background(), id, fast)
	if err != nil {
		t.Fatal(err)
	}
	if res.Triggers != 1 {
		t.Fatalf("%d triggers on the auto schedule, want 1", res.Triggers)
	}
}

func TestRescheduledErrorWhenAsked(t *testing.T) {
	srv, c := setup(t)
	id, _ := add(t, srv, "manual", map[string]any{"count": 10})
	srv.Quota(id, time.Hour)
	_, err := c.SyncAndPoll(context.Background(), id, fast, FailOnReschedule())
	var re *RescheduledError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Until(re.RetryAt); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("RetryAt in %v, want about an hour", d)
	}
	if srv.SyncState(id) != stateRescheduled {
		t.Fatal("not rescheduled")
	}
	// An hour later (on the server's clock) a trigger runs it.
	srv.Clock.Advance(time.Hour)
	if _, err := c.SyncAndPoll(context.Background(), id, fast); err != nil {
		t.Fatal(err)
	}
}

func TestResyncTables(t *testing.T) {
	srv, c := setup(t)
	id, path := add(t, srv, "auto", map[string]any{"count": 20})
	ctx := context.Background()
	if _, err := c.SyncAndPoll(ctx, id, fast); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResyncAndPoll(ctx, id, map[string][]string{"faker_data": {"users"}}, fast); err != nil {
		t.Fatal(err)
	}
	if n := rows(t, path, "users"); n != 20 {
		t.Fatalf("%d users after the table resync", n)
	}
	if _, err := c.ResyncAndPoll(ctx, id, nil, fast); err != nil {
		t.Fatal(err)
	}
	var ae *apiError
	if _, err := c.ResyncAndPoll(ctx, id, map[string][]string{"faker_data": {"orders"}}, fast); !errors.As(err, &ae) || ae.Status != 400 {
		t.Fatalf("resync of an unknown table: %v", err)
	}
}

func TestPausedAndSwitchToManual(t *testing.T) {
	srv, c := setup(t)
	id, _ := add(t, srv, "auto", map[string]any{"count": 5})
	ctx := context.Background()
	if _, err := c.setPaused(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SyncAndPoll(ctx, id, fast); !errors.Is(err, ErrPaused) {
		t.Fatalf("paused: %v", err)
	}
	if _, err := c.setPaused(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	res, err := c.SyncAndPoll(ctx, id, fast, SwitchToManual())
	if err != nil {
		t.Fatal(err)
	}
	if res.Connection.ScheduleType != "manual" {
		t.Fatalf("schedule %q", res.Connection.ScheduleType)
	}
}

func TestRetriesAndPaging(t *testing.T) {
	srv, c := setup(t)
	for range 130 {
		add(t, srv, "auto", nil)
	}
	srv.Inject(fivetrantest.Fault{Path: "/v1/connections", Status: 503})
	srv.Inject(fivetrantest.Fault{Path: "/v1/connections", Status: 429, RetryAfter: time.Second})
	srv.Inject(fivetrantest.Fault{Path: "/v1/connections", Drop: true})
	n := 0
	for _, err := range c.connections(context.Background(), "group_1") {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 130 {
		t.Fatalf("%d connections listed, want 130", n)
	}
	if _, err := New("key", ""); err == nil {
		t.Fatal("no secret: no error")
	}
	bad, _ := New("key", "wrong", WithBaseURL(srv.URL))
	var ae *apiError
	if _, err := bad.Connection(context.Background(), "x"); !errors.As(err, &ae) || ae.Status != 401 || !errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrNotFound) {
		t.Fatalf("bad credentials: %v, want an error matching ErrUnauthorized", err)
	}
}

// TestPagingThatCyclesEnds: a next_cursor that leads back to a page
// already listed must end the listing with an error, not list forever;
// also when the pages of the cycle are empty, so that no connection is
// ever listed twice.
func TestPagingThatCyclesEnds(t *testing.T) {
	for name, cycle := range map[string]func(*fivetrantest.Server){
		"to the first page":   (*fivetrantest.Server).CycleCursor,
		"through empty pages": (*fivetrantest.Server).CycleEmptyPages,
	} {
		t.Run(name, func(t *testing.T) {
			srv, c := setup(t)
			for range 130 {
				add(t, srv, "auto", nil)
			}
			cycle(srv)
			// The watchdog only keeps a broken client from hanging the test.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			n := 0
			var err error
			for _, e := range c.connections(ctx, "group_1") {
				if err = e; err != nil {
					break
				}
				n++
			}
			if err == nil || ctx.Err() != nil {
				t.Fatalf("a cursor cycle: err %v after %d connections and %d requests (context: %v); want an error before the watchdog",
					err, n, srv.Calls("GET /v1/connections"), ctx.Err())
			}
			if n != 130 || !strings.Contains(err.Error(), "cursor") {
				t.Errorf("%d connections then %q; want the 130 once, then an error about the cursor", n, err)
			}
		})
	}
}

// TestCutOffAnswer sends answers whose body is cut off: a cut-off answer is
// retried, and one that stays cut off is an error, never an empty success.
func TestCutOffAnswer(t *testing.T) {
	srv, c := setup(t)
	id, _ := add(t, srv, "auto", nil)
	srv.Inject(fivetrantest.Fault{Path: "/v1/connections/", Truncate: true})
	conn, err := c.Connection(context.Background(), id)
	if err != nil || conn.ID != id {
		t.Fatalf("after one cut-off answer: %+v, %v", conn, err)
	}
	srv.Inject(fivetrantest.Fault{Path: "/v1/connections/", Truncate: true, Times: 100})
	conn, err = c.Connection(context.Background(), id)
	if err == nil || !strings.Contains(err.Error(), "reading the answer") {
		t.Fatalf("cut off every time: %+v, %v", conn, err)
	}
}

// TestCredentialsMaskedInErrors: an answer that quotes the credentials
// (the key, the secret, the Authorization header) shows them masked in the
// error: the API key is half of the credential, as secret as the other.
func TestCredentialsMaskedInErrors(t *testing.T) {
	const key, secret = "ft-key-3a9d0c7e", "ft-secret-b41f"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"code": "AuthFailed", "message": "no account has the key %s (secret %s, header %s)"}`,
			key, secret, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	c, err := New(key, secret, WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Connection(context.Background(), "c1")
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), "no account has the key") {
		t.Fatalf("err = %v", err)
	}
	for _, s := range []string{key, secret, "Basic ZnQta2V5"} {
		if strings.Contains(err.Error(), s) || strings.Contains(ae.Message, s) {
			t.Errorf("the error shows %s: %v", s, err)
		}
	}
}

// TestPastRescheduleIsNotTriggeredOnEveryPoll: the server's clock is an
// hour behind ours, so the rescheduled_for it gives is already past for the
// client, while the server refuses a trigger until its own clock gets
// there. The client triggers once for that time, then polls at its growing
// interval without triggering again until the interval is the longest: it
// does not send a sync on every poll.
func TestPastRescheduleIsNotTriggeredOnEveryPoll(t *testing.T) {
	srv, c := setup(t)
	id, _ := add(t, srv, "manual", map[string]any{"count": 10})
	srv.Clock.Advance(-time.Hour)
	srv.Quota(id, 30*time.Minute) // half an hour ago on the client's clock
	// The watchdog only keeps a broken client from hanging the test.
	watchdog, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	polls := func() int { return srv.Calls("GET /v1/connections/{id}") }
	triggers := func() int { return srv.Calls("POST /v1/connections/{id}/sync") }
	waitPolls := func(n int, done <-chan error) {
		t.Helper()
		for polls() < n {
			select {
			case err := <-done:
				t.Fatalf("SyncAndPoll ended after %d polls: %v", polls(), err)
			case <-watchdog.Done():
				t.Fatalf("only %d polls before the watchdog", polls())
			case <-time.After(2 * time.Millisecond):
			}
		}
	}

	// The longest interval is an hour: in the first polls the client
	// triggers the sync that ran out of quota, then once for the past
	// rescheduled_for, and no more.
	ctx, cancel := context.WithCancel(watchdog)
	done := make(chan error, 1)
	go func() {
		_, err := c.SyncAndPoll(ctx, id, PollInterval(time.Millisecond, time.Hour))
		done <- err
	}()
	waitPolls(1+8, done)
	if n := triggers(); n != 2 {
		t.Errorf("%d triggers in %d polls of a rescheduled_for already past; want 2 (the sync, then one for the reschedule)", n, polls()-1)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}

	// Once the server's clock has passed rescheduled_for, a trigger at the
	// longest interval runs the sync.
	before := polls()
	go func() {
		res, err := c.SyncAndPoll(watchdog, id, PollInterval(time.Millisecond, 20*time.Millisecond))
		if err == nil && res.Triggers < 3 {
			err = fmt.Errorf("%d triggers, want at least 3", res.Triggers)
		}
		done <- err
	}()
	waitPolls(before+1+8, done)
	srv.Clock.Advance(time.Hour)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPastAutoRescheduleBacksOff: on the auto schedule, a rescheduled_for
// already past (the server's clock is behind) must not pin the polls to the
// shortest interval until the server resumes the sync: the interval keeps
// doubling. The client's sleeps are at least what it asks for, so in 300 ms
// at intervals of 1, 2, 4, ... ms it cannot poll more than 9 times, however
// slow the machine; at the shortest interval it polls about once a
// millisecond.
func TestPastAutoRescheduleBacksOff(t *testing.T) {
	srv, c := setup(t)
	id, _ := add(t, srv, "auto", map[string]any{"count": 10})
	srv.Clock.Advance(-time.Hour)
	srv.Quota(id, 30*time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := c.SyncAndPoll(ctx, id, PollInterval(time.Millisecond, time.Hour)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if n := srv.Calls("GET /v1/connections/{id}") - 1; n > 9 {
		t.Errorf("%d polls in 300 ms at intervals from 1 ms doubling; want at most 9", n)
	}
	if n := srv.Calls("POST /v1/connections/{id}/sync"); n != 1 {
		t.Errorf("%d triggers on the auto schedule, want 1", n)
	}
}

// TestRescheduledResyncKeepsItsTables: a table resync that runs out of
// quota on a manual connection is triggered again by ResyncAndPoll once
// rescheduled_for has passed; Fivetran resumes the resync that was
// rescheduled (is_historical_sync stays true), so only the tables asked
// for are synced again. The products table, emptied behind Fivetran's
// back, shows it: a resync of users leaves it empty, a sync of the whole
// connection would fill it.
func TestRescheduledResyncKeepsItsTables(t *testing.T) {
	srv, c := setup(t)
	id, path := add(t, srv, "manual", map[string]any{"count": 20})
	ctx := context.Background()
	if _, err := c.SyncAndPoll(ctx, id, fast); err != nil {
		t.Fatal(err)
	}
	cc, err := fakersync.Open(ctx, fakersync.Destination{DuckDBPath: path, Schema: "faker_data"})
	if err != nil {
		t.Fatal(err)
	}
	products, err := cc.Dataset(ctx, "products")
	if err == nil {
		_, err = cc.ExecSQL(ctx, "DELETE FROM "+products.QualifiedTableName())
	}
	cc.Close()
	if err != nil {
		t.Fatal(err)
	}
	srv.Quota(id, 300*time.Millisecond)
	res, err := c.ResyncAndPoll(ctx, id, map[string][]string{"faker_data": {"users"}}, fast)
	if err != nil {
		t.Fatal(err)
	}
	if res.Triggers != 2 {
		t.Fatalf("%d triggers, want 2 (the resync, then again after the reschedule)", res.Triggers)
	}
	if n := rows(t, path, "users"); n != 20 {
		t.Errorf("%d users after the resync, want 20", n)
	}
	if n := rows(t, path, "products"); n != 0 {
		t.Errorf("%d products after a resync of users alone: the trigger after the reschedule synced the whole connection", n)
	}
}
