package manifestsource

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/x/goairbyte/declarative"
	"github.com/x/goairbyte/internal/shareddata"
)

const tiny = `{"version": "6.7.0", "type": "DeclarativeSource",
 "check": {"type": "CheckStream", "stream_names": ["s"]},
 "streams": [{"type": "DeclarativeStream", "name": "s",
   "schema_loader": {"type": "InlineSchemaLoader", "schema": {"type": "object"}},
   "retriever": {"type": "SimpleRetriever",
     "requester": {"type": "HttpRequester", "url_base": "https://api.example.com", "path": "/s", "http_method": "GET"},
     "record_selector": {"type": "RecordSelector", "extractor": {"type": "DpathExtractor", "field_path": []}}}}],
 "spec": {"type": "Spec", "connection_specification": {"type": "object", "required": ["token"],
   "properties": {"token": {"type": "string", "airbyte_secret": true}}}}}`

// TestInjectedKeys: the engine gets the config without the injected keys,
// validated against the manifest's spec, and a config it updates goes back
// with them.
func TestInjectedKeys(t *testing.T) {
	ctx := context.Background()
	s := New()
	r, err := s.prepare(ctx, json.RawMessage(`{"token": "abc", "__injected_declarative_manifest": `+tiny+`}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(r.config) != `{"token":"abc"}` {
		t.Fatalf("the engine's config: %s", r.config)
	}
	full, err := r.reinject(json.RawMessage(`{"token": "rotated"}`))
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]json.RawMessage
	json.Unmarshal(full, &back)
	if string(back["token"]) != `"rotated"` || len(back[injectedManifest]) < 100 {
		t.Fatalf("the updated config sent back: %s", full)
	}
	// The rest of the config is checked against the manifest's own spec.
	_, err = s.prepare(ctx, json.RawMessage(`{"__injected_declarative_manifest": `+tiny+`}`))
	if err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("a config lacking the manifest's required field: %v", err)
	}
	_, err = s.prepare(ctx, json.RawMessage(`{"token": "abc", "__injected_declarative_manifest": {"streams": 3}}`))
	if err == nil || !strings.Contains(err.Error(), injectedManifest) {
		t.Fatalf("an invalid manifest: %v", err)
	}
}

// corpusConfig is a config carrying the corpus manifest of the connector
// name, as JSON, with the corpus's config for it.
func corpusConfig(tb testing.TB, name string) json.RawMessage {
	dir := filepath.Join(shareddata.Need(tb, "manifests/corpus"), name)
	text, err := os.ReadFile(filepath.Join(dir, "manifest.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	var manifest any
	if err := yaml.Unmarshal(text, &manifest); err != nil {
		tb.Fatal(err)
	}
	var config map[string]any
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(raw, &config); err != nil {
		tb.Fatal(err)
	}
	config[injectedManifest] = manifest
	out, err := json.Marshal(config)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestManifestBuiltOnce: the calls of one Source with the same manifest
// build it once. Building is most of what a call allocates, so a later
// call allocates a fraction of what declarative.New of the manifest does:
// 281 allocations a Discover of source-customer-io, against 28,040 when
// each call built it and 27,757 for New. Another manifest
// is built, and the first again after it: only the last is kept.
func TestManifestBuiltOnce(t *testing.T) {
	ctx := context.Background()
	config := corpusConfig(t, "source-customer-io")
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(config, &fields); err != nil {
		t.Fatal(err)
	}
	s := New()
	first, err := s.prepare(ctx, config)
	if err != nil {
		t.Fatal(err)
	}
	discover := func() {
		if _, err := s.Discover(ctx, config); err != nil {
			t.Fatal(err)
		}
	}
	build := func() {
		if _, err := declarative.New(fields[injectedManifest]); err != nil {
			t.Fatal(err)
		}
	}
	got, once := testing.AllocsPerRun(3, discover), testing.AllocsPerRun(3, build)
	if got > 0.5*once {
		t.Errorf("a Discover with the manifest of the last call allocates %.0f times, %.2f times as much as building it (%.0f): it is built again", got, got/once, once)
	}
	other, err := s.prepare(ctx, json.RawMessage(`{"token": "abc", "__injected_declarative_manifest": `+tiny+`}`))
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.prepare(ctx, config)
	if err != nil {
		t.Fatal(err)
	}
	if other.engine == first.engine || again.engine == first.engine {
		t.Errorf("another manifest, or the first after it, ran on the engine built first")
	}
	if same, _ := s.prepare(ctx, config); same.engine != again.engine {
		t.Errorf("the same manifest twice in a row was built twice")
	}
}

// BenchmarkDiscover runs Discover with a config carrying a corpus
// manifest, again and again after a first, as a platform does for one
// connection:
// source-appfigures has the largest manifest (1.25 MB of YAML),
// source-customer-io the median one (35 kB).
func BenchmarkDiscover(b *testing.B) {
	for _, name := range []string{"source-appfigures", "source-customer-io"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			config := corpusConfig(b, name)
			s := New()
			if _, err := s.Discover(ctx, config); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Discover(ctx, config); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
