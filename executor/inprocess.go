package executor

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/x/goairbyte/internal/kitcore"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// inProcessExecutor runs a connector written in Go in this process: each command
// is a method call, and the messages it emits reach the caller as they are,
// with no encoding, no pipe and no temp files. The connector runs on a
// goroutine of its own, a batch of messages ahead of the caller, so that
// producing records overlaps with loading them as it does for a process.
type inProcessExecutor struct {
	name string
	conn any
	o    *options
}

var _ Executor = (*inProcessExecutor)(nil)

func newInProcess(name string, conn any, o *options) (*inProcessExecutor, error) {
	_, src := conn.(kit.Source)
	_, dst := conn.(kit.Destination)
	if !src && !dst {
		return nil, fmt.Errorf("executor: connector %s: %T is neither a kit.Source nor a kit.Destination", name, conn)
	}
	return &inProcessExecutor{name: name, conn: conn, o: o}, nil
}

// Name is the connector's name.
func (p *inProcessExecutor) Name() string { return p.name }

// Method says how the connector runs.
func (p *inProcessExecutor) Method() Method { return Method{Kind: KindInProcess, Connector: p.conn} }

// String says how the connector runs.
func (p *inProcessExecutor) String() string { return p.name + " (in process)" }

// Install does nothing: the connector is part of this program.
func (p *inProcessExecutor) Install(ctx context.Context) error { return nil }

// Uninstall does nothing.
func (p *inProcessExecutor) Uninstall(ctx context.Context) error { return nil }

// errCallerGone is what emit returns once the caller stopped listening.
var errCallerGone = errors.New("the caller stopped reading the connector's messages")

// errEmitAfterReturn is what emit returns to a goroutine the connector left
// running once its method has returned: the run is over and its messages
// are handed over, so a late message has nowhere to go.
var errEmitAfterReturn = errors.New("the connector's method has returned; a message emitted after that is dropped")

// Run calls the connector's method for the command and yields what it
// emits; see Executor. A panic in the connector is its failure, reported as
// a *ConnectorError, not the caller's crash.
func (p *inProcessExecutor) Run(ctx context.Context, inv Invocation) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(nil, fmt.Errorf("connector %s: %s not started, %s: %w", p.name, inv.Verb, cancelWord(err), err))
			return
		}
		cmd, err := p.command(inv)
		if err != nil {
			yield(nil, err)
			return
		}
		r := &inProcessRun{p: p, verb: inv.Verb, drain: inv.Verb == VerbWrite, report: inv.Report, out: outcome{verb: inv.Verb},
			batches: make(chan []*protocol.Message, 4), done: make(chan struct{})}
		// The run's emit tracks the statuses: kitcore ends the streams a
		// read that succeeds left open, as kit.Serve's encoder does.
		cmd.Ends = &r.ends
		call := func(ctx context.Context, emit func(*protocol.Message) error) error {
			return kitcore.Run(ctx, p.conn, cmd, emit)
		}
		if err := r.run(ctx, call, yield); err != nil {
			yield(nil, err)
		}
	}
}

// command turns an invocation into a command for kitcore's dispatch, the
// one kit.Serve runs, its inputs taken from the invocation instead of
// files. What a process executor refuses before starting (an unknown verb,
// a read without a catalog) is refused here too, and a command the
// connector lacks, which kit.Serve would refuse with a usage error.
func (p *inProcessExecutor) command(inv Invocation) (kitcore.Command, error) {
	if _, err := runFiles(inv); err != nil {
		return kitcore.Command{}, err
	}
	switch _, src := p.conn.(kit.Source); {
	case (inv.Verb == VerbDiscover || inv.Verb == VerbRead) && !src:
		return kitcore.Command{}, p.notA("source", inv.Verb)
	case inv.Verb == VerbWrite:
		if _, dst := p.conn.(kit.Destination); !dst {
			return kitcore.Command{}, p.notA("destination", inv.Verb)
		}
	}
	cmd := kitcore.Command{
		Verb: string(inv.Verb),
		Config: func() ([]byte, error) {
			if len(inv.Config) == 0 {
				return json0, nil
			}
			return inv.Config, nil
		},
		Catalog: func() ([]byte, error) { return inv.Catalog, nil },
		Stdin:   inv.Stdin,
	}
	if inv.Verb == VerbRead && len(inv.State) > 0 {
		cmd.State = func() ([]byte, error) { return inv.State, nil }
	}
	return cmd, nil
}

func (p *inProcessExecutor) notA(kind string, verb Verb) error {
	return fmt.Errorf("executor: connector %s runs in process and is not a %s: it has no %s command", p.name, kind, verb)
}

// inProcessRun is one command of an in-process connector: the connector's
// goroutine fills batches, the caller's drains them.
type inProcessRun struct {
	p    *inProcessExecutor
	verb Verb
	// drain yields what the connector emits after the cancellation until
	// its method returns (the grace period at most), as a process run
	// drains a write's output (see procRun.drain).
	drain bool

	batches chan []*protocol.Message
	done    chan struct{} // closed when the connector's method returned
	err     error         // what it returned; read after done

	// pending is what the connector emitted and has not handed over yet:
	// it appends, and the caller takes it when it would otherwise wait,
	// so that a connector waiting on a slow API holds nothing back.
	mu       sync.Mutex
	pending  []*protocol.Message
	returned bool           // the method returned: batches is (about to be) closed
	traced   bool           // the connector emitted a TRACE ERROR
	sending  sync.WaitGroup // full batches emit sends outside mu
	// ends are the streams whose end the connector emitted, for kitcore
	// to end the others (kitcore.Ends).
	ends kitcore.Ends

	// Owned by the caller's goroutine.
	out    outcome
	report *RunReport
}

// maxInProcessBatch caps a batch; a batch is handed over earlier whenever
// the caller is waiting for one, so batching never delays a message.
const maxInProcessBatch = 256

// run runs the command: the connector's method on a goroutine of its own,
// its batches yielded on the caller's, then the outcome once it returned.
func (r *inProcessRun) run(ctx context.Context, call func(context.Context, func(*protocol.Message) error) error,
	yield func(*protocol.Message, error) bool) error {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stopped sync.Once
	stop := make(chan struct{})
	// However run ends (a yield that panics unwinds through here too),
	// stop ends an emit that waits for the caller: without it, the
	// connector's goroutine blocked for good in emit, holding all it had.
	defer stopped.Do(func() { close(stop) })
	go r.connector(cctx, call, stop)
	quit := func() {
		stopped.Do(func() { close(stop) })
		cancel()
		r.wait()
	}
	if ended, err := r.deliver(ctx, yield, quit); !ended {
		return err
	}
	return r.result(ctx)
}

// connector is the connector's goroutine: it calls the method, hands over
// what it emitted last, and closes batches and then done.
func (r *inProcessRun) connector(ctx context.Context, call func(context.Context, func(*protocol.Message) error) error,
	stop <-chan struct{}) {
	defer close(r.done)
	defer close(r.batches)
	r.call(ctx, call, stop)
	// batches is closed below: a goroutine the connector left running
	// must not send on it.
	r.mu.Lock()
	rest := r.pending
	r.pending = nil
	r.returned = true
	r.mu.Unlock()
	r.sending.Wait() // a batch a straggler is sending goes before rest
	if len(rest) > 0 {
		select {
		case r.batches <- rest:
		case <-stop:
		}
	}
}

// deliver yields the connector's messages, batch by batch, until it has
// handed over its last batch (ended), or until the caller stops listening
// or the run is cancelled: then quit stops the connector and err says why
// (nil when the caller stopped).
func (r *inProcessRun) deliver(ctx context.Context, yield func(*protocol.Message, error) bool, quit func()) (ended bool, err error) {
	// A connector that ignores its cancelled context cannot be killed in
	// process: after the grace period the caller stops waiting for it,
	// and stops taking what it emits (a drained write's).
	g := gracePeriod{ctxDone: ctx.Done()}
	defer g.stop()
	for {
		batch, open := r.takeReady()
		if batch == nil && open {
			select {
			case batch, open = <-r.batches:
			case <-g.ctxDone:
				g.start(r.p.o.graceFor(r.verb))
				continue
			case <-g.expired:
				quit()
				return false, stoppedErr(r.p.name, r.verb, ctx)
			}
		}
		if !open {
			return true, nil
		}
		for _, m := range batch {
			r.observe(m)
			if !yield(m, nil) {
				quit()
				return false, nil
			}
		}
		if ctx.Err() != nil {
			g.start(r.p.o.graceFor(r.verb))
			select {
			case <-g.expired:
			default:
				if r.drain {
					continue
				}
			}
			quit()
			return false, stoppedErr(r.p.name, r.verb, ctx)
		}
	}
}

// gracePeriod is the caller's clock after a cancellation: until it starts,
// ctxDone is the caller's ctx.Done(); once it has, ctxDone is nil (the
// cancellation is known) and expired fires when the grace period is over.
type gracePeriod struct {
	ctxDone <-chan struct{}
	expired <-chan time.Time
	timer   *time.Timer
}

// start starts the grace period of length d, once.
func (g *gracePeriod) start(d time.Duration) {
	if g.expired == nil {
		g.ctxDone = nil
		g.timer = time.NewTimer(d)
		g.expired = g.timer.C
	}
}

// stop releases the timer, if the grace period started.
func (g *gracePeriod) stop() {
	if g.timer != nil {
		g.timer.Stop()
	}
}

// result waits for the connector's method to return, once every batch was
// taken, and turns what it returned and emitted into Run's error: a
// *ConnectorError for a failure, nil for success.
func (r *inProcessRun) result(ctx context.Context) error {
	<-r.done
	if r.report != nil {
		*r.report = RunReport{ErrorLog: r.out.errorLog}
	}
	switch {
	case ctx.Err() != nil:
		return stoppedErr(r.p.name, r.verb, ctx)
	case r.err != nil:
		if r.out.trace == nil {
			// The connector's TRACE ERROR had no error (call emitted none
			// after it): the failure is the one Run returned.
			t := kitcore.Trace(r.err).Trace.Error
			t.Message, t.StackTrace = r.p.o.mask(t.Message), r.p.o.mask(t.StackTrace)
			r.out.trace = t
		}
		return r.caused(r.out.failure(r.p.name, 1, RunReport{ErrorLog: r.out.errorLog}), r.err)
	}
	// A check that failed answers FAILED and returns nil: its error is
	// where kitcore put it for the caller (kitcore.WithCheckCause).
	var cause error
	if slot := kitcore.CheckCause(ctx); slot != nil && r.verb == VerbCheck {
		cause = *slot
	}
	return r.caused(r.out.failure(r.p.name, 0, RunReport{ErrorLog: r.out.errorLog}), cause)
}

// caused marks failure, a *ConnectorError or nil, as in process (no exit
// status to tell) and makes it unwrap to the Go error the connector failed
// with: the TRACE messages it became carry only its text, and the caller's
// errors.As looks for its type.
func (r *inProcessRun) caused(failure, cause error) error {
	if ce, ok := failure.(*ConnectorError); ok {
		ce.inProcess = true
		if cause != nil {
			ce.err = &maskedCause{err: cause, msg: r.p.o.mask(cause.Error())}
		}
	}
	return failure
}

// call calls the connector's method (a panic is its failure: kitcore
// recovers it) and, when it failed and said nothing of it, emits the TRACE
// ERROR kit.Serve would: the caller sees the same messages either way. A
// cancelled run is not reported: the caller stopped it.
func (r *inProcessRun) call(ctx context.Context, call func(context.Context, func(*protocol.Message) error) error,
	stop <-chan struct{}) {
	emit := func(m *protocol.Message) error { return r.emit(m, stop) }
	r.err = call(ctx, emit)
	if r.err == nil || ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	traced := r.traced
	r.mu.Unlock()
	if !traced {
		_ = emit(kitcore.Trace(r.err))
	}
}

// wait waits for the connector's method to return after a stop, a grace
// period at most: a connector that ignores its context cannot be killed in
// process, so it is left to finish on its own.
func (r *inProcessRun) wait() {
	// Drain what is still queued so that a blocked emit sees the stop.
	go func() {
		for range r.batches {
		}
	}()
	t := time.NewTimer(r.p.o.graceFor(r.verb))
	defer t.Stop()
	select {
	case <-r.done:
	case <-t.C:
		r.p.o.logger.Warn("in-process connector ignored its cancelled context; leaving it to finish on its own",
			"connector", r.p.name, "grace", r.p.o.graceFor(r.verb))
	}
}

// emit is the connector's emit function: it queues m and hands the queue
// over as a batch when it is full or the caller is idle.
func (r *inProcessRun) emit(m *protocol.Message, stop <-chan struct{}) error {
	if m == nil {
		return kitcore.ErrNilMessage
	}
	if m.Type == protocol.TypeRecord && m.Record != nil && m.Record.EmittedAt == 0 {
		// Stamped now, as kit.Serve and the Python CDK stamp every record.
		// The message is ours: a connector does not reuse what it gave
		// an emit that does not copy (kit.EmitCopies).
		m.Record.EmittedAt = time.Now().UnixMilli()
	}
	r.mu.Lock()
	if r.returned {
		r.mu.Unlock()
		r.p.o.logger.Warn("the in-process connector emitted a message after its method returned; it is dropped",
			"connector", r.p.name, "type", string(m.Type))
		return errEmitAfterReturn
	}
	if m.Type == protocol.TypeTrace {
		r.traced = r.traced || kitcore.IsTraceError(m)
		r.ends.Observe(m)
	}
	r.pending = append(r.pending, m)
	if len(r.pending) < maxInProcessBatch {
		var err error
		// An empty queue means the caller is waiting, or about to look at
		// pending: hand over now. Otherwise the caller is busy, and takes
		// pending as it is when it next finds the queue empty.
		if len(r.batches) == 0 {
			select {
			case r.batches <- r.pending:
				r.pending = make([]*protocol.Message, 0, 16)
			case <-stop:
				err = errCallerGone
			default:
			}
		}
		r.mu.Unlock()
		return err
	}
	full := r.pending
	r.pending = make([]*protocol.Message, 0, maxInProcessBatch)
	r.sending.Add(1)
	defer r.sending.Done()
	r.mu.Unlock()
	// pending stays empty until this send is done (only this goroutine
	// appends), so the caller cannot take newer messages before these.
	select {
	case r.batches <- full:
		return nil
	case <-stop:
		return errCallerGone
	}
}

// takeReady gives the caller the next batch without waiting: a queued one,
// else what the connector emitted and did not hand over. It returns nil when
// there is neither, and false once the connector is done and all is taken.
func (r *inProcessRun) takeReady() ([]*protocol.Message, bool) {
	select {
	case batch, open := <-r.batches:
		return batch, open
	default:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Checked under the lock, as emit sends under it: a batch queued
	// since is older than pending and must be taken first.
	if len(r.batches) > 0 || len(r.pending) == 0 {
		return nil, true
	}
	batch := r.pending
	r.pending = make([]*protocol.Message, 0, 16)
	return batch, true
}

// observe masks what a connector says and logs it, as for a process.
func (r *inProcessRun) observe(m *protocol.Message) {
	o := r.p.o
	o.maskMessage(m)
	if m.Type == protocol.TypeLog && m.Log != nil {
		o.logLine(context.Background(), m.Log, r.p.name)
	}
	r.out.observe(m)
}
