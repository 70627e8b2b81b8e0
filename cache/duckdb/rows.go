package duckdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unsafe"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"

	"github.com/x/goairbyte/cache/internal/backend"
)

// rowReader reads query results through DuckDB's C API, on connections of
// its own to the same database: values are read where DuckDB's vectors
// hold them, where database/sql copies every string and boxes every value.
// On 1M faker users that halves the export's CPU (measured: 1.8 against
// 3.3 CPU-seconds), which is what a Write through the cache spends most on
// after the load.
//
// The C API takes a database handle, which the driver keeps to itself; but
// the driver opens file databases through its exported instance cache, so
// asking that cache for the same path with the same configuration returns
// the very database the cache's *sql.DB uses.
type rowReader struct {
	path string
	// r counts the connections in use, and opens the file again after a
	// fatal error (see reopener); idle ones are closed then.
	r      *reopener
	mu     sync.Mutex
	db     mapping.Database
	gen    uint64 // r's generation of db; 0 when there is no handle
	idle   []mapping.Connection
	closed bool
}

// openRowReader opens a database handle on the file at path, which the
// driver has open through r. It refuses in-memory databases, which the
// instance cache does not hold (asking for one would make a new, empty
// database), and paths with options, which the driver strips; it fails if
// the driver ever opens files with another configuration. The export then
// goes through database/sql.
func openRowReader(path string, r *reopener) (*rowReader, error) {
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.Contains(path, "?") {
		return nil, fmt.Errorf("duckdb: no direct reads on %q: %w", path, errors.ErrUnsupported)
	}
	rr := &rowReader{path: path, r: r}
	if err := rr.openHandle(1); err != nil {
		return nil, err
	}
	return rr, nil
}

// openHandle asks the driver's instance cache for the database it has
// open; rr.mu is held, or rr is not shared yet.
func (rr *rowReader) openHandle(gen uint64) error {
	var cfg mapping.Config
	if mapping.CreateConfig(&cfg) == mapping.StateError {
		return errors.New("duckdb: creating a configuration")
	}
	defer mapping.DestroyConfig(&cfg)
	// The one option the driver sets on every database it opens: the
	// instance cache refuses a handle whose configuration differs.
	if mapping.SetConfig(cfg, "duckdb_api", "go") == mapping.StateError {
		return errors.New("duckdb: configuring duckdb_api")
	}
	var db mapping.Database
	var msg string
	if mapping.GetOrCreateFromCache(duckdbdriver.GetInstanceCache(), rr.path, &db, cfg, &msg) == mapping.StateError {
		mapping.Close(&db)
		return fmt.Errorf("duckdb: a second handle on %s: %s", rr.path, msg)
	}
	rr.db, rr.gen = db, gen
	return nil
}

// conn returns an idle connection or a new one: one per concurrent query.
func (rr *rowReader) conn() (mapping.Connection, uint64, error) {
	_, gen, err := rr.r.acquire()
	if err != nil {
		return mapping.Connection{}, 0, err
	}
	c, err := rr.connOf(gen)
	if err != nil {
		rr.r.release(gen)
	}
	return c, gen, err
}

func (rr *rowReader) connOf(gen uint64) (mapping.Connection, error) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.closed {
		return mapping.Connection{}, errors.New("duckdb: the cache is closed")
	}
	if rr.gen != gen {
		// The file was opened again (see reopener): the handle of the
		// invalidated database went with its idle connections.
		rr.dropLocked()
		if err := rr.openHandle(gen); err != nil {
			return mapping.Connection{}, err
		}
	}
	if n := len(rr.idle); n > 0 {
		c := rr.idle[n-1]
		rr.idle = rr.idle[:n-1]
		return c, nil
	}
	var c mapping.Connection
	if mapping.Connect(rr.db, &c) == mapping.StateError {
		return mapping.Connection{}, errors.New("duckdb: connecting")
	}
	return c, nil
}

// release puts a connection of generation gen back, or disconnects it
// when the cache is closed or its database invalidated.
func (rr *rowReader) release(c mapping.Connection, gen uint64) {
	defer rr.r.release(gen)
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.closed || gen != rr.gen || !rr.r.valid(gen) {
		mapping.Disconnect(&c)
		return
	}
	rr.idle = append(rr.idle, c)
}

// dropIdle disconnects the idle connections and releases the database
// handle, so that nothing idle keeps an invalidated database; the next
// query asks for a handle again.
func (rr *rowReader) dropIdle() {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.dropLocked()
}

// dropLocked is dropIdle with rr.mu held.
func (rr *rowReader) dropLocked() {
	for i := range rr.idle {
		mapping.Disconnect(&rr.idle[i])
	}
	rr.idle = nil
	if rr.gen != 0 {
		mapping.Close(&rr.db)
		rr.gen = 0
	}
}

// close disconnects the idle connections and releases the database
// handle; connections in use disconnect when released.
func (rr *rowReader) close() {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.closed {
		return
	}
	rr.closed = true
	rr.dropLocked()
}

// readable says which DuckDB types a column of each backend.Type may have
// for a vectorRow to read it; any other pairing is left to database/sql.
var readable = map[backend.Type][]mapping.Type{
	backend.TypeString:      {mapping.TypeVarchar},
	backend.TypeJSON:        {mapping.TypeVarchar},
	backend.TypeInteger:     {mapping.TypeBigInt, mapping.TypeInteger, mapping.TypeSmallInt, mapping.TypeTinyInt},
	backend.TypeNumber:      {mapping.TypeDouble, mapping.TypeFloat},
	backend.TypeBoolean:     {mapping.TypeBoolean},
	backend.TypeDate:        {mapping.TypeDate},
	backend.TypeTimestamp:   {mapping.TypeTimestamp},
	backend.TypeTimestampTZ: {mapping.TypeTimestampTZ},
	backend.TypeTime:        {mapping.TypeTime},
}

// ReadRows makes the backend a backend.RowReader.
func (b *database) ReadRows(ctx context.Context, query string, args []any, types []backend.Type, fn func(backend.Row) error) error {
	if b.rows == nil {
		return fmt.Errorf("duckdb: no direct reads on this database: %w", errors.ErrUnsupported)
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	conn, gen, err := b.rows.conn()
	if err != nil {
		return err
	}
	defer b.rows.release(conn, gen)

	var stmt mapping.PreparedStatement
	defer mapping.DestroyPrepare(&stmt)
	if mapping.Prepare(conn, query, &stmt) == mapping.StateError {
		return fmt.Errorf("duckdb: %s", mapping.PrepareError(stmt))
	}
	row := vectorRow{types: make([]mapping.Type, len(types))}
	if n := int(mapping.PreparedStatementColumnCount(stmt)); n != len(types) {
		return fmt.Errorf("duckdb: the query has %d columns, not %d: %w", n, len(types), errors.ErrUnsupported)
	}
	for i, t := range types {
		row.types[i] = mapping.PreparedStatementColumnType(stmt, mapping.IdxT(i))
		if !canRead(t, row.types[i]) {
			return fmt.Errorf("duckdb: column %d is DuckDB type %d, read as %v: %w", i, row.types[i], t, errors.ErrUnsupported)
		}
	}
	if err := bind(stmt, args); err != nil {
		return err
	}

	// A canceled ctx interrupts the query, as the driver does. An interrupt
	// that has started is waited for before the connection is released:
	// late, it would cut short the connection's next query, or touch it
	// after the cache closed it.
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(interrupted)
		mapping.Interrupt(conn)
	})
	defer func() {
		if !stop() {
			<-interrupted
		}
	}()
	var res mapping.Result
	defer mapping.DestroyResult(&res)
	if mapping.ExecutePrepared(stmt, &res) == mapping.StateError {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		err := fmt.Errorf("duckdb: %s", mapping.ResultError(&res))
		switch mapping.ResultErrorType(&res) {
		case mapping.ErrorTypeOutOfMemory:
			return b.outOfMemory(err)
		case mapping.ErrorTypeFatal:
			b.rows.r.invalidated(gen, err)
		}
		return b.Classify(err)
	}
	row.data = make([]unsafe.Pointer, len(types))
	row.valid = make([]unsafe.Pointer, len(types))
	for {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		chunk := mapping.FetchChunk(res)
		if chunk.Ptr == nil {
			return context.Cause(ctx) // an interrupted query ends early
		}
		for i := range row.data {
			v := mapping.DataChunkGetVector(chunk, mapping.IdxT(i))
			row.data[i] = mapping.VectorGetData(v)
			row.valid[i] = mapping.VectorGetValidity(v)
		}
		n := int(mapping.DataChunkGetSize(chunk))
		for row.i = 0; row.i < n; row.i++ {
			if err := fn(&row); err != nil {
				mapping.DestroyDataChunk(&chunk)
				return err
			}
		}
		mapping.DestroyDataChunk(&chunk)
	}
}

// MaterializesResults makes the backend a backend.Materializer: DuckDB's
// driver holds a whole query result in memory.
func (b *database) MaterializesResults() {}

// RaiseForColumns makes the backend a backend.WideReader: a query of a
// wide table needs the memory its INSERTs do (see tableMemory).
func (b *database) RaiseForColumns(ctx context.Context, n int) (restore func(), err error) {
	return b.raiseMemory(ctx, tableMemory(n))
}

// RaiseAgain makes the backend a backend.WideReader: a read that ran out
// of memory runs again at twice the limit, up to readRaises times the
// configured one. The cache does not know how large the records of a
// table are, and a load raised the limit for its largest (see
// recordMemory): at the default limit, a 100 MB record loaded and then
// failed Records and the export alike; Records read it at 256 MB.
func (b *database) RaiseAgain(ctx context.Context) (restore func(), ok bool, err error) {
	b.mu.Lock()
	now := max(b.memoryLimit, b.raisedTo)
	need := b.capped(2 * now)
	b.mu.Unlock()
	if need <= now || need > readRaises*b.memoryLimit {
		return nil, false, nil
	}
	if restore, err = b.raiseMemory(ctx, need); err != nil {
		return nil, false, err
	}
	return restore, true, nil
}

// readRaises bounds RaiseAgain: 512 MB at the default limit, which holds a
// 100 MB record's read, and leaves a container of 1 GiB room for the rest
// of the process. A read that needs more fails with the error that names
// the option raising the limit.
const readRaises = 4

func canRead(t backend.Type, dt mapping.Type) bool {
	for _, ok := range readable[t] {
		if dt == ok {
			return true
		}
	}
	return false
}

// bind binds the export's arguments: raw ids, and whatever a caller's
// Dataset.Where passed.
func bind(stmt mapping.PreparedStatement, args []any) error {
	if n := int(mapping.NParams(stmt)); n != len(args) {
		return fmt.Errorf("duckdb: the query takes %d arguments, not %d", n, len(args))
	}
	for i, a := range args {
		at := mapping.IdxT(i + 1)
		var st mapping.State
		switch v := a.(type) {
		case string:
			st = mapping.BindVarchar(stmt, at, v)
		case int:
			st = mapping.BindInt64(stmt, at, int64(v))
		case int64:
			st = mapping.BindInt64(stmt, at, v)
		case float64:
			st = mapping.BindDouble(stmt, at, v)
		case bool:
			st = mapping.BindBoolean(stmt, at, v)
		case nil:
			st = mapping.BindNull(stmt, at)
		default:
			return fmt.Errorf("duckdb: argument %d is a %T: %w", i+1, a, errors.ErrUnsupported)
		}
		if st == mapping.StateError {
			return fmt.Errorf("duckdb: binding argument %d: %w", i+1, errors.ErrUnsupported)
		}
	}
	return nil
}

// vectorRow is a row of a result chunk, read in place: each column's data
// and validity mask as the C API lays them out (duckdb.h).
type vectorRow struct {
	types []mapping.Type
	data  []unsafe.Pointer
	valid []unsafe.Pointer // nil: no NULL in the chunk's column
	i     int
}

func (r *vectorRow) Null(col int) bool {
	m := r.valid[col]
	if m == nil {
		return false
	}
	word := *(*uint64)(unsafe.Add(m, r.i/64*8))
	return word&(1<<(r.i%64)) == 0
}

// Text reads a duckdb_string_t: its length, then the string itself when
// it is at most 12 bytes, else a 4-byte prefix and a pointer to it.
func (r *vectorRow) Text(col int) string {
	p := unsafe.Add(r.data[col], r.i*16)
	n := int(*(*uint32)(p))
	if n <= 12 {
		return unsafe.String((*byte)(unsafe.Add(p, 4)), n)
	}
	return unsafe.String(*(**byte)(unsafe.Add(p, 8)), n)
}

func (r *vectorRow) Int(col int) int64 {
	p := r.data[col]
	switch r.types[col] {
	case mapping.TypeInteger:
		return int64(*(*int32)(unsafe.Add(p, r.i*4)))
	case mapping.TypeSmallInt:
		return int64(*(*int16)(unsafe.Add(p, r.i*2)))
	case mapping.TypeTinyInt:
		return int64(*(*int8)(unsafe.Add(p, r.i)))
	}
	return *(*int64)(unsafe.Add(p, r.i*8))
}

func (r *vectorRow) Float(col int) float64 {
	p := r.data[col]
	if r.types[col] == mapping.TypeFloat {
		return float64(*(*float32)(unsafe.Add(p, r.i*4)))
	}
	return *(*float64)(unsafe.Add(p, r.i*8))
}

func (r *vectorRow) Bool(col int) bool { return *(*bool)(unsafe.Add(r.data[col], r.i)) }

// Time reads dates as days and the others as microseconds since the epoch
// (or since midnight), in UTC as the driver gives them.
func (r *vectorRow) Time(col int) time.Time {
	p := r.data[col]
	if r.types[col] == mapping.TypeDate {
		days := *(*int32)(unsafe.Add(p, r.i*4))
		return time.Unix(int64(days)*86400, 0).UTC()
	}
	return time.UnixMicro(*(*int64)(unsafe.Add(p, r.i*8))).UTC()
}
