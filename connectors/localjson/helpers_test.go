package localjson_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/x/goairbyte/connectors/localjson"
	"github.com/x/goairbyte/internal/protocoltest"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// Binaries built by TestMain: the destination always, the faker when its
// package builds (the pipe test reports fakerBuildErr otherwise).
var (
	destBin       string
	fakerBin      string
	fakerBuildErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "localjson-test-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	root := moduleRoot()
	destBin = filepath.Join(dir, "destination-local-json")
	if out, err := goBuild(root, destBin, "./cmd/destination-local-json"); err != nil {
		fmt.Fprintf(os.Stderr, "building the destination: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	fakerBin = filepath.Join(dir, "source-faker")
	if out, err := goBuild(root, fakerBin, "./cmd/source-faker"); err != nil {
		fakerBuildErr = fmt.Errorf("building ./cmd/source-faker: %v\n%s", err, out)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func goBuild(root, out, pkg string) ([]byte, error) {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	return cmd.CombinedOutput()
}

// moduleRoot is the directory of go.mod, two levels above this package.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// writeJSON writes v (a string is written as it is) to dir/name.
func writeJSON(t testing.TB, dir, name string, v any) string {
	t.Helper()
	var b []byte
	if s, ok := v.(string); ok {
		b = []byte(s)
	} else {
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// configured builds one configured stream.
func configured(name string, mode protocol.DestinationSyncMode, pk ...[]string) protocol.ConfiguredStream {
	return protocol.ConfiguredStream{
		Stream:              protocol.Stream{Name: name, JSONSchema: json.RawMessage(`{"type":"object"}`), SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental}},
		SyncMode:            protocol.SyncIncremental,
		DestinationSyncMode: mode,
		PrimaryKey:          pk,
	}
}

// catalogFile writes a configured catalog, checked against the protocol schema.
func catalogFile(t testing.TB, dir string, streams ...protocol.ConfiguredStream) string {
	t.Helper()
	b, err := json.Marshal(protocol.ConfiguredCatalog{Streams: streams})
	if err != nil {
		t.Fatal(err)
	}
	if err := protocoltest.ValidateConfiguredCatalog(b); err != nil {
		t.Fatalf("test catalog is invalid: %v", err)
	}
	return writeJSON(t, dir, "catalog.json", string(b))
}

func configFile(t testing.TB, dir, dest string) string {
	return writeJSON(t, dir, "config.json", map[string]string{"destination_path": dest})
}

// result is what one in-process Run produced.
type result struct {
	code   int
	lines  [][]byte
	msgs   []*protocol.Message
	stderr string
}

// run runs the connector in process; every stdout line must be a valid
// protocol message.
func run(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := kit.Run(context.Background(), localjson.New(), args, strings.NewReader(stdin), &out, &errb)
	r := result{code: code, stderr: errb.String()}
	for _, l := range bytes.Split(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		if err := protocoltest.ValidateMessage(l); err != nil {
			t.Errorf("stdout line is not a valid Airbyte message: %v\n%s", err, l)
		}
		m := protocol.ParseMessage(l)
		if !m.IsProtocol() {
			t.Errorf("stdout line is not a protocol message: %s", l)
		}
		r.lines = append(r.lines, l)
		r.msgs = append(r.msgs, m)
	}
	return r
}

// states returns the STATE messages of a run, in order.
func (r result) states() []*protocol.State {
	var s []*protocol.State
	for _, m := range r.msgs {
		if m.Type == protocol.TypeState {
			s = append(s, m.State)
		}
	}
	return s
}

// logs returns the LOG messages of a run at the level.
func (r result) logs(level protocol.Level) []string {
	var s []string
	for _, m := range r.msgs {
		if m.Type == protocol.TypeLog && m.Log.Level == level {
			s = append(s, m.Log.Message)
		}
	}
	return s
}

// recordMsg is a RECORD line.
func recordMsg(stream, data string) string {
	return fmt.Sprintf(`{"type":"RECORD","record":{"stream":%q,"data":%s,"emitted_at":1700000000123}}`+"\n", stream, data)
}

// stateMsg is a STREAM STATE line whose state is {"n": n}.
func stateMsg(stream string, n int) string {
	return fmt.Sprintf(`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":%q},"stream_state":{"n":%d}}}}`+"\n", stream, n)
}

// rawLine is one line of a stream file.
type rawLine struct {
	ID        string          `json:"_airbyte_ab_id"`
	EmittedAt int64           `json:"_airbyte_emitted_at"`
	Data      json.RawMessage `json:"_airbyte_data"`
}

// readStream parses every complete line of a stream file (a last line cut
// short by a kill is ignored and reported by the bool).
func readStream(t testing.TB, dir, stream string) (lines []rawLine, partial bool) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "_airbyte_raw_"+stream+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return parseLines(t, f)
}

func parseLines(t testing.TB, f *os.File) (lines []rawLine, partial bool) {
	t.Helper()
	br := bufio.NewReaderSize(f, 1<<20)
	for {
		l, err := br.ReadBytes('\n')
		if len(l) > 0 && l[len(l)-1] != '\n' {
			return lines, true
		}
		if len(l) > 0 {
			var r rawLine
			dec := json.NewDecoder(bytes.NewReader(l))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				t.Fatalf("%s: bad line %q: %v", f.Name(), l, err)
			}
			if len(r.ID) != 26 || r.EmittedAt <= 0 {
				t.Fatalf("%s: line without id or emitted_at: %s", f.Name(), l)
			}
			lines = append(lines, r)
		}
		if err != nil {
			return lines, false
		}
	}
}

// field returns the JSON of a top-level field of each line's data.
func field(t testing.TB, lines []rawLine, name string) []string {
	t.Helper()
	var out []string
	for _, l := range lines {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(l.Data, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, string(m[name]))
	}
	return out
}
