package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"example.com/outsider/ledger"
	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/source"
)

// row is a ledger row: an id, its cursor u and a value.
func row(id, u int, v string) map[string]any { return map[string]any{"id": id, "u": u, "v": v} }

// ledgerDays are the source's data on each day of the reconciliation, in
// cursor order: orders (keyed by id: the cache merges them) and events
// (no key: the cache appends them). On day 2 order 2 changed and order 5
// and event 5 came; on day 3 event 6 came.
var ledgerDays = []map[string][]map[string]any{
	{"orders": {row(1, 1, "a"), row(2, 2, "a"), row(3, 2, "a"), row(4, 3, "a")},
		"events": {row(1, 1, "e"), row(2, 2, "e"), row(3, 2, "e"), row(4, 3, "e")}},
	{"orders": {row(1, 1, "a"), row(3, 2, "a"), row(4, 3, "a"), row(2, 4, "b"), row(5, 4, "a")},
		"events": {row(1, 1, "e"), row(2, 2, "e"), row(3, 2, "e"), row(4, 3, "e"), row(5, 4, "e")}},
	{"orders": {row(1, 1, "a"), row(3, 2, "a"), row(4, 3, "a"), row(2, 4, "b"), row(5, 4, "a")},
		"events": {row(1, 1, "e"), row(2, 2, "e"), row(3, 2, "e"), row(4, 3, "e"), row(5, 4, "e"), row(6, 5, "e")}},
}

// reconcileJourney is a reconciliation of the ledger source's syncs into
// DuckDB and PostgreSQL, run in process (the read fails with an error) and
// as the program exe (killed with -9): after every sync the orders table
// must hold each order's latest version exactly once, and the events table
// every event at least once, the extra copies being only those the
// protocol's at-least-once sends again (records after the last state of a
// failed read, ties at a state's cursor). It prints, per cache and way,
// what each sync loaded and which events are there twice.
func reconcileJourney(ctx context.Context, exe, dsn string) error {
	for _, way := range []struct {
		name, how string
		opt       connector.Option
	}{{"in process", "error", connector.WithGoConnector(ledger.Source{})}, {"program", "kill", connector.WithLocalExecutable(exe)}} {
		schema := "ledger_" + strings.ReplaceAll(way.name, " ", "_")
		err := onBoth(ctx, schema, dsn, func(c *cache.Cache, _ bool) (string, error) {
			line, err := reconcile(ctx, c, way.how, way.opt)
			return way.name + ": " + line, err
		}, postgres.WithSchema(schema))
		if err != nil {
			return fmt.Errorf("%s: %w", way.name, err)
		}
	}
	return nil
}

// reconcile plays the ledger's days into c and checks the tables after
// each sync.
func reconcile(ctx context.Context, c *cache.Cache, how string, way connector.Option) (string, error) {
	dir, err := os.MkdirTemp("", "ledger-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	logStart := logs.Len() // this reconciliation's log lines are those after
	cfg := ledger.Config{Streams: []ledger.Stream{{Name: "orders", Key: [][]string{{"id"}}}, {Name: "events"}}, Page: 2, Got: filepath.Join(dir, "got")}
	src, err := goairbyte.GetSource(ctx, "source-ledger", way, connector.WithConfig(cfg), connector.WithLogger(logger))
	if err != nil {
		return "", err
	}
	var out []string
	sync := func(day int, opts ...source.ReadOption) (*source.ReadResult, error) {
		cfg.Rows = ledgerDays[day]
		if err := src.SetConfig(cfg); err != nil {
			return nil, err
		}
		return src.Read(ctx, append([]source.ReadOption{source.UseCache(c)}, opts...)...)
	}
	// Day 1: the read fails after 5 records, the last an event after the
	// orders' last state and before any state of events.
	cfg.FailAt, cfg.How = 5, how
	res, err := sync(0)
	seen(err)
	want(errors.Is(err, goairbyte.ErrConnectorFailed) && res != nil, "a read that fails midway: %v", err)
	cfg.FailAt = 0
	out = append(out, fmt.Sprintf("failed read kept %v", res.StreamRecords()))
	if err := check(ctx, c, 0, "after the failed read"); err != nil {
		return "", err
	}
	// The next read resumes from the states committed: orders from u 3,
	// events from the start. The cache goes on into the local-JSON
	// destination, whose second write has nothing to send.
	dst, err := goairbyte.GetDestination(ctx, "destination-local-json", connector.WithLogger(logger),
		connector.WithConfig(map[string]any{"destination_path": filepath.Join(dir, "out")}))
	if err != nil {
		return "", err
	}
	write := func(res *source.ReadResult) error {
		w, err := dst.Write(ctx, res)
		if err != nil {
			return err
		}
		want(maps.Equal(w.RecordsSent, w.RecordsConfirmed), "a write confirmed %v of %v", w.RecordsConfirmed, w.RecordsSent)
		out = append(out, fmt.Sprintf("sent %v", w.RecordsSent))
		return nil
	}
	for day := range 2 {
		res, err := sync(day)
		if err != nil {
			return "", err
		}
		out = append(out, fmt.Sprintf("day %d from %s loaded %v", day+1, gotState(cfg.Got), res.StreamRecords()))
		if err := check(ctx, c, day, fmt.Sprintf("after day %d", day+1)); err != nil {
			return "", err
		}
		if day == 1 {
			if err := errors.Join(write(res), write(res)); err != nil {
				return "", err
			}
		}
	}
	const noState = "sent records of an incremental stream and no state for it"
	want(!strings.Contains(logs.String()[logStart:], noState), "a warning of records with no state where states came:\n%s", logs.String()[logStart:])
	// Day 3: events come with no state; the read warns that the next
	// one will read them from the start.
	cfg.NoState = []string{"events"}
	res, err = sync(2)
	if err != nil {
		return "", err
	}
	cfg.NoState = nil
	// The destination gets the new events and the orders the merge
	// rewrote, and holds what the cache holds.
	if err := write(res); err != nil {
		return "", err
	}
	for _, stream := range []string{"orders", "events"} {
		b, err := os.ReadFile(filepath.Join(dir, "out", "_airbyte_raw_"+stream+".jsonl"))
		if err != nil {
			return "", err
		}
		ds, err := c.Dataset(ctx, stream)
		if err != nil {
			return "", err
		}
		n, err := ds.Count(ctx)
		if err != nil {
			return "", err
		}
		want(int64(bytes.Count(b, []byte("\n"))) == n, "the destination's %s: %d lines, the cache %d rows", stream, bytes.Count(b, []byte("\n")), n)
	}
	out = append(out, fmt.Sprintf("no state warned %v", strings.Contains(logs.String()[logStart:], noState)))
	if err := check(ctx, c, 2, "after day 3"); err != nil {
		return "", err
	}
	// The orders' key gains a field: refused, the table as it was.
	cfg.Streams[0] = ledger.Stream{Name: "orders", Key: [][]string{{"id"}, {"region"}}, Region: true}
	_, err = sync(2)
	seen(err)
	want(errors.Is(err, goairbyte.ErrStrategy) && strings.Contains(err.Error(), `"region"`), "a merge whose key gained a field: %v", err)
	out = append(out, fmt.Sprintf("key gained a field refused %v", errors.Is(err, goairbyte.ErrStrategy)))
	if err := check(ctx, c, 2, "after the refused read"); err != nil {
		return "", err
	}
	twice, err := eventsTwice(ctx, c)
	if err != nil {
		return "", err
	}
	return strings.Join(out, ", ") + ", events twice " + twice, nil
}

// gotState is the last state the connector was given, as stream:u pairs.
func gotState(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	states, err := kit.ParseState([]byte(lines[len(lines)-1]))
	if err != nil {
		return err.Error()
	}
	byStream, err := kit.StreamStates(states)
	if err != nil {
		return err.Error()
	}
	var got []string
	for sd, st := range byStream {
		got = append(got, sd.Name+":"+string(st))
	}
	slices.Sort(got)
	return fmt.Sprint(got)
}

// check reconciles the tables with the ledger of day: every order once,
// at its latest version, and every event at least once; on the day of
// the failed read (and then only), an order or event may be missing.
func check(ctx context.Context, c *cache.Cache, day int, when string) error {
	orders, err := rowsOf(ctx, c, `SELECT CAST(id AS VARCHAR), CAST(u AS VARCHAR), v FROM %s ORDER BY id, _airbyte_raw_id`, "orders")
	if err != nil {
		return err
	}
	var wantOrders []string
	latest := map[float64]map[string]any{}
	for _, r := range ledgerDays[day]["orders"] {
		latest[float64(r["id"].(int))] = r
	}
	for _, id := range slices.Sorted(maps.Keys(latest)) {
		r := latest[id]
		wantOrders = append(wantOrders, fmt.Sprintf("%d/%d/%s", r["id"], r["u"], r["v"]))
	}
	want(slices.Equal(orders, wantOrders), "orders %s: %v, want %v", when, orders, wantOrders)
	events, err := rowsOf(ctx, c, `SELECT CAST(id AS VARCHAR), CAST(u AS VARCHAR), v FROM %s ORDER BY id, _airbyte_raw_id`, "events")
	if err != nil {
		return err
	}
	for _, r := range ledgerDays[day]["events"] {
		e := fmt.Sprintf("%d/%d/%s", r["id"], r["u"], r["v"])
		want(slices.Contains(events, e) || strings.Contains(when, "failed"), "event %s lost %s: %v", e, when, events)
	}
	return nil
}

// eventsTwice lists the events the table holds more than once, with how
// many times.
func eventsTwice(ctx context.Context, c *cache.Cache) (string, error) {
	rows, err := rowsOf(ctx, c, `SELECT CAST(id AS VARCHAR), CAST(count(*) AS VARCHAR) FROM %s GROUP BY id HAVING count(*) > 1 ORDER BY id`, "events")
	return fmt.Sprint(rows), err
}

// rowsOf runs query over stream's table (its %s) and gives each row's
// columns joined by "/".
func rowsOf(ctx context.Context, c *cache.Cache, query, stream string) ([]string, error) {
	ds, err := c.Dataset(ctx, stream)
	if err != nil {
		return nil, err
	}
	return queryRows(ctx, c, fmt.Sprintf(query, ds.QualifiedTableName()))
}

// queryRows runs q and gives each row's columns joined by "/".
func queryRows(ctx context.Context, c *cache.Cache, q string) ([]string, error) {
	rows, err := c.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var got []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var parts []string
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts = append(parts, fmt.Sprint(v))
		}
		got = append(got, strings.Join(parts, "/"))
	}
	return got, rows.Err()
}
