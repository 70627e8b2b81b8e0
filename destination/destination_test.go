package destination_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	nooppkg "github.com/x/goairbyte/connectors/noop"
	"github.com/x/goairbyte/internal/core"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/envtest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func fakerConfig(count int) map[string]any {
	return map[string]any{"count": count, "seed": 3, "records_per_slice": 100, "always_updated": false}
}

func newFaker(t *testing.T, count int, streams ...string) *source.Source {
	t.Helper()
	return newFakerIn(t, connector.DefaultEnvironment(), count, streams...)
}

func newFakerIn(t *testing.T, env *connector.Environment, count int, streams ...string) *source.Source {
	t.Helper()
	src, err := source.New(context.Background(), "source-faker", connector.WithEnvironment(env),
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./cmd/source-faker")),
		connector.WithConfig(fakerConfig(count)), connector.WithStreams(streams...))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func newLocalJSON(t *testing.T, dir string, extra map[string]any, opts ...connector.Option) *destination.Destination {
	t.Helper()
	cfg := map[string]any{"destination_path": dir}
	for k, v := range extra {
		cfg[k] = v
	}
	d, err := destination.New(context.Background(), "destination-local-json", append(opts,
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./destination/internal/dieafter")),
		connector.WithConfig(cfg))...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func openCache(t testing.TB) *cache.Cache {
	t.Helper()
	c, err := cache.New(context.Background(), duckdb.NewConnector(filepath.Join(t.TempDir(), "c.duckdb")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// fileIDs reads the local-JSON file of a stream: the number of lines, and
// how many times each record id occurs.
func fileIDs(t *testing.T, dir, stream string) (int, map[int64]int) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "_airbyte_raw_"+stream+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids := map[int64]int{}
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Data struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			} `json:"_airbyte_data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %d of %s: %v", n+1, stream, err)
		}
		if line.Data.ID == 0 || line.Data.Name == "" {
			t.Fatalf("line %d of %s lacks id or name: %s", n+1, stream, sc.Text())
		}
		ids[line.Data.ID]++
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n, ids
}

func wantOnce(t *testing.T, ids map[int64]int, n int) {
	t.Helper()
	for i := int64(1); i <= int64(n); i++ {
		if ids[i] != 1 {
			t.Fatalf("user %d is in the file %d times, want once", i, ids[i])
		}
	}
	if len(ids) != n {
		t.Fatalf("%d distinct users in the file, want %d", len(ids), n)
	}
}

// TestWriteFromSourceDefaultCache writes a Source through the default
// cache (of an Environment of the test's own), then again with a larger
// count: the second Write sends only the new users.
func TestWriteFromSourceDefaultCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	out := t.TempDir()
	env := envtest.New(t)
	src := newFakerIn(t, env, 300, "users")
	dst := newLocalJSON(t, out, nil, connector.WithEnvironment(env))

	res, err := dst.Write(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if res.RecordsSent["users"] != 300 || res.RecordsConfirmed["users"] != 300 {
		t.Fatalf("first write: sent %v confirmed %v, want 300 users each", res.RecordsSent, res.RecordsConfirmed)
	}
	n, ids := fileIDs(t, out, "users")
	if n != 300 {
		t.Fatalf("%d lines after the first write, want 300", n)
	}
	wantOnce(t, ids, 300)
	if def, err := core.EnvOf(env).DefaultCache(ctx); err != nil || res.State == nil {
		t.Fatalf("the default cache was not used: %v", err)
	} else if st, _ := def.State(ctx, cache.StateKey{Source: "source-faker", Destination: res.DestinationKey, Stream: "users"}); st == nil {
		t.Fatal("the destination's state is not in the default cache")
	}
	wm, err := res.State.Watermark(ctx, "users")
	if err != nil || wm == "" {
		t.Fatalf("no watermark stored: %q, %v", wm, err)
	}

	src.SetConfig(fakerConfig(500))
	res, err = dst.Write(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if res.RecordsSent["users"] != 200 || res.RecordsConfirmed["users"] != 200 {
		t.Fatalf("second write: sent %v confirmed %v, want only the 200 new users", res.RecordsSent, res.RecordsConfirmed)
	}
	n, ids = fileIDs(t, out, "users")
	if n != 500 {
		t.Fatalf("%d lines after the second write, want 500", n)
	}
	wantOnce(t, ids, 500)
	wm2, _ := res.State.Watermark(ctx, "users")
	if wm2 <= wm {
		t.Fatalf("the watermark did not advance: %q then %q", wm, wm2)
	}

	// Nothing new: nothing is sent.
	res, err = dst.Write(ctx, src)
	if err != nil || res.TotalSent() != 0 {
		t.Fatalf("third write sent %v, %v; want nothing", res.RecordsSent, err)
	}
}

// TestWriteStrategiesFromReadResult writes one ReadResult with each
// strategy and full refresh, and looks at the files.
func TestWriteStrategiesFromReadResult(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openCache(t)
	rr, err := newFaker(t, 120, "users").Read(ctx, source.UseCache(c))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		strategy cache.Strategy
		lines    int // after two full-refresh writes
	}{
		{cache.StrategyAppend, 240},
		{cache.StrategyReplace, 120},
		{cache.StrategyMerge, 120},
	} {
		t.Run(string(tc.strategy), func(t *testing.T) {
			out := t.TempDir()
			dst := newLocalJSON(t, out, nil)
			for i := 0; i < 2; i++ {
				res, err := dst.Write(ctx, rr, destination.Strategy(tc.strategy), destination.ForceFullRefresh(), destination.StateCache(openCache(t)))
				if err != nil {
					t.Fatal(err)
				}
				if res.RecordsSent["users"] != 120 {
					t.Fatalf("write %d sent %v, want 120 users", i+1, res.RecordsSent)
				}
			}
			n, ids := fileIDs(t, out, "users")
			if n != tc.lines {
				t.Fatalf("%d lines, want %d", n, tc.lines)
			}
			if tc.strategy != cache.StrategyAppend {
				wantOnce(t, ids, 120)
			}
		})
	}
	// Without full refresh a second append write sends nothing new.
	out := t.TempDir()
	dst := newLocalJSON(t, out, nil)
	for i, want := range []int64{120, 0} {
		res, err := dst.Write(ctx, rr, destination.Strategy(cache.StrategyAppend))
		if err != nil || res.TotalSent() != want {
			t.Fatalf("append write %d sent %d (%v), want %d", i+1, res.TotalSent(), err, want)
		}
	}
	if n, _ := fileIDs(t, out, "users"); n != 120 {
		t.Fatalf("%d lines after two incremental appends, want 120", n)
	}
}

// TestWriteNoCache streams the source straight into the destination; the
// echoed states are the source's, so the second Write reads only what is
// new.
func TestWriteNoCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	out := t.TempDir()
	states := openCache(t)
	src := newFaker(t, 250, "users", "purchases")
	dst := newLocalJSON(t, out, nil)
	res, err := dst.Write(ctx, src, destination.NoCache(), destination.StateCache(states))
	if err != nil {
		t.Fatal(err)
	}
	if res.RecordsSent["users"] != 250 || res.RecordsConfirmed["users"] != 250 || res.RecordsSent["purchases"] == 0 {
		t.Fatalf("sent %v confirmed %v", res.RecordsSent, res.RecordsConfirmed)
	}
	st, err := res.State.State(ctx, "users")
	if err != nil || st == nil || st.Stream == nil {
		t.Fatalf("no source state stored for users: %v, %v", st, err)
	}
	src.SetConfig(fakerConfig(400))
	res, err = dst.Write(ctx, src, destination.NoCache(), destination.StateCache(states))
	if err != nil {
		t.Fatal(err)
	}
	if res.RecordsSent["users"] != 150 {
		t.Fatalf("second write sent %v, want 150 new users", res.RecordsSent)
	}
	n, ids := fileIDs(t, out, "users")
	if n != 400 {
		t.Fatalf("%d lines, want 400", n)
	}
	wantOnce(t, ids, 400)
}

// TestWriteCacheAndNoCache: UseCache(c) with NoCache() kept the last one
// given, silently: the user who named c found the destination's state in
// ./.cache/default_cache instead, or the records read into c. Both at once
// are refused before anything runs, and say what to use.
func TestWriteCacheAndNoCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openCache(t)
	src := newFaker(t, 10, "users")
	dst := newLocalJSON(t, t.TempDir(), nil)
	for _, opts := range [][]destination.WriteOption{
		{destination.UseCache(c), destination.NoCache()},
		{destination.NoCache(), destination.UseCache(c)},
	} {
		res, err := dst.Write(ctx, src, opts...)
		if !errors.Is(err, connector.ErrInvalidOption) || !strings.Contains(err.Error(), "StateCache") || res != nil {
			t.Errorf("got %v, %v; want an error matching ErrInvalidOption that points to StateCache", res, err)
		}
	}
}

// TestWriteKilledThenRetried kills the destination mid-stream; the retry
// sends what was not confirmed and, under merge, the file ends with every
// user exactly once.
func TestWriteKilledThenRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openCache(t)
	out := t.TempDir()
	const users = 35_000
	rr, err := newFaker(t, users, "users").Read(ctx, source.UseCache(c))
	if err != nil {
		t.Fatal(err)
	}
	dying := newLocalJSON(t, out, map[string]any{"die_after_records": 25_000})
	// The retry's config lacks the test's die_after_records, so the two are
	// one destination only by an explicit state key.
	key := destination.StateKey("local-json-under-test")
	res, err := dying.Write(ctx, rr, destination.Strategy(cache.StrategyMerge), key)
	var we *destination.WriteError
	var ce *executor.ConnectorError
	if !errors.As(err, &we) || !errors.As(err, &ce) {
		t.Fatalf("the killed destination returned %v, want a *WriteError wrapping an *executor.ConnectorError", err)
	}
	if ce.ExitCode == 0 {
		t.Fatalf("exit code %d of a killed destination", ce.ExitCode)
	}
	if res.TotalConfirmed() > 25_000 {
		t.Fatalf("%d records confirmed by a destination that got 25,000", res.TotalConfirmed())
	}
	wm, _ := res.State.Watermark(ctx, "users")
	t.Logf("killed after %d confirmed, watermark %q", res.TotalConfirmed(), wm)

	retry := newLocalJSON(t, out, nil)
	res2, err := retry.Write(ctx, rr, destination.Strategy(cache.StrategyMerge), key)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res2.RecordsSent["users"], users-res.RecordsConfirmed["users"]; got != want {
		t.Fatalf("retry sent %d, want the %d not confirmed", got, want)
	}
	n, ids := fileIDs(t, out, "users")
	if n != users {
		t.Fatalf("%d lines after the retry, want %d", n, users)
	}
	wantOnce(t, ids, users)
}

// TestWriteDocker runs the local-JSON destination as a Docker image with
// the host directory mounted at /local.
func TestWriteDocker(t *testing.T) {
	t.Parallel()
	cli := testenv.Docker(t)
	image := testenv.LocalJSONImage(t, cli)
	ctx := context.Background()
	host := t.TempDir()
	dst, err := destination.New(ctx, "destination-local-json", connector.WithDockerImage(image), connector.WithLocalMount(host),
		connector.WithConfig(map[string]any{"destination_path": "/local/json"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := dst.Check(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := dst.Write(ctx, newFaker(t, 80, "users"), destination.UseCache(openCache(t)))
	if err != nil {
		t.Fatal(err)
	}
	if res.RecordsConfirmed["users"] != 80 {
		t.Fatalf("confirmed %v", res.RecordsConfirmed)
	}
	n, ids := fileIDs(t, filepath.Join(host, "json"), "users")
	if n != 80 {
		t.Fatalf("%d lines, want 80", n)
	}
	wantOnce(t, ids, 80)
}

// TestWriteDockerLocalByDefault: with no mount given, a Docker
// destination whose config writes under /local gets the project
// directory's destination-local-json mounted there, as PyAirbyte mounts
// it: its files were left in the container, removed with it, while every
// record was confirmed. A config that names no /local path mounts nothing.
// Not parallel: it sets AIRBYTE_PROJECT_DIR.
func TestWriteDockerLocalByDefault(t *testing.T) {
	cli := testenv.Docker(t)
	image := testenv.LocalJSONImage(t, cli)
	ctx := context.Background()
	project := t.TempDir()
	t.Setenv("AIRBYTE_PROJECT_DIR", project)
	dst, err := destination.New(ctx, "destination-local-json", connector.WithDockerImage(image),
		connector.WithConfig(map[string]any{"destination_path": "/tmp/json"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := dst.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(project, "destination-local-json")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a config with no /local path made the mount's directory: %v", err)
	}
	dst.SetConfig(map[string]any{"destination_path": "/local/json"})
	res, err := dst.Write(ctx, newFaker(t, 40, "users"), destination.UseCache(openCache(t)))
	if err != nil {
		t.Fatal(err)
	}
	if res.RecordsConfirmed["users"] != 40 {
		t.Fatalf("confirmed %v", res.RecordsConfirmed)
	}
	n, ids := fileIDs(t, filepath.Join(project, "destination-local-json", "json"), "users")
	if n != 40 {
		t.Fatalf("%d lines in the project's directory, want 40", n)
	}
	wantOnce(t, ids, 40)
}

// noop is the in-process no-op destination, registered in an Environment
// of the test's own as the root package registers it.
func noop(t testing.TB) *destination.Destination {
	t.Helper()
	env := connector.NewEnvironment()
	env.RegisterConnector(nooppkg.Name, func() any { return nooppkg.Destination{} })
	d, err := destination.New(context.Background(), nooppkg.Name, connector.WithEnvironment(env), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestNoop confirms everything it is sent.
func TestNoop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	res, err := noop(t).Write(ctx, newFaker(t, 30_000, "users"), destination.NoCache(), destination.NoStateCache())
	if err != nil {
		t.Fatal(err)
	}
	if res.RecordsSent["users"] != 30_000 || res.RecordsConfirmed["users"] != 30_000 {
		t.Fatalf("sent %v confirmed %v", res.RecordsSent, res.RecordsConfirmed)
	}
}

// TestWriteToOddDestinations uses the echo test connector as a destination:
// one that copies every RECORD it is sent back onto its output (tolerated
// and counted), and one that swallows the STATEs (the write completes, with
// a warning, and nothing is confirmed, so the next write sends it all again).
func TestWriteToOddDestinations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openCache(t)
	rr, err := newFaker(t, 120, "users").Read(ctx, source.UseCache(c), source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	// Two names, since a destination's confirmed state is kept by name.
	newEcho := func(name string, dropStates bool, logs *bytes.Buffer) *destination.Destination {
		d, err := destination.New(ctx, name,
			connector.WithLocalExecutable(testenv.BuildBinary(t, "./internal/testconnectors/echo")),
			connector.WithConfig(map[string]any{"drop_states": dropStates}),
			connector.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	var logs bytes.Buffer
	res, err := newEcho("destination-echo", false, &logs).Write(ctx, rr, destination.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	if res.DestinationRecords != 120 || res.RecordsSent["users"] != 120 || res.RecordsConfirmed["users"] != 120 {
		t.Fatalf("echoing destination: %d records out, sent %v, confirmed %v; want 120 each",
			res.DestinationRecords, res.RecordsSent, res.RecordsConfirmed)
	}
	if !strings.Contains(logs.String(), "RECORD messages on its output") {
		t.Errorf("no warning about the destination's RECORDs:\n%s", logs.String())
	}

	// A destination that echoes no state has confirmed nothing: the
	// Write fails, as one whose destination failed, with its result. It
	// returned nil and said so only in a log line, so a caller checking
	// the error believed the records written.
	silent := newEcho("destination-silent", true, &logs)
	for range 2 {
		res, err = silent.Write(ctx, rr, destination.NoProgress())
		var ce *executor.ConnectorError
		if !errors.Is(err, executor.ErrConnectorFailed) || !errors.As(err, &ce) || ce.Missing != protocol.TypeState || ce.Command != executor.VerbWrite ||
			!strings.Contains(err.Error(), "echoed none of the states it was sent (1)") {
			t.Fatalf("silent destination: got %v, want a ConnectorError matching ErrConnectorFailed with Missing STATE", err)
		}
		if res == nil || res.RecordsSent["users"] != 120 || res.TotalConfirmed() != 0 || res.StatesConfirmed != 0 {
			t.Fatalf("silent destination: result %+v; want 120 sent again and nothing confirmed", res)
		}
	}
}

// A source that sends no states gives the destination nothing to echo: the
// Write says so, rather than that the destination echoed none of the
// states sent, and StatesSent counts the states it forwarded.
func TestWriteFromSourceWithoutStates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, err := source.New(ctx, "source-seconds",
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./internal/testconnectors/seconds")), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	dst, err := destination.New(ctx, "destination-echo",
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./internal/testconnectors/echo")),
		connector.WithConfig(map[string]any{}), connector.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	res, err := dst.Write(ctx, src, destination.NoCache(), destination.StateCache(openCache(t)), destination.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	if res.RecordsSent["items"] != 3 || res.StatesSent != 0 || res.StatesConfirmed != 0 {
		t.Fatalf("sent %v records and %d states, %d confirmed; want 3 records and no state", res.RecordsSent, res.StatesSent, res.StatesConfirmed)
	}
	if !strings.Contains(logs.String(), "the source sent no states") || strings.Contains(logs.String(), "echoed none of the states sent") {
		t.Errorf("the warning does not say that the source sent no states:\n%s", logs.String())
	}

	// From a cache, Write sends a state after each stream's rows.
	rr, err := newFaker(t, 20, "users").Read(ctx, source.UseCache(openCache(t)), source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	if res, err = dst.Write(ctx, rr, destination.NoProgress()); err != nil {
		t.Fatal(err)
	}
	if res.StatesSent != 1 || res.StatesConfirmed != 1 {
		t.Fatalf("from a cache: %d states sent, %d confirmed; want 1 and 1", res.StatesSent, res.StatesConfirmed)
	}
}

// A destination config that breaks the destination's spec fails the Write
// before the source is read, with the *connector.ConfigValidationError
// that names the field: before, a Write through a cache read the whole
// source first, and then the destination failed with its own config_error,
// which matched no sentinel.
func TestWriteValidatesTheConfigFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dst, err := destination.New(ctx, "destination-local-json",
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./cmd/destination-local-json")),
		connector.WithConfig(map[string]any{"destination_path": 42}))
	if err != nil {
		t.Fatal(err)
	}
	c := openCache(t)
	for _, opts := range [][]destination.WriteOption{{destination.UseCache(c)}, {destination.NoCache(), destination.StateCache(c)}} {
		_, err = dst.Write(ctx, newFaker(t, 50, "users"), opts...)
		var ve *connector.ConfigValidationError
		if !errors.Is(err, connector.ErrConfigInvalid) || !errors.As(err, &ve) || ve.Problems[0].Field != "destination_path" {
			t.Fatalf("got %v, want a *connector.ConfigValidationError naming destination_path", err)
		}
	}
	if _, err := c.Dataset(ctx, "users"); !errors.Is(err, protocol.ErrStreamNotFound) {
		t.Fatalf("the source was read into the cache (%v) although the destination could not take it", err)
	}
}

// UseCache(nil) and StateCache(nil) — a cache variable a failed open left
// nil — are refused before anything runs: they read into, or kept the
// destination's state in, the Environment's default cache.
func TestWriteNilCaches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := newFaker(t, 5, "users")
	dst := newLocalJSON(t, t.TempDir(), nil)
	var c *cache.Cache
	for name, opts := range map[string][]destination.WriteOption{
		"UseCache":   {destination.UseCache(c)},
		"StateCache": {destination.NoCache(), destination.StateCache(c)},
	} {
		res, err := dst.Write(ctx, src, opts...)
		if !errors.Is(err, connector.ErrInvalidOption) || !strings.Contains(err.Error(), "destination."+name+": it got a nil *cache.Cache") || res != nil {
			t.Errorf("%s(nil): want an error naming the nil cache, got %v, %v", name, res, err)
		}
	}
}

// TestWriteKeyFieldTheStreamLacks: a primary key overridden with a field
// the stream's schema lacks went to the destination as it was without the
// cache (which would deduplicate on a field no record has), where the
// cache refused it. Both paths refuse it alike, before the destination
// gets a record: an error matching cache.ErrStrategy that names the field.
func TestWriteKeyFieldTheStreamLacks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, opts := range map[string][]destination.WriteOption{
		"through the cache": {destination.UseCache(openCache(t))},
		"without the cache": {destination.NoCache(), destination.StateCache(openCache(t))},
	} {
		for _, key := range [][]string{{"idd"}, {"nope", "city"}} {
			src := newFaker(t, 10, "users")
			src.SetPrimaryKey("users", key)
			out := t.TempDir()
			_, err := newLocalJSON(t, out, nil).Write(ctx, src, opts...)
			var se *cacheerr.StrategyError
			if !errors.Is(err, cache.ErrStrategy) || !errors.As(err, &se) || se.Stream != "users" || !strings.Contains(err.Error(), `primary key field "`+key[0]+`"`) {
				t.Errorf("%s, key %v: got %v, want a *StrategyError matching cache.ErrStrategy that names the field", name, key, err)
			}
			if _, err := os.Stat(filepath.Join(out, "_airbyte_raw_users.jsonl")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s, key %v: the destination wrote the stream (%v)", name, key, err)
			}
		}
		// A cursor likewise.
		src := newFaker(t, 10, "users")
		src.SetCursorField("users", "updatedd")
		if _, err := newLocalJSON(t, t.TempDir(), nil).Write(ctx, src, opts...); !errors.Is(err, cache.ErrStrategy) || !strings.Contains(err.Error(), `cursor field "updatedd"`) {
			t.Errorf("%s, cursor updatedd: got %v, want an error matching cache.ErrStrategy that names the field", name, err)
		}
	}
}

// A source's executable given as a destination is refused when Write
// starts, before the source is read: its name and its spec (no
// destination sync modes) say it is a source. The write command failed.
func TestWriteToASource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dst, err := destination.New(ctx, "destination-mine", connector.WithLocalExecutable(testenv.BuildBinary(t, "./cmd/source-faker")),
		connector.WithConfig(map[string]any{"count": 1}))
	if err != nil {
		t.Fatal(err)
	}
	src := newFaker(t, 10, "users")
	res, err := dst.Write(ctx, src, destination.NoCache(), destination.NoStateCache())
	if !errors.Is(err, connector.ErrInvalidOption) || !strings.Contains(err.Error(), "is a source, not a destination") || (res != nil && res.TotalSent() != 0) {
		t.Fatalf("got %+v, %v; want an *OptionError saying it is a source, before anything is sent", res, err)
	}
}
