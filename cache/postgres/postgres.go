// Package postgres is the PostgreSQL backend of the cache, for caches
// shared by several programs or machines. It is pure Go (pgx). Import it
// for its side effect to open caches by URL:
//
//	import _ "github.com/x/goairbyte/cache/postgres"
//
//	c, err := cache.Open(ctx, "postgres://user:pw@localhost:5432/db?schema=airbyte")
//
// or call [NewConnector] for typed options or a key=value connection
// string:
//
//	c, err := cache.New(ctx, postgres.NewConnector("host=localhost dbname=db", postgres.WithSchema("airbyte")))
//
// Both postgres:// and postgresql:// URLs work; besides schema and
// table_prefix (see cache.Open), their query parameters are pgx's
// connection parameters (sslmode, connect_timeout, …) and server settings
// such as work_mem. The password is masked in goairbyte's output from the
// moment the cache is opened.
//
// # How it loads
//
// Records are parsed in Go (valyala/fastjson) into binary COPY rows and
// bulk-loaded with COPY … FROM STDIN (FORMAT binary) on the transaction's
// connection, so the server parses no integers, floats or timestamps.
// Values are converted to their column's type in Go before COPY, so one
// bad value never fails a batch: it is sent as NULL and noted in
// _airbyte_meta. A record nested deeper than fastjson parses (300 levels)
// takes a slower path that keeps its objects and arrays as JSON text; a
// jsonb value nested more than 10,000 levels (only a record built by hand
// gets past the protocol decoder with one) is NULL with a note. A table
// has at most 1,600 columns (a wider stream is refused before any DDL),
// and a row about 8 KB of the values kept in it (long text and JSON are
// moved out): a record of a wide stream that passes that fails its load
// with the ways out. The column
// types come from the catalog, read in the
// writing transaction; because the COPY statement names its columns itself
// and general queries run in pgx's "exec" mode, nothing depends on pgx's
// cache of statement and table descriptions, which goes stale when a
// replace drops and re-creates a table of the same name.
//
// # Poolers
//
// A load holds a session advisory lock for as long as it runs, so the
// cache needs its sessions to itself: straight to the server, or through
// a pooler in session mode (PgBouncer's pool_mode = session), through
// which it loads as it does straight. A pooler that hands server sessions
// out per transaction or statement (pool_mode = transaction or statement)
// would leave the lock on a session it then gives other clients: opening
// the cache through one fails, naming the pool mode and what to do, before
// it takes any lock. To tell, each open asks two connections of its own
// which server sessions they get: an open took 31–36 ms against 22–23 ms
// without (medians of 40 opens, three runs, on a loaded 2-core machine). PgBouncer refuses server settings in the startup packet,
// where pgx sends a connection string's (?work_mem=16MB): the cache sets
// its own default work_mem once connected, and a setting of yours must go
// (or into PgBouncer's ignore_startup_parameters).
package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/valyala/fastjson"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/masklease"
	"github.com/x/goairbyte/internal/spelling"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/secrets"
)

func init() {
	backend.Register("postgres", openURL)
	backend.Register("postgresql", openURL)
}

// Config names a PostgreSQL database by parts; DSN turns it into a URL.
// The password is a SecretString, so printing or logging a Config never
// shows it.
type Config struct {
	// Host is the server's host name or address.
	Host string
	// Port is the server's port, 5432 when zero.
	Port int
	// User is the role to connect as.
	User string
	// Password is the role's password, if it needs one.
	Password secrets.SecretString
	// Database is the database's name.
	Database string
	// Params are extra connection parameters, such as sslmode.
	Params map[string]string
}

// DSN is the config as a postgres:// URL. It holds the password in clear
// text: hand it to NewConnector or cache.Open, do not print it.
func (c Config) DSN() string {
	port := c.Port
	if port == 0 {
		port = 5432
	}
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(c.Host, strconv.Itoa(port)), Path: "/" + c.Database}
	if c.User != "" {
		u.User = url.UserPassword(c.User, c.Password.Reveal())
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
	// schemaSet says WithSchema named a schema, for a DSN that names
	// another.
	schemaSet bool
}

// Option configures a PostgreSQL cache.
type Option func(*options)

// WithSchema sets the schema of every table ("public" by default); it is
// created if missing. A schema parameter of the DSN says the same.
func WithSchema(schema string) Option {
	return func(o *options) {
		if schema != "" {
			o.schema, o.schemaSet = schema, true
		}
	}
}

// defaultWorkMem is the work_mem of the cache's connections unless the DSN
// sets one (e.g. "?work_mem=16MB").
const defaultWorkMem = "64MB"

// connector connects to one PostgreSQL database.
type connector struct {
	dsn string
	o   options
}

// NewConnector returns the connector of the database at dsn (a postgres://
// URL or a key=value string, as pgx takes them), for cache.New. Its
// connections use work_mem 64MB unless dsn sets work_mem, so that the
// duplicate check at the end of a merge does not spill to disk. A schema
// parameter in dsn ("…/db?schema=airbyte", as cache.Open takes it) is
// WithSchema's; table_prefix, a setting of the cache and not of the
// connection, is refused here: pass cache.WithTablePrefix to cache.New.
func NewConnector(dsn string, opts ...Option) cache.Connector {
	return backend.Wrap[cache.Connector](newConnector(dsn, opts...))
}

// newConnector is NewConnector's connector, as the backend sees it.
func newConnector(dsn string, opts ...Option) *connector {
	c := &connector{dsn: dsn, o: options{schema: "public"}}
	for _, f := range opts {
		f(&c.o)
	}
	return c
}

// hostHoldsAt reports whether a host of cfg holds an @, the sign of a
// user name or password with an @ that was not percent-encoded.
func hostHoldsAt(cfg *pgx.ConnConfig) bool {
	if strings.Contains(cfg.Host, "@") {
		return true
	}
	for _, fb := range cfg.Fallbacks {
		if strings.Contains(fb.Host, "@") {
			return true
		}
	}
	return false
}

// openURL is the backend.Opener of postgres:// and postgresql:// URLs:
// every parameter left goes to pgx.
func openURL(u *url.URL, schema string) (backend.Connector, error) {
	return newConnector(u.String(), WithSchema(schema)), nil
}

// dsnSchema takes the schema and table_prefix parameters out of the DSN's
// runtime parameters and returns the cache's schema: the DSN's, WithSchema's
// (which must then agree) or public.
func (c *connector) dsnSchema(params map[string]string) (string, error) {
	if _, ok := params["table_prefix"]; ok {
		return "", errors.New("postgres: table_prefix in the connection string is read only by cache.Open(ctx, url); " +
			"with a connection string, pass the prefix as cache.New(ctx, postgres.NewConnector(dsn), cache.WithTablePrefix(prefix))")
	}
	v, ok := params["schema"]
	if !ok {
		return c.o.schema, nil
	}
	delete(params, "schema")
	switch {
	case v == "":
		return c.o.schema, nil
	case c.o.schemaSet && v != c.o.schema:
		return "", fmt.Errorf("postgres: the connection string says schema=%s and the schema option (WithSchema, goab's --schema) says %q; give one", v, c.o.schema)
	}
	return v, nil
}

// Connect connects to the database and creates the schema if needed.
func (c *connector) Connect(ctx context.Context) (_ backend.Backend, err error) {
	// What the server says while the cache opens says what to do as a
	// load's error does (a statement_timeout, a session ended).
	defer func() {
		if err != nil {
			err = (*database)(nil).Classify(err)
		}
	}()
	// The connection string's mistakes, found before anything connects,
	// are *cacheerr.ArgumentErrors.
	pc, err := pgxpool.ParseConfig(c.dsn)
	if err != nil {
		return nil, &cacheerr.ArgumentError{Err: fmt.Errorf("postgres: the connection string is not valid: %w", err)}
	}
	// From here on the password is masked wherever goairbyte writes text
	// (errors, logs, progress lines) while the cache is open: the database
	// holds it until it is closed (by Close; an Environment's default
	// cache also once unreachable), not for good, or a server opening
	// caches for many tenants would mask every password it was ever given.
	// One that fails to connect stays masked for good: its error, and the
	// DSN, are what the program prints next, at any time.
	release := masklease.Hold(pc.ConnConfig.Password)
	defer func() {
		if err != nil {
			secrets.Register(pc.ConnConfig.Password)
			release()
		}
	}()
	// An @ in a URL's password that is not percent-encoded ends the
	// password there: the rest of it becomes part of the host, which every
	// connection error would print. No host name holds an @.
	if hostHoldsAt(pc.ConnConfig) {
		return nil, &cacheerr.ArgumentError{Err: errors.New("postgres: the connection URL's user name or password holds an @ that is not percent-encoded, " +
			"so the URL cannot be read; write it as %40 (and # as %23, / as %2F)")}
	}
	// Unnamed statements: no cached description can outlive a table that a
	// replace dropped and re-created.
	pc.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	// cache.Open takes schema and table_prefix out of its URL; a DSN given
	// here straight would send them to the server as settings, which
	// refuses them ("unrecognized configuration parameter").
	schema, err := c.dsnSchema(pc.ConnConfig.RuntimeParams)
	if err != nil {
		return nil, &cacheerr.ArgumentError{Err: err}
	}
	if err := checkSettings(pc.ConnConfig.RuntimeParams); err != nil {
		return nil, &cacheerr.ArgumentError{Err: err}
	}
	// The end-of-load duplicate check of a merge groups the whole table
	// by key; at PostgreSQL's default 4MB it spills to disk (a million
	// keys take ~40MB). A work_mem in the DSN wins. It is set once
	// connected, not in the startup packet, which PgBouncer refuses
	// ("unsupported startup parameter").
	_, setWorkMem := pc.ConnConfig.RuntimeParams["work_mem"]
	setWorkMem = !setWorkMem
	// pgx reads a timestamptz in the program's local zone; the cache's
	// times are in UTC, as DuckDB's are.
	pc.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		conn.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID, Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		if setWorkMem {
			_, err := conn.Exec(ctx, "SET work_mem = '"+defaultWorkMem+"'")
			return err
		}
		return nil
	}
	if err := sessionPooled(ctx, pc.ConnConfig); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, connectError(pc.ConnConfig, err)
	}
	b := &database{pool: pool, db: stdlib.OpenDBFromPool(pool), schema: schema, releasePassword: release}
	if schema != "public" {
		if err := createSchema(ctx, pool, schema); err != nil {
			b.Close()
			return nil, fmt.Errorf("postgres: creating schema %q: %w", schema, err)
		}
	}
	return b, nil
}

// sessionPooled refuses a connection string whose connections reach the
// server through a pooler that shares server sessions between clients
// (PgBouncer's pool_mode transaction or statement): a load's lock is a
// session advisory lock, which such a pooler leaves on a server session
// that it then hands to other clients, with the lock still held, so that
// the load sees its own lock as lost and the next finds the source in use
// for as long as the pooler keeps that session. It asks two connections
// of its own (not the pool's, whose settings such a pooler would pass on
// to other clients): the first's server session, then the second's inside
// a transaction, then the first's again. Direct, or through a pooler in
// session mode, the two sessions differ and the first keeps its own; a
// pooler that hands out sessions per transaction gives the second the
// session the first just let go (PgBouncer reuses the last released one),
// or the first another while the second holds its own. A server where
// BEGIN is refused is a statement pooler.
func sessionPooled(ctx context.Context, cfg *pgx.ConnConfig) error {
	var conns [2]*pgx.Conn
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(context.WithoutCancel(ctx))
			}
		}
	}()
	// Connected at once: the check costs an open one connection's time.
	var errs [2]error
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() { conns[i], errs[i] = pgx.ConnectConfig(ctx, cfg) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return connectError(cfg, err)
		}
	}
	var first, second, again uint32
	if err := conns[0].QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&first); err != nil {
		return fmt.Errorf("postgres: asking the server for its session: %w", err)
	}
	tx, err := conns[1].Begin(ctx)
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "08P01" {
		return fmt.Errorf("postgres: the connection to %s:%d refused a transaction (%w), as a pooler in statement mode does (PgBouncer's pool_mode = statement), and "+poolerRemedy,
			cfg.Host, cfg.Port, err)
	}
	if err != nil {
		return fmt.Errorf("postgres: beginning a transaction: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&second); err != nil {
		return fmt.Errorf("postgres: asking the server for its session: %w", err)
	}
	if err := conns[0].QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&again); err != nil {
		return fmt.Errorf("postgres: asking the server for its session: %w", err)
	}
	if second == first || again != first {
		return fmt.Errorf("postgres: two connections to %s:%d share the server's sessions (one ran in session %d, then %d; the other in %d): "+
			"a pooler in transaction or statement mode (PgBouncer's pool_mode = transaction) stands between, and "+poolerRemedy,
			cfg.Host, cfg.Port, first, again, second)
	}
	return nil
}

// connectError is the error of a connection to cfg's server that failed.
func connectError(cfg *pgx.ConnConfig, err error) error {
	hint := ""
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "42704" {
		// pgx sends a parameter of the connection string it does not
		// know to the server as a setting; a misspelt one ends here.
		hint = " (a parameter of the connection string that is neither a connection option nor a server setting: check its spelling)"
	} else if strings.Contains(err.Error(), "unsupported startup parameter") {
		// PgBouncer takes only a few settings in the startup packet,
		// where pgx sends the connection string's.
		hint = " (a pooler, such as PgBouncer, refuses that server setting in the connection string: remove it, or list it in the pooler's ignore_startup_parameters)"
	}
	return fmt.Errorf("postgres: connecting to %s@%s/%s: %w%s", cfg.User, cfg.Host, cfg.Database, err, hint)
}

// poolerRemedy is what to do about a pooler that shares server sessions
// between clients.
const poolerRemedy = "the cache cannot work through it: each load holds a session advisory lock, which such a pooler leaves on a server session it hands to other clients; " +
	"connect the cache to the server directly, or through a pool in session mode (in PgBouncer's [databases] section, pool_mode=session on the cache's database entry)"

// createSchema creates schema if it is missing. It looks first, because
// CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the
// schema exists, which a DBA who created the schema ahead for a role
// without it does not grant. IF NOT EXISTS does not see a create that
// another session has not committed yet: when two workers open a new
// cache at once, the later one waits for the earlier one and then fails on
// the catalog's unique index (SQLSTATE 23505). The schema exists by then,
// so the statement is run once more.
func createSchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil || exists {
		return err
	}
	q := "CREATE SCHEMA IF NOT EXISTS " + backend.Quote(schema)
	_, err := pool.Exec(ctx, q)
	pe := (*pgconn.PgError)(nil)
	if errors.As(err, &pe) && pe.Code == "23505" {
		_, err = pool.Exec(ctx, q)
	}
	if errors.As(err, &pe) && pe.Code == "42501" {
		return fmt.Errorf("%w: the role may not create schemas in this database; have its administrator create the schema for it "+
			"(CREATE SCHEMA %s AUTHORIZATION <role>), or grant it CREATE on the database", err, backend.Quote(schema))
	}
	return err
}

// database is a PostgreSQL database holding a cache, through a pgx pool;
// it implements backend.Backend.
type database struct {
	pool   *pgxpool.Pool
	db     *sql.DB
	schema string
	// releasePassword stops masking the password on the database's
	// account; calling it again does nothing.
	releasePassword func()
}

func (b *database) DB() *sql.DB { return b.db }
func (b *database) Close() error {
	err := b.db.Close()
	b.pool.Close()
	b.releasePassword()
	return err
}
func (b *database) Schema() string { return b.schema }

// Classify makes the backend a backend.ErrorClassifier: the server's
// disk_full error (SQLSTATE 53100) becomes a *cacheerr.DiskFullError, and
// its out_of_memory (53200) a *cacheerr.OutOfMemoryError, so that a program tells
// them from bad data the same way on both backends. A session the server
// ended, or a connection lost with no word from it (a crash), says that
// what was committed is kept and to run again.
func (b *database) Classify(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		if connectionLost(err) && !strings.Contains(err.Error(), connectionLostRemedy) {
			return fmt.Errorf("%w (%s)", err, connectionLostRemedy)
		}
		return err
	}
	switch {
	case pe.Code == "53100" && !errors.Is(err, cacheerr.ErrDiskFull):
		return &cacheerr.DiskFullError{Where: "the PostgreSQL server's database", Remedy: "free space on the server's disk (its data directory or the tablespace the error names), or have its administrator enlarge it", Err: err}
	case pe.Code == "53200" && !errors.Is(err, cacheerr.ErrOutOfMemory):
		remedy := "give it more (work_mem, or the host's memory) or load fewer streams at once"
		if strings.Contains(pe.Hint, "max_locks_per_transaction") {
			remedy = lockTableRemedy
		}
		return &cacheerr.OutOfMemoryError{Where: "the PostgreSQL server", Err: err, Remedy: remedy}
	case pe.Code == "55000" && strings.Contains(pe.Message, "replica identity") && !strings.Contains(err.Error(), replicaIdentityRemedy):
		return fmt.Errorf("%w (%s)", err, replicaIdentityRemedy)
	case pe.Code == "0A000" && strings.Contains(pe.Message, "row-level security") && !strings.Contains(err.Error(), forcedRLSRemedy):
		return fmt.Errorf("%w (%s)", err, forcedRLSRemedy)
	case settingRemedies[pe.Code] != "" && (pe.Code != "57014" || strings.Contains(pe.Message, "statement timeout")) && !strings.Contains(err.Error(), settingRemedies[pe.Code]):
		return fmt.Errorf("%w (%s)", err, settingRemedies[pe.Code])
	case strings.HasPrefix(pe.Code, "57P") && !strings.Contains(err.Error(), sessionEndedRemedy):
		// admin_shutdown (a restart, pg_terminate_backend), crash_shutdown,
		// cannot_connect_now, idle_session_timeout: nothing is wrong with
		// the load, which is to be run again.
		return fmt.Errorf("%w (%s)", err, sessionEndedRemedy)
	}
	return err
}

// connectionLost says whether err is a connection that ended under a
// statement with no word from the server: it crashed (a server whose
// write-ahead log cannot grow on a full disk PANICs and restarts), was
// killed, or the network between failed.
func connectionLost(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// connectionLostRemedy is what to do when the connection of a load, or
// of a read of the cache, ended with no word from the server.
const connectionLostRemedy = "the connection to the PostgreSQL server was lost: the server crashed or restarted (its log says why; one whose disk is full under its write-ahead log, pg_wal, stops), " +
	"or the network failed; what a load committed before is kept: run it again once the server accepts connections, and a load resumes from the last committed state"

// settingRemedies are what to do, by SQLSTATE, when a limit that a DBA
// sets on the cache's role or database (ALTER ROLE … SET, ALTER DATABASE
// … SET) stops a load: statement_timeout (57014, as a statement cancelled
// by the program's context is, whose message does not name the timeout),
// idle_in_transaction_session_timeout (25P03), temp_file_limit (53400),
// the role's or database's connection limit (53300), lock_timeout (55P03)
// and default_transaction_read_only or a standby (25006).
var settingRemedies = map[string]string{
	"57014": "the statement_timeout of the cache's role or database ended one of its statements: a batch's COPY, or the merge, duplicate check or swap " +
		"at the end of a load, which grow with the batch and the table; what a load committed before is kept; raise it for the role the cache logs in as " +
		"(ALTER ROLE … SET statement_timeout = '15min'), or load smaller batches, and run again",
	"25P03": "the server ended the session because a transaction of the cache stayed idle longer than the idle_in_transaction_session_timeout of its role or database: " +
		"a load keeps its transaction open, idle, while the source sends the records of its next batch (until a state comes 30 s or more after the transaction began, or the batch is full); " +
		"what a load committed before is kept; raise the timeout for the role the cache logs in as (ALTER ROLE … SET idle_in_transaction_session_timeout = '10min') and run again",
	"53400": "the server's temp_file_limit stopped a statement of the cache that sorts or groups a whole table (a merge's duplicate check, the pages of an export); " +
		"raise it for the role the cache logs in as (ALTER ROLE … SET temp_file_limit), or give it more work_mem so that less spills to disk",
	"53300": "the role or database has no connection left: the cache holds up to its pool's connections (pool_max_conns, 4 by default or the number of CPUs if more), " +
		"one more for each load running, and two more briefly while it opens; raise the limit (ALTER ROLE … CONNECTION LIMIT), or lower pool_max_conns in the connection string",
	"55P03": "a statement of the cache waited longer than the lock_timeout of its role or database (or its own 200 ms for DDL) for a table that another session holds: " +
		"a VACUUM FULL, REINDEX, CLUSTER, ALTER TABLE, LOCK TABLE or a long transaction; what a load committed before is kept; run again once that session is done, " +
		"or raise the lock_timeout of the role the cache logs in as (ALTER ROLE … SET lock_timeout = '1min')",
	"25006": "the session is read-only: the role or database has default_transaction_read_only on, or the server is a standby (a replica, or a former primary after a failover); " +
		"the cache writes: connect it to the primary, and have the role's default_transaction_read_only turned off (ALTER ROLE … SET default_transaction_read_only = off)",
}

// replicaIdentityRemedy is what to do when a publication that publishes
// updates or deletes names a table of the cache: the tables have no
// primary key (a merge keeps the rows whose key is NULL), so no replica
// identity, and the server refuses a merge's delete of the older rows of
// the keys it loaded.
const replicaIdentityRemedy = "a publication (logical replication) that publishes deletes names the table, which has no primary key and so no replica identity, " +
	"and a merge removes the older rows of the keys it loaded once its records are in; until it can, the table holds them beside the new (the next merge that ends removes them): " +
	"give the table a replica identity (ALTER TABLE … REPLICA IDENTITY FULL), or have the publication publish inserts only (WITH (publish = 'insert'))"

// forcedRLSRemedy is what to do when a table of the cache has row-level
// security forced on its owner, the role that loads it: PostgreSQL
// refuses COPY into it.
const forcedRLSRemedy = "the table has row-level security forced on its owner (ALTER TABLE … FORCE ROW LEVEL SECURITY), the role that loads it, and PostgreSQL refuses COPY into such a table; " +
	"what a load committed before is kept: lift it (ALTER TABLE … NO FORCE ROW LEVEL SECURITY: policies still apply to the other roles), or give the loading role BYPASSRLS, and run again"

// sessionEndedRemedy is what to do when the server ended the session of
// a load (or of an Open, or of a read of the cache).
const sessionEndedRemedy = "the PostgreSQL server ended the session, restarting or told to: what a load committed before is kept; run it again once the server accepts connections: a load resumes from the last committed state"

// lockTableRemedy is what a server whose lock table is full needs ("out of
// shared memory", hinting at max_locks_per_transaction). A load creates the
// tables of all its streams in one transaction, and each new table holds
// about three of the table's slots (the table, its TOAST table and index)
// until it commits: one transaction could not create 10,000 stream tables
// on a server of 200 connections (64 × 200 slots).
const lockTableRemedy = "its lock table is full: a load creates the tables of all its streams in one transaction (about three slots a table) and writes into them in one; " +
	"raise the server's max_locks_per_transaction (slots: max_locks_per_transaction × max_connections) or load fewer streams at once"

func (b *database) Qualify(table string) string {
	return backend.Quote(b.schema) + "." + backend.Quote(table)
}
func (b *database) MaxIdentifierLength() int { return 63 }

// TableID makes the backend a backend.TableIdentifier: the table's oid,
// which the table a replace renames to its name does not share (another
// process's replace included), found through the catalog's index on
// names.
func (b *database) TableID(ctx context.Context, table string) (string, error) {
	var id string
	err := b.db.QueryRowContext(ctx, `SELECT COALESCE(CAST(CAST(to_regclass($1) AS oid) AS text), '')`, b.Qualify(table)).Scan(&id)
	return id, err
}

// TableIDSQL makes the backend a backend.TableIDQuerier: TableID's query
// as an expression.
func (b *database) TableIDSQL(table string) (string, []any) {
	return `COALESCE(CAST(CAST(to_regclass(CAST(? AS text)) AS oid) AS text), '')`, []any{b.Qualify(table)}
}

// Swapping is nothing to do: TableID asks the catalog.
func (b *database) Swapping(string) (ended func()) { return func() {} }

// MaxColumns is PostgreSQL's MaxHeapAttributeNumber.
func (b *database) MaxColumns() int          { return 1600 }
func (b *database) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

// DDLLock serialises the DDL of concurrent loads into one database, and
// then bounds how long each statement of the transaction waits for a lock:
// a replace's DROP waits for every reader of the table, an ALTER for every
// open write into it, and all that time no other load's DDL could run.
// A lock not had in time fails the statement with SQLSTATE 55P03, which
// txn.Exec reports as ErrInUse, and the cache runs the transaction again
// later, having released the DDL lock meanwhile. The bound is a wait that
// a short read or write ends within; other loads' DDL waits at most that
// long for each try.
func (b *database) DDLLock() string {
	return "SELECT pg_advisory_xact_lock(7271930001); SET LOCAL lock_timeout = '200ms'"
}

var sqlTypes = map[backend.Type]string{
	backend.TypeJSON: "jsonb", backend.TypeString: "text", backend.TypeInteger: "bigint",
	backend.TypeNumber: "double precision", backend.TypeBoolean: "boolean", backend.TypeDate: "date",
	backend.TypeTimestamp: "timestamp", backend.TypeTimestampTZ: "timestamptz",
	backend.TypeTime: "time", backend.TypeTimeTZ: "timetz",
}

func (b *database) SQLType(t backend.Type) string { return sqlTypes[t] }

func (b *database) ParseSQLType(dt string) backend.Type {
	switch strings.ToLower(dt) {
	case "jsonb", "json":
		return backend.TypeJSON
	case "bigint", "integer", "smallint":
		return backend.TypeInteger
	case "double precision", "real", "numeric":
		return backend.TypeNumber
	case "boolean":
		return backend.TypeBoolean
	case "date":
		return backend.TypeDate
	case "timestamp without time zone":
		return backend.TypeTimestamp
	case "timestamp with time zone":
		return backend.TypeTimestampTZ
	case "time without time zone":
		return backend.TypeTime
	case "time with time zone":
		return backend.TypeTimeTZ
	}
	return backend.TypeString
}

// JSONKey is the jsonb value, whose equality is JSON's (1 = 1.0, an
// object's members in any order), and not its text, in which 1 and 1.0
// differ and 1 and "1" do not.
func (b *database) JSONKey(expr string, path []string) string {
	if len(path) == 0 {
		return expr
	}
	return "NULLIF(" + expr + " #> " + textArray(path) + ", 'null'::jsonb)"
}

// JSONOrder orders numbers as numeric, exactly.
func (b *database) JSONOrder(expr string, path []string) (numbers []string, text string) {
	v := expr
	if len(path) > 0 {
		v = "(" + expr + " #> " + textArray(path) + ")"
	}
	isNumber := "jsonb_typeof(" + v + ") = 'number'"
	return []string{"CASE WHEN " + isNumber + " THEN (" + v + " #>> '{}')::numeric END"}, "CASE WHEN NOT " + isNumber + " THEN " + v + " #>> '{}' END"
}

// textArray is a text[] literal of path.
func textArray(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = "'" + strings.ReplaceAll(p, "'", "''") + "'"
	}
	return "ARRAY[" + strings.Join(parts, ", ") + "]::text[]"
}

// ByBytes compares text by the "C" collation: by its bytes, whatever
// the database's default.
func (b *database) ByBytes(expr string) string { return expr + ` COLLATE "C"` }

func (b *database) Begin(ctx context.Context) (backend.Tx, error) {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &txn{tx: tx, b: b}, nil
}

type txn struct {
	tx pgx.Tx
	b  *database
}

func (t *txn) Exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.Exec(ctx, q, args...)
	return lockBusy(err)
}

// lockBusy makes the error of a lock a statement could not take in time
// (SQLSTATE 55P03, lock_not_available: see DDLLock) match ErrInUse.
func lockBusy(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "55P03" {
		return fmt.Errorf("%w: another session holds a table this statement needs: %w", cacheerr.ErrInUse, err)
	}
	return err
}
func (t *txn) Commit(ctx context.Context) error { return t.tx.Commit(ctx) }
func (t *txn) Rollback(ctx context.Context) error {
	if err := t.tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return err
	}
	return nil
}

// Insert sends the batch with binary COPY on the transaction's connection.
// Binary COPY needs every column to have exactly the type the batch
// encoded; the target's types are read from the catalog, in this
// transaction and never from a cache, since a replace drops and re-creates
// tables of the same name. Columns of other types (a table created by
// someone else) are loaded through a temporary table and converted by
// their text form, as a text COPY would; a value their type does not take
// is NULL with a note (see converted).
func (t *txn) Insert(ctx context.Context, table string, cb backend.Batch) error {
	return rowTooBig(t.insert(ctx, table, cb.(*batch)))
}

// rowTooBig says what to do about a record that does not fit in a row
// (SQLSTATE 54000, "row is too big"). A row lives in one 8 KB page, where
// each non-NULL integer, number, date or time takes 4 to 12 bytes and each
// long text or JSON value an 18-byte pointer, so a wide stream fails on
// its fullest records only: whether a row fits depends on its values, and
// cannot be told before they come.
func rowTooBig(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "54000" && strings.HasPrefix(pe.Message, "row is too big") {
		return fmt.Errorf("%w: a PostgreSQL row holds about 8 KB of values (4 to 12 bytes for each integer, number, date or time, and up to 18 for each text or JSON value), "+
			"and one record holds more; remove properties from the stream's JSON schema in the configured catalog, or load the stream into a DuckDB cache, which has no such limit", err)
	}
	return err
}

// insert is Insert, its errors not yet explained.
func (t *txn) insert(ctx context.Context, table string, bt *batch) error {
	qual := t.b.Qualify(table)
	rows, err := t.tx.Query(ctx, `SELECT attname, atttypid::int8, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, qual)
	if err != nil {
		return err
	}
	have := map[string]colType{}
	for rows.Next() {
		var name string
		var ct colType
		if err := rows.Scan(&name, &ct.oid, &ct.name); err != nil {
			return err
		}
		have[name] = ct
	}
	if err := rows.Err(); err != nil {
		return err
	}
	names, types := bt.columns()
	exact := true
	for i, n := range names {
		// The cache's own columns are written as they are into a type of
		// the same kind (a raw id into a varchar(26)).
		own := i >= len(bt.t.Columns)
		if ct, ok := have[n]; ok && !ct.takes(types[i]) && !(own && sendsAs(types[i], ct.oid)) {
			exact = false
		}
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = backend.Quote(n)
	}
	cols := strings.Join(quoted, ", ")
	target := qual
	if !exact {
		target = backend.Quote("_airbyte_copy")
		defs := make([]string, len(names))
		for i := range names {
			defs[i] = quoted[i] + " " + sqlTypes[types[i]]
		}
		if _, err := t.tx.Exec(ctx, "CREATE TEMPORARY TABLE "+target+" ("+strings.Join(defs, ", ")+") ON COMMIT DROP"); err != nil {
			return err
		}
	}
	bufs := net.Buffers(append(append([][]byte{copyHeader}, bt.chunks...), bt.buf, copyTrailer))
	if _, err := t.tx.Conn().PgConn().CopyFrom(ctx, &bufs, "COPY "+target+" ("+cols+") FROM STDIN WITH (FORMAT binary)"); err != nil {
		return err
	}
	if exact {
		return nil
	}
	query, err := t.converted(ctx, bt, target, names, types, quoted, have)
	if err != nil {
		return err
	}
	// The text of a timestamptz is in the session's TimeZone, which the
	// server's configuration sets: a timestamp column (such as an
	// _airbyte_extracted_at made by another tool) would have held the
	// instant's time there instead of in UTC, the cache's zone. The zone
	// is UTC for this statement only.
	var zone string
	if err := t.tx.QueryRow(ctx, "SELECT current_setting('TimeZone')").Scan(&zone); err != nil {
		return err
	}
	if _, err := t.tx.Exec(ctx, "SET LOCAL TimeZone = 'UTC'"); err != nil {
		return err
	}
	if _, err := t.tx.Exec(ctx, "INSERT INTO "+qual+" ("+cols+") "+query); err != nil {
		return err
	}
	if _, err := t.tx.Exec(ctx, "SELECT set_config('TimeZone', $1, true)", zone); err != nil {
		return err
	}
	_, err = t.tx.Exec(ctx, "DROP TABLE "+target)
	return err
}

// converted is the query that converts the rows of the temporary table
// target to the types of the table's columns, have. A column of the
// cache's own is cast by its text. A value of a record's field goes
// through convertFunc's function for its column's type: one that the type
// does not take (an integer beyond an int4, a text longer than a
// varchar(5)) is NULL, and _airbyte_meta notes it, as any value that does
// not fit its column, after the notes the batch wrote. The functions run
// in a subquery, once a value (they are volatile, so it is not merged).
func (t *txn) converted(ctx context.Context, bt *batch, target string, names []string, types []backend.Type, quoted []string, have map[string]colType) (string, error) {
	sel := make([]string, len(names))
	inner := []string{"*"}
	var notes []string
	meta := -1
	for i, n := range names {
		sel[i] = quoted[i]
		if n == backend.ColumnMeta {
			meta = i
		}
		ct, ok := have[n]
		if !ok || ct.takes(types[i]) {
			continue
		}
		if i >= len(bt.t.Columns) {
			if !sendsAs(types[i], ct.oid) { // a varchar(26) takes a raw id as it is
				sel[i] = "CAST(CAST(" + quoted[i] + " AS text) AS " + ct.name + ")"
			}
			continue
		}
		fn, err := t.convertFunc(ctx, ct.name)
		if err != nil {
			return "", err
		}
		// Normalised names are in lower case: this one is no column's.
		sel[i] = backend.Quote("Converted " + strconv.Itoa(i))
		inner = append(inner, fn+"(CAST("+quoted[i]+" AS text)) AS "+sel[i])
		note := appendMeta(nil, nil, []string{bt.t.Columns[i].Field})
		note = note[len(`{"changes":`) : len(note)-1] // the one note, as a JSON array
		notes = append(notes, "CASE WHEN "+quoted[i]+" IS NOT NULL AND "+sel[i]+" IS NULL THEN "+
			"CAST('"+strings.ReplaceAll(string(note), "'", "''")+"' AS jsonb) ELSE CAST('[]' AS jsonb) END")
	}
	if len(notes) > 0 {
		m := backend.Quote(backend.ColumnMeta)
		expr := "jsonb_set(" + m + ", '{changes}', (" + m + " -> 'changes') || " + strings.Join(notes, " || ") + ")"
		if ct, ok := have[backend.ColumnMeta]; ok && !ct.takes(backend.TypeJSON) {
			expr = "CAST(CAST(" + expr + " AS text) AS " + ct.name + ")"
		}
		sel[meta] = expr
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM (SELECT " + strings.Join(inner, ", ") + " FROM " + target + ") AS rows", nil
}

// convertFunc creates, in the session's temporary schema, the function
// that converts a text to the type typ, a column type as format_type
// writes it, and returns its name: it assigns the text to a variable of
// that type, as an INSERT assigns it (a varchar(5) refuses a longer text
// instead of cutting it, as a cast would), and returns NULL if the type
// does not take it. Each call of it is a subtransaction; only the batches
// into a table of types the cache would not choose take that path.
func (t *txn) convertFunc(ctx context.Context, typ string) (string, error) {
	h := fnv.New64a()
	h.Write([]byte(typ))
	name := fmt.Sprintf("pg_temp.airbyte_to_%016x", h.Sum64())
	_, err := t.tx.Exec(ctx, "CREATE OR REPLACE FUNCTION "+name+"(v text) RETURNS "+typ+" LANGUAGE plpgsql AS $airbyte$ "+
		"DECLARE x "+typ+"; BEGIN x := v; RETURN x; EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN RETURN NULL; END $airbyte$")
	return name, err
}

// colType is a column's type in the catalog.
type colType struct {
	oid  int64
	name string
}

// takes reports whether the column takes the batch's values of type t as
// they are: a binary COPY into it writes them, and no value fails it. A
// varchar of a length refuses a longer text.
func (c colType) takes(t backend.Type) bool {
	return sendsAs(t, c.oid) && (c.oid != oidVarchar || c.name == "character varying")
}

// PostgreSQL type OIDs.
const (
	oidBool        = 16
	oidInt8        = 20
	oidText        = 25
	oidFloat8      = 701
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestampTZ = 1184
	oidTimeTZ      = 1266
	oidJSONB       = 3802
)

// sendsAs reports whether the binary form the batch writes for t is what a
// column of type oid reads.
func sendsAs(t backend.Type, oid int64) bool {
	switch t {
	case backend.TypeString:
		return oid == oidText || oid == oidVarchar
	case backend.TypeJSON:
		return oid == oidJSONB
	case backend.TypeInteger:
		return oid == oidInt8
	case backend.TypeNumber:
		return oid == oidFloat8
	case backend.TypeBoolean:
		return oid == oidBool
	case backend.TypeDate:
		return oid == oidDate
	case backend.TypeTimestamp:
		return oid == oidTimestamp
	case backend.TypeTimestampTZ:
		return oid == oidTimestampTZ
	case backend.TypeTime:
		return oid == oidTime
	case backend.TypeTimeTZ:
		return oid == oidTimeTZ
	}
	return false
}

// The start and end of a binary COPY stream: signature, flags and header
// extension length; a field count of -1.
var (
	copyHeader  = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	copyTrailer = []byte{0xff, 0xff}
)

// chunkSize is the size of the blocks COPY data is kept in: a batch grows
// by whole blocks instead of re-copying one ever larger slice, and blocks
// are reused by the next batch.
const chunkSize = 1 << 20

var chunks = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

// batch holds binary COPY rows: the user columns in order, then
// _airbyte_raw_id, _airbyte_extracted_at and _airbyte_meta, so that the
// meta column, which lists the values that did not fit, comes last.
type batch struct {
	t      *backend.Table
	index  map[string]int // field → column
	chunks [][]byte       // full blocks of COPY data
	buf    []byte         // the block being filled
	n      int
	p      fastjson.Parser
	vals   []*fastjson.Value
	// For records too deep for fastjson (see deep.go): the raw JSON of
	// each column's object or array value, and a parser per column for
	// the others.
	raw     [][]byte
	scalars []fastjson.Parser
	// keys and slots remember the previous record's keys in order and
	// their columns (-1: not stored): records of one stream nearly always
	// list their fields in the same order, so a key is matched by one
	// comparison instead of a map lookup.
	keys    []string
	slots   []int
	notes   []string
	line    []byte
	meta    []byte
	scratch []byte
	// key is the column of a single top-level integer or text primary
	// key, -1 if the key is another kind; keyOrder follows its non-NULL
	// values (see backend.KeyOrderer).
	key      int
	curKey   []byte
	keyOrder backend.KeyTracker
}

// copyChunk is how many records each COPY of a transaction carries. A
// batch holds its COPY data in memory, so the chunk bounds the load's
// memory, and the server starts on the first chunk while the next fills.
// Measured on faker users + purchases, 2M records, against one COPY per
// 100,000-record transaction: peak RSS 63 MB instead of 180 MB, and
// 255–264k records/s instead of 229–259k.
const copyChunk = 25_000

// ChunkSize makes the backend a backend.ChunkSizer.
func (b *database) ChunkSize() int { return copyChunk }

// CapCounts makes the backend a backend.CountCapper: a count scans the
// whole table. Of 2M faker users, counting them took 184–355 ms, counting
// up to 50,001 of them 8–14 ms, and Cache.datasets' statement of the
// table 414–613 ms before, 226–379 ms after (paired rounds; the rest is
// the greatest raw id, a scan of the table too).
func (b *database) CapCounts() bool { return true }

func (b *database) NewBatch(t *backend.Table) (backend.Batch, error) {
	idx := make(map[string]int, len(t.Columns))
	for i, c := range t.Columns {
		idx[c.Field] = i
	}
	bt := &batch{t: t, index: idx, vals: make([]*fastjson.Value, len(t.Columns)), key: -1}
	if len(t.PrimaryKey) == 1 && len(t.PrimaryKey[0]) == 1 {
		for i, c := range t.Columns {
			if c.Field == t.PrimaryKey[0][0] && (c.Type == backend.TypeInteger || c.Type == backend.TypeString) {
				bt.key = i
			}
		}
	}
	return bt, nil
}

// columns are the batch's columns in COPY order, with their types.
func (bt *batch) columns() ([]string, []backend.Type) {
	names := make([]string, 0, len(bt.t.Columns)+3)
	types := make([]backend.Type, 0, len(bt.t.Columns)+3)
	for _, c := range bt.t.Columns {
		names, types = append(names, c.Name), append(types, c.Type)
	}
	names = append(names, backend.ColumnRawID, backend.ColumnExtractedAt, backend.ColumnMeta)
	types = append(types, backend.TypeString, backend.TypeTimestampTZ, backend.TypeJSON)
	return names, types
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

// KeyOrder implements backend.KeyOrderer.
func (bt *batch) KeyOrder() (first, last string, increasing bool) {
	if bt.key < 0 {
		return "", "", false
	}
	return bt.keyOrder.KeyOrder()
}

// firstBlock is the size of a batch's first block of COPY data: the
// blocks double up to chunkSize, so that the many small batches of a load
// into hundreds of streams take little memory (with a whole chunk each,
// 1,000 streams held 1 GB of heap).
const firstBlock = 16 << 10

// write appends one COPY row, starting a new block when it does not fit.
func (bt *batch) write(row []byte) {
	if len(bt.buf)+len(row) > cap(bt.buf) {
		next := firstBlock
		if len(bt.buf) > 0 {
			bt.chunks = append(bt.chunks, bt.buf)
			next = min(2*cap(bt.buf), chunkSize)
		}
		switch {
		case len(row) > chunkSize:
			bt.buf = make([]byte, 0, len(row))
		case next == chunkSize:
			bt.buf = *chunks.Get().(*[]byte)
		default:
			bt.buf = make([]byte, 0, max(next, len(row)))
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

func (bt *batch) Add(rawID []byte, rec *protocol.Record) error {
	clear(bt.vals)
	deep := false
	if v, err := bt.p.ParseBytes(rec.Data); err == nil {
		obj, err := v.Object()
		if err != nil {
			return fmt.Errorf("%w: it is %s", errNotObject, v.Type())
		}
		j := 0
		obj.Visit(func(k []byte, v *fastjson.Value) {
			// A member given twice: the first is kept, as DuckDB does.
			if i := bt.slot(j, k); i >= 0 && bt.vals[i] == nil {
				bt.vals[i] = v
			}
			j++
		})
	} else if !tooDeep(err) {
		return fmt.Errorf("%w: %s", errNotObject, shorten(err.Error()))
	} else if err := bt.splitDeep(rec.Data); err != nil {
		return err
	} else {
		deep = true
	}
	bt.notes = bt.notes[:0]
	n := len(bt.t.Columns) + 3
	out := append(bt.line[:0], byte(n>>8), byte(n))
	for i, c := range bt.t.Columns {
		at := len(out)
		var st status
		if deep && bt.raw[i] != nil {
			out, st = appendRaw(append(out, 0, 0, 0, 0), c.Type, bt.raw[i])
		} else {
			out, st = bt.appendValue(append(out, 0, 0, 0, 0), c.Type, bt.vals[i])
		}
		switch st {
		case valid:
			binary.BigEndian.PutUint32(out[at:], uint32(len(out)-at-4))
			if i == bt.key {
				bt.noteKey(c.Type, out[at+4:])
			}
		case misfit:
			bt.notes = append(bt.notes, c.Field)
			fallthrough
		case null:
			out = append(out[:at], 0xff, 0xff, 0xff, 0xff) // length -1
		}
	}
	out = binary.BigEndian.AppendUint32(out, uint32(len(rawID)))
	out = append(out, rawID...)
	out = binary.BigEndian.AppendUint32(out, 8)
	out = binary.BigEndian.AppendUint64(out, uint64((rec.EmittedAt-pgEpochMS)*1000))
	bt.meta = appendMeta(bt.meta[:0], rec.Meta, bt.notes)
	out = binary.BigEndian.AppendUint32(out, uint32(len(bt.meta)+1))
	out = append(out, 1) // jsonb version
	out = append(out, bt.meta...)
	bt.line = out
	bt.write(out)
	bt.n++
	return nil
}

// noteKey follows the order of the key column's values, given in their
// binary form: text compares as bytes (PostgreSQL's deterministic
// collations call two texts equal only when their bytes are), a bigint
// as its big-endian bytes with the sign bit flipped.
func (bt *batch) noteKey(t backend.Type, val []byte) {
	if t == backend.TypeInteger {
		bt.curKey = append(bt.curKey[:0], val...)
		bt.curKey[0] ^= 0x80
		val = bt.curKey
	}
	bt.keyOrder.Note(val)
}

// numberText is the text of a JSON number, valid until the next call.
func (bt *batch) numberText(v *fastjson.Value) string {
	bt.scratch = v.MarshalTo(bt.scratch[:0])
	return unsafeString(bt.scratch)
}

// pgEpochMS is PostgreSQL's epoch, 2000-01-01 UTC, in Unix milliseconds.
const pgEpochMS = 946_684_800_000

// appendMeta writes the _airbyte_meta JSON: the source's own changes, then
// one NULLED change per field that did not fit.
func appendMeta(out []byte, meta *protocol.RecordMeta, notes []string) []byte {
	if (meta == nil || len(meta.Changes) == 0) && len(notes) == 0 {
		return append(out, `{"changes":[]}`...)
	}
	out = append(out, `{"changes":[`...)
	first := true
	add := func(field, change, reason string) {
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, `{"field":`...)
		out = appendJSONString(out, field)
		out = append(out, `,"change":`...)
		out = appendJSONString(out, change)
		out = append(out, `,"reason":`...)
		out = appendJSONString(out, reason)
		out = append(out, '}')
	}
	if meta != nil {
		for _, c := range meta.Changes {
			add(c.Field, string(c.Change), string(c.Reason))
		}
	}
	for _, f := range notes {
		add(f, string(protocol.ChangeNulled), string(protocol.ReasonDestinationTypecastError))
	}
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

// micros is the number of microseconds in the wall-clock time of t since
// 2000-01-01 00:00 (t's own zone when wall, else UTC). A fraction finer
// than the microsecond is cut, as DuckDB's cast cuts it: rounded (as
// PostgreSQL rounds text input), 9999-12-31T23:59:59.9999995Z was stored
// in the year 10000, outside the years a date-time column takes, and the
// two backends held different instants.
func micros(t time.Time, wall bool) int64 {
	sec := t.Unix()
	if wall {
		_, off := t.Zone()
		sec += int64(off)
	}
	return (sec-pgEpochMS/1000)*1_000_000 + int64(t.Nanosecond())/1000
}

// timeOfDay is the microseconds since midnight of t's wall clock, a
// fraction finer than the microsecond cut as micros cuts it (rounded,
// 23:59:59.9999995 was 24:00:00).
func timeOfDay(t time.Time) int64 {
	h, m, s := t.Clock()
	return int64(h*3600+m*60+s)*1_000_000 + int64(t.Nanosecond())/1000
}

// maxTimeZoneSecs is the largest UTC offset a timetz holds (15:59).
const maxTimeZoneSecs = (15*60 + 59) * 60

// status is what became of one value.
type status int

const (
	valid  status = iota // written
	null                 // absent or JSON null
	misfit               // does not fit its column: NULL, with a note
)

// appendValue appends the binary form of one value of a column of type t.
// Unless the value is valid, what it appended is to be dropped.
func (bt *batch) appendValue(out []byte, t backend.Type, v *fastjson.Value) ([]byte, status) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return out, null
	}
	switch t {
	case backend.TypeJSON:
		return appendJSONB(out, v)
	case backend.TypeString:
		// A string as it is, another value as its JSON text; text cannot
		// hold a NUL. Here rather than in a function of its own: most
		// values are text, and the call showed in the encoder's time.
		start := len(out)
		if v.Type() == fastjson.TypeString {
			out = append(out, v.GetStringBytes()...)
		} else {
			out = v.MarshalTo(out)
		}
		if bytes.IndexByte(out[start:], 0) >= 0 {
			return out, misfit
		}
		return out, valid
	case backend.TypeInteger:
		return bt.appendInt8(out, v)
	case backend.TypeNumber:
		return bt.appendFloat8(out, v)
	case backend.TypeBoolean:
		return appendBool(out, v)
	}
	if v.Type() != fastjson.TypeString {
		return out, misfit
	}
	// Only valid until the next parse; time.Parse keeps it only in errors,
	// which are dropped.
	return appendTemporal(out, t, unsafeString(v.GetStringBytes()))
}

// appendJSONB appends any JSON value as jsonb, which cannot hold a NUL.
// A string on its own is written here: v.Type() has unescaped it, and
// fastjson's MarshalTo quotes an unescaped string that holds a control
// character as Go does (\x01, \a, \v), which is no JSON: jsonb refused
// it and failed the whole COPY, losing the batch for one value.
func appendJSONB(out []byte, v *fastjson.Value) ([]byte, status) {
	out = append(out, 1) // jsonb version
	if v.Type() == fastjson.TypeString {
		s := v.GetStringBytes()
		if bytes.IndexByte(s, 0) >= 0 {
			return out, misfit
		}
		return appendJSONString(out, unsafeString(s)), valid
	}
	start := len(out)
	out = v.MarshalTo(out)
	if escapesNUL(out[start:]) {
		return out, misfit
	}
	return out, valid
}

// escapesNUL reports whether the JSON text js writes a NUL (\u0000), which
// jsonb refuses. A backslash written as \\ before u0000 is no NUL: that
// string holds the six characters \u0000, as a Windows path or a JSON
// text in a string may, and jsonb takes it.
func escapesNUL(js []byte) bool {
	for i := bytes.IndexByte(js, '\\'); i >= 0; {
		if bytes.HasPrefix(js[i+1:], []byte("u0000")) {
			return true
		}
		// Past the escaped character: a backslash, a quote, a letter.
		i += 2
		if i >= len(js) {
			return false
		}
		j := bytes.IndexByte(js[i:], '\\')
		if j < 0 {
			return false
		}
		i += j
	}
	return false
}

// The conversions below follow the cache's rule for numbers and booleans
// (see package cache), which DuckDB's casts implement on that backend:
// the same values load, the same are NULL with a note.

// appendInt8 appends a whole number written as one, a JSON integer or a
// string holding one, as a bigint.
func (bt *batch) appendInt8(out []byte, v *fastjson.Value) ([]byte, status) {
	var n int64
	var err error
	switch v.Type() {
	case fastjson.TypeString:
		s := unsafeString(v.GetStringBytes())
		n, err = strconv.ParseInt(s, 10, 64)
		// Only the integer's own spelling: not "007" nor "+5".
		if bt.scratch = strconv.AppendInt(bt.scratch[:0], n, 10); err == nil && string(bt.scratch) != s {
			return out, misfit
		}
	case fastjson.TypeNumber:
		s := bt.numberText(v)
		if strings.ContainsAny(s, ".eE") { // 1.0 and 1e3 are written as fractions
			return out, misfit
		}
		n, err = strconv.ParseInt(s, 10, 64)
	default:
		return out, misfit
	}
	if err != nil {
		return out, misfit
	}
	return binary.BigEndian.AppendUint64(out, uint64(n)), valid
}

// appendFloat8 appends a number, or a string holding one, that is finite
// as a double precision.
func (bt *batch) appendFloat8(out []byte, v *fastjson.Value) ([]byte, status) {
	var f float64
	var err error
	switch v.Type() {
	case fastjson.TypeString:
		f, err = parseDecimal(unsafeString(v.GetStringBytes()))
	case fastjson.TypeNumber:
		text := bt.numberText(v)
		f, err = strconv.ParseFloat(text, 64)
		if f == 0 && !strings.ContainsAny(text, ".eE") {
			f = 0 // the integer -0 is 0, as DuckDB's read_json gives it
		}
	default:
		return out, misfit
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return out, misfit
	}
	return binary.BigEndian.AppendUint64(out, math.Float64bits(f)), valid
}

// parseDecimal reads a number held in a string as DuckDB's cast to DOUBLE
// does: white space around it, a sign, digits with single underscores
// between them, a fraction and an exponent; not Go's hexadecimal floats.
func parseDecimal(s string) (float64, error) {
	s = strings.Trim(s, " \t\n\v\f\r")
	if strings.ContainsAny(s, "xX") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(s, 64)
}

// appendBool appends true or false: JSON's, 1 and 0, or a string DuckDB
// reads as a boolean (true, t, yes, y, 1 and false, f, no, n, 0, in any
// case).
func appendBool(out []byte, v *fastjson.Value) ([]byte, status) {
	var word string
	switch v.Type() {
	case fastjson.TypeTrue:
		return append(out, 1), valid
	case fastjson.TypeFalse:
		return append(out, 0), valid
	case fastjson.TypeString:
		word = strings.ToLower(unsafeString(v.GetStringBytes()))
	case fastjson.TypeNumber:
		// read_json gives DuckDB -0 as 0.
		if n, err := v.Int64(); err == nil && (n == 0 || n == 1) && !strings.ContainsAny(v.String(), ".eE") {
			return append(out, byte(n)), valid
		}
		return out, misfit
	}
	switch word {
	case "true", "t", "yes", "y", "1":
		return append(out, 1), valid
	case "false", "f", "no", "n", "0":
		return append(out, 0), valid
	}
	return out, misfit
}

// appendTemporal appends the date, timestamp or time column value that s
// spells.
func appendTemporal(out []byte, t backend.Type, s string) ([]byte, status) {
	switch t {
	case backend.TypeDate:
		// A date-time's date is the one it spells, in its own zone, as
		// both databases cast it.
		st, ok := parseStamp(s, false, false)
		if !ok || st.year < 0 || st.year > 9999 {
			return out, misfit
		}
		d := time.Date(st.year, time.Month(st.month), st.day, 0, 0, 0, 0, time.UTC)
		return binary.BigEndian.AppendUint32(out, uint32(int32(d.Unix()/86400-pgEpochMS/86_400_000))), valid
	case backend.TypeTimestampTZ:
		ts, ok := parseTimestamp(s, true)
		if !ok {
			return out, misfit
		}
		// The years 0000 to 9999 in UTC too (see package cache): a
		// date-time at either end of them may fall outside in UTC.
		if y := ts.UTC().Year(); y < 0 || y > 9999 {
			return out, misfit
		}
		return binary.BigEndian.AppendUint64(out, uint64(micros(ts, false))), valid
	case backend.TypeTimestamp:
		// The years 0000 to 9999 of the wall clock (24:00:00 of the
		// last day is in the next).
		ts, ok := parseTimestamp(s, false)
		if y := ts.Year(); !ok || y < 0 || y > 9999 {
			return out, misfit
		}
		return binary.BigEndian.AppendUint64(out, uint64(micros(ts, true))), valid
	case backend.TypeTime, backend.TypeTimeTZ:
		return appendTime(out, t, s)
	}
	return out, misfit
}

// appendTime appends a time, or a timetz with its zone.
func appendTime(out []byte, t backend.Type, s string) ([]byte, status) {
	us, off, ok := parseTime(s, t == backend.TypeTimeTZ)
	if !ok {
		return out, misfit
	}
	out = binary.BigEndian.AppendUint64(out, uint64(us))
	if t == backend.TypeTime {
		return out, valid
	}
	if off > maxTimeZoneSecs || off < -maxTimeZoneSecs {
		return out, misfit
	}
	// timetz counts its zone in seconds west of UTC.
	return binary.BigEndian.AppendUint32(out, uint32(int32(-off))), valid
}

// unsafeString views b as a string without copying, for parsers that do not
// keep their input.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// connParams are the parameters of a connection string that pgx or the
// cache reads itself, and so never sends to the server: pgconn's, pgx's
// and pgxpool's, and the cache's schema and table_prefix.
var connParams = []string{
	"host", "port", "dbname", "database", "user", "password", "passfile", "connect_timeout",
	"sslmode", "sslkey", "sslcert", "sslcertmode", "sslrootcert", "sslnegotiation", "sslpassword", "sslsni",
	"krbspn", "krbsrvname", "target_session_attrs", "service", "servicefile", "min_protocol_version", "max_protocol_version",
	"channel_binding", "require_auth",
	"statement_cache_capacity", "description_cache_capacity", "default_query_exec_mode",
	"pool_max_conns", "pool_min_conns", "pool_min_idle_conns", "pool_max_conn_lifetime", "pool_max_conn_lifetime_jitter",
	"pool_max_conn_idle_time", "pool_health_check_period", "pool_ping_timeout",
	"schema", "table_prefix",
}

// libpqOnly are libpq's connection parameters that pgx does not read: it
// sends them to the server as settings, which refuses each one (none is a
// setting a connection may set; TestSettingsCheckedBeforeConnecting shows
// the server's refusal).
var libpqOnly = []string{
	"hostaddr", "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
	"gssencmode", "gsslib", "gssdelegation", "sslcompression", "sslcrl", "sslcrldir",
	"ssl_min_protocol_version", "ssl_max_protocol_version", "requirepeer", "load_balance_hosts", "sslkeylogfile", "scram_client_key", "scram_server_key",
}

// checkSettings refuses, before anything connects, the parameters of a
// connection string that pgx would send to the server as settings and
// that the server would refuse, where that can be told without asking it:
// libpq's parameters that pgx does not read, and a name one or two letters
// off a parameter pgx or the cache reads (sslmod for sslmode, shema for
// schema), which no server setting is. Any other name, such as work_mem
// or a custom setting (myext.option), goes to the server, which judges it.
func checkSettings(params map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if strings.Contains(k, ".") {
			continue // a custom setting: the server takes any such name
		}
		if slices.Contains(libpqOnly, k) {
			return fmt.Errorf("postgres: the connection string's parameter %s is libpq's, which pgx, the driver, does not read: "+
				"it would go to the server as a setting, which refuses it; remove it", k)
		}
		for _, p := range connParams {
			if d := spelling.Distance(k, p); d > 0 && (d == 1 || d == 2 && len(p) > 5) {
				return fmt.Errorf("postgres: the connection string's parameter %q is neither a connection parameter nor a server setting; did you mean %s? Check its spelling", k, p)
			}
		}
	}
	return nil
}
