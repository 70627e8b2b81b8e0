// Package executor runs Airbyte connectors: as a local executable, as a
// Docker container, from a Python virtualenv, or in this process (a
// connector written in Go), all behind one small interface.
//
// Everything about a connector process lives here and nowhere else: the
// private temp directory with config.json, catalog.json and state.json, the
// canonical argument order (read --config C --catalog K [--state S]), stdin
// feeding, decoding stdout as it arrives, keeping stderr for errors and the
// per-connector log file, masking secrets, cancellation (SIGTERM, a grace
// period of 2 s, 6 s for a write, then SIGKILL; containers removed), clean-up, and what a
// process killed with kill -9 left behind (see reaper.go). A local or
// Python connector runs in a process group of its own and with
// GOAIRBYTE_RUN=<run> in its environment: when the run ends, whatever it
// started and left running dies with it, in the group or out of it (on
// Linux; a helper that cleared its environment escapes). A container gets
// USE_STREAM_CAPABLE_STATE=true, as the Airbyte platform gives every
// connector, unless Method.Env sets it: the Java CDK's older sources read a
// STREAM or GLOBAL state only with it (see docker.go).
// Windows has neither process groups nor SIGTERM: there a stop closes the
// connector's output and kills the connector itself after the grace period,
// and what it started keeps running (process_windows.go).
//
// How a connector runs is one value, a [Method] (its Kind and the knobs of
// that kind: an executable's path; an image, mounts and network; an
// interpreter and a pip requirement; a Go connector value); what every run
// shares whatever the method is a [Runtime] (logger, log directory, mask,
// grace periods, install policy). [New] builds the executor, then range
// over Run:
//
//	ex, err := executor.New("source-faker",
//		executor.Method{Kind: executor.KindLocal, Path: "source-faker"}, executor.Runtime{})
//	...
//	for msg, err := range ex.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Config: cfg, Catalog: cat}) {
//		if err != nil {
//			return err // a *ConnectorError, a cancellation, ...
//		}
//		... // msg.Record, msg.State, msg.Unparsed ...
//	}
//
// Most programs never call this package: package connector builds the
// Method from its options. A connector fails the Airbyte way in more than
// one: a non-zero exit, a TRACE ERROR with exit status 0, no answer to
// spec, check or discover, a CONNECTION_STATUS FAILED in answer to read.
// Each ends the sequence with a *ConnectorError holding the failure type,
// the connector's reason, the last stderr lines and the path of the log
// file that keeps its stderr and LOG messages (of a run that writes more
// than 4 MiB, the first and last 2 MiB). Every text that
// leaves the package has been through the Runtime's Mask. A missing
// connector is a *NotInstalledError (ErrNotInstalled) and an unreachable
// Docker engine, before or during a run, an error matching
// ErrDockerUnavailable; a *ConnectorError matches ErrConnectorFailed. What
// the connector could not say itself is added to its error: the signal
// that killed it (the out-of-memory killer's SIGKILL, Docker's exit status
// 128+n), a SIGTERM it ignored, an image for another platform, the line it
// wrote instead of the answer.
package executor

import (
	"context"
	"encoding/json"
	"io"
	"iter"

	"github.com/x/goairbyte/protocol"
)

// Verb is a connector command of the Airbyte protocol.
type Verb string

// The connector commands.
const (
	VerbSpec     Verb = "spec"
	VerbCheck    Verb = "check"
	VerbDiscover Verb = "discover"
	VerbRead     Verb = "read"
	VerbWrite    Verb = "write"
)

// Invocation is one run of a connector command.
type Invocation struct {
	// Verb is the command: VerbSpec, VerbCheck, VerbDiscover, VerbRead or
	// VerbWrite.
	Verb Verb
	// Config is written to config.json and passed as --config (not for spec).
	Config json.RawMessage
	// Catalog is the configured catalog, written to catalog.json and passed
	// as --catalog (read and write).
	Catalog json.RawMessage
	// State, when set, is written to state.json and passed as --state (read).
	State json.RawMessage
	// Stdin, when set, is copied to the connector's standard input
	// concurrently with reading its output (write). A Read blocked on it
	// cannot be interrupted, so the copy may outlive Run by as long as
	// Stdin blocks: give a reader that ends or fails when the run does
	// (package destination closes its pipe).
	Stdin io.Reader
	// Report, when set, is filled when the run ends, whether it failed or
	// not, with what the connector left to explain itself.
	Report *RunReport
}

// RunReport is what a run leaves to explain itself, for a caller that needs
// the reason of an answer that carries none (a check FAILED with no
// message).
type RunReport struct {
	// ErrorLog is the last LOG message at level ERROR or FATAL.
	ErrorLog string
	// StderrTail holds the last lines the connector wrote to stderr.
	StderrTail []string
	// LogFile keeps the connector's stderr and LOG messages (of a run that
	// writes more than 4 MiB, the first and last 2 MiB).
	LogFile string
}

// answers are the messages that answer a command: one of them must come,
// or the command failed whatever the exit status.
var answers = map[Verb]protocol.Type{
	VerbSpec:     protocol.TypeSpec,
	VerbCheck:    protocol.TypeConnectionStatus,
	VerbDiscover: protocol.TypeCatalog,
}

// outcome follows what a run's messages say about how it went: the first
// TRACE ERROR, a CONNECTION_STATUS FAILED during read, the last ERROR log
// message, and whether the command's answer came. Every executor keeps one.
type outcome struct {
	verb     Verb
	trace    *protocol.ErrorTrace
	errorLog string
	answered bool
}

// observe notes m, which is already masked.
func (o *outcome) observe(m *protocol.Message) {
	if m.Type == protocol.TypeRecord {
		return // most messages: nothing below concerns them
	}
	if m.Type == answers[o.verb] {
		o.answered = true
	}
	switch {
	case m.Type == protocol.TypeLog && m.Log != nil:
		if m.Log.Level == protocol.LevelError || m.Log.Level == protocol.LevelFatal {
			o.errorLog = m.Log.Message
		}
	case m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.Type == protocol.TraceError && m.Trace.Error != nil:
		if o.trace == nil {
			o.trace = m.Trace.Error // the first one is usually the cause
		}
	case m.Type == protocol.TypeConnectionStatus && m.ConnectionStatus != nil && o.verb == VerbRead &&
		m.ConnectionStatus.Status == protocol.StatusFailed && o.trace == nil:
		// Some connectors answer a read with a bad config this way, and
		// exit 0 having sent nothing else.
		o.trace = &protocol.ErrorTrace{Message: m.ConnectionStatus.Message, FailureType: protocol.FailureConfig,
			InternalMessage: "the connector answered read with CONNECTION_STATUS FAILED"}
	}
}

// failure returns the *ConnectorError the run ends with, nil when it went
// well, given its exit code and what it left.
func (o *outcome) failure(name string, exitCode int, report RunReport) error {
	ce := &ConnectorError{Connector: name, Command: o.verb, ExitCode: exitCode, ErrorLog: report.ErrorLog,
		StderrTail: report.StderrTail, LogFile: report.LogFile}
	if o.trace != nil {
		ce.FailureType, ce.Message, ce.InternalMessage = o.trace.FailureType, o.trace.Message, o.trace.InternalMessage
	}
	if want, ok := answers[o.verb]; ok && !o.answered && exitCode == 0 && o.trace == nil {
		ce.Missing = want
		return ce
	}
	if exitCode != 0 || o.trace != nil {
		return ce
	}
	return nil
}

// Executor runs one connector.
type Executor interface {
	// Name is the connector's name, such as "source-faker".
	Name() string
	// String says how the connector runs, for messages and logs.
	String() string
	// Method is the way the connector runs, the knobs resolved (absolute
	// paths, the complete image reference).
	Method() Method
	// Run starts the command and yields the connector's messages as they
	// arrive, unparsed output lines included (Message.Unparsed). LOG
	// messages are also sent to the logger. When the connector ends with a
	// non-zero exit status or reported a TRACE ERROR, the last pair yielded
	// carries a *ConnectorError. Breaking out of the loop or cancelling ctx
	// stops the connector and removes everything it left behind. A
	// cancelled write still yields what the destination writes while it
	// stops (SIGTERM, then SIGKILL after the grace period: 6 s by default,
	// more than the 5 s a kit destination is given to flush), its last STATE
	// echoes, until its output ends, and then the cancellation; the output
	// of any other command is not read on once the cancellation is seen.
	Run(ctx context.Context, inv Invocation) iter.Seq2[*protocol.Message, error]
	// Install makes the connector runnable (pulls the image, creates the
	// venv); it is a no-op for what is already there.
	Install(ctx context.Context) error
	// Uninstall removes what Install created, where that means anything.
	Uninstall(ctx context.Context) error
}

// versioner is implemented by the executors that can tell which version of
// the connector they run: the image tag (Docker), the installed package's
// version (Python), the version given with Method.Version (local).
// Package connector asks for it with an interface of its own.
type versioner interface {
	InstalledVersion(ctx context.Context) (string, error)
}

var (
	_ versioner = (*localExecutor)(nil)
	_ versioner = (*dockerExecutor)(nil)
	_ versioner = (*pythonExecutor)(nil)
)

// maskMessage masks, in place, the text fields of m in which a connector
// may repeat a secret: log messages and stack traces, error traces and
// the connection status. Both executors call it on every message before
// anything else sees it.
func (o *options) maskMessage(m *protocol.Message) {
	switch {
	case m.Type == protocol.TypeLog && m.Log != nil:
		m.Log.Message = o.mask(m.Log.Message)
		m.Log.StackTrace = o.mask(m.Log.StackTrace)
	case m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.Type == protocol.TraceError && m.Trace.Error != nil:
		e := m.Trace.Error
		e.Message, e.InternalMessage, e.StackTrace = o.mask(e.Message), o.mask(e.InternalMessage), o.mask(e.StackTrace)
	case m.Type == protocol.TypeConnectionStatus && m.ConnectionStatus != nil:
		m.ConnectionStatus.Message = o.mask(m.ConnectionStatus.Message)
	}
}
