package duckdb

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"
)

// reopener is the driver.Connector of a cache's *sql.DB. DuckDB
// invalidates a database after a fatal error (a checkpoint that cannot
// write its file on a full disk, or runs out of memory): every later
// statement on it fails with "database has been invalidated" until the
// file is opened again, and DuckDB's instance cache hands the invalidated
// database to anyone who opens the path while a handle on it is left. So
// the reopener counts the connections of the database it opened (the
// *sql.DB's and the row reader's); once one of them has seen a fatal
// error and the last of them has closed, the next connection opens the
// file again, which replays its write-ahead log: what DuckDB committed
// before the error stays. The *sql.DB a program took from Cache.DB stays
// the same.
type reopener struct {
	path string
	init func(driver.ExecerContext) error
	// dropIdle closes the idle connections of the *sql.DB and of the row
	// reader once the database is invalidated, so that nothing idle keeps
	// it; set by Connect.
	dropIdle func()

	mu  sync.Mutex
	cur *duckdbdriver.Connector // nil once closed, or when a reopen failed
	gen uint64                  // counts the opens
	// open counts the connections of cur's database that are open.
	open int
	// fatal is the error that invalidated cur's database; nil while it
	// is valid.
	fatal error
}

// newReopener opens the database file at path.
func newReopener(path string, init func(driver.ExecerContext) error) (*reopener, error) {
	cur, err := duckdbdriver.NewConnector(path, init)
	if err != nil {
		return nil, err
	}
	return &reopener{path: path, init: init, cur: cur, gen: 1, dropIdle: func() {}}, nil
}

// Driver implements driver.Connector.
func (r *reopener) Driver() driver.Driver { return duckdbdriver.Driver{} }

// Close closes the database; connections still open keep it until they
// close.
func (r *reopener) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil {
		return nil
	}
	err := r.cur.Close()
	r.cur = nil
	return err
}

// Connect implements driver.Connector.
func (r *reopener) Connect(ctx context.Context) (driver.Conn, error) {
	cur, gen, err := r.acquire()
	if err != nil {
		return nil, err
	}
	c, err := cur.Connect(ctx)
	if err != nil {
		r.release(gen)
		return nil, err
	}
	dc, ok := c.(*duckdbdriver.Conn)
	if !ok {
		c.Close()
		r.release(gen)
		return nil, fmt.Errorf("duckdb: the driver made a connection of type %T", c)
	}
	return &conn{Conn: dc, r: r, gen: gen}, nil
}

// acquire counts one more connection of the database, opening the file
// again first if a fatal error invalidated it and no connection of it is
// left.
func (r *reopener) acquire() (*duckdbdriver.Connector, uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fatal != nil {
		if r.open > 0 {
			return nil, 0, &invalidatedError{path: r.path, open: r.open, err: r.fatal}
		}
		if err := r.reopen(); err != nil {
			return nil, 0, err
		}
	}
	if r.cur == nil {
		return nil, 0, errors.New("duckdb: the cache is closed")
	}
	r.open++
	return r.cur, r.gen, nil
}

// reopen opens the file again after a fatal error; r.mu is held and no
// connection of the invalidated database is open. A failed open (the
// disk still full, say) is tried again by the next connection.
func (r *reopener) reopen() error {
	if r.path == memoryPath {
		// A new in-memory database would be empty: the cache's tables
		// and states are gone with the invalidated one.
		return &invalidatedError{path: r.path, err: r.fatal}
	}
	if r.cur != nil {
		r.cur.Close()
		r.cur = nil
	}
	cur, err := duckdbdriver.NewConnector(r.path, r.init)
	if err != nil {
		return fmt.Errorf("duckdb: opening %s again after a fatal error (%v): %w", r.path, r.fatal, err)
	}
	r.cur, r.fatal = cur, nil
	r.gen++
	return nil
}

// release counts a connection of generation gen closed.
func (r *reopener) release(gen uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen == r.gen {
		r.open--
	}
}

// valid says whether a connection of generation gen is on a database that
// no fatal error has invalidated.
func (r *reopener) valid(gen uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return gen == r.gen && r.fatal == nil
}

// invalidated records that err, a fatal error, invalidated the database of
// generation gen, and has the idle connections closed the first time.
func (r *reopener) invalidated(gen uint64, err error) {
	r.mu.Lock()
	first := gen == r.gen && r.fatal == nil
	if first {
		r.fatal = err
	}
	r.mu.Unlock()
	if first {
		r.dropIdle()
	}
}

// isFatal says whether err is DuckDB's fatal error, which invalidates the
// database; stale says that the error is not of this statement but of an
// earlier one that invalidated it, so that this statement did nothing.
func isFatal(err error) (fatal, stale bool) {
	var de *duckdbdriver.Error
	if err == nil || !errors.As(err, &de) || de.Type != duckdbdriver.ErrorTypeFatal {
		return false, false
	}
	return true, strings.Contains(de.Msg, "database has been invalidated")
}

// invalidatedError is a connection asked for while the database is
// invalidated and connections of it are still open, or of an in-memory
// database, which cannot be opened again.
type invalidatedError struct {
	path string
	open int
	err  error
}

func (e *invalidatedError) Error() string {
	if e.path == memoryPath {
		return fmt.Sprintf("duckdb: a fatal error invalidated the in-memory cache (%v); its data is gone: open a new cache", e.err)
	}
	return fmt.Sprintf("duckdb: a fatal error invalidated the cache file %s (%v); it is opened again, keeping what was committed, once the %d queries and transactions still open on it end: end them and run again",
		e.path, e.err, e.open)
}

func (e *invalidatedError) Unwrap() error { return e.err }

// conn is a connection of a reopener: it notes the fatal errors it sees,
// and, once its database is invalidated, tells database/sql to close it
// rather than use it again.
type conn struct {
	*duckdbdriver.Conn
	r      *reopener
	gen    uint64
	inTx   bool
	closed bool
}

// check notes a fatal error. A statement refused because an earlier one
// invalidated the database did nothing: outside a transaction it becomes
// driver.ErrBadConn, and database/sql runs it again on a new connection,
// which opens the file again.
func (c *conn) check(err error) error {
	fatal, stale := isFatal(err)
	if !fatal {
		return err
	}
	c.r.invalidated(c.gen, err)
	if stale && !c.inTx {
		return driver.ErrBadConn
	}
	return err
}

// committed notes a fatal error that came after a commit made its
// transaction durable, and says whether err is one: DuckDB then fails the
// checkpoint that follows a commit (on a full disk, or out of memory), but
// the transaction is in the write-ahead log, which opening the file again
// replays. Reported as a failure, a load's batch would count as lost while
// its records and states were there.
func (c *conn) committed(err error) bool {
	fatal, _ := isFatal(err)
	if !fatal || !strings.Contains(err.Error(), "COMMIT succeeded and is durable") {
		return false
	}
	c.r.invalidated(c.gen, err)
	return true
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	res, err := c.Conn.ExecContext(ctx, query, args)
	if !c.inTx && c.committed(err) {
		return driver.RowsAffected(0), nil
	}
	return res, c.check(err)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.Conn.QueryContext(ctx, query, args)
	return rows, c.check(err)
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, query)
	return st, c.check(err)
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	t, err := c.Conn.BeginTx(ctx, opts)
	if err = c.check(err); err != nil {
		return nil, err
	}
	c.inTx = true
	return &tx{Tx: t, c: c}, nil
}

// IsValid implements driver.Validator: a connection of an invalidated
// database is closed when it is put back, not kept idle.
func (c *conn) IsValid() bool { return c.r.valid(c.gen) }

// ResetSession implements driver.SessionResetter: an idle connection of
// an invalidated database is not used again.
func (c *conn) ResetSession(context.Context) error {
	if !c.r.valid(c.gen) {
		return driver.ErrBadConn
	}
	return nil
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	if !c.closed {
		c.closed = true
		c.r.release(c.gen)
	}
	return err
}

// tx is a transaction of a conn: its commit is where a checkpoint fails.
type tx struct {
	driver.Tx
	c *conn
}

func (t *tx) Commit() error {
	err := t.Tx.Commit()
	if t.c.committed(err) {
		err = nil
	}
	err = t.c.check(err)
	t.c.inTx = false
	return err
}

func (t *tx) Rollback() error {
	err := t.c.check(t.Tx.Rollback())
	t.c.inTx = false
	return err
}
