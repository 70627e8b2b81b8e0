package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/x/goairbyte/connectors/faker"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testconnectors/twoway"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// seen is what a caller sees of a run, less what only a process has (its
// stderr, its log file, a panic's stack): the messages and how it ended.
func seen(seq func(func(*protocol.Message, error) bool)) string {
	var b strings.Builder
	for m, err := range seq {
		if err != nil {
			var ce *executor.ConnectorError
			if errors.As(err, &ce) {
				fmt.Fprintf(&b, "ConnectorError exit=%d failure=%s missing=%s message=%q", ce.ExitCode, ce.FailureType, ce.Missing, ce.Message)
			} else {
				fmt.Fprintf(&b, "error %v", err)
			}
			break
		}
		switch {
		case m.Type == protocol.TypeRecord && m.Record != nil:
			fmt.Fprintf(&b, "RECORD %s %s\n", m.Record.Stream, m.Record.Data)
		case m.Type == protocol.TypeState && m.State != nil && m.State.Stream != nil:
			fmt.Fprintf(&b, "STATE %s\n", m.State.Stream.StreamState)
		case m.Type == protocol.TypeLog && m.Log != nil:
			fmt.Fprintf(&b, "LOG %s\n", m.Log.Message)
		case m.Type == protocol.TypeSpec:
			fmt.Fprintf(&b, "SPEC present=%v\n", m.Spec != nil)
		case m.Type == protocol.TypeCatalog:
			fmt.Fprintf(&b, "CATALOG present=%v\n", m.Catalog != nil)
		case m.Type == protocol.TypeConnectionStatus && m.ConnectionStatus != nil:
			fmt.Fprintf(&b, "CONNECTION_STATUS %s %q\n", m.ConnectionStatus.Status, m.ConnectionStatus.Message)
		case m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.StreamStatus != nil:
			d := m.Trace.StreamStatus.StreamDescriptor
			fmt.Fprintf(&b, "TRACE STREAM_STATUS %s.%s %s\n", d.Namespace, d.Name, m.Trace.StreamStatus.Status)
		case m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.Error != nil:
			fmt.Fprintf(&b, "TRACE ERROR %s %q stack=%v\n", m.Trace.Error.FailureType, m.Trace.Error.Message, m.Trace.Error.StackTrace != "")
		default:
			fmt.Fprintf(&b, "%s\n", m.Type)
		}
	}
	return b.String()
}

// TestKitConnectorSameBothWays runs one kit connector as a process (kit.Serve)
// and in process, command by command, and wants the caller to see the same:
// the same messages, the same failure with the same failure type.
func TestKitConnectorSameBothWays(t *testing.T) {
	t.Parallel()
	bin := testenv.BuildBinary(t, "./internal/testconnectors/twoway/source-twoway")
	cfg := func(mode string) json.RawMessage { return json.RawMessage(`{"mode":"` + mode + `"}`) }
	items := itemsCatalogInProcess
	in := `{"type":"RECORD","record":{"stream":"items","data":{"id":1},"emitted_at":1}}
{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"items"},"stream_state":{"n":1}}}}
`
	for _, c := range []struct {
		name     string
		specMode string
		inv      executor.Invocation
		stdin    string // write's input, when set; else no Stdin
	}{
		{name: "spec", inv: executor.Invocation{Verb: executor.VerbSpec}},
		{name: "spec returns nil", specMode: "nil", inv: executor.Invocation{Verb: executor.VerbSpec}},
		{name: "check with a failing Spec", specMode: "fail", inv: executor.Invocation{Verb: executor.VerbCheck, Config: cfg("ok")}},
		{name: "check", inv: executor.Invocation{Verb: executor.VerbCheck, Config: cfg("ok")}},
		{name: "check fails", inv: executor.Invocation{Verb: executor.VerbCheck, Config: cfg("check-fail")}},
		{name: "check panics", inv: executor.Invocation{Verb: executor.VerbCheck, Config: cfg("check-panic")}},
		{name: "check invalid config", inv: executor.Invocation{Verb: executor.VerbCheck, Config: json.RawMessage(`{"mode":5}`)}},
		{name: "check no config", inv: executor.Invocation{Verb: executor.VerbCheck}},
		{name: "discover", inv: executor.Invocation{Verb: executor.VerbDiscover, Config: cfg("ok")}},
		{name: "discover nil catalog", inv: executor.Invocation{Verb: executor.VerbDiscover, Config: cfg("nil-catalog")}},
		{name: "discover invalid config", inv: executor.Invocation{Verb: executor.VerbDiscover, Config: json.RawMessage(`{"mode":5}`)}},
		{name: "read", inv: executor.Invocation{Verb: executor.VerbRead, Config: cfg("ok"), Catalog: items}},
		{name: "read with state", inv: executor.Invocation{Verb: executor.VerbRead, Config: cfg("ok"), Catalog: items, State: json.RawMessage(`{"n":7}`)}},
		{name: "read fails", inv: executor.Invocation{Verb: executor.VerbRead, Config: cfg("fail"), Catalog: items}},
		{name: "read config error", inv: executor.Invocation{Verb: executor.VerbRead, Config: cfg("config-error"), Catalog: items}},
		{name: "read panics", inv: executor.Invocation{Verb: executor.VerbRead, Config: cfg("panic"), Catalog: items}},
		{name: "read emits nil", inv: executor.Invocation{Verb: executor.VerbRead, Config: cfg("emit-nil"), Catalog: items}},
		{name: "read invalid config", inv: executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(`{}`), Catalog: items}},
		{name: "read catalog not an object", inv: executor.Invocation{Verb: executor.VerbRead, Config: cfg("ok"), Catalog: json.RawMessage(`[]`)}},
		{name: "read stream without a name", inv: executor.Invocation{Verb: executor.VerbRead, Config: cfg("ok"),
			Catalog: json.RawMessage(`{"streams":[{"stream":{"json_schema":{}},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`)}},
		{name: "write", inv: executor.Invocation{Verb: executor.VerbWrite, Config: cfg("ok"), Catalog: items}, stdin: in},
		{name: "write without input", inv: executor.Invocation{Verb: executor.VerbWrite, Config: cfg("ok"), Catalog: items}},
		{name: "write invalid config", inv: executor.Invocation{Verb: executor.VerbWrite, Config: json.RawMessage(`{"mode":[]}`), Catalog: items}, stdin: in},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var env []string
			if c.specMode != "" {
				env = []string{"TWOWAY_SPEC=" + c.specMode}
			}
			proc := build[executor.Executor](t, "source-twoway", executor.Method{Kind: executor.KindLocal, Path: bin, Env: env},
				executor.Runtime{LogDir: t.TempDir()})
			inproc := build[executor.Executor](t, "source-twoway", executor.Method{Kind: executor.KindInProcess,
				Connector: twoway.Connector{SpecMode: c.specMode}}, executor.Runtime{})
			run := func(ex executor.Executor) string {
				inv := c.inv
				if c.stdin != "" {
					inv.Stdin = io.NopCloser(strings.NewReader(c.stdin))
				}
				return seen(ex.Run(context.Background(), inv))
			}
			if got, want := run(inproc), run(proc); got != want {
				t.Errorf("in process:\n%s\nas a process:\n%s", got, want)
			}
		})
	}
}

// twoStreams configures the twoway connector's streams, "items" and
// "empty".
var twoStreams = json.RawMessage(`{"streams":[
{"stream":{"name":"items","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"},
{"stream":{"name":"empty","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`)

// TestKitSourceEndsItsStreams: a kit source whose Read returns nil ends
// every configured stream that it did not end itself with one TRACE
// STREAM_STATUS COMPLETE, after its last message, as the Python CDK does;
// one whose Read fails gets none. As a process and in process alike, each
// tracking the statuses on its own message path.
func TestKitSourceEndsItsStreams(t *testing.T) {
	t.Parallel()
	bin := testenv.BuildBinary(t, "./internal/testconnectors/twoway/source-twoway")
	for _, c := range []struct {
		mode string
		want string // "" for a failure: no COMPLETE at all
	}{
		{"quiet", `RECORD items {"id":0}
RECORD items {"id":1}
TRACE STREAM_STATUS .items COMPLETE
TRACE STREAM_STATUS .empty COMPLETE
`},
		// The connector's own ends stand: no second COMPLETE, and an
		// INCOMPLETE is not overruled.
		{"statuses", `TRACE STREAM_STATUS .items STARTED
RECORD items {"id":0}
RECORD items {"id":1}
TRACE STREAM_STATUS .items COMPLETE
TRACE STREAM_STATUS .empty STARTED
TRACE STREAM_STATUS .empty INCOMPLETE
`},
		// A STATE does not end a stream: the COMPLETEs come after it.
		{"ok", `RECORD items {"id":0}
RECORD items {"id":1}
RECORD empty {"id":0}
RECORD empty {"id":1}
STATE null
TRACE STREAM_STATUS .items COMPLETE
TRACE STREAM_STATUS .empty COMPLETE
`},
		{"fail", ""},
		{"config-error", ""},
		{"panic", ""},
		// Its own TRACE ERROR fails the read although Read returns nil.
		{"trace-error", ""},
	} {
		t.Run(c.mode, func(t *testing.T) {
			t.Parallel()
			for _, m := range []executor.Method{
				{Kind: executor.KindLocal, Path: bin},
				{Kind: executor.KindInProcess, Connector: twoway.Connector{}},
			} {
				ex := build[executor.Executor](t, "source-twoway", m, executor.Runtime{LogDir: t.TempDir()})
				got := seen(ex.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead,
					Config: json.RawMessage(`{"mode":"` + c.mode + `"}`), Catalog: twoStreams}))
				switch {
				case c.want != "" && got != c.want:
					t.Errorf("%s:\n%s\nwant\n%s", m.Kind, got, c.want)
				case c.want == "" && (strings.Contains(got, "STREAM_STATUS") || !strings.Contains(got, "TRACE ERROR")):
					t.Errorf("%s: a failed read, want its TRACE ERROR and no status:\n%s", m.Kind, got)
				}
			}
		})
	}
}

// TestFakerEndsEachStreamOnce: the faker ends its streams itself; the kit
// adds no second COMPLETE, as a process or in process.
func TestFakerEndsEachStreamOnce(t *testing.T) {
	t.Parallel()
	bin := testenv.BuildBinary(t, "./cmd/source-faker")
	var streams []string
	for _, name := range []string{"products", "users", "purchases"} {
		streams = append(streams, `{"stream":{"name":"`+name+`","json_schema":{"type":"object"},"supported_sync_modes":["full_refresh"]},`+
			`"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}`)
	}
	catalog := json.RawMessage(`{"streams":[` + strings.Join(streams, ",") + `]}`)
	for _, m := range []executor.Method{
		{Kind: executor.KindLocal, Path: bin},
		{Kind: executor.KindInProcess, Connector: faker.New()},
	} {
		ex := build[executor.Executor](t, "source-faker", m, executor.Runtime{LogDir: t.TempDir()})
		msgs, err := collect(ex.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead,
			Config: json.RawMessage(`{"count":5,"seed":1}`), Catalog: catalog}))
		if err != nil {
			t.Fatalf("%s: %v", m.Kind, err)
		}
		ends := map[string]int{}
		for _, msg := range msgs {
			if streamEnd(msg) {
				ends[msg.Trace.StreamStatus.StreamDescriptor.Name]++
			}
		}
		if ends["products"] != 1 || ends["users"] != 1 || ends["purchases"] != 1 || len(ends) != 3 {
			t.Errorf("%s: COMPLETEs per stream %v, want one each", m.Kind, ends)
		}
	}
}
