package goairbyte_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/source"
)

// PyAirbyte's directory variables (its airbyte/constants.py), which a
// program ported from it keeps in its environment.
const (
	projectDirVar = "AIRBYTE_PROJECT_DIR"
	cacheRootVar  = "AIRBYTE_CACHE_ROOT"
	installDirVar = "AIRBYTE_INSTALL_DIR"
	tempDirVar    = "AIRBYTE_TEMP_DIR"
)

// airbyteDirsChildEnv names, in a child of
// TestDefaultEnvironmentReadsAirbyteDirs, the working directory it runs
// in; TestMain leaves the default Environment's cache directory alone there.
const airbyteDirsChildEnv = "GOAIRBYTE_AIRBYTEDIRS_WORK"

// unsetAirbyteDirs clears PyAirbyte's directory variables for the test (not
// parallel: it sets them), so that a developer's own do not count.
func unsetAirbyteDirs(t *testing.T) {
	for _, v := range []string{projectDirVar, cacheRootVar, installDirVar, tempDirVar} {
		t.Setenv(v, "")
	}
}

// cacheFile is the file of the DuckDB cache c.
func cacheFile(t *testing.T, c *cache.Cache) string {
	t.Helper()
	var file string
	if err := c.DB().QueryRowContext(context.Background(), "SELECT path FROM duckdb_databases() WHERE database_name = current_database()").Scan(&file); err != nil {
		t.Fatal(err)
	}
	return file
}

// readFaker reads source-faker (in process) with env and no cache, and
// returns the file of the cache the read went into.
func readFaker(t *testing.T, env *goairbyte.Environment) string {
	t.Helper()
	ctx := context.Background()
	src, err := goairbyte.GetSource(ctx, "source-faker", connector.WithEnvironment(env),
		connector.WithConfig(map[string]any{"count": 5, "seed": 1}), connector.WithStreams("users"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := src.Read(ctx, source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Cache().Close() })
	if n := countIn(t, res.Cache(), "users"); n != 5 {
		t.Fatalf("the cache has %d users, want 5", n)
	}
	return cacheFile(t, res.Cache())
}

// TestAirbyteCacheRoot: an Environment's default cache is in
// $AIRBYTE_CACHE_ROOT, else in $AIRBYTE_PROJECT_DIR/.cache, as the
// variables were when it was made; SetCacheDir still wins. NewLocalCache
// given no directory uses the cache root too.
func TestAirbyteCacheRoot(t *testing.T) {
	unsetAirbyteDirs(t)
	root, project, later, moved := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	t.Chdir(t.TempDir()) // where the caches would go without the variables
	defaultCache := func(dir string) string { return filepath.Join(dir, "default_cache", "default_cache.duckdb") }
	want := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: the read went into %s, want %s", what, got, want)
		}
	}

	t.Setenv(cacheRootVar, root)
	t.Setenv(projectDirVar, project)
	want("AIRBYTE_CACHE_ROOT", readFaker(t, goairbyte.NewEnvironment()), defaultCache(root))

	t.Setenv(cacheRootVar, "") // empty is unset
	env := goairbyte.NewEnvironment()
	want("AIRBYTE_PROJECT_DIR", readFaker(t, env), defaultCache(filepath.Join(project, ".cache")))

	// Read when the Environment was made, not at each use.
	t.Setenv(projectDirVar, later)
	want("AIRBYTE_PROJECT_DIR changed after the Environment was made", readFaker(t, env), defaultCache(filepath.Join(project, ".cache")))

	env.SetCacheDir(moved)
	want("SetCacheDir", readFaker(t, env), defaultCache(moved))
	if entries, err := os.ReadDir(later); err != nil || len(entries) != 0 {
		t.Errorf("the later project directory has %v (%v)", entries, err)
	}

	t.Setenv(cacheRootVar, root)
	c, err := goairbyte.NewLocalCache(context.Background(), "mine", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want("NewLocalCache with no directory", cacheFile(t, c), filepath.Join(root, "mine", "mine.duckdb"))
}

// TestDefaultEnvironmentReadsAirbyteDirs: the default Environment, made
// at the import of the package, has its default cache in
// AIRBYTE_CACHE_ROOT, ~ expanded: goairbyte.DefaultCache and a Read given
// no cache use it, and the working directory gets no .cache. A child
// process, as it needs the default Environment as a program has it.
func TestDefaultEnvironmentReadsAirbyteDirs(t *testing.T) {
	if dir := os.Getenv(airbyteDirsChildEnv); dir != "" {
		defaultEnvironmentReadsAirbyteDirs(t, dir)
		return
	}
	t.Parallel()
	work, home := t.TempDir(), t.TempDir()
	passInChild(t, airbyteDirsChildEnv+"="+work, "HOME="+home, cacheRootVar+"=~/airbyte-cache", projectDirVar+"=")
	if _, err := os.Stat(filepath.Join(home, "airbyte-cache", "default_cache", "default_cache.duckdb")); err != nil {
		t.Fatalf("the child left no default cache in AIRBYTE_CACHE_ROOT: %v", err)
	}
	if entries, err := os.ReadDir(work); err != nil || len(entries) != 0 {
		t.Fatalf("the child's working directory has %v (%v)", entries, err)
	}
}

func defaultEnvironmentReadsAirbyteDirs(t *testing.T, work string) {
	c := defaultCacheFrom(t, work, filepath.Join(os.Getenv("HOME"), "airbyte-cache", "default_cache", "default_cache.duckdb"))
	if got := readFaker(t, goairbyte.DefaultEnvironment()); got != cacheFile(t, c) {
		t.Fatalf("a Read with no cache went into %s, not the default cache %s", got, cacheFile(t, c))
	}
}

// TestAirbyteInstallDir: a Python connector given no WithInstallRoot gets
// its virtualenv in AIRBYTE_INSTALL_DIR, else in AIRBYTE_PROJECT_DIR, not
// in the working directory; WithInstallRoot still wins. The variable, unlike
// the option, does not refuse a connector that runs otherwise.
func TestAirbyteInstallDir(t *testing.T) {
	testenv.NeedPython(t)
	unsetAirbyteDirs(t)
	ctx := context.Background()
	pkg := testenv.PythonPackage(t, "0.1.0")
	faker := testenv.BuildBinary(t, "./cmd/source-faker") // from the module's directory
	install, project, work := t.TempDir(), t.TempDir(), t.TempDir()
	t.Chdir(work) // where the venv would go without the variables
	t.Setenv(installDirVar, install)
	t.Setenv(projectDirVar, project)
	env := goairbyte.NewEnvironment()
	pytest := func(env *goairbyte.Environment, opts ...connector.Option) *goairbyte.Source {
		t.Helper()
		src, err := goairbyte.GetSource(ctx, "source-pytest", append([]connector.Option{connector.WithEnvironment(env), connector.WithPipURL(pkg),
			connector.WithPython(testenv.SystemPython), connector.WithLogDir(t.TempDir()), connector.WithConfig(map[string]any{"count": 3})}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	n := 0
	for _, err := range pytest(env).Records(ctx, "items") {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("%d records, want 3", n)
	}
	if _, err := os.Stat(filepath.Join(install, ".venv-source-pytest", "bin", "source-pytest")); err != nil {
		t.Fatalf("no venv in AIRBYTE_INSTALL_DIR: %v", err)
	}
	for _, dir := range []string{project, work} {
		if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
			t.Fatalf("%s has %v (%v)", dir, entries, err)
		}
	}

	// Where a connector not installed is looked for: AIRBYTE_PROJECT_DIR
	// alone, and WithInstallRoot over both.
	notInstalled := func(src *goairbyte.Source, root string) {
		t.Helper()
		err := src.Check(ctx)
		var nie *executor.NotInstalledError
		if want := "entry point " + filepath.Join(root, ".venv-source-pytest", "bin", "source-pytest"); !errors.As(err, &nie) || nie.Missing != want {
			t.Fatalf("want a *NotInstalledError missing %s, got %v", want, err)
		}
	}
	explicit := t.TempDir()
	notInstalled(pytest(env, connector.WithInstallIfMissing(false), connector.WithInstallRoot(explicit)), explicit)
	t.Setenv(installDirVar, "")
	notInstalled(pytest(goairbyte.NewEnvironment(), connector.WithInstallIfMissing(false)), project)

	// Connectors that run otherwise: in process, and a local executable.
	for _, opts := range [][]connector.Option{nil, {connector.WithLocalExecutable(faker)}} {
		src, err := goairbyte.GetSource(ctx, "source-faker", append(opts, connector.WithEnvironment(env),
			connector.WithConfig(map[string]any{"count": 1}))...)
		if err != nil {
			t.Fatalf("with %s set: %v", installDirVar, err)
		}
		if err := src.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAirbyteTempDir: with AIRBYTE_TEMP_DIR set, a read of a local
// connector into a DuckDB cache makes its temporary files there (the run's
// config, the cache's spool) and leaves none behind, there or in /tmp.
// TMPDIR is a path under a file, where nothing can be made: a file the
// library made in the system's temp directory would fail the read.
func TestAirbyteTempDir(t *testing.T) {
	unsetAirbyteDirs(t)
	ctx := context.Background()
	faker := testenv.BuildBinary(t, "./cmd/source-faker")
	own, dir, logs := t.TempDir(), t.TempDir(), t.TempDir()
	// The connector says where its config is, then is the faker.
	configs := filepath.Join(dir, "configs")
	wrapper := filepath.Join(dir, "source-faker")
	script := fmt.Sprintf("#!/bin/sh\nprev=\nfor a in \"$@\"; do\n  [ \"$prev\" = --config ] && echo \"$a\" >> %q\n  prev=$a\ndone\nexec %q \"$@\"\n", configs, faker)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := goairbyte.NewLocalCache(ctx, "temp", dir) // before TMPDIR goes: the test's own
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Setenv("TMPDIR", filepath.Join(file, "tmp"))
	t.Setenv(tempDirVar, own)

	src, err := goairbyte.GetSource(ctx, "source-faker", connector.WithLocalExecutable(wrapper), connector.WithLogDir(logs),
		connector.WithConfig(map[string]any{"count": 200, "seed": 1}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := src.Read(ctx, source.UseCache(c), source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	if n := countIn(t, c, "users"); n != 200 || res.StreamRecords()["users"] != 200 {
		t.Fatalf("%d users in the cache, %d read; want 200", n, res.StreamRecords()["users"])
	}
	b, err := os.ReadFile(configs)
	if err != nil {
		t.Fatal(err)
	}
	paths := strings.Fields(string(b))
	if len(paths) == 0 {
		t.Fatal("the connector was given no config")
	}
	for _, p := range paths {
		if filepath.Dir(filepath.Dir(p)) != own {
			t.Errorf("the connector's config was %s, not in a run directory in AIRBYTE_TEMP_DIR %s", p, own)
		}
	}
	if left, err := os.ReadDir(own); err != nil || len(left) != 0 {
		t.Errorf("left in AIRBYTE_TEMP_DIR: %v (%v)", left, err)
	}
	// Names of this process's temporary files: the run dirs, the spools.
	for _, pattern := range []string{fmt.Sprintf("goairbyte-%d-*", os.Getpid()), fmt.Sprintf("goairbyte-duckdb-%d-*", os.Getpid())} {
		if left, _ := filepath.Glob(filepath.Join("/tmp", pattern)); len(left) != 0 {
			t.Errorf("left in /tmp: %v", left)
		}
	}
}
