package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/connector"
	api "github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/source"
)

// The workspace's id, the destinations it lists, and the connection as
// the server keeps it: a cron schedule reaches the server and stays.
func TestWorkspaceDestinationsAndConnectionInfo(t *testing.T) {
	f := setup(t, map[string]any{"count": 5})
	ctx := context.Background()
	if f.ws.id != f.srv.WorkspaceID {
		t.Fatalf("workspace id %q, want %q", f.ws.id, f.srv.WorkspaceID)
	}
	conn := f.connection(t, WithCron("0 0 * * * ?"), WithPrefix("faker_"))

	// What reached the server.
	bodies := f.srv.Bodies("POST /connections")
	if len(bodies) != 1 {
		t.Fatalf("%d connection creations", len(bodies))
	}
	var sent struct{ Schedule api.Schedule }
	if err := json.Unmarshal(bodies[0], &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Schedule != (api.Schedule{ScheduleType: api.ScheduleCron, CronExpression: "0 0 * * * ?"}) {
		t.Fatalf("sent schedule %+v (%s)", sent.Schedule, bodies[0])
	}
	// What the server keeps.
	info, err := f.ws.client.Connection(ctx, conn.ID())
	if err != nil {
		t.Fatal(err)
	}
	if info.Schedule.ScheduleType != api.ScheduleCron || info.Schedule.CronExpression != "0 0 * * * ?" ||
		info.Prefix != "faker_" || info.SourceID != f.src.ID || info.WorkspaceID != f.ws.id {
		t.Fatalf("the server keeps %+v", info)
	}

	other, err := f.ws.DeployDestination(ctx, "second warehouse", "destination-duckdb", map[string]any{"destination_path": f.path + ".2"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Destination{}
	for d, err := range f.ws.Destinations(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got[d.ID] = d
	}
	first, ok := got[info.DestinationID]
	if len(got) != 2 || !ok || first.DestinationType != "duckdb" || first.Configuration["destination_path"] != f.path ||
		got[other.ID].Name != "second warehouse" {
		t.Fatalf("destinations %+v", got)
	}
}

// Deleting a source or a destination deletes it on the server with its
// connections, as Airbyte does.
func TestPermanentlyDeleteSourceAndDestination(t *testing.T) {
	f := setup(t, map[string]any{"count": 5})
	ctx := context.Background()
	conn := f.connection(t)
	dstID := conn.info.DestinationID

	if err := f.ws.PermanentlyDeleteDestination(ctx, dstID); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.Calls("DELETE /destinations/{id}"); n != 1 {
		t.Fatalf("%d DELETE /destinations calls", n)
	}
	for d, err := range f.ws.Destinations(ctx) {
		t.Fatalf("destination %+v (%v) is still listed", d, err)
	}
	if _, err := f.ws.Connection(ctx, conn.ID()); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("the connection of the deleted destination: %v", err)
	}
	// One already gone is not an error (a retried DELETE sees a 404).
	if err := f.ws.PermanentlyDeleteDestination(ctx, dstID); err != nil || f.srv.Calls("DELETE /destinations/{id}") != 2 {
		t.Fatalf("deleting it again: %v", err)
	}

	// The source, and with it a connection to another destination.
	conn = f.connection(t)
	if err := f.ws.PermanentlyDeleteSource(ctx, f.src.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.Calls("DELETE /sources/{id}"); n != 1 {
		t.Fatalf("%d DELETE /sources calls", n)
	}
	for s, err := range f.ws.Sources(ctx) {
		t.Fatalf("source %+v (%v) is still listed", s, err)
	}
	if _, err := f.ws.Connection(ctx, conn.ID()); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("the connection of the deleted source: %v", err)
	}
	// One already gone is not an error (a retried DELETE sees a 404).
	if err := f.ws.PermanentlyDeleteSource(ctx, f.src.ID); err != nil || f.srv.Calls("DELETE /sources/{id}") != 2 {
		t.Fatalf("deleting it again: %v", err)
	}
}

// WithDuckDBPath opens the synced DuckDB file where this machine has it,
// not where the server says it wrote it.
func TestCacheWithDuckDBPath(t *testing.T) {
	f := setup(t, map[string]any{"count": 12, "seed": 1})
	ctx := context.Background()
	res := syncOK(t, f.connection(t))
	moved := filepath.Join(t.TempDir(), "copied.duckdb")
	if err := os.Rename(f.path, moved); err != nil {
		t.Fatal(err)
	}
	c, err := res.Cache(ctx, WithDuckDBPath(moved))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ds, err := c.Dataset(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ds.Count(ctx); err != nil || n != 12 {
		t.Fatalf("users: %d rows (%v), want 12", n, err)
	}
	if _, err := os.Stat(f.path); err == nil {
		t.Fatalf("a cache was opened at the server's path %s too", f.path)
	}
}

// Deploying under a name the workspace already has is refused, as
// PyAirbyte's deploy_source(unique=True) refuses it: a program deploying
// on every run made duplicates that plans and lookups by name then refuse.
// The error names the object there is; nothing is created.
func TestDeployRefusesANameTaken(t *testing.T) {
	f := setup(t, map[string]any{"count": 5})
	ctx := context.Background()
	conn := f.connection(t)
	faker, err := source.New(ctx, "source-faker", connector.WithLocalExecutable(testenv.BuildBinary(t, "./cmd/source-faker")),
		connector.WithConfig(map[string]any{"count": 5}))
	if err != nil {
		t.Fatal(err)
	}
	dst := &Destination{ID: conn.info.DestinationID}
	posts := func() int {
		return f.srv.Calls("POST /sources") + f.srv.Calls("POST /destinations") + f.srv.Calls("POST /connections")
	}
	before := posts()
	for _, tc := range []struct {
		kind, id string
		deploy   func() error
	}{
		{"source", f.src.ID, func() error { _, err := f.ws.DeploySource(ctx, "faker", faker); return err }},
		{"destination", dst.ID, func() error {
			_, err := f.ws.DeployDestination(ctx, "warehouse "+t.Name(), "destination-duckdb", map[string]any{"destination_path": f.path})
			return err
		}},
		{"connection", conn.ID(), func() error { _, err := f.ws.DeployConnection(ctx, "faker to duckdb", f.src, dst); return err }},
	} {
		err := tc.deploy()
		if !errors.Is(err, api.ErrConflict) || !strings.Contains(err.Error(), tc.kind+` named "`) || !strings.Contains(err.Error(), tc.id) {
			t.Errorf("deploying a second %s of a name: err = %v, want a conflict naming %s", tc.kind, err, tc.id)
		} else {
			t.Log(err)
		}
	}
	if n := posts() - before; n != 0 {
		t.Fatalf("%d objects created under names taken", n)
	}
	// Another name is deployed.
	if _, err := f.ws.DeploySource(ctx, "faker 2", faker); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ws.DeployConnection(ctx, "faker to duckdb 2", f.src, dst); err != nil {
		t.Fatal(err)
	}
}
