package kit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"syscall"
	"time"

	"github.com/x/goairbyte/internal/kitcore"
	"github.com/x/goairbyte/protocol"
)

// Source is a source connector written in Go.
type Source interface {
	// Spec returns the connector's specification; its
	// connectionSpecification is the JSON schema of the config.
	Spec(ctx context.Context) (*protocol.ConnectorSpecification, error)
	// Check returns nil when the connector can connect with config; an
	// error means CONNECTION_STATUS FAILED with err.Error() as the message
	// (exit 0, as real connectors do), unless ctx was cancelled: then it
	// is the command's failure, not a verdict on the config.
	Check(ctx context.Context, config json.RawMessage) error
	// Discover returns the streams the connector can read with config.
	Discover(ctx context.Context, config json.RawMessage) (*protocol.Catalog, error)
	// Read emits the messages of a read (RECORD, STATE, TRACE, LOG,
	// CONTROL) through emit, in order. state is the raw --state file (nil
	// when none; see ParseState). When it returns nil, each stream of
	// catalog it did not end itself gets a STREAM_STATUS COMPLETE (see
	// "Telling a stream done" in the package doc).
	Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
		emit func(*protocol.Message) error) error
}

// Destination is a destination connector written in Go.
type Destination interface {
	// Spec returns the connector's specification.
	Spec(ctx context.Context) (*protocol.ConnectorSpecification, error)
	// Check returns nil when the connector can write with config; an error
	// means CONNECTION_STATUS FAILED with err.Error() as the message, as
	// for Source.Check.
	Check(ctx context.Context, config json.RawMessage) error
	// Write consumes the messages on input (decoded from stdin by Serve)
	// and emits what it confirms (STATE echoes, LOG, TRACE) through emit.
	// A STATE is echoed once every record before it is durable: the
	// runner stores the echo as the commit point and sends again, on its
	// next write, the records after the last state echoed. A STREAM state
	// confirms only its own stream's records: a destination that echoes
	// fewer states than it gets echoes the last of each stream, or
	// goairbyte's Write warns of the records left unconfirmed and sends
	// them again next time. A line of input
	// that is no protocol message comes as a Message with Unparsed set
	// (and Malformed, when it began like a RECORD or a STATE): a connector
	// that skips a Malformed line and echoes the STATE after it confirms a
	// record it never wrote. Each configured stream's DestinationSyncMode
	// says what to keep: append adds the records; overwrite replaces the
	// stream's data with this write's records, only once the input has
	// ended: a write that fails or is cancelled leaves the old data, and
	// the stream's states are echoed only once the replacement is
	// durable, as goairbyte's local-JSON destination does; append_dedup
	// keeps one record per PrimaryKey, the newest. Once everything is sent,
	// goairbyte's Write, as the Airbyte platform, ends each configured
	// stream with a TRACE STREAM_STATUS, COMPLETE (INCOMPLETE when the
	// source left a stream incomplete), before the input ends: a
	// destination may wait for COMPLETE before it replaces a stream's data.
	Write(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
		input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error
}

// LineWriter is a Destination that reads its input itself, as lines of
// protocol messages, instead of decoded messages: Serve and an in-process
// runner hand it the raw input and call WriteLines instead of Write. It is
// for a destination that looks at few of its messages (the no-op
// destination), where decoding every line would cost more than the
// destination does.
type LineWriter interface {
	// WriteLines does Write's work on input, the raw protocol lines, and
	// emits what it confirms through emit; the write command calls it.
	WriteLines(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
		input io.Reader, emit func(*protocol.Message) error) error
}

// CheckEmitter is a connector whose check may have more to say than its
// verdict — an OAuth refresh token rotated by the check, which the platform
// must store as a CONTROL CONNECTOR_CONFIG message or lose: Serve and an
// in-process runner call CheckEmit, with the emit function of a read,
// instead of Check.
type CheckEmitter interface {
	// CheckEmit is Check that may also emit messages, such as a CONTROL
	// CONNECTOR_CONFIG, through emit; the check command calls it.
	CheckEmit(ctx context.Context, config json.RawMessage, emit func(*protocol.Message) error) error
}

// The dispatch (kitcore) applies the kit's rules to a command's inputs,
// whichever way the connector runs.
func init() {
	kitcore.Register(kitcore.Rules{ValidateConfig: ValidateConfig, ParseCatalog: ParseCatalog})
}

// connector is what sources and destinations share.
type connector interface {
	Spec(ctx context.Context) (*protocol.ConnectorSpecification, error)
	Check(ctx context.Context, config json.RawMessage) error
}

// cancelGrace is how long Serve lets a connector run on after SIGINT or
// SIGTERM cancelled its context. A connector notices between two messages;
// one blocked on a silent stdin or a hung call never does, and is ended
// after this (with what it emitted flushed). A destination stopped this way
// flushes what it holds and echoes the states that covers within it:
// goairbyte's runner waits 6 s before it kills a write (2 s for the other
// commands, whose output after a cancellation it does not read).
const cancelGrace = 5 * time.Second

// Serve runs c, a [Source] or a [Destination] (or both), as the program:
// it answers the command line in os.Args, reads stdin, writes protocol
// messages on stdout and diagnostics on stderr, and exits with the code
// [Run] returns. SIGINT and SIGTERM cancel the context given to c; a
// connector that has not returned cancelGrace later is ended, after what it
// emitted is flushed (a second signal ends it at once), with exit code
// 128+signal. A stdout closed by the runner is not a SIGPIPE that kills the
// process: emit returns the write error and the run fails as any other
// (exit 1). Serve never returns; main is one line:
//
//	func main() { kit.Serve(myconnector.New()) }
func Serve(c any) {
	s, err := newServer(c, filepath.Base(os.Args[0]), os.Stdin, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// A runner that stops reading closes its end of stdout. Unless SIGPIPE
	// is asked for, Go kills the process at the next write to it, in the
	// middle of whatever the connector was doing (a file half written, a
	// transaction open); asked for, the write fails with EPIPE, emit
	// returns that error and the connector returns through its cleanups.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go s.stopOnSignal(sigs, cancel)
	code := s.run(ctx, os.Args[1:])
	signal.Stop(sigs)
	os.Exit(code)
}

// stopOnSignal cancels the run on the first signal and exits the process
// when the connector has not returned within the grace period.
func (s *server) stopOnSignal(sigs <-chan os.Signal, cancel context.CancelCauseFunc) {
	sig := <-sigs
	cancel(fmt.Errorf("received %v: %w", sig, context.Canceled))
	t := time.NewTimer(cancelGrace)
	select {
	case <-t.C:
	case <-sigs:
	}
	s.out.tryFlush()
	fmt.Fprintf(s.stderr, "%s: still running after %v: exiting\n", s.program, sig)
	code := 1
	if n, ok := sig.(syscall.Signal); ok {
		code = 128 + int(n)
	}
	os.Exit(code)
}

// Run runs c, a [Source] or a [Destination] (or a value that is both), for
// the command line args (without the program name, e.g. {"read", "--config",
// "c.json", "--catalog", "k.json"}) and returns the process exit code; it
// is Serve without the process: what tests and wrappers call.
//
// The command line is spec | check --config C | discover --config C | read
// --config C --catalog K [--state S] | write --config C --catalog K, flags
// in any order as --flag value or --flag=value; a wrong one exits 2 with
// the usage text on stderr. Before check, discover, read and write the
// config is validated against the spec ([ValidateConfig]). Exit codes are
// those of real connectors: 0 on success and on a failed check (a
// CONNECTION_STATUS FAILED says why), 1 when the command failed (a TRACE
// ERROR says why, with failure_type from [FailureType], unless the
// connector emitted one itself) and when a read's or a write's connector
// emitted a TRACE ERROR, even if Read or Write returned nil, 2 for a bad
// command line. stdout gets
// protocol messages only, buffered (see emit's rules in the package doc);
// stderr gets one line per failure.
func Run(ctx context.Context, c any, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s, err := newServer(c, "", stdin, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return s.run(ctx, args)
}

// server is one run of a connector on a command line.
type server struct {
	program  string
	conn     connector
	src      Source
	dst      Destination
	commands []string
	stdin    io.Reader
	stderr   io.Writer
	out      *output
}

func newServer(c any, program string, stdin io.Reader, stdout, stderr io.Writer) (*server, error) {
	s := &server{program: program, stdin: stdin, stderr: stderr, out: newOutput(stdout)}
	s.src, _ = c.(Source)
	s.dst, _ = c.(Destination)
	kind := "connector"
	switch {
	case s.src != nil && s.dst != nil:
		s.conn = s.src
		s.commands = []string{cmdSpec, cmdCheck, cmdDiscover, cmdRead, cmdWrite}
	case s.src != nil:
		s.conn, kind = s.src, "source"
		s.commands = []string{cmdSpec, cmdCheck, cmdDiscover, cmdRead}
	case s.dst != nil:
		s.conn, kind = s.dst, "destination"
		s.commands = []string{cmdSpec, cmdCheck, cmdWrite}
	default:
		return nil, fmt.Errorf("kit: %T is neither a kit.Source (Spec, Check, Discover, Read) nor a kit.Destination (Spec, Check, Write): %s",
			c, kitcore.Mismatch(c, reflect.TypeFor[Source](), reflect.TypeFor[Destination]()))
	}
	if s.program == "" {
		s.program = kind
	}
	return s, nil
}

func (s *server) run(ctx context.Context, args []string) int {
	inv, err := parseArgs(args, s.commands)
	if err == errHelp {
		fmt.Fprint(s.stderr, usage(s.program, s.commands))
		return 0
	}
	if err != nil {
		// The reason last, as Python's argparse writes it: runners quote a
		// failed connector's last stderr line.
		fmt.Fprintf(s.stderr, "%s%s: %v\n", usage(s.program, s.commands), s.program, err)
		return 2
	}
	s.out.counts.on = inv.command == cmdRead
	code := 0
	if err := s.command(ctx, inv); err != nil {
		s.report(err)
		code = 1
	} else if (inv.command == cmdRead || inv.command == cmdWrite) && s.out.sawTraceError() {
		// The connector said it failed (a TRACE ERROR) and returned nil.
		// The Python CDK never ends such a read with 0: its entrypoint
		// raises once the streams are done (airbyte-python-cdk,
		// AbstractSource.read), and a runner that goes by the exit code
		// takes the read for a success: the Airbyte platform, on a source's
		// exit 0, tells the destination that every stream is COMPLETE
		// (StreamStatusCompletionTracker.finalize), and a destination then
		// replaces tables with what came. Airbyte's destination CDKs end a
		// write that reported an error with 1 too.
		fmt.Fprintf(s.stderr, "%s: the %s reported an error (a TRACE ERROR on stdout)\n", s.program, inv.command)
		code = 1
	}
	defer s.out.endMasking()
	if err := s.out.close(); err != nil && code == 0 {
		fmt.Fprintf(s.stderr, "%s: writing to stdout: %v\n", s.program, err)
		code = 1
	}
	return code
}

// report says why the command failed: a line on stderr and, unless the
// connector already said it or stdout is gone, a TRACE ERROR.
func (s *server) report(err error) {
	fmt.Fprintf(s.stderr, "%s: %s\n", s.program, s.out.masked(err.Error()))
	if s.out.failed() != nil || s.out.sawTraceError() {
		return
	}
	if stack := kitcore.Stack(err); stack != "" {
		fmt.Fprintf(s.stderr, "%s\n", s.out.masked(stack))
	}
	_ = s.out.emit(kitcore.Trace(err))
}

// command runs one command, its inputs read from the files the command
// line names, and emits its answer: kitcore's dispatch, the one an
// in-process runner calls too.
func (s *server) command(ctx context.Context, inv invocation) error {
	cmd := kitcore.Command{
		Verb: inv.command,
		Config: func() ([]byte, error) {
			config, err := os.ReadFile(inv.config)
			if err != nil {
				return nil, ConfigError(fmt.Errorf("cannot read the config file: %w", err))
			}
			return config, nil
		},
		Catalog: func() ([]byte, error) {
			raw, err := os.ReadFile(inv.catalog)
			if err != nil {
				return nil, ConfigError(fmt.Errorf("cannot read the catalog file: %w", err))
			}
			return raw, nil
		},
		Stdin:   s.stdin,
		Ends:    &s.out.ends,
		Secrets: s.out.setSecrets,
	}
	if inv.state != "" {
		cmd.State = func() ([]byte, error) {
			state, err := os.ReadFile(inv.state)
			if err != nil {
				return nil, ConfigError(fmt.Errorf("cannot read the state file: %w", err))
			}
			return state, nil
		}
	}
	return kitcore.Run(ctx, s.conn, cmd, s.out.emit)
}
