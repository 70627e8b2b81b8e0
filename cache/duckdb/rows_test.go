package duckdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/internal/backend"
)

// mixedRows is how many rows the tests' table has: several chunks of 2048
// rows, so that validity masks and strings are read past the first.
const mixedRows = 5000

// openMixed opens a cache with a table "mixed" of every column type the
// direct reads handle, and NULLs in each column at a different rhythm.
func openMixed(t *testing.T) (*cache.Cache, *database) {
	t.Helper()
	ctx := context.Background()
	c, b := openCache(t, filepath.Join(t.TempDir(), "c.duckdb"))
	if b.rows == nil {
		t.Fatal("a file cache has no direct reads")
	}
	q := `CREATE TABLE mixed AS SELECT
		lpad(i::VARCHAR, 8, '0') AS _airbyte_raw_id,
		TIMESTAMPTZ '2024-03-01 12:00:00.123456+00' + i * INTERVAL 1 SECOND AS _airbyte_extracted_at,
		'{}'::JSON AS _airbyte_meta,
		CASE WHEN i % 3 = 0 THEN NULL ELSE repeat('é"\', i % 15) || i::VARCHAR END AS text,
		CASE WHEN i % 5 = 0 THEN NULL ELSE ('{"n":' || i || ',"a":[1,"x"]}')::JSON END AS doc,
		CASE WHEN i % 7 = 0 THEN NULL ELSE i * 1000003 - 2500000000 END AS big,
		(i - 2500)::INTEGER AS int32,
		(i % 30000)::SMALLINT AS int16,
		(i % 100 - 50)::TINYINT AS int8,
		CASE WHEN i % 11 = 0 THEN NULL ELSE i / 7.0 - 300 END AS num,
		(i / 3.0)::FLOAT AS num32,
		CASE WHEN i % 13 = 0 THEN NULL ELSE i % 2 = 0 END AS flag,
		DATE '1969-12-25' + i::INTEGER AS day,
		TIMESTAMP '1965-06-01 00:00:00' + i * INTERVAL 61 MINUTE + i * INTERVAL 7 MICROSECOND AS local,
		TIMESTAMPTZ '2001-02-03 04:05:06+00' + i * INTERVAL 1 HOUR AS at,
		TIME '00:00:00' + i * INTERVAL 17 SECOND + i * INTERVAL 3 MICROSECOND AS clock
		FROM range(` + strconv.Itoa(mixedRows) + `) AS r(i)`
	if _, err := c.ExecSQL(ctx, q); err != nil {
		t.Fatal(err)
	}
	// Two non-finite numbers, which JSON cannot hold (null).
	if _, err := c.ExecSQL(ctx, `UPDATE mixed SET num = 'NaN'::DOUBLE WHERE _airbyte_raw_id = '00000001'; UPDATE mixed SET num = 'Infinity'::DOUBLE WHERE _airbyte_raw_id = '00000002'`); err != nil {
		t.Fatal(err)
	}
	// A table made outside a load may lack a raw id.
	if _, err := c.ExecSQL(ctx, `UPDATE mixed SET _airbyte_raw_id = NULL WHERE _airbyte_raw_id = '00000005'`); err != nil {
		t.Fatal(err)
	}
	// And DuckDB's infinite dates and times, which both paths spell alike.
	if _, err := c.ExecSQL(ctx, `UPDATE mixed SET day = 'infinity'::DATE, local = 'infinity'::TIMESTAMP, "at" = '-infinity'::TIMESTAMPTZ WHERE _airbyte_raw_id = '00000003'; UPDATE mixed SET day = '-infinity'::DATE WHERE _airbyte_raw_id = '00000004'`); err != nil {
		t.Fatal(err)
	}
	return c, b
}

// connected is a Connector of a backend connected already, so that a test
// holds both the cache and its backend.
type connected struct{ b backend.Backend }

func (c connected) Connect(context.Context) (backend.Backend, error) { return c.b, nil }

// openCache opens a cache on the DuckDB database at path and returns its
// backend too.
func openCache(t *testing.T, path string) (*cache.Cache, *database) {
	t.Helper()
	ctx := context.Background()
	b, err := newConnector(path).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.New(ctx, backend.Wrap[cache.Connector](connected{b}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, b.(*database)
}

// exportLines is every line RecordLines makes of the table mixed.
func exportLines(t *testing.T, c *cache.Cache) []byte {
	t.Helper()
	ctx := context.Background()
	ds, err := c.Dataset(ctx, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	n := 0
	for r, err := range ds.After("").RecordLines(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Line...)
		n++
	}
	if n != mixedRows {
		t.Fatalf("%d lines, want %d", n, mixedRows)
	}
	return out
}

// TestDirectReadsMatchDriver: the export reads the same lines directly as
// through database/sql, byte for byte.
func TestDirectReadsMatchDriver(t *testing.T) {
	t.Parallel()
	c, b := openMixed(t)
	direct := exportLines(t, c)
	rows := b.rows
	b.rows = nil // the export now goes through database/sql
	viaDriver := exportLines(t, c)
	b.rows = rows
	if !bytes.Equal(direct, viaDriver) {
		d, v := strings.Split(string(direct), "\n"), strings.Split(string(viaDriver), "\n")
		for i := range min(len(d), len(v)) {
			if d[i] != v[i] {
				t.Fatalf("line %d differs:\ndirect %s\ndriver %s", i, d[i], v[i])
			}
		}
		t.Fatalf("%d lines directly, %d through the driver", len(d), len(v))
	}
	if !bytes.Contains(direct, []byte(`"num":null`)) || !bytes.Contains(direct, []byte(`"doc":{"n":4,"a":[1,"x"]}`)) {
		t.Fatalf("unexpected lines: %.600s", direct)
	}
}

// TestNoDirectReadsInMemory: an in-memory database is not in the driver's
// instance cache, so a second handle would be another database; the export
// goes through database/sql.
func TestNoDirectReadsInMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, b := openCache(t, memoryPath)
	if b.rows != nil {
		t.Fatal("an in-memory cache reads through a second handle")
	}
	if _, err := c.ExecSQL(ctx, `CREATE TABLE t AS SELECT 'a' AS _airbyte_raw_id, now() AS _airbyte_extracted_at, 1 AS x`); err != nil {
		t.Fatal(err)
	}
	ds, err := c.Dataset(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r, err := range ds.After("").RecordLines(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(r.Line, []byte(`"data":{"x":1}`)) {
			t.Fatalf("line %s", r.Line)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("%d lines, want 1", n)
	}
}

// TestReadRows reads the table's columns directly, as the export does:
// every row once, in order, with its values.
func TestReadRows(t *testing.T) {
	t.Parallel()
	_, b := openMixed(t)
	ctx := context.Background()
	types := []backend.Type{backend.TypeString, backend.TypeTimestampTZ, backend.TypeString, backend.TypeJSON, backend.TypeInteger, backend.TypeInteger,
		backend.TypeNumber, backend.TypeBoolean, backend.TypeDate, backend.TypeTime}
	q := `SELECT _airbyte_raw_id, _airbyte_extracted_at, text, CAST(doc AS VARCHAR), big, int8, num32, flag, day, clock
		FROM mixed WHERE _airbyte_raw_id > ? ORDER BY _airbyte_raw_id`
	n := 0
	err := b.ReadRows(ctx, q, []any{"00000009"}, types, func(r backend.Row) error {
		i := n + 10
		if got := r.Text(0); got != fmt.Sprintf("%08d", i) {
			t.Fatalf("row %d: raw id %q", i, got)
		}
		if got, want := r.Time(1), time.Date(2024, 3, 1, 12, 0, i, 123456000, time.UTC); !got.Equal(want) {
			t.Fatalf("row %d: extracted at %v, want %v", i, got, want)
		}
		if r.Null(2) != (i%3 == 0) || !r.Null(2) && r.Text(2) != strings.Repeat(`é"\`, i%15)+strconv.Itoa(i) {
			t.Fatalf("row %d: text %v %q", i, r.Null(2), r.Text(2))
		}
		if r.Null(4) != (i%7 == 0) || !r.Null(4) && r.Int(4) != int64(i)*1000003-2500000000 {
			t.Fatalf("row %d: big %v %d", i, r.Null(4), r.Int(4))
		}
		if r.Int(5) != int64(i%100-50) || r.Float(6) != float64(float32(float64(i)/3)) {
			t.Fatalf("row %d: int8 %d, num32 %v", i, r.Int(5), r.Float(6))
		}
		if r.Null(7) != (i%13 == 0) || !r.Null(7) && r.Bool(7) != (i%2 == 0) {
			t.Fatalf("row %d: flag %v %v", i, r.Null(7), r.Bool(7))
		}
		if got, want := r.Time(8), time.Date(1969, 12, 25+i, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
			t.Fatalf("row %d: day %v, want %v", i, got, want)
		}
		if got, want := r.Time(9).Format("15:04:05.999999"), time.Date(1970, 1, 1, 0, 0, i*17%86400, i*3000, time.UTC).Format("15:04:05.999999"); got != want {
			t.Fatalf("row %d: clock %v, want %v", i, got, want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != mixedRows-10 {
		t.Fatalf("%d rows, want %d", n, mixedRows-10)
	}

	// fn's error stops the read and is returned.
	stop := errors.New("enough")
	n = 0
	if err := b.ReadRows(ctx, q, []any{""}, types, func(backend.Row) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("got %v after %d rows, want %v after 1", err, n, stop)
	}
}

// TestReadRowsUnsupported: what the direct reads cannot read is refused
// before any row, as errors.ErrUnsupported, so that the export falls back
// to database/sql; a bad query is a plain error.
func TestReadRowsUnsupported(t *testing.T) {
	t.Parallel()
	_, b := openMixed(t)
	ctx := context.Background()
	never := func(backend.Row) error { t.Fatal("fn called"); return nil }
	for name, call := range map[string]func() error{
		"a DECIMAL column": func() error {
			return b.ReadRows(ctx, "SELECT 1.5::DECIMAL(4,1)", nil, []backend.Type{backend.TypeNumber}, never)
		},
		"a TIMETZ column": func() error {
			return b.ReadRows(ctx, "SELECT TIMETZ '10:00:00+02'", nil, []backend.Type{backend.TypeTimeTZ}, never)
		},
		"a column read as another type": func() error {
			return b.ReadRows(ctx, "SELECT big FROM mixed", nil, []backend.Type{backend.TypeString}, never)
		},
		"another number of columns": func() error {
			return b.ReadRows(ctx, "SELECT big, text FROM mixed", nil, []backend.Type{backend.TypeInteger}, never)
		},
		"an argument of another type": func() error {
			return b.ReadRows(ctx, "SELECT big FROM mixed WHERE day > ?", []any{time.Now()}, []backend.Type{backend.TypeInteger}, never)
		},
	} {
		if err := call(); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: got %v, want errors.ErrUnsupported", name, err)
		}
	}
	err := b.ReadRows(ctx, "SELECT nothing FROM mixed", nil, []backend.Type{backend.TypeString}, never)
	if err == nil || errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "nothing") {
		t.Errorf("a bad query: got %v, want DuckDB's error", err)
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	err = b.ReadRows(ctx2, "SELECT big FROM mixed", nil, []backend.Type{backend.TypeInteger}, func(backend.Row) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("a canceled context: got %v, want context.Canceled", err)
	}
}

// TestReadRowsCancelledThenReused: a read whose context ends mid-read
// interrupts its connection from another goroutine. That interrupt is
// over when ReadRows returns, so it never lands on the next read of the
// connection (which it would cut short) nor on a connection the cache has
// closed since (a crash in DuckDB).
func TestReadRowsCancelledThenReused(t *testing.T) {
	t.Parallel()
	_, b := openMixed(t)
	q := `SELECT _airbyte_raw_id FROM mixed ORDER BY _airbyte_raw_id`
	types := []backend.Type{backend.TypeString}
	for i := range 300 {
		ctx, cancel := context.WithCancel(context.Background())
		err := b.ReadRows(ctx, q, nil, types, func(backend.Row) error { cancel(); return nil })
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: the cancelled read: %v, want context.Canceled", i, err)
		}
		n := 0
		if err := b.ReadRows(context.Background(), q, nil, types, func(backend.Row) error { n++; return nil }); err != nil || n != mixedRows {
			t.Fatalf("round %d: the read after a cancelled one: %d rows, %v", i, n, err)
		}
	}
}
