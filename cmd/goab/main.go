// Command goab runs Airbyte connectors from a shell: the Go counterpart of
// PyAirbyte's pyab, built on the goairbyte library.
//
//	goab spec      source-faker --local-executable ./source-faker
//	goab check     source-faker --config '{"count": 100}'
//	goab discover  source-faker --config config.yaml
//	goab records   source-faker --config '{"count": 10}' --stream users
//	goab read      source-faker --config '{"count": 1000}' --cache ./faker.duckdb
//	goab read      source-faker --config '{"count": 1000}' --cache ./faker.duckdb --format json --no-progress
//	goab sync      source-faker --config '{"count": 1000}' --destination destination-local-json --destination-config '{"destination_path": "/tmp/out"}'
//	goab validate  source-faker --config '{"count": 10}'
//	goab benchmark source-faker --config '{"count": 100000}'
//	goab check     --manifest ./source-pokeapi/manifest.yaml --config '{"pokemon_name": "ditto"}'
//	goab connectors --install-type docker
//	goab version
//
// Every command that runs a connector picks it the same way: a name, then at
// most one of --local-executable, --docker-image (with --use-host-network),
// --pip-url and --use-python (a Python virtualenv) or, for a source,
// --manifest (a declarative manifest's path or URL, run natively with no
// Python or Docker); with none,
// what the library resolves: goairbyte's own connectors in process, an
// executable of that name on PATH, a manifest-only connector of the
// registry from its published manifest; --version pins the tag, the package
// or the manifest. The config comes from --config, a file or inline JSON or YAML, in
// which "secret_reference::NAME" values are looked up with the secrets
// package (environment, .env file, prompt).
//
// read, sync and benchmark show their progress on stderr — one live line on
// a terminal, a plain line every few seconds elsewhere — and end with one
// summary line there (records, time, rate); --no-progress turns all of it off
// and NO_LIVE_PROGRESS keeps only the summary line. Where the locale
// (LC_ALL, LC_CTYPE, LANG) is not UTF-8 these lines, goab's errors and its
// warnings are ASCII, and a terminal whose TERM is dumb gets plain lines. stdout is for the result
// alone: read prints only a table there, one row per stream read (STREAM,
// RECORDS LOADED, ROWS IN TABLE, TABLE), and sync one per stream written
// (STREAM, RECORDS SENT, CONFIRMED). With --format json, read, sync,
// benchmark, connectors and validate print instead one JSON document, whose
// fields (snake_case, the same name for the same thing in every command)
// the README's goab section lists; a command that fails prints nothing
// there, except validate, whose document says which step failed.
//
// goab prints warnings and errors of the library and the connectors on
// stderr; GOAB_LOG_LEVEL=info (or debug) shows more. Each connector's
// output (of a run that writes more than 4 MiB, the first and last 2 MiB)
// is kept in a log file under $GOAIRBYTE_LOG_DIR (default: goairbyte/logs
// in the system temp directory, or goairbyte-logs-<uid> when another user
// owns that), which error messages name.
//
// Exit status: 0 on success, 1 when a connector, a check or a sync fails,
// 2 on a usage error or when plan finds changes; a reader of stdout that goes away (goab connectors |
// head) is no failure. Interrupted (SIGINT, SIGTERM), goab stops the connector, keeps what
// was committed, and then dies of the signal (status 130, 143 in a shell), so that a script stops too. Errors are printed on stderr as one paragraph that says
// what failed, why, and where the connector's log file is.
//
// The commands are thin: each parses its flags, calls the library and
// prints. Anything more belongs in the library.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/termsafe"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/secrets"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	// A reader that goes away (goab records ... | head) makes writes fail
	// with EPIPE instead of killing goab, so that the connector is stopped
	// and cleaned up as on any early end.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var got atomic.Value
	go func() {
		s := <-sigs
		got.Store(s)
		cancel(errors.New(s.String() + " signal received")) // as signal.NotifyContext says
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	signal.Stop(sigs)
	if s, ok := got.Load().(os.Signal); ok {
		dieOf(s)
	}
	os.Exit(code)
}

// dieOf ends goab, stopped by s and done cleaning up, by s itself, so that
// the shell sees a command killed by Ctrl-C (status 130) and stops the
// script or loop that ran it, as it does for any command interrupted;
// an exit with status 1 would tell it goab handled the interrupt and
// failed, and the loop would go on to its next command. Where a process
// cannot signal itself, the status is the shell's 128+n. So it is for
// PID 1 of a container, which the kernel does not kill with a signal it
// has not asked for: there Go's runtime, finding itself alive after
// raising the signal, exits with status 2 (a usage error, to goab's
// caller) where docker stop and Kubernetes expect 143.
func dieOf(s os.Signal) {
	if os.Getpid() != 1 {
		signal.Reset(s)
		if p, err := os.FindProcess(os.Getpid()); err == nil && p.Signal(s) == nil {
			time.Sleep(time.Second) // the signal's default action ends the process
		}
	}
	n := 2 // SIGINT
	if ss, ok := s.(syscall.Signal); ok {
		n = int(ss)
	}
	os.Exit(128 + n)
}

// logLevel is the level of the messages goab shows on stderr: warnings and
// errors unless GOAB_LOG_LEVEL says debug or info. Connectors' own LOG
// messages are all kept in their log files whatever the level.
// An unset GOAB_LOG_LEVEL is warn; one that is no level is warn too, and
// ok is false, so that goab says so rather than show less than was asked.
func logLevel(s string) (l slog.Level, ok bool) {
	if s == "" {
		return slog.LevelWarn, true
	}
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelWarn, false
	}
	return l, true
}

// installMessages are the library's log messages that say a connector is
// being installed, and what was: an image pulled (and its digest), a
// virtualenv made, pip run.
var installMessages = []string{"pulling Docker image", "pulled Docker image", "creating virtualenv", "pip install"}

// installNotices passes on the records at level and above, and the
// installMessages unless the level is error: a first run of a large image
// spends minutes pulling it, which showed as a read of 0 records that
// seemed to hang, and nothing said which build was pulled.
type installNotices struct {
	slog.Handler
	level slog.Level
}

func (h installNotices) Enabled(_ context.Context, l slog.Level) bool {
	if h.level > slog.LevelWarn {
		return l >= h.level
	}
	return l >= min(h.level, slog.LevelInfo)
}

func (h installNotices) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.level && (r.Level < slog.LevelInfo || h.level > slog.LevelWarn || !slices.Contains(installMessages, r.Message)) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h installNotices) WithAttrs(attrs []slog.Attr) slog.Handler {
	return installNotices{h.Handler.WithAttrs(attrs), h.level}
}

func (h installNotices) WithGroup(name string) slog.Handler {
	return installNotices{h.Handler.WithGroup(name), h.level}
}

// env is what a command writes to, and the goairbyte Environment its
// connectors belong to.
type env struct {
	stdout io.Writer
	// text is stdout for what is read rather than parsed (tables,
	// summaries, plans), which shows the names a connector or a remote
	// service chose: their control characters are escaped. Records,
	// catalogs and specs go to stdout as JSON values exactly as they came,
	// through printJSON.
	text   io.Writer
	stderr io.Writer
	conns  *goairbyte.Environment
	// ascii says that the terminal's locale is not UTF-8 (or TERM is
	// dumb): what goab draws beyond the connectors' own text is in ASCII.
	ascii bool
	// specArgs holds, by connector name, the flags after "goab spec NAME"
	// that run the connector as this command runs it (" --manifest m.yaml"),
	// for the advice of a config that breaks its spec (see specAdvice).
	specArgs map[string]string
}

// newEnv makes the Environment of one goab run: the library's logger writes
// masked records to stderr at GOAB_LOG_LEVEL, erasing the live progress
// line first (progress.LogWriter) so that a warning never runs on from it;
// secret references are looked up in the environment, .env and the prompt,
// as the default Environment looks them up (goab is a program of its own,
// not a tenant), though each run has an Environment of its own.
func newEnv(stdout, stderr io.Writer) *env {
	ascii := !termsafe.Unicode(os.Getenv)
	logs := progress.LogWriter(stderr)
	if ascii {
		logs = termsafe.ASCIIWriter(logs)
	}
	conns := goairbyte.NewEnvironment()
	core.EnvOf(conns).UseProcessSecrets()
	level, ok := logLevel(os.Getenv("GOAB_LOG_LEVEL"))
	logger := slog.New(installNotices{secrets.NewMaskingHandler(slog.NewTextHandler(logs, nil)), level})
	if !ok {
		logger.Warn("GOAB_LOG_LEVEL is not a level: showing warnings and errors; use debug, info, warn or error", "GOAB_LOG_LEVEL", os.Getenv("GOAB_LOG_LEVEL"))
	}
	conns.SetLogger(logger)
	return &env{stdout: stdout, text: termsafe.NewWriter(stdout), stderr: stderr, conns: conns, ascii: ascii, specArgs: map[string]string{}}
}

// reports is where report writes: stderr, in ASCII where the terminal's
// locale is not UTF-8.
func (e *env) reports() io.Writer {
	if e.ascii {
		return termsafe.ASCIIWriter(e.stderr)
	}
	return e.stderr
}

// printJSON writes the JSON text b to stdout with the characters a
// terminal would act on written as JSON escapes: the value stays exactly
// the connector's, and on a terminal it is seen rather than obeyed.
func (e *env) printJSON(b []byte) error {
	_, err := e.stdout.Write(termsafe.AppendJSON(nil, b))
	return err
}

// command is one goab subcommand.
type command struct {
	name     string
	synopsis string // the usage line after "goab "
	summary  string // one line for the command list
	example  string // shown by --help; every command has one
	run      func(ctx context.Context, c *command, e *env, args []string) error
}

// commands lists the subcommands in the order goab help shows them.
func commands() []*command {
	return []*command{
		specCommand, checkCommand, discoverCommand, recordsCommand, readCommand,
		syncCommand, validateCommand, benchmarkCommand, connectorsCommand, versionCommand,
		planCommand, applyCommand, airbyteCommand, fivetranCommand, watchCommand,
	}
}

// run executes goab with args (without the program name) and returns the
// exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	out := &readerGoneWriter{w: stdout}
	e := newEnv(out, stderr)
	if len(args) == 0 {
		printMainUsage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && name == "help" {
			if c := lookup(args[1]); c != nil {
				return report(e.reports(), "goab "+c.name, out.quiet(c.run(ctx, c, e, []string{"--help"})))
			}
		}
		printMainUsage(stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	c := lookup(name)
	if c == nil {
		return report(e.reports(), "goab", &usageError{msg: fmt.Sprintf("unknown command %q; the commands are %s (goab help lists them)", name, commandList())})
	}
	if len(args) == 2 && args[1] == "help" {
		args = []string{name, "--help"} // goab read help, as goab help read
	}
	// A command is one operation of the library, however many it calls (a
	// validate checks, discovers and reads): each secret its configs name
	// is asked for once (see askSecrets).
	ctx = core.WithOperation(ctx)
	return report(e.reports(), "goab "+c.name, out.quiet(cliAdvice("", e.specAdvice(needsConfig(c.name, c.run(ctx, c, e, args[1:]))))))
}

// specAdvice completes the library's "print the spec with goab spec NAME"
// of a config that breaks its spec with the flags that run the connector
// as this command ran it: without them, goab spec of a --manifest source
// or a --local-executable one finds no way to run it.
func (e *env) specAdvice(err error) error {
	var cv *connector.ConfigValidationError
	if !errors.As(err, &cv) || e.specArgs[cv.Connector] == "" {
		return err
	}
	hint := "goab spec " + cv.Connector + ")"
	msg := strings.Replace(err.Error(), hint, "goab spec "+cv.Connector+e.specArgs[cv.Connector]+")", 1)
	if msg == err.Error() {
		return err
	}
	return &cliError{msg: msg, err: err}
}

// needsConfig turns the library's "no config set", whose advice is for Go
// callers (connector.WithConfig), into goab's: a usage error that names the
// flag which gives one (a destination's is required before anything runs:
// see needDestinationConfig).
func needsConfig(cmd string, err error) error {
	var nc *connector.NoConfigError
	if !errors.As(err, &nc) {
		return err
	}
	if nc.Connector == "source-faker" {
		return usagef(cmd, "%s needs a config: pass --config, a JSON or YAML file or inline JSON such as '{\"count\": 100}'", nc.Connector)
	}
	return usagef(cmd, "%s needs a config: pass --config, a JSON or YAML file or inline JSON; goab spec %s lists its fields", nc.Connector, nc.Connector)
}

// readerGoneWriter is goab's stdout; it remembers that its reader went
// away (a write failed with EPIPE: goab asks for SIGPIPE, see main).
type readerGoneWriter struct {
	w    io.Writer
	gone atomic.Bool
}

func (r *readerGoneWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if errors.Is(err, syscall.EPIPE) {
		r.gone.Store(true)
	}
	return n, err
}

// quiet treats err, a command's failure to print to a reader that stopped
// reading (goab connectors | head), as the end the user wanted, not as a
// failure: what the reader took is all it wanted. Any other error stands.
func (r *readerGoneWriter) quiet(err error) error {
	if r.gone.Load() && errors.Is(err, syscall.EPIPE) {
		return nil
	}
	return err
}

// commandList names the commands for messages: "spec, check, ... and version".
func commandList() string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

func printMainUsage(w io.Writer) {
	fmt.Fprintf(w, "goab runs Airbyte connectors: inspect them, read them into a DuckDB or Postgres cache, sync them into destinations.\n\nUsage:\n  goab <command> [connector] [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'goab <command> --help' for a command's flags and an example.\n"+
		"Exit status: 0 success, 1 connector or sync failure, 2 usage error or, for plan, a workspace that differs from its file;\n"+
		"interrupted (Ctrl-C, SIGTERM), goab stops the connector, keeps what was committed and dies of the signal (130, 143).\n\n"+
		"Environment:\n"+
		"  GOAB_LOG_LEVEL          what goab prints on stderr: debug, info, warn (default) or error\n"+
		"  GOAIRBYTE_LOG_DIR       where connector log files go (see Connector logs)\n"+
		"  TMPDIR                  the temp directory, of the default log directory and of each run's files\n"+
		"  AIRBYTE_TEMP_DIR        the directory of temporary files (each run's, DuckDB spools, downloads) instead of TMPDIR\n"+
		"  AIRBYTE_CACHE_ROOT      the directory of the default cache (default: $AIRBYTE_PROJECT_DIR/.cache)\n"+
		"  AIRBYTE_INSTALL_DIR     where Python connectors' virtualenvs go (default: $AIRBYTE_PROJECT_DIR)\n"+
		"  AIRBYTE_PROJECT_DIR     the default parent of the two above (default: the working directory)\n"+
		"  AIRBYTE_OFFLINE_MODE    1: no network for the registry (built-ins and the disk cache only)\n"+
		"  AIRBYTE_LOCAL_REGISTRY  a registry file or URL to use instead of Airbyte's\n"+
		"  XDG_CACHE_HOME          where the registry and downloaded manifests are cached (default: $HOME/.cache; with neither set, nothing is, and each run downloads them again)\n"+
		"  GOAIRBYTE_MANIFEST_DIR  a directory of manifests (<dir>/<name>/manifest.yaml) used instead of downloads for the registry's manifest-only connectors (a --version must match the metadata.yaml beside the manifest), and for a source the registry does not list whose manifest is there (your own)\n"+
		"  NO_LIVE_PROGRESS        set: no live progress line\n"+
		"  LC_ALL, LC_CTYPE, LANG  the first set decides the charset: not UTF-8 (or TERM=dumb) makes the progress line and errors ASCII\n"+
		"\nConnector logs:\n%s\n", wrap(logsHelp(), 100, "  "))
}

// logsHelp says where connector log files go, as the executor decides it
// (executor/options.go) for this process: goab's help and the help of every
// command that runs a connector say it.
func logsHelp() string {
	const kept = "Each connector run keeps its output (stderr and LOG messages: of a run that writes more than 4 MiB, the first and last 2 MiB) in a log file, which goab's error names when the run fails; files older than a week are removed."
	if dir := os.Getenv("GOAIRBYTE_LOG_DIR"); dir != "" {
		return fmt.Sprintf("%s The files go to %s, as GOAIRBYTE_LOG_DIR says.", kept, dir)
	}
	return fmt.Sprintf("%s The files go to %s, or, where another user owns that directory, to %s (the temp directory is $TMPDIR, else /tmp); GOAIRBYTE_LOG_DIR names another.",
		kept, filepath.Join(os.TempDir(), "goairbyte", "logs"), filepath.Join(os.TempDir(), "goairbyte-logs-"+strconv.Itoa(os.Getuid())))
}

// wrap breaks text into lines of at most width columns (a longer word
// stands alone), each starting with indent.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	line := indent
	for _, w := range strings.Fields(text) {
		if line != indent && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += w
	}
	b.WriteString(line)
	return b.String()
}
