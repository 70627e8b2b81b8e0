package interpolation

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// walkCorpus calls f with every node of every manifest of the shared corpus,
// parents before children, and returns how many manifests it read.
func walkCorpus(t testing.TB, f func(n *yaml.Node)) int {
	files, _ := filepath.Glob(filepath.Join(sharedManifests(t), "corpus", "*", "manifest.yaml"))
	if len(files) == 0 {
		t.Fatal("no manifests in the shared corpus")
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			f(n)
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(&doc)
	}
	return len(files)
}

// corpusTemplates returns every distinct template string of the shared
// manifests (keys and values at any depth), sorted.
func corpusTemplates(t testing.TB) []string {
	seen := map[string]bool{}
	walkCorpus(t, func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && (strings.Contains(n.Value, "{{") || strings.Contains(n.Value, "{%")) {
			seen[n.Value] = true
		}
	})
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestCorpusCompiles compiles every distinct template string of the
// manifests: all must compile.
func TestCorpusCompiles(t *testing.T) {
	templates := corpusTemplates(t)
	failed := 0
	for _, src := range templates {
		if _, err := Compile(src); err != nil {
			failed++
			t.Errorf("Compile(%q): %v", src, err)
		}
	}
	t.Logf("%d distinct templates, %d fail to compile", len(templates), failed)
	if len(templates) < 1000 {
		t.Errorf("only %d templates found", len(templates))
	}
}
