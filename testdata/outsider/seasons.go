package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// seasons is a source whose catalog changes with its config's "season",
// as a source changes over a year of nightly syncs: in season 1, stream
// "users" (keyed by id, its cursor updated) has an integer score; in
// season 2 score is a number and users gained an email; in season 3 the
// cursor is a date-time and a stream "tags" appeared in two namespaces. Its state is how many of the
// season's records it has sent.
type seasons struct{}

var _ kit.Source = seasons{}

func (seasons) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","required":["season"],"properties":{"season":{"type":"integer","minimum":1,"maximum":3}}}`)}, nil
}

func (seasons) Check(context.Context, json.RawMessage) error { return nil }

func season(raw json.RawMessage) int {
	var c struct{ Season int }
	_ = json.Unmarshal(raw, &c)
	return c.Season
}

var (
	seasonUsers = []string{`{"id":1,"score":10,"updated":1}`, `{"id":2,"score":20,"updated":1}`, `{"id":1,"score":7.5,"email":"a@x","updated":2}`}
	// In season 3 the cursor is a date-time, and user 2 changed.
	season3Users = []string{`{"id":1,"score":7.5,"email":"a@x","updated":"2026-02-01T00:00:00Z"}`, `{"id":2,"score":20,"updated":"2026-01-01T00:00:00Z"}`,
		`{"id":2,"score":21,"updated":"2026-03-01T00:00:00Z"}`}
)

func (seasons) Discover(_ context.Context, raw json.RawMessage) (*protocol.Catalog, error) {
	yes, n := true, season(raw)
	props := `{"id":{"type":"integer"},"score":{"type":"integer"},"updated":{"type":"integer"}}`
	if n >= 2 {
		props = `{"id":{"type":"integer"},"score":{"type":"number"},"email":{"type":"string"},"updated":{"type":"integer"}}`
	}
	if n >= 3 {
		props = `{"id":{"type":"integer"},"score":{"type":"number"},"email":{"type":"string"},"updated":{"type":"string","format":"date-time"}}`
	}
	cat := &protocol.Catalog{Streams: []protocol.Stream{{Name: "users", JSONSchema: json.RawMessage(`{"type":"object","properties":` + props + `}`),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental}, SourceDefinedCursor: &yes,
		DefaultCursorField: []string{"updated"}, SourceDefinedPrimaryKey: [][]string{{"id"}}}}}
	if n >= 3 {
		for _, ns := range []string{"east", "west"} {
			cat.Streams = append(cat.Streams, protocol.Stream{Name: "tags", Namespace: ns, JSONSchema: json.RawMessage(`{"type":"object","properties":{"tag":{"type":"string"}}}`),
				SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}})
		}
	}
	return cat, nil
}

func (seasons) Read(_ context.Context, raw json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage, emit func(*protocol.Message) error) error {
	states, err := kit.ParseState(state)
	if err != nil {
		return err
	}
	byStream, err := kit.StreamStates(states)
	if err != nil {
		return err
	}
	users := seasonUsers[:2]
	switch season(raw) {
	case 2:
		users = seasonUsers
	case 3:
		users = season3Users
	}
	if err := emit(&protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: protocol.LevelInfo, Message: fmt.Sprintf("season %d", season(raw))}}); err != nil {
		return err
	}
	for _, cs := range catalog.Streams {
		sd := protocol.StreamDescriptor{Name: cs.Stream.Name, Namespace: cs.Stream.Namespace}
		data := []string{`{"tag":"` + cs.Stream.Namespace + `"}`}
		if cs.Stream.Name == "users" {
			data = users
		}
		if err := sendSince(emit, cs, byStream[sd], data); err != nil {
			return err
		}
	}
	return nil
}

// sendSince emits the records of stream cs, but for an incremental read
// the first ones its state counts as sent, then a state counting them all.
func sendSince[T ~string | ~[]byte](emit func(*protocol.Message) error, cs protocol.ConfiguredStream, state json.RawMessage, data []T) error {
	sd := protocol.StreamDescriptor{Name: cs.Stream.Name, Namespace: cs.Stream.Namespace}
	var from struct{ Sent int }
	if state != nil && cs.SyncMode == protocol.SyncIncremental {
		if err := json.Unmarshal(state, &from); err != nil {
			return err
		}
	}
	for _, d := range data[min(from.Sent, len(data)):] {
		if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: sd.Name, Namespace: sd.Namespace, Data: []byte(d)}}); err != nil {
			return err
		}
	}
	return emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
		Stream: &protocol.StreamState{StreamDescriptor: sd, StreamState: fmt.Appendf(nil, `{"sent":%d}`, len(data))}}})
}

// seasonsJourney plays the source's seasons into a DuckDB cache and into
// the PostgreSQL database dsn, and prints a line for each, which should
// read alike: a changed type keeps its column's type (a value that does
// not fit is NULL with a note), the cure the docs give (a full refresh with
// replace, then one with merge) gives the column its new type and keeps
// one row per key, a stream name in two namespaces is refused naming
// both, and so is a merge whose cursor turned date-time, until a replace.
func seasonsJourney(ctx context.Context, dsn string) error {
	return onBoth(ctx, "seasons", dsn, func(c *cache.Cache, _ bool) (string, error) { return playSeasons(ctx, c) })
}

// onBoth plays play into a DuckDB cache called name and into the
// PostgreSQL database dsn (pg true), opened with pgOpts, and prints the
// line it gives for each.
func onBoth(ctx context.Context, name, dsn string, play func(c *cache.Cache, pg bool) (string, error), pgOpts ...postgres.Option) error {
	duck, err := goairbyte.NewLocalCache(ctx, name, "")
	if err != nil {
		return err
	}
	defer duck.Close()
	pg, err := goairbyte.NewPostgresCache(ctx, dsn, pgOpts...)
	if err != nil {
		return err
	}
	defer pg.Close()
	for _, c := range []struct {
		name string
		c    *cache.Cache
	}{{"duckdb", duck}, {"postgres", pg}} {
		line, err := play(c.c, c.c == pg)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		fmt.Printf("%s: %s\n", c.name, line)
	}
	return nil
}

func playSeasons(ctx context.Context, c *cache.Cache) (string, error) {
	src, err := goairbyte.GetSource(ctx, "source-seasons", connector.WithGoConnector(seasons{}), connector.WithLogger(logger),
		connector.WithConfig(map[string]any{"season": 1}))
	if err != nil {
		return "", err
	}
	var out []string
	read := func(opts ...source.ReadOption) error {
		res, err := src.Read(ctx, append([]source.ReadOption{source.UseCache(c)}, opts...)...)
		if seen(err) != nil {
			return err
		}
		out = append(out, fmt.Sprint(res.StreamRecords()))
		return nil
	}
	rows := func(what string) error {
		ds, err := c.Dataset(ctx, "users")
		if err != nil {
			return err
		}
		var got []string
		for r, err := range ds.Records(ctx) {
			if err != nil {
				return err
			}
			var notes []string
			for _, ch := range r["_airbyte_meta"].(map[string]any)["changes"].([]any) {
				notes = append(notes, fmt.Sprint(ch.(map[string]any)["field"]))
			}
			got = append(got, fmt.Sprintf("%v/%v/%v/%v%v", r["id"], r["updated"], r["score"], r["email"], notes))
		}
		slices.Sort(got)
		out = append(out, what+" "+strings.Join(got, " "))
		return nil
	}
	if err := read(); err != nil {
		return "", err
	}
	if err := src.SetConfig(map[string]any{"season": 2}); err != nil {
		return "", err
	}
	if err := read(); err != nil {
		return "", err
	}
	if err := rows("merged"); err != nil {
		return "", err
	}
	if err := read(source.ForceFullRefresh(), source.Strategy(cache.StrategyReplace)); err != nil {
		return "", err
	}
	if err := rows("replaced"); err != nil {
		return "", err
	}
	if err := read(source.ForceFullRefresh()); err != nil {
		return "", err
	}
	if err := rows("merged in full"); err != nil {
		return "", err
	}
	if err := src.SetConfig(map[string]any{"season": 3}); err != nil {
		return "", err
	}
	_, err = src.Read(ctx, source.UseCache(c))
	want(errors.Is(seen(err), goairbyte.ErrNameCollision) && strings.Contains(fmt.Sprint(err), `"east" and "west"`),
		"a stream name in two namespaces: %v, want an ErrNameCollision naming both", err)
	// The cursor turned date-time: a merge is refused, a replace is the cure.
	_, err = src.Read(ctx, source.UseCache(c), source.Streams("users"))
	want(errors.Is(seen(err), goairbyte.ErrStrategy) && strings.Contains(fmt.Sprint(err), `cursor field "updated"`),
		"a merge whose cursor turned date-time: %v, want an ErrStrategy naming the field", err)
	if err := read(source.Streams("users"), source.ForceFullRefresh(), source.Strategy(cache.StrategyReplace)); err != nil {
		return "", err
	}
	if err := read(source.Streams("users"), source.ForceFullRefresh()); err != nil {
		return "", err
	}
	if err := rows("season 3"); err != nil {
		return "", err
	}
	return strings.Join(out, ", "), nil
}
