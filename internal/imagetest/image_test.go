package imagetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/x/goairbyte/connectors/faker"
	"github.com/x/goairbyte/connectors/localjson"
	"github.com/x/goairbyte/internal/protocoltest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// count is the faker's count: with 100 users the faker emits 100 products
// (all of them), 100 users and 100 purchases (purchases = count unless
// count ends in 7 or 8).
const count = 100

var wantRecords = map[string]int{"products": 100, "users": count, "purchases": count}

// run runs one connector command in a container with dir mounted at /data,
// as the calling user so that files it writes belong to the test. It fails
// the test unless the container exits with want.
func run(ctx context.Context, t *testing.T, cli *client.Client, image, dir string, stdin []byte, wantExit int64, args ...string) []byte {
	t.Helper()
	res := testenv.RunContainer(ctx, t, cli, testenv.ContainerRun{
		Image: image,
		Args:  args,
		Stdin: stdin,
		Binds: []string{dir + ":/data"},
		User:  fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()),
	})
	if res.ExitCode != wantExit {
		t.Fatalf("%s %s: exit code %d, want %d\nstderr:\n%s\nstdout (head):\n%.2000s", image, strings.Join(args, " "), res.ExitCode, wantExit, res.Stderr, res.Stdout)
	}
	return res.Stdout
}

// messages decodes a connector's stdout, requiring every line to be a
// protocol message that is valid against the protocol's JSON schema.
func messages(t *testing.T, out []byte) []*protocol.Message {
	t.Helper()
	var msgs []*protocol.Message
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if err := protocoltest.ValidateMessage(line); err != nil {
			t.Fatalf("invalid protocol line %s: %v", line, err)
		}
		var m protocol.Message
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %s: %v", line, err)
		}
		msgs = append(msgs, &m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return msgs
}

func only(t *testing.T, msgs []*protocol.Message, typ protocol.Type) *protocol.Message {
	t.Helper()
	var found *protocol.Message
	for _, m := range msgs {
		if m.Type == typ {
			if found != nil {
				t.Fatalf("more than one %s message", typ)
			}
			found = m
		}
	}
	if found == nil {
		t.Fatalf("no %s message among %d", typ, len(msgs))
	}
	return found
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestImageVersions keeps the image tags testenv builds in step with the
// connectors' own versions.
func TestImageVersions(t *testing.T) {
	for name, v := range map[string]string{"faker.Version": faker.Version, "localjson.Version": localjson.Version} {
		if v != testenv.ConnectorVersion {
			t.Errorf("testenv builds images tagged %s but %s is %s: both should be internal/builtin's", testenv.ConnectorVersion, name, v)
		}
	}
}

// TestConnectorImages is the end-to-end check of both images: the faker's
// spec, check (good and bad config), discover and read, then the
// destination's spec, check and write fed with that read, inside containers.
func TestConnectorImages(t *testing.T) {
	cli := testenv.Docker(t)
	faker := testenv.FakerImage(t, cli)
	dest := testenv.LocalJSONImage(t, cli)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, "config.json"), map[string]any{"count": count, "seed": 42})
	writeJSON(t, filepath.Join(dir, "bad.json"), map[string]any{"count": "many"})

	// spec: one SPEC whose config schema offers the faker's options.
	spec := only(t, messages(t, run(ctx, t, cli, faker, dir, nil, 0, "spec")), protocol.TypeSpec)
	for _, opt := range []string{"count", "seed", "records_per_slice", "always_updated", "parallelism"} {
		if !bytes.Contains(spec.Spec.ConnectionSpecification, []byte(`"`+opt+`"`)) {
			t.Errorf("faker spec lacks option %q", opt)
		}
	}

	// check: SUCCEEDED for a good config, FAILED naming the field for a bad one.
	st := only(t, messages(t, run(ctx, t, cli, faker, dir, nil, 0, "check", "--config", "/data/config.json")), protocol.TypeConnectionStatus)
	if st.ConnectionStatus.Status != protocol.StatusSucceeded {
		t.Fatalf("check of a good config: %+v", st.ConnectionStatus)
	}
	st = only(t, messages(t, run(ctx, t, cli, faker, dir, nil, 0, "check", "--config", "/data/bad.json")), protocol.TypeConnectionStatus)
	if st.ConnectionStatus.Status != protocol.StatusFailed || !strings.Contains(st.ConnectionStatus.Message, "count") {
		t.Fatalf("check of {\"count\":\"many\"}: %+v, want FAILED naming count", st.ConnectionStatus)
	}

	// discover: products, users, purchases, in that order.
	cat := only(t, messages(t, run(ctx, t, cli, faker, dir, nil, 0, "discover", "--config", "/data/config.json")), protocol.TypeCatalog)
	var names []string
	configured := protocol.ConfiguredCatalog{}
	for _, s := range cat.Catalog.Streams {
		names = append(names, s.Name)
		configured.Streams = append(configured.Streams, protocol.ConfiguredStream{
			Stream:              s,
			SyncMode:            protocol.SyncFullRefresh,
			DestinationSyncMode: protocol.DestinationOverwrite,
		})
	}
	if got := strings.Join(names, ","); got != "products,users,purchases" {
		t.Fatalf("discovered streams %s, want products,users,purchases", got)
	}
	writeJSON(t, filepath.Join(dir, "catalog.json"), configured)
	raw, _ := os.ReadFile(filepath.Join(dir, "catalog.json"))
	if err := protocoltest.ValidateConfiguredCatalog(raw); err != nil {
		t.Fatalf("configured catalog: %v", err)
	}

	// read: the expected records per stream, and states.
	out := run(ctx, t, cli, faker, dir, nil, 0, "read", "--config", "/data/config.json", "--catalog", "/data/catalog.json")
	got := map[string]int{}
	states := 0
	for _, m := range messages(t, out) {
		switch m.Type {
		case protocol.TypeRecord:
			got[m.Record.Stream]++
		case protocol.TypeState:
			states++
		}
	}
	for s, n := range wantRecords {
		if got[s] != n {
			t.Errorf("read emitted %d %s records, want %d", got[s], s, n)
		}
	}
	if states == 0 {
		t.Error("read emitted no STATE message")
	}

	// The destination: spec and check, then write the faker's output.
	only(t, messages(t, run(ctx, t, cli, dest, dir, nil, 0, "spec")), protocol.TypeSpec)
	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeJSON(t, filepath.Join(dir, "dest.json"), map[string]any{"destination_path": "/data/out"})
	st = only(t, messages(t, run(ctx, t, cli, dest, dir, nil, 0, "check", "--config", "/data/dest.json")), protocol.TypeConnectionStatus)
	if st.ConnectionStatus.Status != protocol.StatusSucceeded {
		t.Fatalf("destination check: %+v", st.ConnectionStatus)
	}
	echoed := 0
	for _, m := range messages(t, run(ctx, t, cli, dest, dir, out, 0, "write", "--config", "/data/dest.json", "--catalog", "/data/catalog.json")) {
		if m.Type == protocol.TypeState {
			echoed++
		}
	}
	if echoed != states {
		t.Errorf("destination echoed %d states, the source emitted %d", echoed, states)
	}
	for s, n := range wantRecords {
		path := filepath.Join(dir, "out", "_airbyte_raw_"+s+".jsonl")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("stream %s: %v", s, err)
			continue
		}
		lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
		if len(lines) != n {
			t.Errorf("%s: %d lines, want %d", path, len(lines), n)
		}
		var row struct {
			ID        string          `json:"_airbyte_ab_id"`
			EmittedAt int64           `json:"_airbyte_emitted_at"`
			Data      json.RawMessage `json:"_airbyte_data"`
		}
		if err := json.Unmarshal(lines[0], &row); err != nil || row.ID == "" || row.EmittedAt == 0 || !bytes.Contains(row.Data, []byte(`"id"`)) {
			t.Errorf("%s: first line %s does not hold _airbyte_ab_id, _airbyte_emitted_at and _airbyte_data (%v)", path, lines[0], err)
		}
	}
}
