package manifestsource

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
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
