package kit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/protocoltest"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// testSpec has a required integer, an optional object and a secret with a
// pattern.
const testSpec = `{"type":"object","required":["count"],"properties":{
	"count":{"type":"integer","minimum":1},
	"pin":{"type":"integer","maximum":9999,"airbyte_secret":true},
	"credentials":{"type":"object","oneOf":[{"properties":{"token":{"type":"string","minLength":8,"airbyte_secret":true}}}]},
	"password":{"type":"string","airbyte_secret":true,"pattern":"^[a-z]+$"},
	"nested":{"type":"object","required":["inner"],"properties":{"inner":{"type":"string"}}}}}`

// source is a test kit.Source: its read emits config "count" records of
// stream "items", then behaves as its fields say.
type source struct {
	readErr    error // returned by Read after the records
	emitTrace  bool  // emit a TRACE ERROR before returning readErr
	waitCancel bool  // after the records, wait for the context
	block      bool  // after the records, block forever
	panics     bool  // after the records, panic
	checkErr   error
	copies     *bool // set to EmitCopies(emit)
}

func (*source) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(compact(testSpec))}, nil
}

func (s *source) Check(context.Context, json.RawMessage) error { return s.checkErr }

func (*source) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	return &protocol.Catalog{Streams: []protocol.Stream{{Name: "items", JSONSchema: json.RawMessage(`{"type":"object"}`),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}}}}, nil
}

func (s *source) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	var c struct{ Count int }
	if err := json.Unmarshal(config, &c); err != nil {
		return err
	}
	if s.copies != nil {
		*s.copies = kit.EmitCopies(emit)
	}
	for i := range c.Count {
		if err := emit(record(i)); err != nil {
			return err
		}
	}
	if len(state) > 0 {
		if err := emit(&protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: protocol.LevelInfo, Message: "state " + string(state)}}); err != nil {
			return err
		}
	}
	if s.emitTrace {
		_ = emit(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{Type: protocol.TraceError, EmittedAt: 1,
			Error: &protocol.ErrorTrace{Message: "told by the connector", FailureType: protocol.FailureTransient}}})
	}
	if s.waitCancel {
		<-ctx.Done()
		return fmt.Errorf("read stopped: %w", context.Cause(ctx))
	}
	if s.block {
		select {}
	}
	if s.panics {
		var m map[string]int
		m["boom"]++
	}
	return s.readErr
}

func record(i int) *protocol.Message {
	return &protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: fmt.Appendf(nil, `{"id":%d}`, i), EmittedAt: 1700000000000}}
}

func compact(s string) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// destination is a test kit.Destination: its write echoes every STATE,
// logs every line that is not a protocol message, and counts records.
type destination struct{}

func (destination) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (destination) Check(context.Context, json.RawMessage) error { return nil }

func (destination) Write(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	n := 0
	for m, err := range input {
		if err != nil {
			return err
		}
		switch {
		case m.Unparsed != nil:
			err = emit(&protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: protocol.LevelWarn, Message: "unparsed: " + string(m.Unparsed)}})
		case m.Type == protocol.TypeRecord:
			n++
		case m.Type == protocol.TypeState:
			err = emit(m)
		}
		if err != nil {
			return err
		}
	}
	return emit(&protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: protocol.LevelInfo, Message: fmt.Sprintf("%d records", n)}})
}

// tracingDestination reports a failure with a TRACE ERROR of its own and
// returns nil.
type tracingDestination struct{ destination }

func (tracingDestination) Write(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	for range input {
	}
	return emit(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{Type: protocol.TraceError,
		Error: &protocol.ErrorTrace{Message: "the warehouse refused the load", FailureType: protocol.FailureSystem}}})
}

// both is a source and a destination.
type both struct {
	source
	destination
}

func (b *both) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	return b.source.Spec(ctx)
}
func (b *both) Check(ctx context.Context, c json.RawMessage) error { return b.source.Check(ctx, c) }

// result is one Run.
type result struct {
	code   int
	msgs   []*protocol.Message
	lines  []string
	stderr string
}

func (r result) of(typ protocol.Type) []*protocol.Message {
	var out []*protocol.Message
	for _, m := range r.msgs {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// run runs c with kit.Run; every stdout line must be a valid protocol
// message.
func run(t *testing.T, c any, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	r := result{code: kit.Run(context.Background(), c, args, strings.NewReader(stdin), &stdout, &stderr), stderr: stderr.String()}
	parse(t, &r, stdout.Bytes())
	return r
}

func parse(t *testing.T, r *result, out []byte) {
	t.Helper()
	for line := range bytes.Lines(out) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		if err := protocoltest.ValidateMessage(line); err != nil {
			t.Fatalf("stdout line is not a valid protocol message: %v\n%s", err, line)
		}
		r.lines = append(r.lines, string(line))
		r.msgs = append(r.msgs, protocol.ParseMessage(line))
	}
}

// file writes content to a new file and returns its path.
func file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const itemsCatalog = `{"streams":[{"stream":{"name":"items","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`

func TestCommandLine(t *testing.T) {
	t.Parallel()
	cfg, cat := file(t, "config.json", `{"count":3}`), file(t, "catalog.json", itemsCatalog)
	state := file(t, "state", `[]`) // any readable path will do
	for _, args := range [][]string{
		{"read", "--config", cfg, "--catalog", cat},
		{"read", "--catalog", cat, "--config", cfg},
		{"--config=" + cfg, "read", "--catalog=" + cat},
		{"read", "--config", cfg, "--catalog", cat, "--state", state},
		{"read", "--debug", "--config", cfg, "--catalog", cat}, // the Python CDK's --debug
	} {
		r := run(t, &source{}, "", args...)
		if r.code != 0 || len(r.of(protocol.TypeRecord)) != 3 {
			t.Errorf("%q: exit %d, %d records, stderr %q", args, r.code, len(r.of(protocol.TypeRecord)), r.stderr)
		}
	}
	r := run(t, &source{}, "", "read", "--config", cfg, "--catalog", cat, "--state", state)
	if logs := r.of(protocol.TypeLog); len(logs) != 1 || logs[0].Log.Message != "state []" {
		t.Errorf("the state file did not reach Read as it is: %q", r.lines)
	}

	for _, tc := range []struct {
		c    any
		args []string
		want string
	}{
		{&source{}, nil, "no command given"},
		{&source{}, []string{"write", "--config", cfg, "--catalog", cat}, `unknown command "write"`},
		{destination{}, []string{"read", "--config", cfg, "--catalog", cat}, `unknown command "read"`},
		{&source{}, []string{"check"}, "check needs --config"},
		{&source{}, []string{"read", "--config", cfg}, "read needs --catalog"},
		{&source{}, []string{"read", "--config"}, "--config needs a file name"},
		{&source{}, []string{"check", "--config="}, "--config needs a file name"},
		{&source{}, []string{"spec", "--verbose"}, `unknown argument "--verbose"`},
		{&source{}, []string{"spec", "--debug=yes"}, `unknown argument "--debug=yes"`},
		{&source{}, []string{"check", "--config", cfg, "--config", cfg}, "--config given twice"},
		{&source{}, []string{"check", "discover", "--config", cfg}, `unexpected argument "discover"`},
	} {
		r := run(t, tc.c, "", tc.args...)
		if r.code != 2 || len(r.msgs) != 0 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "usage: ") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2, nothing on stdout, %q and the usage", tc.args, r.code, r.lines, r.stderr, tc.want)
		}
		// The reason comes last, after the usage, as Python's argparse
		// writes it: a runner quotes a failed connector's last stderr line
		// (goairbyte's quoted the last line of the usage instead).
		lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
		if last := lines[len(lines)-1]; !strings.Contains(last, tc.want) {
			t.Errorf("%q: the last line of stderr is %q, want the reason %q", tc.args, last, tc.want)
		}
	}

	// The usage text lists the commands of the connector's kind.
	usage := func(c any) string { return run(t, c, "", "--help").stderr }
	src, dst, all := usage(&source{}), usage(destination{}), usage(&both{})
	if !strings.Contains(src, "source read --config CONFIG.json --catalog CATALOG.json [--state STATE.json]") || strings.Contains(src, "write") {
		t.Errorf("source usage:\n%s", src)
	}
	if !strings.Contains(dst, "destination write --config") || strings.Contains(dst, "discover") || strings.Contains(dst, "read") {
		t.Errorf("destination usage:\n%s", dst)
	}
	for _, c := range []string{"spec", "check", "discover", "read", "write"} {
		if !strings.Contains(all, "connector "+c) {
			t.Errorf("usage of a source and destination lacks %s:\n%s", c, all)
		}
	}
	if r := run(t, &source{}, "", "help"); r.code != 0 || len(r.msgs) != 0 {
		t.Errorf("help: exit %d, stdout %q", r.code, r.lines)
	}
}

func TestNotAConnector(t *testing.T) {
	t.Parallel()
	r := run(t, struct{}{}, "", "spec")
	if r.code != 1 || !strings.Contains(r.stderr, "neither a kit.Source") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// stateSlice is a source whose Read takes the state parsed
// ([]protocol.State) where kit.Source takes it raw: kit.Serve takes any
// value, so only the run can tell, and it said only "neither a kit.Source
// nor a kit.Destination".
type stateSlice struct{ source }

func (*stateSlice) Read(context.Context, json.RawMessage, *protocol.ConfiguredCatalog, []protocol.State,
	func(*protocol.Message) error) error {
	return nil
}

// TestNotAConnectorSaysWhy: a value that comes close to a kit.Source or a
// kit.Destination is told which method is off and what it should be, or that
// a pointer to it is one.
func TestNotAConnectorSaysWhy(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		conn any
		want []string
	}{
		{&stateSlice{}, []string{"as a kit.Source, its Read is (context.Context, json.RawMessage, *protocol.ConfiguredCatalog, []protocol.State,",
			"where kit.Source's is (context.Context, json.RawMessage, *protocol.ConfiguredCatalog, json.RawMessage, "}},
		{source{}, []string{"its methods have pointer receivers, so *kit_test.source is a kit.Source: pass a pointer (&kit_test.source{})"}},
		{struct{}{}, []string{"it has no method Spec (context.Context) (*protocol.ConnectorSpecification, error)"}},
	} {
		r := run(t, c.conn, "", "spec")
		for _, want := range c.want {
			if r.code != 1 || !strings.Contains(r.stderr, want) {
				t.Errorf("%T: exit %d, stderr %q, want it to say %q", c.conn, r.code, r.stderr, want)
			}
		}
	}
}

func TestSpecAndDiscover(t *testing.T) {
	t.Parallel()
	r := run(t, &source{}, "", "spec")
	if r.code != 0 || len(r.msgs) != 1 || r.msgs[0].Type != protocol.TypeSpec || !bytes.Equal(r.msgs[0].Spec.ConnectionSpecification, compact(testSpec)) {
		t.Errorf("spec: exit %d, %q", r.code, r.lines)
	}
	r = run(t, &source{}, "", "discover", "--config", file(t, "c.json", `{"count":1}`))
	if r.code != 0 || len(r.msgs) != 1 || r.msgs[0].Catalog == nil || r.msgs[0].Catalog.Streams[0].Name != "items" {
		t.Errorf("discover: exit %d, %q", r.code, r.lines)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	const secret = "Not-Lower-Case-Secret"
	for _, tc := range []struct {
		name     string
		c        *source
		config   string
		ok       bool
		want     []string
		notInMsg string
	}{
		{"valid", &source{}, `{"count":1}`, true, nil, ""},
		{"check fails", &source{checkErr: errors.New("cannot reach the API")}, `{"count":1}`, false, []string{"cannot reach the API"}, ""},
		{"missing field", &source{}, `{}`, false, []string{`field "count": is required`, "run `spec`"}, ""},
		{"below minimum", &source{}, `{"count":0}`, false, []string{`field "count": minimum: got 0, want 1`}, ""},
		{"nested", &source{}, `{"count":1,"nested":{}}`, false, []string{`field "nested.inner": is required`}, ""},
		{"two fields", &source{}, `{"count":"x","nested":{"inner":1}}`, false, []string{`field "count": got string, want integer`, `field "nested.inner": got number, want string`}, ""},
		{"secret never quoted", &source{}, `{"count":1,"password":"` + secret + `"}`, false, []string{`field "password": the secret value does not satisfy "pattern" (value hidden)`}, secret},
		{"secret number never quoted", &source{}, `{"count":1,"pin":123456}`, false, []string{`field "pin": the secret value does not satisfy "maximum"`}, "123456"},
		{"secret in a oneOf", &source{}, `{"count":1,"credentials":{"token":"short"}}`, false, []string{`field "credentials.token": the secret value does not satisfy "minLength"`}, "got 5"},
		{"not JSON", &source{}, `{"count":`, false, []string{"the config is not valid JSON"}, ""},
		{"not an object", &source{}, `[1]`, false, []string{"the config must be a JSON object"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.c, "", "check", "--config", file(t, "config.json", tc.config))
			if r.code != 0 || len(r.msgs) != 1 || r.msgs[0].ConnectionStatus == nil {
				t.Fatalf("exit %d, %q: want exit 0 and one CONNECTION_STATUS", r.code, r.lines)
			}
			st := r.msgs[0].ConnectionStatus
			if (st.Status == protocol.StatusSucceeded) != tc.ok {
				t.Fatalf("status %s %q, want ok=%t", st.Status, st.Message, tc.ok)
			}
			for _, w := range tc.want {
				if !strings.Contains(st.Message, w) {
					t.Errorf("message %q lacks %q", st.Message, w)
				}
			}
			if tc.notInMsg != "" && strings.Contains(strings.Join(r.lines, "")+r.stderr, tc.notInMsg) {
				t.Errorf("the secret value is in the output: %q", r.lines)
			}
		})
	}
	r := run(t, &source{}, "", "check", "--config", filepath.Join(t.TempDir(), "missing.json"))
	if r.code != 0 || r.msgs[0].ConnectionStatus.Status != protocol.StatusFailed || !strings.Contains(r.msgs[0].ConnectionStatus.Message, "cannot read the config file") {
		t.Errorf("missing config file: exit %d, %q", r.code, r.lines)
	}
}

// ctxCheck is a source whose check fails with its context's error, as a
// check stopped by SIGTERM in the middle of a call does.
type ctxCheck struct{ source }

func (ctxCheck) Check(ctx context.Context, _ json.RawMessage) error { return ctx.Err() }

// A check stopped by its context has not judged the config: it is a
// failure (TRACE ERROR, exit 1), not CONNECTION_STATUS FAILED, the
// in-process runner's answer too.
func TestCheckCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	r := result{code: kit.Run(ctx, &ctxCheck{}, []string{"check", "--config", file(t, "config.json", `{"count":1}`)},
		strings.NewReader(""), &stdout, &stderr)}
	parse(t, &r, stdout.Bytes())
	if r.code != 1 || len(r.of(protocol.TypeConnectionStatus)) != 0 || len(r.of(protocol.TypeTrace)) != 1 {
		t.Fatalf("exit %d, %q: want exit 1 and a TRACE ERROR, no CONNECTION_STATUS", r.code, r.lines)
	}
}

// transientError classifies itself, as a package that does not import kit
// would.
type transientError struct{}

func (transientError) Error() string                     { return "the API is down for maintenance" }
func (transientError) FailureType() protocol.FailureType { return protocol.FailureTransient }

func TestFailures(t *testing.T) {
	t.Parallel()
	good, cat := file(t, "c.json", `{"count":2}`), file(t, "k.json", itemsCatalog)
	read := []string{"read", "--config", good, "--catalog", cat}
	for _, tc := range []struct {
		name     string
		c        any
		args     []string
		records  int
		failure  protocol.FailureType
		inMsg    string
		traceMsg int // TRACE ERRORs expected
	}{
		{"system error", &source{readErr: errors.New("boom")}, read, 2, protocol.FailureSystem, "boom", 1},
		{"config error", &source{readErr: kit.ConfigError(errors.New("the start date is in the future"))}, read, 2, protocol.FailureConfig, "start date", 1},
		{"wrapped failure type", &source{readErr: fmt.Errorf("fetching: %w", transientError{})}, read, 2, protocol.FailureTransient, "maintenance", 1},
		{"connector's own trace", &source{emitTrace: true, readErr: errors.New("boom")}, read, 2, protocol.FailureTransient, "told by the connector", 1},
		// A read whose connector reported an error and returned nil exits
		// 1, as the Python CDK's does.
		{"connector's own trace, Read returns nil", &source{emitTrace: true}, read, 2, protocol.FailureTransient, "told by the connector", 1},
		{"invalid config on discover", &source{}, []string{"discover", "--config", file(t, "bad.json", `{"count":0}`)}, 0, protocol.FailureConfig, `field "count"`, 1},
		{"invalid config on read", &source{}, []string{"read", "--config", file(t, "bad.json", `{}`), "--catalog", cat}, 0, protocol.FailureConfig, `field "count"`, 1},
		{"catalog not an object", &source{}, []string{"read", "--config", good, "--catalog", file(t, "k.json", `[]`)}, 0, protocol.FailureConfig, "invalid configured catalog", 1},
		{"catalog unreadable", &source{}, []string{"read", "--config", good, "--catalog", filepath.Join(t.TempDir(), "none")}, 0, protocol.FailureConfig, "cannot read the catalog file", 1},
		{"state unreadable", &source{}, []string{"read", "--config", good, "--catalog", cat, "--state", filepath.Join(t.TempDir(), "none")}, 0, protocol.FailureConfig, "cannot read the state file", 1},
		{"panic", &source{panics: true}, read, 2, protocol.FailureSystem, "panic: assignment to entry in nil map", 1},
		{"stream without a name", &source{}, []string{"read", "--config", good, "--catalog", file(t, "k.json", `{"streams":[{"stream":{}}]}`)}, 0, protocol.FailureConfig, "has no stream name", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.c, "", tc.args...)
			traces := r.of(protocol.TypeTrace)
			if r.code != 1 || len(traces) != tc.traceMsg || len(r.of(protocol.TypeRecord)) != tc.records {
				t.Fatalf("exit %d, %q: want 1, %d records and %d TRACE ERROR", r.code, r.lines, tc.records, tc.traceMsg)
			}
			e := traces[0].Trace.Error
			if e.FailureType != tc.failure || !strings.Contains(e.Message, tc.inMsg) {
				t.Errorf("trace %s %q, want %s mentioning %q", e.FailureType, e.Message, tc.failure, tc.inMsg)
			}
			if e.FailureType == protocol.FailureSystem && strings.HasPrefix(e.Message, "panic") {
				if !strings.Contains(e.StackTrace, "kit_test.(*source).Read") || !strings.Contains(r.stderr, "kit_test.(*source).Read") {
					t.Errorf("no stack of the panic in the trace or on stderr: %q", e.StackTrace)
				}
			} else if r.stderr == "" || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line", r.stderr)
			}
		})
	}
}

// failingWriter accepts n bytes, then fails.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("broken pipe")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestStdoutGone(t *testing.T) {
	t.Parallel()
	args := []string{"read", "--config", file(t, "c.json", `{"count":10000000}`), "--catalog", file(t, "k.json", itemsCatalog)}
	var stderr bytes.Buffer
	code := kit.Run(context.Background(), &source{}, args, nil, &failingWriter{n: 1 << 20}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "broken pipe") {
		t.Errorf("exit %d, stderr %q; want 1 and the write error", code, stderr.String())
	}
}

func TestEmitCopies(t *testing.T) {
	t.Parallel()
	var copies bool
	r := run(t, &source{copies: &copies}, "", "read", "--config", file(t, "c.json", `{"count":1}`), "--catalog", file(t, "k.json", itemsCatalog))
	if r.code != 0 || !copies {
		t.Errorf("Run's emit: EmitCopies %t (exit %d)", copies, r.code)
	}
	keep := func(*protocol.Message) error { return nil }
	if kit.EmitCopies(keep) || kit.EmitCopies(nil) {
		t.Error("EmitCopies is true for an emit that is not the kit's")
	}
	cat, _ := kit.ParseCatalog([]byte(itemsCatalog))
	if err := (&source{copies: &copies}).Read(context.Background(), []byte(`{"count":1}`), cat, nil, keep); err != nil || copies {
		t.Errorf("in process: EmitCopies %t, %v", copies, err)
	}
}

func TestWrite(t *testing.T) {
	t.Parallel()
	in := `{"type":"RECORD","record":{"stream":"items","data":{"id":1},"emitted_at":1}}` + "\n" +
		"not a message\n" +
		`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"items"},"stream_state":{"c": 1}}}}` + "\n" +
		`{"type":"RECORD","record":{"stream":"items","data":{"id":2},"emitted_at":1}}` + "\n"
	args := []string{"write", "--catalog", file(t, "k.json", itemsCatalog), "--config", file(t, "c.json", `{}`), "--state", "ignored.json"}
	r := run(t, destination{}, in, args...)
	want := []string{
		`{"type":"LOG","log":{"level":"WARN","message":"unparsed: not a message"}}`,
		`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"items"},"stream_state":{"c": 1}}}}`,
		`{"type":"LOG","log":{"level":"INFO","message":"2 records"}}`,
	}
	if r.code != 0 || !slices.Equal(r.lines, want) {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s", r.code, strings.Join(r.lines, "\n"), strings.Join(want, "\n"))
	}
	// A destination that reports its own error and returns nil exits 1,
	// as Airbyte's destination CDKs do: a runner going by the exit code
	// would take the write for a success.
	r = run(t, tracingDestination{}, in, args...)
	if r.code != 1 || len(r.of(protocol.TypeTrace)) != 1 || !strings.Contains(r.stderr, "the write reported an error") {
		t.Errorf("a destination's own TRACE ERROR: exit %d, stderr %q, stdout:\n%s\nwant exit 1 and its one trace", r.code, r.stderr, strings.Join(r.lines, "\n"))
	}
	// A cancelled write: the input ends with the cancellation.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := kit.Run(ctx, destination{}, args, strings.NewReader(in), &stdout, &stderr)
	if code != 1 || !strings.Contains(stdout.String(), "input stopped: context canceled") {
		t.Errorf("cancelled write: exit %d, stdout %q", code, stdout.String())
	}
	// No stdin at all is an empty input.
	if code := kit.Run(context.Background(), destination{}, args, nil, &stdout, &stderr); code != 0 {
		t.Errorf("write with no stdin: exit %d", code)
	}
}

// A source and destination in one value answers every command.
func TestBoth(t *testing.T) {
	t.Parallel()
	cfg, cat := file(t, "c.json", `{"count":2}`), file(t, "k.json", itemsCatalog)
	if r := run(t, &both{}, "", "read", "--config", cfg, "--catalog", cat); r.code != 0 || len(r.of(protocol.TypeRecord)) != 2 {
		t.Errorf("read: exit %d, %q", r.code, r.lines)
	}
	if r := run(t, &both{}, "", "write", "--config", cfg, "--catalog", cat); r.code != 0 || len(r.of(protocol.TypeLog)) != 1 {
		t.Errorf("write: exit %d, %q", r.code, r.lines)
	}
}

// TestMain serves the test source as a process when KIT_TEST_SERVE says
// how: the signal tests run this test binary as a connector.
func TestMain(m *testing.M) {
	switch os.Getenv("KIT_TEST_SERVE") {
	case "":
		os.Exit(m.Run())
	case "wait":
		kit.Serve(&source{waitCancel: true})
	case "block":
		kit.Serve(&source{block: true})
	case "plain":
		kit.Serve(&source{})
	case "fanout":
		kit.Serve(&fanout{})
	}
}

// serve starts this test binary as a connector served by kit.Serve and
// returns it once its first stdout line (a record) is out: it is then in
// Read, blocked or waiting.
func serve(t *testing.T, mode string) (*exec.Cmd, *bufio.Reader, *bytes.Buffer) {
	t.Helper()
	cmd, out, stderr, _ := serveCount(t, mode, 1)
	return cmd, out, stderr
}

// serveCount is serve with the count of records in the config; it also
// returns the stdout pipe, for a test to close.
func serveCount(t *testing.T, mode string, count int) (*exec.Cmd, *bufio.Reader, *bytes.Buffer, io.ReadCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "read", "--config", file(t, "c.json", fmt.Sprintf(`{"count":%d}`, count)), "--catalog", file(t, "k.json", itemsCatalog))
	cmd.Env = append(os.Environ(), "KIT_TEST_SERVE="+mode)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	br := bufio.NewReader(stdout)
	// The record is out although the buffer is far from full and Read has
	// not returned: the timed flush.
	line, err := br.ReadBytes('\n')
	if err != nil || !bytes.Contains(line, []byte(`"RECORD"`)) {
		t.Fatalf("first line %q, %v (stderr %q)", line, err, stderr.String())
	}
	return cmd, br, &stderr, stdout
}

func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatal("the connector did not exit")
		return -1
	}
}

// SIGTERM cancels the context: a connector that returns gets its failure
// reported and exits 1.
func TestServeSignalCancels(t *testing.T) {
	t.Parallel()
	cmd, out, stderr := serve(t, "wait")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(out)
	if code := exitCode(t, cmd); code != 1 {
		t.Fatalf("exit %d, want 1 (stderr %q)", code, stderr.String())
	}
	var r result
	parse(t, &r, rest)
	if len(r.msgs) != 1 || r.msgs[0].Trace == nil || !strings.Contains(r.msgs[0].Trace.Error.Message, "received terminated: context canceled") {
		t.Errorf("after SIGTERM: %q", r.lines)
	}
}

// A runner that stops reading (closes its end of stdout) makes emit fail
// with EPIPE: the connector returns, says so on stderr and exits 1, as
// TestStdoutGone shows for Run, instead of being killed by SIGPIPE in the
// middle of whatever it was doing.
func TestServeStdoutClosed(t *testing.T) {
	t.Parallel()
	cmd, _, stderr, stdout := serveCount(t, "plain", 100_000_000)
	stdout.Close()
	if code := exitCode(t, cmd); code != 1 {
		t.Fatalf("exit %d, want 1 (stderr %q)", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "broken pipe") {
		t.Errorf("stderr %q does not say that stdout is gone", stderr.String())
	}
}

// A connector that does not return is ended at the second signal (or the
// grace period), with exit code 128+signal.
func TestServeSecondSignalEnds(t *testing.T) {
	t.Parallel()
	cmd, _, stderr := serve(t, "block")
	for range 2 {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := exitCode(t, cmd); code != 128+int(syscall.SIGTERM) {
		t.Fatalf("exit %d, want %d (stderr %q)", code, 128+int(syscall.SIGTERM), stderr.String())
	}
	if !strings.Contains(stderr.String(), "still running after terminated") {
		t.Errorf("stderr %q", stderr.String())
	}
}

// lineWriter is a destination that reads its input as lines (a
// kit.LineWriter): it echoes the number of bytes it read.
type lineWriter struct{ destination }

func (lineWriter) WriteLines(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input io.Reader, emit func(*protocol.Message) error) error {
	b, err := io.ReadAll(input)
	if err != nil {
		return err
	}
	return emit(&protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: protocol.LevelInfo, Message: fmt.Sprintf("%d bytes", len(b))}})
}

// TestLineWriter: a LineWriter gets the raw input, not Write's decoded one.
func TestLineWriter(t *testing.T) {
	t.Parallel()
	in := "not even a message\n"
	args := []string{"write", "--catalog", file(t, "k.json", itemsCatalog), "--config", file(t, "c.json", `{}`)}
	r := run(t, lineWriter{}, in, args...)
	if r.code != 0 || len(r.lines) != 1 || r.lines[0] != `{"type":"LOG","log":{"level":"INFO","message":"19 bytes"}}` {
		t.Fatalf("exit %d, stdout %q", r.code, r.lines)
	}
}

// checkEmitter is a source whose check rotates its config.
type checkEmitter struct{ *source }

func (checkEmitter) CheckEmit(ctx context.Context, config json.RawMessage, emit func(*protocol.Message) error) error {
	return emit(&protocol.Message{Type: protocol.TypeControl, Control: &protocol.Control{Type: protocol.ControlConnectorConfig,
		EmittedAt: 1, ConnectorConfig: &protocol.ControlConnectorConfigMessage{Config: json.RawMessage(`{"token":"rotated"}`)}}})
}

// TestCheckEmitter: a CheckEmitter's check prints what it emits before the
// CONNECTION_STATUS.
func TestCheckEmitter(t *testing.T) {
	t.Parallel()
	r := run(t, checkEmitter{&source{}}, "", "check", "--config", file(t, "c.json", `{"count":1}`))
	if r.code != 0 || len(r.msgs) != 2 || r.msgs[0].Type != protocol.TypeControl ||
		r.msgs[1].ConnectionStatus == nil || r.msgs[1].ConnectionStatus.Status != protocol.StatusSucceeded {
		t.Fatalf("exit %d, stdout %q", r.code, r.lines)
	}
}

// unstamped is a source whose records carry no EmittedAt, as a newcomer's
// first connector's do; every other one has a namespace, which takes the
// encoder's general path.
type unstamped struct{ source }

func (*unstamped) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	for i := range 4 {
		rec := &protocol.Record{Stream: "items", Data: fmt.Appendf(nil, `{"id":%d}`, i)}
		if i%2 == 1 {
			rec.Namespace = "ns"
		}
		if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: rec}); err != nil {
			return err
		}
		if rec.EmittedAt != 0 {
			return errors.New("emit changed the connector's record")
		}
	}
	return nil
}

// A record emitted with EmittedAt 0 goes out stamped with the time it was
// emitted, as the Python CDK stamps every record: written as 0, every
// runner took it for a record of 1970. The connector's own record is left
// as it was.
func TestRecordsAreStamped(t *testing.T) {
	t.Parallel()
	before := time.Now().UnixMilli()
	r := run(t, &unstamped{}, "", "read", "--config", file(t, "config.json", `{"count":1}`), "--catalog", file(t, "catalog.json", itemsCatalog))
	after := time.Now().UnixMilli()
	recs := r.of(protocol.TypeRecord)
	if r.code != 0 || len(recs) != 4 {
		t.Fatalf("exit %d, %d records, stderr %q", r.code, len(recs), r.stderr)
	}
	for _, m := range recs {
		if m.Record.EmittedAt < before || m.Record.EmittedAt > after {
			t.Errorf("emitted_at %d, want the time of the read, %d to %d: %s", m.Record.EmittedAt, before, after, r.lines)
		}
	}
}

// ender is a source that emits a record of "items", then the statuses in
// own, and returns err.
type ender struct {
	source
	own      []protocol.StreamStatusTrace
	traceErr bool // emit a TRACE ERROR after own
	err      error
}

func (e *ender) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	if err := emit(record(0)); err != nil {
		return err
	}
	for _, st := range e.own {
		if err := emit(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{Type: protocol.TraceStreamStatus,
			EmittedAt: 1, StreamStatus: &st}}); err != nil {
			return err
		}
	}
	if e.traceErr {
		if err := emit(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{Type: protocol.TraceError, EmittedAt: 1,
			Error: &protocol.ErrorTrace{Message: "the start date is in the future", FailureType: protocol.FailureConfig}}}); err != nil {
			return err
		}
	}
	return e.err
}

// TestStreamsEnd: when Read returns nil, every stream of the configured
// catalog that the connector did not end (COMPLETE or INCOMPLETE) gets one
// TRACE STREAM_STATUS COMPLETE, after the connector's last message, as the
// Python CDK ends every stream of a read: without it a runner takes an
// empty full-refresh stream for one cut short. A status without a
// namespace ends the streams of its name in any namespace (connectors
// leave it out); one with a namespace ends that stream only.
func TestStreamsEnd(t *testing.T) {
	t.Parallel()
	cat := file(t, "k.json", `{"streams":[
{"stream":{"name":"items","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"},
{"stream":{"name":"empty","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"},
{"stream":{"name":"items","namespace":"ns","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`)
	args := []string{"read", "--config", file(t, "c.json", `{"count":1}`), "--catalog", cat}
	status := func(ns, name string, st protocol.StreamStatus) protocol.StreamStatusTrace {
		return protocol.StreamStatusTrace{StreamDescriptor: protocol.StreamDescriptor{Name: name, Namespace: ns}, Status: st}
	}
	for _, tc := range []struct {
		name  string
		c     *ender
		code  int
		added []string // the COMPLETEs kit adds, as namespace.name
	}{
		{"none of its own", &ender{}, 0, []string{".items", ".empty", "ns.items"}},
		{"its own", &ender{own: []protocol.StreamStatusTrace{status("", "items", protocol.StatusComplete),
			status("", "empty", protocol.StatusStarted), status("", "empty", protocol.StatusIncomplete)}}, 0, nil},
		{"its own in a namespace", &ender{own: []protocol.StreamStatusTrace{status("ns", "items", protocol.StatusComplete),
			status("other", "empty", protocol.StatusComplete), status("", "empty", protocol.StatusRunning)}}, 0, []string{".items", ".empty"}},
		{"failed", &ender{err: errors.New("the API broke")}, 1, nil},
		// A TRACE ERROR is a failure to every runner (goairbyte's
		// executors report one whatever the exit code), even when Read
		// returns nil after it: no COMPLETE, and exit 1.
		{"its own error", &ender{traceErr: true}, 1, nil},
		{"failed after its own", &ender{own: []protocol.StreamStatusTrace{status("", "items", protocol.StatusStarted)},
			err: errors.New("the API broke")}, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, tc.c, "", args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d: %s", r.code, tc.code, r.stderr)
			}
			// What the connector emitted comes first, as it was.
			n := 1 + len(tc.c.own)
			if tc.c.traceErr {
				n++
			}
			if len(r.msgs) < n || r.msgs[0].Type != protocol.TypeRecord {
				t.Fatalf("output %q", r.lines)
			}
			for i, st := range tc.c.own {
				if got := r.msgs[1+i].Trace; got == nil || got.StreamStatus == nil || got.StreamStatus.StreamDescriptor != st.StreamDescriptor ||
					got.StreamStatus.Status != st.Status {
					t.Fatalf("message %d: %s, want the connector's status %+v", 1+i, r.lines[1+i], st)
				}
			}
			var added []string
			for i, m := range r.msgs[n:] {
				if m.Type == protocol.TypeTrace && m.Trace.Type == protocol.TraceError && tc.code == 1 && i == len(r.msgs)-n-1 {
					continue // the failure's report, last
				}
				if m.Type != protocol.TypeTrace || m.Trace.Type != protocol.TraceStreamStatus || m.Trace.StreamStatus.Status != protocol.StatusComplete ||
					m.Trace.EmittedAt < 1e12 {
					t.Fatalf("message %d after the connector's: %s, want a stamped COMPLETE", n+i, r.lines[n+i])
				}
				d := m.Trace.StreamStatus.StreamDescriptor
				added = append(added, d.Namespace+"."+d.Name)
			}
			if !slices.Equal(added, tc.added) {
				t.Errorf("added COMPLETE for %q, want %q:\n%s", added, tc.added, strings.Join(r.lines, "\n"))
			}
		})
	}
}

// A read whose context was cancelled is not known complete, even when the
// connector's Read returns nil (it may have stopped early and said
// nothing): no stream gets a COMPLETE it may not have earned, which would
// make a runner swap a part of the stream in for the whole.
func TestStreamsEndNotWhenCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := kit.Run(ctx, &ender{}, []string{"read", "--config", file(t, "c.json", `{"count":1}`), "--catalog", file(t, "k.json", itemsCatalog)},
		nil, &stdout, &stderr)
	var r result
	parse(t, &r, stdout.Bytes())
	if len(r.of(protocol.TypeRecord)) != 1 || len(r.of(protocol.TypeTrace)) != 0 {
		t.Errorf("exit %d, %q: want the record and no status", code, r.lines)
	}
}
