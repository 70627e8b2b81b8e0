package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/shareddata"
	"github.com/x/goairbyte/protocol"
)

// sharedManifests is the data set of real manifests and what the Python
// CDK 6.31.1 did with them (see its README.md).
func sharedManifests(t testing.TB) string { return shareddata.Need(t, "manifests") }

type corpusEntry struct {
	name string
	dir  string
}

func corpus(t testing.TB) []corpusEntry {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(sharedManifests(t), "corpus", "*"))
	if len(dirs) == 0 {
		t.Fatal("no connectors in the shared manifest corpus")
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

// needsPython reports whether a corpus connector ships Python code.
func needsPython(dir string) bool { return fileExists(filepath.Join(dir, "components.py")) }

func TestCorpusDiscoverAndRefusals(t *testing.T) {
	var discovered, matched, refusedDiscover, refusedRead, python, pythonRefused int
	for _, c := range corpus(t) {
		text, err := os.ReadFile(filepath.Join(c.dir, "manifest.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		src, err := New(text)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		config, _ := os.ReadFile(filepath.Join(c.dir, "config.json"))
		if needsPython(c.dir) {
			python++
			// The Source lists, among what it does not run, the Python
			// components the function finds in the text, which a
			// GetSource no longer calls.
			want, perr := PythonComponents(text)
			var got []string
			for _, u := range src.Unsupported() {
				if u.ClassName != "" {
					got = append(got, u.ClassName+" at "+u.Path)
				}
			}
			if perr != nil || len(got) == 0 || !slices.Equal(got, want) {
				t.Errorf("%s: Source.Unsupported()'s classes = %v, PythonComponents(text) = %v, %v", c.name, got, want, perr)
			}
			// Refused before any request: the client has no transport.
			err := src.Read(context.Background(), config, allStreams(src), nil, func(*protocol.Message) error { return nil })
			var ue *UnsupportedError
			if !errors.As(err, &ue) || !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s needs Python but Read gave %v", c.name, err)
				continue
			}
			custom := false
			for _, comp := range ue.Components {
				if comp.ClassName != "" || strings.HasPrefix(comp.Type, "Custom") {
					custom = true
					if !strings.Contains(ue.Error(), comp.Path) {
						t.Errorf("%s: the error does not name %s", c.name, comp.Path)
					}
				}
			}
			if !custom {
				t.Errorf("%s: refused without naming its custom components: %v", c.name, err)
				continue
			}
			pythonRefused++
		}
		want := filepath.Join(c.dir, "expected", "catalog.json")
		if !fileExists(want) {
			continue
		}
		cat, err := src.Discover(context.Background(), config)
		var ue *UnsupportedError
		if errors.As(err, &ue) {
			refusedDiscover++
			continue
		}
		if err != nil {
			t.Errorf("%s: discover: %v", c.name, err)
			continue
		}
		discovered++
		got := asJSON(t, &protocol.Message{Type: protocol.TypeCatalog, Catalog: cat})
		if exp := readJSONFile(t, want); !reflect.DeepEqual(got, exp) {
			t.Errorf("%s: catalog differs at %s", c.name, jsonDiff("$", got, exp))
			continue
		}
		matched++
		if err := src.unsupportedFor(src.streams); err != nil {
			refusedRead++
		}
	}
	t.Logf("discover: %d catalogs equal the CDK's of %d discovered (%d refused as unsupported); %d of those connectors have streams the engine refuses to read", matched, discovered, refusedDiscover, refusedRead)
	t.Logf("python: %d of %d connectors with components.py refused, naming their custom components", pythonRefused, python)
}

// allStreams is a configured catalog of every stream of src.
func allStreams(src *Source) *protocol.ConfiguredCatalog {
	cat := &protocol.ConfiguredCatalog{}
	for _, st := range src.streams {
		cat.Streams = append(cat.Streams, protocol.ConfiguredStream{Stream: protocol.Stream{Name: st.name}, SyncMode: protocol.SyncFullRefresh})
	}
	return cat
}

// jsonDiff names the first path where two decoded JSON values differ.
func jsonDiff(path string, got, want any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %v, want an object", path, got)
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if d := jsonDiff(path+"."+k, g[k], w[k]); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %v", path, trim(fmt.Sprint(got)), trim(fmt.Sprint(want)))
		}
		for i := range w {
			if d := jsonDiff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("%s: got %v, want %v", path, got, want)
	}
	return ""
}

// stillRefused are the component types the engine refuses in manifests
// that need no Python: a refusal of any other type in the corpus is a
// regression.
var stillRefused = map[string]string{
	"ZipfileDecoder": "zipped downloads are not built",
	"GzipParser":     "part of a ZipfileDecoder",
	"JsonLineParser": "part of a ZipfileDecoder",
}

// TestCorpusRefusals counts the corpus manifests the engine builds with no
// refusal at all, and lists what it still refuses.
func TestCorpusRefusals(t *testing.T) {
	byType := map[string]int{}
	connectors := map[string]int{}
	clean, total := 0, 0
	for _, c := range corpus(t) {
		text, err := os.ReadFile(filepath.Join(c.dir, "manifest.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		total++
		src, err := New(text)
		if err != nil {
			byType["(does not load: "+err.Error()+")"]++
			connectors["(does not load: "+err.Error()+")"]++
			continue
		}
		seen := map[string]bool{}
		refused := false
		note := func(typ string) {
			refused = true
			byType[typ]++
			if !seen[typ] {
				seen[typ] = true
				connectors[typ]++
			}
		}
		for _, u := range src.unsupported {
			typ := u.Type
			if u.ClassName != "" || strings.HasPrefix(typ, "Custom") {
				typ = "custom Python component (" + typ + ")"
			} else if _, ok := stillRefused[typ]; !ok && !needsPython(c.dir) {
				t.Errorf("%s: %s at %s is refused", c.name, u.Type, u.Path)
			}
			note(typ)
		}
		for _, st := range src.streams {
			if st.buildErr != nil {
				note("stream that does not build")
				if !needsPython(c.dir) {
					t.Errorf("%s: %v", c.name, st.buildErr)
				}
			}
			if st.synchronous && st.router != nil {
				note("synchronous stream with a partition router")
			}
		}
		if !refused {
			clean++
		}
	}
	var types []string
	for k := range byType {
		types = append(types, k)
	}
	sort.Slice(types, func(i, j int) bool {
		return connectors[types[i]] > connectors[types[j]] || connectors[types[i]] == connectors[types[j]] && types[i] < types[j]
	})
	var b strings.Builder
	for _, k := range types {
		fmt.Fprintf(&b, "\n  %3d connectors, %3d components: %s", connectors[k], byType[k], k)
	}
	t.Logf("refusals: %d of %d corpus manifests build with no refusal at all; still refused:%s", clean, total, b.String())
}
