package goairbyte_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/source"
)

// The kill test's events: killDays days from killStart, killPerDay events
// a day, one every killEvery from midnight, served a day window at a time
// in pages of killPage. There are more of them than a cache writes in one
// transaction (cache.DefaultBatchSize), so that a read commits states on
// its way and kills land between commits.
const (
	killDays   = 100
	killPerDay = 4000
	killEvery  = 20 * time.Second
	killPage   = 1000
)

var killStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// killManifest reads /events one day window at a time (step P1D), in pages
// of killPage, with the day's bounds as parameters: a state after each
// window.
func killManifest(base string) []byte {
	return []byte(`
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [events]}
streams:
  - type: DeclarativeStream
    name: events
    primary_key: [id]
    schema_loader:
      type: InlineSchemaLoader
      schema: {type: object, properties: {id: {type: integer}, updated_at: {type: string, format: date-time}, note: {type: string}}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "` + base + `", path: /events, http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [events]}}
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}
        pagination_strategy: {type: PageIncrement, page_size: ` + strconv.Itoa(killPage) + `, start_from_page: 1}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated_at
      datetime_format: "%Y-%m-%dT%H:%M:%SZ"
      start_datetime: "{{ config['start_date'] }}"
      end_datetime: "{{ config['end_date'] }}"
      step: P1D
      cursor_granularity: PT1S
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: since}
      end_time_option: {type: RequestOption, inject_into: request_parameter, field_name: until}
spec:
  type: Spec
  connection_specification: {type: object, properties: {start_date: {type: string}, end_date: {type: string}}}
`)
}

// eventAt is the time of event i of a day.
func eventAt(day, i int) time.Time {
	return killStart.AddDate(0, 0, day).Add(time.Duration(i) * killEvery)
}

// lastID is the id of the last event at or before at.
func lastID(at time.Time) int {
	d := at.Sub(killStart)
	day := int(d / (24 * time.Hour))
	i := min(int((d-time.Duration(day)*24*time.Hour)/killEvery), killPerDay-1)
	return day*killPerDay + i
}

// killServer answers /events?since=…&until=…&page=… with the events of
// that window.
func killServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		since, err1 := time.Parse(time.RFC3339, q.Get("since"))
		until, err2 := time.Parse(time.RFC3339, q.Get("until"))
		if err1 != nil || err2 != nil {
			http.Error(w, "since and until are required", http.StatusBadRequest)
			return
		}
		page, _ := strconv.Atoi(q.Get("page"))
		// Events are numbered across days: n is day*killPerDay+i.
		index := func(at time.Time, up bool) int {
			d := at.Sub(killStart)
			day := int(d / (24 * time.Hour))
			rest := d - time.Duration(day)*24*time.Hour
			i := int(rest / killEvery)
			if up && rest%killEvery != 0 {
				i++
			}
			if i >= killPerDay {
				day, i = day+1, 0
				if !up {
					day, i = day-1, killPerDay-1
				}
			}
			return day*killPerDay + i
		}
		first := max(index(since, true), 0)
		last := min(index(until, false), killDays*killPerDay-1)
		from := first + (max(page, 1)-1)*killPage
		to := min(last, from+killPage-1)
		var b strings.Builder
		b.WriteString(`{"events": [`)
		for n := from; n <= to; n++ {
			if n > from {
				b.WriteByte(',')
			}
			day, i := n/killPerDay, n%killPerDay
			fmt.Fprintf(&b, `{"id": %d, "updated_at": %q, "note": "event %d of day %d"}`, n, eventAt(day, i).Format(time.RFC3339), i, day)
		}
		b.WriteString(`]}`)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(b.String()))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The kill test's child reads from the server at killURL into the cache
// killTarget names ("duckdb:PATH" or "postgres:DSN").
const (
	killURL    = "GOAIRBYTE_KILL_URL"
	killTarget = "GOAIRBYTE_KILL_TARGET"
)

func openKillTarget(ctx context.Context, target string) (*cache.Cache, error) {
	if dsn, ok := strings.CutPrefix(target, "postgres:"); ok {
		return cache.New(ctx, postgres.NewConnector(dsn))
	}
	// DuckDB's transactions hold 500,000 records by default, more than
	// the read: smaller ones commit states on the way.
	return cache.New(ctx, duckdb.NewConnector(strings.TrimPrefix(target, "duckdb:"), duckdb.WithBatchSize(50_000)))
}

// killChildMain reads the events into the cache and exits, when this
// process is the kill test's child.
func killChildMain() {
	base, target := os.Getenv(killURL), os.Getenv(killTarget)
	if base == "" || target == "" {
		return
	}
	ctx := context.Background()
	err := func() error {
		c, err := openKillTarget(ctx, target)
		if err != nil {
			return err
		}
		defer c.Close()
		src, err := goairbyte.GetSource(ctx, "source-events", connector.WithManifest(killManifest(base)),
			connector.WithConfig(map[string]any{"start_date": killStart.Format(time.RFC3339),
				"end_date": killStart.AddDate(0, 0, killDays).Add(-time.Second).Format(time.RFC3339)}),
			connector.WithEnvironment(goairbyte.NewEnvironment()))
		if err != nil {
			return err
		}
		_, err = src.Read(ctx, source.UseCache(c), source.NoProgress())
		return err
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kill child:", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// TestManifestKill SIGKILLs a manifest source's Read into DuckDB and into
// PostgreSQL at several moments: after each kill, every event up to the
// committed state's cursor is in the cache, and a last uninterrupted Read
// resumes from that state and completes the stream.
func TestManifestKill(t *testing.T) {
	srv := killServer(t)
	t.Run("duckdb", func(t *testing.T) {
		killRun(t, srv.URL, "duckdb:"+filepath.Join(t.TempDir(), "kill.duckdb"))
	})
	t.Run("postgres", func(t *testing.T) {
		killRun(t, srv.URL, "postgres:"+testenv.Postgres(t))
	})
}

func killRun(t *testing.T, base, target string) {
	ctx := context.Background()
	run := func(kill time.Duration) { cachetest.RunChild(t, kill, killURL+"="+base, killTarget+"="+target) }
	check := func(label string) time.Time {
		c, err := openKillTarget(ctx, target)
		if err != nil {
			t.Fatalf("%s: reopening the cache: %v", label, err)
		}
		defer c.Close()
		st, err := c.State(ctx, cache.StateKey{Source: "source-events", Stream: "events"})
		if err != nil {
			t.Fatal(err)
		}
		if st == nil {
			t.Logf("%s: no state committed yet", label)
			return time.Time{}
		}
		var cur struct {
			UpdatedAt string `json:"updated_at"`
		}
		if err := json.Unmarshal(st.Stream.StreamState, &cur); err != nil {
			t.Fatalf("%s: state %s: %v", label, st.Stream.StreamState, err)
		}
		at, err := time.Parse(time.RFC3339, cur.UpdatedAt)
		if err != nil {
			t.Fatalf("%s: state %s: %v", label, st.Stream.StreamState, err)
		}
		want := 0
		for day := 0; day < killDays; day++ {
			for i := 0; i < killPerDay; i++ {
				if !eventAt(day, i).After(at) {
					want++
				}
			}
		}
		ds, err := c.Dataset(ctx, "events")
		if err != nil {
			t.Fatalf("%s: a state without its table: %v", label, err)
		}
		var got, ids int64
		row := c.DB().QueryRowContext(ctx, "SELECT count(*), count(DISTINCT id) FROM "+ds.QualifiedTableName()+" WHERE id <= $1", lastID(at))
		if err := row.Scan(&got, &ids); err != nil {
			t.Fatal(err)
		}
		// Rows loaded after the committed state are read again on resume;
		// the merge by key that the next complete Read ends with removes
		// such duplicates, so until then only the events count.
		got = ids
		all, _ := ds.Count(ctx)
		if got != int64(want) {
			t.Fatalf("%s: state at %s, but %d events up to it in the cache, want %d", label, cur.UpdatedAt, got, want)
		}
		t.Logf("%s: state at %s, %d events up to it, %d rows", label, cur.UpdatedAt, got, all)
		return at
	}
	for i, d := range []time.Duration{900 * time.Millisecond, 1300 * time.Millisecond, 1000 * time.Millisecond, 1500 * time.Millisecond} {
		run(d)
		check(fmt.Sprintf("kill %d after %v", i+1, d))
	}
	run(0)
	last := eventAt(killDays-1, killPerDay-1)
	if at := check("after the uninterrupted run"); !at.Equal(last) {
		t.Fatalf("final state %s, want the last event's time %s", at, last)
	}
	c, err := openKillTarget(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ds, _ := c.Dataset(ctx, "events")
	var rows, ids int64
	if err := c.DB().QueryRowContext(ctx, "SELECT count(*), count(DISTINCT id) FROM "+ds.QualifiedTableName()).Scan(&rows, &ids); err != nil {
		t.Fatal(err)
	}
	if rows != killDays*killPerDay || ids != rows {
		t.Fatalf("%d rows for %d events in the cache, want %d, one row each", rows, ids, killDays*killPerDay)
	}
}
