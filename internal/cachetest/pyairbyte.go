package cachetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/protocol"
)

// PyAirbyteTarget is where a backend's test builds a PyAirbyte cache and
// how goairbyte opens it.
type PyAirbyteTarget struct {
	// Fresh returns a new, empty target (a DuckDB file's path, a
	// PostgreSQL database's DSN).
	Fresh func(t testing.TB) string
	// Raw opens target with database/sql alone, as PyAirbyte's SQLAlchemy
	// engine does: no goairbyte table is made.
	Raw func(t testing.TB, target string) *sql.DB
	// Schema is where PyAirbyte puts its tables: DuckDBCache's "main",
	// PostgresCache's "airbyte_raw" (airbyte/constants.py
	// DEFAULT_CACHE_SCHEMA_NAME).
	Schema string
	// Open opens goairbyte's cache in Schema of target, as a user who
	// points goairbyte at PyAirbyte's cache does.
	Open func(ctx context.Context, target string) (*cache.Cache, error)
	// Beside opens goairbyte's cache beside PyAirbyte's: another DuckDB
	// file, or another schema of the PostgreSQL database.
	Beside func(ctx context.Context, target string) (*cache.Cache, error)
	// Reach returns the statements that let Beside's cache read
	// PyAirbyte's tables with SQL, and the qualifier of their names there.
	Reach func(target string) (stmts []string, qualifier string)
}

// RawDB is a PyAirbyteTarget.Raw that opens a target with the
// database/sql driver named driver ("duckdb", "pgx"), failing the test when
// it cannot.
func RawDB(driver string) func(t testing.TB, target string) *sql.DB {
	return func(t testing.TB, target string) *sql.DB {
		t.Helper()
		db, err := sql.Open(driver, target)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
}

// PyAirbyte opens, with goairbyte, a cache that PyAirbyte filled. The
// tables and rows are PyAirbyte's, written here as its source writes them
// (see WritePyAirbyteCache); PyAirbyte itself cannot be installed here.
// goairbyte keeps its own internal tables under two of PyAirbyte's names
// (_airbyte_state, _airbyte_streams) with other columns, so it cannot use
// the cache without changing PyAirbyte's tables: the open is refused with
// an error that names PyAirbyte and what to do, and leaves every table of
// PyAirbyte's as it was. A goairbyte cache beside it reads PyAirbyte's
// records with SQL and, given PyAirbyte's stored states as STATE messages
// by a Load, continues the incremental read from them.
func PyAirbyte(t *testing.T, pt PyAirbyteTarget) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		read bool // a read ran (the state tables exist), not only the catalog's registration
	}{{"after a read", true}, {"registered, never read", false}} {
		t.Run("refused, unchanged: "+tc.name, func(t *testing.T) {
			t.Parallel()
			target := pt.Fresh(t)
			db := pt.Raw(t, target)
			WritePyAirbyteCache(t, db, pt.Schema, tc.read)
			before := PyAirbyteSnapshot(t, db, pt.Schema)
			db.Close()
			c, err := pt.Open(ctx, target)
			if err == nil {
				c.Close()
				t.Fatal("goairbyte opened PyAirbyte's cache")
			}
			t.Logf("refused: %v", err)
			for _, w := range []string{"PyAirbyte", "_airbyte_streams", "changed nothing", "another"} {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("open: %v; want an error that says %q", err, w)
				}
			}
			db = pt.Raw(t, target)
			defer db.Close()
			Equal(t, "PyAirbyte's tables after the open", PyAirbyteSnapshot(t, db, pt.Schema), before)
		})
	}
	t.Run("a cache beside it continues from PyAirbyte's states", func(t *testing.T) {
		t.Parallel()
		target := pt.Fresh(t)
		db := pt.Raw(t, target)
		WritePyAirbyteCache(t, db, pt.Schema, true)
		before := PyAirbyteSnapshot(t, db, pt.Schema)
		// The user's step: PyAirbyte's states, as stored.
		rows, err := db.QueryContext(ctx, `SELECT state_json FROM `+pt.Schema+`._airbyte_state WHERE source_name = 'source-shop' ORDER BY table_name`)
		if err != nil {
			t.Fatal(err)
		}
		var states []*protocol.Message
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			st := new(protocol.State)
			if err := json.Unmarshal([]byte(s), st); err != nil {
				t.Fatalf("PyAirbyte's state %s: %v", s, err)
			}
			states = append(states, &protocol.Message{Type: protocol.TypeState, State: st})
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		db.Close()

		c, err := pt.Beside(ctx, target)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-shop", Catalog: pyAirbyteCatalog, Messages: Messages(states...)}); err != nil {
			t.Fatalf("loading PyAirbyte's states: %v", err)
		}
		got, err := c.SourceState(ctx, "source-shop", nil)
		if err != nil {
			t.Fatal(err)
		}
		var passed []protocol.State
		if err := json.Unmarshal(got, &passed); err != nil {
			t.Fatalf("SourceState %s: %v", got, err)
		}
		var text []string
		for _, st := range passed {
			if st.Stream == nil {
				t.Fatalf("SourceState %s: want STREAM states", got)
			}
			text = append(text, st.Stream.StreamDescriptor.Name+" "+string(st.Stream.StreamState))
		}
		Equal(t, "the states the next read passes", text, []string{
			`orders {"updated_at":"2024-01-03T00:00:00Z"}`, `users {"updated_at":"2024-01-02T00:00:00Z"}`})
		stmts, q := pt.Reach(target)
		for _, s := range stmts {
			if _, err := c.ExecSQL(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		Equal(t, "PyAirbyte's users read from goairbyte's cache",
			Strings(t, c, `SELECT CAST(id AS VARCHAR), name, CAST(score AS VARCHAR), CAST(_airbyte_meta AS VARCHAR) FROM `+q+`users ORDER BY _airbyte_raw_id`),
			[]string{`1|ann|1.500000000|{}`, `2|bob|0.123456789|{}`})
		c.Close()
		db = pt.Raw(t, target)
		defer db.Close()
		Equal(t, "PyAirbyte's tables after goairbyte's cache beside them", PyAirbyteSnapshot(t, db, pt.Schema), before)
	})
}

// The JSON schemas of source-shop's streams, as Python's json.dumps
// writes them into _airbyte_streams.catalog_metadata.
const (
	pyUsersSchema  = `{"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": ["null", "string"]}, "score": {"type": "number"}, "updated_at": {"type": "string", "format": "date-time"}}}`
	pyOrdersSchema = `{"type": "object", "properties": {"id": {"type": "integer"}, "updated_at": {"type": "string", "format": "date-time"}}}`
)

// pyAirbyteCatalog is the configured catalog of the source whose cache
// WritePyAirbyteCache writes: users and orders, incremental by updated_at.
var pyAirbyteCatalog = Catalog(pyStream("users", pyUsersSchema), pyStream("orders", pyOrdersSchema))

// pyStream is an incremental stream keyed by id, whose cursor is
// updated_at.
func pyStream(name, schema string) protocol.ConfiguredStream {
	s := Stream(name, `{}`, protocol.SyncIncremental, [][]string{{"id"}}, "updated_at")
	s.Stream.JSONSchema = json.RawMessage(schema)
	return s
}

// WritePyAirbyteCache writes into schema of db what PyAirbyte (airbytehq/PyAirbyte
// at f65f227, August 2026; DuckDB 1.4.3, SQLAlchemy 2.0.43) leaves after
// source-shop's streams users and orders were read into its cache; read
// false leaves what a cache whose source was registered but never read
// has (the catalog's table only).
//
//   - airbyte/caches/_catalog_backend.py: CachedStream, created by
//     CacheBase.__init__ (airbyte/caches/base.py) through
//     SqlCatalogBackend: _airbyte_streams (stream_name, source_name,
//     table_name, catalog_metadata), String columns (VARCHAR), table_name
//     the primary key; a row per stream, table_name the table prefix and
//     the stream's name as the source wrote it, catalog_metadata its JSON
//     schema (json.dumps).
//   - airbyte/caches/_state_backend.py: CacheStreamStateModel
//     (_airbyte_state: source_name, stream_name, table_name primary key,
//     state_json, last_updated TIMESTAMP WITH TIME ZONE) and
//     DestinationStreamStateModel (_airbyte_destination_state, keyed by
//     destination, source and stream), both created by the state
//     backend's first use (get_state_provider, at each read); a row per
//     stream whose state_json is AirbyteStateMessage.model_dump_json() of
//     airbyte-protocol-models-pdv2: field names, not aliases ("global_"),
//     nulls kept, the CDK's sourceStats as a float.
//   - airbyte/shared/sql_processor.py _get_sql_column_definitions and
//     airbyte/types.py CONVERSION_MAP: a column per property, normalised
//     by airbyte/_util/name_normalizers.py LowerCaseNormalizer, integer
//     BIGINT, number DECIMAL(38, 9), string VARCHAR, date-time TIMESTAMP
//     WITH TIME ZONE; then _airbyte_raw_id VARCHAR, _airbyte_extracted_at
//     TIMESTAMP WITH TIME ZONE, _airbyte_meta JSON (sqlalchemy JSON: JSON
//     on both databases, not jsonb).
//   - airbyte/records.py StreamRecord: _airbyte_raw_id a UUIDv7 (uuid7str,
//     since July 2024; a ULID before), _airbyte_extracted_at emitted_at /
//     1000, _airbyte_meta {}.
func WritePyAirbyteCache(t testing.TB, db *sql.DB, schema string, read bool) {
	t.Helper()
	q := func(table string) string { return schema + `."` + table + `"` }
	stmts := []string{
		`CREATE SCHEMA IF NOT EXISTS ` + schema,
		`CREATE TABLE ` + q("_airbyte_streams") + ` (stream_name VARCHAR, source_name VARCHAR, table_name VARCHAR NOT NULL, catalog_metadata VARCHAR, PRIMARY KEY (table_name))`,
	}
	for _, s := range pyAirbyteCatalog.Streams {
		stmts = append(stmts, `INSERT INTO `+q("_airbyte_streams")+` VALUES ('`+s.Stream.Name+`', 'source-shop', '`+s.Stream.Name+`', '`+string(s.Stream.JSONSchema)+`')`)
	}
	if read {
		stateJSON := func(stream, cursor string) string {
			return `{"type":"STREAM","stream":{"stream_descriptor":{"name":"` + stream + `","namespace":null},"stream_state":{"updated_at":"` + cursor + `"}},"global_":null,"data":null,"sourceStats":{"recordCount":2.0},"destinationStats":null}`
		}
		stmts = append(stmts,
			`CREATE TABLE `+q("_airbyte_state")+` (source_name VARCHAR, stream_name VARCHAR, table_name VARCHAR NOT NULL, state_json VARCHAR, last_updated TIMESTAMP WITH TIME ZONE, PRIMARY KEY (table_name))`,
			`CREATE TABLE `+q("_airbyte_destination_state")+` (destination_name VARCHAR NOT NULL, source_name VARCHAR NOT NULL, stream_name VARCHAR NOT NULL, state_json VARCHAR, last_updated TIMESTAMP WITH TIME ZONE, PRIMARY KEY (destination_name, source_name, stream_name))`,
			`CREATE TABLE `+q("users")+` ("id" BIGINT, "name" VARCHAR, "score" DECIMAL(38, 9), "updated_at" TIMESTAMP WITH TIME ZONE, "_airbyte_raw_id" VARCHAR, "_airbyte_extracted_at" TIMESTAMP WITH TIME ZONE, "_airbyte_meta" JSON)`,
			`CREATE TABLE `+q("orders")+` ("id" BIGINT, "updated_at" TIMESTAMP WITH TIME ZONE, "_airbyte_raw_id" VARCHAR, "_airbyte_extracted_at" TIMESTAMP WITH TIME ZONE, "_airbyte_meta" JSON)`,
			`INSERT INTO `+q("users")+` VALUES (1, 'ann', 1.5, '2024-01-01T00:00:00+00:00', '019a2b3c-4d5e-7f60-8a1b-2c3d4e5f6071', '2024-01-05T00:00:00+00:00', '{}'), `+
				`(2, 'bob', 0.123456789, '2024-01-02T00:00:00+00:00', '019a2b3c-4d5e-7f61-9b2c-3d4e5f607182', '2024-01-05T00:00:00+00:00', '{}')`,
			`INSERT INTO `+q("orders")+` VALUES (10, '2024-01-03T00:00:00+00:00', '019a2b3c-4d5f-7000-a1b2-c3d4e5f60718', '2024-01-05T00:00:00+00:00', '{}')`,
			`INSERT INTO `+q("_airbyte_state")+` VALUES ('source-shop', 'users', 'users', '`+stateJSON("users", "2024-01-02T00:00:00Z")+`', '2024-01-05T00:00:01+00:00'), `+
				`('source-shop', 'orders', 'orders', '`+stateJSON("orders", "2024-01-03T00:00:00Z")+`', '2024-01-05T00:00:01+00:00')`,
		)
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// PyAirbyteSnapshot is every table of schema with its columns and types,
// and its rows as text, sorted: what a change to PyAirbyte's cache would
// alter.
func PyAirbyteSnapshot(t testing.TB, db *sql.DB, schema string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`, schema)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	cols := map[string][]string{}
	var tables []string
	for rows.Next() {
		var table, col, typ, null string
		if err := rows.Scan(&table, &col, &typ, &null); err != nil {
			t.Fatal(err)
		}
		if cols[table] == nil {
			tables = append(tables, table)
		}
		cols[table] = append(cols[table], col)
		out = append(out, fmt.Sprintf("column %s.%s %s %s", table, col, typ, null))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for _, table := range tables {
		casts := make([]string, len(cols[table]))
		for i, c := range cols[table] {
			casts[i] = `COALESCE(CAST("` + c + `" AS VARCHAR), 'NULL')`
		}
		r, err := db.Query(`SELECT ` + strings.Join(casts, ` || '|' || `) + ` FROM ` + schema + `."` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for r.Next() {
			var s string
			if err := r.Scan(&s); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, "row "+table+": "+s)
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		slices.Sort(lines)
		out = append(out, lines...)
	}
	return out
}
