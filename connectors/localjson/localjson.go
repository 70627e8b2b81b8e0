package localjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/x/goairbyte/protocol"
)

// Version is the version of this destination connector.
const Version = "0.1.0"

// specJSON is the connector's specification, the answer to spec.
const specJSON = `{
  "documentationUrl": "https://docs.airbyte.com/integrations/destinations/local-json",
  "supportsIncremental": true,
  "supportsNormalization": false,
  "supportsDBT": false,
  "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"],
  "connectionSpecification": {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Local JSON Destination Spec",
    "type": "object",
    "required": ["destination_path"],
    "properties": {
      "destination_path": {
        "title": "Destination Path",
        "description": "Directory the JSONL files are written to: one file _airbyte_raw_<stream>.jsonl per stream. It is created if it does not exist.",
        "type": "string",
        "examples": ["/local/json_data"]
      }
    }
  }
}`

// usage is printed on stderr when the command line is wrong.
const usage = `usage: destination-local-json spec
       destination-local-json check --config CONFIG.json
       destination-local-json write --config CONFIG.json --catalog CATALOG.json < messages`

// config is the connector's configuration.
type config struct {
	DestinationPath string
}

// configError is a problem with what the user gave the connector (config,
// catalog, command line): it is reported with failure_type config_error.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func configErrorf(format string, a ...any) error {
	return &configError{msg: fmt.Sprintf(format, a...)}
}

// invocation is a parsed command line.
type invocation struct {
	command, config, catalog string
}

// parseArgs accepts the command and its flags in any order, as "--flag value"
// or "--flag=value". --state is accepted and ignored: destinations get no
// state file, but some runners pass one anyway.
func parseArgs(args []string) (invocation, error) {
	var inv invocation
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			if inv.command != "" {
				return inv, configErrorf("unexpected argument %q after command %q", a, inv.command)
			}
			inv.command = a
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue {
			if i+1 >= len(args) {
				return inv, configErrorf("flag --%s needs a value", name)
			}
			i++
			value = args[i]
		}
		switch name {
		case "config":
			inv.config = value
		case "catalog":
			inv.catalog = value
		case "state":
		default:
			return inv, configErrorf("unknown flag --%s", name)
		}
	}
	switch inv.command {
	case "spec":
	case "check":
		if inv.config == "" {
			return inv, configErrorf("check needs --config")
		}
	case "write":
		if inv.config == "" || inv.catalog == "" {
			return inv, configErrorf("write needs --config and --catalog")
		}
	case "":
		return inv, configErrorf("no command given")
	default:
		return inv, configErrorf("unknown command %q", inv.command)
	}
	return inv, nil
}

// Run runs the connector with the command-line arguments args (without the
// program name), reading messages from stdin and writing protocol messages
// to stdout and diagnostics to stderr. It returns the process exit code: 0 on
// success (a failed check is still 0, as the protocol wants), 1 when the
// command failed (a TRACE ERROR says why), 2 for a bad command line.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	inv, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "destination-local-json: %v\n%s\n", err, usage)
		return 2
	}
	out := &output{w: stdout}
	switch inv.command {
	case "spec":
		// Compacted: the connection specification is a raw blob written
		// verbatim, and a message must stay on one line.
		var compact bytes.Buffer
		var spec protocol.ConnectorSpecification
		if err := json.Compact(&compact, []byte(specJSON)); err != nil {
			panic("localjson: invalid built-in spec: " + err.Error())
		}
		if err := json.Unmarshal(compact.Bytes(), &spec); err != nil {
			panic("localjson: invalid built-in spec: " + err.Error())
		}
		err = out.message(&protocol.Message{Type: protocol.TypeSpec, Spec: &spec})
	case "check":
		err = out.message(&protocol.Message{Type: protocol.TypeConnectionStatus, ConnectionStatus: check(inv.config)})
	case "write":
		err = write(ctx, inv, stdin, out)
	}
	if err == nil {
		return 0
	}
	failure := protocol.FailureSystem
	var ce *configError
	if errors.As(err, &ce) {
		failure = protocol.FailureConfig
	}
	fmt.Fprintf(stderr, "destination-local-json: %v\n", err)
	out.message(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{
		Type:      protocol.TraceError,
		EmittedAt: float64(time.Now().UnixMilli()),
		Error:     &protocol.ErrorTrace{Message: err.Error(), FailureType: failure},
	}})
	return 1
}

// loadConfig reads and validates the config file.
func loadConfig(path string) (config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return config{}, configErrorf("cannot read the config file: %v", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return config{}, configErrorf("config file %s is not a JSON object: %v", path, err)
	}
	p, ok := fields["destination_path"]
	if !ok {
		return config{}, configErrorf(`config: destination_path is required: set it to the directory the JSONL files go to, e.g. {"destination_path": "/local/json_data"}`)
	}
	var c config
	if err := json.Unmarshal(p, &c.DestinationPath); err != nil {
		return config{}, configErrorf("config: destination_path must be a string, got %s", p)
	}
	if c.DestinationPath == "" {
		return config{}, configErrorf("config: destination_path must not be empty")
	}
	return c, nil
}

// check answers the check command: the config must be valid and a file must
// be creatable, writable and syncable in the destination directory.
func check(configPath string) *protocol.ConnectionStatus {
	c, err := loadConfig(configPath)
	if err == nil {
		err = probe(c.DestinationPath)
	}
	if err != nil {
		return &protocol.ConnectionStatus{Status: protocol.StatusFailed, Message: err.Error()}
	}
	return &protocol.ConnectionStatus{Status: protocol.StatusSucceeded}
}

// probe creates the directory if needed and writes, syncs and removes a file
// in it.
func probe(dir string) error {
	fail := func(err error) error {
		return fmt.Errorf("cannot write to destination_path %q: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	f, err := os.CreateTemp(dir, ".airbyte_check_*")
	if err != nil {
		return fail(err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString("check\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// output writes protocol messages to stdout, one Write per line, so that a
// line is on the pipe as soon as it is written. It is safe for concurrent
// use: states are echoed by the syncer, logs by the write loop.
type output struct {
	mu sync.Mutex
	w  io.Writer
}

// message encodes m and writes it.
func (o *output) message(m *protocol.Message) error {
	b, err := protocol.AppendMessage(nil, m)
	if err != nil {
		return err
	}
	return o.line(b)
}

// line writes one encoded message line, newline included.
func (o *output) line(b []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, err := o.w.Write(b); err != nil {
		return fmt.Errorf("writing to stdout: %w", err)
	}
	return nil
}

// log writes a LOG message.
func (o *output) log(level protocol.Level, format string, a ...any) error {
	return o.message(&protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: level, Message: fmt.Sprintf(format, a...)}})
}
