// Package executor runs Airbyte connectors: as a local executable, as a
// Docker container or from a Python virtualenv, all behind one small
// interface.
//
// Everything about a connector process lives here and nowhere else: the
// private temp directory with config.json, catalog.json and state.json, the
// canonical argument order (read --config C --catalog K [--state S]), stdin
// feeding, decoding stdout as it arrives, keeping stderr for errors and the
// per-connector log file, masking secrets, cancellation (SIGTERM, a short
// grace period, then SIGKILL; containers removed) and clean-up.
//
// Pick an implementation with NewLocal (an executable, run in its own
// process group), NewDocker (a container per command, files copied in,
// logging off, always removed) or NewPython (a venv at
// <install root>/.venv-<name>), then range over Run:
//
//	l, err := executor.NewLocal("source-faker", "source-faker")
//	...
//	for msg, err := range l.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Config: cfg, Catalog: cat}) {
//		if err != nil {
//			return err // a *ConnectorError, a cancellation, ...
//		}
//		... // msg.Record, msg.State, msg.Unparsed ...
//	}
//
// A connector fails the Airbyte way in more than one: a non-zero exit, or a
// TRACE ERROR with exit status 0. Both end the sequence with a
// *ConnectorError holding the failure type, the messages, the last stderr
// lines and the path of the log file that keeps all of the connector's
// stderr and LOG messages. Every text that leaves the package has been
// through the WithMask function. A missing connector is a
// *NotInstalledError and an unreachable Docker engine a
// *DockerUnavailableError.
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
	Verb Verb
	// Config is written to config.json and passed as --config (not for spec).
	Config json.RawMessage
	// Catalog is the configured catalog, written to catalog.json and passed
	// as --catalog (read and write).
	Catalog json.RawMessage
	// State, when set, is written to state.json and passed as --state (read).
	State json.RawMessage
	// Stdin, when set, is copied to the connector's standard input
	// concurrently with reading its output (write).
	Stdin io.Reader
}

// Executor runs one connector.
type Executor interface {
	// Name is the connector's name, such as "source-faker".
	Name() string
	// String says how the connector runs, for messages and logs.
	String() string
	// Run starts the command and yields the connector's messages as they
	// arrive, unparsed output lines included (Message.Unparsed). LOG
	// messages are also sent to the logger. When the connector ends with a
	// non-zero exit status or reported a TRACE ERROR, the last pair yielded
	// carries a *ConnectorError. Breaking out of the loop or cancelling ctx
	// stops the connector and removes everything it left behind.
	Run(ctx context.Context, inv Invocation) iter.Seq2[*protocol.Message, error]
	// Install makes the connector runnable (pulls the image, creates the
	// venv); it is a no-op for what is already there.
	Install(ctx context.Context) error
	// Uninstall removes what Install created, where that means anything.
	Uninstall(ctx context.Context) error
}

// Versioner is implemented by executors that can tell which version of the
// connector they run: the image tag (Docker), the installed package's
// version (Python), the version given with WithVersion (Local).
type Versioner interface {
	InstalledVersion(ctx context.Context) (string, error)
}

var (
	_ Versioner = (*Local)(nil)
	_ Versioner = (*Docker)(nil)
	_ Versioner = (*Python)(nil)
)
