// Command remote-sync orchestrates syncs that run elsewhere: on Airbyte
// (Cloud or self-managed) and on Fivetran, as dagster-airbyte,
// dagster-fivetran and PyAirbyte's airbyte.cloud do.
//
//	go run ./examples/remote-sync
//
// On Airbyte it deploys goairbyte's faker as a source, a DuckDB destination
// and a connection between them, runs a sync and waits for it, then opens
// the destination as a goairbyte cache and counts the rows. On Fivetran it
// syncs a connection on the manual schedule whose source runs out of API
// quota: Fivetran reschedules the sync and would leave it there; SyncAndPoll
// triggers it again once rescheduled_for has passed. A watch (the polling
// sensor) then reports each finished sync once.
//
// It needs no Airbyte and no Fivetran: it starts goairbyte's in-repo test
// servers on 127.0.0.1 (internal/airbytetest, internal/fivetrantest), which
// check every request against the services' published API descriptions and
// run real syncs with the faker (built from ./cmd/source-faker). Against
// the real services, only the clients' URLs and credentials change.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/x/goairbyte/airbyteapi"
	"github.com/x/goairbyte/cloud"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/fivetran"
	"github.com/x/goairbyte/internal/airbytetest"
	"github.com/x/goairbyte/internal/exampleutil"
	"github.com/x/goairbyte/internal/fakersync"
	"github.com/x/goairbyte/internal/fivetrantest"
	"github.com/x/goairbyte/source"
	"github.com/x/goairbyte/watch"
)

func main() {
	exampleutil.MainWithFaker(func(ctx context.Context, faker, dir string) error { return run(ctx, os.Stdout, faker, dir) })
}

// run does both stories against fresh test servers, keeping the databases
// in dir, and prints what happens to w.
func run(ctx context.Context, w io.Writer, faker, dir string) error {
	var v exampleutil.Violations
	ab, err := airbytetest.New(&v, faker)
	if err != nil {
		return err
	}
	defer ab.Close()
	ft, err := fivetrantest.New(&v, faker)
	if err != nil {
		return err
	}
	defer ft.Close()

	// Airbyte: deploy, sync, wait, read back.
	client, err := airbyteapi.New(ab.URL, airbyteapi.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret))
	if err != nil {
		return err
	}
	ws := cloud.NewWorkspace(client, ab.WorkspaceID)
	src, err := source.New(ctx, "source-faker", connector.WithLocalExecutable(faker),
		connector.WithConfig(map[string]any{"count": 300, "seed": 11}), connector.WithStreams("users", "purchases"))
	if err != nil {
		return err
	}
	deployed, err := ws.DeploySource(ctx, "faker", src)
	if err != nil {
		return err
	}
	dst, err := ws.DeployDestination(ctx, "warehouse", "destination-duckdb", map[string]any{"destination_path": filepath.Join(dir, "warehouse.duckdb")})
	if err != nil {
		return err
	}
	conn, err := ws.DeployConnection(ctx, "faker to warehouse", deployed, dst, cloud.WithPrefix("faker_"))
	if err != nil {
		return err
	}
	res, err := conn.RunSync(ctx)
	if err != nil {
		return err
	}
	job, err := res.Wait(ctx, cloud.PollInterval(100*time.Millisecond, time.Second))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Airbyte job %d %s: %d rows\n", job.ID, job.Status, job.RowsSynced)
	c, err := res.Cache(ctx)
	if err != nil {
		return err
	}
	for _, stream := range res.Streams() {
		ds, err := c.Dataset(ctx, stream)
		if err != nil {
			c.Close()
			return err
		}
		n, err := ds.Count(ctx)
		if err != nil {
			c.Close()
			return err
		}
		fmt.Fprintf(w, "  %s: %d rows in %s\n", stream, n, ds.QualifiedTableName())
	}
	c.Close()

	// Fivetran: a manual connection whose source runs out of quota.
	fc, err := fivetran.New(fivetrantest.APIKey, fivetrantest.APISecret, fivetran.WithBaseURL(ft.URL))
	if err != nil {
		return err
	}
	id := ft.AddConnection(fivetrantest.Connection{Schema: "crm", ScheduleType: "manual", Streams: []string{"users"},
		FakerConfig: map[string]any{"count": 50}, Destination: fakersync.Destination{DuckDBPath: filepath.Join(dir, "fivetran.duckdb")}})
	ft.Quota(id, time.Second)
	fres, err := fc.SyncAndPoll(ctx, id, fivetran.PollInterval(100*time.Millisecond, time.Second))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Fivetran connection %s synced after %d triggers (one quota reschedule)\n", id, fres.Triggers)
	for _, t := range fres.Tables {
		fmt.Fprintf(w, "  %s.%s: %d columns\n", t.Schema, t.Name, len(t.Columns))
	}

	// The sensor. Its first round only learns where each connection is:
	// the syncs above are history and are not reported.
	wt, err := watch.New(watch.Airbyte(client, conn.ID()), watch.Fivetran(fc, id), watch.Interval(100*time.Millisecond))
	if err != nil {
		return err
	}
	cur := &watch.Cursor{} // persist it with cur.Save to resume across runs
	if evs, err := collect(ctx, wt, cur, 0, 300*time.Millisecond); err != nil || len(evs) > 0 {
		return fmt.Errorf("the first watch round reported %v (%v)", evs, err)
	}
	// Two syncs: one started in Airbyte by its scheduler, one by this
	// program on Fivetran. Each is reported once.
	if _, err := ab.StartSync(conn.ID()); err != nil {
		return err
	}
	if _, err := fc.SyncAndPoll(ctx, id, fivetran.PollInterval(100*time.Millisecond, time.Second)); err != nil {
		return err
	}
	evs, err := collect(ctx, wt, cur, 2, 30*time.Second)
	if err != nil {
		return err
	}
	slices.SortFunc(evs, func(a, b watch.Event) int { return strings.Compare(a.Service, b.Service) })
	for _, ev := range evs {
		fmt.Fprintf(w, "watch: %s connection %s %s\n", ev.Service, ev.Connection, ev.Status)
	}
	return v.Err()
}

// collect gathers n events (any number when n is 0) for at most d.
func collect(ctx context.Context, w *watch.Watcher, cur *watch.Cursor, n int, d time.Duration) ([]watch.Event, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var out []watch.Event
	for ev, err := range w.Events(ctx, cur) {
		if err != nil {
			return out, err
		}
		if out = append(out, ev); len(out) == n {
			return out, nil
		}
	}
	if n > 0 {
		return out, fmt.Errorf("%d events in %v, want %d", len(out), d, n)
	}
	return out, nil
}
