package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/kit"
)

// TestGoConnector runs the demo: the second read loads only the two lines
// appended after the first.
func TestGoConnector(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, t.TempDir()); err != nil {
		t.Fatalf("goconnector: %v\n%s", err, out.String())
	}
	want := "read 1: 3 lines loaded, 3 rows in the cache\n" +
		"read 2: 2 lines loaded, 5 rows in the cache\n" +
		"last lines:\n  5: POST /orders 201\n  4: GET /health 200\n"
	if out.String() != want {
		t.Fatalf("printed\n%s\nwant\n%s", out.String(), want)
	}
}

// TestServedAsAConnector runs the same value as a connector program does
// (kit.Run is kit.Serve's testable form): an incremental read with a state
// emits the lines after it, then the new state, then the stream's
// COMPLETE, which the kit adds.
func TestServedAsAConnector(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	logPath := write("app.log", "one\ntwo\nthree\n")
	config := write("config.json", `{"path": "`+logPath+`"}`)
	catalog := write("catalog.json", `{"streams":[{"stream":{"name":"lines","json_schema":{},"supported_sync_modes":["incremental"]},
		"sync_mode":"incremental","cursor_field":["line_number"],"destination_sync_mode":"append"}]}`)
	state := write("state.json", `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"lines"},"stream_state":{"line_number":2}}}]`)
	var stdout, stderr bytes.Buffer
	before := time.Now()
	code := kit.Run(context.Background(), logFile{}, []string{"read", "--config", config, "--catalog", catalog, "--state", state}, nil, &stdout, &stderr)
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[0], `"data":{"line_number":3,"text":"three"}`) ||
		!strings.Contains(lines[1], `"stream_state":{"line_number":3}`) ||
		!strings.Contains(lines[2], `"stream_status":{"stream_descriptor":{"name":"lines"},"status":"COMPLETE"}`) {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	// The record says when it was emitted: 0 made it a record of 1970
	// for every runner that stores emitted_at as it comes.
	var rec struct {
		Record struct {
			EmittedAt int64 `json:"emitted_at"`
		} `json:"record"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil || rec.Record.EmittedAt < before.UnixMilli() {
		t.Fatalf("the record's emitted_at is %d (%v), want the time of the read, after %d", rec.Record.EmittedAt, err, before.UnixMilli())
	}

	stdout.Reset()
	code = kit.Run(context.Background(), logFile{}, []string{"check", "--config", write("bad.json", `{"path": "`+filepath.Join(dir, "missing.log")+`"}`)}, nil, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), `"status":"FAILED"`) || !strings.Contains(stdout.String(), "missing.log") {
		t.Fatalf("check of a missing file: exit %d, %s", code, stdout.String())
	}
}

// TestUnknownStreamFails reads a catalog that names a stream the connector
// does not have: the read fails with a config error, and no COMPLETE is
// emitted that would let a runner replace the stream's table with nothing.
func TestUnknownStreamFails(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	config := filepath.Join(dir, "config.json")
	catalog := filepath.Join(dir, "catalog.json")
	for p, text := range map[string]string{
		logPath: "one\n",
		config:  `{"path": "` + logPath + `"}`,
		catalog: `{"streams":[{"stream":{"name":"lines","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"},
			{"stream":{"name":"metrics","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`,
	} {
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	code := kit.Run(context.Background(), logFile{}, []string{"read", "--config", config, "--catalog", catalog}, nil, &stdout, &stderr)
	if code == 0 || strings.Contains(stdout.String(), `"COMPLETE"`) ||
		!strings.Contains(stdout.String(), `"failure_type":"config_error"`) || !strings.Contains(stdout.String(), `metrics`) {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}
