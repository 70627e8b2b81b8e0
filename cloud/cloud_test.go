package cloud

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/airbyteapi"
	"github.com/x/goairbyte/connector"
	api "github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/airbytetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/secrets"
	"github.com/x/goairbyte/source"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const fakerDef = "dfd88b22-b603-4c3d-aad7-3701784586b1"

var fast = PollInterval(20*time.Millisecond, 200*time.Millisecond)

type fixture struct {
	srv  *airbytetest.Server
	ws   *Workspace
	src  *DeployedSource
	path string
}

// setup deploys a faker source (the given config, users and products) and
// a DuckDB destination.
func setup(t *testing.T, fakerConfig map[string]any) *fixture {
	t.Helper()
	srv, ws := testWorkspace(t, airbyteapi.WithRetry(airbyteapi.RetryPolicy{MaxAttempts: 3, BaseDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond}))
	ctx := context.Background()
	faker, err := source.New(ctx, "source-faker", connector.WithLocalExecutable(testenv.BuildBinary(t, "./cmd/source-faker")),
		connector.WithConfig(fakerConfig), connector.WithStreams("users", "products"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := ws.DeploySource(ctx, "faker", faker)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, ws: ws, src: src, path: filepath.Join(t.TempDir(), "warehouse.duckdb")}
}

// testWorkspace starts a test server and returns it with its workspace,
// reached with the client credentials and opts.
func testWorkspace(t *testing.T, opts ...airbyteapi.Option) (*airbytetest.Server, *Workspace) {
	t.Helper()
	srv := airbytetest.Start(t)
	client, err := airbyteapi.New(srv.URL, append([]airbyteapi.Option{airbyteapi.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, NewWorkspace(client, srv.WorkspaceID)
}

// syncOK runs a sync of conn and waits for it to succeed.
func syncOK(t *testing.T, conn *Connection) *SyncResult {
	t.Helper()
	ctx := context.Background()
	res, err := conn.RunSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Wait(ctx, fast); err != nil {
		t.Fatal(err)
	}
	return res
}

func (f *fixture) connection(t *testing.T, opts ...ConnectionOption) *Connection {
	t.Helper()
	ctx := context.Background()
	dst, err := f.ws.DeployDestination(ctx, "warehouse "+t.Name(), "destination-duckdb", map[string]any{"destination_path": f.path})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := f.ws.DeployConnection(ctx, "faker to duckdb", f.src, dst, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func TestSyncRunsAndReadsBack(t *testing.T) {
	f := setup(t, map[string]any{"count": 40, "seed": 1})
	conn := f.connection(t, WithPrefix("faker_"))
	ctx := context.Background()
	res, err := conn.RunSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	job, err := res.Wait(ctx, fast)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != JobSucceeded {
		t.Fatalf("job %+v", job)
	}
	if got := res.Streams(); !slices.Equal(got, []string{"products", "users"}) {
		t.Fatalf("streams %v", got)
	}
	c, err := res.Cache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The faker makes as many products as users, up to its 100.
	for stream, want := range map[string]int64{"users": 40, "products": 40} {
		ds, err := c.Dataset(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := ds.Count(ctx); err != nil || n != want {
			t.Errorf("%s: %d rows (%v), want %d", stream, n, err, want)
		}
		if !strings.HasSuffix(ds.QualifiedTableName(), `."faker_`+stream+`"`) {
			t.Errorf("table %s, want the prefix", ds.QualifiedTableName())
		}
		info, _ := ds.Columns(ctx)
		var cols []string
		for _, c := range info {
			cols = append(cols, c.Name)
		}
		if !slices.Contains(cols, "id") || !slices.Contains(cols, "updated_at") {
			t.Errorf("%s: columns %v", stream, cols)
		}
	}
	if job.RowsSynced != 80 {
		t.Errorf("rowsSynced %d, want the 80 rows read back", job.RowsSynced)
	}
}

func TestFailedSyncCarriesTheReason(t *testing.T) {
	f := setup(t, map[string]any{"count": 5})
	// A source made in the UI whose config the faker refuses:
	// records_per_slice must be at least 1.
	f.src = &DeployedSource{Source: Source{ID: f.srv.AddSource("bad faker", fakerDef, map[string]any{"records_per_slice": 0})}}
	conn := f.connection(t)
	ctx := context.Background()
	res, err := conn.RunSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = res.Wait(ctx, fast)
	var se *SyncError
	if !errors.As(err, &se) || !errors.Is(err, ErrSyncFailed) {
		t.Fatalf("err = %v, want a failed *SyncError", err)
	}
	if len(se.Failures) != 1 || se.Failures[0].Type != "config_error" || se.Attempts != 1 {
		t.Fatalf("failure %+v (%d attempts), want one config_error and no retry", se.Failures, se.Attempts)
	}
	t.Log(err)
}

// A namespace format that names the source's namespace is the schema with
// that part empty for a source without namespaces, as Airbyte writes it.
func TestCacheFollowsTheNamespaceFormat(t *testing.T) {
	f := setup(t, map[string]any{"count": 5})
	conn := f.connection(t, WithNamespace("${SOURCE_NAMESPACE}raw"))
	ctx := context.Background()
	res := syncOK(t, conn)
	c, err := res.Cache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ds, err := c.Dataset(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ds.Count(ctx); err != nil || n != 5 || ds.QualifiedTableName() != `"raw"."users"` {
		t.Fatalf("%s: %d rows (%v), want 5 in schema raw", ds.QualifiedTableName(), n, err)
	}
}

func TestIncompleteIsNotAFailure(t *testing.T) {
	f := setup(t, map[string]any{"count": 20})
	conn := f.connection(t)
	f.srv.FailAttempts(conn.ID(), 2) // the third and last attempt succeeds
	ctx := context.Background()
	res, err := conn.RunSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	job, err := res.Wait(ctx, fast)
	if err != nil {
		t.Fatalf("two lost attempts then success: %v", err)
	}
	atts, err := f.ws.client.Attempts(ctx, job.ID)
	if err != nil || len(atts) != 3 || atts[0].Failures[0].Type != "transient_error" || atts[2].Status != "succeeded" {
		t.Fatalf("attempts %+v, %v", atts, err)
	}
	// Three lost attempts fail the job.
	f.srv.FailAttempts(conn.ID(), 3)
	res, _ = conn.RunSync(ctx)
	if _, err := res.Wait(ctx, fast); !errors.Is(err, ErrSyncFailed) {
		t.Fatalf("three lost attempts: %v", err)
	}
}

func TestWaitCancelsTheJobWhenItsContextEnds(t *testing.T) {
	f := setup(t, map[string]any{"count": 5})
	conn := f.connection(t)
	f.srv.HoldJobs() // the job stays queued
	res, err := conn.RunSync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := res.Wait(ctx, fast); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if res.last.Status != api.JobQueued {
		t.Errorf("the job was %s while held, want queued", res.last.Status)
	}
	j, err := f.ws.client.Job(context.Background(), res.JobID)
	if err != nil || j.Status != api.JobCancelled {
		t.Fatalf("job after Wait's timeout: %+v %v", j, err)
	}
	// With LeaveRunning the job goes on; the next sync attaches to it.
	res, _ = conn.RunSync(context.Background())
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := res.Wait(ctx2, fast, LeaveRunning()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	again, err := conn.RunSync(context.Background())
	if err != nil || !again.Attached || again.JobID != res.JobID {
		t.Fatalf("second RunSync: %+v %v; want attached to job %d", again, err, res.JobID)
	}
	f.srv.ReleaseJobs()
	if _, err := again.Wait(context.Background(), fast); err != nil {
		t.Fatal(err)
	}
}

func TestRunSyncAttachesToASyncStartedElsewhere(t *testing.T) {
	f := setup(t, map[string]any{"count": 5})
	conn := f.connection(t)
	f.srv.HoldJobs()
	id, err := f.srv.StartSync(conn.ID())
	if err != nil {
		t.Fatal(err)
	}
	res, err := conn.RunSync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Attached || res.JobID != id {
		t.Fatalf("RunSync started job %d (attached %v), want to follow job %d", res.JobID, res.Attached, id)
	}
	f.srv.ReleaseJobs()
	if _, err := res.Wait(context.Background(), fast); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.Calls("POST /jobs"); n != 1 {
		t.Errorf("%d job creations, want 1 (answered 409)", n)
	}
}

// TestLostAnswerOfASyncThatEndedMeanwhile: the server starts the sync but
// the answer is cut off, and the sync is over before the client looks for
// the job its call made. RunSync must follow that job, not start a second
// sync.
func TestLostAnswerOfASyncThatEndedMeanwhile(t *testing.T) {
	f := setup(t, map[string]any{"count": 5})
	conn := f.connection(t)
	client := f.ws.client
	// The watchdog only keeps a broken client from hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hold := make(chan struct{})
	f.srv.Inject(airbytetest.Fault{Method: "POST", Path: "/jobs", Truncate: true})
	// The client's search for its job waits until the job is over.
	f.srv.Inject(airbytetest.Fault{Method: "GET", Path: "/jobs", Hold: hold})
	go func() {
		defer close(hold)
		for f.srv.Calls("POST /jobs") == 0 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		// Job 1, the server's first. The Configuration API's call is
		// not held.
		for ctx.Err() == nil {
			if atts, err := client.Attempts(ctx, 1); err == nil && len(atts) > 0 && atts[len(atts)-1].Status == "succeeded" {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	res, err := conn.RunSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Wait(ctx, fast); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for j, err := range client.Jobs(ctx, api.JobFilter{ConnectionID: conn.ID()}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	if len(ids) != 1 || res.JobID != 1 {
		t.Fatalf("jobs %v on the server, RunSync followed job %d; want one sync, job 1", ids, res.JobID)
	}
}

func TestSyncIntoPostgres(t *testing.T) {
	dsn := testenv.Postgres(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	f := setup(t, map[string]any{"count": 30, "seed": 3})
	ctx := context.Background()
	port, _ := strconv.Atoi(u.Port())
	pw, _ := u.User.Password()
	if pw == "" {
		pw = "unused-by-trust-auth"
	}
	dst, err := f.ws.DeployDestination(ctx, "pg", "destination-postgres", map[string]any{
		"host": u.Hostname(), "port": port, "database": u.Path[1:], "schema": "analytics",
		"username": u.User.Username(), "password": pw, "ssl_mode": map[string]any{"mode": "disable"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if dst.Configuration["password"] != api.Mask {
		t.Fatalf("password not masked: %v", dst.Configuration)
	}
	conn, err := f.ws.DeployConnection(ctx, "faker to pg", f.src, dst)
	if err != nil {
		t.Fatal(err)
	}
	res := syncOK(t, conn)
	if _, err := res.Cache(ctx); err == nil {
		t.Fatal("opened a PostgreSQL destination without its password")
	}
	c, err := res.Cache(ctx, WithPassword(pw))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ds, err := c.Dataset(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := ds.Count(ctx); n != 30 {
		t.Fatalf("%d users in PostgreSQL, want 30", n)
	}
	if ds.QualifiedTableName() != `"analytics"."users"` {
		t.Errorf("table %s, want it in the destination's schema", ds.QualifiedTableName())
	}
}

func TestListAndDelete(t *testing.T) {
	f := setup(t, map[string]any{"count": 5})
	conn := f.connection(t)
	ctx := context.Background()
	n := 0
	for c, err := range f.ws.Connections(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if c.ID() == conn.ID() {
			n++
			if c.Name() != "faker to duckdb" {
				t.Fatalf("connection listed with name %q, want the one deployed", c.Name())
			}
		}
	}
	if n != 1 {
		t.Fatalf("connection listed %d times", n)
	}
	if err := f.ws.PermanentlyDeleteConnection(ctx, conn.ID(), true, true); err != nil {
		t.Fatal(err)
	}
	for range f.ws.Sources(ctx) {
		t.Fatal("the source is still there")
	}
	if _, err := f.ws.Connection(ctx, conn.ID()); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("deleted connection: %v", err)
	}
}

// TestClearJobDropsTheTables runs a clear job through the API client: the
// test server drops the synced tables, as Airbyte's clear does.
func TestClearJobDropsTheTables(t *testing.T) {
	f := setup(t, map[string]any{"count": 10})
	conn := f.connection(t)
	ctx := context.Background()
	res := syncOK(t, conn)
	before, err := res.Cache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := before.Dataset(ctx, "users"); err != nil {
		t.Fatalf("before the clear: %v", err)
	}
	before.Close()
	client := f.ws.client
	job, err := client.CreateJob(ctx, conn.ID(), api.JobTypeClear)
	if err != nil {
		t.Fatal(err)
	}
	for !job.Status.Terminal() {
		time.Sleep(20 * time.Millisecond)
		if job, err = client.Job(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
	}
	if job.Status != api.JobSucceeded || job.JobType != api.JobTypeClear {
		t.Fatalf("clear job %+v", job)
	}
	c, err := res.Cache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Dataset(ctx, "users"); err == nil {
		t.Fatal("the users table survived the clear")
	} else {
		t.Log(err)
	}
}

// tenantVault is a secret manager of one Environment only.
type tenantVault map[string]string

func (v tenantVault) Name() string { return "tenant vault" }
func (v tenantVault) Get(_ context.Context, name string) (secrets.SecretString, bool, error) {
	s, ok := v[name]
	return secrets.NewSecretString(s), ok, nil
}

// TestDeploySourceResolvesSecretsAsTheSourceDoes: a config's SecretString
// values, and references that only the source's own Environment can
// resolve, reach the workspace resolved, as they reach the connector when
// the source runs locally.
func TestDeploySourceResolvesSecretsAsTheSourceDoes(t *testing.T) {
	_, ws := testWorkspace(t)
	ctx := context.Background()
	env := connector.NewEnvironment()
	env.AddSecretManager(tenantVault{"TENANT_NOTE": "tenant-note-4f1c"})
	faker, err := source.New(ctx, "source-faker", connector.WithEnvironment(env),
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./cmd/source-faker")),
		connector.WithConfig(map[string]any{"count": 5, "label": secrets.NewSecretString("label-9b2e"), "note": "secret_reference::TENANT_NOTE"}))
	if err != nil {
		t.Fatal(err)
	}
	deployed, err := ws.DeploySource(ctx, "faker", faker)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	got, err := ws.client.Source(ctx, deployed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Configuration["label"] != "label-9b2e" || got.Configuration["note"] != "tenant-note-4f1c" {
		t.Fatalf("the workspace holds %v", got.Configuration)
	}
}

// TestRunSyncOfAnInactiveConnection: Airbyte refuses to sync a connection
// that is not active with a 409 whose message says only "Could not fulfill
// request", the status of a connection already syncing. RunSync must say
// the connection is inactive and how to start it, not that it is busy.
func TestRunSyncOfAnInactiveConnection(t *testing.T) {
	f := setup(t, map[string]any{"count": 5})
	conn := f.connection(t)
	ctx := context.Background()
	inactive := api.StatusInactive
	if _, err := f.ws.client.PatchConnection(ctx, conn.ID(), api.ConnectionPatch{Status: &inactive}); err != nil {
		t.Fatal(err)
	}
	_, err := conn.RunSync(ctx)
	if err == nil {
		t.Fatal("RunSync of an inactive connection started a sync")
	}
	if !errors.Is(err, airbyteapi.ErrConflict) || !strings.Contains(err.Error(), "inactive") || strings.Contains(err.Error(), "busy") {
		t.Fatalf("err = %v; want a conflict saying the connection is inactive", err)
	}
	if n := f.srv.Calls("GET /jobs"); n != 0 {
		t.Errorf("%d job listings for a connection that is inactive, not busy", n)
	}
	t.Log(err)
}

// TestDeployRefusesAConfigTheSpecRefuses: Airbyte checks a destination's
// config against its connector's spec and answers 422 naming each field
// at fault, never a secret's value; the destination is not made.
func TestDeployRefusesAConfigTheSpecRefuses(t *testing.T) {
	f := setup(t, map[string]any{"count": 5})
	ctx := context.Background()
	const key = "md-key-0b7d41"
	_, err := f.ws.DeployDestination(ctx, "warehouse", "destination-duckdb", map[string]any{"motherduck_api_key": key, "schema": 7})
	var ae *api.APIError
	if !errors.As(err, &ae) || ae.Status != 422 {
		t.Fatalf("err = %v, want Airbyte's 422", err)
	}
	for _, want := range []string{"destination_path", "schema"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), key) {
		t.Fatalf("the error shows the secret: %v", err)
	}
	for d, err := range f.ws.client.Destinations(ctx, f.srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		t.Errorf("destination %q was made", d.Name)
	}
}

// TestRunSyncWhileAClearRuns: a clear job blocks a sync (409), and Airbyte
// lists a clear job only when asked for its type: RunSync must still find
// the job that runs and follow it, not say the connection runs none.
func TestRunSyncWhileAClearRuns(t *testing.T) {
	f := setup(t, map[string]any{"count": 5})
	conn := f.connection(t)
	ctx := context.Background()
	f.srv.HoldJobs()
	clear, err := f.ws.client.CreateJob(ctx, conn.ID(), api.JobTypeClear)
	if err != nil {
		t.Fatal(err)
	}
	res, err := conn.RunSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Attached || res.JobID != clear.ID {
		t.Fatalf("RunSync started job %d (attached %v), want to follow the clear job %d", res.JobID, res.Attached, clear.ID)
	}
	f.srv.ReleaseJobs()
	if _, err := res.Wait(ctx, fast); err != nil {
		t.Fatal(err)
	}
}

// TestWaitGivenUpAfterTheJobEnded: Airbyte refuses to cancel a job that
// has ended (409 "Job is not currently running"). A Wait whose context
// ends as the job ends says how the job ended, not that the cancellation
// failed.
func TestWaitGivenUpAfterTheJobEnded(t *testing.T) {
	f := setup(t, map[string]any{"count": 5})
	res := syncOK(t, f.connection(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := res.Wait(ctx, fast)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "succeeded") || strings.Contains(err.Error(), "failed too") {
		t.Fatalf("err = %v; want the context's error saying the job had succeeded", err)
	}
	t.Log(err)
}

// TestWaitCancelsOnceWhenTheAnswerIsLost: the answer to the cancellation
// is lost after Airbyte acted on it; the client's second try is refused
// (the job is no longer running), and the job was cancelled all the same.
func TestWaitCancelsOnceWhenTheAnswerIsLost(t *testing.T) {
	f := setup(t, map[string]any{"count": 5})
	conn := f.connection(t)
	f.srv.HoldJobs()
	res, err := conn.RunSync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Inject(airbytetest.Fault{Method: "DELETE", Path: "/jobs", Drop: true, After: true})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = res.Wait(ctx, fast)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "cancelled") || strings.Contains(err.Error(), "failed too") {
		t.Fatalf("err = %v; want the job cancelled", err)
	}
	if j, err := f.ws.client.Job(context.Background(), res.JobID); err != nil || j.Status != api.JobCancelled {
		t.Fatalf("job after Wait: %+v %v", j, err)
	}
}
