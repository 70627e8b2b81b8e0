package source_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/registry"
	"github.com/x/goairbyte/secrets"
	"github.com/x/goairbyte/source"
)

// No test of this package may reach the real connector registry: New
// without an execution method consults it for names not on PATH.
func init() {
	connector.DefaultEnvironment().SetRegistry(registry.NewLoader(registry.WithOffline(true), registry.WithCacheDir("")))
}

// unique returns a value no other test (and no other run) uses, so that the
// process-wide masking of one test cannot hide a leak in another.
func unique(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// capture is a slog handler that keeps every record twice: as the raw
// message and attribute values (what a careless handler would print
// unescaped) and through slog's JSON handler.
type capture struct {
	mu    *sync.Mutex
	raw   *bytes.Buffer
	json  slog.Handler
	attrs []slog.Attr
}

func newCapture() (*capture, *bytes.Buffer) {
	var jsonBuf bytes.Buffer
	c := &capture{mu: &sync.Mutex{}, raw: &bytes.Buffer{}}
	c.json = slog.NewJSONHandler(&lockedWriter{mu: c.mu, w: &jsonBuf}, &slog.HandlerOptions{Level: slog.LevelDebug})
	return c, &jsonBuf
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) { return l.w.Write(p) } // called under capture.mu

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }

func (c *capture) Handle(ctx context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.raw, "%s %s", r.Level, r.Message)
	for _, a := range c.attrs {
		fmt.Fprintf(c.raw, " %s=%s", a.Key, a.Value.Resolve().String())
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(c.raw, " %s=%s", a.Key, a.Value.Resolve().String())
		return true
	})
	c.raw.WriteByte('\n')
	return c.json.Handle(ctx, r)
}

func (c *capture) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *c
	n.attrs = append(append([]slog.Attr(nil), c.attrs...), attrs...)
	n.json = c.json.WithAttrs(attrs)
	return &n
}

func (c *capture) WithGroup(name string) slog.Handler {
	n := *c
	n.json = c.json.WithGroup(name)
	return &n
}

func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.raw.String()
}

// leakForms are the ways a secret value can appear in captured text: as it
// is, JSON-escaped with and without HTML escaping, and Go-quoted.
func leakForms(v string) []string {
	forms := []string{v}
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		_ = enc.Encode(v)
		s := strings.TrimSpace(b.String())
		forms = append(forms, s[1:len(s)-1])
	}
	q := strconv.Quote(v)
	return append(forms, q[1:len(q)-1])
}

// assertNoSecret fails when any secret, in any form, is in any text.
func assertNoSecret(t *testing.T, texts map[string]string, secretValues ...string) {
	t.Helper()
	for what, text := range texts {
		for _, v := range secretValues {
			for _, f := range leakForms(v) {
				if strings.Contains(text, f) {
					t.Errorf("secret %q (as %q) leaked into %s:\n%s", v, f, what, text)
				}
			}
		}
	}
}

// leakyConfig is a config for the leaky connector with secrets in every
// place a config can hold them, and the secret values, all unique.
func leakyConfig(t *testing.T) (map[string]any, []string) {
	// A literal airbyte_secret with characters JSON escapes.
	password := unique(`pw"<&>\`)
	clientSecret := unique("client-secret-")
	apiKey := unique("api-key-")   // a reference in an airbyte_secret field
	note := unique("note-secret-") // a reference in a field the spec does not mark
	token := unique("token-")      // a reference inside an array
	apiVar, noteVar, tokenVar := unique("LEAKY_API_KEY_"), unique("LEAKY_NOTE_"), unique("LEAKY_TOKEN_")
	t.Setenv(apiVar, apiKey)
	t.Setenv(noteVar, note)
	t.Setenv(tokenVar, token)
	cfg := map[string]any{
		"count":       1,
		"password":    password,
		"api_key":     secrets.ReferencePrefix + apiVar,
		"note":        secrets.ReferencePrefix + noteVar,
		"tokens":      []any{"not-a-secret-token", secrets.ReferencePrefix + tokenVar},
		"credentials": map[string]any{"auth_type": "oauth", "client_secret": clientSecret},
	}
	// The literal values first, then those resolved from references.
	return cfg, []string{password, clientSecret, apiKey, note, token}
}

// errorTexts renders err every way a program might print it.
func errorTexts(name string, err error, texts map[string]string) {
	if err == nil {
		return
	}
	wrapped := fmt.Errorf("pipeline step: %w", err)
	texts[name+" Error"] = err.Error()
	texts[name+" %+v"] = fmt.Sprintf("%+v", err)
	texts[name+" %v wrapped"] = fmt.Sprintf("%v", wrapped)
	texts[name+" %+v wrapped"] = fmt.Sprintf("%+v", wrapped)
	var ce *executor.ConnectorError
	if errors.As(err, &ce) {
		texts[name+" ConnectorError fields"] = strings.Join(append(ce.StderrTail, ce.Message, ce.InternalMessage), "\n")
		texts[name+" %#v ConnectorError"] = fmt.Sprintf("%#v", *ce)
	}
	var cf *connector.CheckFailedError
	if errors.As(err, &cf) {
		texts[name+" CheckFailedError message"] = cf.Message
	}
}

// logFiles returns the text of every file under dir.
func logFiles(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		b.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestLeakyConnectorNoSecretEscapes runs a connector that prints its whole
// config everywhere it can, through every Source command, and looks for the
// secrets in every byte that comes out: the logger's output, the
// per-connector log file and every rendering of every error.
func TestLeakyConnectorNoSecretEscapes(t *testing.T) {
	ctx := context.Background()
	bin := testenv.BuildBinary(t, "./internal/testconnectors/leaky")
	cfg, secretValues := leakyConfig(t)
	h, jsonLog := newCapture()
	logDir := t.TempDir()
	src, err := source.New(ctx, "source-leaky", connector.WithLocalExecutable(bin), connector.WithConfig(cfg),
		connector.WithLogger(slog.New(h)), connector.WithLogDir(logDir))
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}

	// check: FAILED, with the whole config in the connector's message.
	checkErr := src.Check(ctx)
	var cf *connector.CheckFailedError
	if !errors.As(checkErr, &cf) {
		t.Fatalf("check: want *CheckFailedError, got %v", checkErr)
	}
	errorTexts("check", checkErr, texts)

	// discover succeeds, having leaked on every channel.
	if _, err := src.Discover(ctx); err != nil {
		t.Fatalf("discover: %v", err)
	}

	// Records: a TRACE ERROR and exit 1, quoting the secrets.
	var recErr error
	for _, err := range src.Records(ctx, "items") {
		if err != nil {
			recErr = err
		}
	}
	var ce *executor.ConnectorError
	if !errors.As(recErr, &ce) {
		t.Fatalf("records: want *executor.ConnectorError, got %v", recErr)
	}
	errorTexts("records", recErr, texts)

	// Read into a cache: the same failure through the cache's path.
	c, err := cache.New(ctx, duckdb.NewConnector(filepath.Join(t.TempDir(), "leaky.duckdb")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, readErr := src.Read(ctx, source.UseCache(c))
	if readErr == nil {
		t.Fatal("read of the leaky connector succeeded")
	}
	errorTexts("read", readErr, texts)
	if res != nil {
		texts["read result"] = fmt.Sprintf("%+v", res)
	}

	// The stored config keeps its references: it holds the literal values
	// the caller gave, never a resolved one.
	stored, _ := json.Marshal(src.Config())
	if !strings.Contains(string(stored), secrets.ReferencePrefix) {
		t.Errorf("Config() lost its references: %s", stored)
	}
	assertNoSecret(t, map[string]string{"Config()": string(stored)}, secretValues[2:]...)

	texts["slog raw"] = h.String()
	texts["slog JSON"] = jsonLog.String()
	texts["log files"] = logFiles(t, logDir)
	assertNoSecret(t, texts, secretValues...)

	// Not vacuous: the connector ran, leaked on every channel, got the
	// resolved values (no reference text reached it) and all was masked.
	logs := texts["log files"]
	for _, want := range []string{"leaky stderr: my config is", "leaky stdout:", "leaky log: my config is", "Traceback: config=", "leaky trace:", "****"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the connector log file lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, secrets.ReferencePrefix) {
		t.Errorf("the connector saw an unresolved reference:\n%s", logs)
	}
	for _, name := range []string{"slog raw", "records Error", "check Error"} {
		if !strings.Contains(texts[name], "****") {
			t.Errorf("%s shows no masked value:\n%s", name, texts[name])
		}
	}
	if !strings.Contains(texts["slog raw"], "leaky log: my config is") || !strings.Contains(texts["slog raw"], "connector stderr") {
		t.Errorf("the logger did not get the connector's LOG messages and stderr:\n%s", texts["slog raw"])
	}
}

// TestLeakyDestinationNoSecretEscapes is the same for a destination: the
// leaky connector's check and write, run through destination.New.
func TestLeakyDestinationNoSecretEscapes(t *testing.T) {
	ctx := context.Background()
	bin := testenv.BuildBinary(t, "./internal/testconnectors/leaky")
	faker := testenv.BuildBinary(t, "./cmd/source-faker")
	cfg, secretValues := leakyConfig(t)
	h, jsonLog := newCapture()
	logDir := t.TempDir()
	dst, err := destination.New(ctx, "destination-leaky", connector.WithLocalExecutable(bin), connector.WithConfig(cfg),
		connector.WithLogger(slog.New(h)), connector.WithLogDir(logDir))
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	checkErr := dst.Check(ctx)
	if checkErr == nil {
		t.Fatal("check of the leaky destination succeeded")
	}
	errorTexts("check", checkErr, texts)

	src := newSource(t, "source-faker", connector.WithLocalExecutable(faker),
		connector.WithConfig(map[string]any{"count": 5, "seed": 1}), connector.WithStreams("users"))
	res, writeErr := dst.Write(ctx, src, destination.NoCache(), destination.NoStateCache())
	var ce *executor.ConnectorError
	if !errors.As(writeErr, &ce) {
		t.Fatalf("write: want *executor.ConnectorError, got %v", writeErr)
	}
	errorTexts("write", writeErr, texts)
	if res != nil {
		texts["write result"] = fmt.Sprintf("%+v", res)
	}
	stored, _ := json.Marshal(dst.Config())
	assertNoSecret(t, map[string]string{"Config()": string(stored)}, secretValues[2:]...)
	texts["slog raw"] = h.String()
	texts["slog JSON"] = jsonLog.String()
	texts["log files"] = logFiles(t, logDir)
	assertNoSecret(t, texts, secretValues...)
	if logs := texts["log files"]; !strings.Contains(logs, "leaky stderr: my config is") || !strings.Contains(logs, "****") ||
		strings.Contains(logs, secrets.ReferencePrefix) {
		t.Errorf("the destination did not run, leak and get masked as expected:\n%s", logs)
	}
}

// TestTempConfigFilesPrivateAndRemovedOnCancel looks at the config file a
// running connector was given: 0600 in a 0700 directory while it runs, gone
// once the command was cancelled.
func TestTempConfigFilesPrivateAndRemovedOnCancel(t *testing.T) {
	bin := testenv.BuildBinary(t, "./internal/testconnectors/leaky")
	cfg, _ := leakyConfig(t)
	cfg["mode"] = "hang"
	src := newSource(t, "source-leaky", connector.WithLocalExecutable(bin), connector.WithConfig(cfg))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var path, report string
	var last error
	for msg, err := range core.ConnOf(src.Connector).Run(ctx, executor.Invocation{Verb: executor.VerbCheck}) {
		if err != nil {
			last = err
			continue
		}
		if msg.Type != protocol.TypeLog || !strings.HasPrefix(msg.Log.Message, "leaky config-file ") {
			continue
		}
		report = msg.Log.Message
		path = strings.Fields(report)[2]
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("the running connector's config file: %v", err)
		}
		di, err := os.Stat(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
			t.Errorf("config file %v in a directory %v; want 0600 in 0700", fi.Mode().Perm(), di.Mode().Perm())
		}
		if !strings.Contains(report, "mode 0600 dir-mode 0700") {
			t.Errorf("the connector saw other permissions: %s", report)
		}
		cancel()
	}
	if path == "" {
		t.Fatalf("the connector never reported its config file (last error %v)", last)
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("want the cancellation as the last error, got %v", last)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the temp directory %s survived the cancellation: %v", filepath.Dir(path), err)
	}
}

// TestReferencesResolvedAtRunTimeNotStored: a reference is resolved for
// each run (a changed secret is picked up), the connector gets the value,
// and a config the connector sends back (CONTROL) gets its references back,
// so neither Config nor the callback ever holds a resolved secret.
func TestReferencesResolvedAtRunTimeNotStored(t *testing.T) {
	ctx := context.Background()
	bin := testenv.BuildBinary(t, "./source/internal/controlsource")
	keyVar, modeVar := unique("CTRL_KEY_"), unique("CTRL_MODE_")
	key := unique("sk-ref-")
	t.Setenv(keyVar, key)
	t.Setenv(modeVar, "fail")
	cfg := map[string]any{"api_key": secrets.ReferencePrefix + keyVar, "mode": secrets.ReferencePrefix + modeVar, "count": 2}
	var got []map[string]any
	src := newSource(t, "source-control", connector.WithLocalExecutable(bin), connector.WithConfig(cfg),
		connector.WithConfigChangeCallback(func(c map[string]any) { got = append(got, c) }))

	// mode resolves to "fail": check fails quoting the (masked) key.
	err := src.Check(ctx)
	var cf *connector.CheckFailedError
	if !errors.As(err, &cf) || strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "****") {
		t.Fatalf("want a masked *CheckFailedError, got %v", err)
	}
	// Resolved at run time: the secret changed, the next run sees it.
	t.Setenv(modeVar, "ok")
	if err := src.Check(ctx); err != nil {
		t.Fatalf("check after the secret changed: %v", err)
	}
	n := 0
	for _, err := range src.Records(ctx, "items") {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 || len(got) != 1 {
		t.Fatalf("%d records, %d config changes; want 2 and 1", n, len(got))
	}
	// The connector sent {"api_key": key+"-refreshed", "mode": "ok", ...}:
	// the new key is new (kept, and masked); "ok" came from a reference.
	for name, c := range map[string]map[string]any{"Config()": src.Config(), "callback": got[0]} {
		if c["mode"] != secrets.ReferencePrefix+modeVar || c["api_key"] != key+"-refreshed" {
			t.Errorf("%s after CONTROL: %v", name, c)
		}
	}
	if m := secrets.Mask("token " + key + "-refreshed"); m != "token ****" {
		t.Errorf("the refreshed key is not masked: %q", m)
	}
	// The next run resolves again and gets the refreshed key.
	if err := src.Check(ctx); err != nil {
		t.Fatalf("check with the refreshed config: %v", err)
	}
}

// pythonEcho is a Python connector that prints its airbyte_secret password
// the way Python code does: in the message of a config validation error as
// jsonschema writes it (the value's repr), and its config as a dict on
// stderr.
const pythonEcho = `#!/usr/bin/env python3
import json, sys
if sys.argv[1] == "spec":
    print(json.dumps({"type": "SPEC", "spec": {"connectionSpecification": {"type": "object",
        "properties": {"password": {"type": "string", "airbyte_secret": True}}}}}))
    sys.exit(0)
config = json.load(open(sys.argv[sys.argv.index("--config") + 1]))
message = "Config validation error: %r does not match '^[a-z]+$'" % config["password"]
print(json.dumps({"type": "LOG", "log": {"level": "ERROR", "message": "config: %s" % config}}))
print(json.dumps({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 0,
    "error": {"message": message, "internal_message": message, "failure_type": "config_error"}}}))
print("Traceback: config=%s" % config, file=sys.stderr)
sys.exit(1)
`

// TestSecretInPythonReprMasked: Python prints a string with a backslash as
// 'pw"q\\…' in a repr (a dict, a jsonschema error), a form neither the raw
// value nor its JSON escaping matches.
func TestSecretInPythonReprMasked(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	script := filepath.Join(t.TempDir(), "source-pyecho")
	if err := os.WriteFile(script, []byte(strings.Replace(pythonEcho, "/usr/bin/env python3", python, 1)), 0o755); err != nil {
		t.Fatal(err)
	}
	password := unique(`pw"q\`)
	repr := strings.ReplaceAll(password, `\`, `\\`)
	h, jsonLog := newCapture()
	logDir := t.TempDir()
	src := newSource(t, "source-pyecho", connector.WithLocalExecutable(script),
		connector.WithConfig(map[string]any{"password": password}), connector.WithLogger(slog.New(h)), connector.WithLogDir(logDir))
	checkErr := src.Check(context.Background())
	if checkErr == nil {
		t.Fatal("check succeeded")
	}
	texts := map[string]string{}
	errorTexts("check", checkErr, texts)
	texts["slog raw"] = h.String()
	texts["slog JSON"] = jsonLog.String()
	texts["log files"] = logFiles(t, logDir)
	for what, text := range texts {
		if strings.Contains(text, repr) {
			t.Errorf("the password's Python repr leaked into %s:\n%s", what, text)
		}
	}
	assertNoSecret(t, texts, password)
	// Not vacuous: the connector ran and said what it was meant to.
	if !strings.Contains(checkErr.Error(), "Config validation error: '****'") ||
		!strings.Contains(texts["log files"], "Traceback: config={'password': '****'}") {
		t.Errorf("the connector did not print the masked repr:\n%v\n%s", checkErr, texts["log files"])
	}
}
