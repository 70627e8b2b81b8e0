package goairbyte_test

import (
	"bytes"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/airbytetest"
	"github.com/x/goairbyte/internal/fakersync"
	"github.com/x/goairbyte/internal/fivetrantest"
	"github.com/x/goairbyte/internal/shareddata"
	"github.com/x/goairbyte/internal/testenv"
)

// TestOutsider runs testdata/outsider, a new user's program written from
// the docs alone (go doc, the README, examples/), built in a module of its
// own outside the checkout: a connector written with kit, read in process
// and served as a program into DuckDB (the program crashing in a goroutine
// fails with its panic as the reason), and a manifest connector read into
// PostgreSQL (its rows read back as on DuckDB, a stream the read did not
// get reported as such) and written to the local-JSON destination; each
// with the errors a user handles (the root sentinels and types) and no
// secret in any error or log line; and PyAirbyte's quickstart ported (the
// faker into the default cache, incremental and full refresh, a secret from
// .env); and a sync server's tenants, an Environment each (default cache,
// logger, secrets from the tenant's vault only, never the server's
// environment or .env, a manifest directory, an HTTP client), reading at
// once, one read refused as in use, one cancelled; and a service reading one
// API for 100 customers at once (records, retries and logs kept apart, no key
// logged, keep-alive connections reused, 50 reads cancelled mid-page leaving
// no goroutine of goairbyte's); and a PyAirbyte nightly
// job (Airbyte's source-buzzsprout manifest from GOAIRBYTE_MANIFEST_DIR, its
// open streams kept whole under AIRBYTE_CACHE_ROOT, an AIRBYTE_TEMP_DIR
// not made named as what to fix); and a Connector Builder manifest of a
// private API into DuckDB (an OAuth token refreshed mid-read, a 429 with
// Retry-After and a 200 holding an error retried, the retry logged, a full
// last page then an empty one, a date cursor in several zones, a filtered
// substream with an added field, the second read asking from the state, a
// repeating page token named in the error); and a platform team's sync service on the
// Airbyte and Fivetran test servers (a connections file with a secret from
// its own vault planned, applied, drifted through the API and put back, a
// port in words refused by the plan, a sync found by its connection's name
// and read back, a Fivetran resync through a quota reschedule, a watcher
// ended by a Fivetran id typo and, restarted from its cursor, telling each
// sync once); and a destination written with kit posting to an HTTP event
// store, in process and as a program (a check with a wrong key that the
// program's own output does not show, a write the store fails midway
// confirming the first 10,000 rows, the next sending only the 15,000 after
// them, none stored twice); and a kit destination stopped while a slow
// ingest API takes 3 s over its second batch, in process and as a program
// (the batch finished and its state echoed within the 5 s the kit gives,
// and kept: the next write sends only the rows after it, none stored
// twice); and a source whose catalog changes over a year
// (a field's type, a field gained, a stream name in two namespaces, the
// cursor's type) into DuckDB and PostgreSQL alike (a value that no longer
// fits its column NULL with a note, the docs' cure of a full refresh with
// replace then merge, an error naming both namespaces, a merge refused
// until the cure gives the cursor's column its new type); and an analytics
// team's SQL over a source that changes between hourly syncs (a column's
// type widened, one renamed, a view and a read-only role over the table,
// a key that may be NULL, a record deleted at the source) on DuckDB and PostgreSQL: the replace the docs
// give as the cure refused on PostgreSQL while the view stands, naming it,
// and keeping the role's grant once it runs; a service's cache in a DBA's shared PostgreSQL (through
// PgBouncer in session mode, refused in transaction mode; a role without CREATE on the database in
// the schema made for it; publications kept or a replace refused; a statement_timeout named with its
// ALTER ROLE, the read after resuming); a data engineer's reconciliation of a
// ledger source's incremental syncs (a read failed in process or killed as a program,
// resumed, ties at a state's cursor, a stream with no state, a key that gained a field,
// the cache written on into the local-JSON destination) on DuckDB and PostgreSQL: every
// order once at its latest version, every event at least once, the extra copies only
// those the protocol's at-least-once sends again; and an SRE's service as in a
// locked-down container (no HOME, TMPDIR and the default cache on the
// volume, JSON logs masked, the registry saying it has no disk cache and
// which variable gives it one, nothing left in TMPDIR); and a company across
// time zones (a process in Asia/Kolkata, a database in America/New_York, a
// user's own SET TimeZone) merging shifts written in several offsets into
// DuckDB and PostgreSQL alike (New York's 01:30 twice, one instant in three
// offsets one row, no zone UTC, a PM and a leap second NULL with a note). The program checks the docs' promises itself and says
// FAIL for each one broken; this test checks what it printed besides.
func TestOutsider(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module of its own; skipped with -short")
	}
	t.Parallel()
	files := map[string]string{}
	src := filepath.Join(testenv.ModuleRoot(t), "testdata", "outsider")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(src, path)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := outsideModule(t, "example.com/outsider", files)
	bin, connectorBin, destinationBin := filepath.Join(dir, "outsider"), filepath.Join(dir, "source-demo"), filepath.Join(dir, "destination-events")
	ingestBin, ledgerBin := filepath.Join(dir, "destination-ingest"), filepath.Join(dir, "source-ledger")
	build := exec.Command("go", "build", "-mod=mod", "-o", dir, ".", "./cmd/source-demo", "./cmd/destination-events", "./cmd/destination-ingest", "./cmd/source-ledger")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the outside program: %v\n%s", err, out)
	}
	runWith := func(t *testing.T, env []string, args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Dir = t.TempDir() // the DuckDB cache lands in ./.cache
		cmd.Env = append([]string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir(),
			"DOCKER_HOST=unix:///nonexistent.sock", "AIRBYTE_OFFLINE_MODE=1"}, env...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("outsider %s: %v\n%s%s", args[0], err, out.String(), errb.String())
		}
		return out.String()
	}
	run := func(t *testing.T, args ...string) string { return runWith(t, nil, args...) }

	t.Run("kit", func(t *testing.T) {
		t.Parallel()
		got := run(t, "kit", connectorBin)
		want := "source-demo (in process): read 1 map[events:5 teams:2], read 2 map[events:3 teams:2], 8 events in \"main\".\"events\"\n" +
			"source-demo (local executable " + connectorBin + "): read 1 map[events:5 teams:2], read 2 map[events:3 teams:2], 8 events in \"main\".\"events\"\n"
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("destination", func(t *testing.T) {
		t.Parallel()
		got := run(t, "destination", destinationBin)
		want := "destination-events (in process): failed write confirmed map[users:10000] with 14900 stored, next write sent map[users:15000], 25000 stored, 0 twice\n" +
			"destination-events (local executable " + destinationBin + "): failed write confirmed map[users:10000] with 14900 stored, next write sent map[users:15000], 25000 stored, 0 twice\n"
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("stop", func(t *testing.T) {
		t.Parallel()
		// Before goairbyte gave a cancelled write 6 s, it killed the
		// program (in process, stopped listening) 2 s after SIGTERM, before
		// the echo of the batch the API had stored: 10,000 twice.
		got := run(t, "stop", ingestBin)
		want := "destination-ingest (in process): stopped write confirmed map[users:20000] with 20000 stored, next write sent map[users:5000], 25000 stored, 0 twice\n" +
			"destination-ingest (local executable " + ingestBin + "): stopped write confirmed map[users:20000] with 20000 stored, next write sent map[users:5000], 25000 stored, 0 twice\n"
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("pyairbyte", func(t *testing.T) {
		t.Parallel()
		got := run(t, "pyairbyte")
		want := "source-faker (in process): read 1 map[products:50 purchases:50 users:50], read 2 map[products:50 purchases:50 users:50], " +
			"full refresh 300 records, 100 users in \"main\".\"users\"\n"
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("tenants", func(t *testing.T) {
		t.Parallel()
		got := run(t, "tenants")
		want := "acme map[items:3] (acme,acme,acme), globex map[items:2] (globex,globex), a second read at once in use true, cancelled with a ReadResult true\n"
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("hostile", func(t *testing.T) {
		t.Parallel()
		// A tenant's manifest against its own API: a redirect to another host gets no API
		// key, fields named like SQL are values, and a template of loops within loops fails
		// the read with a MemoryError (it filled the memory) without taking the program down.
		got := run(t, "hostile")
		want := "items [x'); DROP TABLE items; -- it's], keys sent elsewhere [\"\"], bomb failed true\n"
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("saas", func(t *testing.T) {
		t.Parallel()
		// One manifest read for 100 customers at once through the engine's own client: each
		// its own records, its 429 waited and logged in its own log, no key in any log, the
		// connections reused; then 50 reads stuck on a page cancelled, nothing of them left.
		got := run(t, "saas")
		want := "100 customers at once: 100 read their own records, 100 logged their retry, 0 logs show a key; connections reused true\n" +
			"50 reads cancelled mid-page: 50 failed as cancelled, goairbyte frames left in goroutines: 0\n"
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("nightly", func(t *testing.T) {
		t.Parallel()
		corpus := shareddata.Need(t, "manifests/corpus")
		got := runWith(t, []string{"GOAIRBYTE_MANIFEST_DIR=" + corpus, "AIRBYTE_CACHE_ROOT=" + t.TempDir(), "AIRBYTE_TEMP_DIR=" + t.TempDir()}, "nightly")
		want := "source-buzzsprout: map[episodes:2 podcasts:1] then map[episodes:2 podcasts:1], " +
			"episodes 1:one tags [a] extra <nil>, 2:two tags <nil> extra map[x:1], SQL extra.x 1\n"
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("internal", func(t *testing.T) {
		t.Parallel()
		got := run(t, "internal")
		// Read 2 asks from the state read 1 committed, and gets customer 6
		// (at that instant: the API's filter is inclusive) again and the
		// changed 1. Orders page 2 is asked again after its 429, page 3
		// after its 200 holding an error; page 3 comes back empty after a
		// full page 2, which ends the pages; the parent read of the
		// order items shares these responses.
		want := "internal: read 1 map[customers:5 order_items:4 orders:4], read 2 map[customers:2 order_items:4 orders:4] from updated_since [2024-01-06T10:00:00Z], " +
			"customers [2@01-02T10 3@01-03T10 5@01-05T10 1@03-01T08 6@01-06T10], items [1/12 2/22 3/32 4/42], token refreshed mid-read true, " +
			"orders page 2 asked 3 times, page 3 (empty) 3, page 4 0\n"
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("remote", func(t *testing.T) {
		t.Parallel()
		ab := airbytetest.Start(t)
		ft := fivetrantest.Start(t)
		dir := t.TempDir()
		manual := ft.AddConnection(fivetrantest.Connection{Schema: "crm", ScheduleType: "manual", Streams: []string{"users"},
			FakerConfig: map[string]any{"count": 10}, Destination: fakersync.Destination{DuckDBPath: filepath.Join(dir, "fivetran.duckdb")}})
		ft.Quota(manual, 200*time.Millisecond)
		got := runWith(t, []string{"AIRBYTE_CLOUD_CLIENT_ID=" + airbytetest.ClientID, "AIRBYTE_CLOUD_CLIENT_SECRET=" + airbytetest.ClientSecret,
			"FIVETRAN_API_KEY=" + fivetrantest.APIKey, "FIVETRAN_API_SECRET=" + fivetrantest.APISecret},
			"remote", ab.URL, ab.WorkspaceID, ft.URL, manual, dir)
		want := "first plan 5 changes; drift \"~ connection: crm-to-lake\\n  ~ prefix: ui_ -> crm_\"; job succeeded, 30 users in \"main\".\"crm_users\"; " +
			"fivetran resync 2 triggers; watch told 2 syncs, 0 twice\n"
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("seasons", func(t *testing.T) {
		t.Parallel()
		got := run(t, "seasons", testenv.Postgres(t))
		line := "map[users:2], map[users:1], merged 1/2/<nil>/a@x[score] 2/1/20/<nil>[], map[users:3], replaced 1/1/10/<nil>[] 1/2/7.5/a@x[] 2/1/20/<nil>[], " +
			"map[users:3], merged in full 1/2/7.5/a@x[] 2/1/20/<nil>[], " +
			"map[users:3], map[users:3], season 3 1/2026-02-01 00:00:00 +0000 UTC/7.5/a@x[] 2/2026-03-01 00:00:00 +0000 UTC/21/<nil>[]"
		if want := "duckdb: " + line + "\npostgres: " + line + "\n"; got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("zones", func(t *testing.T) {
		t.Parallel()
		// In Kolkata's zone, the database's America/New_York and the
		// user's SET TimeZone: each shift its instant (no zone is UTC),
		// Kathmandu's merged with the same instant in two other offsets,
		// a PM and a leap second NULL with a note, the user's zone kept.
		got := runWith(t, []string{"TZ=Asia/Kolkata"}, "zones", testenv.Postgres(t))
		line := "map[shifts:6], map[shifts:2], [leap second <nil>/<nil>/<nil>[start local clock]; " +
			"new york, first 01:30 2024-11-03T05:30:00Z/2024-11-03T01:30:00Z/01:30:00-04:00[]; " +
			"new york, second 01:30 2024-11-03T06:30:00Z/2024-11-03T01:30:00Z/01:30:00-05:00[]; " +
			"no zone 2024-03-10T01:30:00Z/2024-03-10T01:30:00Z/01:30:00Z[]; pm <nil>/<nil>/<nil>[start local clock]; " +
			"utc, kathmandu's shift 2024-03-09T19:45:00Z/2024-03-09T19:45:00Z/19:45:00Z[]], user's zone Asia/Kolkata"
		if want := "duckdb: " + line + "\npostgres: " + line + "\n"; got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("evolve", func(t *testing.T) {
		t.Parallel()
		// Hour 2's amount 1.5 is NULL in the integer column, with a note,
		// and status, gone from the schema, NULL in id 1's new row; the
		// replace gives amount its new type (on PostgreSQL once the view
		// is dropped, the analyst's grant kept); the full read under merge
		// keeps one row per key but a NULL key's, added again each read;
		// a product deleted at the source keeps its row under auto's
		// merge, and replace drops it.
		got := run(t, "evolve", testenv.Postgres(t))
		line := func(double string) string {
			return "map[orders:2], map[orders:2], [1/<nil>/<nil>/paid/true 2/200/open/<nil>/false 3/3/<nil>/open/false], [bigint], " +
				"map[orders:4], [" + double + "], map[orders:4], [1/1.5 2/200 3/3], map[events:2], map[events:2], [3/1], " +
				"map[products:2], [1 2], map[products:1], [1 2], map[products:1], [1]"
		}
		if want := "duckdb: " + line("double") + "\npostgres: " + line("double precision") + "\n"; got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("pyexamples", func(t *testing.T) {
		t.Parallel()
		// Rick and Morty's 404 after page 3 ends the pages (it failed the
		// read before outsider17): one request for each check, four for
		// each read.
		got := run(t, "pyexamples", testenv.Postgres(t))
		want := "rick-and-morty: duckdb Stream characters: 60 records, postgres Stream characters: 60 records, 10 requests\n" +
			"perf: cached sent map[purchases:500], piped sent map[purchases:500]\n"
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("dba", func(t *testing.T) {
		t.Parallel()
		// A DBA's PostgreSQL: through PgBouncer, whose session mode
		// refused every open (the cache's work_mem in the startup
		// packet) and whose transaction mode left the loads' locks on
		// pooled sessions; a role without CREATE on the database, whose
		// own schema the open tried to create; a publication a replace
		// silently left; a statement_timeout that said only that.
		dsn := testenv.Postgres(t)
		got := run(t, "dba", dsn, testenv.PgBouncer(t, dsn, "session"), testenv.PgBouncer(t, dsn, "transaction"))
		want := "session pooling: map[products:100 purchases:100 users:100] then map[purchases:200 users:200], users 300/300\n" +
			"transaction pooling refused: true, says pool_mode=session: true\n" +
			"replace in the DBA's publication refused: true; in our own, the new table kept in it: true\n" +
			"statement_timeout names the ALTER ROLE: true; then users 5200/5200\n"
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("reconcile", func(t *testing.T) {
		t.Parallel()
		// A failed read (an error in process, a kill -9 of the program)
		// keeps its 4 orders and the event after their last state; the
		// next read resumes from the orders' state and reads the events
		// from the start, so event 1 is there twice, and event 4 (a tie
		// at the state's cursor) and event 5 (sent with no state) are
		// sent again on the following days. The orders' key gaining a
		// field is refused (it kept every old order beside its new row
		// before outsider23), and a read whose events came with no state
		// warns of it (it said nothing).
		got := run(t, "reconcile", ledgerBin, testenv.Postgres(t))
		line := "failed read kept map[events:1 orders:4], day 1 from [orders:{\"u\":3}] loaded map[events:4 orders:1], " +
			"day 2 from [events:{\"u\":3} orders:{\"u\":3}] loaded map[events:2 orders:3], sent map[events:7 orders:5], sent map[], " +
			"sent map[events:2 orders:2], no state warned true, key gained a field refused true, events twice [1/2 4/2 5/2]\n"
		want := "duckdb: in process: " + line + "postgres: in process: " + line + "duckdb: program: " + line + "postgres: program: " + line
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("container", func(t *testing.T) {
		t.Parallel()
		// As in a container: no HOME or XDG_CACHE_HOME (no disk cache for
		// the registry), TMPDIR and the cache on the volume.
		volume := t.TempDir()
		tmp := filepath.Join(volume, "tmp")
		if err := os.Mkdir(tmp, 0o700); err != nil {
			t.Fatal(err)
		}
		got := runWith(t, []string{"HOME=", "XDG_CACHE_HOME=", "TMPDIR=" + tmp}, "container", volume)
		want := "container: items map[widgets:25], users 20, cache on the volume true, left in TMPDIR [], 2 log lines all JSON true, registry names XDG_CACHE_HOME true\n"
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("manifest", func(t *testing.T) {
		t.Parallel()
		// The DSN as cache.Open takes it, schema included.
		dsn := testenv.Postgres(t)
		if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			q.Set("schema", "outsider")
			u.RawQuery = q.Encode()
			dsn = u.String()
		} else {
			dsn += " schema=outsider"
		}
		got := run(t, "manifest", dsn)
		want := "source-widgets (in process): read map[widgets:25] into \"outsider\".\"widgets\"\n" +
			"write 1: sent map[widgets:25], confirmed map[widgets:25], 1 state(s) confirmed, stored state true\n" +
			"write 2: sent map[], confirmed map[], 0 state(s) confirmed, stored state true\n" +
			"_airbyte_raw_widgets.jsonl: 25 lines\n"
		if got != want {
			t.Fatalf("printed\n%s\nwant\n%s", got, want)
		}
	})
}
