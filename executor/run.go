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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/x/goairbyte/internal/loopback"
	"github.com/x/goairbyte/internal/owner"
	"github.com/x/goairbyte/internal/termsafe"
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

// run is the run's name, unique on this host: its temp dir's.
func (l launch) run() string { return filepath.Base(l.hostDir) }

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
	method  Method
	o       *options
	logFile string
}

func newRunner(name string, o *options) runner {
	return runner{
		name:    name,
		method:  o.method,
		o:       o,
		logFile: filepath.Join(o.logDir, name+"-"+ulid.Make().String()+".log"),
	}
}

// Name is the connector's name.
func (r *runner) Name() string { return r.name }

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
		p := &procRun{r: r, inv: inv, out: outcome{verb: inv.Verb}, drain: inv.Verb == VerbWrite}
		if err := p.run(ctx, start, yield); err != nil {
			yield(nil, err)
		}
	}
}

// procRun is one run of a connector process: its fields are the state of
// the run, its methods the steps (prepare, start, stream, finish).
type procRun struct {
	r   *runner
	inv Invocation

	dir string // the private temp dir with the run files
	// release lets go of dir's owner lock, once dir is removed.
	release func()
	lg      *runLog // this run's share of the log file
	st      started // the process and its pipes
	dec     *decoding

	exited   chan struct{} // closed when the process has exited
	exitCode int
	waitErr  error

	// drain keeps the output read while a cancellation stops the
	// connector, until it ends: a write's. What a destination writes
	// then are its last STATE echoes, each the confirmation of records it
	// committed; dropped, the caller does not store them and the next
	// write sends those records again. A read's output after its
	// cancellation is records nobody will store: it stops being read at
	// once, and the connector that still writes fails at once (EPIPE)
	// instead of living out the grace period.
	drain bool

	stopOnce    sync.Once
	discardOnce sync.Once
	discarded   chan struct{} // closed when the output is no longer wanted
	unwatch     func() bool   // stops watching ctx; false once the stop began

	stderrDone chan struct{}
	stdout     *exitedOutput // nil when stdout cannot time out a read (Docker)
	finished   bool
	lingered   bool        // stopped because it outlived its output
	killed     atomic.Bool // it outlived the grace period after SIGTERM
	answered   atomic.Bool // it has sent a protocol message
	out        outcome
	malformed  int    // lines that claimed to be a message and did not parse
	unparsed   int    // lines that are not protocol messages
	firstLine  string // the first of them, masked and cut
}

// maxMalformedWarnings is how many lines that do not parse a run warns of
// one by one: a Python connector that writes NaN (which JSON has not) in
// every record would otherwise give a warning a record. The read's error
// or summary counts them all.
const maxMalformedWarnings = 10

// run runs the connector, yielding its messages. It returns the error to
// yield last, after everything has been cleaned up, or nil when the run
// succeeded or the caller stopped iterating.
func (p *procRun) run(ctx context.Context, start launcher, yield func(*protocol.Message, error) bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("connector %s: %s not started, %s: %w", p.r.name, p.inv.Verb, cancelWord(err), err)
	}
	files, err := p.prepare()
	if p.dir != "" {
		defer p.release()
		defer os.RemoveAll(p.dir)
	}
	if err != nil {
		return err
	}
	p.lg = p.r.openLog(p.inv.Verb)
	defer p.lg.close()
	if err := p.start(ctx, start, files); err != nil {
		return err
	}
	defer p.finish(ctx, true) // also when yield panics
	if p.inv.Verb == VerbSpec {
		defer time.AfterFunc(silentSpecWarning, p.warnSilent).Stop()
	}
	if !p.stream(ctx, yield) {
		return nil // the caller stopped; the deferred finish stops the connector
	}
	return p.result(ctx)
}

// prepare writes the run files into a private temp dir.
func (p *procRun) prepare() ([]runFile, error) {
	files, err := runFiles(p.inv)
	if err != nil {
		return nil, err
	}
	// Whatever a killed process left behind goes first (see reaper.go).
	sweepTempDirs()
	// os.MkdirTemp creates the directory 0700: only we can read the secrets.
	// Its owner lock tells the sweeps of other processes that it is ours.
	if p.dir, p.release, err = owner.MkdirTemp(runDirPattern(p.r.name)); err != nil {
		return nil, fmt.Errorf("connector %s: creating the temp directory for its files: %w", p.r.name, err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(p.dir, f.name), f.data, 0o600); err != nil {
			return nil, fmt.Errorf("connector %s: writing %s: %w", p.r.name, f.name, err)
		}
	}
	return files, nil
}

// start launches the connector and everything that runs beside it: the
// exit watcher, the stop on cancellation, the stderr reader, the stdin
// feed and the output decoder.
func (p *procRun) start(ctx context.Context, start launcher, files []runFile) error {
	st, err := start(ctx, launch{
		hostDir: p.dir,
		files:   files,
		args:    func(d string) []string { return commandArgs(p.inv, d) },
		stdin:   p.inv.Stdin != nil,
	})
	if err != nil && ctx.Err() != nil {
		// Cancelled while it started (an image pulled, a container made):
		// the call that failed said only "context canceled", after a
		// request's URL, or that the image was missing.
		return stoppedErr(p.r.name, p.inv.Verb, ctx)
	}
	if err != nil {
		return err
	}
	p.st = st
	if g, ok := st.proc.(interface{ group() int }); ok {
		// Best effort: without it a crash leaves the group to Pdeathsig.
		_ = os.WriteFile(filepath.Join(p.dir, pgidFile), []byte(pgidRecord(g.group())), 0o600)
	}
	p.r.o.logger.Debug("connector started", "connector", p.r.name, "command", string(p.inv.Verb))
	p.exited, p.discarded, p.stderrDone = make(chan struct{}), make(chan struct{}), make(chan struct{})
	if f, ok := st.stdout.(deadlineReader); ok {
		p.stdout = &exitedOutput{f: f, exited: p.exited}
		st.stdout = p.stdout
	}
	go func() {
		p.exitCode, p.waitErr = st.proc.wait()
		close(p.exited)
		if p.stdout != nil {
			p.stdout.exit() // a read already waiting gets the drain period too
		}
	}()
	go func() {
		defer close(p.stderrDone)
		p.r.readStderr(st.stderr, p.lg)
	}()
	if st.stdin != nil {
		// Copying runs beside the decoding, so that a connector that writes
		// while it reads never blocks on us. It ends when the input does or
		// when the connector is gone (writes then fail).
		go func() {
			// The buffer is used as given only when the destination's
			// ReadFrom is hidden (an *os.File's copies 32 KiB at a time).
			_, err := io.CopyBuffer(struct{ io.Writer }{st.stdin}, p.inv.Stdin, make([]byte, stdinCopySize))
			st.stdin.Close()
			if err != nil && ctx.Err() == nil {
				p.r.o.logger.Debug("connector stopped reading its input", "connector", p.r.name, "error", err)
			}
		}()
	}
	p.dec = startDecoding(st.stdout, p.discarded)
	// Watched last: a stop needs the decoder (it may wait for the output's
	// end), and one due already runs at once.
	p.unwatch = context.AfterFunc(ctx, p.stop)
	return nil
}

// stop is the one way a connector is stopped early: our end of its output
// closed, SIGTERM, the grace period, then SIGKILL for whatever is left.
// Closing the output first matters: a connector blocked writing to a pipe
// nobody reads would never see its SIGTERM. A draining run (a write
// cancelled) keeps reading the output instead, so nothing blocks on it,
// and waits for its end as well as the exit, within the same grace
// period: the Docker engine delivers a container's last output after its
// exit, and the kill would cut it.
func (p *procRun) stop() {
	p.stopOnce.Do(func() {
		if !p.drain {
			p.discard()
		}
		p.st.proc.terminate()
		grace := p.r.o.graceFor(p.inv.Verb)
		t := time.NewTimer(grace)
		defer t.Stop()
		exited, ended := p.exited, p.dec.done
		if !p.drain {
			ended = nil
		}
		for exited != nil || ended != nil {
			select {
			case <-exited:
				exited = nil
			case <-ended:
				ended = nil
			case <-t.C:
				p.r.o.logger.Warn("connector ignored SIGTERM; killing it", "connector", p.r.name, "grace", grace)
				p.killed.Store(true)
				exited, ended = nil, nil
			}
		}
		p.st.proc.kill()
	})
}

// discard gives up the connector's output: the decoder stops handing it
// over, and our end of it is closed, so that a read waiting on it and a
// connector writing to it both fail at once.
func (p *procRun) discard() {
	p.discardOnce.Do(func() {
		close(p.discarded)
		p.st.proc.stopOutput()
	})
}

// stream yields the connector's messages until its output ends, the
// caller stops (false) or ctx is cancelled; a draining run yields on after
// the cancellation until the output ends (which the stop brings about
// within the grace period).
func (p *procRun) stream(ctx context.Context, yield func(*protocol.Message, error) bool) bool {
	for batch := range p.dec.batches {
		for i, m := range batch {
			batch[i] = nil // the batch is reused; do not keep messages alive
			p.observe(ctx, m)
			if !yield(m, nil) {
				return false
			}
		}
		p.dec.recycle(batch)
		if ctx.Err() != nil && !p.drain {
			return true // cancelled: what is still buffered is not wanted
		}
	}
	return true
}

// silentSpecWarning is how long a spec may send no protocol message before
// a warning says that the program may be no connector. Connectors answer
// spec without the network, in seconds (a Java one's JVM start
// included); a program that is no connector (a server's image given as
// the connector's) never does, and the run waited in silence for ever.
var silentSpecWarning = time.Minute

// warnSilent warns of a spec that has sent no protocol message yet.
func (p *procRun) warnSilent() {
	if p.answered.Load() {
		return
	}
	p.r.o.logger.Warn(fmt.Sprintf("the connector has answered nothing to spec for %s: a program that is no Airbyte connector (a server, "+
		"a shell) never does; check the image or executable it runs (its output is in its log file), or stop the command", silentSpecWarning),
		"connector", p.r.name, "file", p.lg.path)
}

// observe masks what the connector says and logs it.
func (p *procRun) observe(ctx context.Context, m *protocol.Message) {
	o := p.r.o
	if m.Unparsed == nil && !p.answered.Load() {
		p.answered.Store(true)
	}
	switch {
	case m.Unparsed != nil:
		line := o.mask(string(m.Unparsed))
		m.Unparsed = []byte(line)
		if p.unparsed++; p.unparsed == 1 {
			p.firstLine = termsafe.String(cut(line, quotedLine))
		}
		p.lg.line("stdout", line)
		if bad := m.Malformed; bad != nil {
			switch p.malformed++; {
			case p.malformed <= maxMalformedWarnings:
				o.logger.Warn("the connector sent a "+string(bad.Type)+" message that does not parse; it is left out",
					"connector", p.r.name, "stream", bad.Stream, "line", bad.Line, "error", o.mask(bad.Err.Error()))
			case p.malformed == maxMalformedWarnings+1:
				o.logger.Warn("the connector sends more lines that do not parse; further lines are not warned of one by one (the connector's log file has them all)",
					"connector", p.r.name, "file", p.lg.path)
			}
		} else {
			o.logger.Info("connector output", "connector", p.r.name, "line", termsafe.Head(line))
		}
	case m.Type == protocol.TypeLog && m.Log != nil:
		o.maskMessage(m)
		p.lg.line(string(m.Log.Level), m.Log.Message)
		if m.Log.StackTrace != "" {
			p.lg.line(string(m.Log.Level), m.Log.StackTrace)
		}
		o.logLine(ctx, m.Log, p.r.name)
	case m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.Type == protocol.TraceError && m.Trace.Error != nil:
		o.maskMessage(m)
		p.lg.line("TRACE ERROR", m.Trace.Error.Message+" "+m.Trace.Error.InternalMessage)
	default:
		o.maskMessage(m)
	}
	p.out.observe(m)
}

// result finishes a run whose output has ended and says how it ended.
func (p *procRun) result(ctx context.Context) error {
	if ctx.Err() != nil {
		p.finish(ctx, true)
		return p.stoppedErr(ctx)
	}
	if p.dec.err != nil {
		p.finish(ctx, true)
		return fmt.Errorf("connector %s: reading its output: %w", p.r.name, p.dec.err)
	}
	if p.stdout != nil && p.stdout.cut.Load() {
		p.r.o.logger.Warn("the connector exited but something it started outside its process group keeps its output open; "+
			"stopped reading it (that process is still running)", "connector", p.r.name, "grace", stderrDrain)
	}
	p.finish(ctx, false)
	if ctx.Err() != nil {
		return p.stoppedErr(ctx) // cancelled while it lingered
	}
	if p.waitErr != nil {
		return fmt.Errorf("connector %s: %s: waiting for it to exit: %w", p.r.name, p.inv.Verb, p.r.maskErr(p.waitErr))
	}
	if p.lingered {
		// Its output had ended: how it died of our stop says nothing about
		// the run. What it sent decides (a TRACE ERROR, stream statuses).
		p.exitCode = 0
	}
	report := RunReport{ErrorLog: p.out.errorLog, StderrTail: p.lg.stderrTail(), LogFile: p.lg.path}
	if p.inv.Report != nil {
		*p.inv.Report = report
	}
	err := p.out.failure(p.r.name, p.exitCode, report)
	if ce := (*ConnectorError)(nil); errors.As(err, &ce) && p.r.method.Kind == KindDocker && !p.r.o.hostNetwork {
		ce.hint = loopback.Hint(p.inv.Config, ce.Reason())
	}
	if ce := (*ConnectorError)(nil); errors.As(err, &ce) && ce.Missing != "" && p.unparsed > 0 {
		// What it wrote instead is the clue (a message in another shape).
		what := "1 line on stdout that is not a protocol message"
		if p.unparsed > 1 {
			what = strconv.Itoa(p.unparsed) + " lines on stdout that are not protocol messages, the first"
		}
		return fmt.Errorf("%w; it wrote %s: %s", err, what, p.firstLine)
	}
	if s, ok := p.st.proc.(signaled); ok && err != nil && p.exitCode == -1 && !p.killed.Load() {
		if sig, ok := s.deathSignal(); ok {
			// Not ours: the stop that sends signals ends in stoppedErr.
			return fmt.Errorf("%w; it was killed by signal %s%s", err, signalName(sig), signalSender(sig))
		}
	}
	return err
}

// quotedLine is how much of a line that is not a message an error quotes.
const quotedLine = 200

// cut returns s cut to at most n bytes, at a character boundary, with "…"
// when something was left out.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// signaled is a process that can tell which signal ended it.
type signaled interface {
	deathSignal() (syscall.Signal, bool)
}

// signalSender says who usually sends sig to a connector, when anyone
// does.
func signalSender(sig syscall.Signal) string {
	if sig == syscall.SIGKILL {
		return " (sent by the kernel when the machine or the connector's cgroup is out of memory, or by kill -9)"
	}
	return ""
}

// finish waits for the connector and everything around it; after it nothing
// of the run is left but the temp dir, removed by run. early stops the
// connector first. A connector whose output ended but that keeps running
// gets the Runtime's LingerGrace, or until ctx is cancelled, before it is
// stopped.
func (p *procRun) finish(ctx context.Context, early bool) {
	if p.finished {
		return
	}
	p.finished = true
	// A stop begun by cancellation must complete (the container removed)
	// before we go on; unwatch reports false once it began. Finished
	// early, nothing more of the output is read, drained or not.
	if early {
		p.discard()
	}
	if !p.unwatch() || early {
		p.stop()
	} else {
		t := time.NewTimer(p.r.o.linger)
		select {
		case <-p.exited:
		case <-ctx.Done():
			p.stop()
		case <-t.C:
			p.r.o.logger.Warn("connector closed its output but kept running; stopping it",
				"connector", p.r.name, "grace", p.r.o.linger)
			p.lingered = true
			p.stop()
		}
		t.Stop()
	}
	<-p.exited
	p.dec.wait()
	// Whatever inherited stderr from the connector and outlived it must not
	// keep us here: give the last lines a moment, then cut.
	t := time.NewTimer(stderrDrain)
	select {
	case <-p.stderrDone:
	case <-t.C:
		p.st.stderr.Close()
		<-p.stderrDone
	}
	t.Stop()
	p.st.proc.release()
}

// deadlineReader is a connector's stdout whose reads can time out (a pipe).
type deadlineReader interface {
	io.Reader
	SetReadDeadline(time.Time) error
}

// exitedOutput is a connector's stdout that ends once the connector has
// exited and nothing came for stderrDrain. Killing the connector's process
// group at its exit closes the output of everything it started, except
// what left the group (a daemon, a helper started with setsid): such a
// process holding stdout would keep the run waiting for good. Nothing
// already in the pipe is lost: a read with data to return does not wait.
type exitedOutput struct {
	f      deadlineReader
	exited <-chan struct{}
	cut    atomic.Bool // the output was ended here, not by the connector
}

// exit starts the drain period of a read that was waiting when the
// connector exited.
func (o *exitedOutput) exit() { _ = o.f.SetReadDeadline(time.Now().Add(stderrDrain)) }

func (o *exitedOutput) Read(b []byte) (int, error) {
	select {
	case <-o.exited:
		o.exit()
	default:
	}
	n, err := o.f.Read(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		o.cut.Store(true)
		return n, io.EOF
	}
	return n, err
}

// stoppedErr is the error of a run that ctx stopped, saying so when the
// connector had to be killed: the warning goes to a logger that a library
// user rarely sets.
func (p *procRun) stoppedErr(ctx context.Context) error {
	err := stoppedErr(p.r.name, p.inv.Verb, ctx)
	if p.killed.Load() {
		return fmt.Errorf("%w; it ignored SIGTERM for the grace period (%s) and was killed", err, p.r.o.graceFor(p.inv.Verb))
	}
	return err
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

// logLine hands a connector's LOG message to the program's logger. A LOG
// line may be as long as any message (256 MiB), and loggers ship lines to
// files and services: the logger gets the first 8 KiB, as errors quote
// them, and the run's log file keeps the line whole.
func (o *options) logLine(ctx context.Context, l *protocol.Log, connector string) {
	o.logger.Log(ctx, slogLevel(l.Level), termsafe.Head(l.Message), "connector", connector)
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

// A run's log is capped: the first logHeadBytes are written as they come,
// then only the last logTailBytes are kept (in memory) and written when the
// run ends, after a line that says how much was dropped. A connector that
// writes a gigabyte to stderr leaves a log of a few megabytes that still
// shows how it started and how it ended.
const (
	logHeadBytes = 2 << 20
	logTailBytes = 2 << 20
)

// logRetention is how long connector log files are kept: older ones in the
// log directory are removed when a process first opens a log there, and
// then every pruneEvery while it keeps opening logs.
const logRetention = 7 * 24 * time.Hour

// runLog is one run's share of the connector's log file plus the stderr
// tail kept for errors.
type runLog struct {
	path string
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	ring [stderrTailLines]string
	n    int // lines ever put in ring

	written      int      // bytes written to the file for this run
	tail         []string // lines kept for the end once the head is full
	tailBytes    int
	droppedLines int
	droppedBytes int
}

// openLog opens (appending) the connector's log file and writes a header for
// this run, its time in UTC (RFC 3339), as goairbyte writes every time.
// Without a log file the run still works: the failure is logged.
func (r *runner) openLog(verb Verb) *runLog {
	lg := &runLog{}
	path := r.logFile
	f, err := openLogFile(path)
	if err != nil && r.o.sharedLogDir {
		// The default directory is the machine's, and the first user to
		// run a connector owns it (0700): the others use one of their own.
		path = filepath.Join(userLogDir(), filepath.Base(path))
		f, err = openLogFile(path)
	}
	if err != nil {
		r.o.logger.Warn("cannot open the connector log file; its stderr is only kept in errors", "file", path, "error", err)
		return lg
	}
	lg.path, lg.f, lg.w = path, f, bufio.NewWriter(f)
	fmt.Fprintf(lg.w, "==== %s %s %s\n", time.Now().UTC().Format(time.RFC3339), r.name, verb)
	return lg
}

// openLogFile opens (appending, creating it and its directory) the log
// file at path, after pruning the directory's old logs.
func openLogFile(path string) (*os.File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	pruneLogs(dir, time.Now())
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}

// pruneEvery is how often a process prunes a log directory it writes
// into: when it opens its first log there, and again at the first log
// opened this long after. A process that runs for weeks (a server) would
// otherwise keep every log it wrote since it started.
const pruneEvery = time.Hour

// prunedDirs holds when each log directory was last pruned.
var prunedDirs sync.Map // string → time.Time

// pruneLogs removes the log files in dir older than logRetention at now,
// unless this process pruned dir less than pruneEvery before.
func pruneLogs(dir string, now time.Time) {
	if last, ok := prunedDirs.Load(dir); ok && now.Sub(last.(time.Time)) < pruneEvery {
		return
	}
	prunedDirs.Store(dir, now)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	cutoff := now.Add(-logRetention)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".log") {
			continue
		}
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.ModTime().Before(cutoff) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
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
	if lg.w == nil {
		return
	}
	size := len(kind) + 2 + len(text) + 1
	if lg.written+size <= logHeadBytes && lg.droppedLines == 0 && len(lg.tail) == 0 {
		lg.written += size
		lg.w.WriteString(kind)
		lg.w.WriteString(": ")
		lg.w.WriteString(text)
		lg.w.WriteByte('\n')
		return
	}
	lg.tail = append(lg.tail, kind+": "+text)
	lg.tailBytes += size
	for lg.tailBytes > logTailBytes && len(lg.tail) > 1 {
		lg.droppedLines++
		lg.droppedBytes += len(lg.tail[0]) + 1
		lg.tailBytes -= len(lg.tail[0]) + 1
		lg.tail[0] = ""
		lg.tail = lg.tail[1:]
	}
}

func (lg *runLog) stderrTail() []string {
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
	if lg.f == nil {
		return
	}
	if lg.droppedLines > 0 {
		fmt.Fprintf(lg.w, "==== %d lines (%d bytes) of this run's log dropped here: each run keeps its first %d and last %d MiB\n",
			lg.droppedLines, lg.droppedBytes, logHeadBytes>>20, logTailBytes>>20)
	}
	for _, l := range lg.tail {
		lg.w.WriteString(l)
		lg.w.WriteByte('\n')
	}
	lg.w.Flush()
	lg.f.Close()
	lg.f, lg.w, lg.tail = nil, nil, nil
}

// stoppedErr is the error of a run that ctx stopped: it says which command
// of which connector was cancelled (or timed out), and wraps the cause.
func stoppedErr(name string, verb Verb, ctx context.Context) error {
	cause := context.Cause(ctx)
	return fmt.Errorf("connector %s: %s %s: %w", name, verb, cancelWord(cause), cause)
}

// cancelWord is how a context ended, as messages say it.
func cancelWord(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return "cancelled"
}
