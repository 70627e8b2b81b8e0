package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/protocol"
)

// goSource is a small source written in Go, as a kit.Source: read emits
// count records then a state, or misbehaves as told.
type goSource struct {
	count    int
	mode     string // "", "fail", "typed", "trace", "panic", "ignore-cancel", "block", "pause", "long-log"
	returned atomic.Bool
	resume   chan struct{} // "pause": after its state, waits for this before its last record
}

func (s *goSource) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (s *goSource) Check(ctx context.Context, config json.RawMessage) error {
	if strings.Contains(string(config), "bad") {
		return errors.New("the config says bad")
	}
	return nil
}

func (s *goSource) Discover(ctx context.Context, config json.RawMessage) (*protocol.Catalog, error) {
	return &protocol.Catalog{Streams: []protocol.Stream{{Name: "items", JSONSchema: json.RawMessage(`{}`),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}}}}, nil
}

func (s *goSource) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	defer s.returned.Store(true)
	switch s.mode {
	case "panic":
		panic("boom with secret-value-1234")
	case "block":
		<-ctx.Done()
		return ctx.Err()
	case "long-log":
		if err := emit(&protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: protocol.LevelInfo,
			Message: "long log " + strings.Repeat("y", 1<<20)}}); err != nil {
			return err
		}
	}
	for i := 0; i < s.count; i++ {
		if s.mode == "ignore-cancel" && i == 10 {
			time.Sleep(time.Hour) // never looks at ctx
		}
		data := json.RawMessage(fmt.Sprintf(`{"id":%d}`, i))
		if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: data}}); err != nil {
			return err
		}
	}
	switch s.mode {
	case "fail":
		return errors.New("the API said no to secret-value-1234")
	case "typed":
		return fmt.Errorf("reading items: %w", &apiError{status: 403, token: "secret-value-1234"})
	case "trace":
		emit(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{Type: protocol.TraceError,
			Error: &protocol.ErrorTrace{Message: "stream items failed", FailureType: protocol.FailureConfig}}})
		return errors.New("read failed")
	}
	err := emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
		Stream: &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: "items"}, StreamState: json.RawMessage(`{"n":1}`)}}})
	if err != nil || s.mode != "pause" {
		return err
	}
	select { // as a connector waiting on a slow API
	case <-s.resume:
	case <-ctx.Done():
		return ctx.Err()
	}
	return emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: json.RawMessage(`{"id":-1}`)}})
}

var itemsCatalogInProcess = json.RawMessage(`{"streams":[{"stream":{"name":"items","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`)

func inProcess(t *testing.T, c any, rt executor.Runtime) executor.Executor {
	t.Helper()
	ex, err := executor.New("source-go", executor.Method{Kind: executor.KindInProcess, Connector: c}, rt)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// A connector in process that logs 1 MiB in one LOG message: the program's
// logger gets the first 8 KiB, as from a process.
func TestInProcessLongLogReachesTheLoggerCut(t *testing.T) {
	t.Parallel()
	rec := &logRecorder{}
	ex := inProcess(t, &goSource{count: 1, mode: "long-log"}, executor.Runtime{Logger: slog.New(rec)})
	if _, err := collect(ex.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalogInProcess})); err != nil {
		t.Fatal(err)
	}
	checkLoggedCut(t, rec, "long log ")
}

func TestInProcessCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ex := inProcess(t, &goSource{count: 1000}, executor.Runtime{})

	msgs, err := collect(ex.Run(ctx, executor.Invocation{Verb: executor.VerbSpec}))
	if err != nil || len(msgs) != 1 || msgs[0].Spec == nil {
		t.Fatalf("spec: %v %v", msgs, err)
	}
	msgs, err = collect(ex.Run(ctx, executor.Invocation{Verb: executor.VerbCheck, Config: json.RawMessage(`{"x":"bad"}`)}))
	if err != nil || len(msgs) != 1 || msgs[0].ConnectionStatus.Status != protocol.StatusFailed ||
		msgs[0].ConnectionStatus.Message != "the config says bad" {
		t.Fatalf("failed check: %+v %v", msgs, err)
	}
	msgs, err = collect(ex.Run(ctx, executor.Invocation{Verb: executor.VerbDiscover}))
	if err != nil || msgs[0].Catalog == nil || msgs[0].Catalog.Streams[0].Name != "items" {
		t.Fatalf("discover: %v %v", msgs, err)
	}
	before := time.Now().UnixMilli()
	msgs, err = collect(ex.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalogInProcess}))
	after := time.Now().UnixMilli()
	if err != nil || count(msgs, protocol.TypeRecord) != 1000 || count(msgs, protocol.TypeState) != 1 {
		t.Fatalf("read: %d records, %d states, %v", count(msgs, protocol.TypeRecord), count(msgs, protocol.TypeState), err)
	}
	// In order, and the state after every record. The connector set no
	// EmittedAt: each record is stamped when emitted, as kit.Serve stamps
	// it, not left a record of 1970.
	for i, m := range msgs[:1000] {
		if string(m.Record.Data) != fmt.Sprintf(`{"id":%d}`, i) {
			t.Fatalf("record %d is %s", i, m.Record.Data)
		}
		if m.Record.EmittedAt < before || m.Record.EmittedAt > after {
			t.Fatalf("record %d emitted at %d, want %d to %d", i, m.Record.EmittedAt, before, after)
		}
	}
	if msgs[1000].Type != protocol.TypeState {
		t.Fatal("the state is not last")
	}
	// A source has no write command.
	if _, err := collect(ex.Run(ctx, executor.Invocation{Verb: executor.VerbWrite, Catalog: itemsCatalogInProcess, Stdin: strings.NewReader("")})); err == nil ||
		!strings.Contains(err.Error(), "not a destination") {
		t.Fatalf("write on a source: %v", err)
	}
}

func TestInProcessFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mask := func(s string) string { return strings.ReplaceAll(s, "secret-value-1234", "****") }
	for _, c := range []struct {
		mode, want string
		ft         protocol.FailureType
	}{
		{"fail", "the API said no to ****", protocol.FailureSystem},
		{"trace", "stream items failed", protocol.FailureConfig},
		{"panic", "panic: boom with ****", protocol.FailureSystem}, // as kit.Serve reports it
	} {
		ex := inProcess(t, &goSource{count: 3, mode: c.mode}, executor.Runtime{Mask: mask})
		msgs, err := collect(ex.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalogInProcess}))
		ce := asConnectorError(t, err)
		if !strings.HasPrefix(ce.Message, c.want) || ce.FailureType != c.ft || strings.Contains(err.Error(), "secret-value-1234") {
			t.Errorf("%s: got %q (%s), want %q (%s)", c.mode, ce.Message, ce.FailureType, c.want, c.ft)
		}
		if !errors.Is(err, executor.ErrConnectorFailed) {
			t.Errorf("%s: does not match ErrConnectorFailed", c.mode)
		}
		if c.mode != "panic" && count(msgs, protocol.TypeRecord) != 3 {
			t.Errorf("%s: %d records before the failure, want 3", c.mode, count(msgs, protocol.TypeRecord))
		}
	}
}

// apiError is an error type of a connector's own.
type apiError struct {
	status int
	token  string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("the API refused %s with %d", e.token, e.status)
}

// The *ConnectorError of an in-process connector unwraps to the Go error
// its method returned, whose text is masked there too; a TRACE ERROR the
// connector emitted itself keeps the message, and the error still unwraps
// to what the method returned.
func TestInProcessFailureUnwraps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var held atomic.Bool
	held.Store(true)
	mask := func(s string) string {
		if !held.Load() {
			return s
		}
		return strings.ReplaceAll(s, "secret-value-1234", "****")
	}
	ex := inProcess(t, &goSource{count: 1, mode: "typed"}, executor.Runtime{Mask: mask})
	_, err := collect(ex.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalogInProcess}))
	ce := asConnectorError(t, err)
	var ae *apiError
	if !errors.As(err, &ae) || ae.status != 403 || !errors.Is(err, executor.ErrConnectorFailed) {
		t.Fatalf("got %v, want a *ConnectorError unwrapping to the connector's *apiError", err)
	}
	// No process ran: the message tells no exit status, though ExitCode
	// is 1 as kit.Serve's would be.
	if ce.ExitCode != 1 || strings.Contains(ce.Error(), "exit status") {
		t.Errorf("an in-process failure: ExitCode %d, message %q; want 1 and no exit status in it", ce.ExitCode, ce.Error())
	}
	if inner := errors.Unwrap(ce); inner == nil || strings.Contains(inner.Error(), "secret-value-1234") ||
		strings.Contains(ce.Error(), "secret-value-1234") || !strings.Contains(inner.Error(), "refused **** with 403") {
		t.Errorf("the error or what it unwraps to is not masked: %v; %v", ce, inner)
	}
	// The value is no longer masked once the run is over (its
	// Connector's lease released): the error, kept, still masks it.
	held.Store(false)
	if inner := errors.Unwrap(ce); strings.Contains(inner.Error(), "secret-value-1234") || strings.Contains(ce.Error(), "secret-value-1234") {
		t.Errorf("masked only while the value was held: %v; %v", ce, inner)
	}
	held.Store(true)

	ex = inProcess(t, &goSource{count: 1, mode: "trace"}, executor.Runtime{Mask: mask})
	_, err = collect(ex.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalogInProcess}))
	if ce := asConnectorError(t, err); ce.Message != "stream items failed" || errors.Unwrap(ce) == nil || errors.Unwrap(ce).Error() != "read failed" {
		t.Errorf("with its own TRACE ERROR: got %v unwrapping to %v", err, errors.Unwrap(ce))
	}
}

func TestInProcessStops(t *testing.T) {
	t.Parallel()
	// Breaking out of the loop stops the connector: its emit fails and it
	// returns.
	src := &goSource{count: 1_000_000}
	ex := inProcess(t, src, executor.Runtime{})
	n := 0
	for m, err := range ex.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalogInProcess}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == protocol.TypeRecord {
			if n++; n == 10 {
				break
			}
		}
	}
	if !src.returned.Load() {
		t.Fatal("the connector was still running after the loop ended")
	}

	// Cancelling stops a connector waiting on its context.
	ctx, cancel := context.WithCancel(context.Background())
	blocked := &goSource{mode: "block"}
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := collect(inProcess(t, blocked, executor.Runtime{}).Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalogInProcess}))
	if !errors.Is(err, context.Canceled) || !blocked.returned.Load() {
		t.Fatalf("cancelled read: %v (returned %v)", err, blocked.returned.Load())
	}

	// One that ignores its context is left behind after the grace period,
	// with a warning, instead of hanging the caller.
	ctx, cancel = context.WithCancel(context.Background())
	rude := &goSource{count: 100, mode: "ignore-cancel"}
	logs := &logRecorder{}
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = collect(inProcess(t, rude, executor.Runtime{Grace: 100 * time.Millisecond, Logger: slogOf(logs)}).Run(ctx,
		executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalogInProcess}))
	if !errors.Is(err, context.Canceled) || !strings.Contains(logs.text(), "ignored its cancelled context") {
		t.Fatalf("a connector ignoring cancellation: %v; logs %q", err, logs.text())
	}
}

// TestInProcessHandsOverBeforeWaiting: what a connector emitted before it
// waits (on a slow API, a rate limit) reaches the caller while it waits,
// even when the caller was busy as it was emitted; its state is committed
// without waiting for the connector's next record.
func TestInProcessHandsOverBeforeWaiting(t *testing.T) {
	t.Parallel()
	src := &goSource{count: 1000, mode: "pause", resume: make(chan struct{})}
	ex := inProcess(t, src, executor.Runtime{})
	watchdog := time.AfterFunc(10*time.Second, func() { close(src.resume) })
	defer watchdog.Stop()
	records, stateAt := 0, -1
	for m, err := range ex.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalogInProcess}) {
		if err != nil {
			t.Fatal(err)
		}
		switch m.Type {
		case protocol.TypeRecord:
			records++
			if records <= 20 {
				time.Sleep(time.Millisecond) // a busy caller: the connector runs ahead
			}
		case protocol.TypeState:
			stateAt = records
			if !watchdog.Stop() {
				t.Fatal("the state arrived only once the connector emitted again")
			}
			close(src.resume)
		}
	}
	if stateAt != 1000 || records != 1001 {
		t.Fatalf("state after %d records, %d records in all; want 1000 and 1001", stateAt, records)
	}
}

// goDestination echoes each state it is written, with the records before it.
type goDestination struct{}

func (goDestination) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{}`)}, nil
}
func (goDestination) Check(ctx context.Context, config json.RawMessage) error { return nil }
func (goDestination) Write(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	var n float64
	for m, err := range input {
		if err != nil {
			return err
		}
		if m.Type == protocol.TypeRecord {
			n++
		}
		if m.Type == protocol.TypeState {
			c := n
			m.State.DestinationStats = &protocol.StateStats{RecordCount: &c}
			if err := emit(m); err != nil {
				return err
			}
		}
	}
	return nil
}

func TestInProcessDestination(t *testing.T) {
	t.Parallel()
	in := `{"type":"RECORD","record":{"stream":"items","data":{"id":1},"emitted_at":1}}
not json at all
{"type":"RECORD","record":{"stream":"items","data":{"id":2},"emitted_at":1}}
{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"items"},"stream_state":{"n":2}}}}
`
	ex := inProcess(t, goDestination{}, executor.Runtime{})
	msgs, err := collect(ex.Run(context.Background(), executor.Invocation{Verb: executor.VerbWrite, Catalog: itemsCatalogInProcess,
		Stdin: strings.NewReader(in)}))
	if err != nil || len(msgs) != 1 || *msgs[0].State.DestinationStats.RecordCount != 2 {
		t.Fatalf("echo: %+v %v", msgs, err)
	}
	if _, err := collect(ex.Run(context.Background(), executor.Invocation{Verb: executor.VerbDiscover})); err == nil {
		t.Fatal("discover on a destination accepted")
	}
}

func TestMethodValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		m    executor.Method
		want string
	}{
		{executor.Method{}, "has no Kind"},
		{executor.Method{Kind: executor.KindLocal}, "needs the executable's Path"},
		{executor.Method{Kind: executor.KindDocker}, "needs its Image"},
		{executor.Method{Kind: executor.KindInProcess}, "needs its Connector"},
		{executor.Method{Kind: executor.KindLocal, Path: "x", HostNetwork: true, Mounts: []executor.Mount{{HostDir: "a", ContainerDir: "/b"}}},
			"Mounts and HostNetwork do not apply to a connector run as local executable"},
		{executor.Method{Kind: executor.KindDocker, Image: "x:1", Interpreter: "python3"}, "Interpreter does not apply"},
		{executor.Method{Kind: executor.KindInProcess, Connector: goDestination{}, Env: []string{"A=1"}}, "Env does not apply"},
	} {
		_, err := executor.New("x", c.m, executor.Runtime{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: New got %v, want %q", c.m, err, c.want)
		}
	}
	if _, err := executor.New("x", executor.Method{Kind: executor.KindInProcess, Connector: 42}, executor.Runtime{}); err == nil ||
		!strings.Contains(err.Error(), "neither a kit.Source nor a kit.Destination") {
		t.Errorf("a non-connector accepted: %v", err)
	}
}

// stragglerSource leaves a goroutine behind that emits once the run is
// over, as a connector with a leaked worker does.
type stragglerSource struct {
	goSource
	runOver chan struct{}
	emitted chan error
}

func (s *stragglerSource) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	go func() {
		<-s.runOver
		s.emitted <- emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: json.RawMessage(`{"id":1}`)}})
	}()
	return emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: json.RawMessage(`{"id":0}`)}})
}

// A message emitted after the connector's method returned is the
// connector's bug: emit says so, where it used to crash the whole program
// (a send on the closed channel of the finished run).
func TestInProcessEmitAfterReturn(t *testing.T) {
	t.Parallel()
	s := &stragglerSource{runOver: make(chan struct{}), emitted: make(chan error, 1)}
	msgs, err := collect(inProcess(t, s, executor.Runtime{}).Run(context.Background(),
		executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalogInProcess}))
	if err != nil || count(msgs, protocol.TypeRecord) != 1 {
		t.Fatalf("read: %d records, %v", count(msgs, protocol.TypeRecord), err)
	}
	close(s.runOver)
	if err := <-s.emitted; err == nil || !strings.Contains(err.Error(), "returned") {
		t.Fatalf("emit after the run: want an error saying the method returned, got %v", err)
	}
}
