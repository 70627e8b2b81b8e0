package main_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	api "github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/airbytetest"
	"github.com/x/goairbyte/internal/fakersync"
	"github.com/x/goairbyte/internal/fivetrantest"
)

// remoteCommands are the commands of remote_cmds.go.
var remoteCommands = []string{"plan", "apply", "airbyte", "fivetran", "watch"}

// airbyteEnv is what goab needs to reach the test server, the client
// secret given as a secret reference.
func airbyteEnv(srv *airbytetest.Server) []string {
	return []string{
		"AIRBYTE_CLOUD_API_URL=" + srv.URL,
		"AIRBYTE_CLOUD_CLIENT_ID=" + airbytetest.ClientID,
		"AIRBYTE_CLOUD_CLIENT_SECRET=secret_reference::TEST_AB_SECRET",
		"TEST_AB_SECRET=" + airbytetest.ClientSecret,
		"AIRBYTE_CLOUD_WORKSPACE_ID=" + srv.WorkspaceID,
	}
}

func TestPlanApplyAndSync(t *testing.T) {
	srv := airbytetest.Start(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "connections.yaml")
	warehouse := filepath.Join(dir, "warehouse.duckdb")
	yaml := `sources:
  faker: {type: source-faker, config: {count: 25, seed: 2}}
destinations:
  warehouse: {type: destination-duckdb, config: {destination_path: ` + warehouse + `}}
connections:
  faker-to-warehouse:
    source: faker
    destination: warehouse
    streams: {users: {sync_mode: full_refresh_overwrite}}
`
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	env := airbyteEnv(srv)

	r := goab(t, env, "plan", "-f", file)
	r.want(t, 2)
	if !strings.HasPrefix(r.stdout, "+ source: faker\n") || !strings.Contains(r.stdout, "+ connection: faker-to-warehouse") {
		t.Fatalf("plan printed:\n%s", r.stdout)
	}
	goab(t, env, "apply", "-f", file).want(t, 0)
	r = goab(t, env, "plan", "-f", file)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "No changes") {
		t.Fatalf("plan after apply:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "connections.state.json")); err != nil {
		t.Fatalf("no state file: %v", err)
	}

	client, _ := api.New(srv.URL, api.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret))
	var id string
	for c, err := range client.Connections(context.Background(), srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		id = c.ID
	}
	r = goab(t, env, "airbyte", "sync", id, "--wait", "--timeout", "2m", "--poll", "50ms")
	r.want(t, 0)
	if !strings.Contains(r.stdout, "succeeded: 25 rows") || strings.Contains(r.stdout, " PT") { // "in 1s", not "in PT1S"
		t.Fatalf("sync printed:\n%s\n%s", r.stdout, r.stderr)
	}
	r = goab(t, env, "airbyte", "jobs", "--connection", id)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "succeeded") || strings.Count(r.stdout, "\n") != 2 {
		t.Fatalf("jobs printed:\n%s", r.stdout)
	}
	// A connection by its name, as the file names it (a 404 before):
	// sync and jobs find its id in the workspace; a name it lacks lists
	// those it has.
	r = goab(t, env, "airbyte", "sync", "faker-to-warehouse", "--wait", "--timeout", "2m", "--poll", "50ms")
	r.want(t, 0)
	if !strings.Contains(r.stdout, "succeeded: 25 rows") {
		t.Fatalf("sync by name printed:\n%s\n%s", r.stdout, r.stderr)
	}
	r = goab(t, env, "airbyte", "jobs", "--connection", "faker-to-warehouse")
	r.want(t, 0)
	if strings.Count(r.stdout, id) != 2 {
		t.Fatalf("jobs by name printed:\n%s", r.stdout)
	}
	r = goab(t, env, "airbyte", "sync", "faker-to-warehous")
	r.want(t, 2)
	if p := errorParagraph(t, r); !strings.Contains(p, `no connection named or with id "faker-to-warehous"; its connections are "faker-to-warehouse"`) {
		t.Errorf("a name not there: %s", p)
	}
	// watch finds its connections first: by name, and an id that is not
	// there is refused, where it was watched in silence for ever.
	cursor := filepath.Join(dir, "watch.json")
	goab(t, env, "watch", "--airbyte", "faker-to-warehouse", "--cursor", cursor, "--for", "100ms").want(t, 0)
	if b, err := os.ReadFile(cursor); err != nil || !strings.Contains(string(b), id) {
		t.Errorf("the cursor of a watch by name does not hold the connection's id %s: %s %v", id, b, err)
	}
	// It reads each connection once at start: its check is the watcher's
	// first poll (it was goab's own lookup, then that poll, again).
	reads := srv.Calls("GET /connections/{id}")
	goab(t, env, "watch", "--airbyte", id, "--cursor", cursor, "--interval", "1h", "--for", "300ms").want(t, 0)
	if n := srv.Calls("GET /connections/{id}") - reads; n != 1 {
		t.Errorf("watch read its one connection %d times at start, want once", n)
	}
	os.WriteFile(cursor, []byte(`{"airbyte": {"`+id+`": 0}}`), 0o644)
	reads = srv.Calls("GET /connections/{id}")
	r = goab(t, env, "watch", "--airbyte", id+",00000000-0000-4000-8000-000000000000", "--cursor", cursor, "--for", "5s")
	r.want(t, 2)
	if p := errorParagraph(t, r); !strings.Contains(p, "--airbyte: no connection 00000000-0000-4000-8000-000000000000") {
		t.Errorf("watch of a connection not there: %s", p)
	}
	// The one not there is refused before anything is watched: the
	// sync of the one there, after the cursor's job, is not printed.
	if r.stdout != "" || srv.Calls("GET /connections/{id}")-reads != 2 {
		t.Errorf("watch of a connection not there printed %q, after %d reads of connections, want nothing and 2",
			r.stdout, srv.Calls("GET /connections/{id}")-reads)
	}
	// --timeout passing says so, and that the job was cancelled, where
	// the error was "job N cancelled: context deadline exceeded".
	srv.HoldJobs()
	r = goab(t, env, "airbyte", "sync", id, "--wait", "--timeout", "300ms", "--poll", "50ms")
	srv.ReleaseJobs()
	r.want(t, 1)
	if p := errorParagraph(t, r); !strings.Contains(p, "did not end within --timeout 300ms and was cancelled") {
		t.Errorf("a sync past its --timeout: %s", p)
	}
	// The web app's address given for the API's: goab says where the
	// API is, beside the refusal every call then gets.
	root := strings.TrimSuffix(srv.URL, airbytetest.PublicPrefix)
	r = goab(t, append(env, "AIRBYTE_CLOUD_API_URL="+root), "airbyte", "jobs", "--attempts", "1")
	r.want(t, 1)
	if !strings.Contains(r.stderr, "a self-managed Airbyte's API root is "+root+"/api/public/v1") {
		t.Errorf("an API URL without a path: %s", r.stderr)
	}
	// The client secret never shows, even in an error.
	r = goab(t, append(env, "AIRBYTE_CLOUD_API_URL=http://127.0.0.1:1/api/public/v1"), "airbyte", "jobs", "--attempts", "1")
	r.want(t, 1)
	if strings.Contains(r.stderr, airbytetest.ClientSecret) {
		t.Fatalf("the secret leaked: %s", r.stderr)
	}
}

// TestPlanApplyDeleteRemoved: --delete-removed deletes what the file applied
// and no longer declares; without it, the plan says there is nothing to
// do. An apply with nothing to change records what the file declares, so
// that a state file without ids (an older goab's) learns them.
func TestPlanApplyDeleteRemoved(t *testing.T) {
	srv := airbytetest.Start(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "connections.yaml")
	state := filepath.Join(dir, "connections.state.json")
	actors := `sources:
  faker: {type: source-faker, config: {count: 25, seed: 2}}
destinations:
  warehouse: {type: destination-duckdb, config: {destination_path: ` + filepath.Join(dir, "warehouse.duckdb") + `}}
`
	conn := `connections:
  faker-to-warehouse: {source: faker, destination: warehouse}
`
	if err := os.WriteFile(file, []byte(actors+conn), 0o644); err != nil {
		t.Fatal(err)
	}
	env := airbyteEnv(srv)
	goab(t, env, "apply", "-f", file).want(t, 0)
	// The state file of an older goab: no ids.
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil || st["ids"] == nil {
		t.Fatalf("state %s: %v", b, err)
	}
	delete(st, "ids")
	b, _ = json.Marshal(st)
	if err := os.WriteFile(state, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := goab(t, env, "apply", "-f", file)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "No changes") {
		t.Fatalf("apply with nothing to change:\n%s", r.stdout)
	}
	if b, err := os.ReadFile(state); err != nil || !strings.Contains(string(b), `"connection/faker-to-warehouse"`) {
		t.Fatalf("apply with nothing to change recorded no ids: %s %v", b, err)
	}

	if err := os.WriteFile(file, []byte(actors), 0o644); err != nil {
		t.Fatal(err)
	}
	// Another team's source: --delete-removed leaves it alone.
	srv.AddSource("made-in-the-ui", "dfd88b22-b603-4c3d-aad7-3701784586b1", map[string]any{"count": 1})
	r = goab(t, env, "plan", "-f", file)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "No changes") {
		t.Fatalf("plan without --delete-removed:\n%s", r.stdout)
	}
	const want = "- connection: faker-to-warehouse (removed from the file that applied it)\n"
	r = goab(t, env, "plan", "-f", file, "--delete-removed")
	r.want(t, 2)
	if r.stdout != want {
		t.Fatalf("plan --delete-removed printed:\n%s", r.stdout)
	}
	r = goab(t, env, "apply", "-f", file, "--delete-removed")
	r.want(t, 0)
	if !strings.HasPrefix(r.stdout, want) {
		t.Fatalf("apply --delete-removed printed:\n%s", r.stdout)
	}
	goab(t, env, "plan", "-f", file, "--delete-removed").want(t, 0)
	client, _ := api.New(srv.URL, api.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret))
	for c, err := range client.Connections(context.Background(), srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		t.Errorf("connection %q left after apply --delete-removed", c.Name)
	}
	n := 0
	for _, err := range client.Sources(context.Background(), srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d sources after apply --delete-removed, want faker and made-in-the-ui", n)
	}
}

// TestConfigAPIURL: behind a proxy that serves the public API under a root
// the client cannot derive the Configuration API's from, plan says to pass
// --config-api-url (it said "use WithConfigAPIURL", an option of the Go
// library goab's user cannot give), and works with it; so does the failure
// of airbyte sync --wait, which reads the reasons from that API.
func TestConfigAPIURL(t *testing.T) {
	srv := airbytetest.Start(t)
	up, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(&url.URL{Scheme: up.Scheme, Host: up.Host})
		r.Out.URL.Path = up.Path + strings.TrimPrefix(r.In.URL.Path, "/airbyte")
		r.Out.URL.RawPath = ""
	}})
	t.Cleanup(proxy.Close)
	file := fakerFile(t, "streams: {users: {sync_mode: full_refresh_overwrite}}")
	env := append(airbyteEnv(srv), "AIRBYTE_CLOUD_API_URL="+proxy.URL+"/airbyte")
	saysFlag := func(what string, r result) {
		t.Helper()
		if p := errorParagraph(t, r); !strings.Contains(p, "--config-api-url") || goAPIs.MatchString(p) {
			t.Fatalf("%s said: %s", what, p)
		}
	}

	r := goab(t, env, "plan", "-f", file)
	r.want(t, 1)
	saysFlag("plan", r)
	r = goab(t, env, "apply", "-f", file, "--config-api-url", srv.ConfigURL())
	r.want(t, 0)
	if !strings.Contains(r.stdout, "+ source: faker\n") {
		t.Fatalf("apply printed:\n%s\n%s", r.stdout, r.stderr)
	}

	client, _ := api.New(srv.URL, api.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret))
	var id string
	for c, err := range client.Connections(context.Background(), srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		id = c.ID
	}
	srv.FailAttempts(id, 3)
	r = goab(t, env, "airbyte", "sync", id, "--wait", "--timeout", "2m", "--poll", "50ms")
	r.want(t, 1)
	saysFlag("a failed sync", r)
}

func TestRemoteUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plan"}, "-f connections.yaml is required"},
		{[]string{"apply", "-f", "/no/such/file.yaml"}, "no such file"},
		{[]string{"airbyte"}, "say sync CONNECTION or jobs"},
		{[]string{"airbyte", "launch"}, `unknown subcommand "launch"`},
		{[]string{"airbyte", "sync", "my-connection", "--bearer-token", "t"}, `"my-connection" is not a connection id; to name a connection by its name, give its workspace with --workspace`},
		{[]string{"airbyte", "jobs", "--client-id", "x"}, "need both --client-id and --client-secret"},
		{[]string{"fivetran", "sync"}, "say sync CONNECTION or resync CONNECTION"},
		{[]string{"fivetran", "sync", "c", "--tables", "a.b"}, "--tables goes with resync"},
		{[]string{"fivetran", "resync", "c", "--tables", "nodot"}, `"nodot" is not schema.table`},
		{[]string{"fivetran", "sync", "c"}, "Fivetran needs --api-key and --api-secret"},
		{[]string{"watch", "--airbyte", "c"}, "--cursor FILE is required"},
		{[]string{"watch", "--cursor", "c.json"}, "give --airbyte or --fivetran"},
	} {
		r := goab(t, nil, c.args...)
		r.want(t, 2)
		if p := errorParagraph(t, r); !strings.Contains(p, c.want) {
			t.Errorf("goab %v: %q does not say %q", c.args, p, c.want)
		}
	}
}

func TestRemoteHelp(t *testing.T) {
	for _, name := range remoteCommands {
		r := goab(t, nil, name, "--help")
		r.want(t, 0)
		if !strings.Contains(r.stdout, "Usage: goab "+name) || !strings.Contains(r.stdout, "Example:\n  goab ") {
			t.Errorf("goab %s --help:\n%s", name, r.stdout)
		}
	}
	// watch reads only the public API's jobs: a Configuration API flag
	// there would be accepted and never used.
	if r := goab(t, nil, "watch", "--help"); strings.Contains(r.stdout, "--config-api-url") {
		t.Errorf("goab watch offers --config-api-url, which it never uses:\n%s", r.stdout)
	}
}

func TestFivetranAndWatch(t *testing.T) {
	srv := fivetrantest.Start(t)
	dir := t.TempDir()
	id := srv.AddConnection(fivetrantest.Connection{Schema: "shop", ScheduleType: "manual", FakerConfig: map[string]any{"count": 12},
		Streams: []string{"users", "purchases"}, Destination: fakersync.Destination{DuckDBPath: filepath.Join(dir, "warehouse.duckdb")}})
	env := []string{"FIVETRAN_API_URL=" + srv.URL, "FIVETRAN_API_KEY=" + fivetrantest.APIKey,
		"FIVETRAN_API_SECRET=secret_reference::FT_SECRET", "FT_SECRET=" + fivetrantest.APISecret}
	cursor := filepath.Join(dir, "cursor.json")

	// The first watch round learns where the connection is; nothing yet.
	r := goab(t, env, "watch", "--fivetran", id, "--cursor", cursor, "--interval", "50ms", "--for", "300ms")
	r.want(t, 0)
	if r.stdout != "" {
		t.Fatalf("the first watch printed %q", r.stdout)
	}
	r = goab(t, env, "fivetran", "sync", id, "--poll", "20ms")
	r.want(t, 0)
	if !strings.Contains(r.stdout, "after 1 trigger(s)") || !strings.Contains(r.stdout, "shop.users") {
		t.Fatalf("fivetran sync printed:\n%s", r.stdout)
	}
	srv.Quota(id, 300*time.Millisecond)
	r = goab(t, env, "fivetran", "resync", id, "--tables", "shop.users", "--poll", "20ms")
	r.want(t, 0)
	if !strings.Contains(r.stdout, "after 2 trigger(s)") {
		t.Fatalf("resync after a quota reschedule printed:\n%s", r.stdout)
	}
	// Past its --timeout (the sync rescheduled for an hour), sync says so.
	srv.Quota(id, time.Hour)
	r = goab(t, env, "fivetran", "sync", id, "--poll", "20ms", "--timeout", "300ms")
	r.want(t, 1)
	if p := errorParagraph(t, r); !strings.Contains(p, "the sync of "+id+" did not end within --timeout 300ms") {
		t.Errorf("a sync past its --timeout: %s", p)
	}
	// A Fivetran id of no connection is refused at the start, before
	// anything is printed, as an Airbyte one is: it was watched for ever,
	// a warning a poll, and --for ended it with status 0.
	r = goab(t, env, "watch", "--fivetran", id+",dominion_lamp_typo", "--cursor", cursor, "--interval", "50ms", "--for", "5s")
	r.want(t, 2)
	if p := errorParagraph(t, r); !strings.Contains(p, "--fivetran: watch: no Fivetran connection dominion_lamp_typo") || r.stdout != "" {
		t.Errorf("watch of a Fivetran connection not there printed %q and said: %s", r.stdout, p)
	}
	// Refused credentials end it with status 1, where every poll failed
	// with a warning and --for ended it with 0.
	r = goab(t, append(env, "FT_SECRET=wrong"), "watch", "--fivetran", id, "--cursor", cursor, "--interval", "50ms", "--for", "5s")
	r.want(t, 1)
	if p := errorParagraph(t, r); !strings.Contains(p, "401 Unauthorized") || r.stdout != "" {
		t.Errorf("watch with refused credentials printed %q and said: %s", r.stdout, p)
	}
	r = goab(t, env, "watch", "--fivetran", id, "--cursor", cursor, "--interval", "50ms", "--count", "1")
	r.want(t, 0)
	var ev struct{ Service, Connection, Status string }
	if err := json.Unmarshal([]byte(r.stdout), &ev); err != nil || ev.Connection != id || ev.Status != "succeeded" {
		t.Fatalf("watch printed %q (%v)", r.stdout, err)
	}
}

// TestSyncOfAnInactiveConnection: a connection a file applied as inactive
// is not synced by Airbyte (409 "Could not fulfill request"); goab says it
// is inactive and how to activate it.
func TestSyncOfAnInactiveConnection(t *testing.T) {
	srv := airbytetest.Start(t)
	file := fakerFile(t, "status: inactive")
	env := airbyteEnv(srv)
	goab(t, env, "apply", "-f", file).want(t, 0)
	r := goab(t, env, "airbyte", "sync", "faker-to-warehouse", "--wait", "--poll", "50ms")
	r.want(t, 1)
	if p := errorParagraph(t, r); !strings.Contains(p, "is inactive") || !strings.Contains(p, "status: active") || strings.Contains(p, "busy") {
		t.Errorf("a sync of an inactive connection: %s", p)
	}
}

// fakerFile writes a connections file of a faker source, a DuckDB
// destination and a connection faker-to-warehouse between them with the
// given fields, and returns its path.
func fakerFile(t *testing.T, fields string) string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "connections.yaml")
	yaml := `sources:
  faker: {type: source-faker, config: {count: 5}}
destinations:
  warehouse: {type: destination-duckdb, config: {destination_path: ` + filepath.Join(dir, "w.duckdb") + `}}
connections:
  faker-to-warehouse: {source: faker, destination: warehouse, ` + fields + `}
`
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}
