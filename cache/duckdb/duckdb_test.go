package duckdb_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/cachetest"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/internal/testenv"
)

func TestMain(m *testing.M) {
	cachetest.ChildMain(openPath)
	os.Exit(m.Run())
}

func openPath(ctx context.Context, path string) (cache.Cache, error) { return duckdb.New(ctx, path) }

func open(t *testing.T) cache.Cache {
	c, err := duckdb.New(context.Background(), filepath.Join(t.TempDir(), "c.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSuite(t *testing.T) { cachetest.Run(t, open) }

func TestFaker(t *testing.T) {
	cachetest.RunFaker(t, open, &cachetest.Faker{Bin: testenv.BuildBinary(t, "./cmd/source-faker"), Dir: t.TempDir()})
}

func TestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test is long")
	}
	cachetest.Kill(t, filepath.Join(t.TempDir(), "k.duckdb"), openPath, testenv.BuildBinary(t, "./cmd/source-faker"))
}

// A second process opening a file in use gets a clear, typed error.
func TestInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.duckdb")
	c, err := duckdb.New(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if os.Getenv("DUCKDB_INUSE_CHILD") != "" {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestInUseChild$")
	cmd.Env = append(os.Environ(), "DUCKDB_INUSE_PATH="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func TestInUseChild(t *testing.T) {
	path := os.Getenv("DUCKDB_INUSE_PATH")
	if path == "" {
		t.Skip("run by TestInUse")
	}
	_, err := duckdb.New(context.Background(), path)
	var iu *duckdb.InUseError
	if !errors.As(err, &iu) {
		t.Fatalf("want an InUseError, got %v", err)
	}
	t.Log(err)
}

func TestNames(t *testing.T) {
	if err := duckdb.ValidateName("my cache"); err == nil {
		t.Fatal("a name with a space was accepted")
	}
	if err := duckdb.ValidateName("ok_name_1"); err != nil {
		t.Fatal(err)
	}
	if n := duckdb.NewName(); duckdb.ValidateName(n) != nil {
		t.Fatalf("generated name %q is not valid", n)
	}
}

func BenchmarkLoadFakerDuckDB(b *testing.B) {
	bin := testenv.BuildBinary(b, "./cmd/source-faker")
	open := func(b *testing.B) cache.Cache {
		c, err := duckdb.New(context.Background(), filepath.Join(b.TempDir(), "bench.duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	cachetest.BenchmarkFaker(b, open, &cachetest.Faker{Bin: bin, Dir: b.TempDir()}, 1_000_000)
}
