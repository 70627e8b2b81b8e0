package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/x/goairbyte/cache/internal/backend"
)

// Dataset is one stream's table in a cache, optionally filtered. Datasets
// are immutable: Where and After return new ones, so they chain.
type Dataset struct {
	c      *Cache
	stream string
	table  string
	where  []string
	args   []any
	// last is the greatest raw id of the table when Cache.datasets made
	// the dataset ("" for none); lastKnown says whether it did. ids is
	// how many raw ids the table then had, or any number above
	// exportPageSize when it had more (a backend.CountCapper's count
	// stops there; counting costs less than the bounds query an export
	// then skips), and tableAt identified it (Cache.tableID, taken
	// before; "" when unknown): an export of no more than a page needs no
	// query for its pages' bounds.
	last      string
	lastKnown bool
	ids       int64
	tableAt   string
}

// lastRawID returns the greatest _airbyte_raw_id the stream's table held
// (whatever the dataset's filter) when Cache.datasets made the dataset,
// "" when it held none; known is false for a dataset made otherwise.
// RecordLines of such a dataset (and of those made from it) gives the rows
// up to that raw id, as if its export had started then.
func (d *Dataset) lastRawID() (id string, known bool) { return d.last, d.lastKnown }

// Stream is the stream's name.
func (d *Dataset) Stream() string { return d.stream }

// QualifiedTableName is the quoted, schema-qualified table name, ready to
// paste into SQL.
func (d *Dataset) QualifiedTableName() string { return d.c.qual(d.table) }

// Where returns the dataset filtered by a SQL condition with "?"
// placeholders, such as Where("age > ?", 30). Conditions chain with AND.
// The condition is SQL written by the caller: never build it from
// untrusted input, pass values as arguments.
func (d *Dataset) Where(cond string, args ...any) *Dataset {
	n := *d
	n.where = append(append([]string(nil), d.where...), "("+cond+")")
	n.args = append(append([]any(nil), d.args...), args...)
	return &n
}

// After returns the rows loaded after the one whose _airbyte_raw_id is
// rawID (Records and RecordLines give them in arrival order): what a
// destination has not confirmed yet. An empty rawID means every row.
func (d *Dataset) After(rawID string) *Dataset {
	if rawID == "" {
		n := *d
		return &n
	}
	return d.Where(backend.Quote(backend.ColumnRawID)+" > ?", rawID)
}

func (d *Dataset) whereSQL() string {
	if len(d.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(d.where, " AND ")
}

// Count is the number of rows.
func (d *Dataset) Count(ctx context.Context) (int64, error) {
	var n int64
	err := d.c.queryRow(ctx, "SELECT count(*) FROM "+d.c.qual(d.table)+d.whereSQL(), d.args...).Scan(&n)
	return n, d.gone(ctx, err)
}

// gone returns the error of a query of the dataset: a
// [*protocol.StreamNotFoundError] when the table is no longer there
// (dropped by hand since Cache.Dataset), rather than the database's
// words for it.
func (d *Dataset) gone(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil {
		return err
	}
	if cols, cerr := d.c.columns(ctx, d.table); cerr == nil && len(cols) == 0 {
		return d.c.streamNotFound(ctx, d.stream)
	}
	return err
}

// ColumnInfo is a column of a dataset.
type ColumnInfo struct {
	// Name is the column's SQL name.
	Name string
	// Type is its type as the database names it (information_schema's
	// data_type), such as "BIGINT" or "timestamp with time zone".
	Type string
}

// Columns lists the table's columns, internal ones included.
func (d *Dataset) Columns(ctx context.Context) ([]ColumnInfo, error) {
	cols, err := d.c.columns(ctx, d.table)
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, d.c.streamNotFound(ctx, d.stream)
	}
	out := make([]ColumnInfo, len(cols))
	for i, c := range cols {
		out[i] = ColumnInfo{Name: c.name, Type: c.dataType}
	}
	return out, nil
}

// decodeJSON decodes a JSON column's text as encoding/json decodes into
// an any, except that a number beyond a double's range (1e400) is a
// json.Number rather than an error.
func decodeJSON(text string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return numbersAsFloats(v), nil
}

// numbersAsFloats replaces each json.Number in v that a float64 holds by
// that float64.
func numbersAsFloats(v any) any {
	switch v := v.(type) {
	case json.Number:
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return f
		}
	case map[string]any:
		for k, e := range v {
			v[k] = numbersAsFloats(e)
		}
	case []any:
		for i, e := range v {
			v[i] = numbersAsFloats(e)
		}
	}
	return v
}

// Records yields each row as a map from column name to value, internal
// columns included, in arrival (_airbyte_raw_id) order; rows without a raw
// id (written by hand) come first. Values are Go's as the database driver
// returns them (int64, float64, string, bool, time.Time, nil for NULL),
// except that JSON columns (objects, arrays, unions, _airbyte_meta) are
// decoded as encoding/json decodes into an any — map[string]any, []any,
// float64 … — on every backend (but a number beyond a double's range,
// 1e400, is a json.Number), and time columns are a time.Time on 0001-01-01
// (in UTC, or for a time with a time zone whose offset is not 0 in a zone
// of its offset), as DuckDB's driver gives them, so a row reads alike on
// DuckDB and PostgreSQL. A row of an open stream (see the package doc) whose
// _airbyte_data is not NULL is that object's fields, decoded as a JSON
// column is, and the cache's three columns (which win over a field of
// their name); not its key and cursor columns, which copy fields of it.
// Each call reads the table's columns afresh (one more query: 0.6-1.1 ms
// on DuckDB), so it sees a column a later load added and a table a replace
// made anew, whoever loaded them.
//
// On DuckDB, whose driver holds a whole query result in memory, rows are
// read as [Dataset.RecordLines] reads them, in pages by ranges of raw ids,
// the next pages while the current one is consumed, so memory stays
// bounded: a page holds up to 500,000 values (38,461 rows of faker's users,
// 333 of a table of 1,500 columns), which a read that runs out of memory
// reads again with the limit raised. The rows are those up to the last raw
// id present when the read started; a replace of the stream that commits
// during the read stops it with an error before it gives a row of the new
// table, and rows a merge deletes meanwhile are left out if their page was
// not read yet. On PostgreSQL, whose driver streams a result, they come
// from one query (300,000 users paged took 201-207 MB against 52-58 MB in
// one query): one snapshot, whose table a replace's swap waits for until
// the loop ends. Breaking out of the loop releases the queries.
func (d *Dataset) Records(ctx context.Context) iter.Seq2[map[string]any, error] {
	if _, paged := d.c.b.(backend.Materializer); !paged {
		return d.streamedRecords(ctx)
	}
	return d.pagedRecords(ctx, exportPageSize)
}

// streamedRecords is Records in one query, for a backend whose driver
// streams a result: memory stays bounded without pages, and the query's
// snapshot keeps a replace's swap waiting until the loop ends.
func (d *Dataset) streamedRecords(ctx context.Context) iter.Seq2[map[string]any, error] {
	return func(yield func(map[string]any, error) bool) {
		cols, err := d.c.columns(ctx, d.table)
		if err == nil && len(cols) == 0 {
			err = d.c.streamNotFound(ctx, d.stream)
		}
		if err != nil {
			yield(nil, d.gone(ctx, err))
			return
		}
		r := newRecordReader(d, cols)
		raw := backend.Quote(backend.ColumnRawID)
		rows, err := d.c.DB().QueryContext(ctx, d.c.rebind(r.sel+" FROM "+d.c.qual(d.table)+d.whereSQL()+" ORDER BY "+raw+" NULLS FIRST"), d.args...)
		if err != nil {
			yield(nil, d.gone(ctx, fmt.Errorf("cache: reading stream %q: %w", d.stream, err)))
			return
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(r.ptrs...); err != nil {
				yield(nil, d.c.classify(fmt.Errorf("cache: reading stream %q: %w", d.stream, err)))
				return
			}
			m, err := r.cols.row(r.vals)
			if err != nil {
				yield(nil, d.c.classify(err))
				return
			}
			if !yield(m, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, d.c.classify(fmt.Errorf("cache: reading stream %q: %w", d.stream, err)))
		}
	}
}

// pagedRecords is Records in pages of at most pageSize rows.
func (d *Dataset) pagedRecords(ctx context.Context, pageSize int) iter.Seq2[map[string]any, error] {
	return func(yield func(map[string]any, error) bool) {
		x, err := d.startRecords(ctx, pageSize)
		if err != nil {
			yield(nil, d.gone(ctx, err))
			return
		}
		defer x.stop()
		x.each(func(p *recordPage, err error) bool {
			if err != nil {
				yield(nil, err)
				return false
			}
			for j := range p.ids {
				if err := x.cancelled(); err != nil {
					yield(nil, err)
					return false
				}
				m, err := p.row(j)
				if err != nil {
					yield(nil, d.c.classify(err))
					return false
				}
				if !yield(m, nil) {
					return false
				}
			}
			return true
		})
	}
}

// startRecords starts the paged read of Records, in pages of at most
// pageSize rows.
func (d *Dataset) startRecords(ctx context.Context, pageSize int) (*pager[*recordPage], error) {
	return startPager(ctx, d, pageSize, recordPageValues, func(cols []columnInfo) pageReader[*recordPage] { return newRecordReader(d, cols) })
}

// recordPageValues bounds the values of one page of Records, as
// exportPageValues bounds the export's: a value scanned through
// database/sql takes some 40 bytes in Go (its interface and what it
// boxes), against a few in DuckDB's result or the export's lines. 500,000
// is 38,461 rows of faker-like users (13 columns) or 333 rows of 1,500
// columns. Measured with BenchmarkRecords (cache/duckdb), peak RSS: 1M
// users 392-411 MB (pages of 50,000 rows: 460-470 MB; of maps rather than
// scanned values, 682 MB), 50,000 rows of 1,500 columns 305-314 MB
// (1,000,000 values: 406 MB; 2,500,000: 709 MB). Each page of 1,500
// columns costs DuckDB about 0.17 s, so a wide table reads at half the
// speed of one query (1.5-2.1 k records/s against 3.7-6.7 k).
const recordPageValues = 500_000

// recordPage is one page of Records: the values of its rows as
// database/sql scanned them, row after row, in the order the query
// returned them; when that was not raw id order (unsorted), order lists
// the rows in raw id order. A row becomes a map only when it is given:
// a map of 13 entries takes several times its values' memory.
type recordPage struct {
	cols     *recordColumns
	ids      []string
	vals     []any
	unsorted bool
	order    []int
}

// recordColumns are the columns of the table as Records reads them.
type recordColumns struct {
	stream string
	names  []string
	kinds  []backend.Type
	rawID  int // the column _airbyte_raw_id, -1 if none
	data   int // the column _airbyte_data of an open stream's table, -1 if none
}

// row returns the i-th row in raw id order as Records gives it.
func (p *recordPage) row(i int) (map[string]any, error) {
	if p.unsorted {
		i = p.order[i]
	}
	n := len(p.cols.names)
	return p.cols.row(p.vals[i*n : (i+1)*n : (i+1)*n])
}

// row is the row of vals, one per column, as Records gives it.
func (c *recordColumns) row(vals []any) (map[string]any, error) {
	n := len(c.names)
	m, err := openRow(c.names, c.kinds, vals, c.data)
	if err != nil {
		return nil, fmt.Errorf("cache: stream %s: %w", c.stream, err)
	}
	if m != nil {
		return m, nil
	}
	m = make(map[string]any, n)
	for j, name := range c.names {
		if m[name], err = columnValue(vals[j], c.kinds[j]); err != nil {
			return nil, fmt.Errorf("cache: column %s of stream %s: %w", name, c.stream, err)
		}
	}
	return m, nil
}

// recordReader reads the pages of Records through database/sql, whose
// values Records gives.
type recordReader struct {
	d    *Dataset
	sel  string
	cols *recordColumns
	vals []any
	ptrs []any
}

// newRecordReader selects every column of cols, JSON columns as their text
// (DuckDB's driver decodes JSON itself, and fails on a number beyond a
// double's range).
func newRecordReader(d *Dataset, cols []columnInfo) *recordReader {
	rc := &recordColumns{stream: d.stream, names: make([]string, len(cols)), kinds: make([]backend.Type, len(cols)), rawID: -1, data: -1}
	r := &recordReader{d: d, cols: rc, vals: make([]any, len(cols)), ptrs: make([]any, len(cols))}
	sel := make([]string, len(cols))
	for i, c := range cols {
		q := backend.Quote(c.name)
		sel[i] = q
		rc.names[i] = c.name
		if rc.kinds[i] = d.c.b.ParseSQLType(c.dataType); rc.kinds[i] == backend.TypeJSON {
			sel[i] = "CAST(" + q + " AS VARCHAR) AS " + q
		}
		switch {
		case c.name == backend.ColumnRawID:
			rc.rawID = i
		case c.name == backend.ColumnData && rc.kinds[i] == backend.TypeJSON:
			rc.data = i
		}
		r.ptrs[i] = &r.vals[i]
	}
	r.sel = "SELECT " + strings.Join(sel, ", ")
	return r
}

func (r *recordReader) newPage() *recordPage { return &recordPage{cols: r.cols} }

// readPage reads the rows whose raw id is after lo ("": no bound) and up
// to hi into p.
func (r *recordReader) readPage(ctx context.Context, p *recordPage, lo, hi string) error {
	clear(p.vals) // let the last page's values go
	p.ids, p.vals, p.unsorted, p.order = p.ids[:0], p.vals[:0], false, p.order[:0]
	q, args := r.d.pageQuery(r.sel, lo, hi)
	rows, err := r.d.c.DB().QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("cache: reading stream %q: %w", r.d.stream, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(r.ptrs...); err != nil {
			return fmt.Errorf("cache: reading stream %q: %w", r.d.stream, err)
		}
		id := "" // a NULL raw id sorts first, as "" does
		if r.cols.rawID >= 0 {
			id, _ = r.vals[r.cols.rawID].(string)
		}
		if n := len(p.ids); n > 0 && id < p.ids[n-1] {
			p.unsorted = true
		}
		p.ids = append(p.ids, id)
		p.vals = append(p.vals, r.vals...)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cache: reading stream %q: %w", r.d.stream, err)
	}
	if p.unsorted {
		for i := range p.ids {
			p.order = append(p.order, i)
		}
		slices.SortStableFunc(p.order, func(a, b int) int { return strings.Compare(p.ids[a], p.ids[b]) })
	}
	return nil
}

// raiseForColumns raises the backend's memory limit, if it needs it, for
// a read of a table of n columns (see backend.WideReader), until release is
// called: once for a whole read, whichever way its rows come.
func (c *Cache) raiseForColumns(ctx context.Context, n int) (release func(), err error) {
	if wr, ok := c.b.(backend.WideReader); ok {
		return wr.RaiseForColumns(ctx, n)
	}
	return func() {}, nil
}

// raisedRetry runs read, and when it runs out of memory runs it again with
// the backend's limit raised (see backend.WideReader), until it fits or the
// limit goes no higher; read must start over each time. The error is
// classified, so that running out of memory names the options raising the
// limit.
func (c *Cache) raisedRetry(ctx context.Context, read func() error) error {
	wr, _ := c.b.(backend.WideReader)
	var restores []func()
	defer func() {
		for _, restore := range slices.Backward(restores) {
			restore()
		}
	}()
	for {
		err := c.classify(read())
		if wr == nil || !errors.Is(err, ErrOutOfMemory) {
			return err
		}
		restore, ok, rerr := wr.RaiseAgain(ctx)
		if rerr != nil || !ok {
			return err
		}
		restores = append(restores, restore)
	}
}

// openRow is the row of an open stream's table whose _airbyte_data (the
// column data, -1 if none) is not NULL, as Records gives it: the fields of
// that object, decoded as a JSON column is, and the cache's own columns,
// which win over a field of their name; nil for any other row. The
// columns that copy its key and cursor fields are not added again.
func openRow(names []string, kinds []backend.Type, vals []any, data int) (map[string]any, error) {
	if data < 0 || vals[data] == nil {
		return nil, nil
	}
	v, err := columnValue(vals[data], backend.TypeJSON)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", backend.ColumnData, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil // not an object: not the cache's; read the columns
	}
	for i, n := range names {
		if n == backend.ColumnRawID || n == backend.ColumnExtractedAt || n == backend.ColumnMeta {
			if m[n], err = columnValue(vals[i], kinds[i]); err != nil {
				return nil, fmt.Errorf("column %s: %w", n, err)
			}
		}
	}
	return m, nil
}

// columnValue is a value scanned from a column of type kind as Records
// gives it: JSON decoded, a time of day as a time.Time.
func columnValue(v any, kind backend.Type) (any, error) {
	isJSON := kind == backend.TypeJSON
	if b, ok := v.([]byte); ok && isJSON {
		v = string(b)
	}
	if text, ok := v.(string); ok && isJSON {
		dec, err := decodeJSON(text)
		if err != nil {
			return nil, fmt.Errorf("decoding its JSON: %w", err)
		}
		return dec, nil
	}
	// pgx gives a time column as its text; DuckDB's driver a time.Time
	// on 0001-01-01. Give that on both.
	if text, ok := v.(string); ok && (kind == backend.TypeTime || kind == backend.TypeTimeTZ) {
		tm, ok := parseClock(text)
		if !ok {
			return nil, fmt.Errorf("reading the time %q", text)
		}
		return tm, nil
	}
	return v, nil
}

// datasetsMax is how many tables one statement of datasets reads, as
// readTables does and for the reason it gives.
const datasetsMax = readTablesMax

// datasets returns the datasets of streams, in their order, as Dataset
// returns each, and the greatest _airbyte_raw_id of each table (see
// lastRawID): in statements of up to 32 tables rather than one per
// stream, which cost about 1 ms each on DuckDB however small the table
// (a destination's Write of 1,000 streams from a cache ran one for each).
// A stream that has no table is a [*protocol.StreamNotFoundError].
func (c *Cache) datasets(ctx context.Context, streams []string) ([]*Dataset, error) {
	out := make([]*Dataset, len(streams))
	for i, s := range streams {
		t, err := c.tableName(s)
		if err != nil {
			return nil, err
		}
		out[i] = &Dataset{c: c, stream: s, table: t}
	}
	raw := backend.Quote(backend.ColumnRawID)
	idq, _ := c.b.(backend.TableIDQuerier)
	cc, _ := c.b.(backend.CountCapper)
	capped := cc != nil && cc.CapCounts()
	for part := range slices.Chunk(out, datasetsMax) {
		if idq == nil {
			// Before the statement, as an export takes it before its
			// bounds: a swap after it is found out with the first page.
			for _, d := range part {
				id, err := c.tableID(ctx, d.table)
				if err != nil {
					return nil, fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
				}
				d.tableAt = id
			}
		}
		var last, id sql.NullString
		var count int64
		n, err := c.unionRows(ctx, len(part), func(i int, q *strings.Builder, args *[]any) error {
			t := c.qual(part[i].table)
			q.WriteString(`, (SELECT max(` + raw + `) FROM ` + t + `), `)
			if capped {
				// Only whether an export of the table is one page
				// (ids ≤ exportPageSize) is read from the count.
				q.WriteString(`(SELECT count(*) FROM (SELECT 1 FROM ` + t + ` WHERE ` + raw + ` IS NOT NULL LIMIT ` + strconv.Itoa(exportPageSize+1) + `) AS upto), `)
			} else {
				q.WriteString(`(SELECT count(` + raw + `) FROM ` + t + `), `)
			}
			if idq == nil {
				q.WriteString(`CAST(NULL AS VARCHAR)`)
				return nil
			}
			expr, a := idq.TableIDSQL(part[i].table)
			q.WriteString(expr)
			*args = append(*args, a...)
			return nil
		}, []any{&last, &count, &id}, func(i int) {
			d := part[i]
			d.last, d.lastKnown, d.ids = last.String, true, count
			if id.Valid {
				d.tableAt = id.String
			}
		})
		if err == nil && n != len(part) {
			err = fmt.Errorf("cache: read the greatest raw id of %d tables, asked for %d", n, len(part))
		}
		if err != nil {
			// A table that is not there fails the statement: the
			// tables one by one name the stream, as Dataset does.
			for _, d := range part {
				if err := d.readLastRawID(ctx); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// readLastRawID reads the dataset's table's greatest raw id alone,
// failing as Dataset does when the table is not there. Its export reads
// its pages' bounds.
func (d *Dataset) readLastRawID(ctx context.Context) error {
	cols, err := d.c.columns(ctx, d.table)
	if err != nil {
		return err
	}
	if len(cols) == 0 {
		return d.c.streamNotFound(ctx, d.stream)
	}
	var last sql.NullString
	if err := d.c.queryRow(ctx, `SELECT max(`+backend.Quote(backend.ColumnRawID)+`) FROM `+d.c.qual(d.table)).Scan(&last); err != nil {
		return fmt.Errorf("cache: reading stream %q: %w", d.stream, d.gone(ctx, err))
	}
	d.last, d.lastKnown, d.tableAt = last.String, true, ""
	return nil
}

// parseClock reads a time as PostgreSQL writes it (15:04:05.999999, with
// an offset such as -07, +05:30 or +05:30:15 for a timetz) as the
// time.Time on 0001-01-01 that DuckDB's driver gives for one: in UTC (an
// offset of 0 too), or in a zone of its offset. 24:00:00 is the midnight of 0001-01-02.
func parseClock(s string) (time.Time, bool) {
	end := strings.IndexAny(s, "+-")
	clock, zone := s, ""
	if end >= 0 {
		clock, zone = s[:end], s[end:]
	}
	parts := strings.Split(clock, ":")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	sec, frac, _ := strings.Cut(parts[2], ".")
	sc, err3 := strconv.Atoi(sec)
	if err1 != nil || err2 != nil || err3 != nil || len(frac) > 9 {
		return time.Time{}, false
	}
	ns := 0
	if frac != "" {
		f, err := strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
		if err != nil {
			return time.Time{}, false
		}
		ns = f
	}
	loc := time.UTC
	if zone != "" {
		off := 0
		for i, p := range strings.Split(zone[1:], ":") {
			v, err := strconv.Atoi(p)
			if err != nil || i > 2 {
				return time.Time{}, false
			}
			off += v * []int{3600, 60, 1}[i]
		}
		if zone[0] == '-' {
			off = -off
		}
		if off != 0 {
			loc = time.FixedZone("", off)
		}
	}
	return time.Date(1, 1, 1, h, m, sc, ns, loc), true
}
