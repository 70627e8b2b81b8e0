package main_test

// These tests run goab as users do: a binary built once in TestMain, run in
// a temporary working directory against real connectors (our faker and
// local-JSON destination built by testenv), real DuckDB files, a real
// PostgreSQL and a real Docker engine.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/x/goairbyte/cache"
	_ "github.com/x/goairbyte/cache/duckdb" // duckdb: URLs
	"github.com/x/goairbyte/internal/testenv"
)

// goabBin is the goab binary built by TestMain.
var goabBin string

func TestMain(m *testing.M) {
	if slices.Contains(os.Args[1:], "-test.fuzzworker") {
		// A fuzzing worker runs only the fuzz target, which needs no
		// binary: building one per worker (again after each crash) would
		// take most of a short fuzzing run.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "goab-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	goabBin = filepath.Join(dir, "goab")
	// cgo stays on: the DuckDB cache needs it.
	if out, err := exec.Command("go", "build", "-o", goabBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building goab: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	testenv.Teardown()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// goab runs the binary in a fresh temporary working directory (so nothing,
// not even the default cache, lands in the repository), offline, with its
// logs in a temporary directory. extraEnv entries are KEY=VALUE.
func goab(t *testing.T, extraEnv []string, args ...string) result {
	t.Helper()
	return goabIn(t, t.TempDir(), extraEnv, args...)
}

// goabIn runs the binary as goab does, in the working directory dir. With
// dir "", the working directory is one deleted before goab starts.
func goabIn(t *testing.T, dir string, extraEnv []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(goabBin, args...)
	cmd.Dir = dir
	if dir == "" {
		// A shell enters the directory, removes it and becomes goab.
		gone := filepath.Join(t.TempDir(), "gone")
		if err := os.Mkdir(gone, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command("/bin/sh", append([]string{"-c", `cd "$0" && rmdir "$0" && exec "$@"`, gone, goabBin}, args...)...)
	}
	cmd.Env = append(os.Environ(), "AIRBYTE_OFFLINE_MODE=1", "NO_LIVE_PROGRESS=1",
		"GOAIRBYTE_LOG_DIR="+t.TempDir(), "CI=1")
	cmd.Env = append(cmd.Env, extraEnv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running goab %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

func (r result) want(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// errorParagraph returns the one paragraph goab printed as its error: the
// last non-empty line of stderr, which must be the only line that starts
// with "goab" (log lines start with "time=").
func errorParagraph(t *testing.T, r result) string {
	t.Helper()
	var paras []string
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if strings.HasPrefix(l, "goab") {
			paras = append(paras, l)
		}
	}
	if len(paras) != 1 {
		t.Fatalf("want exactly one error paragraph on stderr, got %d:\n%s", len(paras), r.stderr)
	}
	return paras[0]
}

func faker(t *testing.T) string { return testenv.BuildBinary(t, "./cmd/source-faker") }

func localJSON(t *testing.T) string { return testenv.BuildBinary(t, "./cmd/destination-local-json") }

var commandNames = []string{"spec", "check", "discover", "records", "read", "sync", "validate", "benchmark", "connectors", "version", "plan", "apply", "airbyte", "fivetran", "watch"}

func TestHelpForEveryCommand(t *testing.T) {
	for _, name := range commandNames {
		t.Run(name, func(t *testing.T) {
			for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
				r := goab(t, nil, args...)
				r.want(t, 0)
				if !strings.Contains(r.stdout, "Usage: goab "+name) || !strings.Contains(r.stdout, "Example:\n  goab ") {
					t.Errorf("goab %v: help lacks the usage line or an example:\n%s", args, r.stdout)
				}
				// Flags are listed as they are typed: --name, and -f for a one-letter one.
				if regexp.MustCompile(`\n  (--\w\b|-\w\w)`).MatchString(r.stdout) {
					t.Errorf("goab %v: a flag listed with the wrong dashes:\n%s", args, r.stdout)
				}
			}
		})
	}
	r := goab(t, nil, "help")
	r.want(t, 0)
	for _, name := range commandNames {
		if !strings.Contains(r.stdout, "\n  "+name+" ") {
			t.Errorf("goab help does not list %s:\n%s", name, r.stdout)
		}
	}
	goab(t, nil).want(t, 2)
}

// goab --help lists every exit status a command has: plan's 2 for
// changes too, which a script reading only the main help would take for a
// usage error.
// "goab read help", as "goab help read" and git's "git commit -h" go,
// shows read's help: it looked for a connector called help.
func TestCommandThenHelp(t *testing.T) {
	r := goab(t, nil, "read", "help")
	r.want(t, 0)
	if !strings.HasPrefix(r.stdout, "Usage: goab read ") {
		t.Errorf("goab read help:\n%s\n%s", r.stdout, r.stderr)
	}
}

func TestMainHelpListsExitStatuses(t *testing.T) {
	r := goab(t, nil, "--help")
	r.want(t, 0)
	line := regexp.MustCompile(`(?m)^Exit status:.*$`).FindString(r.stdout)
	for _, w := range []string{"0 success", "1 connector or sync failure", "2 usage error", "plan"} {
		if !strings.Contains(line, w) {
			t.Errorf("the exit status line %q lacks %q", line, w)
		}
	}
}

// A GOAB_LOG_LEVEL goab does not know (verbose, trace) is said on stderr,
// with the levels it knows, rather than read silently as warn: the user who
// asked for more would otherwise see nothing and not know why.
func TestUnknownLogLevelIsSaid(t *testing.T) {
	r := goab(t, []string{"GOAB_LOG_LEVEL=verbose"}, "check", "source-faker", "--config", `{"count": 1}`)
	r.want(t, 0)
	if !strings.Contains(r.stderr, "GOAB_LOG_LEVEL") || !strings.Contains(r.stderr, "GOAB_LOG_LEVEL=verbose") || !strings.Contains(r.stderr, "debug, info, warn") {
		t.Errorf("GOAB_LOG_LEVEL=verbose is not said on stderr:\n%s", r.stderr)
	}
	r = goab(t, []string{"GOAB_LOG_LEVEL=DEBUG"}, "check", "source-faker", "--config", `{"count": 1}`)
	r.want(t, 0)
	if strings.Contains(r.stderr, "GOAB_LOG_LEVEL") {
		t.Errorf("GOAB_LOG_LEVEL=DEBUG is a level:\n%s", r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"check", "source-faker", "--no-such-flag"}, "unknown flag --no-such-flag. Run"},
		// A flag one letter off names the one meant: records' --stream
		// given to read, whose flag is --streams.
		{[]string{"read", "source-faker", "--stream", "users"}, "unknown flag --stream (did you mean --streams?)"},
		{[]string{"read", "source-faker", "--scheme", "x"}, "unknown flag --scheme (did you mean --schema?)"},
		// pyab's flags, as a PyAirbyte user types them, are told goab's.
		{[]string{"validate", "--connector", "source-faker"}, "unknown flag --connector (goab takes the connector as its first argument: goab validate source-faker)"},
		{[]string{"benchmark", "--source=source-faker"}, "unknown flag --source (goab takes the source as its first argument: goab benchmark source-faker)"},
		{[]string{"benchmark", "--num-records", "5e5"}, "unknown flag --num-records (goab benchmark's is --count)"},
		// --count was ignored beside a --config, which the run used.
		{[]string{"benchmark", "--count", "1e3", "--config", `{"count": 5}`}, "--count is the faker's count when there is no --config"},
		// Go's flag package names a flag with one dash; goab's take two.
		{[]string{"benchmark", "--count", "abc"}, `invalid value "abc" for --count: not a whole number`},
		{[]string{"check", "--config", "{}"}, "a connector name (such as source-faker) is required"},
		{[]string{"check", "a", "b"}, `unexpected arguments "b"`},
		{[]string{"records", "source-faker", "--local-executable", "/bin/true"}, "--stream is required"},
		// The stream given as an argument, as "goab records source-faker users"
		// reads: the argument is named, not "--stream is required".
		{[]string{"records", "source-faker", "--local-executable", "/bin/true", "users"}, `unexpected arguments "users" after the connector name "source-faker"`},
		{[]string{"read", "source-x", "--pip-url", "/tmp/x", "--use-python", "/usr/bin/python3"}, `--use-python takes its interpreter after "=": --use-python=/usr/bin/python3`},
		{[]string{"sync", "source-x", "--destination", "destination-y", "--destination-use-python", "python3.11"}, `--destination-use-python takes its interpreter after "=": --destination-use-python=python3.11`},
		// A negative limit printed every record, as 0 does.
		{[]string{"records", "source-faker", "--config", "{}", "--stream", "users", "--limit", "-1"}, "--limit must be 0 (all) or more"},
		{[]string{"check", "source-faker", "--config", "no-such-file.json"}, "cannot read the --config file no-such-file.json"},
		// A --manifest file that is not there is the command line's
		// mistake, as a --config file is, not a connector failure (1).
		{[]string{"check", "--manifest", "no-such-manifest.yaml", "--config", "{}"}, "cannot read the --manifest file no-such-manifest.yaml"},
		// A manifest whose path gives no name reads into a cache only
		// named: under the fallback source-manifest, two manifests shared
		// tables and state, the second reading from the first's state.
		{[]string{"read", "--manifest", "api/manifest.yaml", "--config", "{}"}, "name the source, as in goab read source-NAME --manifest api/manifest.yaml"},
		{[]string{"sync", "--manifest", "api/manifest.yaml", "--config", "{}", "--destination", "destination-local-json", "--destination-config", "{}"}, "name the source, as in goab sync source-NAME"},
		{[]string{"check", "source-faker", "--config", "{not json"}, "is not a JSON or YAML object"},
		{[]string{"check", "source-faker", "--config", "[1,2]"}, "must be an object of config fields, such as '{\"count\": 100}', not a list"},
		{[]string{"spec", "source-faker", "--format", "xml"}, "--format must be yaml or json"},
		{[]string{"discover", "source-faker", "--format", "xml"}, "--format must be json or table"},
		{[]string{"read", "source-faker", "--format", "xml"}, "--format must be table or json"},
		{[]string{"connectors", "--format", "yaml"}, "--format must be table or json"},
		{[]string{"check", "no-such-connector-anywhere"}, "no executable named no-such-connector-anywhere on PATH"},
		{[]string{"read", "source-faker", "--local-executable", "/bin/true", "--schema", "x"}, "--schema needs --cache"},
		// A cache URL's parameters on a plain path: the remedy is the URL form.
		{[]string{"read", "source-faker", "--config", "{}", "--cache", "c.duckdb?table_prefix=x"}, "write it as a duckdb: URL: duckdb:c.duckdb?table_prefix=x"},
		{[]string{"read", "source-faker", "--local-executable", "/bin/true", "--cache", "postgres://h/db", "--memory-limit", "1GB"}, "--memory-limit applies to DuckDB caches"},
		// A cache URL whose scheme no cache has (a typo) is refused, where
		// it named a DuckDB file "postgress:/h/db" under the working
		// directory; its password is not shown.
		{[]string{"read", "source-faker", "--local-executable", "/bin/true", "--config", "{}", "--cache", "postgress://u:hunter2@h/db"}, `--cache postgress://u:xxxxx@h/db: no cache has URLs of scheme "postgress"`},
		{[]string{"read", "source-faker", "--local-executable", "/bin/true", "--config", "{}", "--cache", "duckdb:x.duckdb?schema=a", "--schema", "b"}, "--schema b and the --cache URL's schema=a disagree"},
		// A --cache the cache refuses before connecting is the command
		// line's mistake too: it was a failure (1), which a script would
		// retry.
		{[]string{"read", "source-faker", "--local-executable", "/bin/true", "--config", "{}", "--cache", "duckdb:x.duckdb?memory_limt=1GB"}, `the URL parameter "memory_limt" is not known`},
		{[]string{"read", "source-faker", "--local-executable", "/bin/true", "--config", "{}", "--cache", "duckdb:x.duckdb?batch_size=-1"}, "the batch size must be positive"},
		{[]string{"read", "source-faker", "--local-executable", "/bin/true", "--config", "{}", "--cache", "duckdb:"}, "names no file"},
		// A memory limit DuckDB would not parse, and a misspelt parameter
		// of a PostgreSQL DSN, are refused before the cache is opened:
		// they failed (1) when the database refused them.
		{[]string{"read", "source-faker", "--local-executable", "/bin/true", "--config", "{}", "--cache", "x.duckdb", "--memory-limit", "banana"}, `--memory-limit banana: the limit has no number`},
		{[]string{"read", "source-faker", "--local-executable", "/bin/true", "--config", "{}", "--cache", "duckdb:x.duckdb?memory_limit=1GiBs"}, `memory_limit=1GiBs: the unit "GiBs" is not known`},
		{[]string{"read", "source-faker", "--local-executable", "/bin/true", "--config", "{}", "--cache", "postgres://u@127.0.0.1:1/db?sslmod=disable"}, "did you mean sslmode?"},
		{[]string{"read", "source-faker", "--local-executable", "/bin/true", "--config", "{}", "--cache", "host=127.0.0.1 port=1 sslmod=disable"}, "did you mean sslmode?"},
		{[]string{"read", "source-faker", "--local-executable", "/bin/true", "--config", "{}", "--cache", "duckdb:x.duckdb?table_prefix=%C3%A4"}, "cannot be used as a SQL identifier"},
		{[]string{"read", "source-faker", "--local-executable", "/bin/true", "--config", "{}", "--cache", "postgres://u:hunter2@h/db?sslmode=sometimes"}, "the connection string is not valid"},
		{[]string{"read", "source-faker", "--local-executable", "/bin/true", "--strategy", "upsert"}, "--strategy must be auto, append, merge or replace"},
		{[]string{"sync", "source-faker", "--local-executable", "/bin/true"}, "--destination is required"},
		{[]string{"sync", "source-faker", "--local-executable", "/bin/true", "--destination", "d", "--strategy", "x"}, "--strategy must be auto, append, merge or replace"},
		{[]string{"connectors", "--kind", "x"}, `--kind must be source or destination, not "x"`},
		{[]string{"check", "source-faker", "--local-executable", "/bin/true", "--pip-url", "airbyte-source-faker"}, "choose one of"},
		{[]string{"connectors", "--install-type", "rpm"}, "rpm"},
		{[]string{"validate", "source-faker", "--local-executable", "/bin/true", "--limit", "0"}, "--limit must be at least 1"},
		{[]string{"benchmark", "--count", "0"}, "--count must be at least 1"},
		{[]string{"benchmark", "--count", "2.5"}, "not a whole number of records (100000, or 1e5)"},
		{[]string{"benchmark", "--count", "1e30"}, "not a whole number of records"},
		{[]string{"benchmark", "--count", "many"}, "not a whole number of records"},
		{[]string{"benchmark", "--cache", "x.duckdb", "--destination", "destination-local-json"}, "choose --cache or --destination"},
		{[]string{"sync", "source-faker", "--local-executable", "/bin/true", "--destination", "no-such-destination-anywhere", "--destination-config", "{}"}, "no executable named no-such-destination-anywhere"},
		// A missing config names goab's flag, not the library's option; a
		// destination's is refused before the source is read.
		{[]string{"records", "source-faker", "--local-executable", "/bin/true", "--stream", "users"}, "source-faker needs a config: pass --config"},
		{[]string{"check", "source-faker", "--local-executable", "/bin/true"}, "source-faker needs a config: pass --config"},
		// Another connector is not shown the faker's count as its example,
		// but where its fields are listed.
		{[]string{"check", "source-other", "--local-executable", "/bin/true"}, "source-other needs a config: pass --config, a JSON or YAML file or inline JSON; goab spec source-other lists its fields"},
		{[]string{"sync", "source-faker", "--local-executable", "/bin/true", "--config", "{}", "--destination", "d"}, "--destination-config is required"},
		{[]string{"benchmark", "--destination-local-executable", "/bin/true"}, "--destination-config is required"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := goab(t, nil, c.args...)
			r.want(t, 2)
			p := errorParagraph(t, r)
			if !strings.Contains(p, c.want) {
				t.Errorf("error %q does not say %q", p, c.want)
			}
			if !strings.Contains(p, "--help") && !strings.Contains(p, "goab help") {
				t.Errorf("error %q does not point to the help", p)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	r := goab(t, nil, "version")
	r.want(t, 0)
	if !strings.HasPrefix(r.stdout, "goab ") || !strings.Contains(r.stdout, runtime.Version()) {
		t.Errorf("version output %q", r.stdout)
	}
	if r2 := goab(t, nil, "--version"); r2.stdout != r.stdout {
		t.Errorf("goab --version printed %q, goab version %q", r2.stdout, r.stdout)
	}
}

func TestConnectorsOffline(t *testing.T) {
	r := goab(t, nil, "connectors")
	r.want(t, 0)
	names := strings.Fields(r.stdout)
	for _, want := range []string{"source-faker", "destination-local-json"} {
		if !contains(names, want) {
			t.Errorf("connectors does not list the built-in %s:\n%s", want, r.stdout)
		}
	}
	r = goab(t, nil, "connectors", "--kind", "destination")
	r.want(t, 0)
	if names := strings.Fields(r.stdout); contains(names, "source-faker") || !contains(names, "destination-local-json") {
		t.Errorf("--kind destination listed:\n%s", r.stdout)
	}
	r = goab(t, nil, "connectors", "--long", "--install-type", "any")
	r.want(t, 0)
	if !regexp.MustCompile(`(?m)^source-faker\s+source\s+\S+\s+go \(built-in\)`).MatchString(r.stdout) {
		t.Errorf("--long table lacks the built-in faker:\n%s", r.stdout)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestSpecCheckDiscover(t *testing.T) {
	fk := faker(t)
	r := goab(t, nil, "spec", "source-faker", "--local-executable", fk, "--format", "json")
	r.want(t, 0)
	var spec struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &spec); err != nil || spec.Properties["count"] == nil {
		t.Fatalf("spec --format json: %v\n%s", err, r.stdout)
	}
	// The name comes from the executable when none is given; YAML by default.
	r = goab(t, nil, "spec", "--local-executable", fk)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "count:") {
		t.Errorf("spec as YAML:\n%s", r.stdout)
	}

	r = goab(t, nil, "check", "source-faker", "--local-executable", fk, "--config", `{"count": 10}`)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "source-faker: connection check succeeded") {
		t.Errorf("check: %q", r.stdout)
	}

	r = goab(t, nil, "discover", "source-faker", "--local-executable", fk, "--config", "count: 10")
	r.want(t, 0)
	var cat struct {
		Streams []struct {
			Name string `json:"name"`
		} `json:"streams"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cat); err != nil {
		t.Fatalf("discover output is not a catalog: %v\n%s", err, r.stdout)
	}
	var names []string
	for _, s := range cat.Streams {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "products,users,purchases" {
		t.Errorf("discovered streams %v", names)
	}
	r = goab(t, nil, "discover", "source-faker", "--local-executable", fk, "--config", "{}", "--format", "table")
	r.want(t, 0)
	if !regexp.MustCompile(`(?m)^users\s+full_refresh,incremental\s+updated_at\s+id$`).MatchString(r.stdout) {
		t.Errorf("discover table:\n%s", r.stdout)
	}
}

// goab spec and goab check take a destination as they take a source (its
// help says "a connector"), as goab validate does: a newcomer looks up a
// destination's config with goab spec before writing a sync.
// spec --output to a file that cannot be made names the flag, where it said
// only "open PATH: no such file or directory".
func TestSpecOutputCannotBeWritten(t *testing.T) {
	out := filepath.Join(t.TempDir(), "no-such-dir", "spec.json")
	r := goab(t, nil, "spec", "source-faker", "--output", out)
	r.want(t, 1)
	if p := errorParagraph(t, r); !strings.Contains(p, "cannot write the spec to --output "+out+": no such file or directory") {
		t.Errorf("spec --output %s: %s", out, p)
	}
}

func TestSpecCheckDestination(t *testing.T) {
	lj := localJSON(t)
	r := goab(t, nil, "spec", "destination-local-json", "--local-executable", lj, "--format", "json")
	r.want(t, 0)
	var spec struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &spec); err != nil || spec.Properties["destination_path"] == nil {
		t.Fatalf("spec --format json: %v\n%s", err, r.stdout)
	}
	r = goab(t, nil, "spec", "destination-local-json") // the built-in one
	r.want(t, 0)
	if !strings.Contains(r.stdout, "destination_path:") {
		t.Errorf("spec as YAML:\n%s", r.stdout)
	}
	r = goab(t, nil, "check", "destination-local-json", "--local-executable", lj, "--config", `{"destination_path": "`+t.TempDir()+`"}`)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "destination-local-json: connection check succeeded") {
		t.Errorf("check: %q", r.stdout)
	}
	// What only a source has is refused.
	for _, extra := range [][]string{{"--streams", "users"}, {"--manifest", "m.yaml"}} {
		r = goab(t, nil, append([]string{"check", "destination-local-json", "--config", "{}"}, extra...)...)
		r.want(t, 2)
		if p := errorParagraph(t, r); !strings.Contains(p, extra[0]) {
			t.Errorf("check %v: %s", extra, p)
		}
	}
}

// spec and check read no stream: --streams is not theirs, for a source
// either, where it used to be taken and do nothing. validate reads streams.
// discover --streams prints those streams of the catalog, and refuses a
// name the catalog lacks as read does; it printed the whole catalog and
// succeeded whatever the flag said.
func TestDiscoverStreams(t *testing.T) {
	r := goab(t, nil, "discover", "source-faker", "--config", "{}", "--streams", "purchases,users", "--format", "table")
	r.want(t, 0)
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], "users ") || !strings.HasPrefix(lines[2], "purchases ") {
		t.Errorf("discover --streams purchases,users: want the users and purchases rows, in the catalog's order:\n%s", r.stdout)
	}
	r = goab(t, nil, "discover", "source-faker", "--config", "{}", "--streams", "user")
	r.want(t, 1)
	if p := errorParagraph(t, r); !strings.Contains(p, `no stream "user"`) || !strings.Contains(p, "users") {
		t.Errorf("discover --streams user: %s", p)
	}
}

func TestStreamsOnlyWhereStreamsAreRead(t *testing.T) {
	for _, cmd := range []string{"spec", "check"} {
		r := goab(t, nil, cmd, "source-faker", "--config", `{"count": 1}`, "--streams", "users")
		r.want(t, 2)
		if p := errorParagraph(t, r); !strings.Contains(p, "unknown flag --streams") {
			t.Errorf("%s --streams: %s", cmd, p)
		}
		if r := goab(t, nil, cmd, "--help"); strings.Contains(r.stdout+r.stderr, "--streams") {
			t.Errorf("%s --help lists --streams:\n%s", cmd, r.stdout+r.stderr)
		}
	}
	r := goab(t, nil, "validate", "source-faker", "--config", `{"count": 1}`, "--streams", "users", "--limit", "1")
	r.want(t, 0)
}

func TestCheckFailsNamingTheField(t *testing.T) {
	r := goab(t, nil, "check", "source-faker", "--local-executable", faker(t), "--config", `{"count": -5}`)
	r.want(t, 1)
	p := errorParagraph(t, r)
	if !strings.HasPrefix(p, "goab check failed: ") || !strings.Contains(p, `"count"`) {
		t.Errorf("error paragraph %q does not name the count field", p)
	}
}

// A connector that crashes with a traceback on stderr: the paragraph says
// why (its last stderr line) and where the full log is, and that file holds
// the traceback.
func TestConnectorFailureNamesTheLogFile(t *testing.T) {
	bin := testenv.BuildBinary(t, "./internal/testconnectors/stderrexit")
	r := goab(t, nil, "records", "stderrexit", "--local-executable", bin, "--config", "{}", "--stream", "items")
	r.want(t, 1)
	p := errorParagraph(t, r)
	if !strings.Contains(p, "connection refused by api.example.com") {
		t.Errorf("paragraph %q does not give the connector's reason", p)
	}
	m := regexp.MustCompile(`log is in (\S+?)\.?$`).FindStringSubmatch(p)
	if m == nil {
		t.Fatalf("paragraph %q does not name the log file", p)
	}
	b, err := os.ReadFile(m[1])
	if err != nil || !bytes.Contains(b, []byte("Traceback")) {
		t.Errorf("log file %s: %v\n%s", m[1], err, b)
	}
}

func TestRecords(t *testing.T) {
	fk := faker(t)
	r := goab(t, nil, "records", "source-faker", "--local-executable", fk, "--config", `{"count": 20}`, "--stream", "users", "--limit", "3")
	r.want(t, 0)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 records, got %d:\n%s", len(lines), r.stdout)
	}
	for i, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec["id"] != float64(i+1) || rec["name"] == nil {
			t.Errorf("record %d: %v %q", i, err, l)
		}
	}

	// A config file in YAML, and --streams naming the one stream.
	cfgFile := filepath.Join(t.TempDir(), "faker.yaml")
	os.WriteFile(cfgFile, []byte("count: 7\nseed: 3\n"), 0o600)
	r = goab(t, nil, "records", "--local-executable", fk, "--config", cfgFile, "--streams", "users")
	r.want(t, 0)
	if n := strings.Count(r.stdout, "\n"); n != 7 {
		t.Errorf("want 7 users, got %d", n)
	}

	r = goab(t, nil, "records", "source-faker", "--local-executable", fk, "--config", "{}", "--stream", "nope")
	r.want(t, 1)
	if p := errorParagraph(t, r); !strings.Contains(p, `no stream "nope"`) || !strings.Contains(p, "users") {
		t.Errorf("paragraph %q", p)
	}
}

// secret_reference::NAME values are resolved from the environment; a
// missing secret fails with its name.
func TestSecretReference(t *testing.T) {
	fk := faker(t)
	cfg := `{"count": 3, "api_key": "secret_reference::GOAB_TEST_API_KEY"}`
	r := goab(t, []string{"GOAB_TEST_API_KEY=s3cr3t-value-for-goab"}, "check", "source-faker", "--local-executable", fk, "--config", cfg)
	r.want(t, 0)
	r = goab(t, nil, "check", "source-faker", "--local-executable", fk, "--config", cfg)
	r.want(t, 1)
	if p := errorParagraph(t, r); !strings.Contains(p, "GOAB_TEST_API_KEY") {
		t.Errorf("paragraph %q does not name the missing secret", p)
	}
}

// A YAML config reaches the connector as it is written: a plain date, which
// YAML would make a timestamp, stays the string typed (the form start dates
// are specified in), and so do keys YAML would make numbers or booleans.
func TestYAMLConfigKeepsDates(t *testing.T) {
	bin := testenv.BuildBinary(t, "./internal/testconnectors/jsononly")
	cfg := "start_date: 2024-01-01\nupdated: 2024-01-01 10:00:00\nquoted: \"2024-02-02\"\nwindows:\n  2024: short\n  true: on\n"
	r := goab(t, nil, "records", "jsononly", "--local-executable", bin, "--config", cfg, "--stream", "items")
	r.want(t, 0)
	var rec struct {
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
		t.Fatalf("%v: %q", err, r.stdout)
	}
	want := map[string]any{"start_date": "2024-01-01", "updated": "2024-01-01 10:00:00", "quoted": "2024-02-02",
		"windows": map[string]any{"2024": "short", "true": "on"}}
	if got, _ := json.Marshal(rec.Config); string(got) != string(must(json.Marshal(want))) {
		t.Errorf("the connector got the config %s, want %s", got, must(json.Marshal(want)))
	}
}

// pyab's way of naming a secret in --config, "SECRET:NAME", is goab's
// "secret_reference::NAME": the connector gets the secret, at any depth,
// where it got the text "SECRET:NAME" itself, and was sent that as a
// password.
func TestPyabSecretInConfig(t *testing.T) {
	bin := testenv.BuildBinary(t, "./internal/testconnectors/jsononly")
	cfg := `{"token": "SECRET:PYAB_TOKEN", "nested": {"key": "SECRET: PYAB_KEY"}, "list": ["SECRET:PYAB_TOKEN"], "plain": "SECRET"}`
	r := goab(t, []string{"PYAB_TOKEN=t0ken", "PYAB_KEY=k3y"}, "records", "jsononly", "--local-executable", bin, "--config", cfg, "--stream", "items")
	r.want(t, 0)
	var rec struct {
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(r.stdout, "\n", 2)[0]), &rec); err != nil {
		t.Fatalf("%v: %q", err, r.stdout)
	}
	want := `{"list":["t0ken"],"nested":{"key":"k3y"},"plain":"SECRET","token":"t0ken"}`
	if got, _ := json.Marshal(rec.Config); string(got) != want {
		t.Errorf("the connector got the config %s, want %s", got, want)
	}
	r = goab(t, nil, "records", "jsononly", "--local-executable", bin, "--config", `{"token": "SECRET:PYAB_MISSING"}`, "--stream", "items")
	if r.code == 0 || !strings.Contains(r.stderr, "PYAB_MISSING") {
		t.Errorf("a missing pyab secret: exit %d, %s", r.code, r.stderr)
	}
}

// Numbers in a YAML config reach the connector as written, as they do from
// a JSON config: integers beyond 64 bits and decimals with more digits than
// a float64 holds are not rounded; YAML's own forms (1_000, 0x1F, .inf)
// keep their YAML meaning.
// A config that JSON refuses but YAML's flow style takes (a trailing
// comma) is the YAML config it is: it was refused as "not a number", the
// kind of the YAML mapping it parsed to misnamed.
func TestJSONLikeYAMLConfig(t *testing.T) {
	r := goab(t, nil, "check", "source-faker", "--config", `{"count": 5, "seed": 3,}`)
	r.want(t, 0)
	r = goab(t, nil, "check", "source-faker", "--config", `{"count": [1,}`)
	r.want(t, 2)
	if p := errorParagraph(t, r); !strings.Contains(p, "is not a JSON or YAML object: invalid character") {
		t.Errorf("a config neither JSON nor YAML: %s", p)
	}
}

func TestYAMLConfigKeepsNumbersExact(t *testing.T) {
	bin := testenv.BuildBinary(t, "./internal/testconnectors/jsononly")
	cfg := "big: 123456789012345678901234567890\nneg: -98765432109876543210\numax: 18446744073709551615\n" +
		"small: 42\nexp: 1.5e300\nprecise: 0.12345678901234567890123\nlist: [1, 100000000000000000000001]\n" +
		"anchored: &n 99999999999999999999\nagain: *n\nunderscored: 1_000\nhex: 0x1F\nquoted: \"123456789012345678901234567890\"\n"
	r := goab(t, nil, "records", "jsononly", "--local-executable", bin, "--config", cfg, "--stream", "items")
	r.want(t, 0)
	var rec struct {
		Config json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
		t.Fatalf("%v: %q", err, r.stdout)
	}
	for _, want := range []string{`"big":123456789012345678901234567890`, `"neg":-98765432109876543210`, `"umax":18446744073709551615`,
		`"small":42`, `"exp":1.5e300`, `"precise":0.12345678901234567890123`, `"list":[1,100000000000000000000001]`,
		`"anchored":99999999999999999999`, `"again":99999999999999999999`, `"underscored":1000`, `"hex":31`,
		`"quoted":"123456789012345678901234567890"`} {
		if !strings.Contains(string(rec.Config), want) {
			t.Errorf("the connector got the config %s, without %s", rec.Config, want)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestValidate(t *testing.T) {
	fk := faker(t)
	r := goab(t, nil, "validate", "source-faker", "--local-executable", fk, "--config", `{"count": 20}`, "--limit", "4")
	r.want(t, 0)
	for _, want := range []string{"ok  spec", "ok  config", "ok  check", "ok  discover", "products 4, users 4, purchases 4", "source-faker is valid."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("validate output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = goab(t, nil, "validate", "source-faker", "--local-executable", fk, "--config", `{"count": "many"}`)
	r.want(t, 1)
	if p := errorParagraph(t, r); !strings.Contains(p, `validation step "config"`) || !strings.Contains(p, "count:") {
		t.Errorf("paragraph %q", p)
	}
}

// tableRows parses the summary table goab prints into first column →
// the other columns.
func tableRows(out string) map[string][]string {
	rows := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 1 {
			rows[f[0]] = f[1:]
		}
	}
	return rows
}

func wantCount(t *testing.T, rows map[string][]string, stream string, col int, want int64) {
	t.Helper()
	if len(rows[stream]) <= col {
		t.Errorf("no column %d for stream %s in %v", col, stream, rows)
		return
	}
	got, err := strconv.ParseInt(rows[stream][col], 10, 64)
	if err != nil || got != want {
		t.Errorf("stream %s column %d = %q, want %d", stream, col, rows[stream][col], want)
	}
}

// read into a DuckDB file, twice: the faker with always_updated off emits
// nothing new the second time, because the state in the cache is passed
// back to it.
// The default cache that read and sync use with no --cache is closed
// when goab ends, as a --cache file is: its file is whole on its own, with
// no write-ahead log left beside it, so that a copy of default_cache.duckdb
// (a CI artifact, a file sent to a colleague) holds what was read. It was
// left open, its data in the .wal alone, and a copy of the file was empty.
func TestDefaultCacheIsWholeWhenGoabEnds(t *testing.T) {
	out := []string{"--destination", "destination-local-json", "--destination-config", `{"destination_path": "` + t.TempDir() + `"}`}
	for _, args := range [][]string{
		{"read", "source-faker", "--config", `{"count": 5}`, "--streams", "users"},
		{"sync", "source-faker", "--config", `{"count": 5}`, "--streams", "users"},
		{"sync", "source-faker", "--config", `{"count": 5}`, "--streams", "users", "--no-cache"},
	} {
		if args[0] == "sync" {
			args = append(args, out...)
		}
		dir := t.TempDir()
		goabIn(t, dir, nil, append(args, "--no-progress")...).want(t, 0)
		file := filepath.Join(dir, ".cache", "default_cache", "default_cache.duckdb")
		if _, err := os.Stat(file + ".wal"); err == nil {
			t.Errorf("goab %s left %s.wal: the default cache was not closed", strings.Join(args[:2], " "), file)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		alone := filepath.Join(t.TempDir(), "copy.duckdb")
		if err := os.WriteFile(alone, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := cache.Open(t.Context(), "duckdb:"+alone)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"users"}
		if args[0] == "sync" && slices.Contains(args, "--no-cache") {
			want = nil // the records went straight to the destination
		}
		if streams, err := c.Streams(t.Context()); err != nil || !slices.Equal(streams, want) {
			t.Errorf("goab %s: a copy of the default cache's file has the streams %v (%v), want %v", strings.Join(args, " "), streams, err, want)
		}
		c.Close()
	}
}

func TestReadIntoDuckDB(t *testing.T) {
	fk := faker(t)
	db := filepath.Join(t.TempDir(), "sub", "faker.duckdb")
	cfg := `{"count": 50, "always_updated": false, "records_per_slice": 10}`
	r := goab(t, nil, "read", "source-faker", "--local-executable", fk, "--config", cfg, "--cache", db)
	r.want(t, 0)
	rows := tableRows(r.stdout)
	wantCount(t, rows, "users", 0, 50)
	wantCount(t, rows, "users", 1, 50)
	wantCount(t, rows, "purchases", 1, 50)
	wantCount(t, rows, "products", 1, 50) // the faker makes min(count, 100) products
	// stdout is the table alone; the summary line is stderr's.
	if strings.Contains(r.stdout, "records") || len(strings.Split(strings.TrimSpace(r.stdout), "\n")) != 4 {
		t.Errorf("stdout is more than the table:\n%s", r.stdout)
	}
	// Progress on stderr (NO_LIVE_PROGRESS is set: the summary line only).
	if strings.Count(r.stderr, "Read 150 records from source-faker in ") != 1 || strings.Count(r.stderr, "records") != 1 {
		t.Errorf("want one progress summary line on stderr, got:\n%s", r.stderr)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatal(err)
	}

	r = goab(t, nil, "read", "source-faker", "--local-executable", fk, "--config", cfg, "--cache", db, "--streams", "users", "--no-progress", "--memory-limit", "2MB")
	r.want(t, 1)
	if !strings.Contains(r.stderr, "--memory-limit") {
		t.Errorf("a memory limit too low: %s", r.stderr)
	}
	r = goab(t, nil, "read", "source-faker", "--local-executable", fk, "--config", cfg, "--cache", db, "--streams", "users", "--no-progress", "--memory-limit", "256MB")
	r.want(t, 0)
	if strings.Contains(r.stderr, "records") {
		t.Errorf("--no-progress, yet stderr has:\n%s", r.stderr)
	}
	rows = tableRows(r.stdout)
	wantCount(t, rows, "users", 0, 0)
	wantCount(t, rows, "users", 1, 50)
	if _, ok := rows["purchases"]; ok {
		t.Errorf("--streams users also read purchases:\n%s", r.stdout)
	}
}

func TestReadIntoPostgres(t *testing.T) {
	dsn := testenv.Postgres(t)
	r := goab(t, nil, "read", "source-faker", "--local-executable", faker(t), "--config", `{"count": 30}`,
		"--cache", dsn, "--schema", "goab", "--streams", "users,purchases")
	r.want(t, 0)
	rows := tableRows(r.stdout)
	wantCount(t, rows, "users", 1, 30)
	wantCount(t, rows, "purchases", 1, 30)
	if !strings.Contains(r.stdout, `"goab"."users"`) {
		t.Errorf("table not in schema goab:\n%s", r.stdout)
	}
}

// A config that breaks the spec points to the goab spec command that
// prints it, with the flags that run the connector: "goab spec
// source-faker" alone finds no way to run a --local-executable's or a
// --manifest's connector.
func TestConfigErrorNamesTheSpecCommand(t *testing.T) {
	fk := faker(t)
	r := goab(t, nil, "read", "source-faker", "--local-executable", fk, "--config", `{"count": "x"}`, "--no-progress")
	r.want(t, 1)
	if p := errorParagraph(t, r); !strings.Contains(p, "(print the spec with goab spec source-faker --local-executable "+fk+")") {
		t.Errorf("the advice names no way to run the connector: %s", p)
	}
}

// TestReadIntoCacheURLs reads into caches named by URL, as cache.Open
// takes them: a duckdb: URL is the file it names (not a file called
// "duckdb:…"), and table_prefix applies on both backends (PostgreSQL's
// connector refused it).
// A --cache that is a directory (as if goab made its file in it) is a usage
// error that says a DuckDB cache is a file and names one, for a path and a
// duckdb: URL alike; DuckDB's own words were "Could not read from file: Is
// a directory".
func TestCacheThatIsADirectory(t *testing.T) {
	dir := t.TempDir()
	for _, target := range []string{dir, "duckdb:" + dir, "sub"} {
		if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		r := goabIn(t, dir, nil, "read", "source-faker", "--config", `{"count": 5}`, "--cache", target, "--no-progress")
		r.want(t, 2)
		if p := errorParagraph(t, r); !strings.Contains(p, "is a directory") || !strings.Contains(p, "goab.duckdb") {
			t.Errorf("--cache %s: %s", target, p)
		}
	}
}

// A --cache that is a file of another kind is refused before a read: DuckDB
// opened an existing .json, .csv or .parquet file as data in a database in
// memory, so the read succeeded and kept nothing.
func TestCacheThatIsNotADuckDBFile(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"records.json", "out.csv", "empty.json", "t.parquet"} {
		content := []byte(`{"a": 1}` + "\n")
		if name == "empty.json" {
			content = nil
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, target := range []string{path, "duckdb:" + path} {
			r := goabIn(t, dir, nil, "read", "source-faker", "--config", `{"count": 5}`, "--cache", target, "--no-progress")
			r.want(t, 2)
			if p := errorParagraph(t, r); !strings.Contains(p, "not a DuckDB database file") {
				t.Errorf("--cache %s: %s", target, p)
			}
		}
		if b, _ := os.ReadFile(path); string(b) != string(content) {
			t.Errorf("%s was changed: %q", name, b)
		}
	}
	// A DuckDB file is one still.
	db := filepath.Join(dir, "c.duckdb")
	goabIn(t, dir, nil, "read", "source-faker", "--config", `{"count": 5}`, "--cache", db, "--no-progress").want(t, 0)
	goabIn(t, dir, nil, "read", "source-faker", "--config", `{"count": 5}`, "--cache", db, "--no-progress").want(t, 0)
}

func TestReadIntoCacheURLs(t *testing.T) {
	dir := t.TempDir()
	r := goabIn(t, dir, nil, "read", "source-faker", "--config", `{"count": 5}`, "--streams", "users",
		"--cache", "duckdb:sub/c.duckdb?table_prefix=p", "--memory-limit", "256MB")
	r.want(t, 0)
	if !strings.Contains(r.stdout, `"main"."p_users"`) {
		t.Errorf("table not p_users:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "sub", "c.duckdb")); err != nil {
		t.Errorf("duckdb:sub/c.duckdb did not make sub/c.duckdb: %v", err)
	}

	// A second source with the same streams is told the flags that keep
	// them apart, not the library's Cache.Load; the prefix then works.
	r = goabIn(t, dir, nil, "read", "source-faker2", "--local-executable", faker(t), "--config", `{"count": 5}`, "--streams", "users",
		"--cache", "duckdb:sub/c.duckdb?table_prefix=p", "--no-progress")
	r.want(t, 1)
	if p := errorParagraph(t, r); !strings.Contains(p, "table_prefix= in the --cache URL") || strings.Contains(p, "Cache.Load") {
		t.Errorf("two sources, one table: %s", p)
	}
	goabIn(t, dir, nil, "read", "source-faker2", "--local-executable", faker(t), "--config", `{"count": 5}`, "--streams", "users",
		"--cache", "duckdb:sub/c.duckdb?table_prefix=f2", "--no-progress").want(t, 0)

	dsn := testenv.Postgres(t)
	if !strings.HasPrefix(dsn, "postgres") {
		t.Skipf("the test server's DSN %q is not a URL", dsn)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	r = goab(t, nil, "read", "source-faker", "--config", `{"count": 5}`, "--streams", "users",
		"--cache", dsn+sep+"table_prefix=t1", "--schema", "goab")
	r.want(t, 0)
	if !strings.Contains(r.stdout, `"goab"."t1_users"`) {
		t.Errorf("table not goab.t1_users:\n%s", r.stdout)
	}
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

func TestSync(t *testing.T) {
	fk, lj := faker(t), localJSON(t)
	for _, mode := range []string{"cache", "no-cache"} {
		t.Run(mode, func(t *testing.T) {
			out := t.TempDir()
			args := []string{"sync", "source-faker", "--local-executable", fk, "--config", `{"count": 40}`,
				"--destination", "destination-local-json", "--destination-local-executable", lj,
				"--destination-config", fmt.Sprintf(`{"destination_path": %q}`, out),
				"--cache", filepath.Join(t.TempDir(), "sync.duckdb")}
			if mode == "no-cache" {
				args = append(args, "--no-cache")
			}
			r := goab(t, nil, args...)
			r.want(t, 0)
			rows := tableRows(r.stdout)
			wantCount(t, rows, "users", 0, 40)
			wantCount(t, rows, "users", 1, 40)
			if n := countLines(t, filepath.Join(out, "_airbyte_raw_users.jsonl")); n != 40 {
				t.Errorf("destination has %d users, want 40", n)
			}
			if n := countLines(t, filepath.Join(out, "_airbyte_raw_purchases.jsonl")); n != 40 {
				t.Errorf("destination has %d purchases, want 40", n)
			}
		})
	}
}

// A failed sync says what the next sync sends, in goab's words, not the
// library's "the next Write".
func TestFailedSyncSaysWhatTheNextSends(t *testing.T) {
	r := goab(t, nil, "sync", "source-faker", "--config", `{"count": 5}`, "--no-cache", "--no-progress",
		"--destination", "destination-local-json", "--destination-config", `{"destination_path": "/proc/goab-cannot-write-here"}`)
	r.want(t, 1)
	if p := errorParagraph(t, r); !strings.Contains(p, "what was not confirmed is sent again by the next goab sync") {
		t.Errorf("a failed sync: %s", p)
	}
}

func TestBenchmark(t *testing.T) {
	fk, lj := faker(t), localJSON(t)
	cases := map[string][]string{
		"noop":        nil,
		"cache":       {"--cache", filepath.Join(t.TempDir(), "bench.duckdb")},
		"destination": {"--destination-local-executable", lj, "--destination-config", fmt.Sprintf(`{"destination_path": %q}`, t.TempDir())},
	}
	for name, extra := range cases {
		t.Run(name, func(t *testing.T) {
			// The count as PyAirbyte's --num-records takes it too: 5e2 is 500.
			args := append([]string{"benchmark", "--local-executable", fk, "--count", "5e2"}, extra...)
			r := goab(t, nil, args...)
			r.want(t, 0)
			rows := tableRows(r.stdout)
			wantCount(t, rows, "users", 0, 500)
			wantCount(t, rows, "purchases", 0, 500)
			if !regexp.MustCompile(`1100 records in [0-9.]+ s, [0-9]+ rec/s, [0-9.]+ MB/s, first record after [0-9.]+ s`).MatchString(r.stdout) {
				t.Errorf("benchmark output:\n%s", r.stdout)
			}
			// Per stream: records, rec/s, MB/s and the time to the first
			// record, from the final progress snapshot.
			if !regexp.MustCompile(`(?m)^STREAM +RECORDS +REC/S +MB/S +FIRST RECORD$`).MatchString(r.stdout) {
				t.Errorf("no per-stream header in:\n%s", r.stdout)
			}
			for _, stream := range []string{"products", "users", "purchases"} {
				cols := rows[stream]
				if len(cols) != 5 || cols[4] != "s" {
					t.Errorf("stream %s: columns %q, want records, rec/s, MB/s, first record", stream, cols)
					continue
				}
				for i, col := range cols[1:4] {
					if v, err := strconv.ParseFloat(col, 64); err != nil || (i != 1 && v <= 0) {
						t.Errorf("stream %s: column %d is %q, want a positive number", stream, i+1, col)
					}
				}
			}
			// The library's summary line, once; no warning about the state
			// cache the benchmark chose not to keep.
			if n := strings.Count(r.stderr, "records"); n != 1 || !strings.Contains(r.stderr, "1,100 records") {
				t.Errorf("want one summary line on stderr, got:\n%s", r.stderr)
			}
			if strings.Contains(r.stderr, "state cache") {
				t.Errorf("warning about the state cache:\n%s", r.stderr)
			}
		})
	}
}

// The faker as a Docker image, chosen with --docker-image.
func TestCheckWithDockerImage(t *testing.T) {
	image := testenv.FakerImage(t, testenv.Docker(t))
	r := goab(t, nil, "check", "--docker-image", image, "--config", `{"count": 5}`)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "source-faker: connection check succeeded") {
		t.Errorf("check: %q", r.stdout)
	}
}

// A first run that pulls its image says so, and which build it pulled, at
// the default GOAB_LOG_LEVEL: it printed nothing while it pulled (minutes,
// for a large image: a progress line of 0 records that seemed to hang), and
// nothing of the digest (outsider16). The pull's per-layer lines stay out.
func TestReadSaysWhatItPulls(t *testing.T) {
	cli := testenv.Docker(t)
	remote := testenv.Registry(t) + "/goairbyte/source-faker:0.1.0"
	testenv.PushImage(t, cli, testenv.FakerImage(t, cli), remote, "")
	r := goab(t, []string{"GOAB_LOG_LEVEL="}, "read", "source-faker", "--docker-image", remote, "--config", `{"count": 5}`,
		"--cache", "faker.duckdb", "--no-progress")
	r.want(t, 0)
	for _, w := range []string{`msg="pulling Docker image"`, `msg="pulled Docker image"`, "image=" + remote, "digest=sha256:"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "pull: ") {
		t.Errorf("stderr has the pull's progress lines at the default level:\n%s", r.stderr)
	}
}

// goab records | head: a reader that goes away ends goab cleanly (status 0)
// and stops the connector, instead of killing goab with SIGPIPE.
func TestRecordsReaderGoesAway(t *testing.T) {
	line, waitErr, stderr := readOneLineAndLeave(t, nil, "records", "source-faker", "--local-executable", faker(t),
		"--config", `{"count": 1000000}`, "--stream", "users")
	if !strings.HasPrefix(line, `{"id":1,`) {
		t.Fatalf("first line %q", line)
	}
	if waitErr != nil {
		t.Fatalf("goab records after its reader went away: %v\n%s", waitErr, stderr)
	}
}

// readOneLineAndLeave runs goab with args (and extraEnv), reads the first
// line of its stdout and closes the pipe, as `| head -1` does. It returns
// that line, goab's exit error and its stderr.
func readOneLineAndLeave(t *testing.T, extraEnv []string, args ...string) (line string, waitErr error, stderr string) {
	t.Helper()
	cmd := exec.Command(goabBin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(append(os.Environ(), "GOAIRBYTE_LOG_DIR="+t.TempDir()), extraEnv...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err = bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("first line %q: %v", line, err)
	}
	out.Close()
	waitErr = cmd.Wait()
	return line, waitErr, errb.String()
}

// Ctrl-C ends goab by SIGINT once it has stopped the connector, so that
// the shell stops the script or loop that ran it; with exit status 1 the
// shell took goab to have handled the interrupt, and a loop went on.
func TestInterruptedDiesOfTheSignal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to send on Windows")
	}
	cmd, stderr := interruptRecords(t, os.Interrupt, nil)
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Fatalf("goab interrupted ended with %v, not by SIGINT\n%s", cmd.ProcessState, stderr)
	}
	if !strings.Contains(stderr, "interrupt") {
		t.Errorf("stderr does not say goab was interrupted:\n%s", stderr)
	}
}

// interruptRecords runs goab records of the faker's users (with attr as
// its SysProcAttr), sends it sig once its first record is out, reads its
// output to the end and waits for it; it returns the command, ended, and
// what it wrote on stderr.
func interruptRecords(t *testing.T, sig os.Signal, attr *syscall.SysProcAttr) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(goabBin, "records", "source-faker", "--config", `{"count": 100000000}`, "--stream", "users")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOAIRBYTE_LOG_DIR="+t.TempDir())
	cmd.SysProcAttr = attr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	if line, err := r.ReadString('\n'); err != nil {
		t.Fatalf("first line %q: %v\n%s", line, err, errb.String()) // goab handles signals by now
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	return cmd, errb.String()
}

// Any command's reader may go away (goab connectors | head): goab ends
// quietly with status 0, as for records, not with "broken pipe" and 1. The
// registry lists more connectors than a pipe holds, so that goab is still
// writing when the reader leaves.
func TestReaderGoesAwayFromAnyCommand(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"destinations": [], "sources": [`)
	for i := range 20000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"dockerRepository": "airbyte/source-many-%05d", "language": "python"}`, i)
	}
	b.WriteString("]}")
	reg := filepath.Join(t.TempDir(), "registry.json")
	if err := os.WriteFile(reg, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, waitErr, stderr := readOneLineAndLeave(t, []string{"AIRBYTE_LOCAL_REGISTRY=" + reg}, "connectors")
	if waitErr != nil || strings.Contains(stderr, "failed") {
		t.Fatalf("goab connectors after its reader went away: %v\n%s", waitErr, stderr)
	}
}

// TestValidateDestination validates a destination as pyab does: spec,
// config, check, and with --write-sample a write of faker records (the
// built-in faker; here the one on PATH stands in for it).
func TestValidateDestination(t *testing.T) {
	lj, fk := localJSON(t), faker(t)
	out := t.TempDir()
	path := []string{"PATH=" + filepath.Dir(fk) + string(os.PathListSeparator) + os.Getenv("PATH")}
	r := goab(t, path, "validate", "destination-local-json", "--local-executable", lj,
		"--config", `{"destination_path": "`+out+`"}`, "--write-sample", "--limit", "3")
	r.want(t, 0)
	for _, want := range []string{"ok  spec", "ok  config", "ok  check", "ok  write", "9 faker records sent, 9 confirmed", "destination-local-json is valid."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("validate output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "discover") {
		t.Errorf("a destination was discovered:\n%s", r.stdout)
	}
	r = goab(t, nil, "validate", "destination-local-json", "--local-executable", lj, "--config", `{"destination_path": 3}`)
	r.want(t, 1)
	if p := errorParagraph(t, r); !strings.Contains(p, `validation step "config"`) {
		t.Errorf("paragraph %q", p)
	}
}

// TestUsePython runs a Python connector with --use-python (PyAirbyte's
// use_python), alone or naming the interpreter.
func TestUsePython(t *testing.T) {
	testenv.NeedPython(t)
	pkg := testenv.PythonPackage(t, "0.1.0")
	r := goab(t, nil, "spec", "source-pytest", "--use-python="+testenv.SystemPython, "--pip-url", pkg)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "connectionSpecification") && !strings.Contains(r.stdout, "properties") {
		t.Errorf("no spec printed:\n%s", r.stdout)
	}
	r = goab(t, nil, "check", "source-pytest", "--use-python", "--local-executable", "/bin/true")
	r.want(t, 2)
	if !strings.Contains(r.stderr, "choose one of") || !strings.Contains(r.stderr, "--use-python") {
		t.Errorf("conflict not reported:\n%s", r.stderr)
	}
}

// TestConnectorTextCannotDriveTheTerminal: a connector's failure message
// and stream names with escape sequences (OSC 52 writes the clipboard, CSI
// 2J clears the screen) are shown, not obeyed, in errors and tables; a
// newline or tab in a name cannot forge a row or a column of a table; the
// JSON catalog keeps the names exactly.
func TestConnectorTextCannotDriveTheTerminal(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "source-hostile")
	script := `#!/bin/sh
case "$1" in
spec) echo '{"type":"SPEC","spec":{"connectionSpecification":{"type":"object"}}}' ;;
check) echo '{"type":"CONNECTION_STATUS","connectionStatus":{"status":"FAILED","message":"bad \\u001b]52;c;aGVsbG8=\\u0007 key \\u001b[2J"}}' ;;
discover) echo '{"type":"CATALOG","catalog":{"streams":[{"name":"users\\u001b[2J","json_schema":{},"supported_sync_modes":["full_refresh"]},{"name":"a\\nforged\\tincremental\\t-","json_schema":{},"supported_sync_modes":["full_refresh"]}]}}' ;;
esac
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r := goab(t, nil, "check", "source-hostile", "--local-executable", bin, "--config", "{}")
	r.want(t, 1)
	if p := errorParagraph(t, r); strings.ContainsAny(r.stderr, "\x1b\a") || !strings.Contains(p, `bad \x1b]52;c;aGVsbG8=\a key \x1b[2J`) {
		t.Fatalf("check: stderr %q", r.stderr)
	}
	r = goab(t, nil, "discover", "source-hostile", "--local-executable", bin, "--config", "{}", "--format", "table")
	r.want(t, 0)
	if strings.Contains(r.stdout, "\x1b") || !strings.Contains(r.stdout, `users\x1b[2J`) ||
		strings.Count(r.stdout, "\n") != 3 || !strings.Contains(r.stdout, `a\nforged\tincremental\t-  full_refresh`) {
		t.Fatalf("discover table: stdout %q, want a header and two rows", r.stdout)
	}
	r = goab(t, nil, "discover", "source-hostile", "--local-executable", bin, "--config", "{}")
	r.want(t, 0)
	if !strings.Contains(r.stdout, `"users\u001b[2J"`) || !strings.Contains(r.stdout, `"a\nforged\tincremental\t-"`) {
		t.Fatalf("discover JSON: stdout %q", r.stdout)
	}
}

// TestJSONOutputCannotDriveTheTerminal: the JSON goab prints (records,
// the catalog, the spec) keeps the connector's values, but a C1 control
// (U+009B is CSI, as ESC [ is), a bidirectional override or a carriage
// return between tokens reaches stdout as a JSON escape or not at all, so
// that the JSON shown on a terminal is what a parser reads.
func TestJSONOutputCannotDriveTheTerminal(t *testing.T) {
	const bad = "v\u009b2J \u202ex" // U+009B and U+202E, raw in the connector's JSON
	bin := filepath.Join(t.TempDir(), "source-hostile")
	script := "#!/bin/sh\ncase \"$1\" in\n" +
		"spec) printf '%s\\n' '{\"type\":\"SPEC\",\"spec\":{\"connectionSpecification\":{\"type\":\"object\",\"description\":\"" + bad + "\"}}}' ;;\n" +
		"discover) printf '%s\\n' '{\"type\":\"CATALOG\",\"catalog\":{\"streams\":[{\"name\":\"" + bad + "\",\"json_schema\":{},\"supported_sync_modes\":[\"full_refresh\"]}]}}' ;;\n" +
		"read) printf '{\"type\":\"RECORD\",\"record\":{\"stream\":\"" + bad + "\",\"data\":{\"a\":\"" + bad + "\",\r\"b\":1},\"emitted_at\":1}}\\n' ;;\n" +
		"esac\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"spec", "--format", "json"},
		{"discover"},
		{"records", "--stream", bad},
	} {
		r := goab(t, nil, append([]string{args[0], "source-hostile", "--local-executable", bin, "--config", "{}"}, args[1:]...)...)
		r.want(t, 0)
		if strings.ContainsAny(r.stdout, "\u009b\u202e\r") {
			t.Errorf("%s: stdout %q holds characters a terminal acts on", args[0], r.stdout)
		}
		var v any
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || !strings.Contains(fmt.Sprint(v), bad) {
			t.Errorf("%s: stdout %q does not hold the value %q (%v)", args[0], r.stdout, bad, err)
		}
	}
}

// goab --help, and the help of each command that runs a connector, says
// where the connectors' log files go: $GOAIRBYTE_LOG_DIR, else goairbyte/logs
// in the temp directory ($TMPDIR), else, where another user owns that,
// goairbyte-logs-<uid> beside it. Each place the help names is where a run
// that fails puts its log, as its error says.
func TestHelpSaysWhereLogsGo(t *testing.T) {
	bin := testenv.BuildBinary(t, "./internal/testconnectors/stderrexit")
	fail := []string{"records", "stderrexit", "--local-executable", bin, "--config", "{}", "--stream", "items"}
	logOf := func(t *testing.T, env []string) string {
		t.Helper()
		r := goab(t, env, fail...)
		r.want(t, 1)
		m := regexp.MustCompile(`log is in (\S+?)\.?$`).FindStringSubmatch(errorParagraph(t, r))
		if m == nil {
			t.Fatalf("the error names no log file: %s", r.stderr)
		}
		return filepath.Dir(m[1])
	}
	helps := func(t *testing.T, env []string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, args := range [][]string{{"--help"}, {"read", "--help"}, {"check", "--help"}, {"sync", "--help"}, {"benchmark", "--help"}} {
			r := goab(t, env, args...)
			r.want(t, 0)
			out[strings.Join(args, " ")] = strings.Join(strings.Fields(r.stdout), " ") // as one line: a path may be wrapped
		}
		return out
	}
	wantIn := func(t *testing.T, helps map[string]string, words ...string) {
		t.Helper()
		for args, h := range helps {
			for _, w := range words {
				if !strings.Contains(h, w) {
					t.Errorf("goab %s does not say %q:\n%s", args, w, h)
				}
			}
		}
	}

	tmp := t.TempDir()
	env := []string{"TMPDIR=" + tmp, "GOAIRBYTE_LOG_DIR="}
	shared := logOf(t, env)
	if shared != filepath.Join(tmp, "goairbyte", "logs") {
		t.Fatalf("the test is void: the log went to %s", shared)
	}
	wantIn(t, helps(t, env), "GOAIRBYTE_LOG_DIR", shared)

	// The shared directory cannot be used (as root nothing is another
	// user's: a file where the directory should be fails alike).
	tmp = t.TempDir()
	os.WriteFile(filepath.Join(tmp, "goairbyte"), nil, 0o644)
	env = []string{"TMPDIR=" + tmp, "GOAIRBYTE_LOG_DIR="}
	own := logOf(t, env)
	if own != filepath.Join(tmp, "goairbyte-logs-"+strconv.Itoa(os.Getuid())) {
		t.Fatalf("the test is void: the log went to %s", own)
	}
	wantIn(t, helps(t, env), "GOAIRBYTE_LOG_DIR", own, "another user")

	set := t.TempDir()
	env = []string{"GOAIRBYTE_LOG_DIR=" + set}
	if got := logOf(t, env); got != set {
		t.Fatalf("the log went to %s, not GOAIRBYTE_LOG_DIR %s", got, set)
	}
	wantIn(t, helps(t, env), "GOAIRBYTE_LOG_DIR", set)
}

// validate counts a catalog of one stream as one stream, not "1 streams".
func TestValidateCountsOneStream(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "source-one")
	os.WriteFile(bin, []byte("#!/bin/sh\ncase \"$1\" in\n"+
		"spec) echo '{\"type\":\"SPEC\",\"spec\":{\"connectionSpecification\":{\"type\":\"object\"}}}';;\n"+
		"check) echo '{\"type\":\"CONNECTION_STATUS\",\"connectionStatus\":{\"status\":\"SUCCEEDED\"}}';;\n"+
		"discover) echo '{\"type\":\"CATALOG\",\"catalog\":{\"streams\":[{\"name\":\"only\",\"json_schema\":{},\"supported_sync_modes\":[\"full_refresh\"]}]}}';;\n"+
		"read) echo '{\"type\":\"RECORD\",\"record\":{\"stream\":\"only\",\"data\":{\"a\":1},\"emitted_at\":1}}';;\nesac\n"), 0o755)
	r := goab(t, nil, "validate", "source-one", "--local-executable", bin, "--config", "{}")
	r.want(t, 0)
	if !strings.Contains(r.stdout, "1 stream\n") {
		t.Errorf("validate of a one-stream source printed:\n%s", r.stdout)
	}
}
