package interpolation

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestCorpusCompiles compiles every distinct template string of the manifests (keys and values
// at any depth): all must compile.
func TestCorpusCompiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedManifests(t), "corpus", "*", "manifest.yaml"))
	if len(files) == 0 {
		t.Fatal("no manifests in the shared corpus")
	}
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && (strings.Contains(n.Value, "{{") || strings.Contains(n.Value, "{%")) {
				seen[n.Value] = true
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(&doc)
	}
	failed := 0
	for src := range seen {
		if _, err := Compile(src); err != nil {
			failed++
			t.Errorf("Compile(%q): %v", src, err)
		}
	}
	t.Logf("%d manifests, %d distinct templates, %d fail to compile", len(files), len(seen), failed)
	if len(seen) < 1000 {
		t.Errorf("only %d templates found", len(seen))
	}
}
