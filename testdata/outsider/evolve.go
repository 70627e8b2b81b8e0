package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// evolving is a source whose catalog and records are its config's, as an
// analytics team sees a source change under its SQL between hourly syncs:
// each stream's properties, key, cursor and records, all sent each read
// but for an incremental stream's first "sent" (its state).
type evolving struct{}

var _ kit.Source = evolving{}

type evolvingStream struct {
	Name    string            `json:"name"`
	Props   string            `json:"props"`
	PK      [][]string        `json:"pk,omitempty"`
	Cursor  []string          `json:"cursor,omitempty"`
	Records []json.RawMessage `json:"records"`
}

func evolvingStreams(raw json.RawMessage) []evolvingStream {
	var c struct{ Streams []evolvingStream }
	_ = json.Unmarshal(raw, &c)
	return c.Streams
}

func (evolving) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","required":["streams"],"properties":{"streams":{"type":"array"}}}`)}, nil
}

func (evolving) Check(context.Context, json.RawMessage) error { return nil }

func (evolving) Discover(_ context.Context, raw json.RawMessage) (*protocol.Catalog, error) {
	cat := &protocol.Catalog{}
	for _, s := range evolvingStreams(raw) {
		st := protocol.Stream{Name: s.Name, JSONSchema: json.RawMessage(`{"type":"object","properties":` + s.Props + `}`),
			SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental}, SourceDefinedPrimaryKey: s.PK}
		if s.Cursor != nil {
			yes := true
			st.SourceDefinedCursor, st.DefaultCursorField = &yes, s.Cursor
		}
		cat.Streams = append(cat.Streams, st)
	}
	return cat, nil
}

func (evolving) Read(_ context.Context, raw json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage, emit func(*protocol.Message) error) error {
	states, err := kit.ParseState(state)
	if err != nil {
		return err
	}
	byStream, err := kit.StreamStates(states)
	if err != nil {
		return err
	}
	for _, cs := range catalog.Streams {
		sd := protocol.StreamDescriptor{Name: cs.Stream.Name}
		var recs []json.RawMessage
		for _, s := range evolvingStreams(raw) {
			if s.Name == sd.Name {
				recs = s.Records
			}
		}
		if err := sendSince(emit, cs, byStream[sd], recs); err != nil {
			return err
		}
	}
	return nil
}

// evolveJourney plays the evolving source's changes into a DuckDB cache
// and into the PostgreSQL database dsn, with the SQL of a team that reads
// the tables: a view, and on PostgreSQL a read-only role. It prints a line
// for each backend.
func evolveJourney(ctx context.Context, dsn string) error {
	return onBoth(ctx, "evolve", dsn, func(c *cache.Cache, pg bool) (string, error) { return playEvolve(ctx, c, pg) })
}

func playEvolve(ctx context.Context, c *cache.Cache, pg bool) (string, error) {
	src, err := goairbyte.GetSource(ctx, "source-evolving", connector.WithGoConnector(evolving{}), connector.WithLogger(logger),
		connector.WithConfig(`{"streams":[]}`))
	if err != nil {
		return "", err
	}
	var out []string
	set := func(streams ...evolvingStream) error {
		b, err := json.Marshal(map[string]any{"streams": streams})
		if err != nil {
			return err
		}
		return src.SetConfig(json.RawMessage(b))
	}
	read := func(opts ...source.ReadOption) error {
		res, err := src.Read(ctx, append([]source.ReadOption{source.UseCache(c)}, opts...)...)
		if seen(err) != nil {
			return err
		}
		out = append(out, fmt.Sprint(res.StreamRecords()))
		return nil
	}
	exec := func(q string) error {
		_, err := c.ExecSQL(ctx, q)
		return err
	}
	// query prints the rows of q, its columns joined by "/".
	query := func(q string) error {
		got, err := queryRows(ctx, c, q)
		out = append(out, "["+strings.Join(got, " ")+"]")
		return err
	}
	typeOf := func(col string) error {
		return query(`SELECT lower(data_type) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = '` + col + `'`)
	}

	// Hour 1: orders keyed by id, amounts in whole cents.
	v1 := `{"id":{"type":"integer"},"status":{"type":"string"},"amount":{"type":"integer"},"u":{"type":"integer"}}`
	orders := []json.RawMessage{json.RawMessage(`{"id":1,"status":"open","amount":100,"u":1}`), json.RawMessage(`{"id":2,"status":"open","amount":200,"u":1}`)}
	if err := set(evolvingStream{Name: "orders", Props: v1, PK: [][]string{{"id"}}, Cursor: []string{"u"}, Records: orders}); err != nil {
		return "", err
	}
	if err := read(); err != nil {
		return "", err
	}
	if err := exec(`CREATE VIEW order_amounts AS SELECT id, amount FROM orders`); err != nil {
		return "", err
	}
	var role string
	if pg {
		if err := c.DB().QueryRowContext(ctx, `SELECT current_database() || '_analyst'`).Scan(&role); err != nil {
			return "", err
		}
		for _, q := range []string{`CREATE ROLE ` + role, `GRANT USAGE ON SCHEMA public TO ` + role, `GRANT SELECT ON orders, order_amounts TO ` + role} {
			if err := exec(q); err != nil {
				return "", err
			}
		}
		defer func() {
			_ = exec(`DROP OWNED BY ` + role)
			_ = exec(`DROP ROLE ` + role)
		}()
	}

	// Hour 2: amounts in currency units (a number), status renamed state.
	v2 := `{"id":{"type":"integer"},"state":{"type":"string"},"amount":{"type":"number"},"u":{"type":"integer"}}`
	orders = append(orders, json.RawMessage(`{"id":1,"state":"paid","amount":1.5,"u":2}`), json.RawMessage(`{"id":3,"state":"open","amount":3,"u":2}`))
	if err := set(evolvingStream{Name: "orders", Props: v2, PK: [][]string{{"id"}}, Cursor: []string{"u"}, Records: orders}); err != nil {
		return "", err
	}
	if err := read(); err != nil {
		return "", err
	}
	// The README: a value that does not fit its column is NULL, noted in
	// _airbyte_meta; a property gone keeps its column, NULL in new rows.
	if err := query(`SELECT id, amount, status, state, CAST(_airbyte_meta AS VARCHAR) LIKE '%amount%' FROM orders ORDER BY id`); err != nil {
		return "", err
	}
	if err := typeOf("amount"); err != nil {
		return "", err
	}
	// The cure the README gives: a full refresh with replace.
	cure := func() error { return read(source.ForceFullRefresh(), source.Strategy(cache.StrategyReplace)) }
	if pg {
		_, err := src.Read(ctx, source.UseCache(c), source.ForceFullRefresh(), source.Strategy(cache.StrategyReplace))
		want(errors.Is(seen(err), goairbyte.ErrStrategy) && strings.Contains(fmt.Sprint(err), "public.order_amounts") && strings.Contains(fmt.Sprint(err), "DROP VIEW"),
			"a replace of a table a view reads, on PostgreSQL: %v, want an ErrStrategy naming the view and what to do", err)
		if err := exec(`DROP VIEW order_amounts`); err != nil {
			return "", err
		}
		if err := cure(); err != nil {
			return "", err
		}
		if err := exec(`CREATE VIEW order_amounts AS SELECT id, amount FROM orders`); err != nil {
			return "", err
		}
		var granted bool
		if err := c.DB().QueryRowContext(ctx, `SELECT has_table_privilege($1, 'public.orders', 'SELECT')`, role).Scan(&granted); err != nil {
			return "", err
		}
		want(granted, "the analyst's SELECT on orders after a replace: gone, want it kept")
	} else if err := cure(); err != nil {
		return "", err
	}
	if err := typeOf("amount"); err != nil {
		return "", err
	}
	// A full refresh under replace holds every record sent: id 1 twice,
	// until a full read under merge.
	if err := read(source.ForceFullRefresh()); err != nil {
		return "", err
	}
	if err := query(`SELECT id, amount FROM order_amounts ORDER BY id`); err != nil {
		return "", err
	}

	// Hour 3: a stream of events whose key may be NULL: merge never removes
	// such a row, so each read in full adds it again.
	ev := evolvingStream{Name: "events", Props: `{"id":{"type":["null","integer"]},"kind":{"type":"string"}}`, PK: [][]string{{"id"}},
		Records: []json.RawMessage{json.RawMessage(`{"id":1,"kind":"a"}`), json.RawMessage(`{"id":null,"kind":"b"}`)}}
	if err := set(ev); err != nil {
		return "", err
	}
	for range 2 {
		if err := read(source.ForceFullRefresh()); err != nil {
			return "", err
		}
	}
	if err := query(`SELECT count(*), count(id) FROM events`); err != nil {
		return "", err
	}

	// Hour 4: product 2 deleted at the source. Merge (auto's choice for a
	// keyed stream) keeps its row; replace mirrors the deletion.
	products := evolvingStream{Name: "products", Props: `{"id":{"type":"integer"}}`, PK: [][]string{{"id"}},
		Records: []json.RawMessage{json.RawMessage(`{"id":1}`), json.RawMessage(`{"id":2}`)}}
	for _, step := range []struct {
		sent     int
		strategy cache.Strategy
	}{{2, cache.StrategyAuto}, {1, cache.StrategyAuto}, {1, cache.StrategyReplace}} {
		p := products
		p.Records = p.Records[:step.sent]
		if err := set(p); err != nil {
			return "", err
		}
		if err := read(source.ForceFullRefresh(), source.Strategy(step.strategy)); err != nil {
			return "", err
		}
		if err := query(`SELECT id FROM products ORDER BY id`); err != nil {
			return "", err
		}
	}
	return strings.Join(out, ", "), nil
}
