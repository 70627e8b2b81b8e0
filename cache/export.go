package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/internal/jsonscan"
)

// RecordLine is one row of a dataset as an Airbyte RECORD message.
type RecordLine struct {
	// RawID is the row's _airbyte_raw_id.
	RawID string
	// Line is the RECORD message as one line of JSON, "\n" included:
	// {"type":"RECORD","record":{"stream":…,"data":{…},"emitted_at":…}},
	// with "meta":{"changes":[…]} after emitted_at when the row's
	// _airbyte_meta lists changes.
	// It is only valid until the next iteration.
	Line []byte
	// Data is the record's data within Line: the {…} object, valid as
	// long as Line is.
	Data []byte
}

// RecordLines yields the dataset's rows in _airbyte_raw_id order, each as a
// RECORD message of the dataset's stream whose data holds the row's
// non-NULL user columns (internal columns are left out) — for a row of an
// open stream whose _airbyte_data is not NULL, that object as the backend
// stores it (its key and cursor columns are copies, not added again) —
// and whose meta
// lists the changes of its _airbyte_meta: what the source reported and the
// fields the cache nulled, so that the destination learns of them as it
// does from a Write without a cache. A date, date-time or time value is
// written as RFC 3339 writes its column's type, not as the source spelled
// it: a date-time as its instant in UTC (2024-03-10T01:30:00+05:30 as
// 2024-03-09T20:00:00Z), a timestamp_without_timezone one as its wall-clock
// time with no zone, a time with a time zone with its offset (Z for 0).
// keys maps a column
// name to the key it gets in data; columns not in keys keep their name. A
// column name may be given as [NormalizeName] spells it: the cache
// shortens it to the backend's identifier limit as it shortened the
// column's.
//
// Rows are read in pages of 50,000 by ranges of raw ids, the next pages
// while the current one is consumed, so memory stays bounded (DuckDB's
// driver holds a whole query result in memory) and the database works while
// the consumer does. On PostgreSQL a page reads the blocks of its range
// through the table's BRIN index on the raw id (see the package doc).
// Breaking out of the loop releases the queries. Each page is its own
// query, not one snapshot, which would hold a replace's
// swap back for as long as the consumer takes. The export gives the rows
// up to the last raw id present when it started: rows a load appends
// meanwhile are left to the next export (a destination's next Write), and
// rows a merge deletes meanwhile are left out if their page was not read
// yet. A replace of the stream that commits during the export swaps in
// another table: the export then stops with an error before it gives a row
// of the new table, rather than mix two loads. Export a stream when no
// load of it runs, as a destination Write from the cache does after its
// source's Read.
func (d *Dataset) RecordLines(ctx context.Context, keys map[string]string) iter.Seq2[RecordLine, error] {
	return func(yield func(RecordLine, error) bool) {
		x, err := d.startExport(ctx, keys, exportPageSize)
		if err != nil {
			yield(RecordLine{}, err)
			return
		}
		defer x.stop()
		x.each(func(p *linePage, err error) bool {
			if err != nil {
				yield(RecordLine{}, err)
				return false
			}
			for j := range p.ids {
				if err := x.cancelled(); err != nil {
					yield(RecordLine{}, err)
					return false
				}
				if !yield(p.row(j), nil) {
					return false
				}
			}
			return true
		})
	}
}

// startExport starts the paged read of RecordLines, in pages of at most
// pageSize rows.
func (d *Dataset) startExport(ctx context.Context, keys map[string]string, pageSize int) (*pager[*linePage], error) {
	return startPager(ctx, d, pageSize, exportPageValues, func(cols []columnInfo) pageReader[*linePage] {
		return &lineReader{d: d, enc: newLineEncoder(d, cols, keys)}
	})
}

// lineReader reads the pages of RecordLines, as RECORD lines.
type lineReader struct {
	d   *Dataset
	enc *lineEncoder
}

func (r *lineReader) newPage() *linePage { return &linePage{} }

// linePage is one query's rows: every line back to back in buf, in the
// order the query returned them; when that was not raw id order
// (unsorted), order lists the rows in raw id order.
type linePage struct {
	ids      []string
	ends     []int
	dataEnds []int // where each line's data ends in buf
	dataFrom int   // where data begins in a line: every line has the same head
	buf      []byte
	unsorted bool
	order    []int
}

func (p *linePage) reset() {
	p.ids, p.ends, p.dataEnds, p.buf, p.unsorted, p.order = p.ids[:0], p.ends[:0], p.dataEnds[:0], p.buf[:0], false, p.order[:0]
}

// row returns the i-th row in raw id order.
func (p *linePage) row(i int) RecordLine {
	if p.unsorted {
		i = p.order[i]
	}
	start := 0
	if i > 0 {
		start = p.ends[i-1]
	}
	end := p.dataEnds[i]
	return RecordLine{RawID: p.ids[i], Line: p.buf[start:p.ends[i]:p.ends[i]], Data: p.buf[start+p.dataFrom : end : end]}
}

// sort orders the page by raw id, through order: the lines stay where
// they are.
func (p *linePage) sort() {
	p.order = p.order[:0]
	for i := range p.ids {
		p.order = append(p.order, i)
	}
	slices.SortFunc(p.order, func(a, b int) int { return strings.Compare(p.ids[a], p.ids[b]) })
}

// readPage reads the rows whose raw id is after lo ("": no bound) and up
// to hi into p, through the backend's RowReader when it has one.
func (r *lineReader) readPage(ctx context.Context, p *linePage, lo, hi string) error {
	d, enc := r.d, r.enc
	q, args := d.pageQuery(enc.sel, lo, hi)
	p.reset()
	p.dataFrom = len(enc.head) - 1 // the head ends with data's opening brace
	if rr, ok := d.c.b.(backend.RowReader); ok && !enc.noRowReader {
		err := rr.ReadRows(ctx, q, args, enc.types, func(r backend.Row) error {
			id := "" // as a NULL scans through database/sql
			if !r.Null(0) {
				id = strings.Clone(r.Text(0))
			}
			p.add(id)
			p.buf = enc.appendRow(p.buf, r)
			p.ends = append(p.ends, len(p.buf))
			p.dataEnds = append(p.dataEnds, enc.dataEnd)
			return nil
		})
		switch {
		case err == nil:
			p.finish()
			return nil
		case errors.Is(err, errors.ErrUnsupported):
			// A column it cannot read, said before any row: this
			// encoder's pages go through database/sql from now on.
			enc.noRowReader = true
		default:
			return fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
		}
	}
	rows, err := d.c.DB().QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(enc.ptrs...); err != nil {
			return fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
		}
		p.add(enc.id.String)
		p.buf = enc.appendLine(p.buf)
		p.ends = append(p.ends, len(p.buf))
		p.dataEnds = append(p.dataEnds, enc.dataEnd)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
	}
	p.finish()
	return nil
}

// add notes the next row's raw id; its line follows in buf.
func (p *linePage) add(id string) {
	if n := len(p.ids); n > 0 && id < p.ids[n-1] {
		p.unsorted = true
	}
	p.ids = append(p.ids, id)
}

// finish puts a complete page in raw id order.
func (p *linePage) finish() {
	if p.unsorted {
		p.sort()
	}
}

// lineEncoder turns the rows of one export query into RECORD lines. It
// encodes in Go: measured on DuckDB, building the JSON in SQL (to_json,
// string concatenation) costs more CPU per row than reading the typed
// values and appending them here. Also measured and dropped (1M faker
// users, DuckDB): DuckDB's own COPY … TO (FORMAT JSON) per page, ~4 µs a
// row against ~3 µs for the whole export through database/sql (and 1.8 µs
// through a RowReader); and packing the text columns into one
// length-prefixed value per row to save the driver's per-value work, which
// DuckDB's concatenation cost back.
type lineEncoder struct {
	sel  string // SELECT raw id, extracted at, meta, user columns…
	head []byte // {"type":"RECORD","record":{"stream":…,"data":{
	// dataEnd is where the data of the line just appended ends in dst.
	dataEnd int
	cols    []exportColumn
	// data is the index in cols of an open stream's _airbyte_data, -1
	// if none: a row where it is an object gives it as the data.
	data  int
	types []backend.Type // of every selected column, for a RowReader

	// noRowReader: the backend's RowReader cannot read this query, so
	// pages go through database/sql and the scan targets below.
	noRowReader bool
	id          sql.NullString
	at          sql.NullTime
	meta        sql.NullString
	vals        []any
	ptrs        []any
}

type exportColumn struct {
	key  []byte // "key":
	kind backend.Type
}

func newLineEncoder(d *Dataset, cols []columnInfo, keys map[string]string) *lineEncoder {
	e := &lineEncoder{head: []byte(`{"type":"RECORD","record":{"stream":` + jsonString(d.stream) + `,"data":{`), data: -1}
	// _airbyte_meta as text: a table whose meta column was dropped by
	// hand reads as one whose rows have no changes.
	meta := "CAST(NULL AS VARCHAR)"
	for _, c := range cols {
		if c.name == backend.ColumnMeta {
			meta = "CAST(" + backend.Quote(c.name) + " AS VARCHAR)"
		}
	}
	sel := []string{backend.Quote(backend.ColumnRawID), backend.Quote(backend.ColumnExtractedAt), meta}
	e.types = []backend.Type{backend.TypeString, backend.TypeTimestampTZ, backend.TypeString}
	// The columns of fields longer than the backend's identifier limit
	// have shortened names (see fitName); keys name them either way.
	if max := d.c.b.MaxIdentifierLength(); max > 0 {
		fitted := make(map[string]string, len(keys))
		for col, key := range keys {
			if f := fitName(col, max); f != col {
				fitted[f] = key
			}
		}
		for col, key := range keys {
			fitted[col] = key // a name given as it is wins
		}
		keys = fitted
	}
	for _, c := range cols {
		if c.name == backend.ColumnRawID || c.name == backend.ColumnExtractedAt || c.name == backend.ColumnMeta {
			continue
		}
		key := keys[c.name]
		if key == "" {
			key = c.name
		}
		t := d.c.b.ParseSQLType(c.dataType)
		expr := backend.Quote(c.name)
		if t == backend.TypeJSON {
			// Its text, not the driver's decoded value: it is JSON already.
			expr = "CAST(" + expr + " AS VARCHAR)"
		}
		if c.name == backend.ColumnData && t == backend.TypeJSON {
			e.data = len(e.cols)
		}
		sel = append(sel, expr)
		e.types = append(e.types, t)
		e.cols = append(e.cols, exportColumn{key: []byte(jsonString(key) + ":"), kind: t})
	}
	e.sel = "SELECT " + strings.Join(sel, ", ")
	e.vals = make([]any, len(e.cols))
	e.ptrs = append(make([]any, 0, len(sel)), &e.id, &e.at, &e.meta)
	for i := range e.vals {
		e.ptrs = append(e.ptrs, &e.vals[i])
	}
	return e
}

// appendLine appends the row scanned through database/sql as a RECORD
// line. NULL columns are left out of data, as a source omits a field it
// has no value for.
func (e *lineEncoder) appendLine(dst []byte) []byte {
	dst = append(dst, e.head...)
	var open bool
	if e.data >= 0 {
		switch v := e.vals[e.data].(type) {
		case string:
			dst, open = appendMembers(dst, v)
		case []byte:
			dst, open = appendMembers(dst, string(v))
		}
	}
	first := true
	for i, c := range e.cols {
		v := e.vals[i]
		if v == nil || open {
			continue
		}
		dst = appendKey(dst, c.key, first)
		first = false
		dst = appendJSONValue(dst, v, c.kind)
	}
	var ms int64
	if e.at.Valid {
		ms = e.at.Time.UnixMilli()
	}
	e.dataEnd = len(dst) + 1 // the tail begins with data's closing brace
	return appendTail(dst, ms, e.meta.String)
}

// appendRow appends a RowReader's row as a RECORD line, the same line
// appendLine makes of it.
func (e *lineEncoder) appendRow(dst []byte, r backend.Row) []byte {
	dst = append(dst, e.head...)
	var open bool
	if e.data >= 0 && !r.Null(e.data+3) {
		dst, open = appendMembers(dst, r.Text(e.data+3))
	}
	first := true
	for i, c := range e.cols {
		col := i + 3 // after the raw id, the extraction time and the meta
		if open || r.Null(col) {
			continue
		}
		dst = appendKey(dst, c.key, first)
		first = false
		switch c.kind {
		case backend.TypeString, backend.TypeJSON:
			dst = appendText(dst, r.Text(col), c.kind)
		case backend.TypeInteger:
			dst = strconv.AppendInt(dst, r.Int(col), 10)
		case backend.TypeNumber:
			dst = appendJSONFloat(dst, r.Float(col))
		case backend.TypeBoolean:
			dst = strconv.AppendBool(dst, r.Bool(col))
		default:
			dst = appendTime(dst, r.Time(col), c.kind)
		}
	}
	var ms int64
	if !r.Null(1) {
		ms = r.Time(1).UnixMilli()
	}
	meta := ""
	if !r.Null(2) {
		meta = r.Text(2)
	}
	e.dataEnd = len(dst) + 1 // the tail begins with data's closing brace
	return appendTail(dst, ms, meta)
}

// appendMembers appends the members of an open stream's _airbyte_data,
// the text of a JSON object, without its braces (the line has its own),
// and reports whether it was one; it appends nothing when it was not (a
// value written by hand), and the row is read from its columns.
func appendMembers(dst []byte, object string) ([]byte, bool) {
	object = strings.TrimSpace(object)
	if len(object) < 2 || object[0] != '{' || object[len(object)-1] != '}' {
		return dst, false
	}
	return append(dst, object[1:len(object)-1]...), true
}

func appendKey(dst, key []byte, first bool) []byte {
	if !first {
		dst = append(dst, ',')
	}
	return append(dst, key...)
}

// appendTail closes data and the message, with emitted_at in ms and the
// changes that meta, the row's _airbyte_meta, lists.
func appendTail(dst []byte, ms int64, meta string) []byte {
	dst = append(dst, `},"emitted_at":`...)
	dst = strconv.AppendInt(dst, ms, 10)
	if changes := metaChanges(meta); changes != nil {
		dst = append(dst, `,"meta":{"changes":`...)
		dst = append(dst, changes...)
		dst = append(dst, '}')
	}
	return append(dst, "}}\n"...)
}

// metaChanges returns the changes array of an _airbyte_meta's text, nil
// when it lists none. Nearly every row has none, spelled as the backends
// write it ({"changes":[]}, PostgreSQL's jsonb {"changes": []}): those
// are told apart without decoding.
func metaChanges(meta string) json.RawMessage {
	if meta == "" || meta == `{"changes":[]}` || meta == `{"changes": []}` {
		return nil
	}
	var m struct {
		Changes json.RawMessage `json:"changes"`
	}
	if json.Unmarshal([]byte(meta), &m) != nil {
		return nil // not the cache's: a hand-written value is no change
	}
	var changes []json.RawMessage
	if json.Unmarshal(m.Changes, &changes) != nil || len(changes) == 0 {
		return nil
	}
	return m.Changes
}

// appendJSONValue writes a value scanned from a column of type t as JSON.
func appendJSONValue(dst []byte, v any, t backend.Type) []byte {
	switch x := v.(type) {
	case string:
		if t == backend.TypeTimeTZ {
			return appendTimeTZText(dst, x)
		}
		return appendText(dst, x, t)
	case []byte:
		if t == backend.TypeTimeTZ {
			return appendTimeTZText(dst, string(x))
		}
		return appendText(dst, string(x), t)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case int16:
		return strconv.AppendInt(dst, int64(x), 10)
	case int8:
		return strconv.AppendInt(dst, int64(x), 10)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case uint64:
		return strconv.AppendUint(dst, x, 10)
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10)
	case float64:
		return appendJSONFloat(dst, x)
	case float32:
		return appendJSONFloat(dst, float64(x))
	case bool:
		return strconv.AppendBool(dst, x)
	case time.Time:
		return appendTime(dst, x, t)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return append(dst, "null"...)
	}
	return append(dst, b...)
}

// appendText writes a text column's value: as it is for JSON, which is
// JSON already, quoted otherwise.
func appendText(dst []byte, s string, t backend.Type) []byte {
	if t == backend.TypeJSON {
		return append(dst, s...)
	}
	return jsonscan.AppendString(dst, s)
}

// appendTime writes a date or time column's value as a JSON string in the
// format of its type.
func appendTime(dst []byte, x time.Time, t backend.Type) []byte {
	dst = append(dst, '"')
	switch t {
	case backend.TypeDate:
		dst = x.AppendFormat(dst, time.DateOnly)
	case backend.TypeTime:
		dst = x.AppendFormat(dst, "15:04:05.999999")
	case backend.TypeTimeTZ:
		dst = x.AppendFormat(dst, timeTZLayout)
	case backend.TypeTimestamp:
		dst = x.AppendFormat(dst, "2006-01-02T15:04:05.999999")
	default:
		// The instant in UTC: the databases keep no zone, and a driver
		// may give it in the program's local one (pgx does).
		dst = x.UTC().AppendFormat(dst, time.RFC3339Nano)
	}
	return append(dst, '"')
}

// timeTZLayout writes a time with time zone as RFC 3339 writes the
// time of a date-time, offset included: what a source sends.
const timeTZLayout = "15:04:05.999999Z07:00"

// timeTZTextLayouts read a time with time zone as a driver may give it
// in text: PostgreSQL writes the offset's hours alone when its minutes
// are zero ("12:34:56+02"), and its seconds when it has some.
var timeTZTextLayouts = []string{"15:04:05.999999999-07", "15:04:05.999999999-07:00", "15:04:05.999999999-07:00:00"}

// appendTimeTZText writes a time with time zone given in text in
// timeTZLayout, or as it is when it is not one.
func appendTimeTZText(dst []byte, s string) []byte {
	for _, l := range timeTZTextLayouts {
		if x, err := time.Parse(l, s); err == nil {
			return appendTime(dst, x, backend.TypeTimeTZ)
		}
	}
	return jsonscan.AppendString(dst, s)
}

func appendJSONFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// jsonString quotes s as a JSON string.
func jsonString(s string) string { return string(jsonscan.AppendString(nil, s)) }
