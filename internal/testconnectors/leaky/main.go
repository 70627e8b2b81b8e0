// Command leaky is a test connector that does everything a careless real
// connector might do with its credentials: for every command but spec it
// prints its whole config file, and every string value in it, to stderr, to
// stdout as a non-JSON line and in LOG messages (message and stack trace);
// check reports FAILED with the config in the message; discover succeeds;
// read and write fail with a TRACE ERROR and a fatal stderr line that quote
// the secrets, then exit 1. Its spec marks password, api_key and
// credentials.client_secret airbyte_secret. The kit would not write a
// non-JSON line, so the leaks on stdout are written directly, before the
// kit writes anything.
//
// With "mode": "hang" it reports where its config file is and the file's
// and directory's permissions in a LOG message, then waits until it is
// stopped (the temp-file clean-up test).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"sort"

	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

const spec = `{"type":"object","properties":{
	"count":{"type":"integer"},
	"mode":{"type":"string"},
	"note":{"type":"string"},
	"password":{"type":"string","airbyte_secret":true},
	"api_key":{"type":"string","airbyte_secret":true},
	"tokens":{"type":"array","items":{"type":"string"}},
	"credentials":{"type":"object","oneOf":[{"properties":{
		"auth_type":{"type":"string","const":"oauth"},
		"client_secret":{"type":"string","airbyte_secret":true}}}]}}}`

type leaky struct{ base.Items }

func (leaky) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	var b bytes.Buffer
	err := json.Compact(&b, []byte(spec))
	return &protocol.ConnectorSpecification{ConnectionSpecification: b.Bytes()}, err
}

// leak prints the config everywhere a connector can print, or hangs in
// mode "hang". It returns the config's string values.
func leak(ctx context.Context, raw json.RawMessage) ([]string, error) {
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, err
	}
	if cfg["mode"] == "hang" {
		return nil, hang(ctx)
	}
	values := stringsIn(cfg)
	fmt.Fprintf(os.Stderr, "leaky stderr: my config is %s\n", raw)
	for _, v := range values {
		fmt.Fprintf(os.Stderr, "leaky stderr value: %s\n", v)
	}
	out := []byte("leaky stdout: my config is " + string(raw) + "\n")
	msgs := []*protocol.Message{base.Log(protocol.LevelInfo, "leaky log: my config is "+string(raw))}
	for _, v := range values {
		msgs = append(msgs, base.Log(protocol.LevelError, "leaky log value: "+v))
	}
	msgs = append(msgs, &protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: protocol.LevelWarn,
		Message: "leaky log with a stack trace", StackTrace: "Traceback: config=" + string(raw)}})
	for _, m := range msgs {
		var err error
		if out, err = protocol.AppendMessage(out, m); err != nil {
			return nil, err
		}
	}
	_, err := os.Stdout.Write(out)
	return values, err
}

func (leaky) Check(ctx context.Context, config json.RawMessage) error {
	if _, err := leak(ctx, config); err != nil {
		return err
	}
	return fmt.Errorf("leaky check: cannot connect with %s", config)
}

func (leaky) Discover(ctx context.Context, config json.RawMessage) (*protocol.Catalog, error) {
	if _, err := leak(ctx, config); err != nil {
		return nil, err
	}
	return base.Items{}.Discover(ctx, config)
}

func (leaky) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	values, err := leak(ctx, config)
	if err != nil {
		return err
	}
	return fail(config, values, emit)
}

func (leaky) Write(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	values, err := leak(ctx, config)
	if err != nil {
		return err
	}
	for _, err := range input {
		if err != nil {
			return err
		}
	}
	return fail(config, values, emit)
}

// fail emits a record and a TRACE ERROR quoting the secrets and returns a
// fatal error quoting them too: the kit prints it on stderr, exits 1 and,
// as a TRACE ERROR was emitted, sends no second one.
func fail(raw json.RawMessage, values []string, emit func(*protocol.Message) error) error {
	if err := emit(base.Record(`{"id":1}`)); err != nil {
		return err
	}
	if err := emit(base.ErrorTrace(protocol.ErrorTrace{
		Message:         fmt.Sprintf("leaky trace: authentication failed for %v", values),
		InternalMessage: "leaky internal: config " + string(raw),
		StackTrace:      "leaky stack: " + string(raw),
		FailureType:     protocol.FailureConfig,
	})); err != nil {
		return err
	}
	return fmt.Errorf("leaky fatal: authentication failed with %v (config %s)", values, raw)
}

// hang reports the config file's location and permissions, then waits
// until it is stopped.
func hang(ctx context.Context) error {
	path := configPath()
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return err
	}
	line, err := protocol.AppendMessage(nil, base.Log(protocol.LevelInfo,
		fmt.Sprintf("leaky config-file %s mode %#o dir-mode %#o", path, fi.Mode().Perm(), di.Mode().Perm())))
	if err != nil {
		return err
	}
	if _, err := os.Stdout.Write(line); err != nil {
		return err
	}
	<-ctx.Done()
	return context.Cause(ctx)
}

// configPath is the --config argument.
func configPath() string {
	for i, a := range os.Args {
		if a == "--config" && i+1 < len(os.Args) {
			return os.Args[i+1]
		}
		if len(a) > len("--config=") && a[:len("--config=")] == "--config=" {
			return a[len("--config="):]
		}
	}
	return ""
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

func main() { kit.Serve(leaky{}) }
