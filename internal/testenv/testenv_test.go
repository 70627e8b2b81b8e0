package testenv_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/x/goairbyte/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestDockerPing(t *testing.T) {
	cli := testenv.Docker(t)
	ping, err := cli.Ping(context.Background(), client.PingOptions{})
	if err != nil {
		t.Fatalf("ping: %v", err)
	}
	if ping.APIVersion == "" {
		t.Fatal("the engine reported no API version")
	}
	// Negotiation must have settled on a version the engine speaks.
	if got := cli.ClientVersion(); versions.GreaterThan(got, ping.APIVersion) {
		t.Errorf("client speaks API %s, engine only %s", got, ping.APIVersion)
	}
}

func TestPostgres(t *testing.T) {
	ctx := context.Background()
	dsn1 := testenv.Postgres(t)
	dsn2 := testenv.Postgres(t)
	if dsn1 == dsn2 {
		t.Fatalf("two calls returned the same database %s", dsn1)
	}
	conn, err := pgx.Connect(ctx, dsn1)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn1, err)
	}
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	var tables int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("fresh database has %d tables (%v), want 0", tables, err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	// The second database is separate: it does not see the table.
	conn2, err := pgx.Connect(ctx, dsn2)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn2, err)
	}
	defer conn2.Close(ctx)
	if err := conn2.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("second database has %d tables (%v), want 0", tables, err)
	}
}

func TestPostgresDatabaseDroppedAfterTest(t *testing.T) {
	var dsn string
	t.Run("inner", func(t *testing.T) {
		dsn = testenv.Postgres(t)
		// Leave a session open on purpose: the drop must still succeed.
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn
	})
	if dsn == "" {
		t.Skip("inner test skipped")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", db).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %s still exists after its test ended", db)
	}
}

const helloPkg = "./internal/testenv/testdata/hello"

func TestBuildBinary(t *testing.T) {
	bin := testenv.BuildBinary(t, helloPkg)
	if again := testenv.BuildBinary(t, helloPkg); again != bin {
		t.Errorf("second build gave %s, want the cached %s", again, bin)
	}
	cmd := exec.Command(bin, "x", "y")
	cmd.Stdin = strings.NewReader("in")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "hello args=x,y stdin=in\n"; got != want {
		t.Fatalf("output %q, want %q", got, want)
	}
	// Static: no ELF interpreter, so it runs in a FROM scratch image.
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b[:min(len(b), 4096)]), "ld-linux") {
		t.Fatal("binary is dynamically linked")
	}
}

// TestImageAndRegistry builds a scratch image, runs it, pushes it to a
// private registry, deletes it locally, pulls it back and runs it again.
func TestImageAndRegistry(t *testing.T) {
	cli := testenv.Docker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const image = "goairbyte-testenv/hello:test"
	testenv.BuildImage(t, cli, helloPkg, image)
	t.Cleanup(func() { cli.ImageRemove(context.Background(), image, client.ImageRemoveOptions{Force: true}) })

	res := testenv.RunContainer(ctx, t, cli, testenv.ContainerRun{Image: image, Args: []string{"a"}, Stdin: []byte("piped")})
	if got, want := string(res.Stdout), "hello args=a stdin=piped\n"; got != want || res.ExitCode != 0 {
		t.Fatalf("container printed %q (exit %d, stderr %q), want %q", got, res.ExitCode, res.Stderr, want)
	}

	reg := testenv.Registry(t)
	remote := reg + "/goairbyte/hello:test"
	if _, err := cli.ImageTag(ctx, client.ImageTagOptions{Source: image, Target: remote}); err != nil {
		t.Fatal(err)
	}
	push, err := cli.ImagePush(ctx, remote, client.ImagePushOptions{RegistryAuth: "e30="})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if err := push.Wait(ctx); err != nil {
		t.Fatalf("push to %s: %v", reg, err)
	}
	if _, err := cli.ImageRemove(ctx, remote, client.ImageRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.ImageRemove(context.Background(), remote, client.ImageRemoveOptions{Force: true}) })
	pull, err := cli.ImagePull(ctx, remote, client.ImagePullOptions{})
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	if err := pull.Wait(ctx); err != nil {
		t.Fatalf("pull from %s: %v", reg, err)
	}
	res = testenv.RunContainer(ctx, t, cli, testenv.ContainerRun{Image: remote})
	if got, want := string(res.Stdout), "hello args= stdin=\n"; got != want {
		t.Fatalf("pulled image printed %q, want %q", got, want)
	}
}
