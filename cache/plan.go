package cache

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/catalogs"
	"github.com/x/goairbyte/protocol"
)

// Strategy is how a load writes a stream into its table.
type Strategy string

// The write strategies.
const (
	// StrategyAuto merges when the stream has a primary key, appends when
	// it has a cursor, and replaces otherwise.
	StrategyAuto Strategy = "auto"
	// StrategyAppend adds every record as a new row.
	StrategyAppend Strategy = "append"
	// StrategyMerge keeps one row per primary key: the newest by cursor,
	// then by arrival, duplicates within one sync included.
	StrategyMerge Strategy = "merge"
	// StrategyReplace loads into a new table and swaps it in atomically at
	// the end; readers never see a half table.
	StrategyReplace Strategy = "replace"
)

// stagingPrefix starts the name of every staging table of a replace.
const stagingPrefix = "_airbyte_tmp_"

// streamPlan is how one stream of a load is written.
type streamPlan struct {
	table    backend.Table
	strategy Strategy
	target   string // the table records go into: the stream's, or a staging table
	records  int64  // records received
	// namespace is the stream's ("" for none), recorded for its table.
	namespace string
	// takeover is what the table is recorded for when that is a stream
	// of another namespace, which this replace takes it over from (see
	// checkNamespaces); nil otherwise.
	takeover *tableOwner
	// otherState says that the source's state for the stream, kept for a
	// table whose namespace is unknown, names another namespace (see
	// unknownNamespaces): it is dropped rather than given to this one.
	otherState bool
	// open: the stream's schema declares no property, and its records
	// are loaded whole into _airbyte_data (see openRecord).
	open bool

	// What the messages said of the stream: its last STREAM_STATUS and
	// whether a STATE of its own arrived. A replace stream is swapped in
	// (swap, then swapped once committed) only when they tell it was read
	// to its end (see load.finished).
	status        protocol.StreamStatus
	stated        bool
	swap, swapped bool
	// unmade says that a replace stream had no table when the load
	// began: if it is not swapped in, it still has none, and nothing of
	// it stays recorded.
	unmade bool

	// Merge bookkeeping, set by prepare: the watermark of the rows this
	// load deduplicates, whether rows older than it exist, and whether
	// the table was empty before the load.
	dedupeFrom string
	older      bool
	wasEmpty   bool
	// keysUnordered is set once a record's primary key did not exceed the
	// one before it (or a batch could not tell); lastKey is the last key
	// seen (see backend.KeyOrderer).
	keysUnordered bool
	lastKey       string
}

// noteKeys folds the key order of one batch, in arrival order, into the
// plan's.
func (p *streamPlan) noteKeys(b backend.Batch) {
	ko, ok := b.(backend.KeyOrderer)
	if !ok {
		p.keysUnordered = true
		return
	}
	first, last, increasing := ko.KeyOrder()
	if !increasing || (first != "" && p.lastKey != "" && first <= p.lastKey) {
		p.keysUnordered = true
	}
	if last != "" {
		p.lastKey = last
	}
}

// orderedProperties returns a JSON schema's top-level properties in the
// order they appear, so tables get columns in schema order.
func orderedProperties(schema json.RawMessage) ([]string, map[string]json.RawMessage, error) {
	var s struct {
		Properties json.RawMessage `json:"properties"`
	}
	if len(schema) == 0 {
		return nil, nil, nil
	}
	if err := json.Unmarshal(schema, &s); err != nil {
		return nil, nil, err
	}
	if len(s.Properties) == 0 || string(s.Properties) == "null" {
		return nil, nil, nil
	}
	props := map[string]json.RawMessage{}
	if err := json.Unmarshal(s.Properties, &props); err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(s.Properties))
	var order []string
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		order = append(order, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, nil, err
		}
	}
	return order, props, nil
}

// planStreams turns a configured catalog into tables and strategies,
// refusing name collisions and strategies that cannot apply.
func (c *Cache) planStreams(req *LoadRequest) ([]*streamPlan, error) {
	var plans []*streamPlan
	tables := map[string]*protocol.Stream{}
	for i := range req.Catalog.Streams {
		cs := &req.Catalog.Streams[i]
		t, err := c.planTable(cs)
		if err != nil {
			return nil, err
		}
		if prev, ok := tables[t.Name]; ok {
			return nil, &cacheerr.CollisionError{Kind: "stream", First: prev.Name, Second: t.Stream, Identifier: t.Name,
				Namespaces: [2]string{prev.Namespace, cs.Stream.Namespace}}
		}
		tables[t.Name] = &cs.Stream
		st, err := chooseStrategy(req, cs, &t)
		if err != nil {
			return nil, err
		}
		if err := cacheerr.MissingKeyField(t.Stream, string(st), t.PrimaryKey, t.Cursor, func(f string) bool { return columnOf(&t, f) != nil }); err != nil {
			return nil, err
		}
		plans = append(plans, &streamPlan{table: t, strategy: st, target: t.Name, open: isOpen(&t), namespace: cs.Stream.Namespace})
	}
	return plans, nil
}

// internalColumns are the cache's own columns, before the user columns of
// every stream table.
var internalColumns = map[string]bool{backend.ColumnRawID: true, backend.ColumnExtractedAt: true, backend.ColumnMeta: true}

// planTable is the table of one configured stream: its name, its columns
// in schema order, its key and cursor.
func (c *Cache) planTable(cs *protocol.ConfiguredStream) (backend.Table, error) {
	name := cs.Stream.Name
	tn, err := c.tableName(name)
	if err != nil {
		return backend.Table{}, err
	}
	order, props, err := orderedProperties(cs.Stream.JSONSchema)
	if err != nil {
		return backend.Table{}, fmt.Errorf("cache: the JSON schema of stream %q is not valid: %w", name, err)
	}
	t := backend.Table{Stream: name, Name: tn}
	t.PrimaryKey = cs.PrimaryKey
	if len(t.PrimaryKey) == 0 {
		t.PrimaryKey = cs.Stream.SourceDefinedPrimaryKey
	}
	t.Cursor = cs.CursorField
	if len(t.Cursor) == 0 {
		t.Cursor = cs.Stream.DefaultCursorField
	}
	seen := map[string]string{backend.ColumnData: backend.ColumnData}
	for col := range internalColumns {
		seen[col] = col
	}
	open := catalogs.OpenSchema(cs.Stream.JSONSchema)
	if open {
		// Its key and cursor fields, typed as a field of an empty schema
		// is, then the data: see openRecord.
		order, props = openFields(&t), nil
	}
	for _, f := range order {
		cn, err := NormalizeName(f)
		if err != nil {
			return backend.Table{}, fmt.Errorf("stream %q: %w", name, err)
		}
		cn = fitName(cn, c.b.MaxIdentifierLength())
		if prev, ok := seen[cn]; ok {
			kind := "field"
			if internalColumns[cn] || cn == backend.ColumnData {
				kind = "reserved"
			}
			return backend.Table{}, &cacheerr.CollisionError{Kind: kind, First: prev, Second: f, Identifier: cn}
		}
		seen[cn] = f
		t.Columns = append(t.Columns, backend.Column{Name: cn, Field: f, Type: columnType(props[f])})
	}
	if open {
		t.Columns = append(t.Columns, backend.Column{Name: backend.ColumnData, Field: backend.ColumnData, Type: backend.TypeJSON})
	}
	return t, nil
}

// openFields are the top-level fields of an open stream's primary key and
// cursor, each once, in that order: the fields its table has columns of
// besides _airbyte_data.
func openFields(t *backend.Table) []string {
	var fields []string
	for _, path := range append(slices.Clone(t.PrimaryKey), t.Cursor) {
		if len(path) > 0 && !slices.Contains(fields, path[0]) {
			fields = append(fields, path[0])
		}
	}
	return fields
}

// isOpen reports whether t is an open stream's table: its last column is
// _airbyte_data, which no declared field can be.
func isOpen(t *backend.Table) bool {
	n := len(t.Columns)
	return n > 0 && t.Columns[n-1].Field == backend.ColumnData
}

// chooseStrategy resolves auto for one stream and refuses a strategy that
// cannot apply to it.
func chooseStrategy(req *LoadRequest, cs *protocol.ConfiguredStream, t *backend.Table) (Strategy, error) {
	st := req.Strategy
	if st == "" || st == StrategyAuto {
		switch {
		case len(t.PrimaryKey) > 0:
			st = StrategyMerge
		case len(t.Cursor) > 0:
			st = StrategyAppend
		default:
			st = StrategyReplace
		}
	}
	switch st {
	case StrategyMerge:
		if len(t.PrimaryKey) == 0 {
			return "", &cacheerr.StrategyError{Stream: t.Stream, Strategy: string(st), Reason: "it has no primary key; set one (Source.SetPrimaryKey of package source, or the configured catalog's primary_key) or use append or replace"}
		}
	case StrategyReplace:
		if cs.SyncMode == protocol.SyncIncremental && !req.FullRefresh {
			return "", &cacheerr.StrategyError{Stream: t.Stream, Strategy: string(st), Reason: "replacing the table with an incremental read would keep only the new records; read in full (source.ForceFullRefresh or destination.ForceFullRefresh; LoadRequest.FullRefresh for Cache.Load) or use merge or append"}
		}
	case StrategyAppend:
	default:
		return "", &cacheerr.StrategyError{Stream: t.Stream, Strategy: string(st), Reason: "unknown strategy; use auto, append, merge or replace"}
	}
	return st, nil
}

// columnOf returns the column of a top-level field, nil if none.
func columnOf(t *backend.Table, field string) *backend.Column {
	for i := range t.Columns {
		if t.Columns[i].Field == field {
			return &t.Columns[i]
		}
	}
	return nil
}

// keyExpr is the SQL expression of a field path on table alias a: the
// column, or for a value held as JSON (a column of JSON, or a path inside
// one), its backend.JSONKey, equal for equal JSON values on every backend.
func (c *Cache) keyExpr(t *backend.Table, alias string, path []string) string {
	col := columnOf(t, path[0])
	e := alias + "." + backend.Quote(col.Name)
	if col.Type == backend.TypeJSON {
		return c.b.JSONKey(e, path[1:])
	}
	return e
}
