package localjson_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/x/goairbyte/connectors/localjson"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

func TestSpec(t *testing.T) {
	r := run(t, "", "spec")
	if r.code != 0 || len(r.msgs) != 1 || r.msgs[0].Type != protocol.TypeSpec {
		t.Fatalf("spec: code %d, output %q", r.code, r.lines)
	}
	spec := r.msgs[0].Spec
	want := []protocol.DestinationSyncMode{protocol.DestinationOverwrite, protocol.DestinationAppend, protocol.DestinationAppendDedup}
	if !reflect.DeepEqual(spec.SupportedDestinationSyncModes, want) {
		t.Errorf("supported_destination_sync_modes = %v, want %v", spec.SupportedDestinationSyncModes, want)
	}
	var cs struct {
		Required   []string `json:"required"`
		Properties map[string]struct {
			Type string `json:"type"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(spec.ConnectionSpecification, &cs); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cs.Required, []string{"destination_path"}) || cs.Properties["destination_path"].Type != "string" {
		t.Errorf("connectionSpecification does not require a string destination_path: %s", spec.ConnectionSpecification)
	}
}

func TestCheck(t *testing.T) {
	tmp := t.TempDir()
	blocker := writeJSON(t, tmp, "a-regular-file", "x")
	for _, tc := range []struct {
		name, config string
		ok           bool
		// wantMsg is what the message says through kit.Run, which
		// validates the config against the spec first; wantDirect what
		// Connector.Check says when called in process with no validation.
		wantMsg, wantDirect []string
	}{
		{"new nested directory", `{"destination_path":"` + filepath.Join(tmp, "out", "deeper") + `"}`, true, nil, nil},
		{"path under a regular file", `{"destination_path":"` + filepath.Join(blocker, "sub") + `"}`, false,
			[]string{filepath.Join(blocker, "sub"), "not a directory"}, []string{filepath.Join(blocker, "sub"), "not a directory"}},
		{"missing destination_path", `{}`, false, []string{`"destination_path"`, "required"}, []string{"destination_path is required"}},
		{"destination_path not a string", `{"destination_path": 3}`, false, []string{`"destination_path"`, "want string"}, []string{"destination_path must be a string"}},
		{"destination_path empty", `{"destination_path": ""}`, false, []string{"must not be empty"}, []string{"must not be empty"}},
		{"config not JSON", `nope`, false, []string{"not valid JSON"}, []string{"not a JSON object"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// The flags go before the command: any order is accepted.
			r := run(t, "", "--config", writeJSON(t, dir, "config.json", tc.config), "check")
			if r.code != 0 || len(r.msgs) != 1 || r.msgs[0].Type != protocol.TypeConnectionStatus {
				t.Fatalf("check: code %d, output %q, stderr %s", r.code, r.lines, r.stderr)
			}
			st := r.msgs[0].ConnectionStatus
			if tc.ok != (st.Status == protocol.StatusSucceeded) {
				t.Fatalf("status %s (%s), want success %v", st.Status, st.Message, tc.ok)
			}
			for _, w := range tc.wantMsg {
				if !strings.Contains(st.Message, w) {
					t.Errorf("message %q does not mention %q", st.Message, w)
				}
			}
			err := localjson.New().Check(context.Background(), []byte(tc.config))
			if tc.ok != (err == nil) {
				t.Fatalf("Check in process: %v, want success %v", err, tc.ok)
			}
			for _, w := range tc.wantDirect {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check in process: %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(tmp, "out", "deeper")); err != nil {
		t.Errorf("check did not create the destination directory: %v", err)
	}
}

func TestBadCommandLine(t *testing.T) {
	for _, args := range [][]string{nil, {"read"}, {"write", "--config", "c.json"}, {"check", "--nope", "x"}} {
		if r := run(t, "", args...); r.code != 2 || !strings.Contains(r.stderr, "usage") {
			t.Errorf("%q: code %d, stderr %q; want 2 and the usage", args, r.code, r.stderr)
		}
	}
}

// TestWriteModes runs two syncs and checks each sync mode in the files.
func TestWriteModes(t *testing.T) {
	tmp, dest := t.TempDir(), filepath.Join(t.TempDir(), "dest")
	cfg := configFile(t, tmp, dest)
	cat := catalogFile(t, tmp,
		configured("ow", protocol.DestinationOverwrite),
		configured("app", protocol.DestinationAppend),
		configured("dd", protocol.DestinationAppendDedup, []string{"id"}),
		configured("comp", protocol.DestinationAppendDedup, []string{"k1"}, []string{"nested", "k2"}),
	)
	sync := func(input string) result { return mustWrite(t, input, cat, cfg) }

	sync(recordMsg("ow", `{"v":1}`) + recordMsg("ow", `{"v":2}`) +
		recordMsg("app", `{"v":1}`) +
		recordMsg("dd", `{"id":1,"v":"a"}`) + recordMsg("dd", `{"id":2,"v":"a"}`) + recordMsg("dd", `{"id":1,"v":"b"}`) +
		recordMsg("comp", `{"k1":1,"nested":{"k2":"x"},"v":"a"}`) + recordMsg("comp", `{"k1":1,"nested":{"k2":"y"},"v":"a"}`) +
		recordMsg("comp", `{"k1":1,"nested":{"k2":"x"},"v":"b"}`) + recordMsg("comp", `{"k1":1,"v":"no key"}`))
	lines, _ := readStream(t, dest, "ow")
	if got := field(t, lines, "v"); !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("overwrite after sync 1: %v", got)
	}
	if lines[0].EmittedAt != 1700000000123 || string(lines[0].Data) != `{"v":1}` {
		t.Errorf("line not written verbatim: %+v", lines[0])
	}
	lines, _ = readStream(t, dest, "dd")
	if got := field(t, lines, "v"); !slices.Equal(got, []string{`"a"`, `"b"`}) || !slices.Equal(field(t, lines, "id"), []string{"2", "1"}) {
		t.Errorf("append_dedup after sync 1: %+v", lines)
	}

	sync(recordMsg("ow", `{"v":3}`) +
		recordMsg("app", `{"v":2}`) + recordMsg("app", `{"v":3}`) +
		recordMsg("dd", `{"id":2,"v":"c"}`) + recordMsg("dd", `{"id":3,"v":"c"}`) +
		recordMsg("comp", `{"k1":1,"nested":{"k2":"y"},"v":"c"}`) + recordMsg("comp", `{"k1":2,"nested":{"k2":"y"},"v":"c"}`))

	lines, _ = readStream(t, dest, "ow")
	if got := field(t, lines, "v"); !slices.Equal(got, []string{"3"}) {
		t.Errorf("overwrite did not replace the file: %v", got)
	}
	lines, _ = readStream(t, dest, "app")
	if got := field(t, lines, "v"); !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Errorf("append did not add: %v", got)
	}
	ids := map[string]bool{}
	for _, l := range lines {
		if ids[l.ID] {
			t.Errorf("duplicate _airbyte_ab_id %s", l.ID)
		}
		ids[l.ID] = true
	}
	lines, _ = readStream(t, dest, "dd")
	if got := field(t, lines, "id"); !slices.Equal(got, []string{"1", "2", "3"}) || !slices.Equal(field(t, lines, "v"), []string{`"b"`, `"c"`, `"c"`}) {
		t.Errorf("append_dedup after sync 2: ids %v values %v", got, field(t, lines, "v"))
	}
	lines, _ = readStream(t, dest, "comp")
	var got []string
	for _, l := range lines {
		got = append(got, string(l.Data))
	}
	want := []string{
		`{"k1":1,"nested":{"k2":"x"},"v":"b"}`,
		`{"k1":1,"v":"no key"}`,
		`{"k1":1,"nested":{"k2":"y"},"v":"c"}`,
		`{"k1":2,"nested":{"k2":"y"},"v":"c"}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("composite append_dedup:\n got %q\nwant %q", got, want)
	}
	entries, err := os.ReadDir(dest)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("work file %s left after a successful sync", e.Name())
		}
	}
}

// TestStatesEchoed checks the order and the destinationStats of echoed
// states, for STREAM and GLOBAL state, with and without overwrite streams.
func TestStatesEchoed(t *testing.T) {
	tmp := t.TempDir()
	dest := filepath.Join(tmp, "dest")
	cfg := configFile(t, tmp, dest)

	t.Run("stream", func(t *testing.T) {
		cat := catalogFile(t, tmp, configured("a", protocol.DestinationAppend), configured("b", protocol.DestinationAppendDedup, []string{"id"}))
		in := recordMsg("a", `{"id":1}`) + recordMsg("b", `{"id":1}`) + recordMsg("a", `{"id":2}`) + stateMsg("a", 1) +
			recordMsg("b", `{"id":2}`) + stateMsg("b", 1) + stateMsg("a", 2) +
			`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"not-configured"}}}}` + "\n" +
			recordMsg("b", `{"id":3}`) + stateMsg("b", 2)
		r := run(t, in, "write", "--config", cfg, "--catalog", cat)
		if r.code != 0 {
			t.Fatalf("write: %d %s", r.code, r.stderr)
		}
		type echoed struct {
			stream string
			state  string
			count  float64
		}
		var got []echoed
		for _, s := range r.states() {
			got = append(got, echoed{s.Stream.StreamDescriptor.Name, string(s.Stream.StreamState), *s.DestinationStats.RecordCount})
		}
		want := []echoed{{"a", `{"n":1}`, 2}, {"b", `{"n":1}`, 2}, {"a", `{"n":2}`, 0}, {"not-configured", "", 0}, {"b", `{"n":2}`, 1}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("echoed states:\n got %v\nwant %v", got, want)
		}
	})

	t.Run("global with overwrite held to the end", func(t *testing.T) {
		cat := catalogFile(t, tmp, configured("a", protocol.DestinationAppend), configured("o", protocol.DestinationOverwrite))
		global := func(n int) string {
			return `{"type":"STATE","state":{"type":"GLOBAL","global":{"shared_state":{"n":` + string(rune('0'+n)) + `},"stream_states":[]}}}` + "\n"
		}
		in := recordMsg("a", `{"id":1}`) + recordMsg("o", `{"id":1}`) + global(1) +
			recordMsg("o", `{"id":2}`) + global(2) + stateMsg("a", 3) + `not json at all` + "\n"
		r := run(t, in, "write", "--config", cfg, "--catalog", cat)
		if r.code != 0 {
			t.Fatalf("write: %d %s", r.code, r.stderr)
		}
		st := r.states()
		if len(st) != 3 || string(st[0].Global.SharedState) != `{"n":1}` || string(st[1].Global.SharedState) != `{"n":2}` || st[2].Stream == nil {
			t.Fatalf("echoed states out of order: %q", r.lines)
		}
		for i, want := range []float64{2, 1, 1} {
			if got := *st[i].DestinationStats.RecordCount; got != want {
				t.Errorf("state %d: recordCount %v, want %v", i, got, want)
			}
		}
		// The overwrite stream's records are only durable at the commit, so
		// the states are held until then: the warning about the last input
		// line comes out before them.
		if r.msgs[0].Type != protocol.TypeLog {
			t.Errorf("states were echoed before the commit: %q", r.lines)
		}
		if warns := r.logs(protocol.LevelWarn); len(warns) != 1 || !strings.Contains(warns[0], "not json at all") {
			t.Errorf("non-protocol line not reported once as LOG WARN: %q", warns)
		}
	})
}

func TestUnknownStreamSkipped(t *testing.T) {
	tmp := t.TempDir()
	dest := filepath.Join(tmp, "dest")
	cat := catalogFile(t, tmp, configured("a", protocol.DestinationAppend))
	in := recordMsg("ghost", `{"id":1}`) + recordMsg("a", `{"id":1}`) + recordMsg("ghost", `{"id":2}`)
	r := run(t, in, "write", "--config", configFile(t, tmp, dest), "--catalog", cat)
	if r.code != 0 {
		t.Fatalf("write: %d %s", r.code, r.stderr)
	}
	warns := r.logs(protocol.LevelWarn)
	if len(warns) != 2 || !strings.Contains(warns[0], `"ghost"`) || !strings.Contains(warns[1], "skipped 2 records") {
		t.Errorf("warnings %q", warns)
	}
	if _, err := os.Stat(filepath.Join(dest, "_airbyte_raw_ghost.jsonl")); !os.IsNotExist(err) {
		t.Errorf("a file was written for a stream not in the catalog: %v", err)
	}
	if lines, _ := readStream(t, dest, "a"); len(lines) != 1 {
		t.Errorf("stream a has %d lines", len(lines))
	}
}

func TestStreamNamesStayInside(t *testing.T) {
	tmp := t.TempDir()
	dest := filepath.Join(tmp, "dest")
	cat := catalogFile(t, tmp, configured("../../escape/x", protocol.DestinationAppend), configured("/abs", protocol.DestinationOverwrite))
	in := recordMsg("../../escape/x", `{"id":1}`) + recordMsg("/abs", `{"id":2}`)
	if r := run(t, in, "write", "--config", configFile(t, tmp, dest), "--catalog", cat); r.code != 0 {
		t.Fatalf("write: %d %s", r.code, r.stderr)
	}
	entries, _ := os.ReadDir(dest)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"_airbyte_raw_.._.._escape_x.jsonl", "_airbyte_raw__abs.jsonl"}
	if !slices.Equal(names, want) {
		t.Errorf("files %q, want %q", names, want)
	}
	if _, err := os.Stat(filepath.Join(tmp, "escape")); !os.IsNotExist(err) {
		t.Errorf("a stream name escaped the destination directory")
	}
}

func TestWriteConfigErrors(t *testing.T) {
	tmp := t.TempDir()
	cfg := configFile(t, tmp, filepath.Join(tmp, "dest"))
	for _, tc := range []struct {
		name    string
		streams []protocol.ConfiguredStream
		want    string
	}{
		{"dedup without key", []protocol.ConfiguredStream{configured("a", protocol.DestinationAppendDedup)}, "no primary key"},
		{"unsupported mode", []protocol.ConfiguredStream{configured("a", protocol.DestinationSoftDelete)}, "does not support"},
		{"same file", []protocol.ConfiguredStream{configured("a/b", protocol.DestinationAppend), configured("a_b", protocol.DestinationAppend)}, "both map to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, "", "write", "--config", cfg, "--catalog", catalogFile(t, t.TempDir(), tc.streams...))
			if r.code != 1 || len(r.msgs) != 1 || r.msgs[0].Type != protocol.TypeTrace {
				t.Fatalf("code %d, output %q", r.code, r.lines)
			}
			e := r.msgs[0].Trace.Error
			if e.FailureType != protocol.FailureConfig || !strings.Contains(e.Message, tc.want) {
				t.Errorf("trace error %+v, want config_error mentioning %q", e, tc.want)
			}
		})
	}
}

func TestWriteUnwritablePath(t *testing.T) {
	tmp := t.TempDir()
	blocker := writeJSON(t, tmp, "file", "x")
	cat := catalogFile(t, tmp, configured("a", protocol.DestinationAppend))
	r := run(t, recordMsg("a", `{}`), "write", "--config", configFile(t, tmp, filepath.Join(blocker, "dest")), "--catalog", cat)
	if r.code != 1 || len(r.msgs) != 1 || r.msgs[0].Type != protocol.TypeTrace {
		t.Fatalf("code %d, output %q", r.code, r.lines)
	}
	if e := r.msgs[0].Trace.Error; e.FailureType != protocol.FailureConfig || !strings.Contains(e.Message, blocker) || !strings.Contains(e.Message, "not a directory") {
		t.Errorf("trace error %+v", e)
	}
}

// TestCancelledWriteCommitsNothing: a cancelled sync fails and leaves an
// overwrite stream's file as it was.
func TestCancelledWriteCommitsNothing(t *testing.T) {
	tmp := t.TempDir()
	dest := filepath.Join(tmp, "dest")
	cfg := configFile(t, tmp, dest)
	cat := catalogFile(t, tmp, configured("o", protocol.DestinationOverwrite))
	if r := run(t, recordMsg("o", `{"v":"old"}`), "write", "--config", cfg, "--catalog", cat); r.code != 0 {
		t.Fatalf("first write: %d %s", r.code, r.stderr)
	}
	before, _ := os.ReadFile(filepath.Join(dest, "_airbyte_raw_o.jsonl"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := kit.Run(ctx, localjson.New(), []string{"write", "--config", cfg, "--catalog", cat}, strings.NewReader(recordMsg("o", `{"v":"new"}`)+stateMsg("o", 1)), &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "cancelled") || strings.Contains(out.String(), `"STATE"`) {
		t.Errorf("cancelled write: code %d, stdout %s", code, out.String())
	}
	if after, _ := os.ReadFile(filepath.Join(dest, "_airbyte_raw_o.jsonl")); !bytes.Equal(before, after) || len(before) == 0 {
		t.Errorf("cancelled overwrite changed the file: %q -> %q", before, after)
	}
}

// TestStateBlobVerbatim: an echoed state carries the source's blob byte for
// byte, whitespace included.
func TestStateBlobVerbatim(t *testing.T) {
	tmp := t.TempDir()
	cat := catalogFile(t, tmp, configured("a", protocol.DestinationAppend))
	blob := `{"cursor": "2024-01-01T00:00:00Z",  "ids" : [1, 2.50, 3e2]}`
	in := recordMsg("a", `{"id":1}`) + `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":` + blob + `},"sourceStats":{"recordCount":1.0}}}` + "\n"
	r := run(t, in, "write", "--config", configFile(t, tmp, filepath.Join(tmp, "dest")), "--catalog", cat)
	st := r.states()
	if r.code != 0 || len(st) != 1 {
		t.Fatalf("code %d, output %q", r.code, r.lines)
	}
	if string(st[0].Stream.StreamState) != blob || *st[0].DestinationStats.RecordCount != 1 || *st[0].SourceStats.RecordCount != 1 {
		t.Errorf("echoed %s", r.lines[0])
	}
}

// TestWriteInProcess calls Write directly, as an in-process runner does:
// messages in through an iterator, the echoed state out through emit, as
// the very message that came in.
func TestWriteInProcess(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "dest")
	cat := &protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{configured("a", protocol.DestinationAppend)}}
	state := protocol.ParseMessage([]byte(stateMsg("a", 7)))
	input := func(yield func(*protocol.Message, error) bool) {
		for _, m := range []*protocol.Message{protocol.ParseMessage([]byte(recordMsg("a", `{"id":1}`))), protocol.ParseMessage([]byte(recordMsg("a", `{"id":2}`))), state} {
			if !yield(m, nil) {
				return
			}
		}
	}
	var out []*protocol.Message
	err := localjson.New().Write(context.Background(), []byte(`{"destination_path":"`+dest+`"}`), cat, input, func(m *protocol.Message) error {
		out = append(out, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0] != state || *out[0].State.DestinationStats.RecordCount != 2 {
		t.Fatalf("emitted %+v, want the input state with recordCount 2", out)
	}
	if lines, _ := readStream(t, dest, "a"); len(lines) != 2 {
		t.Errorf("%d lines written, want 2", len(lines))
	}

	// An input that fails ends the write with its error, nothing committed.
	failing := func(yield func(*protocol.Message, error) bool) { yield(nil, errors.New("source died")) }
	err = localjson.New().Write(context.Background(), []byte(`{"destination_path":"`+dest+`"}`), cat, failing, func(*protocol.Message) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "source died") {
		t.Errorf("failing input: %v", err)
	}
}

// TestMalformedRecordStopsTheWrite: a line that claims to be a RECORD and
// does not parse (cut short, or longer than the decoder takes) is a record
// lost, not chatter: the write fails there, so that no STATE after it
// confirms it, and the runner sends it again from the last state echoed.
// Before, it was logged as "not an Airbyte message" and the next STATE was
// echoed, confirming a record never written.
func TestMalformedRecordStopsTheWrite(t *testing.T) {
	tmp := t.TempDir()
	dest := filepath.Join(tmp, "dest")
	cat := catalogFile(t, tmp, configured("a", protocol.DestinationAppend))
	in := recordMsg("a", `{"id":1}`) + stateMsg("a", 1) +
		`{"type":"RECORD","record":{"stream":"a","data":{"id":2}` + "\n" + stateMsg("a", 2)
	r := run(t, in, "write", "--config", configFile(t, tmp, dest), "--catalog", cat)
	st := r.states()
	if r.code != 1 || len(st) != 1 || string(st[0].Stream.StreamState) != `{"n":1}` {
		t.Fatalf("write with a malformed RECORD: exit %d, stdout:\n%s", r.code, bytes.Join(r.lines, []byte("\n")))
	}
	if !strings.Contains(r.stderr, "line 3") || !strings.Contains(r.stderr, `RECORD of stream "a"`) {
		t.Errorf("the failure does not name the line: %s", r.stderr)
	}
	if lines, _ := readStream(t, dest, "a"); len(lines) != 1 {
		t.Errorf("stream a has %d lines, want the 1 confirmed", len(lines))
	}
}

// TestIncompleteOverwriteKeepsTheFile: goairbyte's Write ends each stream
// with a STREAM_STATUS, INCOMPLETE when its source left the stream
// incomplete; an overwrite stream replaced its file with the part it got
// all the same, and echoed the state that confirmed it. The old file now
// stays, and so does the other streams' commit.
func TestIncompleteOverwriteKeepsTheFile(t *testing.T) {
	tmp, dest := t.TempDir(), filepath.Join(t.TempDir(), "dest")
	cfg := configFile(t, tmp, dest)
	cat := catalogFile(t, tmp, configured("ow", protocol.DestinationOverwrite), configured("app", protocol.DestinationAppend))
	status := func(stream, st string) string {
		return fmt.Sprintf(`{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1,"stream_status":{"stream_descriptor":{"name":%q},"status":%q}}}`+"\n", stream, st)
	}
	sync := func(input string) result { return mustWrite(t, input, cat, cfg) }
	sync(recordMsg("ow", `{"v":1}`) + recordMsg("ow", `{"v":2}`) + stateMsg("ow", 1) + status("ow", "COMPLETE"))
	r := sync(recordMsg("ow", `{"v":3}`) + stateMsg("ow", 2) + recordMsg("app", `{"v":1}`) + stateMsg("app", 1) +
		status("ow", "INCOMPLETE") + status("app", "COMPLETE"))
	lines, _ := readStream(t, dest, "ow")
	if got := field(t, lines, "v"); !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("an overwrite stream ended INCOMPLETE replaced its file: %v", got)
	}
	lines, _ = readStream(t, dest, "app")
	if got := field(t, lines, "v"); !slices.Equal(got, []string{"1"}) {
		t.Errorf("the append stream beside it: %v", got)
	}
	var echoed []string
	for _, st := range r.states() {
		echoed = append(echoed, st.Stream.StreamDescriptor.Name)
	}
	if !slices.Equal(echoed, []string{"app"}) {
		t.Errorf("states echoed for %v, want app's only", echoed)
	}
	if warns := r.logs(protocol.LevelWarn); len(warns) != 1 || !strings.Contains(warns[0], "INCOMPLETE") {
		t.Errorf("warnings %q, want one about the stream kept", warns)
	}
	entries, _ := os.ReadDir(dest)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("work file %s left", e.Name())
		}
	}
}

// mustWrite runs a write of input with the catalog and config files, which
// must succeed.
func mustWrite(t *testing.T, input, cat, cfg string) result {
	t.Helper()
	r := run(t, input, "write", "--catalog", cat, "--config="+cfg)
	if r.code != 0 {
		t.Fatalf("write: code %d, stderr %s, stdout %q", r.code, r.stderr, r.lines)
	}
	return r
}
