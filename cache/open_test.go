package cache_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	_ "github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// loadOne loads one users record into c, as source src.
func loadOne(t *testing.T, c *cache.Cache, id string) {
	t.Helper()
	cat := cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, nil, "id"))
	cachetest.MustLoad(t, c, cat, cache.StrategyAppend, cachetest.Rec("users", `{"id":`+id+`}`))
}

// openURL opens the cache at rawURL and closes it when t ends.
func openURL(t *testing.T, rawURL string, opts ...cache.Option) *cache.Cache {
	t.Helper()
	c, err := cache.Open(context.Background(), rawURL, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", rawURL, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// reopenFile checks, through a cache opened on the file by path, that a
// cache opened by URL wrote into that file: its users table in schema
// holds one row.
func reopenFile(t *testing.T, path, schema, table string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the URL did not name %s: %v", path, err)
	}
	c, err := cache.New(context.Background(), duckdb.NewConnector(path, duckdb.WithSchema(schema)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cachetest.Equal(t, "rows in the file", cachetest.Strings(t, c, `SELECT CAST(count(*) AS VARCHAR) FROM `+schema+`.`+table), []string{"1"})
}

// TestOpenDuckDBAbsolute: a path with characters that URLs escape round
// trips through url.URL.
func TestOpenDuckDBAbsolute(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a dir#x%41", "c.duckdb")
	c := openURL(t, (&url.URL{Scheme: "duckdb", Path: path}).String())
	loadOne(t, c, "1")
	c.Close()
	reopenFile(t, path, "main", "users")
}

func TestOpenDuckDBRelative(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rel.duckdb")
	rel, err := filepath.Rel(wd, path)
	if err != nil || filepath.IsAbs(rel) {
		t.Fatalf("no relative path from %s to %s: %v", wd, path, err)
	}
	c := openURL(t, "duckdb:"+rel)
	loadOne(t, c, "1")
	c.Close()
	reopenFile(t, path, "main", "users")
}

func TestOpenDuckDBMemory(t *testing.T) {
	t.Parallel()
	c := openURL(t, "duckdb::memory:")
	loadOne(t, c, "7")
	cachetest.Equal(t, "rows", cachetest.Strings(t, c, `SELECT CAST(id AS VARCHAR) FROM users`), []string{"7"})
}

// TestOpenDuckDBParameters: the URL's parameters reach the cache and
// DuckDB, and a schema may come from an option instead.
func TestOpenDuckDBParameters(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "p.duckdb")
	c := openURL(t, "duckdb://"+path+"?schema=raw&table_prefix=Pre&memory_limit=256MB&batch_size=2&write_threads=1&string_compression=true")
	cachetest.Equal(t, "memory limit", cachetest.Strings(t, c, `SELECT current_setting('memory_limit')`), []string{"244.1 MiB"})
	loadOne(t, c, "1")
	c.Close()
	reopenFile(t, path, "raw", "pre_users")

	path2 := filepath.Join(t.TempDir(), "o.duckdb")
	c2 := openURL(t, "duckdb://"+path2, cache.WithSchema("opt"), cache.WithTablePrefix("x"))
	loadOne(t, c2, "1")
	c2.Close()
	reopenFile(t, path2, "opt", "x_users")

	// The same schema in both places is no conflict.
	openURL(t, "duckdb::memory:?schema=same", cache.WithSchema("same")).Close()
}

func TestOpenPostgres(t *testing.T) {
	t.Parallel()
	dsn := testenv.Postgres(t)
	if !strings.HasPrefix(dsn, "postgres://") {
		t.Skipf("the test server's DSN is not a URL: %s", dsn)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	c := openURL(t, dsn+sep+"schema=Air%20Byte&table_prefix=pre")
	loadOne(t, c, "1")
	ds, err := c.Dataset(context.Background(), "users")
	if err != nil || ds.QualifiedTableName() != `"Air Byte"."pre_users"` {
		t.Fatalf("dataset %v, %v", ds, err)
	}
	c.Close()

	// postgresql:// is the same backend; the schema given as an option.
	c = openURL(t, "postgresql://"+strings.TrimPrefix(dsn, "postgres://"), cache.WithSchema("Air Byte"), cache.WithTablePrefix("pre"))
	cachetest.Equal(t, "rows", cachetest.Strings(t, c, `SELECT CAST(id AS VARCHAR) FROM "Air Byte".pre_users`), []string{"1"})
}

// TestOpenErrors: URLs that name no cache fail before any I/O, saying
// what is wrong and what to write instead, and never show a password.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		url  string
		opts []cache.Option
		want []string
	}{
		{url: "mysql://u@h/db", want: []string{`scheme "mysql"`, "registered: duckdb, postgres, postgresql", `import _ "github.com/x/goairbyte/cache/duckdb"`, `import _ "github.com/x/goairbyte/cache/postgres"`}},
		{url: dir + "/plain.duckdb", want: []string{"has no scheme", "duckdb:" + dir + "/plain.duckdb"}},
		{url: "", want: []string{"no cache URL given"}},
		{url: "duckdb://host/x.duckdb", want: []string{"names a host", "duckdb:///abs/path.duckdb"}},
		{url: "duckdb://user:secret-url-pw-1@/x.duckdb", want: []string{"names a host"}},
		{url: "duckdb:", want: []string{"names no file"}},
		{url: "duckdb://" + dir + "/", want: []string{"names no file"}},
		{url: "duckdb:x.duckdb#frag", want: []string{"fragment"}},
		{url: (&url.URL{Scheme: "duckdb", Path: dir + "/what?.duckdb"}).String(), want: []string{`holds a "?"`}},
		{url: (&url.URL{Scheme: "duckdb", Path: dir + "/100%.duckdb"}).String(), want: []string{"cannot read the path", "invalid URL escape"}},
		{url: "duckdb:x.duckdb?cache_size=1", want: []string{`"cache_size" is not known`, "batch_size, memory_limit, string_compression, write_threads, schema, table_prefix"}},
		{url: "duckdb:x.duckdb?batch_size=many", want: []string{"batch_size=many is not valid"}},
		{url: "duckdb:x.duckdb?batch_size=1&batch_size=2", want: []string{"batch_size 2 times"}},
		{url: "duckdb:" + dir + "/y.duckdb?batch_size=0", want: []string{"WithBatchSize(0)"}},
		{url: "duckdb:x.duckdb?schema=a", opts: []cache.Option{cache.WithSchema("b")}, want: []string{"schema=a", `WithSchema says "b"`}},
		{url: "duckdb:x.duckdb?table_prefix=a", opts: []cache.Option{cache.WithTablePrefix("b")}, want: []string{"table_prefix=a", "WithTablePrefix"}},
		{url: "duckdb:x.duckdb?schema=a&schema=b", want: []string{"schema 2 times"}},
		{url: "duckdb:x.duckdb?a=%zz", want: []string{"query of cache URL"}},
		{url: "postgres://u:secret-url-pw-2@h:port/db", want: []string{"not valid", "invalid port"}},
		{url: "postgres://u:secret-url-pw-3@127.0.0.1:1/db?connect_timeout=1", want: []string{"postgres: connecting"}},
	} {
		_, err := cache.Open(context.Background(), tc.url, tc.opts...)
		if err == nil {
			t.Errorf("Open(%q) succeeded", tc.url)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Open(%q): %v\n  does not say %q", tc.url, err, w)
			}
		}
		if strings.Contains(err.Error(), "secret-url-pw") {
			t.Errorf("Open(%q): the error shows the password: %v", tc.url, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "y.duckdb")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an option that does not fit still created the file: %v", err)
	}
}
