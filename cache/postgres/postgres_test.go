package postgres_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/secrets"
)

func TestMain(m *testing.M) {
	if dsn := os.Getenv(claimChildDSN); dsn != "" {
		claimChild(dsn)
	}
	cachetest.ChildMain(openDSN)
	testenv.Main(m)
}

func openDSN(ctx context.Context, dsn string) (*cache.Cache, error) {
	return cache.New(ctx, postgres.NewConnector(dsn))
}

func open(t *testing.T) *cache.Cache {
	c, err := openDSN(context.Background(), testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSuite(t *testing.T) {
	t.Parallel()
	cachetest.Run(t, open)
}

// The suite's tests of dates and times in a program whose local zone is
// five hours forty-five ahead of UTC. Not parallel: it sets time.Local.
func TestSuiteInAnotherZone(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Kathmandu")
	if err != nil {
		t.Fatal(err)
	}
	cachetest.RunInZone(t, open, loc)
}

// The suite's tests that depend on how text is ordered, in a database
// whose default collation is ICU's en-US (the suite's databases have C).
func TestSuiteInACollatedDatabase(t *testing.T) {
	t.Parallel()
	cachetest.RunTextOrder(t, func(t *testing.T) *cache.Cache {
		dsn := testenv.Postgres(t)
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		name := fmt.Sprintf("icu_%d_%d", os.Getpid(), time.Now().UnixNano())
		if _, err := conn.Exec(context.Background(), "CREATE DATABASE "+name+" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.utf8'"); err != nil {
			t.Skipf("no ICU database on this server: %v", err)
		}
		t.Cleanup(func() {
			if _, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
				t.Errorf("dropping %s: %v", name, err)
			}
		})
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		c, err := openDSN(context.Background(), u.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	})
}

func TestFaker(t *testing.T) {
	t.Parallel()
	cachetest.RunFaker(t, open, &cachetest.Faker{Bin: testenv.BuildBinary(t, "./cmd/source-faker"), Dir: t.TempDir()})
}

func TestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test is long")
	}
	t.Parallel()
	cachetest.Kill(t, testenv.Postgres(t), openDSN, testenv.BuildBinary(t, "./cmd/source-faker"))
}

// Loads killed at random moments leave the cache as the next load needs
// it (see cachetest.Crash).
func TestCrash(t *testing.T) {
	t.Parallel()
	cachetest.Crash(t, testenv.Postgres(t), openDSN, 1)
}

func TestSchemaAndPrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, err := cache.New(ctx, postgres.NewConnector(testenv.Postgres(t), postgres.WithSchema("Air Byte")), cache.WithTablePrefix("pre"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cachetest.MustLoad(t, c, cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil)), cache.StrategyAppend, cachetest.Rec("users", `{"id":1}`))
	cachetest.Equal(t, "rows", cachetest.Strings(t, c, `SELECT CAST(id AS VARCHAR) FROM "Air Byte".pre_users`), []string{"1"})
	ds, err := c.Dataset(ctx, "users")
	if err != nil || ds.QualifiedTableName() != `"Air Byte"."pre_users"` {
		t.Fatalf("dataset %v, %v", ds, err)
	}
}

// Several sources load into one Postgres cache at the same time.
func TestConcurrentSources(t *testing.T) {
	t.Parallel()
	c := open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("s%d_users", i)
			var msgs []*protocol.Message
			for j := range 3000 {
				msgs = append(msgs, cachetest.Rec(stream, fmt.Sprintf(`{"id":%d,"v":%d}`, j%1000, j)))
				if j%500 == 499 {
					msgs = append(msgs, cachetest.StreamState(stream, fmt.Sprintf(`{"n":%d}`, j)))
				}
			}
			cat := cachetest.Catalog(cachetest.Stream(stream, `{"id":{"type":"integer"},"v":{"type":"integer"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "v"))
			_, errs[i] = c.Load(ctx, cache.LoadRequest{SourceName: fmt.Sprintf("source-%d", i), Catalog: cat, BatchSize: 700, Messages: cachetest.Messages(msgs...)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("source %d: %v", i, err)
		}
		cachetest.Equal(t, "rows", cachetest.Strings(t, c, fmt.Sprintf(`SELECT CAST(count(*) AS VARCHAR), CAST(min(v) AS VARCHAR) FROM s%d_users`, i)), []string{"1000|2000"})
		st, err := c.SourceState(ctx, fmt.Sprintf("source-%d", i), nil)
		if err != nil || string(st) == "" || !strings.Contains(string(st), `{"n":2999}`) {
			t.Fatalf("state of source %d = %s, %v", i, st, err)
		}
	}
}

func BenchmarkLoadFakerPostgres(b *testing.B) {
	bin := testenv.BuildBinary(b, "./cmd/source-faker")
	open := func(b *testing.B) *cache.Cache {
		c, err := openDSN(context.Background(), testenv.Postgres(b))
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	cachetest.BenchmarkFaker(b, open, &cachetest.Faker{Bin: bin, Dir: b.TempDir()}, 1_000_000)
}

// Values the COPY encoder special-cases: field names in _airbyte_meta that
// need JSON escaping (a NUL, which jsonb refuses, becomes U+FFFD), offsets
// PostgreSQL refuses (written in UTC), and text with COPY's special bytes.
func TestEncoding(t *testing.T) {
	t.Parallel()
	c := open(t)
	rec := cachetest.Rec("odd", `{"id":1,"ts":"2024-01-02T03:04:05+20:00","s":"a\tb\\c\nd","n":"x"}`)
	rec.Record.Meta = &protocol.RecordMeta{Changes: []protocol.RecordMetaChange{{Field: "q\"\x01\x00", Change: protocol.ChangeTruncated, Reason: protocol.ReasonSourceRecordSizeLimitation}}}
	props := `{"id":{"type":"integer"},"ts":{"type":"string","format":"date-time","airbyte_type":"timestamp_with_timezone"},"s":{"type":"string"},"n":{"type":"integer"}}`
	cachetest.MustLoad(t, c, cachetest.Catalog(cachetest.Stream("odd", props, protocol.SyncFullRefresh, nil)), cache.StrategyAppend, rec)
	cachetest.Equal(t, "values", cachetest.Strings(t, c, `SELECT CAST(ts = '2024-01-01T07:04:05Z' AS VARCHAR), s, CAST(n IS NULL AS VARCHAR) FROM odd`), []string{"true|a\tb\\c\nd|true"})
	cachetest.Equal(t, "meta", cachetest.Strings(t, c, `SELECT _airbyte_meta->'changes'->0->>'field', _airbyte_meta->'changes'->1->>'field' FROM odd`), []string{"q\"\x01\uFFFD|n"})
}

// Every column type goes through binary COPY: the values PostgreSQL reads
// back are the ones the JSON held, and those that do not fit are NULL with
// a note.
func TestBinaryTypes(t *testing.T) {
	t.Parallel()
	c := open(t)
	props := `{"i":{"type":"integer"},"n":{"type":"number"},"b":{"type":"boolean"},"d":{"type":"string","format":"date"},` +
		`"tz":{"type":"string","format":"date-time"},"ts":{"type":"string","format":"date-time","airbyte_type":"timestamp_without_timezone"},` +
		`"t":{"type":"string","format":"time"},"ttz":{"type":"string","format":"time","airbyte_type":"time_with_timezone"},` +
		`"s":{"type":"string"},"j":{"type":"object"}}`
	cat := cachetest.Catalog(cachetest.Stream("types", props, protocol.SyncFullRefresh, nil))
	cachetest.MustLoad(t, c, cat, cache.StrategyAppend,
		cachetest.Rec("types", `{"i":-9223372036854775808,"n":-1.25e-7,"b":false,"d":"1969-12-31","tz":"1999-12-31T23:59:59.1234567-05:30","ts":"2024-02-29T12:00:00.000001+09:00","t":"23:59:59.5","ttz":"01:02:03-04:30","s":"ünï\tcode","j":{"a":[1,"x"],"b":null}}`),
		cachetest.Rec("types", `{"i":"42","n":"3","b":"TRUE","d":"0001-01-01","tz":"2024-01-01 10:00:00+02:00","ts":"2024-01-01T00:00:00","t":"00:00:00Z","ttz":"10:00:00+20:00","s":17,"j":[1]}`))
	cachetest.Equal(t, "values", cachetest.Strings(t, c, `SELECT i::text, n::text, b::text, d::text, (tz AT TIME ZONE 'UTC')::text, ts::text, t::text, coalesce(ttz::text, 'NULL'), s, j::text FROM types ORDER BY i`), []string{
		"-9223372036854775808|-1.25e-07|false|1969-12-31|2000-01-01 05:29:59.123456|2024-02-29 12:00:00.000001|23:59:59.5|01:02:03-04:30|ünï\tcode|{\"a\": [1, \"x\"], \"b\": null}",
		"42|3|true|0001-01-01|2024-01-01 08:00:00|2024-01-01 00:00:00|00:00:00|NULL|17|[1]",
	})
	cachetest.Equal(t, "notes", cachetest.Strings(t, c, `SELECT _airbyte_meta::text FROM types ORDER BY i`), []string{
		`{"changes": []}`,
		`{"changes": [{"field": "ttz", "change": "NULLED", "reason": "DESTINATION_TYPECAST_ERROR"}]}`,
	})
	cachetest.Equal(t, "extracted_at", cachetest.Strings(t, c, `SELECT count(*)::text FROM types WHERE _airbyte_extracted_at = to_timestamp(1700000000)`), []string{"2"})
}

// A table someone else created, with types the cache would not choose,
// still loads: binary COPY cannot write an int4 or a json column, so the
// batch goes through a temporary table and the values are converted by
// their text form, as text COPY would. A timestamp without zone (as
// _airbyte_extracted_at here) holds the instant's time in UTC, whatever
// the server's TimeZone: the text of a timestamptz is in that zone.
func TestForeignColumnTypes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, err := openDSN(ctx, withParam(t, testenv.Postgres(t), "timezone", "Asia/Kathmandu"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.ExecSQL(ctx, `CREATE TABLE items (_airbyte_raw_id varchar(26) NOT NULL, _airbyte_extracted_at timestamp, _airbyte_meta json, id integer, price numeric(10,2), tags json, code varchar(5), ref uuid)`); err != nil {
		t.Fatal(err)
	}
	props := `{"id":{"type":"integer"},"price":{"type":"number"},"tags":{"type":"array"},"code":{"type":"string"},"ref":{"type":"string"}}`
	cat := cachetest.Catalog(cachetest.Stream("items", props, protocol.SyncIncremental, nil, "id"))
	for range 2 { // the second load finds the table as it is
		cachetest.MustLoad(t, c, cat, cache.StrategyAppend,
			cachetest.Rec("items", `{"id":7,"price":"12.345","tags":["a"],"code":"ab","ref":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}`),
			cachetest.Rec("items", `{"id":"x","price":1,"tags":null,"code":null,"ref":null}`))
	}
	cachetest.Equal(t, "rows", cachetest.Strings(t, c, `SELECT coalesce(id::text, 'NULL'), price::text, coalesce(tags::text, 'NULL'), coalesce(code, 'NULL'), coalesce(ref::text, 'NULL'), _airbyte_meta::text, _airbyte_extracted_at::text FROM items ORDER BY id, _airbyte_raw_id`), []string{
		`7|12.35|["a"]|ab|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|{"changes": []}|2023-11-14 22:13:20`,
		`7|12.35|["a"]|ab|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|{"changes": []}|2023-11-14 22:13:20`,
		`NULL|1.00|NULL|NULL|NULL|{"changes": [{"field": "id", "change": "NULLED", "reason": "DESTINATION_TYPECAST_ERROR"}]}|2023-11-14 22:13:20`,
		`NULL|1.00|NULL|NULL|NULL|{"changes": [{"field": "id", "change": "NULLED", "reason": "DESTINATION_TYPECAST_ERROR"}]}|2023-11-14 22:13:20`,
	})
}

// A value that fits the column type the cache would choose but not the
// narrower one of a table someone else created (an integer beyond int4, a
// text longer than varchar(5), an overflowing numeric, a malformed uuid)
// is NULL with a note, as any value that does not fit its column: it
// failed the whole load.
func TestForeignColumnTypesValuesThatDoNotFit(t *testing.T) {
	t.Parallel()
	c := open(t)
	ctx := context.Background()
	if _, err := c.ExecSQL(ctx, `CREATE TABLE items (_airbyte_raw_id varchar(26) NOT NULL, _airbyte_extracted_at timestamptz, _airbyte_meta json, id integer, price numeric(10,2), tags text[], code varchar(5), ref uuid)`); err != nil {
		t.Fatal(err)
	}
	props := `{"id":{"type":"integer"},"price":{"type":"number"},"tags":{"type":"array"},"code":{"type":"string"},"ref":{"type":"string"}}`
	cat := cachetest.Catalog(cachetest.Stream("items", props, protocol.SyncIncremental, nil, "id"))
	rec := cachetest.Rec("items", `{"id":"x","code":"toolong","ref":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}`)
	rec.Record.Meta = &protocol.RecordMeta{Changes: []protocol.RecordMetaChange{{Field: "tags", Change: protocol.ChangeTruncated, Reason: protocol.ReasonSourceFieldSizeLimitation}}}
	cachetest.MustLoad(t, c, cat, cache.StrategyAppend,
		cachetest.Rec("items", `{"id":3000000000,"price":1,"code":"ab"}`),
		cachetest.Rec("items", `{"id":1,"code":"abcdefgh","tags":["a"]}`),
		cachetest.Rec("items", `{"id":2,"price":"1e20","tags":"{b,c}"}`),
		cachetest.Rec("items", `{"id":3,"ref":"not-a-uuid","tags":"{"}`),
		rec)
	note := func(f string) string {
		return `{"field": "` + f + `", "change": "NULLED", "reason": "DESTINATION_TYPECAST_ERROR"}`
	}
	cachetest.Equal(t, "rows", cachetest.Strings(t, c, `SELECT coalesce(id::text, 'NULL'), coalesce(price::text, 'NULL'), coalesce(tags::text, 'NULL'), coalesce(code, 'NULL'), coalesce(ref::text, 'NULL'), _airbyte_meta::text FROM items ORDER BY _airbyte_raw_id`), []string{
		`NULL|1.00|NULL|ab|NULL|{"changes": [` + note("id") + `]}`,
		`1|NULL|NULL|NULL|NULL|{"changes": [` + note("tags") + `, ` + note("code") + `]}`,
		`2|NULL|{b,c}|NULL|NULL|{"changes": [` + note("price") + `]}`,
		`3|NULL|NULL|NULL|NULL|{"changes": [` + note("tags") + `, ` + note("ref") + `]}`,
		`NULL|NULL|NULL|NULL|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|{"changes": [{"field": "tags", "change": "TRUNCATED", "reason": "SOURCE_FIELD_SIZE_LIMITATION"}, ` + note("id") + `, ` + note("code") + `]}`,
	})
}

// TestPasswordMasked: a Config prints without its password, and a password
// given in a DSN is masked in goairbyte's output from New on — even when
// the connection then fails.
func TestPasswordMasked(t *testing.T) {
	t.Parallel()
	cfg := postgres.Config{Host: "127.0.0.1", Port: 1, User: "u", Password: secrets.NewSecretString("pg-Config-pw-7f3a"), Database: "d"}
	if s := fmt.Sprintf("%v %+v", cfg, cfg); strings.Contains(s, "pg-Config-pw-7f3a") {
		t.Fatalf("the config prints its password: %s", s)
	}
	if !strings.Contains(cfg.DSN(), "pg-Config-pw-7f3a") {
		t.Fatalf("the DSN lacks the password: %s", cfg.DSN())
	}
	dsn := "postgres://u:pg-dsn-pw-91c2@127.0.0.1:1/d?connect_timeout=1"
	_, err := openDSN(context.Background(), dsn)
	if err == nil {
		t.Fatal("connecting to port 1 succeeded")
	}
	for _, s := range []string{secrets.Mask(dsn), secrets.Mask(err.Error())} {
		if strings.Contains(s, "pg-dsn-pw-91c2") {
			t.Fatalf("the DSN's password is not masked: %s", s)
		}
	}
}

// A value nested deeper than a jsonb column takes (only a record built by
// hand gets past the protocol decoder's limit) is NULL with a note, and the
// other fields and records still load; data that is no JSON object fails
// with a short message, however long the record.
func TestTooDeepForJSONB(t *testing.T) {
	t.Parallel()
	c := open(t)
	deep := strings.Repeat("[", 30_000) + strings.Repeat("]", 30_000)
	cat := cachetest.Catalog(cachetest.Stream("deep", `{"id":{"type":"integer"},"j":{"type":"array"}}`, protocol.SyncFullRefresh, nil))
	_, err := c.Load(context.Background(), cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: cache.StrategyAppend,
		Messages: cachetest.AsBuilt(cachetest.Rec("deep", `{"id":1,"j":`+deep+`}`), cachetest.Rec("deep", `{"id":2,"j":[1]}`))})
	if err != nil {
		t.Fatal(err)
	}
	cachetest.Equal(t, "rows", cachetest.Strings(t, c, `SELECT id::text, coalesce(j::text, 'NULL'), _airbyte_meta->'changes'->0->>'field' FROM deep ORDER BY id`), []string{"1|NULL|j", "2|[1]|NULL"})
	_, err = c.Load(context.Background(), cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: cache.StrategyAppend,
		Messages: cachetest.AsBuilt(cachetest.Rec("deep", `{"id":3,"j":`+deep[:20_000]+`, oops}`))})
	if err == nil || len(err.Error()) > 400 {
		t.Fatalf("got an error of %d bytes: %.500v", len(fmt.Sprint(err)), err)
	}
}

// Two processes loading the same source into one cache at once are
// serialised: the second is refused while the first runs (issue 17).
func TestConcurrentLoadsOfOneSource(t *testing.T) {
	t.Parallel()
	cachetest.ConcurrentLoads(t, testenv.Postgres(t), openDSN)
}

// A full disk on the server is a typed error. The test puts the cache's
// tables in a tablespace on a 4 MB tmpfs, which needs root on the server's
// machine (the test server: testenv's).
func TestDiskFull(t *testing.T) {
	if os.Getenv(testenv.PostgresDSNEnv) != "" {
		t.Skip("the PostgreSQL server is not testenv's: its disk cannot be filled from here")
	}
	dsn := testenv.Postgres(t)
	tiny := cachetest.SmallDisk(t)
	// The server runs as the postgres user: it must reach the directory.
	os.Chmod(filepath.Dir(tiny), 0o755)
	os.Chmod(filepath.Dir(filepath.Dir(tiny)), 0o755)
	if pg, err := user.Lookup("postgres"); err == nil && os.Getuid() == 0 {
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		os.Chown(tiny, uid, gid)
	}
	ctx := context.Background()
	admin := open(t)
	space := fmt.Sprintf("tiny_%d", os.Getpid())
	if _, err := admin.ExecSQL(ctx, "CREATE TABLESPACE "+space+" LOCATION '"+tiny+"'"); err != nil {
		t.Skipf("cannot create a tablespace on the tmpfs: %v", err)
	}
	t.Cleanup(func() { admin.ExecSQL(context.Background(), "DROP TABLESPACE IF EXISTS "+space) })
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	c, err := openDSN(ctx, dsn+sep+"default_tablespace="+space)
	if err != nil {
		t.Fatal(err)
	}
	err = cachetest.FillDisk(ctx, c)
	var df *cacheerr.DiskFullError
	if !errors.As(err, &df) || !errors.Is(err, cache.ErrDiskFull) {
		t.Fatalf("got %v, want a *DiskFullError", err)
	}
	// The server's disk is full: neither the cache nor the temp directory
	// is the program's to move.
	if msg := err.Error(); !strings.Contains(msg, "the server's disk") || strings.Contains(msg, "TMPDIR") || strings.Contains(msg, "move the cache") {
		t.Fatalf("the error does not send the program to the server's disk: %v", err)
	}
	// The tables must go before the tablespace can (at cleanup).
	c.ExecSQL(ctx, "DROP TABLE IF EXISTS users, _airbyte_state, _airbyte_streams")
	c.Close()
}

// A server out of memory is a typed error too: a trigger on the table
// raises SQLSTATE 53200 (out_of_memory), as a server would under
// pressure, and the load's error matches cache.ErrOutOfMemory while
// keeping the server's own error in its chain.
func TestServerOutOfMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := open(t)
	if err := cachetest.FillDisk(ctx, c); err != nil {
		t.Fatal(err) // creates "users"; the test server's disk is large
	}
	for _, q := range []string{
		`CREATE FUNCTION no_memory() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN RAISE EXCEPTION 'out of memory' USING ERRCODE = 'out_of_memory'; END $$`,
		`CREATE TRIGGER no_memory BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION no_memory()`,
	} {
		if _, err := c.ExecSQL(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	err := cachetest.FillDisk(ctx, c)
	var pe *pgconn.PgError
	var oe *cacheerr.OutOfMemoryError
	if !errors.Is(err, cache.ErrOutOfMemory) || !errors.As(err, &oe) || !errors.As(err, &pe) || pe.Code != "53200" {
		t.Fatalf("got %v, want a *cacheerr.OutOfMemoryError around the server's 53200", err)
	}
	if !strings.Contains(err.Error(), "the PostgreSQL server ran out of memory") {
		t.Errorf("the error does not say what ran out: %v", err)
	}
	if errors.Is(err, cache.ErrDiskFull) {
		t.Errorf("an out-of-memory error matches ErrDiskFull: %v", err)
	}
}

// A server whose lock table is full (a load of thousands of streams)
// raises 53200 "out of shared memory" with a hint at
// max_locks_per_transaction: the error says to raise that, not work_mem.
func TestServerLockTableFull(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := open(t)
	if err := cachetest.FillDisk(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE FUNCTION no_locks() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN RAISE EXCEPTION 'out of shared memory' USING ERRCODE = 'out_of_memory', HINT = 'You might need to increase max_locks_per_transaction.'; END $$`,
		`CREATE TRIGGER no_locks BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION no_locks()`,
	} {
		if _, err := c.ExecSQL(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	err := cachetest.FillDisk(ctx, c)
	if !errors.Is(err, cache.ErrOutOfMemory) || !strings.Contains(err.Error(), "raise the server's max_locks_per_transaction") {
		t.Fatalf("got %v, want an out-of-memory error that says to raise max_locks_per_transaction", err)
	}
	if strings.Contains(err.Error(), "work_mem") {
		t.Errorf("the error points at work_mem: %v", err)
	}
}

// A password with an @ that is not percent-encoded ends at the @ for the
// URL parser, and the rest of it lands in the host, which connection errors
// print: the URL is refused before any connection, without repeating it.
func TestUnescapedAtInPassword(t *testing.T) {
	t.Parallel()
	_, err := cache.Open(context.Background(), "postgres://loader:p@ss#w0rd-7c1e@127.0.0.1:1/db")
	if err == nil || strings.Contains(err.Error(), "w0rd-7c1e") || !strings.Contains(err.Error(), "%40") {
		t.Fatalf("got %v, want a refusal that does not print the password and says to write @ as %%40", err)
	}
}

// PostgreSQL's tables hold at most 1,600 columns. A stream with more
// properties (Salesforce objects, HubSpot's flattened properties) is
// refused before any table is created or record written, with a message
// that names it, the count, the limit and a way out; a table that would
// outgrow the limit by schema evolution too. 1,600 columns still load.
func TestTooManyColumns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := open(t)
	wide := func(fields int, extra ...string) *protocol.ConfiguredCatalog {
		props := make([]string, 0, fields+len(extra))
		for i := range fields {
			props = append(props, fmt.Sprintf(`"f%d":{"type":"integer"}`, i))
		}
		for _, e := range extra {
			props = append(props, fmt.Sprintf(`%q:{"type":"string"}`, e))
		}
		return cachetest.Catalog(cachetest.Stream("narrow", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil),
			cachetest.Stream("Wide", "{"+strings.Join(props, ",")+"}", protocol.SyncFullRefresh, nil))
	}
	load := func(cat *protocol.ConfiguredCatalog) error {
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: cache.StrategyAppend,
			Messages: cachetest.Messages(cachetest.Rec("narrow", `{"id":1}`), cachetest.Rec("Wide", `{"f0":1}`))})
		return err
	}
	err := load(wide(1598))
	for _, want := range []string{`"Wide"`, "1,601 columns", "1,600", "DuckDB"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("1,598 fields: the error does not say %s: %v", want, err)
		}
	}
	if streams, err := c.Streams(ctx); err != nil || len(streams) != 0 {
		t.Fatalf("tables created by the refused load: %q (%v)", streams, err)
	}
	if err := load(wide(1597)); err != nil {
		t.Fatalf("1,600 columns: %v", err)
	}
	err = load(wide(1597, "new"))
	if err == nil || !strings.Contains(err.Error(), `"Wide"`) || !strings.Contains(err.Error(), "1,601 columns") {
		t.Fatalf("a new property beyond the limit: %v", err)
	}
	cachetest.Equal(t, "rows", cachetest.Strings(t, c, `SELECT count(*)::text FROM wide`), []string{"1"})
}

// A record whose values do not fit in one PostgreSQL row (about 8 KB: 1,100
// integers) fails its load with a message that says why and what to do;
// records of the same stream that fit load.
func TestRowTooBig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := open(t)
	var props, vals []string
	for i := range 1100 {
		props = append(props, fmt.Sprintf(`"f%d":{"type":"integer"}`, i))
		vals = append(vals, fmt.Sprintf(`"f%d":%d`, i, i))
	}
	cat := cachetest.Catalog(cachetest.Stream("wide", "{"+strings.Join(props, ",")+"}", protocol.SyncFullRefresh, nil))
	load := func(data string) error {
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: cat, Strategy: cache.StrategyAppend,
			Messages: cachetest.Messages(cachetest.Rec("wide", data))})
		return err
	}
	if err := load(`{"f0":1,"f1099":2}`); err != nil {
		t.Fatal(err)
	}
	err := load("{" + strings.Join(vals, ",") + "}")
	for _, want := range []string{`stream "wide"`, "row is too big", "8 KB", "JSON schema", "DuckDB"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("the error does not say %s: %v", want, err)
		}
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("the server's error is not in the chain: %v", err)
	}
}

// Two workers opening one cache in a schema that does not exist yet both
// create it: CREATE SCHEMA IF NOT EXISTS loses the race against a create
// still uncommitted and fails on the catalog's unique index. The test holds
// such a create open until the cache's waits on it.
func TestFirstOpenOfASchemaByTwoWorkers(t *testing.T) {
	t.Parallel()
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	other := session(t, dsn)
	tx := holdInTx(t, other, `CREATE SCHEMA IF NOT EXISTS fresh`)
	opened := make(chan error, 1)
	go func() {
		c, err := cache.New(ctx, postgres.NewConnector(dsn, postgres.WithSchema("fresh")))
		if err == nil {
			c.Close()
		}
		opened <- err
	}()
	waitForLockWaits(t, other, 1, opened)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatalf("the second worker's open: %v", err)
	}
}

// twoWorkers opens the cache at dsn twice, as two workers do: two pools,
// two sets of sessions. Both are closed when the test ends.
func twoWorkers(t *testing.T, dsn string) (a, b *cache.Cache) {
	t.Helper()
	for _, c := range []**cache.Cache{&a, &b} {
		var err error
		if *c, err = openDSN(context.Background(), dsn); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { (*c).Close() })
	}
	return a, b
}

// session is a connection of its own to dsn, another session for the
// server, closed when the test ends.
func session(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// holdInTx runs stmt in a transaction of conn left open, holding the locks
// stmt took until the caller commits or rolls it back (or the test ends).
func holdInTx(t *testing.T, conn *pgx.Conn, stmt string) pgx.Tx {
	t.Helper()
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(context.Background()) })
	if _, err := tx.Exec(context.Background(), stmt); err != nil {
		t.Fatal(err)
	}
	return tx
}

// waitForLockWaits returns once n sessions of the database wait for a
// lock, or fails the test if done delivers first (the waits never came).
func waitForLockWaits(t *testing.T, conn *pgx.Conn, n int, done chan error) {
	t.Helper()
	if err := awaitCount(conn, `SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database()`, n, done); err != nil {
		t.Fatal(err)
	}
}

// awaitCount polls query, a count, on conn until it is n or more. It
// fails if done delivers first (a worker finished without waiting for a
// lock), or the query fails.
func awaitCount(conn *pgx.Conn, query string, n int, done chan error) error {
	for {
		// Inside a transaction (TestFirstOpenOfASchemaByTwoWorkers polls
		// on the session that holds one), pg_stat_activity is the snapshot
		// its first read took: a session that connected after it is not
		// there, and the poll waited for it until the test timed out.
		if _, err := conn.Exec(context.Background(), `SELECT pg_stat_clear_snapshot()`); err != nil {
			return err
		}
		var got int
		if err := conn.QueryRow(context.Background(), query).Scan(&got); err != nil {
			return err
		}
		if got >= n {
			return nil
		}
		select {
		case err := <-done:
			return fmt.Errorf("a worker finished without waiting for a lock: %v", err)
		default:
		}
		time.Sleep(5 * time.Millisecond) // a poll, not a deadline
	}
}

// Two sources whose first loads of a stream "users" run at once: one of
// them is refused with a *TableOwnerError, as it is when they run one
// after the other. The test holds the lock every cache takes for its DDL,
// as a third worker's DDL would, until both loads wait for it, so that
// both have looked for the table's owner before either recorded itself.
func TestFirstLoadsOfOneStreamByTwoSources(t *testing.T) {
	t.Parallel()
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	a, b := twoWorkers(t, dsn)
	b3, err := backend.Unwrap(postgres.NewConnector(dsn)).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b3.Close()
	ddl, err := b3.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ddl.Rollback(ctx)
	if err := ddl.Exec(ctx, b3.DDLLock()); err != nil {
		t.Fatal(err)
	}
	cat := cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"},"src":{"type":"string"}}`, protocol.SyncFullRefresh, nil))
	done := make(chan error, 2)
	for i, c := range []*cache.Cache{a, b} {
		go func() {
			src := fmt.Sprintf("source-%d", i)
			_, err := c.Load(ctx, cache.LoadRequest{SourceName: src, Catalog: cat, Strategy: cache.StrategyAppend,
				Messages: cachetest.Messages(cachetest.Rec("users", fmt.Sprintf(`{"id":%d,"src":%q}`, i, src)))})
			done <- err
		}()
	}
	waitForLockWaits(t, session(t, dsn), 2, done)
	ddl.Rollback(ctx)
	var refused int
	for range 2 {
		if err := <-done; errors.Is(err, cache.ErrTableOwned) {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if refused != 1 {
		t.Errorf("%d of the two loads refused, want 1", refused)
	}
	cachetest.Equal(t, "sources in the table", cachetest.Strings(t, a, `SELECT CAST(count(DISTINCT src) AS VARCHAR) FROM users`), []string{"1"})
	cachetest.Equal(t, "the table's owner is the source in it", cachetest.Strings(t, a,
		`SELECT CAST(count(*) AS VARCHAR) FROM _airbyte_streams s JOIN users u ON u.src = s.source_name WHERE s.table_name = 'users'`), []string{"1"})
}

// claimChildDSN names the cache of TestKilledBeforeItsTableWasMade's
// child.
const claimChildDSN = "POSTGRES_TEST_CLAIM_CHILD_DSN"

// claimCatalog is source-a's catalog in TestKilledBeforeItsTableWasMade:
// the table it has, held, and a new one, users.
var claimCatalog = cachetest.Catalog(cachetest.Stream("held", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil),
	cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil))

// claimChild loads source-a's two streams into the cache at dsn.
func claimChild(dsn string) {
	c, err := openDSN(context.Background(), dsn)
	if err == nil {
		_, err = c.Load(context.Background(), cache.LoadRequest{SourceName: "source-a", Catalog: claimCatalog, Strategy: cache.StrategyAppend,
			Messages: cachetest.Messages(cachetest.Rec("held", `{"id":1}`), cachetest.Rec("users", `{"id":1}`))})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// A load killed after it claimed a new table and before it created it
// leaves no owner that refuses other sources for good: the killed
// source's next load clears its claim, and another source's load of a
// stream of that name takes it over. The test holds the table the load
// has already, which it reads (for the raw-id floor) between the two, and
// kills it waiting there. Before, the claim stayed: _airbyte_streams named
// source-a as the owner of a table users that did not exist, after its
// next load too, and source-b was refused with a *TableOwnerError for
// good.
func TestKilledBeforeItsTableWasMade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	c, err := openDSN(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	load := func(source string, stream int, data string) {
		t.Helper()
		cat := cachetest.Catalog(claimCatalog.Streams[stream])
		if _, err := c.Load(ctx, cache.LoadRequest{SourceName: source, Catalog: cat, Strategy: cache.StrategyAppend,
			Messages: cachetest.Messages(cachetest.Rec(cat.Streams[0].Stream.Name, data))}); err != nil {
			t.Fatalf("%s's load of %s: %v", source, cat.Streams[0].Stream.Name, err)
		}
	}
	owners := func() []string {
		return cachetest.Strings(t, c, `SELECT table_name || ' of ' || source_name || CASE WHEN table_name IN
			(SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()) THEN '' ELSE ', which does not exist' END
			FROM _airbyte_streams ORDER BY table_name`)
	}
	holder, watch := session(t, dsn), session(t, dsn)
	killed := func() {
		t.Helper()
		defer holdInTx(t, holder, `LOCK TABLE held IN ACCESS EXCLUSIVE MODE`).Rollback(ctx)
		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = append(os.Environ(), claimChildDSN+"="+dsn)
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- child.Wait() }()
		waitForLockWaits(t, watch, 1, exited)
		child.Process.Signal(syscall.SIGKILL)
		<-exited
		t.Logf("killed: %q", owners())
	}

	load("source-a", 0, `{"id":0}`)
	killed()
	load("source-a", 0, `{"id":1}`)
	cachetest.Equal(t, "after source-a's next load", owners(), []string{"held of source-a"})
	killed()
	load("source-b", 1, `{"id":2}`)
	load("source-a", 0, `{"id":3}`)
	cachetest.Equal(t, "after source-b's load", owners(), []string{"held of source-a", "users of source-b"})
	cachetest.Equal(t, "users", cachetest.Strings(t, c, `SELECT id::text FROM users`), []string{"2"})
}

// A running load keeps the tables it claimed and has not made yet: another
// source's load of a stream of that name is refused, as it was before
// claims left by killed loads could be taken over. The test holds the
// table the first load has already, between its claim and its DDL.
func TestARunningLoadKeepsItsClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	a, b := twoWorkers(t, dsn)
	cachetest.MustLoad(t, a, cachetest.Catalog(claimCatalog.Streams[0]), cache.StrategyAppend, cachetest.Rec("held", `{"id":0}`))
	holder, watch := session(t, dsn), session(t, dsn)
	tx := holdInTx(t, holder, `LOCK TABLE held IN ACCESS EXCLUSIVE MODE`)
	running := make(chan error, 1)
	go func() {
		_, err := a.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: claimCatalog, Strategy: cache.StrategyAppend,
			Messages: cachetest.Messages(cachetest.Rec("held", `{"id":1}`), cachetest.Rec("users", `{"id":1}`))})
		running <- err
	}()
	waitForLockWaits(t, watch, 1, running)
	_, err := b.Load(ctx, cache.LoadRequest{SourceName: "source-b", Catalog: cachetest.Catalog(claimCatalog.Streams[1]), Strategy: cache.StrategyAppend,
		Messages: cachetest.Messages(cachetest.Rec("users", `{"id":2}`))})
	if !errors.Is(err, cache.ErrTableOwned) {
		t.Errorf("another source's load of users while the load that claimed it runs: %v, want it refused", err)
	}
	tx.Rollback(ctx)
	if err := <-running; err != nil {
		t.Fatalf("the running load: %v", err)
	}
	cachetest.Equal(t, "users", cachetest.Strings(t, a, `SELECT id::text FROM users`), []string{"1"})
}

// A load that must wait for a table another session holds — a replace's
// swap behind a reader of the table, a new column behind an open write
// into it — waits without the lock every cache takes for its DDL: another
// source's load completes meanwhile, and the waiting load once the table
// is free. Before, it waited holding that lock, and every load into the
// database stalled behind it until the reader was gone (the other load, a
// replace of another table, never completed while users was held).
func TestHeldTableStallsOnlyItsLoad(t *testing.T) {
	t.Parallel()
	users := func(props string) *protocol.ConfiguredCatalog {
		return cachetest.Catalog(cachetest.Stream("users", props, protocol.SyncFullRefresh, nil))
	}
	for _, tc := range []struct {
		name     string
		hold     string // what the other session does to users, in a transaction it keeps open
		props    string // the waiting load's properties of users
		strategy cache.Strategy
		want     []string // users once the waiting load is done
	}{
		{"replace behind a reader", `SELECT count(*) FROM users`, `{"id":{"type":"integer"}}`, cache.StrategyReplace, []string{"2|NULL"}},
		{"new column behind a write", `INSERT INTO users (_airbyte_raw_id, id) VALUES ('x', 9)`, `{"id":{"type":"integer"},"age":{"type":"integer"}}`, cache.StrategyAppend, []string{"1|NULL", "2|30"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dsn := testenv.Postgres(t)
			ctx := context.Background()
			a, b := twoWorkers(t, dsn)
			cachetest.MustLoad(t, a, users(`{"id":{"type":"integer"}}`), cache.StrategyAppend, cachetest.Rec("users", `{"id":1}`))
			orders := cachetest.Catalog(cachetest.Stream("orders", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil))
			loadOrders := func(id int) error {
				_, err := b.Load(ctx, cache.LoadRequest{SourceName: "other", Catalog: orders, Strategy: cache.StrategyReplace,
					Messages: cachetest.Messages(cachetest.Rec("orders", fmt.Sprintf(`{"id":%d}`, id)))})
				return err
			}
			if err := loadOrders(6); err != nil {
				t.Fatal(err)
			}
			held := holdInTx(t, session(t, dsn), tc.hold)
			waiting := make(chan error, 1)
			go func() {
				_, err := a.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: users(tc.props), Strategy: tc.strategy,
					Messages: cachetest.Messages(cachetest.Rec("users", `{"id":2,"age":30}`))})
				waiting <- err
			}()
			watch := session(t, dsn)
			waitForLockWaits(t, watch, 1, waiting)
			other := make(chan error, 1)
			go func() { other <- loadOrders(7) }() // a swap of another table
			// The other load needs a moment; a stalled one never ends
			// while users is held, so the wait for it has to end somewhere.
			select {
			case err := <-other:
				if err != nil {
					t.Fatalf("the other source's load: %v", err)
				}
			case <-time.After(10 * time.Second):
				held.Rollback(ctx)
				t.Fatalf("the other source's load did not complete while users was held (after the release: %v)", <-other)
			}
			select {
			case err := <-waiting:
				t.Fatalf("the load of users completed while users was held: %v", err)
			default:
			}
			if err := held.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-waiting; err != nil {
				t.Fatalf("the load of users, once users was free: %v", err)
			}
			cachetest.Equal(t, "users", cachetest.Strings(t, a, `SELECT CAST(id AS VARCHAR), COALESCE(to_jsonb(u)->>'age', 'NULL') FROM users u ORDER BY id`), tc.want)
			cachetest.Equal(t, "orders", cachetest.Strings(t, a, `SELECT CAST(id AS VARCHAR) FROM orders`), []string{"7"})
		})
	}
}

// The next load of a source right after its load was killed with -9 is
// not refused as in use: the server releases the killed session's lock
// only once it notices that the session's client is gone, which may take
// a moment after the process has died. Before, about one kill in 30 was
// followed by an *InUseError ("held by another session": the lookup of
// the holder came after the server let go).
func TestLoadRightAfterAKill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	c, err := openDSN(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 20 {
		child := cachetest.LoadingChild(dsn, true)
		stdin, _ := child.StdinPipe()
		stdout, _ := child.StdoutPipe()
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "holding\n" {
			child.Process.Kill()
			child.Wait()
			t.Fatalf("the child did not start its load: %q", line)
		}
		child.Process.Signal(syscall.SIGKILL)
		child.Wait()
		stdin.Close()
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-concurrent", Catalog: cachetest.Catalog(cachetest.Stream("users",
			`{"id":{"type":"integer"},"name":{"type":["null","string"]},"updated_at":{"type":"string","format":"date-time","airbyte_type":"timestamp_with_timezone"}}`,
			protocol.SyncIncremental, [][]string{{"id"}}, "updated_at")), Messages: cachetest.Messages()})
		if err != nil {
			t.Fatalf("kill %d: the next load: %v", i+1, err)
		}
	}
}

// withParam adds key=value to a DSN, in its own form (URL query or
// keyword=value).
func withParam(t *testing.T, dsn, key, value string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " " + key + "=" + value
}

// The DSN that cache.Open takes, "…?schema=airbyte", given to
// NewConnector (and so to goairbyte.NewPostgresCache and goab's --cache)
// puts the tables in that schema too; before, pgx sent schema to the
// server as a setting and the connection failed ("unrecognized
// configuration parameter"). A DSN and WithSchema that disagree, and
// table_prefix, which only cache.Open and cache.WithTablePrefix apply,
// are refused with what to write instead.
func TestSchemaInDSN(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := testenv.Postgres(t)
	dsn := withParam(t, base, "schema", "from_dsn")
	for _, opts := range [][]postgres.Option{nil, {postgres.WithSchema("from_dsn")}} {
		c, err := cache.New(ctx, postgres.NewConnector(dsn, opts...))
		if err != nil {
			t.Fatalf("opening %d options: %v", len(opts), err)
		}
		cachetest.MustLoad(t, c, cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncFullRefresh, nil)), cache.StrategyAppend, cachetest.Rec("users", `{"id":1}`))
		ds, err := c.Dataset(ctx, "users")
		if err != nil || ds.QualifiedTableName() != `"from_dsn"."users"` {
			t.Fatalf("dataset %v, %v; want the table in the DSN's schema", ds, err)
		}
		c.Close()
	}

	_, err := cache.New(ctx, postgres.NewConnector(dsn, postgres.WithSchema("other")))
	if err == nil || !strings.Contains(err.Error(), "schema=from_dsn") || !strings.Contains(err.Error(), `(WithSchema, goab's --schema) says "other"`) {
		t.Fatalf("a DSN and WithSchema that disagree: got %v, want a refusal naming both", err)
	}
	_, err = cache.New(ctx, postgres.NewConnector(withParam(t, base, "table_prefix", "pre")))
	if err == nil || !strings.Contains(err.Error(), "cache.WithTablePrefix") {
		t.Fatalf("table_prefix in a DSN: got %v, want a refusal that says to use cache.WithTablePrefix or cache.Open", err)
	}
	// A parameter that is no setting and no misspelling of a parameter
	// pgx reads reaches the server as a setting, which refuses it: the
	// error says what to check. (A misspelling is refused before that:
	// TestSettingsCheckedBeforeConnecting.)
	_, err = cache.New(ctx, postgres.NewConnector(withParam(t, base, "frobnication_level", "x")))
	if err == nil || !strings.Contains(err.Error(), `"frobnication_level"`) || !strings.Contains(err.Error(), "check its spelling") {
		t.Fatalf("an unknown DSN parameter: got %v, want the server's refusal and a hint to check the parameter's spelling", err)
	}
}

// A parameter of the connection string that the server would refuse as a
// setting, and that can be told without it, is refused before anything
// connects, as the connection string's other mistakes: a misspelling of a
// parameter pgx or the cache reads, and libpq's parameters pgx does not
// read (the server refuses each of those, as the test shows). No setting
// of the server is refused.
func TestSettingsCheckedBeforeConnecting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const closed = "postgres://u@127.0.0.1:1/db" // nothing listens: connecting fails at once
	early := func(dsn string) (bool, error) {
		_, err := cache.New(ctx, postgres.NewConnector(dsn))
		var ae *cacheerr.ArgumentError
		return errors.As(err, &ae), err
	}
	for _, c := range []struct{ key, want string }{
		{"sslmod", "did you mean sslmode?"},
		{"shema", "did you mean schema?"},
		{"connect_timout", "did you mean connect_timeout?"},
		{"pool_max_con", "did you mean pool_max_conns?"},
		{"keepalives", "is libpq's, which pgx, the driver, does not read"},
	} {
		for _, dsn := range []string{withParam(t, closed, c.key, "disable"), "host=127.0.0.1 port=1 " + c.key + "=disable"} {
			if ok, err := early(dsn); !ok || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: got %v, want an argument error that says %q", dsn, err, c.want)
			}
		}
	}
	// None of the settings a connection may set, nor the parameters pgx
	// reads, is refused.
	base := testenv.Postgres(t)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT name FROM pg_settings WHERE context IN ('user', 'superuser', 'backend', 'superuser-backend')")
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(names) < 150 {
		t.Fatalf("the server's settings: %d, %v", len(names), err)
	}
	names = append(names, "myext.sslmod", "statement_cache_capacity", "pool_max_conns", "application_name", "options", "connect_timeout")
	for _, name := range names {
		if ok, err := early(withParam(t, closed, name, "1")); ok {
			t.Errorf("%s: refused before connecting (%v), but it is a setting or a parameter pgx reads", name, err)
		}
	}
	// The server refuses libpq's parameters that pgx does not read.
	for _, name := range []string{"hostaddr", "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
		"gssencmode", "gsslib", "gssdelegation", "sslcompression", "sslcrl", "sslcrldir",
		"ssl_min_protocol_version", "ssl_max_protocol_version", "requirepeer", "load_balance_hosts", "sslkeylogfile", "scram_client_key", "scram_server_key"} {
		if ok, err := early(withParam(t, closed, name, "1")); !ok {
			t.Errorf("%s: got %v, want a refusal before connecting", name, err)
		}
		cfg, err := pgx.ParseConfig(base)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams[name] = "1"
		if c, err := pgx.ConnectConfig(ctx, cfg); err == nil {
			c.Close(ctx)
			t.Errorf("%s: the server took it as a setting; it need not be refused", name)
		}
	}
}

// withPassword is dsn with password, which a test server of trust
// authentication never asks for; the test is skipped when dsn has one of
// its own.
func withPassword(t *testing.T, dsn, password string) string {
	t.Helper()
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		if strings.Contains(dsn, "password=") {
			t.Skip("the test server's DSN has a password")
		}
		return dsn + " password=" + password
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := u.User.Password(); ok {
		t.Skip("the test server's DSN has a password")
	}
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

// TestPasswordMaskedWhileOpen: a cache's password is masked while the
// Cache is open, not for good: a server opening caches for many tenants
// would otherwise mask every password it was ever given. Close lets it go.
// (A Cache dropped unclosed keeps its pool, which reconnects with the
// password: it stays masked.)
func TestPasswordMaskedWhileOpen(t *testing.T) {
	t.Parallel()
	password := "pg-lease-pw-closed-4e1b"
	c, err := openDSN(context.Background(), withPassword(t, testenv.Postgres(t), password))
	if err != nil {
		t.Fatal(err)
	}
	if got := secrets.Mask(password); got != "****" {
		t.Fatalf("while the cache is open: %q", got)
	}
	c.Close()
	if got := secrets.Mask(password); got != password {
		t.Fatalf("after Close: %q, want it no longer masked", got)
	}
}

// A load whose lock's session ends while it runs (pg_terminate_backend,
// idle_session_timeout, a cut connection) has lost the lock, which the
// next load takes: it stops with an error that says so, rather than go on
// writing beside that load the records after the same state (outsider12:
// two workers appending one source doubled 301,000 of 400,000 rows).
func TestLoadStopsWhenItsLockIsLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := open(t)
	catalog := usersByID()
	terminated := false
	msgs := func(yield func(*protocol.Message, error) bool) {
		for i := range 60000 {
			if !yield(cachetest.Rec("users", fmt.Sprintf(`{"id":%d}`, i)), nil) || !yield(cachetest.StreamState("users", fmt.Sprintf(`{"id":%d}`, i)), nil) {
				return
			}
			if i == 10 {
				// The load's lock is the database's only advisory lock.
				if _, err := c.ExecSQL(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted
					AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
					t.Error(err)
					return
				}
				terminated = true
			}
			if i > 10 {
				time.Sleep(time.Millisecond) // a connector's pace
			}
		}
	}
	res, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-lost-lock", Catalog: catalog, Messages: msgs})
	if !terminated {
		t.Fatal("the lock's session was not terminated")
	}
	if err == nil || !strings.Contains(err.Error(), "was lost") || !strings.Contains(err.Error(), "load again") {
		t.Fatalf("a load that lost its lock returned %v (%d records), want an error saying the lock was lost", err, res.Total)
	}
	if res.Total == 60000 {
		t.Errorf("the load went on to its end after it lost its lock")
	}
	// The lock is free: the next load runs, from the state committed.
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-lost-lock", Catalog: catalog,
		Messages: cachetest.Messages(cachetest.Rec("users", `{"id":1}`))}); err != nil {
		t.Fatalf("the next load: %v", err)
	}
}

// A load whose writing session the server ends (a restart,
// pg_terminate_backend) fails with an error that says what to do: run it
// again, it resumes from the last committed state (outsider12: the error
// was the server's FATAL alone).
func TestLoadWhoseSessionEndsSaysToRunAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := open(t)
	catalog := usersByID()
	load := func() error {
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-session-ended", Catalog: catalog,
			Messages: cachetest.Messages(cachetest.Rec("users", `{"id":1}`), cachetest.StreamState("users", `{"id":1}`))})
		return err
	}
	if err := load(); err != nil {
		t.Fatal(err)
	}
	// The session writing into users is ended as the server ends it on a
	// restart.
	for _, q := range []string{
		`CREATE FUNCTION end_session() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$`,
		`CREATE TRIGGER end_session BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION end_session()`,
	} {
		if _, err := c.ExecSQL(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	err := load()
	if err == nil || !strings.Contains(err.Error(), "57P01") || !strings.Contains(err.Error(), "run it again") {
		t.Fatalf("a load whose session the server ended returned %v, want the server's error and what to do", err)
	}
}

// A load that lost its lock, and begins a transaction once the next load
// has taken the lock and committed, fails that transaction with an error
// that says so: before, it committed, and the records after the state
// both loads started from were there twice (the watcher, which asks every
// 0.2 s, let a load commit for that long after the loss: a run of two
// workers doubled 900 rows). The watcher is off, so that the fence alone
// stands between the two loads. Not parallel: it sets how often locks are
// watched.
func TestLoadFencedOnceItsLockIsLost(t *testing.T) {
	defer postgres.WatchLocksEvery(time.Hour)()
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	a, b := twoWorkers(t, dsn)
	const source = "source-fenced"
	committed := make(chan struct{}, 1)
	var errB error
	msgs := func(yield func(*protocol.Message, error) bool) {
		for m := range numbered(1, 5) {
			if !yield(m, nil) {
				return
			}
		}
		<-committed // records 1 to 5, with the fifth
		if !testenv.EndLockSessions(t, dsn) {
			return
		}
		_, errB = b.Load(ctx, cache.LoadRequest{SourceName: source, Catalog: usersByID(), Messages: numbered(6, 10)})
		for m := range numbered(6, 10) {
			if !yield(m, nil) {
				return
			}
		}
	}
	res, err := a.Load(ctx, cache.LoadRequest{SourceName: source, Catalog: usersByID(), Messages: msgs, BatchSize: 5,
		Committed: func(map[string]int64, []cache.StateKey) {
			select {
			case committed <- struct{}{}:
			default:
			}
		}})
	if errB != nil {
		t.Fatalf("the second worker's load: %v", errB)
	}
	if err == nil || !strings.Contains(err.Error(), "was lost") || !strings.Contains(err.Error(), "resumes from the last committed state") {
		t.Errorf("the load that lost its lock returned %v, want an error saying the lock was lost and that a next load resumes", err)
	}
	if res.Total != 5 {
		t.Errorf("the load that lost its lock committed %d records, want the 5 before the loss", res.Total)
	}
	wantIDsOnce(t, a, 10)
}

// A transaction of a load that began before the load lost its lock, and
// is still open when the next load takes it, ends before that load goes
// on: committed, it is read by the next load as if it had committed
// before the loss. The next load's Lock waits for it.
func TestNextLoadWaitsForAFencedTransaction(t *testing.T) {
	defer postgres.WatchLocksEvery(time.Hour)()
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	a, b := twoWorkers(t, dsn)
	watch := session(t, dsn)
	const source = "source-fenced"
	doneB := make(chan error, 1)
	msgs := func(yield func(*protocol.Message, error) bool) {
		var rest []*protocol.Message
		for m := range numbered(1, 5) {
			rest = append(rest, m)
		}
		// The first chunk is one record: the writer begins its
		// transaction with it, and holds the fence's key until it ends.
		// (The iterator fails the test with Error, not Fatal: the load
		// must end for the test's caches to close.)
		if !yield(rest[0], nil) {
			return
		}
		if err := awaitCount(watch, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND granted AND mode = 'ShareLock'`, 1, nil); err != nil {
			t.Error(err)
			return
		}
		if !testenv.EndLockSessions(t, dsn) {
			return
		}
		go func() {
			_, err := b.Load(ctx, cache.LoadRequest{SourceName: source, Catalog: usersByID(), Messages: numbered(6, 10)})
			doneB <- err
		}()
		if err := awaitCount(watch, `SELECT count(*) FROM pg_locks WHERE NOT granted`, 1, doneB); err != nil {
			t.Error(err)
			doneB <- nil // for the wait below
		}
		for _, m := range rest[1:] {
			if !yield(m, nil) {
				return
			}
		}
	}
	res, err := a.Load(ctx, cache.LoadRequest{SourceName: source, Catalog: usersByID(), Messages: msgs, BatchSize: 5})
	if err := <-doneB; err != nil {
		t.Fatalf("the second worker's load: %v", err)
	}
	if res.Total != 5 || err == nil || !strings.Contains(err.Error(), "was lost") {
		t.Errorf("the load that lost its lock committed %d records and returned %v; want the 5 of the transaction open at the loss, and an error saying the lock was lost", res.Total, err)
	}
	wantIDsOnce(t, a, 10)
}

// numbered is records of users with ids from to to, each followed by the
// state of its id.
func numbered(from, to int) iter.Seq2[*protocol.Message, error] {
	var msgs []*protocol.Message
	for i := from; i <= to; i++ {
		msgs = append(msgs, cachetest.Rec("users", fmt.Sprintf(`{"id":%d}`, i)), cachetest.StreamState("users", fmt.Sprintf(`{"id":%d}`, i)))
	}
	return cachetest.Messages(msgs...)
}

// wantIDsOnce checks that users holds ids 1 to n, each once.
func wantIDsOnce(t *testing.T, c *cache.Cache, n int) {
	t.Helper()
	var rows, ids, top int
	if err := c.DB().QueryRow(`SELECT count(*), count(DISTINCT id), coalesce(max(id), 0) FROM users`).Scan(&rows, &ids, &top); err != nil {
		t.Fatal(err)
	}
	if rows != n || ids != n || top != n {
		t.Errorf("users holds %d rows, %d distinct ids up to %d; want ids 1 to %d once each", rows, ids, top, n)
	}
}

// usersByID is the catalog of one incremental stream, users, whose
// cursor is its only field, id.
func usersByID() *protocol.ConfiguredCatalog {
	return cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"}}`, protocol.SyncIncremental, nil, "id"))
}

// The load refused names its holder by the holder session's
// application_name, which the server cuts at 63 bytes: a cut name ends in
// "…", not in mid-phrase (outsider12 read "load source-faker under table
// prefix since …" and looked for the missing prefix).
func TestInUseHolderCutNameSaysSo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := open(t)
	source := "source-with-a-name-longer-than-the-server-keeps"
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Load(ctx, cache.LoadRequest{SourceName: source, Catalog: usersByID(), Messages: func(yield func(*protocol.Message, error) bool) {
			close(started)
			<-release
		}})
		done <- err
	}()
	<-started
	_, err := c.Load(ctx, cache.LoadRequest{SourceName: source, Catalog: usersByID(), Messages: cachetest.Messages()})
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !errors.Is(err, cache.ErrInUse) || !strings.Contains(err.Error(), "… since ") {
		t.Fatalf("got %v, want an ErrInUse whose holder's cut name ends in …", err)
	}
}

// BenchmarkRecords reads PostgreSQL tables with Dataset.Records, in one
// streamed query (see cachetest.BenchmarkRecords); each case loads its
// table into a database of its own first.
func BenchmarkRecords(b *testing.B) {
	cachetest.BenchmarkRecords(b, func(b *testing.B, _ string) (*cache.Cache, bool) {
		c, err := openDSN(context.Background(), testenv.Postgres(b))
		if err != nil {
			b.Fatal(err)
		}
		return c, false
	})
}

// BenchmarkRecordLines exports faker-like users with Dataset.RecordLines
// (see cachetest.BenchmarkRecordLines), and logs the plan of a page of
// the export in the middle of the table, as the server ran it: run with
// -v to see it.
func BenchmarkRecordLines(b *testing.B) {
	open := func(b *testing.B) *cache.Cache {
		c, err := openDSN(context.Background(), testenv.Postgres(b))
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	cachetest.BenchmarkRecordLines(b, open, func(b *testing.B, c *cache.Cache, rows int) {
		ctx := context.Background()
		bound := func(n int) string {
			var id string
			if err := c.DB().QueryRowContext(ctx, `SELECT _airbyte_raw_id FROM users ORDER BY 1 OFFSET $1 LIMIT 1`, min(n, rows-1)).Scan(&id); err != nil {
				b.Fatal(err)
			}
			return id
		}
		lo, hi := bound(rows/2), bound(rows/2+50_000)
		plan := cachetest.Strings(b, c, `EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM users WHERE (_airbyte_raw_id > '`+lo+`' AND _airbyte_raw_id <= '`+hi+`')`)
		b.Logf("a page of 50,000 rows of %d:\n%s", rows, strings.Join(plan, "\n"))
	})
}
