package leaktest_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/x/goairbyte/airbyteapi"
	"github.com/x/goairbyte/cloud"
	"github.com/x/goairbyte/fivetran"
	"github.com/x/goairbyte/internal/airbytetest"
	"github.com/x/goairbyte/internal/fakersync"
	"github.com/x/goairbyte/internal/fivetrantest"
	"github.com/x/goairbyte/watch"
)

// fakerDefinition is the Airbyte test server's source-faker definition.
const fakerDefinition = "dfd88b22-b603-4c3d-aad7-3701784586b1"

// Remote syncs and watches against the Airbyte and Fivetran test servers,
// each ending every way it can: a sync waited for to its end and its cache
// opened, a sync that fails, a wait and a poll cancelled, a watch
// cancelled while it polls, never ranged, broken out of at its first
// error, and ended by an id of no connection. The servers run in this
// process: what a sync of theirs starts ends with the job.
func TestLeakRemote(t *testing.T) {
	if isolate(t) {
		return
	}
	// The clients' own transport: its idle connections, kept on purpose,
	// are closed before each measure.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	w := watchLeaks(t).closingIdle(tr)
	ctx := context.Background()
	ab := airbytetest.Start(t, airbytetest.WithRetryPause(time.Millisecond))
	client, err := airbyteapi.New(ab.URL, airbyteapi.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret), airbyteapi.WithHTTPClient(hc),
		airbyteapi.WithRetry(airbyteapi.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	ws := cloud.NewWorkspace(client, ab.WorkspaceID)
	duck := filepath.Join(t.TempDir(), "remote.duckdb")
	dst, err := ws.DeployDestination(ctx, "duck", "destination-duckdb", map[string]any{"destination_path": duck})
	if err != nil {
		t.Fatal(err)
	}
	src := &cloud.DeployedSource{Source: cloud.Source{ID: ab.AddSource("good", fakerDefinition, map[string]any{"count": 5})}}
	conn, err := ws.DeployConnection(ctx, "remote", src, dst)
	if err != nil {
		t.Fatal(err)
	}
	ft := fivetrantest.Start(t)
	fc, err := fivetran.New(fivetrantest.APIKey, fivetrantest.APISecret, fivetran.WithBaseURL(ft.URL), fivetran.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	fid := ft.AddConnection(fivetrantest.Connection{Schema: "remote", FakerConfig: map[string]any{"count": 5}, Streams: []string{"users"},
		Destination: fakersync.Destination{DuckDBPath: filepath.Join(t.TempDir(), "f.duckdb")}})
	watcher, err := watch.New(watch.Airbyte(client, conn.ID()), watch.Fivetran(fc, fid), watch.Interval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	fast := cloud.PollInterval(5*time.Millisecond, 20*time.Millisecond)
	endings := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"an Airbyte sync waited for, its DuckDB cache opened and closed", func(t *testing.T) {
			res, err := conn.RunSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := res.Wait(ctx, fast); err != nil {
				t.Fatal(err)
			}
			c, err := res.Cache(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		}},
		{"an Airbyte sync that fails", func(t *testing.T) {
			ab.FailAttempts(conn.ID(), 3)
			res, err := conn.RunSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var se *cloud.SyncError
			if _, err := res.Wait(ctx, fast); !errors.As(err, &se) {
				t.Fatalf("a sync that fails: %v", err)
			}
		}},
		{"an Airbyte sync's wait cancelled while the job is queued", func(t *testing.T) {
			ab.HoldJobs()
			defer ab.ReleaseJobs()
			res, err := conn.RunSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(20*time.Millisecond, cancel)
			if _, err := res.Wait(cctx, fast); !errors.Is(err, context.Canceled) {
				t.Fatalf("a wait cancelled: %v", err)
			}
		}},
		{"a Fivetran sync polled to its end", func(t *testing.T) {
			if _, err := fc.SyncAndPoll(ctx, fid, fivetran.PollInterval(5*time.Millisecond, 20*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
		}},
		{"a watch cancelled while it polls", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			time.AfterFunc(50*time.Millisecond, cancel)
			for _, err := range watcher.Events(cctx, &watch.Cursor{}) {
				if err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"a watch never ranged", func(t *testing.T) {
			_ = watcher.Events(ctx, &watch.Cursor{})
		}},
		{"a watch broken out of at its first error", func(t *testing.T) {
			ab.Inject(airbytetest.Fault{Method: "GET", Path: "/jobs", Status: 500, Times: 2})
			for _, err := range watcher.Events(ctx, &watch.Cursor{}) {
				if err == nil {
					t.Fatal("an event, not the error")
				}
				break
			}
		}},
		{"a watch of an id of no connection", func(t *testing.T) {
			gone, err := watch.New(watch.Airbyte(client, "no-such-connection"), watch.Interval(5*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			var last error
			for _, err := range gone.Events(ctx, &watch.Cursor{}) {
				last = err
			}
			if !errors.Is(last, airbyteapi.ErrNotFound) {
				t.Fatalf("a watch of no connection: %v", last)
			}
		}},
	}
	for _, e := range endings {
		t.Run(e.name, func(t *testing.T) {
			w.t = t
			repeat(t, w, e.name, 3, func(int) { e.run(t) })
		})
	}
	reopens(t, duck)
}
