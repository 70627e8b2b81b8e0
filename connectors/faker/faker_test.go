package faker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/x/goairbyte/connectors/faker"
	"github.com/x/goairbyte/internal/protocoltest"
	"github.com/x/goairbyte/internal/shareddata"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// binary is the source-faker executable built once for all tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "source-faker-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "source-faker")
	build := exec.Command("go", "build", "-o", binary, "github.com/x/goairbyte/cmd/source-faker")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building source-faker:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the connector.
type result struct {
	code   int
	msgs   []*protocol.Message
	lines  [][]byte
	stderr string
}

func (r *result) records(stream string) []map[string]any {
	var out []map[string]any
	for _, m := range r.msgs {
		if m.Type == protocol.TypeRecord && m.Record.Stream == stream {
			var d map[string]any
			dec := json.NewDecoder(bytes.NewReader(m.Record.Data))
			dec.UseNumber()
			if err := dec.Decode(&d); err != nil {
				panic(err)
			}
			out = append(out, d)
		}
	}
	return out
}

func (r *result) rawRecords(stream string) []string {
	var out []string
	for _, m := range r.msgs {
		if m.Type == protocol.TypeRecord && m.Record.Stream == stream {
			out = append(out, string(m.Record.Data))
		}
	}
	return out
}

func (r *result) states(stream string) []*protocol.State {
	var out []*protocol.State
	for _, m := range r.msgs {
		if m.Type == protocol.TypeState && m.State.Stream.StreamDescriptor.Name == stream {
			out = append(out, m.State)
		}
	}
	return out
}

func (r *result) traceError(t *testing.T) *protocol.ErrorTrace {
	t.Helper()
	for _, m := range r.msgs {
		if m.Type == protocol.TypeTrace && m.Trace.Type == protocol.TraceError {
			return m.Trace.Error
		}
	}
	t.Fatalf("no TRACE ERROR in output (exit %d, stderr %q)", r.code, r.stderr)
	return nil
}

// The two ways to run the connector: the Go entry point and the binary.
var modes = []string{"func", "binary"}

// run runs the connector and checks that every stdout line is a valid
// protocol message.
func run(t *testing.T, mode string, args ...string) *result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	r := &result{}
	switch mode {
	case "func":
		r.code = kit.Run(context.Background(), faker.New(), args, strings.NewReader(""), &stdout, &stderr)
	case "binary":
		cmd := exec.Command(binary, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			r.code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("running %s: %v", binary, err)
		}
	}
	r.stderr = stderr.String()
	for line := range bytes.Lines(stdout.Bytes()) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		if err := protocoltest.ValidateMessage(line); err != nil {
			t.Fatalf("invalid protocol message %s: %v", line, err)
		}
		m := protocol.ParseMessage(line)
		if !m.IsProtocol() {
			t.Fatalf("not a protocol message: %s", line)
		}
		r.lines = append(r.lines, bytes.Clone(line))
		r.msgs = append(r.msgs, m)
	}
	return r
}

func writeJSON(t *testing.T, name string, v any) string {
	t.Helper()
	var raw []byte
	switch v := v.(type) {
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func catalogFile(t *testing.T, mode protocol.SyncMode, streams ...string) string {
	t.Helper()
	cc := faker.ConfiguredCatalog(mode, streams...)
	raw, _ := json.Marshal(cc)
	if err := protocoltest.ValidateConfiguredCatalog(raw); err != nil {
		t.Fatalf("ConfiguredCatalog is not valid: %v", err)
	}
	return writeJSON(t, "catalog.json", raw)
}

// read runs a read with the given config and state (nil for none).
func read(t *testing.T, mode string, cfg map[string]any, syncMode protocol.SyncMode, state any, streams ...string) *result {
	t.Helper()
	args := []string{"read", "--config", writeJSON(t, "config.json", cfg), "--catalog", catalogFile(t, syncMode, streams...)}
	if state != nil {
		args = append(args, "--state", writeJSON(t, "state.json", state))
	}
	r := run(t, mode, args...)
	if r.code != 0 {
		t.Fatalf("read exited %d: %s", r.code, r.stderr)
	}
	return r
}

func TestSpec(t *testing.T) {
	want, err := os.ReadFile("spec.json")
	if err != nil {
		t.Fatal(err)
	}
	var wantSpec struct {
		ConnectionSpecification any `json:"connectionSpecification"`
	}
	if err := json.Unmarshal(want, &wantSpec); err != nil {
		t.Fatal(err)
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			r := run(t, mode, "spec")
			if r.code != 0 || len(r.msgs) != 1 || r.msgs[0].Type != protocol.TypeSpec {
				t.Fatalf("spec: exit %d, messages %d, stderr %q", r.code, len(r.msgs), r.stderr)
			}
			var got any
			if err := json.Unmarshal(r.msgs[0].Spec.ConnectionSpecification, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, wantSpec.ConnectionSpecification) {
				t.Errorf("connectionSpecification differs from spec.json:\n%s", r.msgs[0].Spec.ConnectionSpecification)
			}
		})
	}
	if faker.Version != "0.1.0" {
		t.Errorf("Version = %q", faker.Version)
	}
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name, config string
		wantOK       bool
		wantInMsg    []string
	}{
		{"empty object uses defaults", `{}`, true, nil},
		{"full config", `{"count":10,"seed":5,"records_per_slice":3,"always_updated":false,"parallelism":2}`, true, nil},
		{"extra fields allowed", `{"count":10,"future_option":true}`, true, nil},
		{"count zero", `{"count":0}`, false, []string{`"count"`, "minimum"}},
		{"count a string", `{"count":"ten"}`, false, []string{`"count"`, "string", "integer"}},
		{"count fractional", `{"count":2.5}`, false, []string{`"count"`, "integer"}},
		{"seed a string", `{"seed":"abc"}`, false, []string{`"seed"`, "want integer"}},
		{"records_per_slice zero", `{"records_per_slice":0}`, false, []string{`"records_per_slice"`, "minimum"}},
		{"parallelism negative", `{"parallelism":-3}`, false, []string{`"parallelism"`, "minimum"}},
		{"always_updated not bool", `{"always_updated":"yes"}`, false, []string{`"always_updated"`, "boolean"}},
		{"two bad fields", `{"count":-1,"parallelism":0}`, false, []string{`"count"`, `"parallelism"`}},
		{"not JSON", `{"count":`, false, []string{"not valid JSON"}},
		{"not an object", `[1,2]`, false, []string{"JSON object"}},
	}
	for _, mode := range modes {
		for _, c := range cases {
			t.Run(mode+"/"+c.name, func(t *testing.T) {
				r := run(t, mode, "check", "--config", writeJSON(t, "config.json", c.config))
				if r.code != 0 {
					t.Fatalf("check exited %d (a failed check must exit 0): %s", r.code, r.stderr)
				}
				if len(r.msgs) != 1 || r.msgs[0].Type != protocol.TypeConnectionStatus {
					t.Fatalf("want one CONNECTION_STATUS, got %d messages", len(r.msgs))
				}
				st := r.msgs[0].ConnectionStatus
				if (st.Status == protocol.StatusSucceeded) != c.wantOK {
					t.Fatalf("status %s (%s), want ok=%t", st.Status, st.Message, c.wantOK)
				}
				for _, s := range c.wantInMsg {
					if !strings.Contains(st.Message, s) {
						t.Errorf("message %q does not mention %q", st.Message, s)
					}
				}
			})
		}
	}
	t.Run("missing file", func(t *testing.T) {
		r := run(t, "func", "check", "--config", filepath.Join(t.TempDir(), "nope.json"))
		if r.code != 0 || r.msgs[0].ConnectionStatus.Status != protocol.StatusFailed ||
			!strings.Contains(r.msgs[0].ConnectionStatus.Message, "cannot read the config file") {
			t.Fatalf("got exit %d, %+v", r.code, r.msgs[0].ConnectionStatus)
		}
	})
}

// compiledSchemas compiles the discovered streams' JSON schemas.
func compiledSchemas(t *testing.T, cat *protocol.Catalog) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	out := map[string]*jsonschema.Schema{}
	for _, s := range cat.Streams {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(s.JSONSchema))
		if err != nil {
			t.Fatal(err)
		}
		url := "https://goairbyte.local/test/" + s.Name + ".json"
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
		if out[s.Name], err = c.Compile(url); err != nil {
			t.Fatalf("schema of %s: %v", s.Name, err)
		}
	}
	return out
}

// The embedded schemas must still be source-faker's own.
func TestSchemasAreSourceFakers(t *testing.T) {
	dir := shareddata.Need(t, "faker/schemas")
	for _, name := range []string{"users", "products", "purchases"} {
		orig, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join("schemas", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(orig, raw) {
			t.Errorf("schemas/%s.json drifted from the shared faker/schemas", name)
		}
	}
}

func TestDiscover(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			r := run(t, mode, "discover", "--config", writeJSON(t, "config.json", `{"count":5}`))
			if r.code != 0 || len(r.msgs) != 1 || r.msgs[0].Type != protocol.TypeCatalog {
				t.Fatalf("discover: exit %d, %d messages, stderr %q", r.code, len(r.msgs), r.stderr)
			}
			cat := r.msgs[0].Catalog
			var names []string
			for _, s := range cat.Streams {
				names = append(names, s.Name)
				var got, want any
				_ = json.Unmarshal(s.JSONSchema, &got)
				raw, err := os.ReadFile(filepath.Join("schemas", s.Name+".json"))
				if err != nil {
					t.Fatal(err)
				}
				_ = json.Unmarshal(raw, &want)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: json_schema differs from schemas/%s.json", s.Name, s.Name)
				}
				if !s.Supports(protocol.SyncFullRefresh) || !s.Supports(protocol.SyncIncremental) ||
					s.SourceDefinedCursor == nil || !*s.SourceDefinedCursor ||
					!reflect.DeepEqual(s.DefaultCursorField, []string{"updated_at"}) ||
					!reflect.DeepEqual(s.SourceDefinedPrimaryKey, [][]string{{"id"}}) {
					t.Errorf("%s: wrong sync modes, cursor or primary key: %+v", s.Name, s)
				}
			}
			if !reflect.DeepEqual(names, []string{"products", "users", "purchases"}) {
				t.Errorf("streams %v", names)
			}
			compiledSchemas(t, cat)
		})
	}
}

func TestConfigErrorsAreTraceErrors(t *testing.T) {
	good := `{"count":5}`
	cases := []struct {
		name   string
		args   func(t *testing.T) []string
		inMsg  string
		failTy protocol.FailureType
	}{
		{"discover bad config", func(t *testing.T) []string {
			return []string{"discover", "--config", writeJSON(t, "c.json", `{"count":"x"}`)}
		}, `"count"`, protocol.FailureConfig},
		{"read bad config", func(t *testing.T) []string {
			return []string{"read", "--config", writeJSON(t, "c.json", `{"records_per_slice":0}`), "--catalog", catalogFile(t, protocol.SyncFullRefresh)}
		}, `"records_per_slice"`, protocol.FailureConfig},
		{"read missing config", func(t *testing.T) []string {
			return []string{"read", "--config", filepath.Join(t.TempDir(), "none.json"), "--catalog", catalogFile(t, protocol.SyncFullRefresh)}
		}, "cannot read the config file", protocol.FailureConfig},
		{"read unknown stream", func(t *testing.T) []string {
			cat := `{"streams":[{"stream":{"name":"orders","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`
			return []string{"read", "--config", writeJSON(t, "c.json", good), "--catalog", writeJSON(t, "k.json", cat)}
		}, `no stream "orders"`, protocol.FailureConfig},
		{"read catalog not JSON", func(t *testing.T) []string {
			return []string{"read", "--config", writeJSON(t, "c.json", good), "--catalog", writeJSON(t, "k.json", "streams:")}
		}, "invalid configured catalog", protocol.FailureConfig},
		{"read bad state", func(t *testing.T) []string {
			return []string{"read", "--config", writeJSON(t, "c.json", good), "--catalog", catalogFile(t, protocol.SyncIncremental),
				"--state", writeJSON(t, "s.json", `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"id":"ten"}}}]`)}
		}, "invalid source-faker state", protocol.FailureConfig},
	}
	for _, mode := range modes {
		for _, c := range cases {
			t.Run(mode+"/"+c.name, func(t *testing.T) {
				r := run(t, mode, c.args(t)...)
				if r.code != 1 {
					t.Fatalf("exit code %d, want 1", r.code)
				}
				e := r.traceError(t)
				if e.FailureType != c.failTy || !strings.Contains(e.Message, c.inMsg) {
					t.Errorf("got %s %q, want %s mentioning %q", e.FailureType, e.Message, c.failTy, c.inMsg)
				}
				for _, m := range r.msgs {
					if m.Type == protocol.TypeRecord {
						t.Fatal("records emitted despite the error")
					}
				}
			})
		}
	}
}

func TestArguments(t *testing.T) {
	cfg := writeJSON(t, "c.json", `{"count":3,"seed":1,"always_updated":false}`)
	cat := catalogFile(t, protocol.SyncFullRefresh, "users")
	orders := [][]string{
		{"read", "--config", cfg, "--catalog", cat},
		{"read", "--catalog", cat, "--config", cfg},
		{"read", "--catalog=" + cat, "--config=" + cfg},
	}
	for _, mode := range modes {
		var first []string
		for i, args := range orders {
			r := run(t, mode, args...)
			if r.code != 0 {
				t.Fatalf("%s %v: exit %d: %s", mode, args, r.code, r.stderr)
			}
			if i == 0 {
				first = r.rawRecords("users")
			} else if !reflect.DeepEqual(first, r.rawRecords("users")) || len(first) != 3 {
				t.Errorf("%s %v: records differ", mode, args)
			}
		}
		for _, bad := range [][]string{{}, {"write"}, {"read", "--config", cfg}, {"check"}, {"read", "--config"}, {"spec", "--verbose"}} {
			r := run(t, mode, bad...)
			if r.code != 2 || r.stderr == "" || len(r.msgs) != 0 {
				t.Errorf("%s %v: exit %d, stderr %q; want 2 and a usage message", mode, bad, r.code, r.stderr)
			}
		}
	}
}

// checkFlow checks the message sequence of every stream: STARTED, ESTIMATE,
// RUNNING, records and states, COMPLETE, and the streams in catalog order.
func checkFlow(t *testing.T, r *result, wantStreams []string, wantRows map[string]int) {
	t.Helper()
	var order []string
	phase := map[string]int{} // 0 none, 1 started, 2 estimated, 3 running, 4 complete
	current := ""
	for _, m := range r.msgs {
		switch m.Type {
		case protocol.TypeTrace:
			switch m.Trace.Type {
			case protocol.TraceStreamStatus:
				name, st := m.Trace.StreamStatus.StreamDescriptor.Name, m.Trace.StreamStatus.Status
				want := map[protocol.StreamStatus]int{protocol.StatusStarted: 0, protocol.StatusRunning: 2, protocol.StatusComplete: 3}[st]
				if phase[name] != want {
					t.Fatalf("%s: %s in phase %d", name, st, phase[name])
				}
				phase[name]++
				if st == protocol.StatusStarted {
					if current != "" {
						t.Fatalf("%s started while %s still running", name, current)
					}
					current = name
					order = append(order, name)
				}
				if st == protocol.StatusComplete {
					phase[name] = 4
					current = ""
				}
			case protocol.TraceEstimate:
				name := m.Trace.Estimate.Name
				if phase[name] != 1 {
					t.Fatalf("%s: ESTIMATE in phase %d", name, phase[name])
				}
				phase[name] = 2
				if got := *m.Trace.Estimate.RowEstimate; got != int64(wantRows[name]) {
					t.Errorf("%s: row_estimate %d, want %d", name, got, wantRows[name])
				}
			}
		case protocol.TypeRecord:
			if m.Record.Stream != current || phase[current] != 3 {
				t.Fatalf("record of %s outside its RUNNING phase", m.Record.Stream)
			}
		case protocol.TypeState:
			if name := m.State.Stream.StreamDescriptor.Name; name != current {
				t.Fatalf("state of %s while %s is running", name, current)
			}
		}
	}
	if !reflect.DeepEqual(order, wantStreams) {
		t.Errorf("streams read %v, want %v", order, wantStreams)
	}
	for _, s := range wantStreams {
		if phase[s] != 4 {
			t.Errorf("%s never completed", s)
		}
	}
}

func wantPurchases(count int) int {
	if d := count % 10; d == 7 || d == 8 {
		return count - 1
	}
	return count
}

func TestReadCounts(t *testing.T) {
	schemas := compiledSchemas(t, faker.Catalog())
	for _, mode := range modes {
		for _, count := range []int{1, 6, 7, 25, 27, 28, 29, 150, 1000} {
			t.Run(fmt.Sprintf("%s/count%d", mode, count), func(t *testing.T) {
				r := read(t, mode, map[string]any{"count": count, "seed": 42, "records_per_slice": 100}, protocol.SyncFullRefresh, nil)
				want := map[string]int{"products": min(count, 100), "users": count, "purchases": wantPurchases(count)}
				checkFlow(t, r, []string{"products", "users", "purchases"}, want)
				users := r.records("users")
				emails := map[string]bool{}
				for i, u := range users {
					if id := fmt.Sprint(u["id"]); id != fmt.Sprint(i+1) {
						t.Fatalf("user %d has id %s", i+1, id)
					}
					email := u["email"].(string)
					if emails[email] || !strings.Contains(email, "@") {
						t.Fatalf("email %q duplicate or malformed", email)
					}
					emails[email] = true
				}
				purchases := r.records("purchases")
				perUser := map[string]int{}
				for i, p := range purchases {
					if id := fmt.Sprint(p["id"]); id != fmt.Sprint(i+1) {
						t.Fatalf("purchase %d has id %s: ids must be contiguous from 1", i+1, id)
					}
					perUser[fmt.Sprint(p["user_id"])]++
					pid := p["product_id"].(json.Number).String()
					if n := len(pid); n == 0 || pid == "0" || (count < 100 && mustInt(pid) > count) || mustInt(pid) > 100 {
						t.Fatalf("purchase %d: product_id %s has no product", i+1, pid)
					}
				}
				for u := 1; u <= count; u++ {
					want := 1
					switch (u - 1) % 10 {
					case 6:
						want = 0
					case 8:
						want = 2
					}
					if perUser[fmt.Sprint(u)] != want {
						t.Fatalf("user %d has %d purchases, want %d", u, perUser[fmt.Sprint(u)], want)
					}
				}
				for _, stream := range []string{"products", "users", "purchases"} {
					if got := len(r.rawRecords(stream)); got != want[stream] {
						t.Errorf("%s: %d records, want %d", stream, got, want[stream])
					}
					for _, raw := range r.rawRecords(stream) {
						inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(raw))
						if err := schemas[stream].Validate(inst); err != nil {
							t.Fatalf("%s record %s does not match its schema: %v", stream, raw, err)
						}
					}
				}
			})
		}
	}
}

func mustInt(s string) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		panic(err)
	}
	return n
}

func TestReadOnlyCatalogStreamsInOrder(t *testing.T) {
	cat := faker.ConfiguredCatalog(protocol.SyncFullRefresh, "purchases", "products")
	// List them backwards: the read order is still products, then purchases.
	cat.Streams[0], cat.Streams[1] = cat.Streams[1], cat.Streams[0]
	raw, _ := json.Marshal(cat)
	for _, mode := range modes {
		r := run(t, mode, "read", "--config", writeJSON(t, "c.json", `{"count":12}`), "--catalog", writeJSON(t, "k.json", raw))
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		checkFlow(t, r, []string{"products", "purchases"}, map[string]int{"products": 12, "purchases": 12})
	}
}

func TestStatesPerSlice(t *testing.T) {
	cases := []struct{ count, rps int }{{25, 10}, {25, 5}, {25, 1}, {25, 1000}, {3000, 1000}, {2500, 700}, {5000, 3000}}
	for _, mode := range modes {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/count%d_rps%d", mode, c.count, c.rps), func(t *testing.T) {
				r := read(t, mode, map[string]any{"count": c.count, "seed": 1, "records_per_slice": c.rps, "parallelism": 3}, protocol.SyncIncremental, nil, "users", "purchases")
				for _, stream := range []string{"users", "purchases"} {
					total := c.count
					if stream == "purchases" {
						total = wantPurchases(c.count)
					}
					// Between two states exactly recordCount records of the stream.
					var since, emitted int
					var prev []byte
					var states int
					for i, m := range r.msgs {
						switch {
						case m.Type == protocol.TypeRecord && m.Record.Stream == stream:
							since++
							emitted++
						case m.Type == protocol.TypeState && m.State.Stream.StreamDescriptor.Name == stream:
							states++
							if *m.State.SourceStats.RecordCount != float64(since) {
								t.Fatalf("state %d: recordCount %v, but %d records since the last state", states, *m.State.SourceStats.RecordCount, since)
							}
							if since != c.rps && emitted != total {
								t.Fatalf("state after %d records mid-stream, want every %d", since, c.rps)
							}
							if bytes.Equal(prev, r.lines[i]) {
								t.Fatalf("two identical states in a row: %s", r.lines[i])
							}
							prev = r.lines[i]
							var ss struct{ ID int }
							_ = json.Unmarshal(m.State.Stream.StreamState, &ss)
							if ss.ID != emitted {
								t.Fatalf("state id %d after %d records", ss.ID, emitted)
							}
							since = 0
						}
					}
					if since != 0 || emitted != total {
						t.Fatalf("%d records after the last state; %d emitted of %d", since, emitted, total)
					}
					if want := (total + c.rps - 1) / c.rps; states != want {
						t.Errorf("%d states, want %d", states, want)
					}
				}
			})
		}
	}
}

// stripUpdatedAt removes updated_at from raw record data.
func stripUpdatedAt(t *testing.T, raws []string) []string {
	out := make([]string, len(raws))
	for i, r := range raws {
		var m map[string]any
		if err := json.Unmarshal([]byte(r), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "updated_at")
		b, _ := json.Marshal(m)
		out[i] = string(b)
	}
	return out
}

func TestDeterministicWhateverParallelism(t *testing.T) {
	streams := []string{"products", "users", "purchases"}
	for _, always := range []bool{false, true} {
		var ref *result
		for _, p := range []int{1, 4, 2, 7} {
			cfg := map[string]any{"count": 5003, "seed": 1234, "records_per_slice": 777, "parallelism": p, "always_updated": always}
			r := read(t, "binary", cfg, protocol.SyncFullRefresh, nil)
			if ref == nil {
				ref = r
				continue
			}
			for _, s := range streams {
				a, b := ref.rawRecords(s), r.rawRecords(s)
				if always {
					a, b = stripUpdatedAt(t, a), stripUpdatedAt(t, b)
				}
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("always_updated=%t: %s differ between parallelism 1 and %d", always, s, p)
				}
			}
		}
	}
	// Another seed gives other data; seed -1 a random one each read.
	a := read(t, "func", map[string]any{"count": 50, "seed": 1}, protocol.SyncFullRefresh, nil, "users")
	b := read(t, "func", map[string]any{"count": 50, "seed": 2}, protocol.SyncFullRefresh, nil, "users")
	c := read(t, "func", map[string]any{"count": 50}, protocol.SyncFullRefresh, nil, "users")
	d := read(t, "func", map[string]any{"count": 50}, protocol.SyncFullRefresh, nil, "users")
	if reflect.DeepEqual(stripUpdatedAt(t, a.rawRecords("users")), stripUpdatedAt(t, b.rawRecords("users"))) ||
		reflect.DeepEqual(stripUpdatedAt(t, c.rawRecords("users")), stripUpdatedAt(t, d.rawRecords("users"))) {
		t.Error("different seeds gave the same users")
	}
}

// lastStates collects the last STATE message of each stream, as a caller
// would persist them for the next read.
func lastStates(r *result) []json.RawMessage {
	last := map[string]json.RawMessage{}
	var order []string
	for i, m := range r.msgs {
		if m.Type == protocol.TypeState {
			name := m.State.Stream.StreamDescriptor.Name
			if _, ok := last[name]; !ok {
				order = append(order, name)
			}
			var env struct {
				State json.RawMessage `json:"state"`
			}
			_ = json.Unmarshal(r.lines[i], &env)
			last[name] = env.State
		}
	}
	var out []json.RawMessage
	for _, n := range order {
		out = append(out, last[n])
	}
	return out
}

func ids(t *testing.T, r *result, stream string) []int {
	var out []int
	for _, rec := range r.records(stream) {
		out = append(out, mustInt(rec["id"].(json.Number).String()))
	}
	return out
}

func span(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestIncrementalNotAlwaysUpdated(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			cfg := map[string]any{"count": 25, "seed": 9, "records_per_slice": 10, "always_updated": false}
			first := read(t, mode, cfg, protocol.SyncIncremental, nil)
			state := lastStates(first)
			if len(state) != 3 {
				t.Fatalf("want a final state per stream, got %d", len(state))
			}
			// Same count, with the state: nothing new, but each stream still
			// confirms its state.
			again := read(t, mode, cfg, protocol.SyncIncremental, state)
			for _, s := range []string{"products", "users", "purchases"} {
				if n := len(again.rawRecords(s)); n != 0 {
					t.Errorf("%s: %d records re-emitted, want 0", s, n)
				}
				if len(again.states(s)) != 1 {
					t.Errorf("%s: %d states, want 1", s, len(again.states(s)))
				}
			}
			checkFlow(t, again, []string{"products", "users", "purchases"}, map[string]int{})

			// A larger count: only the new users, purchases and products.
			cfg["count"] = 58
			more := read(t, mode, cfg, protocol.SyncIncremental, state)
			if got := ids(t, more, "users"); !reflect.DeepEqual(got, span(26, 58)) {
				t.Errorf("users %v, want 26..58", got)
			}
			if got := ids(t, more, "purchases"); !reflect.DeepEqual(got, span(26, 57)) {
				t.Errorf("purchases %v, want 26..57", got)
			}
			if got := ids(t, more, "products"); !reflect.DeepEqual(got, span(26, 58)) {
				t.Errorf("products %v, want 26..58", got)
			}
			// The new records are the ones a single read of 58 would give.
			full := read(t, mode, cfg, protocol.SyncIncremental, nil)
			if !reflect.DeepEqual(full.rawRecords("users")[25:], more.rawRecords("users")) ||
				!reflect.DeepEqual(full.rawRecords("purchases")[25:], more.rawRecords("purchases")) {
				t.Error("incremental records differ from the full read's")
			}
			// Full refresh ignores the state.
			fr := read(t, mode, cfg, protocol.SyncFullRefresh, state, "users")
			if n := len(fr.rawRecords("users")); n != 58 {
				t.Errorf("full_refresh with state: %d users, want 58", n)
			}
		})
	}
}

func TestStateForms(t *testing.T) {
	cfg := map[string]any{"count": 30, "seed": 3, "always_updated": false}
	stream := `{"stream_descriptor":{"name":"users"},"stream_state":{"id":20,"updated_at":"2024-01-01T00:00:00+00:00"}}`
	forms := map[string]string{
		"STREAM list":      `[{"type":"STREAM","stream":` + stream + `}]`,
		"STREAM single":    `{"type":"STREAM","stream":` + stream + `}`,
		"AirbyteMessage":   `[{"type":"STATE","state":{"type":"STREAM","stream":` + stream + `}}]`,
		"GLOBAL":           `[{"type":"GLOBAL","global":{"shared_state":{},"stream_states":[` + stream + `]}}]`,
		"LEGACY message":   `[{"type":"LEGACY","data":{"users":{"id":20}}}]`,
		"LEGACY untyped":   `{"data":{"users":{"id":20}}}`,
		"LEGACY bare":      `{"users":{"id":20,"updated_at":"2024-01-01T00:00:00+00:00"}}`,
		"source-faker own": `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"seed":3,"updated_at":"2024-01-01T00:00:00+00:00","loop_offset":20}}}]`,
	}
	for name, state := range forms {
		t.Run(name, func(t *testing.T) {
			r := read(t, "func", cfg, protocol.SyncIncremental, state, "users")
			if got := ids(t, r, "users"); !reflect.DeepEqual(got, span(21, 30)) {
				t.Errorf("users %v, want 21..30", got)
			}
		})
	}
	for _, empty := range []string{"", "[]", "{}", "null"} {
		r := read(t, "func", cfg, protocol.SyncIncremental, empty, "users")
		if n := len(r.rawRecords("users")); n != 30 {
			t.Errorf("state %q: %d users, want 30", empty, n)
		}
	}
}

func TestAlwaysUpdatedReemitsWithFreshUpdatedAt(t *testing.T) {
	cfg := map[string]any{"count": 15, "seed": 5, "records_per_slice": 4}
	first := read(t, "binary", cfg, protocol.SyncIncremental, nil)
	second := read(t, "binary", cfg, protocol.SyncIncremental, lastStates(first))
	for _, s := range []string{"products", "users", "purchases"} {
		a, b := first.records(s), second.records(s)
		if len(a) != 15 || len(b) != len(a) {
			t.Fatalf("%s: %d then %d records, want 15 each", s, len(a), len(b))
		}
		for i := range a {
			ua, ub := a[i]["updated_at"].(string), b[i]["updated_at"].(string)
			if ub <= ua { // same format and zone, so text order is time order
				t.Fatalf("%s %d: updated_at %s not after the previous read's %s", s, i+1, ub, ua)
			}
		}
		if !reflect.DeepEqual(stripUpdatedAt(t, first.rawRecords(s)), stripUpdatedAt(t, second.rawRecords(s))) {
			t.Errorf("%s: records differ beyond updated_at", s)
		}
	}
}

// failingWriter fails every write: stdout is gone.
type failingWriter struct{}

func (failingWriter) Write(p []byte) (int, error) { return 0, errors.New("broken pipe") }

func TestReadStopsOnCancelAndWriteErrors(t *testing.T) {
	config := []byte(`{"count":100000000,"parallelism":4,"seed":1}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	err := faker.New().Read(ctx, config, faker.ConfiguredCatalog(protocol.SyncFullRefresh, "users"), nil, func(m *protocol.Message) error {
		if n++; n == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel: %v, want context.Canceled", err)
	}
	if n > 10_000_000 {
		t.Errorf("Read went on for %d messages after the cancel", n)
	}

	// emit's error stops the read and is returned.
	stop := errors.New("receiver gone")
	n = 0
	err = faker.New().Read(context.Background(), config, faker.ConfiguredCatalog(protocol.SyncFullRefresh, "users"), nil, func(m *protocol.Message) error {
		if n++; n >= 5000 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 5000 {
		t.Errorf("Read after emit failed: %v after %d messages, want the emit error after 5000", err, n)
	}

	var stderr bytes.Buffer
	code := kit.Run(context.Background(), faker.New(), []string{"read", "--config", writeJSON(t, "c.json", `{"count":100000000}`),
		"--catalog", catalogFile(t, protocol.SyncFullRefresh, "users")}, nil, failingWriter{}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "broken pipe") {
		t.Errorf("Run with a failing stdout: exit %d, stderr %q; want 1 and the write error", code, stderr.String())
	}
}

// TestInProcessRecordsCanBeKept reads in process, keeping every message as
// an in-process runner may, and checks that what was kept is, at the end,
// byte for byte what the binary writes: no record's memory was reused.
func TestInProcessRecordsCanBeKept(t *testing.T) {
	for _, p := range []int{1, 3} {
		t.Run(fmt.Sprintf("parallelism=%d", p), func(t *testing.T) {
			cfg := map[string]any{"count": 5003, "seed": 77, "records_per_slice": 777, "parallelism": p, "always_updated": false}
			want := read(t, "binary", cfg, protocol.SyncIncremental, nil)
			raw, _ := json.Marshal(cfg)
			var kept []*protocol.Message
			err := faker.New().Read(context.Background(), raw, faker.ConfiguredCatalog(protocol.SyncIncremental), nil, func(m *protocol.Message) error {
				kept = append(kept, m)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range kept {
				if m.Type == protocol.TypeRecord {
					got = append(got, m.Record.Stream+" "+string(m.Record.Data))
				}
			}
			var exp []string
			for _, m := range want.msgs {
				if m.Type == protocol.TypeRecord {
					exp = append(exp, m.Record.Stream+" "+string(m.Record.Data))
				}
			}
			if len(got) != len(exp) || len(got) != 100+5003+wantPurchases(5003) {
				t.Fatalf("%d records kept, the binary wrote %d", len(got), len(exp))
			}
			for i := range got {
				if got[i] != exp[i] {
					t.Fatalf("record %d kept as %s, the binary wrote %s", i, got[i], exp[i])
				}
			}
			if len(kept) != len(want.msgs) {
				t.Errorf("%d messages in process, %d from the binary", len(kept), len(want.msgs))
			}
		})
	}
}
