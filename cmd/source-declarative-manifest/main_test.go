package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/replaytest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestBinaryConformance runs every conformance connector through the
// static binary, the manifest injected in the config as Airbyte's image
// takes it: its HTTPS requests go through the replay server as a proxy
// that it trusts through SSL_CERT_FILE.
func TestBinaryConformance(t *testing.T) {
	bin := testenv.BuildBinary(t, "./cmd/source-declarative-manifest")
	for _, c := range replaytest.Connectors(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			srv := c.Replay(t, replaytest.SkipRetried())
			dir := t.TempDir()
			conformance(t, c, srv, connector.WithLocalExecutable(bin), connector.WithEnv(append(srv.ProxyEnv(dir, dir), frozen(c))...))
		})
	}
}

// TestImageConformance does the same through the FROM scratch image,
// on the host network, the CA mounted at /local.
func TestImageConformance(t *testing.T) {
	cli := testenv.Docker(t)
	image := testenv.DeclarativeManifestImage(t, cli)
	for _, c := range replaytest.Connectors(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			srv := c.Replay(t, replaytest.SkipRetried())
			dir := t.TempDir()
			os.Chmod(dir, 0o755)
			conformance(t, c, srv, connector.WithDockerImage(image), connector.WithHostNetwork(true),
				connector.WithLocalMount(dir), connector.WithEnv(append(srv.ProxyEnv(dir, "/local"), frozen(c))...))
		})
	}
}

// frozen stops the connector's clock at the recording's.
func frozen(c replaytest.Connector) string { return envNow + "=" + c.Now.Format(time.RFC3339) }

// conformance runs check, discover, a full read and an incremental read of
// c through the connector the options describe, and compares them with
// what the Python CDK did: check's status, the catalog, the records of
// each stream as multisets and each stream's final state.
func conformance(t *testing.T, c replaytest.Connector, srv *replaytest.Server, opts ...connector.Option) {
	ctx := context.Background()
	cfg := c.InjectedConfig(t, "__injected_declarative_manifest")
	conn, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, c.Name, append(opts,
		connector.WithEnvironment(connector.NewEnvironment()), connector.WithConfig(cfg))...)
	if err != nil {
		t.Fatal(err)
	}

	srv.Phase("check")
	var wantCheck protocol.Message
	json.Unmarshal(c.Expected(t, "check.json"), &wantCheck)
	err = conn.Check(ctx)
	if (err == nil) != (wantCheck.ConnectionStatus.Status == protocol.StatusSucceeded) {
		t.Fatalf("check: %v, the CDK said %s", err, wantCheck.ConnectionStatus.Status)
	}

	cat := discover(t, conn)
	var wantCat protocol.Message
	json.Unmarshal(c.Expected(t, "catalog.json"), &wantCat)
	if got, want := streamNames(cat), streamNames(wantCat.Catalog); !slices.Equal(got, want) {
		t.Fatalf("discover: streams %v, the CDK's %v", got, want)
	}

	srv.Phase("read")
	full := configure(cat, c.Started(t, "read.jsonl"), false)
	records, states := read(t, conn, full, nil)
	if m := srv.Misses(); len(m) > 0 {
		t.Fatalf("read: requests the CDK did not make: %q", m)
	}
	equalRecords(t, "read", records, c.Records(t, "read.jsonl"))
	equalStates(t, "read", states, c.FinalStates(t, "read.jsonl"))
	if !c.HasIncremental() {
		return
	}
	srv.Phase("read_incremental")
	records, states = read(t, conn, configure(cat, c.IncrementalStreams(t), true), c.Expected(t, "state.json"))
	if m := srv.Misses(); len(m) > 0 {
		t.Fatalf("incremental read: requests the CDK did not make: %q", m)
	}
	equalRecords(t, "incremental read", records, c.Records(t, "read_incremental.jsonl"))
	equalStates(t, "incremental read", states, c.FinalStates(t, "read_incremental.jsonl"))
}

func discover(t *testing.T, conn *connector.Connector) *protocol.Catalog {
	for m, err := range core.ConnOf(conn).Run(context.Background(), executor.Invocation{Verb: executor.VerbDiscover}) {
		if err != nil {
			t.Fatalf("discover: %v", err)
		}
		if m.Type == protocol.TypeCatalog {
			return m.Catalog
		}
	}
	t.Fatal("discover: no catalog")
	return nil
}

func streamNames(c *protocol.Catalog) []string {
	var out []string
	for _, s := range c.Streams {
		out = append(out, s.Name)
	}
	slices.Sort(out)
	return out
}

// configure is the catalog of the recording: the streams named, in full
// where they can be (unless incremental), else incrementally.
func configure(cat *protocol.Catalog, names []string, incremental bool) json.RawMessage {
	var cc protocol.ConfiguredCatalog
	for _, s := range cat.Streams {
		if !slices.Contains(names, s.Name) {
			continue
		}
		mode := protocol.SyncFullRefresh
		if incremental || !slices.Contains(s.SupportedSyncModes, protocol.SyncFullRefresh) {
			mode = protocol.SyncIncremental
		}
		cc.Streams = append(cc.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: mode,
			CursorField: s.DefaultCursorField, DestinationSyncMode: protocol.DestinationAppend})
	}
	b, _ := json.Marshal(cc)
	return b
}

// read runs a read and returns the records by stream and each stream's
// last state.
func read(t *testing.T, conn *connector.Connector, catalog, state json.RawMessage) (map[string][]json.RawMessage, map[string]json.RawMessage) {
	records, states := map[string][]json.RawMessage{}, map[string]json.RawMessage{}
	for m, err := range core.ConnOf(conn).Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: catalog, State: state}) {
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		switch {
		case m.Type == protocol.TypeRecord:
			records[m.Record.Stream] = append(records[m.Record.Stream], m.Record.Data)
		case m.Type == protocol.TypeState && m.State.Stream != nil:
			states[m.State.Stream.StreamDescriptor.Name] = m.State.Stream.StreamState
		}
	}
	return records, states
}

func equalRecords(t *testing.T, what string, got, want map[string][]json.RawMessage) {
	t.Helper()
	for _, s := range union(got, want) {
		g, w := canonicalAll(t, got[s]), canonicalAll(t, want[s])
		if !slices.Equal(g, w) {
			t.Errorf("%s: stream %s: %d records, the CDK %d; got %.300q, want %.300q", what, s, len(g), len(w), g, w)
		}
	}
}

func equalStates(t *testing.T, what string, got, want map[string]json.RawMessage) {
	t.Helper()
	for _, s := range union(got, want) {
		g, _ := replaytest.Canonical(got[s])
		w, _ := replaytest.Canonical(want[s])
		if g != w {
			t.Errorf("%s: stream %s: final state %s, the CDK's %s", what, s, g, w)
		}
	}
}

func union[V any](a, b map[string]V) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func canonicalAll(t *testing.T, raws []json.RawMessage) []string {
	out := make([]string, len(raws))
	for i, r := range raws {
		var err error
		if out[i], err = replaytest.Canonical(r); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(out)
	return out
}

// TestCommandLine: spec with and without a manifest, --manifest's usage,
// a config without the manifest, and custom Python code.
func TestCommandLine(t *testing.T) {
	bin := testenv.BuildBinary(t, "./cmd/source-declarative-manifest")
	conns := replaytest.Connectors(t)
	c := conns[slices.IndexFunc(conns, func(c replaytest.Connector) bool { return c.Name == "source-sendinblue" })]
	dir := t.TempDir()
	run := func(env []string, args ...string) (stdout string, code int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String() + errOut.String(), code
	}
	message := func(out string, typ protocol.Type) *protocol.Message {
		for _, line := range strings.Split(out, "\n") {
			if m := protocol.ParseMessage([]byte(line)); m != nil && m.Type == typ {
				return m
			}
		}
		t.Fatalf("no %s message in:\n%s", typ, out)
		return nil
	}
	writeConfig := func(cfg map[string]any) string {
		b, _ := json.Marshal(cfg)
		p := filepath.Join(dir, "config.json")
		os.WriteFile(p, b, 0o600)
		return p
	}

	// Without a manifest, the generic spec that requires one.
	out, code := run(nil, "spec")
	spec := message(out, protocol.TypeSpec).Spec
	if code != 0 || !strings.Contains(string(spec.ConnectionSpecification), `"required":["__injected_declarative_manifest"]`) {
		t.Fatalf("generic spec (exit %d): %s", code, out)
	}
	// With --manifest, the manifest's own spec, as the CDK printed it.
	out, code = run(nil, "spec", "--manifest", c.Manifest)
	var want protocol.Message
	json.Unmarshal(c.Expected(t, "spec.json"), &want)
	got := message(out, protocol.TypeSpec).Spec
	g, _ := replaytest.Canonical(got.ConnectionSpecification)
	w, _ := replaytest.Canonical(want.Spec.ConnectionSpecification)
	if code != 0 || g != w {
		t.Fatalf("spec --manifest (exit %d): %s, want %s", code, g, w)
	}
	// The usage names --manifest, which this command takes before kit
	// parses the rest.
	if out, code = run(nil, "--help"); code != 0 || !strings.Contains(out, "[--manifest PATH]") || !strings.Contains(out, "usage: source-declarative-manifest spec") {
		t.Fatalf("--help (exit %d): %s", code, out)
	}
	if out, code = run(nil, "spec", "--manifest"); code != 2 || !strings.Contains(out, "--manifest needs the path") {
		t.Fatalf("--manifest without a path (exit %d): %s", code, out)
	}
	if out, code = run(nil, "spec", "--manifest", filepath.Join(dir, "missing.yaml")); code != 1 ||
		!strings.Contains(message(out, protocol.TypeTrace).Trace.Error.Message, "missing.yaml") {
		t.Fatalf("a missing manifest (exit %d): %s", code, out)
	}

	// A config without the manifest: check FAILED, read a config error.
	plain := writeConfig(map[string]any{"api_key": "k"})
	out, code = run(nil, "check", "--config", plain)
	if st := message(out, protocol.TypeConnectionStatus).ConnectionStatus; code != 0 || st.Status != protocol.StatusFailed ||
		!strings.Contains(st.Message, "__injected_declarative_manifest") {
		t.Fatalf("check without a manifest (exit %d): %s", code, out)
	}
	catalog := filepath.Join(dir, "catalog.json")
	os.WriteFile(catalog, []byte(`{"streams": []}`), 0o600)
	out, code = run(nil, "read", "--config", plain, "--catalog", catalog)
	if tr := message(out, protocol.TypeTrace).Trace; code != 1 || tr.Error.FailureType != protocol.FailureConfig {
		t.Fatalf("read without a manifest (exit %d): %s", code, out)
	}

	// Custom code: not permitted; permitted but tampered; permitted and
	// intact, still beyond a build without Python.
	gnews := filepath.Join(filepath.Dir(filepath.Dir(c.Manifest)), "source-gnews")
	var withCode map[string]any
	gc := replaytest.Connector{Config: []byte(`{"api_key": "k"}`), Manifest: filepath.Join(gnews, "manifest.yaml")}
	json.Unmarshal(gc.InjectedConfig(t, "__injected_declarative_manifest"), &withCode)
	code1, _ := os.ReadFile(filepath.Join(gnews, "components.py"))
	sum := md5.Sum(code1)
	withCode["__injected_components_py"] = string(code1)
	withCode["__injected_components_py_checksums"] = map[string]string{"md5": hex.EncodeToString(sum[:])}
	cfg := writeConfig(withCode)
	checkSays := func(env []string, want string) {
		t.Helper()
		out, code := run(env, "check", "--config", cfg)
		if st := message(out, protocol.TypeConnectionStatus).ConnectionStatus; code != 0 || st.Status != protocol.StatusFailed || !strings.Contains(st.Message, want) {
			t.Fatalf("check (exit %d) should fail saying %q: %s", code, want, out)
		}
	}
	checkSays([]string{"AIRBYTE_ALLOW_CUSTOM_CODE="}, "AIRBYTE_ALLOW_CUSTOM_CODE=true")
	checkSays([]string{"AIRBYTE_ALLOW_CUSTOM_CODE=true"},
		"source_declarative_manifest.components.WaitUntilMidnightBackoffStrategy at $.")
	withCode["__injected_components_py_checksums"] = map[string]string{"md5": strings.Repeat("0", 32)}
	cfg = writeConfig(withCode)
	checkSays([]string{"AIRBYTE_ALLOW_CUSTOM_CODE=true"}, "md5 checksum")
}

// cloudManifest reads the items of the API at config's base_url.
const cloudManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
spec:
  type: Spec
  connection_specification:
    type: object
    properties:
      base_url: {type: string}
streams:
  - type: DeclarativeStream
    name: items
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}}}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "{{ config['base_url'] }}", path: /items}
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [items]}
`

// TestCloudMode: with DEPLOYMENT_MODE=cloud, as the Airbyte platform
// starts connectors on Airbyte Cloud, the command reads public HTTPS
// endpoints only, as Airbyte's image does: an API on the loopback over
// http fails the read as a config_error (the CDK's InvalidSchema), over
// https as one naming the private network, and the API gets no request;
// without the variable the same read gets the records.
func TestCloudMode(t *testing.T) {
	bin := testenv.BuildBinary(t, "./cmd/source-declarative-manifest")
	var requests atomic.Int64
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte(`{"items": [{"id": 1}]}`))
	})
	plainAPI := httptest.NewServer(serve)
	defer plainAPI.Close()
	tlsAPI := httptest.NewTLSServer(serve)
	defer tlsAPI.Close()
	dir := t.TempDir()
	manifest := filepath.Join(dir, "manifest.yaml")
	os.WriteFile(manifest, []byte(cloudManifest), 0o600)
	catalog := filepath.Join(dir, "catalog.json")
	os.WriteFile(catalog, []byte(`{"streams": [{"stream": {"name": "items", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
		"sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}`), 0o600)
	read := func(base string, env ...string) (string, int) {
		config := filepath.Join(dir, "config.json")
		os.WriteFile(config, []byte(`{"base_url": "`+base+`"}`), 0o600)
		cmd := exec.Command(bin, "read", "--manifest", manifest, "--config", config, "--catalog", catalog)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	if out, code := read(plainAPI.URL); code != 0 || !strings.Contains(out, `"type":"RECORD"`) || requests.Load() != 1 {
		t.Fatalf("not in cloud mode: exit %d, %d requests:\n%s", code, requests.Load(), out)
	}
	requests.Store(0)
	for base, want := range map[string]string{plainAPI.URL: "InvalidSchema", tlsAPI.URL: "belongs to a private network"} {
		out, code := read(base, "DEPLOYMENT_MODE=cloud")
		if code != 1 || !strings.Contains(out, `"failure_type":"config_error"`) || !strings.Contains(out, want) ||
			strings.Contains(out, `"type":"RECORD"`) || requests.Load() != 0 {
			t.Errorf("cloud mode, %s: exit %d, %d requests:\n%s\nwant a config_error saying %q and no request", base, code, requests.Load(), out, want)
		}
	}
}
