// Package kitcore runs one command of a connector written on package kit.
// It is the one dispatch that kit.Serve and kit.Run (the connector as a
// process, its inputs in files) and the executor's in-process runner (the
// connector as method calls, its inputs in memory) both call, so that a
// connector behaves the same whichever way it runs: the spec asked first
// and a missing one refused, the config validated against it, a failed
// check answered CONNECTION_STATUS FAILED, the catalog parsed by the kit's
// rules, a missing catalog refused, a panic of the connector's method its
// failure, and the failure reported by one TRACE ERROR ([Trace]) unless
// the connector sent one. A read that succeeds ends every stream of its
// catalog the connector did not end itself with a TRACE STREAM_STATUS
// COMPLETE, as the Python CDK does ([Ends]).
//
// What differs between the two ways stays with the caller: where the
// inputs come from ([Command]), and the emit function (kit's encoder on
// stdout, the runner's hand-over to its caller).
package kitcore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/x/goairbyte/internal/specsecret"
	"io"
	"iter"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/x/goairbyte/protocol"
)

// The commands of the Airbyte protocol.
const (
	Spec     = "spec"
	Check    = "check"
	Discover = "discover"
	Read     = "read"
	Write    = "write"
)

// The kit's interfaces, restated: an interface is satisfied by its method
// set, so a kit.Source is a source here, and this package need not import
// kit (which imports it).
type (
	connector interface {
		Spec(ctx context.Context) (*protocol.ConnectorSpecification, error)
		Check(ctx context.Context, config json.RawMessage) error
	}
	source interface {
		connector
		Discover(ctx context.Context, config json.RawMessage) (*protocol.Catalog, error)
		Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
			emit func(*protocol.Message) error) error
	}
	destination interface {
		connector
		Write(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
			input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error
	}
	lineWriter interface {
		WriteLines(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
			input io.Reader, emit func(*protocol.Message) error) error
	}
	checkEmitter interface {
		CheckEmit(ctx context.Context, config json.RawMessage, emit func(*protocol.Message) error) error
	}
)

// Rules are the kit's checks of a command's inputs: kit.ValidateConfig and
// kit.ParseCatalog. Package kit registers them when it is initialised
// (it imports this package, which cannot import it); whoever runs a kit
// connector has imported kit.
type Rules struct {
	ValidateConfig func(spec *protocol.ConnectorSpecification, config json.RawMessage) error
	ParseCatalog   func(raw json.RawMessage) (*protocol.ConfiguredCatalog, error)
}

var rules Rules

// Register sets the rules Run applies; package kit calls it from init.
func Register(r Rules) { rules = r }

// Command is one command to run and where its inputs come from. Each
// function is called at most once, when the command needs that input and
// in the order kit always read them (config, then catalog, then state),
// so that an input that cannot be had fails the same way.
type Command struct {
	// Verb is Spec, Check, Discover, Read or Write.
	Verb string
	// Config returns the raw config (every command but spec).
	Config func() ([]byte, error)
	// Catalog returns the raw configured catalog (read and write).
	Catalog func() ([]byte, error)
	// State returns the raw state of a read; nil means no state.
	State func() ([]byte, error)
	// Stdin is the input of a write; nil is an empty input.
	Stdin io.Reader
	// Ends follows the stream statuses of a read as the caller's emit
	// passes them on; nil adds no ends (every caller of a read sets it).
	Ends *Ends
	// Secrets, when set, is given the values of the config's fields the
	// spec marks airbyte_secret once the config is read, before the
	// connector sees it, so that the caller masks them in what it prints.
	Secrets func(values []string)
}

// ErrNilMessage is what emit returns for a nil message, whichever way the
// connector runs.
var ErrNilMessage = errors.New("kit: emit was given a nil message")

// Run runs cmd on c, a kit.Source or kit.Destination, emitting its answer
// through emit, and returns why it failed. A panic of the connector's
// method on this goroutine is its failure, with the stack (see [Trace]).
// A check's FAILED verdict is not a failure: it is emitted as
// CONNECTION_STATUS, unless the check failed because ctx was cancelled.
func Run(ctx context.Context, c any, cmd Command, emit func(*protocol.Message) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: string(debug.Stack())}
		}
	}()
	src, _ := c.(source)
	dst, _ := c.(destination)
	var conn connector
	switch {
	case src != nil:
		conn = src
	case dst != nil:
		conn = dst
	default:
		return fmt.Errorf("kit: %T is neither a kit.Source nor a kit.Destination", c)
	}
	spec, err := conn.Spec(ctx)
	if err == nil && spec == nil {
		err = errors.New("the connector's Spec returned no specification")
	}
	if err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	if cmd.Verb == Spec {
		return emit(&protocol.Message{Type: protocol.TypeSpec, Spec: spec})
	}
	config, err := cmd.Config()
	if err == nil && cmd.Secrets != nil {
		values, _ := specsecret.Values(config, spec.ConnectionSpecification) // a config that is no JSON object holds none; validation says so
		cmd.Secrets(values)
	}
	if err == nil {
		err = rules.ValidateConfig(spec, config)
	}
	if cmd.Verb == Check {
		return check(ctx, conn, config, err, emit)
	}
	if err != nil {
		return err
	}
	switch {
	case cmd.Verb == Discover && src != nil:
		cat, err := src.Discover(ctx, config)
		if err == nil && cat == nil {
			err = errors.New("the connector's Discover returned no catalog")
		}
		if err != nil {
			return err
		}
		return emit(&protocol.Message{Type: protocol.TypeCatalog, Catalog: cat})
	case cmd.Verb == Read && src != nil:
		cat, err := catalog(cmd)
		if err != nil {
			return err
		}
		var state []byte
		if cmd.State != nil {
			if state, err = cmd.State(); err != nil {
				return err
			}
		}
		if cmd.Ends != nil {
			cmd.Ends.start(cat)
		}
		if err := src.Read(ctx, config, cat, state, emit); err != nil {
			return err
		}
		if ctx.Err() != nil || cmd.Ends == nil {
			// Cancelled: the connector may have stopped early and said
			// nothing, so no stream is known complete.
			return nil
		}
		return cmd.Ends.end(cat, emit)
	case cmd.Verb == Write && dst != nil:
		cat, err := catalog(cmd)
		if err != nil {
			return err
		}
		stdin := cmd.Stdin
		if stdin == nil {
			stdin = strings.NewReader("") // no input: an empty one
		}
		if lw, ok := dst.(lineWriter); ok {
			return lw.WriteLines(ctx, config, cat, stdin, emit)
		}
		return dst.Write(ctx, config, cat, input(ctx, stdin), emit)
	}
	return fmt.Errorf("kit: the connector has no %q command", cmd.Verb) // callers let none through
}

// check answers the check command: CONNECTION_STATUS, FAILED when the
// config is unreadable or invalid (configErr) or the check fails.
func check(ctx context.Context, conn connector, config []byte, configErr error, emit func(*protocol.Message) error) error {
	if configErr != nil && FailureType(configErr) != protocol.FailureConfig {
		return configErr // the spec itself is broken: not the user's config
	}
	err := configErr
	if err == nil {
		if ce, ok := conn.(checkEmitter); ok {
			err = ce.CheckEmit(ctx, config, emit)
		} else {
			err = conn.Check(ctx, config)
		}
		if err != nil && ctx.Err() != nil {
			return err // stopped, not a verdict on the config
		}
	}
	status := &protocol.ConnectionStatus{Status: protocol.StatusSucceeded}
	if err != nil {
		status = &protocol.ConnectionStatus{Status: protocol.StatusFailed, Message: err.Error()}
		if slot := CheckCause(ctx); slot != nil {
			*slot = err // before the verdict goes out: the caller reads it once it has the verdict
		}
	}
	return emit(&protocol.Message{Type: protocol.TypeConnectionStatus, ConnectionStatus: status})
}

// checkCauseKey is the context key of WithCheckCause's slot.
type checkCauseKey struct{}

// WithCheckCause returns ctx with slot, where Run's check stores the error
// behind a FAILED verdict (the config's or the connector's Check's) before
// it emits the verdict, whose message holds only its text. The caller of
// an in-process check reads it once it has the verdict, so that the error
// it returns unwraps to the connector's own.
func WithCheckCause(ctx context.Context, slot *error) context.Context {
	return context.WithValue(ctx, checkCauseKey{}, slot)
}

// CheckCause returns the slot WithCheckCause put in ctx, nil when none.
func CheckCause(ctx context.Context) *error {
	slot, _ := ctx.Value(checkCauseKey{}).(*error)
	return slot
}

func catalog(cmd Command) (*protocol.ConfiguredCatalog, error) {
	raw, err := cmd.Catalog()
	if err != nil {
		return nil, err
	}
	return rules.ParseCatalog(raw)
}

// input decodes r into messages for a destination's Write. Lines that are
// not protocol messages come as messages with Unparsed set. When ctx is
// cancelled the sequence ends with an error wrapping its cause (checked
// between messages). It can be ranged over once.
func input(ctx context.Context, r io.Reader) iter.Seq2[*protocol.Message, error] {
	used := false
	return func(yield func(*protocol.Message, error) bool) {
		if used {
			yield(nil, errors.New("kit: the input of a write can be read only once"))
			return
		}
		used = true
		dec := protocol.NewDecoder(r)
		done := ctx.Done()
		for {
			select {
			case <-done:
				yield(nil, fmt.Errorf("input stopped: %w", context.Cause(ctx)))
				return
			default:
			}
			m, err := dec.Decode()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(nil, fmt.Errorf("reading stdin: %w", err))
				return
			}
			if !yield(m, nil) {
				return
			}
		}
	}
}

// panicError is a panic of the connector's method, recovered so that it is
// reported like any failure (as the Python CDK reports an uncaught
// exception), with the stack.
type panicError struct {
	value any
	stack string
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// Stack is the stack of the panic err reports, "" when err is no panic.
func Stack(err error) string {
	var pe *panicError
	if errors.As(err, &pe) {
		return pe.stack
	}
	return ""
}

// failureTyper is what an error implements to choose the failure_type of
// the TRACE ERROR that reports it. It is matched structurally, so a package
// that does not import kit (the declarative engine) can classify its own
// errors.
type failureTyper interface {
	FailureType() protocol.FailureType
}

// FailureType is kit.FailureType: the FailureType() of the first error in
// err's chain that has one, system_error when none has.
func FailureType(err error) protocol.FailureType {
	var ft failureTyper
	if errors.As(err, &ft) {
		if t := ft.FailureType(); t != "" {
			return t
		}
	}
	return protocol.FailureSystem
}

// Trace is the TRACE ERROR that reports err, the failure Run returned: its
// message, its failure type and, for a panic, the stack. A caller emits
// it unless the connector emitted a TRACE ERROR itself.
func Trace(err error) *protocol.Message {
	return &protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{
		Type: protocol.TraceError, EmittedAt: float64(time.Now().UnixMilli()),
		Error: &protocol.ErrorTrace{Message: err.Error(), FailureType: FailureType(err), StackTrace: Stack(err)},
	}}
}

// IsTraceError reports whether m is a TRACE ERROR: once the connector sent
// one, the failure is not reported again.
func IsTraceError(m *protocol.Message) bool {
	return m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.Type == protocol.TraceError
}

// Ends follows which streams a read's connector ended itself: the TRACE
// STREAM_STATUS COMPLETE and INCOMPLETE it emitted. The caller shows it
// the TRACE messages that its emit passes on (kit's encoder, the
// in-process runner's hand-over), inside that emit: a wrapper around emit
// would hide kit's encoder from kit.EmitCopies. When the connector's Read
// returns nil, Run ends each stream of the catalog it did not end with a
// COMPLETE, through emit, after the connector's last message: the Python
// CDK ends every stream of a successful read, and a runner (goairbyte's
// cache among them) takes a stream whose end it was not told, an empty
// full-refresh stream above all, for one cut short.
//
// A Read that fails gets no ends: the failure (its TRACE ERROR, exit code
// 1) already tells a runner that every stream it had not seen ended may be
// partial, and goairbyte's reader then keeps every table it would replace
// whatever the statuses; an INCOMPLETE for the streams that were STARTED,
// as the CDK sends, would tell it nothing more. Nor does a Read that
// returns nil after the connector emitted a TRACE ERROR: goairbyte's
// executors, as other runners, take that read for failed whatever the exit
// code, and the CDK never sends an error without failing.
//
// The zero value is ready; its methods are safe for concurrent use (a
// connector may leave a goroutine emitting).
type Ends struct {
	mu sync.Mutex
	// ended are the streams the connector ended: a status without a
	// namespace ends the streams of its name in every namespace (a
	// connector that leaves the namespace out of its statuses is common),
	// one with a namespace that stream only.
	ended map[protocol.StreamDescriptor]bool
	// failed: a TRACE ERROR went out.
	failed bool
	// namespaces are the namespaces of each stream name of the read's
	// catalog, for Resolve.
	namespaces map[string][]string
}

// start takes the read's catalog.
func (e *Ends) start(cat *protocol.ConfiguredCatalog) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.namespaces = map[string][]string{}
	for _, cs := range cat.Streams {
		e.namespaces[cs.Stream.Name] = append(e.namespaces[cs.Stream.Name], cs.Stream.Namespace)
	}
}

// Resolve returns m, or, when m is a STREAM_STATUS that leaves out the
// namespace of the one configured stream of its name, a copy naming that
// namespace. The Airbyte platform fails
// a sync on a COMPLETE for a stream not in its catalog, matched by name and
// namespace (airbyte-platform, StreamStatusCompletionTracker.track: "A
// stream status has been detected for a stream not present in the
// catalog"), and connectors often leave the namespace out of their
// statuses. A caller whose statuses go to such a runner (kit's encoder)
// calls it before it encodes m.
func (e *Ends) Resolve(m *protocol.Message) *protocol.Message {
	if m.Type != protocol.TypeTrace || m.Trace == nil || m.Trace.StreamStatus == nil {
		return m
	}
	d := m.Trace.StreamStatus.StreamDescriptor
	e.mu.Lock()
	nss, ok := e.namespaces[d.Name]
	e.mu.Unlock()
	if d.Namespace != "" || !ok || len(nss) != 1 || nss[0] == "" {
		return m
	}
	c, t, st := *m, *m.Trace, *m.Trace.StreamStatus
	st.StreamDescriptor.Namespace = nss[0]
	t.StreamStatus = &st
	c.Trace = &t
	return &c
}

// Observe notes m if it is a STREAM_STATUS COMPLETE or INCOMPLETE, as
// goairbyte's reader takes a status (a TRACE with a stream status), or a
// TRACE ERROR. The caller need show it only the TRACE messages it emits,
// after they were accepted (encoded, queued).
func (e *Ends) Observe(m *protocol.Message) {
	if IsTraceError(m) {
		e.mu.Lock()
		e.failed = true
		e.mu.Unlock()
		return
	}
	if m.Type != protocol.TypeTrace || m.Trace == nil || m.Trace.StreamStatus == nil {
		return
	}
	st := m.Trace.StreamStatus
	if st.Status != protocol.StatusComplete && st.Status != protocol.StatusIncomplete {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ended == nil {
		e.ended = map[protocol.StreamDescriptor]bool{}
	}
	e.ended[st.StreamDescriptor] = true
}

// endedLocked reports whether the connector ended stream d.
func (e *Ends) endedLocked(d protocol.StreamDescriptor) bool {
	return e.ended[d] || e.ended[protocol.StreamDescriptor{Name: d.Name}]
}

// end emits a STREAM_STATUS COMPLETE for each stream of cat that the
// connector did not end, once each, in catalog order, unless it emitted a
// TRACE ERROR.
func (e *Ends) end(cat *protocol.ConfiguredCatalog, emit func(*protocol.Message) error) error {
	var open []protocol.StreamDescriptor
	listed := make(map[protocol.StreamDescriptor]bool, len(cat.Streams))
	e.mu.Lock()
	for _, cs := range cat.Streams {
		if e.failed {
			break
		}
		d := protocol.StreamDescriptor{Name: cs.Stream.Name, Namespace: cs.Stream.Namespace}
		if !e.endedLocked(d) && !listed[d] {
			listed[d] = true
			open = append(open, d)
		}
	}
	e.mu.Unlock()
	for _, d := range open {
		if err := emit(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{
			Type: protocol.TraceStreamStatus, EmittedAt: float64(time.Now().UnixMilli()),
			StreamStatus: &protocol.StreamStatusTrace{StreamDescriptor: d, Status: protocol.StatusComplete},
		}}); err != nil {
			return err
		}
	}
	return nil
}
