package testenv

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PgBouncer starts a PgBouncer of t's own in front of dsn's server (a DSN
// from Postgres) in pool mode mode ("session", "transaction" or
// "statement") and returns the DSN of the same database through it. It
// listens on a free 127.0.0.1 port, trusts every client and logs in to the
// server as dsn's user; it is stopped when t ends. As root it runs as the
// "postgres" OS user, since PgBouncer refuses root.
//
// Without a pgbouncer program (apt-get install pgbouncer; .ci/run installs
// it) the test is skipped, or fails when GOAIRBYTE_REQUIRE_POSTGRES=1.
func PgBouncer(t testing.TB, dsn, mode string) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/pgbouncer"); serr != nil {
			unavailable(t, RequirePostgresEnv, "testenv: no pgbouncer program on PATH or in /usr/sbin (apt-get install pgbouncer)")
		}
		bin = "/usr/sbin/pgbouncer"
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	prefix, pgUser, err := asPostgresUser()
	if err != nil {
		unavailable(t, RequirePostgresEnv, "testenv: %v", err)
	}
	// Not t.TempDir: its parent is closed to the postgres user.
	dir, err := os.MkdirTemp("", "goairbyte-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	server := fmt.Sprintf("host=%s port=%d dbname=%s user=%s", cfg.Host, cfg.Port, cfg.Database, cfg.User)
	if cfg.Password != "" {
		server += " password=" + cfg.Password
	}
	ini := fmt.Sprintf(`[databases]
%s = %s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = %s
max_client_conn = 200
default_pool_size = 20
logfile = %s
`, cfg.Database, server, port, filepath.Join(dir, "users.txt"), mode, filepath.Join(dir, "pgbouncer.log"))
	files := map[string]string{"pgbouncer.ini": ini, "users.txt": strconv.Quote(cfg.User) + ` ""` + "\n"}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if pgUser != nil {
		uid, _ := strconv.Atoi(pgUser.Uid)
		gid, _ := strconv.Atoi(pgUser.Gid)
		for _, p := range []string{dir, filepath.Join(dir, "pgbouncer.ini"), filepath.Join(dir, "users.txt")} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	argv := append(append([]string{}, prefix...), bin, filepath.Join(dir, "pgbouncer.ini"))
	cmd := exec.Command(argv[0], argv[1:]...)
	// A process group of its own, stopped whole (runuser and pgbouncer)
	// when t ends, or by a watcher when the test binary dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: starting pgbouncer: %v", err)
	}
	pgid := cmd.Process.Pid
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
	})
	if err := afterExit(`kill -TERM -- -"$1" 2>/dev/null`, dir, strconv.Itoa(pgid)); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(15 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			t.Fatalf("testenv: pgbouncer ended before it listened on %s; its output:\n%s%s", addr, stderr.Bytes(), log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: pgbouncer does not listen on %s after 15 s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	u := url.URL{Scheme: "postgres", User: url.User(cfg.User), Host: addr, Path: "/" + cfg.Database, RawQuery: "sslmode=disable"}
	return u.String()
}
