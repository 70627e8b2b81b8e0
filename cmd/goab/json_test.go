package main_test

// The --format json of read, sync, benchmark, connectors and validate: each
// document is parsed into a struct of the fields the README lists, and
// checked against what the command did (the cache's rows, the destination's
// files, the table the same command prints).

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	_ "github.com/x/goairbyte/cache/postgres" // postgres:// URLs
	"github.com/x/goairbyte/internal/testenv"
)

// decodeDoc parses stdout as exactly one JSON document into v, a pointer
// to a struct: no field v lacks, none of v's top-level fields missing,
// nothing after the document.
func decodeDoc(t *testing.T, stdout string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("stdout is not the document: %v\n%s", err, stdout)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("stdout holds more than one JSON document (%v):\n%s", err, stdout)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &fields); err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeOf(v).Elem()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if _, ok := fields[name]; !ok {
			t.Errorf("the document lacks the field %q:\n%s", name, stdout)
		}
	}
}

type jsonReadStream struct {
	Stream        string `json:"stream"`
	RecordsLoaded int64  `json:"records_loaded"`
	Rows          int64  `json:"rows"`
	Table         string `json:"table"`
}

type jsonRead struct {
	Source           string           `json:"source"`
	Cache            string           `json:"cache"`
	Streams          []jsonReadStream `json:"streams"`
	RecordsLoaded    int64            `json:"records_loaded"`
	Rows             int64            `json:"rows"`
	Seconds          float64          `json:"seconds"`
	RecordsPerSecond float64          `json:"records_per_second"`
}

// checkRead checks a read's document against the cache it names (opened
// as url) after the read: each stream's rows and table, and the totals.
// It returns the records loaded per stream.
func checkRead(t *testing.T, doc jsonRead, cacheURL string, streams []string) map[string]int64 {
	t.Helper()
	c, err := cache.Open(t.Context(), cacheURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if doc.Source != "source-faker" {
		t.Errorf("source %q", doc.Source)
	}
	var names []string
	var loaded, rows int64
	got := map[string]int64{}
	for _, s := range doc.Streams {
		names = append(names, s.Stream)
		n, table := cachedRows(t, c, s.Stream)
		if s.Rows != n || s.Table != table {
			t.Errorf("stream %s: rows %d in %s, the cache has %d in %s", s.Stream, s.Rows, s.Table, n, table)
		}
		if s.RecordsLoaded < 0 || s.RecordsLoaded > n {
			t.Errorf("stream %s: %d records loaded into a table of %d rows", s.Stream, s.RecordsLoaded, n)
		}
		loaded += s.RecordsLoaded
		rows += s.Rows
		got[s.Stream] = s.RecordsLoaded
	}
	if !slices.Equal(names, streams) {
		t.Errorf("streams %v, want %v", names, streams)
	}
	if doc.RecordsLoaded != loaded || doc.Rows != rows {
		t.Errorf("totals: %d records loaded, %d rows; the streams sum to %d and %d", doc.RecordsLoaded, doc.Rows, loaded, rows)
	}
	if doc.Seconds <= 0 || (loaded > 0) != (doc.RecordsPerSecond > 0) {
		t.Errorf("%d records loaded in %v s at %v records/s", loaded, doc.Seconds, doc.RecordsPerSecond)
	}
	return got
}

// cachedRows returns the rows the cache c holds for stream, and its table.
func cachedRows(t *testing.T, c *cache.Cache, stream string) (int64, string) {
	t.Helper()
	ds, err := c.Dataset(t.Context(), stream)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ds.Count(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n, ds.QualifiedTableName()
}

// read --format json into DuckDB, twice: the first read loads every row
// of its tables, the second (incremental, nothing new) none, and both
// count the tables' rows as the cache does.
func TestReadJSON(t *testing.T) {
	dir := t.TempDir()
	cfg := `{"count": 30, "always_updated": false}`
	args := []string{"read", "source-faker", "--config", cfg, "--cache", "sub/r.duckdb", "--streams", "users,purchases", "--format", "json"}
	r := goabIn(t, dir, nil, args...)
	r.want(t, 0)
	var doc jsonRead
	decodeDoc(t, r.stdout, &doc)
	if doc.Cache != "sub/r.duckdb" {
		t.Errorf("cache %q, want the --cache given", doc.Cache)
	}
	db := "duckdb:" + filepath.Join(dir, "sub", "r.duckdb")
	loaded := checkRead(t, doc, db, []string{"users", "purchases"})
	for _, s := range doc.Streams {
		if s.RecordsLoaded != s.Rows {
			t.Errorf("first read of %s: %d records loaded into a table of %d rows", s.Stream, s.RecordsLoaded, s.Rows)
		}
	}
	// The summary line stays on stderr, with the same total.
	if !strings.Contains(r.stderr, fmt.Sprintf("Read %d records from source-faker", doc.RecordsLoaded)) {
		t.Errorf("stderr lacks the summary line of %d records:\n%s", doc.RecordsLoaded, r.stderr)
	}

	r = goabIn(t, dir, nil, append(args, "--no-progress")...)
	r.want(t, 0)
	var again jsonRead
	decodeDoc(t, r.stdout, &again)
	checkRead(t, again, db, []string{"users", "purchases"})
	for _, s := range again.Streams {
		if s.RecordsLoaded != 0 || s.Rows != loaded[s.Stream] {
			t.Errorf("second read of %s: %d loaded, %d rows; want none loaded and the first read's %d rows", s.Stream, s.RecordsLoaded, s.Rows, loaded[s.Stream])
		}
	}

	// The default cache is named by its file.
	r = goabIn(t, dir, nil, "read", "source-faker", "--config", cfg, "--streams", "users", "--format", "json", "--no-progress")
	r.want(t, 0)
	var def jsonRead
	decodeDoc(t, r.stdout, &def)
	file := filepath.Join(".cache", "default_cache", "default_cache.duckdb")
	if def.Cache != file {
		t.Errorf("the default cache is named %q, want %q", def.Cache, file)
	}
	checkRead(t, def, "duckdb:"+filepath.Join(dir, file), []string{"users"})
}

// read --format json into PostgreSQL names the cache without its password
// (the test server trusts its clients, so any password connects).
func TestReadJSONIntoPostgres(t *testing.T) {
	u, err := url.Parse(testenv.Postgres(t))
	if err != nil || u.Scheme == "" || u.User == nil {
		t.Skipf("the test server's DSN is not a URL with a user (%v)", err)
	}
	const password = "goab-secret-pw"
	u.User = url.UserPassword(u.User.Username(), password)
	r := goab(t, nil, "read", "source-faker", "--config", `{"count": 20}`, "--cache", u.String(), "--schema", "goabjson", "--streams", "users", "--format", "json", "--no-progress")
	r.want(t, 0)
	var doc jsonRead
	decodeDoc(t, r.stdout, &doc)
	if doc.Cache != u.Redacted() || strings.Contains(r.stdout, password) {
		t.Errorf("cache %q, want %q: the DSN with its password hidden", doc.Cache, u.Redacted())
	}
	q := u.Query()
	q.Set("schema", "goabjson")
	u.RawQuery = q.Encode()
	checkRead(t, doc, u.String(), []string{"users"})
	if doc.Streams[0].Table != `"goabjson"."users"` {
		t.Errorf("table %s, want goabjson.users", doc.Streams[0].Table)
	}
}

type jsonSyncStream struct {
	Stream           string `json:"stream"`
	RecordsSent      int64  `json:"records_sent"`
	RecordsConfirmed int64  `json:"records_confirmed"`
}

type jsonSync struct {
	Source           string           `json:"source"`
	Destination      string           `json:"destination"`
	Cache            string           `json:"cache"`
	Streams          []jsonSyncStream `json:"streams"`
	RecordsSent      int64            `json:"records_sent"`
	RecordsConfirmed int64            `json:"records_confirmed"`
	StatesSent       int              `json:"states_sent"`
	StatesConfirmed  int              `json:"states_confirmed"`
	Seconds          float64          `json:"seconds"`
	RecordsPerSecond float64          `json:"records_per_second"`
}

// sync --format json counts per stream what the destination wrote to its
// files, through a cache and with --no-cache.
func TestSyncJSON(t *testing.T) {
	for _, mode := range []string{"cache", "no-cache"} {
		t.Run(mode, func(t *testing.T) {
			out := t.TempDir()
			db := filepath.Join(t.TempDir(), "sync.duckdb")
			args := []string{"sync", "source-faker", "--config", `{"count": 25}`, "--streams", "users,products",
				"--destination", "destination-local-json", "--destination-config", fmt.Sprintf(`{"destination_path": %q}`, out),
				"--cache", db, "--format", "json"}
			if mode == "no-cache" {
				args = append(args, "--no-cache")
			}
			r := goab(t, nil, args...)
			r.want(t, 0)
			var doc jsonSync
			decodeDoc(t, r.stdout, &doc)
			if doc.Source != "source-faker" || doc.Destination != "destination-local-json" || doc.Cache != db {
				t.Errorf("source %q, destination %q, cache %q", doc.Source, doc.Destination, doc.Cache)
			}
			var names []string
			var sent, confirmed int64
			for _, s := range doc.Streams {
				names = append(names, s.Stream)
				n := int64(countLines(t, filepath.Join(out, "_airbyte_raw_"+s.Stream+".jsonl")))
				if s.RecordsSent != n || s.RecordsConfirmed != n {
					t.Errorf("stream %s: %d sent, %d confirmed; the destination wrote %d", s.Stream, s.RecordsSent, s.RecordsConfirmed, n)
				}
				sent += s.RecordsSent
				confirmed += s.RecordsConfirmed
			}
			if !slices.Equal(names, []string{"products", "users"}) {
				t.Errorf("streams %v, want products and users", names)
			}
			if doc.RecordsSent != sent || doc.RecordsConfirmed != confirmed {
				t.Errorf("totals %d sent, %d confirmed; the streams sum to %d and %d", doc.RecordsSent, doc.RecordsConfirmed, sent, confirmed)
			}
			// destination-local-json echoes every state it is sent.
			if doc.StatesSent < len(names) || doc.StatesConfirmed != doc.StatesSent {
				t.Errorf("%d states sent, %d confirmed", doc.StatesSent, doc.StatesConfirmed)
			}
			if doc.Seconds <= 0 || doc.RecordsPerSecond <= 0 {
				t.Errorf("%v s, %v records/s", doc.Seconds, doc.RecordsPerSecond)
			}
			if !strings.Contains(r.stderr, fmt.Sprintf("Wrote %d records to destination-local-json", doc.RecordsSent)) {
				t.Errorf("stderr lacks the summary line of %d records:\n%s", doc.RecordsSent, r.stderr)
			}
		})
	}
}

type jsonBenchmarkStream struct {
	Stream             string   `json:"stream"`
	Records            int64    `json:"records"`
	RecordsPerSecond   float64  `json:"records_per_second"`
	BytesPerSecond     float64  `json:"bytes_per_second"`
	FirstRecordSeconds *float64 `json:"first_record_seconds"`
}

type jsonBenchmark struct {
	Source             string                `json:"source"`
	Target             string                `json:"target"`
	Destination        string                `json:"destination"`
	Cache              string                `json:"cache"`
	Streams            []jsonBenchmarkStream `json:"streams"`
	Records            int64                 `json:"records"`
	Seconds            float64               `json:"seconds"`
	RecordsPerSecond   float64               `json:"records_per_second"`
	BytesPerSecond     float64               `json:"bytes_per_second"`
	FirstRecordSeconds *float64              `json:"first_record_seconds"`
}

// benchmark --format json into each target: its records per stream are
// the rows the cache got, the lines the destination wrote, or (into the
// no-op destination) the faker's for its count.
func TestBenchmarkJSON(t *testing.T) {
	out, db := t.TempDir(), filepath.Join(t.TempDir(), "bench.duckdb")
	cases := []struct {
		target, name string
		extra        []string
		moved        func(t *testing.T, stream string) int64
	}{
		{"no-op", "destination-noop", nil, func(t *testing.T, stream string) int64 {
			return map[string]int64{"products": 100, "users": 300, "purchases": 300}[stream] // --count 300
		}},
		{"cache", db, []string{"--cache", db}, func(t *testing.T, stream string) int64 {
			c, err := cache.Open(t.Context(), "duckdb:"+db)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			n, _ := cachedRows(t, c, stream)
			return n
		}},
		{"destination", "destination-local-json", []string{"--destination", "destination-local-json", "--destination-config", fmt.Sprintf(`{"destination_path": %q}`, out)},
			func(t *testing.T, stream string) int64 {
				return int64(countLines(t, filepath.Join(out, "_airbyte_raw_"+stream+".jsonl")))
			}},
	}
	for _, c := range cases {
		t.Run(c.target, func(t *testing.T) {
			r := goab(t, nil, append([]string{"benchmark", "--count", "300", "--format", "json", "--no-progress"}, c.extra...)...)
			r.want(t, 0)
			var doc jsonBenchmark
			decodeDoc(t, r.stdout, &doc)
			name := doc.Destination
			if c.target == "cache" {
				name = doc.Cache
			}
			if doc.Source != "source-faker" || doc.Target != c.target || name != c.name || (doc.Cache != "") == (doc.Destination != "") {
				t.Errorf("source %q, target %q, destination %q, cache %q", doc.Source, doc.Target, doc.Destination, doc.Cache)
			}
			var names []string
			var total int64
			for _, s := range doc.Streams {
				names = append(names, s.Stream)
				if want := c.moved(t, s.Stream); s.Records != want {
					t.Errorf("stream %s: %d records; the %s got %d", s.Stream, s.Records, c.target, want)
				}
				if s.RecordsPerSecond <= 0 || s.BytesPerSecond <= 0 || s.FirstRecordSeconds == nil || *s.FirstRecordSeconds < 0 {
					t.Errorf("stream %s: %v records/s, %v bytes/s, first record after %v s", s.Stream, s.RecordsPerSecond, s.BytesPerSecond, s.FirstRecordSeconds)
				}
				total += s.Records
			}
			if !slices.Equal(names, []string{"products", "users", "purchases"}) {
				t.Errorf("streams %v", names)
			}
			if doc.Records != total || doc.Seconds <= 0 || doc.RecordsPerSecond <= 0 || doc.BytesPerSecond <= 0 || doc.FirstRecordSeconds == nil {
				t.Errorf("totals: %d records (the streams sum to %d) in %v s, %v records/s, %v bytes/s, first after %v s",
					doc.Records, total, doc.Seconds, doc.RecordsPerSecond, doc.BytesPerSecond, doc.FirstRecordSeconds)
			}
		})
	}
}

type jsonConnector struct {
	Name             string   `json:"name"`
	Kind             string   `json:"kind"`
	DisplayName      string   `json:"display_name"`
	Version          string   `json:"version"`
	Language         string   `json:"language"`
	BuiltIn          bool     `json:"built_in"`
	InstallTypes     []string `json:"install_types"`
	DockerRepository string   `json:"docker_repository"`
	PyPIPackage      string   `json:"pypi_package"`
	DocumentationURL string   `json:"documentation_url"`
	ReleaseStage     string   `json:"release_stage"`
	SupportLevel     string   `json:"support_level"`
	DefinitionID     string   `json:"definition_id"`
}

type jsonConnectors struct {
	Connectors []jsonConnector `json:"connectors"`
}

// connectors --format json lists what the table lists, with the table's
// kind, version and Docker repository, and each entry's install types are
// those --install-type lists it under.
func TestConnectorsJSON(t *testing.T) {
	// A registry of a few entries, as AIRBYTE_LOCAL_REGISTRY takes one.
	reg := filepath.Join(t.TempDir(), "registry.json")
	if err := os.WriteFile(reg, []byte(`{
  "sources": [
    {"sourceDefinitionId": "d1", "name": "Py", "dockerRepository": "airbyte/source-py", "dockerImageTag": "1.2.3", "language": "python",
     "remoteRegistries": {"pypi": {"enabled": true, "packageName": "airbyte-source-py"}}, "documentationUrl": "https://docs/py", "releaseStage": "beta", "supportLevel": "community"},
    {"sourceDefinitionId": "d2", "name": "Man", "dockerRepository": "airbyte/source-man", "dockerImageTag": "0.1.0", "language": "manifest-only"}
  ],
  "destinations": [
    {"destinationDefinitionId": "d3", "name": "Jv", "dockerRepository": "airbyte/destination-jv", "dockerImageTag": "2.0.0", "language": "java"}
  ]
}`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"AIRBYTE_LOCAL_REGISTRY=" + reg}
	listed := func(args ...string) map[string][]string {
		r := goab(t, env, append([]string{"connectors", "--long"}, args...)...)
		r.want(t, 0)
		return tableRows(r.stdout)
	}
	r := goab(t, env, "connectors", "--format", "json")
	r.want(t, 0)
	var doc jsonConnectors
	decodeDoc(t, r.stdout, &doc)
	table := listed()
	var names []string
	for _, c := range doc.Connectors {
		names = append(names, c.Name)
		row := table[c.Name]
		if len(row) < 3 || row[0] != c.Kind || row[1] != c.Version {
			t.Errorf("%s: kind %q, version %q; the table says %v", c.Name, c.Kind, c.Version, row)
		}
		if c.DockerRepository != "" && !slices.Contains(row, c.DockerRepository) {
			t.Errorf("%s: Docker repository %q; the table says %v", c.Name, c.DockerRepository, row)
		}
	}
	for _, want := range []string{"source-py", "source-man", "destination-jv", "source-faker", "destination-local-json"} {
		if !slices.Contains(names, want) {
			t.Errorf("connectors --format json lacks %s: %v", want, names)
		}
	}
	if len(names) != len(table)-1 { // the table has a header row
		t.Errorf("%d entries; the table has %d rows", len(names), len(table)-1)
	}
	for _, typ := range []string{"docker", "python", "yaml", "java"} {
		byType := listed("--install-type", typ)
		for _, c := range doc.Connectors {
			if _, ok := byType[c.Name]; ok != slices.Contains(c.InstallTypes, typ) {
				t.Errorf("%s: install types %v, listed by --install-type %s: %v", c.Name, c.InstallTypes, typ, ok)
			}
		}
	}
	for _, c := range doc.Connectors {
		if c.Name == "source-py" && (c.PyPIPackage != "airbyte-source-py" || c.DefinitionID != "d1" || c.DocumentationURL != "https://docs/py" || c.ReleaseStage != "beta" || c.BuiltIn) {
			t.Errorf("source-py: %+v", c)
		}
		if c.Name == "source-faker" && !c.BuiltIn {
			t.Errorf("source-faker is not said to be built in: %+v", c)
		}
	}
	// --kind as in the table.
	r = goab(t, env, "connectors", "--kind", "destination", "--format", "json")
	r.want(t, 0)
	var dests jsonConnectors
	decodeDoc(t, r.stdout, &dests)
	for _, c := range dests.Connectors {
		if c.Kind != "destination" {
			t.Errorf("--kind destination listed %s", c.Name)
		}
	}
	if len(dests.Connectors) != len(listed("--kind", "destination"))-1 {
		t.Errorf("--kind destination: %d entries, the table has others", len(dests.Connectors))
	}
}

type jsonValidatedStream struct {
	Stream  string `json:"stream"`
	Records *int   `json:"records"`
}

type jsonValidateStep struct {
	Step             string                 `json:"step"`
	Outcome          string                 `json:"outcome"`
	DocumentationURL *string                `json:"documentation_url"`
	Streams          *[]jsonValidatedStream `json:"streams"`
	RecordsSent      *int64                 `json:"records_sent"`
	RecordsConfirmed *int64                 `json:"records_confirmed"`
}

type jsonValidate struct {
	Connector string             `json:"connector"`
	Kind      string             `json:"kind"`
	Valid     bool               `json:"valid"`
	Steps     []jsonValidateStep `json:"steps"`
}

func stepNames(doc jsonValidate) (names, outcomes []string) {
	for _, s := range doc.Steps {
		names = append(names, s.Step)
		outcomes = append(outcomes, s.Outcome)
	}
	return names, outcomes
}

// validate --format json: each step and its outcome, the streams the
// catalog has and the records the table says the read step read; a failed
// step and the steps skipped after it, with the error on stderr.
func TestValidateJSON(t *testing.T) {
	args := []string{"validate", "source-faker", "--config", `{"count": 7}`, "--limit", "3", "--streams", "users,products"}
	r := goab(t, nil, append(args, "--format", "json")...)
	r.want(t, 0)
	var doc jsonValidate
	decodeDoc(t, r.stdout, &doc)
	names, outcomes := stepNames(doc)
	if doc.Connector != "source-faker" || doc.Kind != "source" || !doc.Valid ||
		!slices.Equal(names, []string{"spec", "config", "check", "discover", "read"}) || slices.ContainsFunc(outcomes, func(o string) bool { return o != "ok" }) {
		t.Fatalf("validate: %+v", doc)
	}
	if u := doc.Steps[0].DocumentationURL; u == nil || !strings.HasPrefix(*u, "https://") {
		t.Errorf("spec step: documentation URL %v", u)
	}
	// The catalog's streams, as discover prints them.
	d := goab(t, nil, "discover", "source-faker", "--config", `{"count": 7}`)
	d.want(t, 0)
	var cat struct {
		Streams []struct{ Name string } `json:"streams"`
	}
	if err := json.Unmarshal([]byte(d.stdout), &cat); err != nil {
		t.Fatal(err)
	}
	var catalog, discovered []string
	for _, s := range cat.Streams {
		catalog = append(catalog, s.Name)
	}
	for _, s := range *doc.Steps[3].Streams {
		discovered = append(discovered, s.Stream)
	}
	if !slices.Equal(discovered, catalog) {
		t.Errorf("discover step: streams %v, the catalog has %v", discovered, catalog)
	}
	// The records the table's read line counts.
	table := goab(t, nil, args...)
	table.want(t, 0)
	line := regexp.MustCompile(`(?m)^ok  read +records: (.*)$`).FindStringSubmatch(table.stdout)
	if line == nil {
		t.Fatalf("no read line in:\n%s", table.stdout)
	}
	var read []string
	for _, s := range *doc.Steps[4].Streams {
		if s.Records == nil {
			t.Fatalf("read step: stream %s has no records count", s.Stream)
		}
		read = append(read, s.Stream+" "+strconv.Itoa(*s.Records))
	}
	if strings.Join(read, ", ") != line[1] {
		t.Errorf("read step: %v; the table says %s", read, line[1])
	}

	// A config that breaks the spec: the document says so, and the error
	// is on stderr.
	r = goab(t, nil, "validate", "source-faker", "--config", `{"count": "x"}`, "--format", "json")
	r.want(t, 1)
	decodeDoc(t, r.stdout, &doc)
	names, outcomes = stepNames(doc)
	if doc.Valid || !slices.Equal(names, []string{"spec", "config", "check", "discover", "read"}) ||
		!slices.Equal(outcomes, []string{"ok", "failed", "skipped", "skipped", "skipped"}) {
		t.Errorf("a config that breaks the spec: %+v", doc)
	}
	if p := errorParagraph(t, r); !strings.Contains(p, `validation step "config"`) {
		t.Errorf("paragraph %q", p)
	}
}

// validate --format json of a destination with --write-sample: the write
// step's records are those the destination wrote.
func TestValidateDestinationJSON(t *testing.T) {
	out := t.TempDir()
	r := goab(t, nil, "validate", "destination-local-json", "--config", fmt.Sprintf(`{"destination_path": %q}`, out), "--write-sample", "--limit", "4", "--format", "json")
	r.want(t, 0)
	var doc jsonValidate
	decodeDoc(t, r.stdout, &doc)
	names, _ := stepNames(doc)
	if doc.Connector != "destination-local-json" || doc.Kind != "destination" || !doc.Valid || !slices.Equal(names, []string{"spec", "config", "check", "write"}) {
		t.Fatalf("validate: %+v", doc)
	}
	files, err := filepath.Glob(filepath.Join(out, "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("the destination wrote no file (%v)", err)
	}
	var lines int64
	for _, f := range files {
		lines += int64(countLines(t, f))
	}
	w := doc.Steps[3]
	if w.RecordsSent == nil || w.RecordsConfirmed == nil || *w.RecordsSent != lines || *w.RecordsConfirmed != lines {
		t.Errorf("write step: %v sent, %v confirmed; the destination wrote %d", w.RecordsSent, w.RecordsConfirmed, lines)
	}
}

// A command that fails prints nothing on stdout, whatever its --format:
// the error is on stderr, with its exit status.
func TestFailedJSONCommandPrintsNothing(t *testing.T) {
	for _, c := range []struct {
		code int
		args []string
	}{
		{1, []string{"read", "source-faker", "--config", `{"count": "x"}`}},
		{2, []string{"read", "source-faker", "--config", `{"count": 5}`, "--cache", t.TempDir()}},
		{1, []string{"sync", "source-faker", "--config", `{"count": 5}`, "--no-cache",
			"--destination", "destination-local-json", "--destination-config", `{"destination_path": "/proc/goab-cannot-write-here"}`}},
		{1, []string{"benchmark", "--count", "5", "--destination", "destination-local-json", "--destination-config", `{"destination_path": "/proc/goab-cannot-write-here"}`}},
		{2, []string{"validate", "destination-local-json"}}, // no --config: a usage error
	} {
		r := goab(t, nil, append(c.args, "--format", "json", "--no-progress")...)
		r.want(t, c.code)
		if r.stdout != "" {
			t.Errorf("goab %s failed and printed on stdout:\n%s", strings.Join(c.args, " "), r.stdout)
		}
		errorParagraph(t, r)
	}
}
