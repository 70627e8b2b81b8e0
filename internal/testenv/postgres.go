package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres returns the DSN of a fresh, empty database that belongs to t
// alone; the database is dropped when t ends.
//
// The server is GOAIRBYTE_TEST_POSTGRES_DSN when that is set (its user must
// be allowed to CREATE DATABASE). Otherwise testenv starts one throwaway
// server per test binary, the first time it is needed: initdb and pg_ctl
// (from PATH or /usr/lib/postgresql/*/bin) in a new temporary directory,
// trust authentication, listening only on a free 127.0.0.1 port. When the
// process runs as root, both run as the "postgres" OS user, because
// PostgreSQL refuses to run as root. The server is stopped by Main/Teardown,
// or by its reaper when the test binary dies.
//
// When no server can be had, the test is skipped — or fails when
// GOAIRBYTE_REQUIRE_POSTGRES=1.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := PostgresServer(t)
	name := databaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := adminExec(ctx, admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testenv: creating database %s on the test server: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE (PostgreSQL 13+) ends sessions a test left open, so a
		// leaked pool never leaves a database behind.
		if err := adminExec(ctx, admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: dropping database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(admin, name)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return dsn
}

// PostgresServer returns the admin DSN (its "postgres" database) of the
// server Postgres makes databases on, starting it as Postgres does. Given
// to a child process of the test binary as PostgresDSNEnv, it makes the
// child's Postgres use the same server instead of starting one of its own.
func PostgresServer(t testing.TB) string {
	t.Helper()
	admin, err := postgresServer()
	if err != nil {
		unavailable(t, RequirePostgresEnv, "testenv: no PostgreSQL: %v", err)
	}
	return admin
}

var dbSeq atomic.Int64

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// databaseName makes a unique, legal and still recognisable database name
// for a test: its sanitised name, the process id and a counter.
func databaseName(test string) string {
	base := strings.Trim(nonIdent.ReplaceAllString(strings.ToLower(test), "_"), "_")
	if len(base) > 30 {
		base = base[:30]
	}
	return fmt.Sprintf("t_%s_%d_%d", base, os.Getpid(), dbSeq.Add(1))
}

func adminExec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// withDatabase returns dsn pointing at database db instead.
func withDatabase(dsn, db string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parsing %s: %w", PostgresDSNEnv, err)
		}
		u.Path = "/" + db
		return u.String(), nil
	}
	// keyword=value form: a later keyword overrides an earlier one.
	return dsn + " dbname=" + db, nil
}

var (
	pgOnce  sync.Once
	pgAdmin string
	pgErr   error
)

// postgresServer returns an admin DSN (to the "postgres" database) of the
// server shared by this test binary, starting it on first use.
func postgresServer() (string, error) {
	pgOnce.Do(func() {
		if dsn := os.Getenv(PostgresDSNEnv); dsn != "" {
			pgAdmin = dsn
			return
		}
		pgAdmin, pgErr = startPostgres()
	})
	return pgAdmin, pgErr
}

// findPostgresBin returns the directory holding initdb and pg_ctl.
func findPostgresBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	// Debian keeps them off PATH, one directory per major version; the
	// newest wins.
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("initdb and pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin; install PostgreSQL (apt-get install postgresql) or set " + PostgresDSNEnv)
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// freePort asks the kernel for a free 127.0.0.1 TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// asPostgresUser returns the command prefix that runs a PostgreSQL tool:
// as root, through runuser as the "postgres" OS user; otherwise as
// ourselves.
func asPostgresUser() ([]string, *user.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, nil, errors.New("running as root but there is no \"postgres\" OS user to run the server as (PostgreSQL refuses root); install the postgresql package or set " + PostgresDSNEnv)
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		return nil, nil, errors.New("running as root and runuser is not found; cannot start PostgreSQL as the postgres user")
	}
	return []string{runuser, "-u", "postgres", "--"}, u, nil
}

func startPostgres() (string, error) {
	bin, err := findPostgresBin()
	if err != nil {
		return "", err
	}
	prefix, pgUser, err := asPostgresUser()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "goairbyte-pg-")
	if err != nil {
		return "", err
	}
	if pgUser != nil {
		uid, _ := strconv.Atoi(pgUser.Uid)
		gid, _ := strconv.Atoi(pgUser.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	data := filepath.Join(dir, "data")
	logFile := filepath.Join(dir, "server.log")
	run := func(name string, args ...string) error {
		argv := append(append(append([]string{}, prefix...), filepath.Join(bin, name)), args...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		// A new process group: a ^C meant for `go test` must not kill the
		// server before Teardown stops it in order.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	// The port is free now; another process could take it before the
	// server binds it, so try a few.
	var port int
	for attempt := 0; ; attempt++ {
		port, err = freePort()
		if err != nil {
			os.RemoveAll(dir)
			return "", err
		}
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
		err = run("pg_ctl", "-D", data, "-l", logFile, "-o", opts, "-w", "-t", "60", "start")
		if err == nil {
			break
		}
		if attempt == 2 {
			log, _ := os.ReadFile(logFile)
			os.RemoveAll(dir)
			return "", fmt.Errorf("%v\nserver log:\n%s", err, log)
		}
	}
	stop := func() {
		_ = run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	}
	if err := startReaper(prefix, bin, data, dir); err != nil {
		stop()
		return "", err
	}
	atExit(stop)
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), nil
}

// startReaper starts a tiny shell process, in its own process group, that
// waits for this test binary to exit and then stops the server and removes
// its directory. It covers the exits Teardown never sees: a test binary
// killed by `go test -timeout`, by a signal, or whose package has no
// TestMain. After a normal Teardown it finds nothing left to do.
func startReaper(prefix []string, bin, data, dir string) error {
	args := append([]string{data}, prefix...)
	args = append(args, filepath.Join(bin, "pg_ctl"), "-D", data)
	return afterExit(`if [ -d "$1" ]; then shift; "$@" -m immediate stop >/dev/null 2>&1; fi
rm -rf "$0"`, dir, args...)
}

// afterExit runs the shell script (with $0 = arg0 and $1... = args) once
// this process has exited, however it exits. The watcher is a separate
// process in its own process group, so a ^C or a kill of the test binary
// does not take it along.
func afterExit(script, arg0 string, args ...string) error {
	// The watcher's $1 is our pid; the script sees its own $1... after shift.
	full := `pid=$1; shift; while kill -0 "$pid" 2>/dev/null; do sleep 1; done
` + script
	argv := append([]string{"-c", full, arg0, strconv.Itoa(os.Getpid())}, args...)
	cmd := exec.Command("/bin/sh", argv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting a clean-up watcher: %w", err)
	}
	// Reap it when it ends so it never lingers as a zombie of ours.
	go cmd.Wait()
	return nil
}

// PostgresTransactions is the number of transactions the server counted in
// dsn's database, once every other session of it has ended: a session
// reports its counts when it ends, so the caches that ran them must be
// closed.
func PostgresTransactions(t *testing.T, dsn string) int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for deadline := time.Now().Add(30 * time.Second); ; {
		var others int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`).Scan(&others); err != nil {
			t.Fatal(err)
		}
		if others == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d other sessions of the database still open", others)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var n int64
	if err := conn.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// EndLockSessions ends the sessions that hold session advisory locks in
// dsn's database, as an administrator or a cut connection ends them, and
// waits until they are gone: the sessions of the cache's locks of loads
// and Writes, when no DDL runs. It reports whether it ended any, failing
// t with Error, not Fatal, as it may run inside a load's iterator, which
// must return for the load to end.
func EndLockSessions(t testing.TB, dsn string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Error(err)
		return false
	}
	defer conn.Close(ctx)
	var asked, ended int
	err = conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE pg_terminate_backend(pid, 60000)) FROM (SELECT DISTINCT pid FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS holders`).Scan(&asked, &ended)
	if err != nil || asked == 0 || ended != asked {
		t.Errorf("ending the sessions that hold locks: %v; %d of %d ended", err, ended, asked)
		return false
	}
	return true
}
