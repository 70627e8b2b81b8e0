package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/x/goairbyte/protocol"
)

// ExportPageSize is how many rows one query of [Dataset.RecordLines] reads.
// The export pages through the table by ranges of raw ids because DuckDB's
// driver holds a whole query result in memory: memory stays bounded by a
// few pages whatever the table's size and however slow the consumer.
const ExportPageSize = 50_000

// RecordLine is one row of a dataset as an Airbyte RECORD message.
type RecordLine struct {
	// RawID is the row's _airbyte_raw_id.
	RawID string
	// Line is the RECORD message as one line of JSON, "\n" included:
	// {"type":"RECORD","record":{"stream":…,"data":{…},"emitted_at":…}}.
	// It is only valid until the next iteration.
	Line []byte
}

// RecordLines yields the dataset's rows in _airbyte_raw_id order, each as a
// RECORD message of the dataset's stream whose data holds the row's
// non-NULL user columns (internal columns are left out). keys maps a column
// name to the key it gets in data; columns not in keys keep their name.
//
// Rows are read in pages of ExportPageSize by ranges of raw ids, the next
// page while the current one is consumed, so memory stays bounded (DuckDB's
// driver holds a whole query result in memory) and the database works while
// the consumer does. Breaking out of the loop releases the query.
func (d *Dataset) RecordLines(ctx context.Context, keys map[string]string) iter.Seq2[RecordLine, error] {
	return func(yield func(RecordLine, error) bool) {
		cols, err := d.c.columns(ctx, d.table)
		if err != nil {
			yield(RecordLine{}, err)
			return
		}
		enc := newLineEncoder(d, cols, keys)

		// Pages are (bounds[i], bounds[i+1]], the last one open-ended.
		more, err := d.pageBounds(ctx, ExportPageSize)
		if err != nil {
			yield(RecordLine{}, err)
			return
		}
		bounds := append([]string{""}, more...)

		// A page is read while the previous one is written, so that the
		// database's work overlaps the consumer's; three pages at most
		// exist.
		type result struct {
			p   *linePage
			err error
		}
		ctx, cancel := context.WithCancel(ctx)
		next := make(chan result, 1)
		// Pages go back to the reader once written: their buffers, grown
		// to a page's size once, are reused rather than grown again.
		free := make(chan *linePage, 2)
		defer func() {
			cancel()
			for range next { // wait for the reader: its query ends before we return
			}
		}()
		go func() {
			defer close(next)
			for i, lo := range bounds {
				hi := ""
				if i+1 < len(bounds) {
					hi = bounds[i+1]
				}
				var p *linePage
				select {
				case p = <-free:
				default:
					p = &linePage{}
				}
				err := d.readPage(ctx, p, enc, lo, hi)
				select {
				case next <- result{p, err}:
				case <-ctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}()
		for r := range next {
			if r.err != nil {
				yield(RecordLine{}, r.err)
				return
			}
			for i := range r.p.ids {
				if !yield(RecordLine{RawID: r.p.ids[i], Line: r.p.line(i)}, nil) {
					return
				}
			}
			select {
			case free <- r.p:
			default: // the reader has enough; let this one go
			}
		}
	}
}

// pageBounds returns the raw id of every size-th row of the dataset, in
// order: the upper bounds of all pages but the last. Only the ids are
// sorted; the lines are built page by page.
func (d *Dataset) pageBounds(ctx context.Context, size int) ([]string, error) {
	q := "SELECT id FROM (SELECT " + Quote(ColumnRawID) + " AS id, row_number() OVER (ORDER BY " + Quote(ColumnRawID) + ") AS rn FROM " +
		d.c.qual(d.table) + d.whereSQL() + fmt.Sprintf(") AS numbered WHERE rn %% %d = 0 ORDER BY id", size)
	rows, err := d.c.DB().QueryContext(ctx, d.c.rebind(q), d.args...)
	if err != nil {
		return nil, fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
	}
	return out, nil
}

// linePage is one query's rows: every line back to back in buf.
type linePage struct {
	ids  []string
	ends []int
	buf  []byte
}

func (p *linePage) line(i int) []byte {
	start := 0
	if i > 0 {
		start = p.ends[i-1]
	}
	return p.buf[start:p.ends[i]:p.ends[i]]
}

// readPage reads the rows whose raw id is after lo and up to hi ("": no
// bound) into p.
func (d *Dataset) readPage(ctx context.Context, p *linePage, enc *lineEncoder, lo, hi string) error {
	where := d.where[:len(d.where):len(d.where)]
	args := d.args[:len(d.args):len(d.args)]
	if lo != "" {
		where = append(where, "("+Quote(ColumnRawID)+" > ?)")
		args = append(args, lo)
	}
	if hi != "" {
		where = append(where, "("+Quote(ColumnRawID)+" <= ?)")
		args = append(args, hi)
	}
	q := enc.sel + " FROM " + d.c.qual(d.table)
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + Quote(ColumnRawID)
	rows, err := d.c.DB().QueryContext(ctx, d.c.rebind(q), args...)
	if err != nil {
		return fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
	}
	defer rows.Close()
	p.ids, p.ends, p.buf = p.ids[:0], p.ends[:0], p.buf[:0]
	for rows.Next() {
		if err := rows.Scan(enc.ptrs...); err != nil {
			return fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
		}
		p.ids = append(p.ids, enc.id.String)
		p.buf = enc.appendLine(p.buf)
		p.ends = append(p.ends, len(p.buf))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
	}
	return nil
}

// lineEncoder turns the rows of one export query into RECORD lines. It
// encodes in Go: measured on DuckDB, building the JSON in SQL (to_json,
// string concatenation) costs more CPU per row than scanning the typed
// values and appending them here.
type lineEncoder struct {
	sel  string // SELECT raw id, extracted at, user columns…
	head []byte // {"type":"RECORD","record":{"stream":…,"data":{
	cols []exportColumn
	id   sql.NullString
	at   sql.NullTime
	vals []any
	ptrs []any
}

type exportColumn struct {
	key  []byte // "key":
	kind Type
}

func newLineEncoder(d *Dataset, cols []columnInfo, keys map[string]string) *lineEncoder {
	e := &lineEncoder{head: []byte(`{"type":"RECORD","record":{"stream":` + jsonString(d.stream) + `,"data":{`)}
	sel := []string{Quote(ColumnRawID), Quote(ColumnExtractedAt)}
	for _, c := range cols {
		if c.name == ColumnRawID || c.name == ColumnExtractedAt || c.name == ColumnMeta {
			continue
		}
		key := keys[c.name]
		if key == "" {
			key = c.name
		}
		t := d.c.b.ParseSQLType(c.dataType)
		expr := Quote(c.name)
		if t == TypeJSON {
			// Its text, not the driver's decoded value: it is JSON already.
			expr = "CAST(" + expr + " AS VARCHAR)"
		}
		sel = append(sel, expr)
		e.cols = append(e.cols, exportColumn{key: []byte(jsonString(key) + ":"), kind: t})
	}
	e.sel = "SELECT " + strings.Join(sel, ", ")
	e.vals = make([]any, len(e.cols))
	e.ptrs = append(make([]any, 0, len(sel)), &e.id, &e.at)
	for i := range e.vals {
		e.ptrs = append(e.ptrs, &e.vals[i])
	}
	return e
}

// appendLine appends the scanned row as a RECORD line. NULL columns are
// left out of data, as a source omits a field it has no value for.
func (e *lineEncoder) appendLine(dst []byte) []byte {
	dst = append(dst, e.head...)
	first := true
	for i, c := range e.cols {
		v := e.vals[i]
		if v == nil {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, c.key...)
		dst = appendJSONValue(dst, v, c.kind)
	}
	dst = append(dst, `},"emitted_at":`...)
	var ms int64
	if e.at.Valid {
		ms = e.at.Time.UnixMilli()
	}
	dst = strconv.AppendInt(dst, ms, 10)
	return append(dst, "}}\n"...)
}

// appendJSONValue writes a value scanned from a column of type t as JSON.
func appendJSONValue(dst []byte, v any, t Type) []byte {
	switch x := v.(type) {
	case string:
		if t == TypeJSON {
			return append(dst, x...)
		}
		return protocol.AppendString(dst, x)
	case []byte:
		if t == TypeJSON {
			return append(dst, x...)
		}
		return protocol.AppendString(dst, string(x))
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
		dst = append(dst, '"')
		switch t {
		case TypeDate:
			dst = x.AppendFormat(dst, time.DateOnly)
		case TypeTime, TypeTimeTZ:
			dst = x.AppendFormat(dst, "15:04:05.999999")
		case TypeTimestamp:
			dst = x.AppendFormat(dst, "2006-01-02T15:04:05.999999")
		default:
			dst = x.AppendFormat(dst, time.RFC3339Nano)
		}
		return append(dst, '"')
	}
	b, err := json.Marshal(v)
	if err != nil {
		return append(dst, "null"...)
	}
	return append(dst, b...)
}

func appendJSONFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// jsonString quotes s as a JSON string.
func jsonString(s string) string { return string(protocol.AppendString(nil, s)) }
