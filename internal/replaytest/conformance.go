package replaytest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/x/goairbyte/internal/shareddata"
	"github.com/x/goairbyte/protocol"
)

// Connector is one connector of the conformance data
// (shared/manifests/conformance/<name>, its manifest in corpus/<name>).
type Connector struct {
	Name string
	// Dir holds config.json, now.txt, exchanges.json and expected/.
	Dir string
	// Manifest is the path of its manifest.yaml.
	Manifest string
	// Config is config.json.
	Config json.RawMessage
	// Now is the frozen clock of the recording (now.txt).
	Now time.Time
}

// Connectors returns the conformance connectors, sorted by name; the test
// is skipped when the shared data is not there.
func Connectors(t testing.TB) []Connector {
	t.Helper()
	root := filepath.Dir(shareddata.Need(t, "manifests/conformance"))
	dirs, _ := filepath.Glob(filepath.Join(root, "conformance", "*"))
	if len(dirs) == 0 {
		t.Skipf("no connectors in %s/conformance", root)
	}
	var out []Connector
	for _, dir := range dirs {
		name := filepath.Base(dir)
		c := Connector{Name: name, Dir: dir, Manifest: filepath.Join(root, "corpus", name, "manifest.yaml")}
		var err error
		if c.Config, err = os.ReadFile(filepath.Join(dir, "config.json")); err != nil {
			t.Fatal(err)
		}
		now, err := os.ReadFile(filepath.Join(dir, "now.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Now, err = time.Parse(time.RFC3339, strings.TrimSpace(string(now))); err != nil {
			t.Fatalf("%s/now.txt: %v", dir, err)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Connector) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Clock returns the frozen clock.
func (c Connector) Clock() func() time.Time { return func() time.Time { return c.Now } }

// Replay starts a replay server of the connector's exchanges.
func (c Connector) Replay(t testing.TB, opts ...Option) *Server {
	return Start(t, filepath.Join(c.Dir, "exchanges.json"), opts...)
}

// HasIncremental reports whether the connector has an incremental read
// recorded.
func (c Connector) HasIncremental() bool {
	_, err := os.Stat(filepath.Join(c.Dir, "expected", "state.json"))
	return err == nil
}

// Expected returns expected/<file>.
func (c Connector) Expected(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.Dir, "expected", file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Messages returns the messages of a .jsonl file of expected/.
func (c Connector) Messages(t testing.TB, file string) []*protocol.Message {
	t.Helper()
	var out []*protocol.Message
	sc := bufio.NewScanner(bytes.NewReader(c.Expected(t, file)))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m protocol.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s/%s: %v", c.Name, file, err)
		}
		out = append(out, &m)
	}
	return out
}

// Records returns the data of the RECORD messages of a .jsonl file of
// expected/, by stream.
func (c Connector) Records(t testing.TB, file string) map[string][]json.RawMessage {
	out := map[string][]json.RawMessage{}
	for _, m := range c.Messages(t, file) {
		if m.Type == protocol.TypeRecord {
			out[m.Record.Stream] = append(out[m.Record.Stream], m.Record.Data)
		}
	}
	return out
}

// FinalStates returns the last STATE of each stream in a .jsonl file of
// expected/, as its stream_state.
func (c Connector) FinalStates(t testing.TB, file string) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for _, m := range c.Messages(t, file) {
		if m.Type == protocol.TypeState && m.State.Stream != nil {
			out[m.State.Stream.StreamDescriptor.Name] = m.State.Stream.StreamState
		}
	}
	return out
}

// IncrementalStreams names the streams of the incremental read
// (expected/state.json), sorted.
func (c Connector) IncrementalStreams(t testing.TB) []string {
	var states []protocol.State
	if err := json.Unmarshal(c.Expected(t, "state.json"), &states); err != nil {
		t.Fatalf("%s/state.json: %v", c.Name, err)
	}
	var out []string
	for _, s := range states {
		out = append(out, s.Stream.StreamDescriptor.Name)
	}
	slices.Sort(out)
	return out
}

// Canonical returns JSON text whose equality is JSON equality: objects'
// keys sorted, numbers as Go's float64 prints them.
func Canonical(raw []byte) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// ManifestJSON returns the connector's manifest as JSON, keys in the
// manifest's order (which is the order of its request parameters).
func (c Connector) ManifestJSON(t testing.TB) json.RawMessage {
	t.Helper()
	text, err := os.ReadFile(c.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		t.Fatalf("%s: %v", c.Manifest, err)
	}
	var b bytes.Buffer
	if err := writeJSON(&b, &doc); err != nil {
		t.Fatalf("%s: %v", c.Manifest, err)
	}
	return b.Bytes()
}

// InjectedConfig returns config.json with the manifest injected under
// key, as Airbyte's platform sends it to source-declarative-manifest.
func (c Connector) InjectedConfig(t testing.TB, key string) json.RawMessage {
	rest := bytes.TrimSpace(c.Config)
	out := append([]byte(`{"`+key+`":`), c.ManifestJSON(t)...)
	if inner := bytes.TrimSpace(rest[1 : len(rest)-1]); len(inner) > 0 {
		out = append(append(out, ','), inner...)
	}
	return append(out, '}')
}

// writeJSON writes a YAML node as JSON, mappings in order.
func writeJSON(b *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		return writeJSON(b, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(b, n.Alias)
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(n.Content[i].Value)
			b.Write(k)
			b.WriteByte(':')
			if err := writeJSON(b, n.Content[i+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, item := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, item); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return err
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(enc)
	}
	return nil
}

// Started names the streams a recorded read of a .jsonl file of expected/
// started (its configured catalog), in order.
func (c Connector) Started(t testing.TB, file string) []string {
	var out []string
	for _, m := range c.Messages(t, file) {
		if m.Type == protocol.TypeTrace && m.Trace.StreamStatus != nil && m.Trace.StreamStatus.Status == protocol.StatusStarted {
			out = append(out, m.Trace.StreamStatus.StreamDescriptor.Name)
		}
	}
	return out
}
