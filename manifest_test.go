package goairbyte_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/declarative"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/replaytest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/registry"
	"github.com/x/goairbyte/source"
)

// TestManifestConformanceIntoCaches runs every conformance connector from
// its manifest, in process (GetSource with WithManifest, the recorded
// traffic replayed through WithHTTPClient at the recording's frozen
// clock), into a DuckDB cache and a PostgreSQL cache: the cached rows are
// the records the Python CDK read, and a second Read, incremental from the
// state the cache committed, brings exactly the records of the CDK's
// incremental read.
func TestManifestConformanceIntoCaches(t *testing.T) {
	for _, c := range replaytest.Connectors(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			t.Run("duckdb", func(t *testing.T) {
				dc, err := cache.New(context.Background(), duckdb.NewConnector(filepath.Join(t.TempDir(), "cache.duckdb")))
				if err != nil {
					t.Fatal(err)
				}
				defer dc.Close()
				conformanceIntoCache(t, c, dc)
			})
			t.Run("postgres", func(t *testing.T) {
				pc, err := cache.New(context.Background(), postgres.NewConnector(testenv.Postgres(t)))
				if err != nil {
					t.Fatal(err)
				}
				defer pc.Close()
				conformanceIntoCache(t, c, pc)
			})
		})
	}
}

// cacheLimits lists, per connector, the streams the caches refuse to load,
// with the error that says why. The test checks that each still fails that
// way, so an entry goes stale, and fails, once the cache takes the stream.
var cacheLimits = map[string]map[string]string{
	"source-teamwork": {
		// Two properties differ only by case, and columns are lower case.
		"projects": `both normalise to the identifier "customfieldvalues"`,
		// The cursor field is not among the schema's properties.
		"notebooks_comments.json": `"updatedAt" is not a property of its JSON schema`,
	},
}

// replayedSource runs a conformance connector from its manifest, in
// process, its recorded traffic replayed at the recording's frozen clock.
func replayedSource(t *testing.T, c replaytest.Connector) (*goairbyte.Source, *replaytest.Server) {
	t.Helper()
	srv := c.Replay(t, replaytest.SkipRetried())
	src, err := goairbyte.GetSource(context.Background(), c.Name, connector.WithManifest(c.Manifest),
		connector.WithHTTPClient(srv.Client()), connector.WithClock(c.Clock()),
		connector.WithConfig(c.Config), connector.WithEnvironment(goairbyte.NewEnvironment()))
	if err != nil {
		t.Fatal(err)
	}
	return src, srv
}

func conformanceIntoCache(t *testing.T, c replaytest.Connector, into *cache.Cache) {
	ctx := context.Background()
	src, srv := replayedSource(t, c)
	srv.Phase("check")
	if err := src.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}

	srv.Phase("read")
	limits := cacheLimits[c.Name]
	for stream, reason := range limits {
		_, err := src.Read(ctx, source.UseCache(into), source.Streams(stream), source.NoProgress())
		if err == nil || !strings.Contains(err.Error(), reason) {
			t.Errorf("%s: the cache was expected to refuse it (%s): %v; remove the entry from cacheLimits if it is fixed", stream, reason, err)
		}
	}
	streams := without(c.Started(t, "read.jsonl"), limits)
	res := readReplayed(t, src, srv, into, streams)
	want := c.Records(t, "read.jsonl")
	for _, s := range streams {
		equalRows(t, into, readCatalog(res), s, want[s])
	}
	if !c.HasIncremental() {
		return
	}

	// The committed states are the CDK's final ones, and the next Read
	// starts from them.
	incremental := without(c.IncrementalStreams(t), limits)
	finals := c.FinalStates(t, "read.jsonl")
	for _, s := range incremental {
		st, err := into.State(ctx, cache.StateKey{Source: c.Name, Stream: s})
		if err != nil || st == nil || st.Stream == nil {
			t.Fatalf("%s: no committed state (%v)", s, err)
		}
		got, _ := replaytest.Canonical(st.Stream.StreamState)
		exp, _ := replaytest.Canonical(finals[s])
		if got != exp {
			t.Errorf("%s: committed state %s, the CDK's %s", s, got, exp)
		}
	}
	srv.Phase("read_incremental")
	res = readReplayed(t, src, srv, into, incremental)
	more := c.Records(t, "read_incremental.jsonl")
	for _, s := range incremental {
		equalRows(t, into, readCatalog(res), s, append(slices.Clone(want[s]), more[s]...))
	}
}

// readReplayed reads streams into a cache (appending, so that every record
// is a row) and fails on any request the CDK did not make.
func readReplayed(t *testing.T, src *goairbyte.Source, srv *replaytest.Server, into *cache.Cache, streams []string) *source.ReadResult {
	t.Helper()
	res, err := src.Read(context.Background(), source.UseCache(into), source.Streams(streams...),
		source.Strategy(cache.StrategyAppend), source.NoProgress())
	if err != nil {
		t.Fatalf("read of %v: %v", streams, err)
	}
	if m := srv.Misses(); len(m) > 0 {
		t.Fatalf("read of %v: requests the CDK did not make: %q", streams, m)
	}
	return res
}

// without drops the names that are keys of drop.
func without(names []string, drop map[string]string) []string {
	var out []string
	for _, n := range names {
		if _, ok := drop[n]; !ok {
			out = append(out, n)
		}
	}
	return out
}

// equalRows compares a stream's table with the records a connector should
// have read: as multisets of rows, each record seen as the cache stores it
// (its fields' names normalised, only the schema's top-level properties,
// no nulls) and date-time values compared as instants; the records of an
// open stream (its table has _airbyte_data) whole.
func equalRows(t *testing.T, c *cache.Cache, cat *protocol.ConfiguredCatalog, stream string, records []json.RawMessage) {
	t.Helper()
	ctx := context.Background()
	types := columnTypes(t, c, stream)
	open := slices.ContainsFunc(tableColumns(t, c, stream), func(col cache.ColumnInfo) bool { return col.Name == "_airbyte_data" })
	rowKey := func(t *testing.T, m map[string]any, types map[string]colKind) string {
		if open {
			b, _ := json.Marshal(m)
			return string(b)
		}
		return rowKey(t, m, types)
	}
	var want []string
	for _, r := range records {
		var m map[string]any
		if err := json.Unmarshal(r, &m); err != nil {
			t.Fatal(err)
		}
		want = append(want, rowKey(t, m, types))
	}
	var got []string
	if len(records) > 0 || hasTable(t, c, stream) {
		ds, err := c.Dataset(ctx, stream)
		if err != nil {
			t.Fatalf("%s: %v", stream, err)
		}
		for line, err := range ds.RecordLines(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			var msg struct {
				Record struct {
					Data map[string]any `json:"data"`
				} `json:"record"`
			}
			if err := json.Unmarshal(line.Line, &msg); err != nil {
				t.Fatal(err)
			}
			got = append(got, rowKey(t, msg.Record.Data, types))
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s: %d cached rows, %d expected records; first differences:\n%s", stream, len(got), len(want), firstDiff(got, want))
	}
}

func hasTable(t *testing.T, c *cache.Cache, stream string) bool {
	names, err := c.Streams(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(names, stream)
}

// tableColumns lists the columns of a stream's table, none when there is
// no table.
func tableColumns(t *testing.T, c *cache.Cache, stream string) []cache.ColumnInfo {
	if !hasTable(t, c, stream) {
		return nil
	}
	ds, err := c.Dataset(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := ds.Columns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

// colKind is what a cache column holds, as far as comparing values goes.
type colKind int

const (
	kindString colKind = iota
	kindInteger
	kindNumber
	kindBoolean
	kindTime
	kindJSON
)

// columnTypes maps each user column of a stream's table to what it holds,
// from the types the database gives them (none when there is no table).
func columnTypes(t *testing.T, c *cache.Cache, stream string) map[string]colKind {
	out := map[string]colKind{}
	for _, col := range tableColumns(t, c, stream) {
		if strings.HasPrefix(col.Name, "_airbyte_") {
			continue
		}
		typ := strings.ToLower(col.Type)
		switch {
		case strings.Contains(typ, "int"):
			out[col.Name] = kindInteger
		case strings.Contains(typ, "double") || strings.Contains(typ, "real") || strings.Contains(typ, "numeric") || strings.Contains(typ, "decimal"):
			out[col.Name] = kindNumber
		case strings.HasPrefix(typ, "bool"):
			out[col.Name] = kindBoolean
		case strings.Contains(typ, "timestamp") || typ == "date":
			out[col.Name] = kindTime
		case strings.Contains(typ, "json"):
			out[col.Name] = kindJSON
		default:
			out[col.Name] = kindString
		}
	}
	return out
}

// rowKey is a row's canonical text: the columns of types in order, nulls
// left out, date and time values as UTC instants.
func rowKey(t *testing.T, data map[string]any, types map[string]colKind) string {
	norm := map[string]any{}
	for k, v := range data {
		col, err := cache.NormalizeName(k)
		if err != nil {
			t.Fatal(err)
		}
		norm[col] = v
	}
	cols := make([]string, 0, len(types))
	for col := range types {
		cols = append(cols, col)
	}
	slices.Sort(cols)
	var b strings.Builder
	for _, col := range cols {
		v, ok := norm[col]
		if !ok || v == nil {
			continue
		}
		switch x := v.(type) {
		case string:
			if isTimeType(types[col]) {
				if ts, ok := parseInstant(x); ok {
					v = ts
				}
			}
			if !fits(x, types[col]) {
				continue // the cache nulls what its column cannot hold
			}
		case float64, bool:
			if types[col] == kindString {
				// A string column keeps another scalar as its JSON text.
				enc, _ := json.Marshal(x)
				v = string(enc)
			}
		}
		enc, _ := json.Marshal(v)
		fmt.Fprintf(&b, "%s=%s;", col, enc)
	}
	return b.String()
}

// fits reports whether a string value converts to a column of type t
// (the caches TRY_CAST it, and null what does not).
func fits(s string, t colKind) bool {
	switch t {
	case kindInteger:
		_, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return err == nil
	case kindNumber:
		_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		return err == nil
	case kindBoolean:
		_, err := strconv.ParseBool(s)
		return err == nil
	}
	return true
}

func isTimeType(t colKind) bool { return t == kindTime }

// parseInstant reads the date-time layouts the conformance data uses.
func parseInstant(s string) (string, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999-0700", time.DateOnly} {
		if ts, err := time.Parse(layout, s); err == nil {
			return ts.UTC().Format(time.RFC3339Nano), true
		}
	}
	return "", false
}

func firstDiff(got, want []string) string {
	var b strings.Builder
	n := 0
	for _, g := range got {
		if !slices.Contains(want, g) && n < 3 {
			fmt.Fprintf(&b, "  cached, not expected: %s\n", g)
			n++
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) && n < 6 {
			fmt.Fprintf(&b, "  expected, not cached: %s\n", w)
			n++
		}
	}
	return b.String()
}

// TestManifestOnlyResolution resolves connectors that a local registry
// file marks manifest-only, their manifests served by a local server laid
// out as Airbyte's: one without Python code runs natively (and offline
// from the cache once downloaded), one with components.py runs in Docker
// or fails saying why, one with a part only newer CDKs know runs in Docker
// or natively with that part refused.
func TestManifestOnlyResolution(t *testing.T) {
	ctx := context.Background()
	var sendinblue replaytest.Connector
	for _, c := range replaytest.Connectors(t) {
		if c.Name == "source-sendinblue" {
			sendinblue = c
		}
	}
	corpus := filepath.Dir(filepath.Dir(sendinblue.Manifest))
	gnews := filepath.Join(corpus, "source-gnews")
	files := map[string][]byte{
		"/source-sendinblue/latest/manifest.yaml": readFile(t, sendinblue.Manifest),
		"/source-gnews/latest/manifest.yaml":      readFile(t, filepath.Join(gnews, "manifest.yaml")),
		"/source-gnews/latest/components.zip":     zipped(t, "components.py", readFile(t, filepath.Join(gnews, "components.py"))),
		// Fields only CDKs newer than 6.31.1 know, which the engine does
		// not run, as Airbyte publishes manifests for its image's CDK: one
		// of the manifest's root, one of the campaigns stream (the check's).
		"/source-brevo-newer/latest/manifest.yaml": append(readFile(t, sendinblue.Manifest), "\nmax_concurrent_async_job_count: 2\n"...),
		"/source-brevo-stream/latest/manifest.yaml": bytes.Replace(readFile(t, sendinblue.Manifest),
			[]byte("          type: RecordSelector\n"), []byte("          type: RecordSelector\n          transform_before_filtering: true\n"), 1),
	}
	var hits atomic.Int64
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if b, ok := files[r.URL.Path]; ok {
			w.Write(b)
			return
		}
		http.NotFound(w, r)
	}))
	defer site.Close()
	dir := t.TempDir()
	regFile := filepath.Join(dir, "registry.json")
	os.WriteFile(regFile, []byte(`{"sources": [
		{"dockerRepository": "airbyte/source-sendinblue", "dockerImageTag": "0.2.3", "language": "manifest-only", "name": "Brevo"},
		{"dockerRepository": "airbyte/source-gnews", "dockerImageTag": "0.2.5", "tags": ["language:manifest-only"], "name": "GNews"},
		{"dockerRepository": "airbyte/source-brevo-newer", "dockerImageTag": "0.3.0", "language": "manifest-only", "name": "Brevo, newer"},
		{"dockerRepository": "airbyte/source-brevo-stream", "dockerImageTag": "0.3.1", "language": "manifest-only", "name": "Brevo, newer stream"}],
		"destinations": []}`), 0o644)
	cacheDir := filepath.Join(dir, "cache")
	envWith := func(opts ...registry.Option) *goairbyte.Environment {
		env := goairbyte.NewEnvironment()
		env.SetRegistry(registry.NewLoader(append([]registry.Option{registry.WithLocalRegistry(regFile),
			registry.WithManifestURL(site.URL), registry.WithCacheDir(cacheDir)}, opts...)...))
		return env
	}
	replay := sendinblue.Replay(t, replaytest.SkipRetried())
	replay.Phase("check")
	check := func(env *goairbyte.Environment) error {
		src, err := goairbyte.GetSource(ctx, "source-sendinblue", connector.WithEnvironment(env),
			connector.WithHTTPClient(replay.Client()), connector.WithClock(sendinblue.Clock()),
			connector.WithConfig(sendinblue.Config))
		if err != nil {
			return err
		}
		if core.ConnOf(src.Connector).Executor().Method().Kind != executor.KindInProcess {
			t.Fatalf("source-sendinblue runs as %s, want natively in process", src)
		}
		return src.Check(ctx)
	}
	if err := check(envWith()); err != nil {
		t.Fatalf("natively from the downloaded manifest: %v", err)
	}
	if len(replay.Requests()) == 0 {
		t.Fatal("the check sent no request")
	}
	downloads := hits.Load()
	if downloads != 2 { // manifest.yaml, then components.zip (404)
		t.Fatalf("%d requests for the manifest, want manifest.yaml and components.zip", downloads)
	}

	// Offline: the disk cache answers; with another, empty cache it fails
	// saying what to do.
	if err := check(envWith(registry.WithOffline(true))); err != nil {
		t.Fatalf("offline with a warm cache: %v", err)
	}
	if hits.Load() != downloads {
		t.Fatal("offline mode downloaded the manifest")
	}
	cold := goairbyte.NewEnvironment()
	cold.SetRegistry(registry.NewLoader(registry.WithLocalRegistry(regFile), registry.WithManifestURL(site.URL),
		registry.WithCacheDir(t.TempDir()), registry.WithOffline(true)))
	err := check(cold)
	var me *registry.ManifestError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "AIRBYTE_OFFLINE_MODE") || !strings.Contains(err.Error(), "GOAIRBYTE_MANIFEST_DIR") {
		t.Fatalf("offline with a cold cache: %v", err)
	}

	// Python components: with no Docker engine, an error naming them.
	dockerHost, hadDockerHost := os.LookupEnv("DOCKER_HOST")
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(dir, "no-docker.sock"))
	_, err = goairbyte.GetSource(ctx, "source-gnews", connector.WithEnvironment(envWith()))
	if !errors.Is(err, goairbyte.ErrNotInstalled) || !strings.Contains(err.Error(), "(its components.py)") ||
		!strings.Contains(err.Error(), "source_declarative_manifest.components.WaitUntilMidnightBackoffStrategy at $.") ||
		!strings.Contains(err.Error(), "airbyte/source-gnews:0.2.5") {
		t.Fatalf("components with no Docker engine: %v", err)
	}
	// Newer parts with no Docker engine: a field of the manifest's root
	// fails the engine's build, which says so and names the image...
	_, err = goairbyte.GetSource(ctx, "source-brevo-newer", connector.WithEnvironment(envWith()))
	if !errors.Is(err, declarative.ErrUnsupported) || !strings.Contains(err.Error(), "$.max_concurrent_async_job_count") ||
		!strings.Contains(err.Error(), "airbyte/source-brevo-newer:0.3.0") {
		t.Fatalf("a newer root field with no Docker engine: %v", err)
	}
	// ...and one of a stream runs natively, that stream refused by name
	// before any request.
	src, err := goairbyte.GetSource(ctx, "source-brevo-stream", connector.WithEnvironment(envWith()),
		connector.WithConfig(sendinblue.Config))
	if err != nil {
		t.Fatalf("a newer stream field with no Docker engine: %v", err)
	}
	if m := core.ConnOf(src.Connector).Executor().Method(); m.Kind != executor.KindInProcess {
		t.Fatalf("a newer stream field with no Docker engine: runs as %s, want natively in process", src)
	}
	if err := src.Check(ctx); !errors.Is(err, declarative.ErrUnsupported) ||
		!strings.Contains(err.Error(), "$.streams[0].retriever.record_selector.transform_before_filtering") {
		t.Fatalf("a newer stream field natively: Check gave %v, want the field refused by name", err)
	}
	// With an engine, its Docker image.
	if hadDockerHost {
		os.Setenv("DOCKER_HOST", dockerHost)
	} else {
		os.Unsetenv("DOCKER_HOST")
	}
	testenv.Docker(t)
	for name, image := range map[string]string{"source-gnews": "airbyte/source-gnews:0.2.5",
		"source-brevo-newer": "airbyte/source-brevo-newer:0.3.0", "source-brevo-stream": "airbyte/source-brevo-stream:0.3.1"} {
		src, err := goairbyte.GetSource(ctx, name, connector.WithEnvironment(envWith()))
		if err != nil {
			t.Fatal(err)
		}
		if m := core.ConnOf(src.Connector).Executor().Method(); m.Kind != executor.KindDocker || m.Image != image {
			t.Fatalf("%s with a Docker engine: runs as %s, want the image %s", name, src, image)
		}
	}
	// Given an option only the engine takes (WithHTTPClient, WithClock),
	// a manifest whose streams alone use such parts runs natively, as it
	// did before its image was preferred, rather than failing: the image
	// would not use the caller's client. Python components still fail.
	src, err = goairbyte.GetSource(ctx, "source-brevo-stream", connector.WithEnvironment(envWith()),
		connector.WithHTTPClient(replay.Client()), connector.WithConfig(sendinblue.Config))
	if err != nil {
		t.Fatalf("a newer stream field with a Docker engine and WithHTTPClient: %v", err)
	}
	if m := core.ConnOf(src.Connector).Executor().Method(); m.Kind != executor.KindInProcess {
		t.Fatalf("a newer stream field with a Docker engine and WithHTTPClient: runs as %s, want natively in process", src)
	}
	var oe *connector.OptionError
	if _, err := goairbyte.GetSource(ctx, "source-gnews", connector.WithEnvironment(envWith()),
		connector.WithHTTPClient(replay.Client())); !errors.As(err, &oe) {
		t.Fatalf("Python components with WithHTTPClient: %v, want an OptionError", err)
	}
}

func readFile(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func zipped(t *testing.T, name string, body []byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create(name)
	w.Write(body)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// readCatalog is the configured catalog a read used, as package destination
// sees it.
func readCatalog(res *source.ReadResult) *protocol.ConfiguredCatalog {
	c, _ := core.CachedOf(res)
	return c.Catalog()
}

// TestOpenStreamRecords: Source.Records of a stream whose schema declares
// no property (source-agilecrm's events, keyed by id) yields every field
// of its records, as the Python CDK read them.
func TestOpenStreamRecords(t *testing.T) {
	ctx := context.Background()
	for _, c := range replaytest.Connectors(t) {
		if c.Name != "source-agilecrm" {
			continue
		}
		src, srv := replayedSource(t, c)
		srv.Phase("read")
		var got, want []string
		for rec, err := range src.Records(ctx, "events") {
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(rec.Map())
			got = append(got, string(b))
		}
		for _, r := range c.Records(t, "read.jsonl")["events"] {
			var m map[string]any
			if err := json.Unmarshal(r, &m); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(m)
			want = append(want, string(b))
		}
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Fatalf("records:\n got  %q\n want %q", got, want)
		}
		return
	}
	t.Fatal("no conformance connector source-agilecrm")
}
