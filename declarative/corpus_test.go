package declarative

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// sharedManifests is the data set of real manifests and what the Python
// CDK 6.31.1 did with them (see its README.md).
const sharedManifests = "../../shared/manifests"

type corpusEntry struct {
	name string
	dir  string
}

func corpus(t testing.TB) []corpusEntry {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(sharedManifests, "corpus", "*"))
	if len(dirs) == 0 {
		t.Skip("no manifest corpus in " + sharedManifests)
	}
	var out []corpusEntry
	for _, d := range dirs {
		out = append(out, corpusEntry{name: filepath.Base(d), dir: d})
	}
	return out
}

func readJSONFile(t testing.TB, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// asJSON round-trips v through encoding/json into generic values.
func asJSON(t testing.TB, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestCorpusSpec(t *testing.T) {
	var ok, total int
	for _, c := range corpus(t) {
		want := filepath.Join(c.dir, "expected", "spec.json")
		if !fileExists(want) {
			continue
		}
		total++
		text, err := os.ReadFile(filepath.Join(c.dir, "manifest.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		src, err := New(text)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		spec, err := src.Spec(context.Background())
		if err != nil {
			t.Errorf("%s: spec: %v", c.name, err)
			continue
		}
		got := asJSON(t, &protocol.Message{Type: protocol.TypeSpec, Spec: spec})
		if exp := readJSONFile(t, want); !reflect.DeepEqual(got, exp) {
			t.Errorf("%s: spec differs:\n got %s\nwant %s", c.name, trim(asText(t, got)), trim(asText(t, exp)))
			continue
		}
		ok++
	}
	t.Logf("spec: %d of %d corpus manifests give the CDK's SPEC", ok, total)
}

func asText(t testing.TB, v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func trim(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return strings.TrimSpace(s)
}
