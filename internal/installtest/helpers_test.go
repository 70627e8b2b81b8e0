package installtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/registry"
	"github.com/x/goairbyte/source"
)

func TestMain(m *testing.M) {
	// Nothing here may reach the real connector registry; each test that
	// needs entries installs its own loader.
	connector.DefaultEnvironment().SetRegistry(registry.NewLoader(registry.WithOffline(true), registry.WithCacheDir("")))
	testenv.Main(m)
}

// entry is one connector of a registry file in Airbyte's format.
type entry struct {
	kind, repo, tag, language, pypi string
}

// useRegistry writes entries as a registry file in Airbyte's format and
// makes it the default registry until t ends.
func useRegistry(t *testing.T, entries ...entry) {
	t.Helper()
	reg := map[string][]map[string]any{"sources": {}, "destinations": {}}
	for i, e := range entries {
		m := map[string]any{
			"name":             e.repo,
			"dockerRepository": e.repo,
			"dockerImageTag":   e.tag,
			"language":         e.language,
			"documentationUrl": "https://example.com/" + e.repo,
			"tags":             []string{"language:" + e.language},
		}
		m[e.kind+"DefinitionId"] = fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
		if e.pypi != "" {
			m["remoteRegistries"] = map[string]any{"pypi": map[string]any{"enabled": true, "packageName": e.pypi}}
		}
		reg[e.kind+"s"] = append(reg[e.kind+"s"], m)
	}
	b, err := json.Marshal(reg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "registry.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	connector.DefaultEnvironment().SetRegistry(registry.NewLoader(registry.WithLocalRegistry(path), registry.WithOffline(true), registry.WithCacheDir("")))
	t.Cleanup(func() {
		connector.DefaultEnvironment().SetRegistry(registry.NewLoader(registry.WithOffline(true), registry.WithCacheDir("")))
	})
}

// debugLogger logs at every level into w, for the assertions on progress
// messages.
func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// countRecords reads stream in full and returns how many records came.
func countRecords(t *testing.T, src *source.Source, stream string) int {
	t.Helper()
	n := 0
	for _, err := range src.Records(context.Background(), stream) {
		if err != nil {
			t.Fatalf("%s: reading %s: %v", src, stream, err)
		}
		n++
	}
	return n
}

// cleanPath sets PATH to the system directories only, so that no connector
// executable (and no pyenv shim) is found there.
func cleanPath(t *testing.T) {
	t.Setenv("PATH", "/usr/local/bin:/usr/bin:/bin")
	for _, name := range []string{"source-faker", "source-regfaker", "source-pytest"} {
		for _, dir := range strings.Split(os.Getenv("PATH"), ":") {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				t.Fatalf("%s is installed in %s; the resolution tests need it absent", name, dir)
			}
		}
	}
}
