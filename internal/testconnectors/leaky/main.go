// Command leaky is a test connector that does everything a careless real
// connector might do with its credentials: for every command but spec it
// prints its whole config file, and every string value in it, to stderr, to
// stdout as a non-JSON line and in LOG messages (message and stack trace);
// check reports FAILED with the config in the message; discover succeeds;
// read and write fail with a TRACE ERROR and a fatal stderr line that quote
// the secrets, then exit 1. Its spec marks password, api_key and
// credentials.client_secret airbyte_secret.
//
// With "mode": "hang" it reports where its config file is and the file's
// and directory's permissions in a LOG message, then waits to be killed
// (the temp-file clean-up test).
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/x/goairbyte/internal/testconnectors/kit"
)

func main() {
	a := kit.Parse()
	if a.Verb == "spec" {
		kit.Emit(kit.M{"type": "SPEC", "spec": kit.M{"connectionSpecification": kit.M{
			"type": "object",
			"properties": kit.M{
				"count":    kit.M{"type": "integer"},
				"mode":     kit.M{"type": "string"},
				"note":     kit.M{"type": "string"},
				"password": kit.M{"type": "string", "airbyte_secret": true},
				"api_key":  kit.M{"type": "string", "airbyte_secret": true},
				"tokens":   kit.M{"type": "array", "items": kit.M{"type": "string"}},
				"credentials": kit.M{"type": "object", "oneOf": []kit.M{{
					"properties": kit.M{
						"auth_type":     kit.M{"type": "string", "const": "oauth"},
						"client_secret": kit.M{"type": "string", "airbyte_secret": true},
					},
				}}},
			},
		}}})
		kit.Flush()
		return
	}
	raw, err := os.ReadFile(a.Config)
	if err != nil {
		kit.Fail(2, "reading %s: %v", a.Config, err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		kit.Fail(2, "parsing %s: %v", a.Config, err)
	}
	if cfg["mode"] == "hang" {
		hang(a.Config)
	}
	values := stringsIn(cfg)

	// Leak everywhere a connector can print.
	fmt.Fprintf(os.Stderr, "leaky stderr: my config is %s\n", raw)
	for _, v := range values {
		fmt.Fprintf(os.Stderr, "leaky stderr value: %s\n", v)
	}
	kit.Line("leaky stdout: my config is " + string(raw))
	kit.Log("INFO", "leaky log: my config is "+string(raw))
	for _, v := range values {
		kit.Log("ERROR", "leaky log value: "+v)
	}
	kit.Emit(kit.M{"type": "LOG", "log": kit.M{"level": "WARN", "message": "leaky log with a stack trace",
		"stack_trace": "Traceback: config=" + string(raw)}})

	switch a.Verb {
	case "check":
		kit.Status(false, "leaky check: cannot connect with "+string(raw))
		kit.Flush()
		return
	case "discover":
		kit.Catalog()
		kit.Flush()
		return
	case "write":
		_, _ = io.Copy(io.Discard, os.Stdin)
	}
	kit.Record(kit.M{"id": 1})
	kit.Emit(kit.M{"type": "TRACE", "trace": kit.M{
		"type": "ERROR", "emitted_at": time.Now().UnixMilli(),
		"error": kit.M{
			"message":          fmt.Sprintf("leaky trace: authentication failed for %v", values),
			"internal_message": "leaky internal: config " + string(raw),
			"stack_trace":      "leaky stack: " + string(raw),
			"failure_type":     "config_error",
		},
	}})
	kit.Fail(1, "leaky fatal: authentication failed with %v (config %s)", values, raw)
}

// hang reports the config file's location and permissions, then waits.
func hang(path string) {
	fi, err := os.Stat(path)
	if err != nil {
		kit.Fail(2, "stat %s: %v", path, err)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		kit.Fail(2, "stat %s: %v", filepath.Dir(path), err)
	}
	kit.Emit(kit.M{"type": "LOG", "log": kit.M{"level": "INFO",
		"message": fmt.Sprintf("leaky config-file %s mode %#o dir-mode %#o", path, fi.Mode().Perm(), di.Mode().Perm())}})
	kit.Flush()
	for {
		time.Sleep(time.Hour)
	}
}

// stringsIn returns every string in v, sorted.
func stringsIn(v any) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	sort.Strings(out)
	return out
}
