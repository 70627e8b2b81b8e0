package main_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/airbyteapi"
	"github.com/x/goairbyte/internal/airbytetest"
)

// remoteCommands are the commands of remote_cmds.go.
var remoteCommands = []string{"plan", "apply", "airbyte"}

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

	client, _ := airbyteapi.New(srv.URL, airbyteapi.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret))
	var id string
	for c, err := range client.Connections(context.Background(), srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		id = c.ID
	}
	r = goab(t, env, "airbyte", "sync", id, "--wait", "--timeout", "2m")
	r.want(t, 0)
	if !strings.Contains(r.stdout, "succeeded: 25 rows") {
		t.Fatalf("sync printed:\n%s\n%s", r.stdout, r.stderr)
	}
	r = goab(t, env, "airbyte", "jobs", "--connection", id)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "succeeded") || strings.Count(r.stdout, "\n") != 2 {
		t.Fatalf("jobs printed:\n%s", r.stdout)
	}
	// The client secret never shows, even in an error.
	r = goab(t, append(env, "AIRBYTE_CLOUD_API_URL=http://127.0.0.1:1/api/public/v1"), "airbyte", "jobs")
	r.want(t, 1)
	if strings.Contains(r.stderr, airbytetest.ClientSecret) {
		t.Fatalf("the secret leaked: %s", r.stderr)
	}
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
		{[]string{"airbyte", "jobs", "--client-id", "x"}, "need both --client-id and --client-secret"},
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
}
