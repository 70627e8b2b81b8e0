package executor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/x/goairbyte/protocol"
)

// stderrTailLines is how many of the last stderr lines a ConnectorError
// keeps.
const stderrTailLines = 50

// maxStderrLine caps one stderr line in memory; the rest of a longer line is
// dropped (a connector dumping megabytes on one stderr line is not useful).
const maxStderrLine = 64 << 10

// stderrDrain is how long stderr may stay open after the connector exited
// (something it started still holds it) before we stop reading it.
const stderrDrain = 2 * time.Second

// stdinCopySize is the buffer that copies an Invocation's Stdin to the
// connector: large enough to take a producer's buffered write whole (a
// destination's feed writes 256 KiB at a time), where 32 KiB made eight
// handoffs and writes of each.
const stdinCopySize = 256 << 10

// process is one started connector, however it runs. Output readers are
// returned beside it by a launcher.
type process interface {
	// wait blocks until the connector has exited and returns its exit
	// status (-1 when a signal killed it).
	wait() (int, error)
	// stopOutput closes our end of the connector's stdout. A connector
	// blocked writing to it then fails at once (EPIPE) instead of waiting
	// out the grace period, and the Docker engine, which cannot finish a
	// container's exit while its attach stream is not read, lets go.
	stopOutput()
	// terminate asks the connector to stop (SIGTERM).
	terminate()
	// kill stops the connector and everything it started at once.
	kill()
	// release frees what is left (pipes, the container). It is called
	// exactly once, after wait has returned.
	release()
}

// started is what a launcher hands back.
type started struct {
	proc   process
	stdout io.Reader
	stderr io.ReadCloser
	stdin  io.WriteCloser // nil unless the Invocation has Stdin
}

// launch is what a launcher needs: the command's arguments for a given
// directory of the run files, the files themselves, and whether stdin is
// fed.
type launch struct {
	hostDir string
	files   []runFile
	args    func(dir string) []string
	stdin   bool
}

type runFile struct {
	name string
	data []byte
}

// launcher starts a connector; each executor has its own.
type launcher func(ctx context.Context, l launch) (started, error)

// runner is what every executor shares: the connector's name, the options
// and its log file. Executors embed it and give run their launcher.
type runner struct {
	name    string
	o       *options
	logFile string
}

func newRunner(name string, o *options) runner {
	return runner{
		name:    name,
		o:       o,
		logFile: filepath.Join(o.logDir, name+"-"+ulid.Make().String()+".log"),
	}
}

// Name is the connector's name.
func (r *runner) Name() string { return r.name }

// LogFile is the file that keeps all of this connector's stderr and LOG
// messages, masked; it exists once the connector has run.
func (r *runner) LogFile() string { return r.logFile }

// commandArgs builds the canonical command line, with the run files in dir.
func commandArgs(inv Invocation, dir string) []string {
	c, k, s := path.Join(dir, "config.json"), path.Join(dir, "catalog.json"), path.Join(dir, "state.json")
	switch inv.Verb {
	case VerbSpec:
		return []string{"spec"}
	case VerbCheck, VerbDiscover:
		return []string{string(inv.Verb), "--config", c}
	case VerbRead:
		args := []string{"read", "--config", c, "--catalog", k}
		if len(inv.State) > 0 {
			args = append(args, "--state", s)
		}
		return args
	default: // VerbWrite
		return []string{"write", "--config", c, "--catalog", k}
	}
}

// runFiles returns the files an invocation needs, checking that it has
// them.
func runFiles(inv Invocation) ([]runFile, error) {
	switch inv.Verb {
	case VerbSpec:
		return nil, nil
	case VerbCheck, VerbDiscover, VerbRead, VerbWrite:
	default:
		return nil, fmt.Errorf("executor: unknown command %q; use one of spec, check, discover, read, write", inv.Verb)
	}
	config := inv.Config
	if len(config) == 0 {
		config = json0
	}
	files := []runFile{{"config.json", config}}
	if inv.Verb == VerbRead || inv.Verb == VerbWrite {
		if len(inv.Catalog) == 0 {
			return nil, fmt.Errorf("executor: %s needs a configured catalog (Invocation.Catalog)", inv.Verb)
		}
		files = append(files, runFile{"catalog.json", inv.Catalog})
	}
	if inv.Verb == VerbRead && len(inv.State) > 0 {
		files = append(files, runFile{"state.json", inv.State})
	}
	return files, nil
}

var json0 = []byte("{}")

// run is the one implementation of Executor.Run; start does the part that
// differs between executors.
func (r *runner) run(ctx context.Context, inv Invocation, start launcher) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		if err := r.runOnce(ctx, inv, start, yield); err != nil {
			yield(nil, err)
		}
	}
}

// runOnce runs the connector, yielding its messages. It returns the error to
// yield last, after everything has been cleaned up, or nil when the run
// succeeded or the caller stopped iterating.
func (r *runner) runOnce(ctx context.Context, inv Invocation, start launcher, yield func(*protocol.Message, error) bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("connector %s: %s not started: %w", r.name, inv.Verb, err)
	}
	files, err := runFiles(inv)
	if err != nil {
		return err
	}
	// os.MkdirTemp creates the directory 0700: only we can read the secrets.
	dir, err := os.MkdirTemp("", "goairbyte-"+r.name+"-")
	if err != nil {
		return fmt.Errorf("connector %s: creating the temp directory for its files: %w", r.name, err)
	}
	defer os.RemoveAll(dir)
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o600); err != nil {
			return fmt.Errorf("connector %s: writing %s: %w", r.name, f.name, err)
		}
	}

	lg := r.openLog(inv.Verb)
	defer lg.close()

	st, err := start(ctx, launch{
		hostDir: dir,
		files:   files,
		args:    func(d string) []string { return commandArgs(inv, d) },
		stdin:   inv.Stdin != nil,
	})
	if err != nil {
		return err
	}
	r.o.logger.Debug("connector started", "connector", r.name, "command", string(inv.Verb))

	var (
		exitCode int
		waitErr  error
		exited   = make(chan struct{})
	)
	go func() {
		exitCode, waitErr = st.proc.wait()
		close(exited)
	}()

	// stop is the one way a connector is stopped early: our end of its
	// output closed, SIGTERM, the grace period, then SIGKILL for whatever
	// is left. Closing the output first matters: a connector blocked
	// writing to a pipe nobody reads would never see its SIGTERM.
	var (
		stopOnce sync.Once
		stopped  = make(chan struct{})
	)
	stop := func() {
		stopOnce.Do(func() {
			close(stopped)
			st.proc.stopOutput()
			st.proc.terminate()
			t := time.NewTimer(r.o.grace)
			defer t.Stop()
			select {
			case <-exited:
			case <-t.C:
				r.o.logger.Warn("connector ignored SIGTERM; killing it", "connector", r.name, "grace", r.o.grace)
			}
			st.proc.kill()
		})
	}
	unwatch := context.AfterFunc(ctx, stop)
	defer unwatch()

	stderrDone := make(chan struct{})
	go func() {
		defer close(stderrDone)
		r.readStderr(st.stderr, lg)
	}()

	if st.stdin != nil {
		// Copying runs beside the decoding below, so that a connector that
		// writes while it reads never blocks on us. It ends when the input
		// does or when the connector is gone (writes then fail).
		go func() {
			// The buffer is used as given only when the destination's
			// ReadFrom is hidden (an *os.File's copies 32 KiB at a time).
			_, err := io.CopyBuffer(struct{ io.Writer }{st.stdin}, inv.Stdin, make([]byte, stdinCopySize))
			st.stdin.Close()
			if err != nil && ctx.Err() == nil {
				r.o.logger.Debug("connector stopped reading its input", "connector", r.name, "error", err)
			}
		}()
	}

	dec := startDecoding(st.stdout, stopped)

	// finish waits for the connector and everything around it; after it
	// nothing of the run is left but the temp dir, removed by the defer.
	finished := false
	finish := func(early bool) {
		if finished {
			return
		}
		finished = true
		// A stop begun by cancellation must complete (the container
		// removed) before we go on; unwatch reports false once it began.
		if !unwatch() || early {
			stop()
		}
		<-exited
		dec.wait()
		// Whatever inherited stderr from the connector and outlived it
		// must not keep us here: give the last lines a moment, then cut.
		t := time.NewTimer(stderrDrain)
		select {
		case <-stderrDone:
		case <-t.C:
			st.stderr.Close()
			<-stderrDone
		}
		t.Stop()
		st.proc.release()
	}
	defer finish(true) // also when yield panics

	var trace *protocol.ErrorTrace
	for batch := range dec.batches {
		for i, m := range batch {
			batch[i] = nil // the batch is reused; do not keep messages alive
			switch {
			case m.Unparsed != nil:
				line := r.o.mask(string(m.Unparsed))
				m.Unparsed = []byte(line)
				lg.line("stdout", line)
				r.o.logger.Info("connector output", "connector", r.name, "line", line)
			case m.Type == protocol.TypeLog && m.Log != nil:
				m.Log.Message = r.o.mask(m.Log.Message)
				m.Log.StackTrace = r.o.mask(m.Log.StackTrace)
				lg.line(string(m.Log.Level), m.Log.Message)
				if m.Log.StackTrace != "" {
					lg.line(string(m.Log.Level), m.Log.StackTrace)
				}
				r.o.logger.Log(ctx, slogLevel(m.Log.Level), m.Log.Message, "connector", r.name)
			case m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.Type == protocol.TraceError && m.Trace.Error != nil:
				e := m.Trace.Error
				e.Message, e.InternalMessage, e.StackTrace = r.o.mask(e.Message), r.o.mask(e.InternalMessage), r.o.mask(e.StackTrace)
				lg.line("TRACE ERROR", e.Message+" "+e.InternalMessage)
				if trace == nil {
					trace = e // the first one is usually the cause
				}
			}
			if !yield(m, nil) {
				return nil // the deferred finish stops the connector
			}
		}
		dec.recycle(batch)
		if ctx.Err() != nil {
			// Cancelled: what is still buffered is not wanted any more.
			finish(true)
			return r.stoppedErr(ctx, inv.Verb)
		}
	}
	// The output has ended (dec.err may be read now).
	if ctx.Err() != nil {
		finish(true)
		return r.stoppedErr(ctx, inv.Verb)
	}
	if dec.err != nil {
		finish(true)
		return fmt.Errorf("connector %s: reading its output: %w", r.name, dec.err)
	}
	finish(false)
	if waitErr != nil {
		return fmt.Errorf("connector %s: %s: waiting for it to exit: %w", r.name, inv.Verb, r.maskErr(waitErr))
	}
	if exitCode != 0 || trace != nil {
		ce := &ConnectorError{
			Connector:  r.name,
			Command:    inv.Verb,
			ExitCode:   exitCode,
			StderrTail: lg.tail(),
			LogFile:    lg.path,
		}
		if trace != nil {
			ce.FailureType, ce.Message, ce.InternalMessage = trace.FailureType, trace.Message, trace.InternalMessage
		}
		return ce
	}
	return nil
}

func (r *runner) stoppedErr(ctx context.Context, verb Verb) error {
	return fmt.Errorf("connector %s: %s stopped: %w", r.name, verb, context.Cause(ctx))
}

func (r *runner) maskErr(err error) error { return errors.New(r.o.mask(err.Error())) }

// readStderr keeps every stderr line: masked, in the log file and the tail.
func (r *runner) readStderr(stderr io.Reader, lg *runLog) {
	br := bufio.NewReaderSize(stderr, 64<<10)
	var buf []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(buf)+len(frag) <= maxStderrLine {
			buf = append(buf, frag...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if line := strings.TrimRight(string(bytes.TrimRight(buf, "\r\n")), " \t"); line != "" {
			line = r.o.mask(line)
			lg.stderr(line)
			r.o.logger.Debug("connector stderr", "connector", r.name, "line", line)
		}
		buf = buf[:0]
		if err != nil {
			return
		}
	}
}

func slogLevel(l protocol.Level) slog.Level {
	switch l {
	case protocol.LevelFatal, protocol.LevelError:
		return slog.LevelError
	case protocol.LevelWarn:
		return slog.LevelWarn
	case protocol.LevelDebug, protocol.LevelTrace:
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// runLog is one run's share of the connector's log file plus the stderr
// tail kept for errors.
type runLog struct {
	path string
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	ring [stderrTailLines]string
	n    int // lines ever put in ring
}

// openLog opens (appending) the connector's log file and writes a header for
// this run. Without a log file the run still works: the failure is logged.
func (r *runner) openLog(verb Verb) *runLog {
	lg := &runLog{}
	if err := os.MkdirAll(r.o.logDir, 0o700); err != nil {
		r.o.logger.Warn("cannot create the connector log directory; its stderr is only kept in errors", "dir", r.o.logDir, "error", err)
		return lg
	}
	f, err := os.OpenFile(r.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		r.o.logger.Warn("cannot open the connector log file; its stderr is only kept in errors", "file", r.logFile, "error", err)
		return lg
	}
	lg.path, lg.f, lg.w = r.logFile, f, bufio.NewWriter(f)
	fmt.Fprintf(lg.w, "==== %s %s %s\n", time.Now().Format(time.RFC3339), r.name, verb)
	return lg
}

func (lg *runLog) stderr(line string) {
	lg.mu.Lock()
	lg.ring[lg.n%stderrTailLines] = line
	lg.n++
	lg.mu.Unlock()
	lg.line("stderr", line)
}

func (lg *runLog) line(kind, text string) {
	lg.mu.Lock()
	defer lg.mu.Unlock()
	if lg.w != nil {
		lg.w.WriteString(kind)
		lg.w.WriteString(": ")
		lg.w.WriteString(text)
		lg.w.WriteByte('\n')
	}
}

func (lg *runLog) tail() []string {
	lg.mu.Lock()
	defer lg.mu.Unlock()
	k := min(lg.n, stderrTailLines)
	out := make([]string, 0, k)
	for i := lg.n - k; i < lg.n; i++ {
		out = append(out, lg.ring[i%stderrTailLines])
	}
	return out
}

func (lg *runLog) close() {
	lg.mu.Lock()
	defer lg.mu.Unlock()
	if lg.f != nil {
		lg.w.Flush()
		lg.f.Close()
		lg.f, lg.w = nil, nil
	}
}
