package main_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/x/goairbyte/internal/replaytest"
)

// TestManifestCommands runs a manifest connector with --manifest through
// goab's commands, its HTTPS requests answered by the replay server as a
// proxy goab trusts (SSL_CERT_FILE).
func TestManifestCommands(t *testing.T) {
	conns := replaytest.Connectors(t)
	c := conns[slices.IndexFunc(conns, func(c replaytest.Connector) bool { return c.Name == "source-sendinblue" })]
	srv := c.Replay(t, replaytest.SkipRetried())
	dir := t.TempDir()
	env := srv.ProxyEnv(dir, dir)
	config := filepath.Join(dir, "config.json")
	os.WriteFile(config, c.Config, 0o600)

	srv.Phase("check")
	r := goab(t, env, "check", "--manifest", c.Manifest, "--config", config)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "source-sendinblue: connection check succeeded") {
		t.Fatalf("check: the name comes from the manifest's directory:\n%s", r.stdout)
	}

	srv.Phase("read")
	cachePath := filepath.Join(dir, "cache.duckdb")
	r = goab(t, env, "read", "--manifest", c.Manifest, "--config", config, "--cache", cachePath, "--no-progress")
	r.want(t, 0)
	rows := tableRows(r.stdout)
	wantCount(t, rows, "campaigns", 0, 101)
	wantCount(t, rows, "templates", 0, 2)
	wantCount(t, rows, "contacts", 0, 2)
	if m := srv.Misses(); len(m) > 0 {
		t.Fatalf("requests the CDK did not make: %q", m)
	}

	srv.Phase("read")
	r = goab(t, env, "benchmark", "--manifest", c.Manifest, "--config", config, "--cache", filepath.Join(dir, "bench.duckdb"), "--no-progress")
	r.want(t, 0)
	if !regexp.MustCompile(`(?m)^contacts\s+\d+\s+\d+`).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "source-sendinblue → cache") || !strings.Contains(r.stdout, "105 records") {
		t.Fatalf("benchmark:\n%s\n%s", r.stdout, r.stderr)
	}

	// What does not fit is a usage error.
	goab(t, nil, "benchmark", "--manifest", c.Manifest).want(t, 2)
	r = goab(t, nil, "check", "--manifest", c.Manifest, "--docker-image", "x", "--config", config)
	r.want(t, 2)
	if !strings.Contains(r.stderr, "--manifest, not several") {
		t.Fatalf("two ways:\n%s", r.stderr)
	}
}

// TestManifestDirUnlistedSource: goab reads, by its name, a source the
// registry does not list whose manifest is in GOAIRBYTE_MANIFEST_DIR; a
// name in neither place fails naming both.
func TestManifestDirUnlistedSource(t *testing.T) {
	t.Parallel()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [{"id": 1}, {"id": 2}, {"id": 3}]}`)
	}))
	defer api.Close()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "source-mything"), 0o755)
	os.WriteFile(filepath.Join(dir, "source-mything", "manifest.yaml"), []byte(`
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
streams:
  - type: DeclarativeStream
    name: items
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}}}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "{{ config['base'] }}", path: /items, http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
spec: {type: Spec, connection_specification: {type: object, properties: {base: {type: string}}}}
`), 0o644)
	env := []string{"GOAIRBYTE_MANIFEST_DIR=" + dir, "XDG_CACHE_HOME=" + t.TempDir()}
	config := fmt.Sprintf(`{"base": %q}`, api.URL)
	r := goab(t, env, "read", "source-mything", "--config", config, "--cache", filepath.Join(dir, "cache.duckdb"), "--no-progress")
	r.want(t, 0)
	wantCount(t, tableRows(r.stdout), "items", 0, 3)

	r = goab(t, env, "check", "source-otherthing", "--config", "{}")
	if r.code == 0 || !strings.Contains(r.stderr, "source-otherthing") || !strings.Contains(r.stderr, dir) {
		t.Fatalf("a name in neither place: exit %d\n%s", r.code, r.stderr)
	}
	// With no close name either, the advice is goab's, and the directory
	// is still named.
	r = goab(t, env, "check", "zzzz", "--config", "{}")
	if r.code == 0 || !strings.Contains(r.stderr, "goab connectors") || !strings.Contains(r.stderr, dir) {
		t.Fatalf("a name in neither place, with nothing close: exit %d\n%s", r.code, r.stderr)
	}
	// goab connectors lists it.
	r = goab(t, env, "connectors", "--kind", "source")
	r.want(t, 0)
	if !regexp.MustCompile(`(?m)^source-mything\b`).MatchString(r.stdout) {
		t.Fatalf("goab connectors does not list source-mything:\n%s", r.stdout)
	}
}

// TestManifestValidateNamesUnsupported: validate on a manifest whose
// components need Python fails naming them.
func TestManifestValidateNamesUnsupported(t *testing.T) {
	conns := replaytest.Connectors(t)
	gnews := filepath.Join(filepath.Dir(filepath.Dir(conns[0].Manifest)), "source-gnews", "manifest.yaml")
	r := goab(t, nil, "validate", "--manifest", gnews, "--config", `{"api_key": "k", "query": "q"}`)
	r.want(t, 1)
	if !strings.Contains(r.stdout, "ok  spec") || !strings.Contains(r.stderr, "source_declarative_manifest.components.WaitUntilMidnightBackoffStrategy") {
		t.Fatalf("validate:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
}

// TestConnectorsYAML lists the manifest-only connectors of a registry,
// and not a low-code connector that is a Python package.
func TestConnectorsYAML(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry.json")
	os.WriteFile(reg, []byte(`{"sources": [
		{"dockerRepository": "airbyte/source-pokeapi", "language": "manifest-only"},
		{"dockerRepository": "airbyte/source-gnews", "tags": ["language:manifest-only"]},
		{"dockerRepository": "airbyte/source-facebook-pages", "tags": ["cdk:low-code", "language:python"]}],
		"destinations": []}`), 0o644)
	r := goab(t, []string{"AIRBYTE_LOCAL_REGISTRY=" + reg}, "connectors", "--install-type", "yaml")
	r.want(t, 0)
	if got := strings.Fields(r.stdout); !slices.Equal(got, []string{"source-gnews", "source-pokeapi"}) {
		t.Fatalf("connectors --install-type yaml: %q", got)
	}
}

// rotatingManifest reads an API whose OAuth refresh tokens work once: each
// refresh answers a new one, which refresh_token_updater writes into the
// config.
const rotatingManifest = `
version: 6.31.1
type: DeclarativeSource
check: {type: CheckStream, stream_names: [things]}
streams:
  - type: DeclarativeStream
    name: things
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}}}}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: "{{ config['base_url'] }}"
        path: /things
        authenticator:
          type: OAuthAuthenticator
          token_refresh_endpoint: "{{ config['base_url'] }}/oauth/token"
          client_id: "{{ config['credentials']['client_id'] }}"
          client_secret: "{{ config['credentials']['client_secret'] }}"
          refresh_token: "{{ config['credentials']['refresh_token'] }}"
          refresh_token_updater:
            access_token_config_path: [credentials, access_token]
            refresh_token_config_path: [credentials, refresh_token]
            token_expiry_date_config_path: [credentials, token_expiry_date]
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
spec:
  type: Spec
  connection_specification:
    type: object
    properties:
      base_url: {type: string}
      credentials:
        type: object
        properties:
          client_id: {type: string}
          client_secret: {type: string, airbyte_secret: true}
          refresh_token: {type: string, airbyte_secret: true}
`

// TestRotatedTokenKept: a source that rotates its OAuth refresh token
// (single-use, as the API takes it once) reports its new config; goab
// writes it over the --config file, so a nightly read works the next
// night. goab said nothing and kept the spent token in the file, and the
// second read failed with invalid_grant. An inline --config cannot keep
// it: goab says so.
func TestRotatedTokenKept(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	refresh, access, refreshes := "rt-0", "", 0
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/oauth/token" {
			if r.FormValue("refresh_token") != refresh {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"error": "invalid_grant"}`)
				return
			}
			refreshes++
			refresh, access = fmt.Sprintf("rt-%d", refreshes), fmt.Sprintf("at-%d", refreshes)
			fmt.Fprintf(w, `{"access_token": %q, "refresh_token": %q, "expires_in": 3600}`, access, refresh)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+access {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"data": [{"id": 1}, {"id": 2}]}`)
	}))
	defer api.Close()
	dir := t.TempDir()
	manifest := filepath.Join(dir, "source-rotating.yaml")
	os.WriteFile(manifest, []byte(rotatingManifest), 0o644)
	config := filepath.Join(dir, "config.yaml")
	os.WriteFile(config, []byte("# the nightly job's config\nbase_url: "+api.URL+"\ncredentials:\n  client_id: me\n  client_secret: cs\n  refresh_token: rt-0\n"), 0o600)
	cache := filepath.Join(dir, "cache.duckdb")
	// Night 1 refreshes: rt-0 is spent, rt-1 and at-1 (valid an hour) are
	// the config's. Night 2 uses at-1 and refreshes nothing.
	for night := 1; night <= 2; night++ {
		r := goab(t, nil, "read", "--manifest", manifest, "--config", config, "--cache", cache, "--no-progress")
		r.want(t, 0)
		saved := strings.Contains(r.stderr, "the connector updated its config (such as a rotated OAuth token): saved over the --config file")
		if saved != (night == 1) {
			t.Errorf("night %d: goab says it saved the config: %v\n%s", night, saved, r.stderr)
		}
	}
	b, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"refresh_token": "rt-1"`) || !strings.Contains(string(b), `"access_token": "at-1"`) || !strings.Contains(string(b), `"client_secret": "cs"`) {
		t.Errorf("the config file holds\n%s\nwant the tokens of the first night and the rest as it was", b)
	}
	if info, err := os.Stat(config); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the config file's mode: %v, %v; want 0600 as it was", info.Mode(), err)
	}

	inline := fmt.Sprintf(`{"base_url": %q, "credentials": {"client_id": "me", "client_secret": "cs", "refresh_token": "rt-1"}}`, api.URL)
	r := goab(t, nil, "records", "--manifest", manifest, "--config", inline, "--stream", "things")
	r.want(t, 0)
	if !strings.Contains(r.stderr, "which an inline --config cannot keep") {
		t.Errorf("an inline config: goab does not say the new one is lost:\n%s", r.stderr)
	}
}
