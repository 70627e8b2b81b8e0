package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// zoned is a source of a company across time zones: stream "shifts",
// keyed by its start (a date-time), sends each start as an office wrote
// it: New York's 01:30 twice on the night its clocks go back, Kolkata's
// and Kathmandu's offsets, Z, no zone, a 12-hour clock's "PM", and a
// leap second. Its config's "batch" says which of two batches it sends.
type zoned struct{}

func (zoned) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object","properties":{"batch":{"type":"integer"}}}`)}, nil
}

func (zoned) Check(context.Context, json.RawMessage) error { return nil }

func (zoned) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	props := `{"start":{"type":"string","format":"date-time"},"office":{"type":"string"},` +
		`"local":{"type":"string","format":"date-time","airbyte_type":"timestamp_without_timezone"},` +
		`"clock":{"type":"string","format":"time","airbyte_type":"time_with_timezone"}}`
	return &protocol.Catalog{Streams: []protocol.Stream{{Name: "shifts", JSONSchema: json.RawMessage(`{"type":"object","properties":` + props + `}`),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental}, SourceDefinedPrimaryKey: [][]string{{"start"}}}}}, nil
}

var zonedBatches = [][]string{{
	`{"start":"2024-11-03T01:30:00-04:00","office":"new york, first 01:30","local":"2024-11-03T01:30:00-04:00","clock":"01:30:00-04:00"}`,
	`{"start":"2024-11-03T01:30:00-05:00","office":"new york, second 01:30","local":"2024-11-03T01:30:00-05:00","clock":"01:30:00-05:00"}`,
	`{"start":"2024-03-10T01:30:00+05:45","office":"kathmandu","local":"2024-03-10T01:30:00+05:45","clock":"2024-03-10T01:30:00+05:45"}`,
	`{"start":"2024-03-10T01:30:00","office":"no zone","local":"2024-03-10T01:30:00","clock":"01:30:00"}`,
	`{"start":"2024-03-10 01:30:00 PM","office":"pm","local":"2024-03-10 01:30:00 PM","clock":"01:30:00 PM"}`,
	`{"start":"2016-12-31T23:59:60Z","office":"leap second","local":"2016-12-31T23:59:60","clock":"23:59:60Z"}`,
}, {
	// Kathmandu's shift again, as Kolkata and UTC write its instant.
	`{"start":"2024-03-10T01:15:00+05:30","office":"kolkata, kathmandu's shift","local":"2024-03-10T01:15:00+05:30","clock":"01:15:00+05:30"}`,
	`{"start":"2024-03-09T19:45:00.000000Z","office":"utc, kathmandu's shift","local":"2024-03-09T19:45:00","clock":"19:45:00Z"}`,
}}

func (zoned) Read(_ context.Context, raw json.RawMessage, _ *protocol.ConfiguredCatalog, _ json.RawMessage, emit func(*protocol.Message) error) error {
	var c struct{ Batch int }
	_ = json.Unmarshal(raw, &c)
	for _, d := range zonedBatches[c.Batch] {
		if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "shifts", Data: []byte(d)}}); err != nil {
			return err
		}
	}
	return nil
}

// zonesJourney reads the source's two batches under merge into DuckDB and
// the PostgreSQL database dsn, whose DBA set America/New_York as the
// database's TimeZone, with the user's session in Asia/Kolkata on both
// (their own SQL in their zone), in a process whose TZ the test sets, and
// prints a line for each backend, which should read alike: each shift's
// instant, however it was written (a zone-less one in UTC), one row per
// instant once the second batch wrote Kathmandu's in two other offsets, a
// PM or a leap second NULL with a note rather than another instant, and
// the user's zone kept.
func zonesJourney(ctx context.Context, dsn string) error {
	pg, err := goairbyte.NewPostgresCache(ctx, dsn)
	if err != nil {
		return err
	}
	var db string
	if err := pg.DB().QueryRowContext(ctx, "SELECT current_database()").Scan(&db); err != nil {
		return err
	}
	if _, err := pg.ExecSQL(ctx, `ALTER DATABASE "`+db+`" SET timezone = 'America/New_York'`); err != nil {
		return err
	}
	pg.Close()
	return onBoth(ctx, "zones", dsn, func(c *cache.Cache, _ bool) (string, error) { return playZones(ctx, c) })
}

func playZones(ctx context.Context, c *cache.Cache) (string, error) {
	// The user's zone, for their own SQL, on the connection the loads
	// take too.
	c.DB().SetMaxOpenConns(1)
	if _, err := c.ExecSQL(ctx, "SET TimeZone = 'Asia/Kolkata'"); err != nil {
		return "", err
	}
	src, err := goairbyte.GetSource(ctx, "source-zoned", connector.WithGoConnector(zoned{}), connector.WithLogger(logger), connector.WithConfig(map[string]any{"batch": 0}))
	if err != nil {
		return "", err
	}
	var out []string
	for batch := range zonedBatches {
		if err := src.SetConfig(map[string]any{"batch": batch}); err != nil {
			return "", err
		}
		res, err := src.Read(ctx, source.UseCache(c), source.Strategy(cache.StrategyMerge))
		if seen(err) != nil {
			return "", err
		}
		out = append(out, fmt.Sprint(res.StreamRecords()))
	}
	// The stream's name as the Kolkata office spells it.
	_, err = src.Read(ctx, source.UseCache(c), source.Streams("shift"))
	want(errors.Is(seen(err), goairbyte.ErrStreamNotFound), "a read of stream \"shift\": %v, want ErrStreamNotFound", err)
	ds, err := c.Dataset(ctx, "shifts")
	if err != nil {
		return "", err
	}
	var rows []string
	for r, err := range ds.Records(ctx) {
		if err != nil {
			return "", err
		}
		var notes []string
		for _, ch := range r["_airbyte_meta"].(map[string]any)["changes"].([]any) {
			notes = append(notes, fmt.Sprint(ch.(map[string]any)["field"]))
		}
		at := func(col string) string {
			t, ok := r[col].(time.Time)
			if !ok {
				return fmt.Sprint(r[col])
			}
			want(t.Location() == time.UTC || col == "clock", "%s of %v is in %v, not UTC", col, r["office"], t.Location())
			return t.Format("2006-01-02T15:04:05Z07:00")
		}
		rows = append(rows, fmt.Sprintf("%s %s/%s/%s%v", r["office"], at("start"), at("local"), strings.TrimPrefix(at("clock"), "0001-01-01T"), notes))
	}
	slices.Sort(rows)
	out = append(out, "["+strings.Join(rows, "; ")+"]")
	var zone string
	if err := c.DB().QueryRowContext(ctx, "SELECT current_setting('TimeZone')").Scan(&zone); err != nil {
		return "", err
	}
	out = append(out, "user's zone "+zone)
	return strings.Join(out, ", "), nil
}
