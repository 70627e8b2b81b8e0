// Package postgres is the PostgreSQL backend of the cache, for caches
// shared by several programs or machines. It uses a pgx pool; records are
// parsed in Go (valyala/fastjson) into COPY text rows and bulk-loaded with
// COPY … FROM STDIN on the transaction's connection.
//
// Values are checked against their column's type in Go before COPY, so one
// bad value never fails a batch: it is sent as NULL and noted in
// _airbyte_meta. Because the COPY statement names its columns itself and
// general queries run in pgx's "exec" mode, nothing depends on pgx's cache
// of statement and table descriptions, which goes stale when a replace
// drops and re-creates a table of the same name.
//
//	c, err := postgres.New(ctx, "postgres://user:pw@localhost:5432/db", postgres.WithSchema("airbyte"))
package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/valyala/fastjson"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/protocol"
)

// Cache is a PostgreSQL cache.
type Cache struct {
	*cache.SQL
}

// Config names a PostgreSQL database by parts; DSN turns it into a URL.
type Config struct {
	Host     string
	Port     int // 5432 when zero
	User     string
	Password string
	Database string
	// Params are extra connection parameters, such as sslmode.
	Params map[string]string
}

// DSN is the config as a postgres:// URL.
func (c Config) DSN() string {
	port := c.Port
	if port == 0 {
		port = 5432
	}
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(c.Host, strconv.Itoa(port)), Path: "/" + c.Database}
	if c.User != "" {
		u.User = url.UserPassword(c.User, c.Password)
	}
	q := url.Values{}
	for k, v := range c.Params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

type options struct {
	schema string
	prefix string
}

// Option configures a PostgreSQL cache.
type Option func(*options)

// WithSchema sets the schema of every table ("public" by default); it is
// created if missing.
func WithSchema(schema string) Option { return func(o *options) { o.schema = schema } }

// WithTablePrefix puts prefix before every stream table's name.
func WithTablePrefix(prefix string) Option { return func(o *options) { o.prefix = prefix } }

// defaultWorkMem is the work_mem of the cache's connections unless the DSN
// sets one (e.g. "?work_mem=16MB").
const defaultWorkMem = "64MB"

// Open connects to the database cfg names.
func Open(ctx context.Context, cfg Config, opts ...Option) (*Cache, error) {
	return New(ctx, cfg.DSN(), opts...)
}

// New connects to the database at dsn (a URL or key=value string). Its
// connections use work_mem 64MB unless dsn sets work_mem, so that the
// duplicate check at the end of a merge does not spill to disk.
func New(ctx context.Context, dsn string, opts ...Option) (*Cache, error) {
	o := options{schema: "public"}
	for _, f := range opts {
		f(&o)
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: the connection string is not valid: %w", err)
	}
	// Unnamed statements: no cached description can outlive a table that a
	// replace dropped and re-created.
	pc.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	// The end-of-load duplicate check of a merge groups the whole table
	// by key; at PostgreSQL's default 4MB it spills to disk (a million
	// keys take ~40MB). A work_mem in the DSN wins.
	if _, ok := pc.ConnConfig.RuntimeParams["work_mem"]; !ok {
		pc.ConnConfig.RuntimeParams["work_mem"] = defaultWorkMem
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connecting to %s@%s/%s: %w", pc.ConnConfig.User, pc.ConnConfig.Host, pc.ConnConfig.Database, err)
	}
	b := &backend{pool: pool, db: stdlib.OpenDBFromPool(pool), schema: o.schema}
	if o.schema != "public" {
		if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+cache.Quote(o.schema)); err != nil {
			b.Close()
			return nil, fmt.Errorf("postgres: creating schema %q: %w", o.schema, err)
		}
	}
	var copts []cache.Option
	if o.prefix != "" {
		copts = append(copts, cache.WithTablePrefix(o.prefix))
	}
	s, err := cache.New(ctx, b, copts...)
	if err != nil {
		b.Close()
		return nil, err
	}
	return &Cache{SQL: s}, nil
}

// Pool is the pgx pool, for callers who want pgx's own API.
func (c *Cache) Pool() *pgxpool.Pool { return c.Backend().(*backend).pool }

type backend struct {
	pool   *pgxpool.Pool
	db     *sql.DB
	schema string
}

func (b *backend) DB() *sql.DB { return b.db }
func (b *backend) Close() error {
	err := b.db.Close()
	b.pool.Close()
	return err
}
func (b *backend) Schema() string           { return b.schema }
func (b *backend) MaxIdentifierLength() int { return 63 }
func (b *backend) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

// DDLLock serialises the DDL of concurrent loads into one database.
func (b *backend) DDLLock() string { return "SELECT pg_advisory_xact_lock(7271930001)" }

var sqlTypes = map[cache.Type]string{
	cache.TypeJSON: "jsonb", cache.TypeString: "text", cache.TypeInteger: "bigint",
	cache.TypeNumber: "double precision", cache.TypeBoolean: "boolean", cache.TypeDate: "date",
	cache.TypeTimestamp: "timestamp", cache.TypeTimestampTZ: "timestamptz",
	cache.TypeTime: "time", cache.TypeTimeTZ: "timetz",
}

func (b *backend) SQLType(t cache.Type) string { return sqlTypes[t] }

func (b *backend) ParseSQLType(dt string) cache.Type {
	switch strings.ToLower(dt) {
	case "jsonb", "json":
		return cache.TypeJSON
	case "bigint", "integer", "smallint":
		return cache.TypeInteger
	case "double precision", "real", "numeric":
		return cache.TypeNumber
	case "boolean":
		return cache.TypeBoolean
	case "date":
		return cache.TypeDate
	case "timestamp without time zone":
		return cache.TypeTimestamp
	case "timestamp with time zone":
		return cache.TypeTimestampTZ
	case "time without time zone":
		return cache.TypeTime
	case "time with time zone":
		return cache.TypeTimeTZ
	}
	return cache.TypeString
}

func (b *backend) JSONText(expr string, path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = "'" + strings.ReplaceAll(p, "'", "''") + "'"
	}
	return "(" + expr + " #>> ARRAY[" + strings.Join(parts, ", ") + "]::text[])"
}

func (b *backend) Begin(ctx context.Context) (cache.Tx, error) {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &txn{tx: tx, schema: b.schema}, nil
}

type txn struct {
	tx     pgx.Tx
	schema string
}

func (t *txn) Exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.Exec(ctx, q, args...)
	return err
}
func (t *txn) Commit(ctx context.Context) error { return t.tx.Commit(ctx) }
func (t *txn) Rollback(ctx context.Context) error {
	if err := t.tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return err
	}
	return nil
}

// Insert sends the batch with COPY on the transaction's connection.
func (t *txn) Insert(ctx context.Context, table string, cb cache.Batch) error {
	bt := cb.(*batch)
	cols := []string{cache.Quote(cache.ColumnRawID), cache.Quote(cache.ColumnExtractedAt), cache.Quote(cache.ColumnMeta)}
	for _, c := range bt.t.Columns {
		cols = append(cols, cache.Quote(c.Name))
	}
	q := "COPY " + cache.Quote(t.schema) + "." + cache.Quote(table) + " (" + strings.Join(cols, ", ") + ") FROM STDIN"
	bufs := net.Buffers(append(append([][]byte(nil), bt.chunks...), bt.buf))
	_, err := t.tx.Conn().PgConn().CopyFrom(ctx, &bufs, q)
	return err
}

// chunkSize is the size of the blocks COPY text is kept in: a batch grows
// by whole blocks instead of re-copying one ever larger slice, and blocks
// are reused by the next batch.
const chunkSize = 1 << 20

var chunks = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

// batch holds COPY text rows.
type batch struct {
	t      *cache.Table
	index  map[string]int // field → column
	chunks [][]byte       // full blocks of COPY text
	buf    []byte         // the block being filled
	n      int
	p      fastjson.Parser
	vals   []*fastjson.Value
	// keys and slots remember the previous record's keys in order and
	// their columns (-1: not stored): records of one stream nearly always
	// list their fields in the same order, so a key is matched by one
	// comparison instead of a map lookup.
	keys    []string
	slots   []int
	notes   []string
	lastMS  int64
	lastAt  []byte
	tmp     []byte
	line    []byte
	scratch []byte
}

func (b *backend) NewBatch(t *cache.Table) (cache.Batch, error) {
	idx := make(map[string]int, len(t.Columns))
	for i, c := range t.Columns {
		idx[c.Field] = i
	}
	return &batch{t: t, index: idx, vals: make([]*fastjson.Value, len(t.Columns))}, nil
}

func (bt *batch) Len() int { return bt.n }
func (bt *batch) Close() error {
	for _, c := range append(bt.chunks, bt.buf) {
		if cap(c) == chunkSize {
			c = c[:0]
			chunks.Put(&c)
		}
	}
	bt.chunks, bt.buf = nil, nil
	return nil
}

// write appends one COPY row, starting a new block when it does not fit.
func (bt *batch) write(row []byte) {
	if len(bt.buf)+len(row) > cap(bt.buf) {
		if len(bt.buf) > 0 {
			bt.chunks = append(bt.chunks, bt.buf)
		}
		if len(row) > chunkSize {
			bt.buf = make([]byte, 0, len(row))
		} else {
			bt.buf = *chunks.Get().(*[]byte)
		}
	}
	bt.buf = append(bt.buf, row...)
}

// slot is the column of the j-th key k of a record, -1 if none.
func (bt *batch) slot(j int, k []byte) int {
	if j < len(bt.keys) && bt.keys[j] == string(k) {
		return bt.slots[j]
	}
	i, ok := bt.index[string(k)]
	if !ok {
		i = -1
	}
	if j < len(bt.keys) {
		bt.keys[j], bt.slots[j] = string(k), i
	} else {
		bt.keys, bt.slots = append(bt.keys, string(k)), append(bt.slots, i)
	}
	return i
}

func (bt *batch) Add(rawID string, rec *protocol.Record) error {
	v, err := bt.p.ParseBytes(rec.Data)
	if err != nil {
		return fmt.Errorf("record data is not valid JSON: %w", err)
	}
	obj, err := v.Object()
	if err != nil {
		return fmt.Errorf("record data is not a JSON object")
	}
	clear(bt.vals)
	j := 0
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if i := bt.slot(j, k); i >= 0 {
			bt.vals[i] = v
		}
		j++
	})
	bt.notes = bt.notes[:0]
	// Columns first into tmp, so notes are known before the meta column.
	row := bt.tmp[:0]
	for i, c := range bt.t.Columns {
		row = append(row, '\t')
		var ok bool
		row, ok = bt.appendValue(row, c.Type, bt.vals[i])
		if !ok {
			bt.notes = append(bt.notes, c.Field)
		}
	}
	bt.tmp = row
	out := append(bt.line[:0], rawID...)
	out = append(out, '\t')
	if rec.EmittedAt != bt.lastMS || bt.lastAt == nil {
		bt.lastMS = rec.EmittedAt
		bt.lastAt = time.UnixMilli(rec.EmittedAt).UTC().AppendFormat(bt.lastAt[:0], "2006-01-02 15:04:05.000Z07:00")
	}
	out = append(out, bt.lastAt...)
	out = append(out, '\t')
	out = appendMeta(out, rec.Meta, bt.notes)
	out = append(out, row...)
	out = append(out, '\n')
	bt.line = out
	bt.write(out)
	bt.n++
	return nil
}

// appendMeta writes the _airbyte_meta JSON (COPY-escaped): the source's own
// changes, then one NULLED change per field that did not fit.
func appendMeta(out []byte, meta *protocol.RecordMeta, notes []string) []byte {
	if (meta == nil || len(meta.Changes) == 0) && len(notes) == 0 {
		return append(out, `{"changes":[]}`...)
	}
	var js []byte
	add := func(field, change, reason string) {
		if len(js) > 0 {
			js = append(js, ',')
		}
		js = append(js, `{"field":`...)
		js = appendJSONString(js, field)
		js = append(js, `,"change":`...)
		js = appendJSONString(js, change)
		js = append(js, `,"reason":`...)
		js = appendJSONString(js, reason)
		js = append(js, '}')
	}
	if meta != nil {
		for _, c := range meta.Changes {
			add(c.Field, string(c.Change), string(c.Reason))
		}
	}
	for _, f := range notes {
		add(f, string(protocol.ChangeNulled), string(protocol.ReasonDestinationTypecastError))
	}
	out = append(out, `{"changes":[`...)
	out = appendCopyText(out, js)
	return append(out, "]}"...)
}

// appendJSONString writes s as a JSON string. A NUL becomes U+FFFD, since
// jsonb cannot hold it and one odd field name must not fail the batch.
func appendJSONString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for _, r := range s {
		switch {
		case r == 0:
			out = append(out, `\ufffd`...)
		case r == '"' || r == '\\':
			out = append(out, '\\', byte(r))
		case r < 0x20:
			out = append(out, '\\', 'u', '0', '0', hex[r>>4], hex[r&15])
		default:
			out = utf8.AppendRune(out, r)
		}
	}
	return append(out, '"')
}

// copySpecial marks the bytes COPY's text format escapes.
var copySpecial = [256]bool{'\\': true, '\n': true, '\r': true, '\t': true}

// appendCopyText escapes s for COPY's text format, copying the runs
// between special bytes whole.
func appendCopyText(out, s []byte) []byte {
	start := 0
	for i, c := range s {
		if !copySpecial[c] {
			continue
		}
		out = append(out, s[start:i]...)
		switch c {
		case '\\':
			out = append(out, '\\', '\\')
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		}
		start = i + 1
	}
	return append(out, s[start:]...)
}

var (
	tsLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04Z07:00"}
)

func parseTimestamp(s string) (time.Time, bool) {
	for _, l := range tsLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// appendValue writes one COPY field for a value of a column of type t. It
// reports false when a present value did not fit and \N was written.
func (bt *batch) appendValue(out []byte, t cache.Type, v *fastjson.Value) ([]byte, bool) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return append(out, '\\', 'N'), true
	}
	null := func() ([]byte, bool) { return append(out, '\\', 'N'), false }
	var str []byte
	isStr := v.Type() == fastjson.TypeString
	if isStr {
		str = v.GetStringBytes()
	}
	switch t {
	case cache.TypeJSON:
		raw := v.MarshalTo(bt.scratch[:0])
		bt.scratch = raw
		if bytes.IndexByte(raw, '\\') >= 0 && bytes.Contains(raw, []byte(`\u0000`)) { // jsonb cannot hold NUL
			return null()
		}
		return appendCopyText(out, raw), true
	case cache.TypeString:
		if !isStr {
			str = v.MarshalTo(bt.scratch[:0])
			bt.scratch = str
		}
		if bytes.IndexByte(str, 0) >= 0 {
			return null()
		}
		return appendCopyText(out, str), true
	case cache.TypeInteger:
		s := str
		if !isStr {
			if v.Type() != fastjson.TypeNumber {
				return null()
			}
			s = v.MarshalTo(bt.scratch[:0])
			bt.scratch = s
		}
		if _, err := strconv.ParseInt(unsafeString(s), 10, 64); err != nil {
			return null()
		}
		return append(out, s...), true
	case cache.TypeNumber:
		s := str
		if !isStr {
			if v.Type() != fastjson.TypeNumber {
				return null()
			}
			s = v.MarshalTo(bt.scratch[:0])
			bt.scratch = s
		}
		f, err := strconv.ParseFloat(unsafeString(s), 64)
		if err != nil || f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308 {
			return null()
		}
		return strconv.AppendFloat(out, f, 'g', -1, 64), true
	case cache.TypeBoolean:
		switch {
		case v.Type() == fastjson.TypeTrue, isStr && strings.EqualFold(unsafeString(str), "true"):
			return append(out, 't'), true
		case v.Type() == fastjson.TypeFalse, isStr && strings.EqualFold(unsafeString(str), "false"):
			return append(out, 'f'), true
		}
		return null()
	}
	if !isStr {
		return null()
	}
	// Only valid until the next parse; time.Parse keeps it only in errors,
	// which are dropped.
	s := unsafeString(str)
	switch t {
	case cache.TypeDate:
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			return null()
		}
		return d.AppendFormat(out, "2006-01-02"), true
	case cache.TypeTimestampTZ:
		// The usual RFC 3339 text is valid PostgreSQL input as it is:
		// checked, not re-formatted. PostgreSQL refuses offsets beyond
		// 15:59, which Go accepts: those are written in UTC.
		if ts, err := time.Parse(time.RFC3339, s); err == nil {
			if _, off := ts.Zone(); off < 16*3600 && off > -16*3600 {
				return append(out, str...), true
			}
		}
		ts, ok := parseTimestamp(s)
		if !ok {
			return null()
		}
		return ts.UTC().AppendFormat(out, time.RFC3339Nano), true
	case cache.TypeTimestamp:
		ts, ok := parseTimestamp(s)
		if !ok {
			return null()
		}
		return ts.AppendFormat(out, "2006-01-02T15:04:05.999999999"), true
	case cache.TypeTime, cache.TypeTimeTZ:
		for _, l := range []string{"15:04:05.999999999Z07:00", "15:04:05.999999999"} {
			if tm, err := time.Parse(l, s); err == nil {
				if t == cache.TypeTime {
					return tm.AppendFormat(out, "15:04:05.999999999"), true
				}
				return tm.AppendFormat(out, "15:04:05.999999999Z07:00"), true
			}
		}
	}
	return null()
}

// unsafeString views b as a string without copying, for parsers that do not
// keep their input.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
