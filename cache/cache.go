package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/x/goairbyte/protocol"
)

// Cache is a SQL database that holds synced streams, one table per stream,
// plus the state of every source and destination that used it. Source.Read
// loads into a Cache with [Load]; destinations read it back through datasets
// and keep their own state in it.
type Cache interface {
	// DB is the database/sql handle, for anything the cache does not wrap.
	DB() *sql.DB
	// ExecSQL runs a statement (PyAirbyte's execute_sql). Placeholders are
	// "?" on every backend.
	ExecSQL(ctx context.Context, query string, args ...any) (sql.Result, error)
	// Query runs a query. Placeholders are "?" on every backend.
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	// Dataset returns the dataset of a stream already in the cache.
	Dataset(ctx context.Context, stream string) (*Dataset, error)
	// Streams lists the streams with a table in the cache.
	Streams(ctx context.Context) ([]string, error)
	// TableName is the unqualified SQL table name a stream is written to.
	TableName(stream string) (string, error)
	// SourceState is what to pass to a source as --state: nil when nothing
	// is stored; else the stored GLOBAL message, the LEGACY data blob, or
	// a JSON array of the STREAM state messages of the named streams (all
	// streams when none are named).
	SourceState(ctx context.Context, source string, streams []string) (json.RawMessage, error)
	// State returns the state message stored under key, nil if none.
	State(ctx context.Context, key StateKey) (*protocol.State, error)
	// PutState stores a state message under key.
	PutState(ctx context.Context, key StateKey, st *protocol.State) error
	// Close closes the database.
	Close() error

	base() *SQL
}

// StateKey names one stored state. Destination is empty for the state a
// source reported while loading into the cache; a destination keeps its own
// state (what it has confirmed) apart under its name. Stream is empty for a
// GLOBAL or LEGACY state.
type StateKey struct {
	Source      string
	Destination string
	Stream      string
}

// Names of the cache's internal tables.
const (
	stateTable   = "_airbyte_state"
	streamsTable = "_airbyte_streams"
)

// SQL is the Cache written once for every backend. Backends return a type
// that embeds it.
type SQL struct {
	b      Backend
	prefix string
}

// Option configures a cache.
type Option func(*SQL)

// WithTablePrefix puts prefix before every stream table's name. It is
// normalised like a stream name; "" means no prefix.
func WithTablePrefix(prefix string) Option { return func(s *SQL) { s.prefix = prefix } }

// New wraps a backend into a Cache and creates the internal tables.
func New(ctx context.Context, b Backend, opts ...Option) (*SQL, error) {
	s := &SQL{b: b}
	for _, o := range opts {
		o(s)
	}
	if s.prefix != "" {
		p, err := NormalizeName(s.prefix)
		if err != nil {
			return nil, err
		}
		s.prefix = p
	}
	tx, err := beginDDL(ctx, b)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	tz := b.SQLType(TypeTimestampTZ)
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS ` + s.qual(stateTable) + ` (source_name VARCHAR NOT NULL, destination_name VARCHAR NOT NULL, stream_name VARCHAR NOT NULL, state_type VARCHAR NOT NULL, state_json VARCHAR NOT NULL, updated_at ` + tz + `, PRIMARY KEY (source_name, destination_name, stream_name))`,
		`CREATE TABLE IF NOT EXISTS ` + s.qual(streamsTable) + ` (table_name VARCHAR NOT NULL PRIMARY KEY, stream_name VARCHAR NOT NULL, source_name VARCHAR NOT NULL, dedupe_from VARCHAR, staging_table VARCHAR, updated_at ` + tz + `)`,
	} {
		if err := tx.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("cache: creating internal tables: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *SQL) base() *SQL { return s }

// beginDDL begins a transaction that may change tables: it takes the
// backend's DDL lock first, so that concurrent loads serialise their DDL.
func beginDDL(ctx context.Context, b Backend) (Tx, error) {
	tx, err := b.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if l := b.DDLLock(); l != "" {
		if err := tx.Exec(ctx, l); err != nil {
			tx.Rollback(ctx)
			return nil, err
		}
	}
	return tx, nil
}

// Backend returns the backend the cache runs on.
func (s *SQL) Backend() Backend { return s.b }

// DB is the database/sql handle.
func (s *SQL) DB() *sql.DB { return s.b.DB() }

// Close closes the database.
func (s *SQL) Close() error { return s.b.Close() }

// qual is the quoted, schema-qualified name of a table.
func (s *SQL) qual(table string) string { return Quote(s.b.Schema()) + "." + Quote(table) }

// QualifiedName is the quoted, schema-qualified name of table, ready to
// paste into SQL.
func (s *SQL) QualifiedName(table string) string { return s.qual(table) }

// rebind turns "?" placeholders into the dialect's, leaving quoted text alone.
func (s *SQL) rebind(q string) string {
	if s.b.Placeholder(1) == "?" || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteString(s.b.Placeholder(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// ExecSQL runs a statement with "?" placeholders.
func (s *SQL) ExecSQL(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.b.DB().ExecContext(ctx, s.rebind(query), args...)
}

// Query runs a query with "?" placeholders.
func (s *SQL) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.b.DB().QueryContext(ctx, s.rebind(query), args...)
}

// TableName is the unqualified table name of a stream: the prefix and the
// normalised stream name, shortened to the backend's identifier limit.
func (s *SQL) TableName(stream string) (string, error) {
	n, err := NormalizeName(stream)
	if err != nil {
		return "", err
	}
	if s.prefix != "" {
		n = s.prefix + "_" + n
	}
	if n == stateTable || n == streamsTable || strings.HasPrefix(n, stagingPrefix) {
		return "", &NameError{Name: stream, Reason: "it is the name of one of the cache's internal tables"}
	}
	return fitName(n, s.b.MaxIdentifierLength()), nil
}

// Streams lists the streams that have a table in the cache.
func (s *SQL) Streams(ctx context.Context) ([]string, error) {
	rows, err := s.Query(ctx, `SELECT DISTINCT stream_name FROM `+s.qual(streamsTable)+` ORDER BY stream_name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// StreamNotFoundError is returned for a stream that has no table in the
// cache.
type StreamNotFoundError struct {
	Stream    string
	Available []string
}

// Error names the stream and the streams the cache has.
func (e *StreamNotFoundError) Error() string {
	return fmt.Sprintf("cache: stream %q is not in the cache (streams available: %s); read it first", e.Stream, strings.Join(e.Available, ", "))
}

// Dataset returns the dataset of a stream in the cache.
func (s *SQL) Dataset(ctx context.Context, stream string) (*Dataset, error) {
	t, err := s.TableName(stream)
	if err != nil {
		return nil, err
	}
	cols, err := s.columns(ctx, t)
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		avail, _ := s.Streams(ctx)
		return nil, &StreamNotFoundError{Stream: stream, Available: avail}
	}
	return &Dataset{c: s, stream: stream, table: t}, nil
}

// columnInfo is a column as information_schema describes it.
type columnInfo struct {
	name, dataType string
}

// columns lists a table's columns in order; none if it does not exist.
func (s *SQL) columns(ctx context.Context, table string) ([]columnInfo, error) {
	rows, err := s.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position`, s.b.Schema(), table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []columnInfo
	for rows.Next() {
		var c columnInfo
		if err := rows.Scan(&c.name, &c.dataType); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// State returns the state stored under key, nil if none.
func (s *SQL) State(ctx context.Context, key StateKey) (*protocol.State, error) {
	var raw string
	err := s.b.DB().QueryRowContext(ctx, s.rebind(`SELECT state_json FROM `+s.qual(stateTable)+` WHERE source_name = ? AND destination_name = ? AND stream_name = ?`),
		key.Source, key.Destination, key.Stream).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st := new(protocol.State)
	if err := json.Unmarshal([]byte(raw), st); err != nil {
		return nil, fmt.Errorf("cache: stored state for %+v is not valid: %w", key, err)
	}
	return st, nil
}

// PutState stores a state message under key, replacing what was there.
func (s *SQL) PutState(ctx context.Context, key StateKey, st *protocol.State) error {
	tx, err := s.b.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := s.putState(ctx, tx, key, st); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (s *SQL) putState(ctx context.Context, tx Tx, key StateKey, st *protocol.State) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := tx.Exec(ctx, s.rebind(`DELETE FROM `+s.qual(stateTable)+` WHERE source_name = ? AND destination_name = ? AND stream_name = ?`), key.Source, key.Destination, key.Stream); err != nil {
		return err
	}
	return tx.Exec(ctx, s.rebind(`INSERT INTO `+s.qual(stateTable)+` (source_name, destination_name, stream_name, state_type, state_json, updated_at) VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP)`),
		key.Source, key.Destination, key.Stream, string(st.EffectiveType()), string(raw))
}

// SourceState is the state to pass to the source as --state, nil if none.
func (s *SQL) SourceState(ctx context.Context, source string, streams []string) (json.RawMessage, error) {
	rows, err := s.Query(ctx, `SELECT stream_name, state_json FROM `+s.qual(stateTable)+` WHERE source_name = ? AND destination_name = '' ORDER BY stream_name`, source)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	want := map[string]bool{}
	for _, n := range streams {
		want[n] = true
	}
	var msgs []*protocol.State
	var whole *protocol.State
	for rows.Next() {
		var name, raw string
		if err := rows.Scan(&name, &raw); err != nil {
			return nil, err
		}
		st := new(protocol.State)
		if err := json.Unmarshal([]byte(raw), st); err != nil {
			return nil, fmt.Errorf("cache: stored state of source %q stream %q is not valid: %w", source, name, err)
		}
		if name == "" {
			whole = st
			continue
		}
		if len(want) == 0 || want[name] {
			msgs = append(msgs, st)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	switch {
	case whole != nil && whole.EffectiveType() == protocol.StateLegacy:
		return whole.Data, nil
	case whole != nil:
		return json.Marshal([]*protocol.State{whole})
	case len(msgs) > 0:
		return json.Marshal(msgs)
	}
	return nil, nil
}
