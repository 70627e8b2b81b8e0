package localjson

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"

	"github.com/x/goairbyte/internal/builtin"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// Version is the version of this destination connector.
const Version = builtin.LocalJSONVersion

// specJSON is the connector's specification, the answer to spec.
const specJSON = `{
  "documentationUrl": "` + builtin.LocalJSONDocs + `",
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

// config is the connector's configuration.
type config struct {
	DestinationPath string
}

// configErrorf is an error the user must fix (config, catalog): Serve
// reports it with failure_type config_error.
func configErrorf(format string, a ...any) error {
	return kit.ConfigError(fmt.Errorf(format, a...))
}

// Connector is the Local JSON destination: a kit.Destination. Its zero
// value is ready to use and holds no state; concurrent writes must go to
// different directories.
type Connector struct{}

// New returns the Local JSON destination, to serve
// (kit.Serve(localjson.New())) or to call in process.
func New() *Connector { return &Connector{} }

// Spec returns the destination's specification: one option,
// destination_path, and the sync modes overwrite, append and append_dedup.
func (*Connector) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	// Compacted: the connection specification is a raw blob written
	// verbatim, and a message must stay on one line.
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(specJSON)); err != nil {
		panic("localjson: invalid built-in spec: " + err.Error())
	}
	var spec protocol.ConnectorSpecification
	if err := json.Unmarshal(compact.Bytes(), &spec); err != nil {
		panic("localjson: invalid built-in spec: " + err.Error())
	}
	return &spec, nil
}

// Check succeeds when the config is valid and a file can be created,
// written and synced in the destination directory (created if needed).
func (*Connector) Check(_ context.Context, raw json.RawMessage) error {
	c, err := loadConfig(raw)
	if err != nil {
		return err
	}
	return probe(c.DestinationPath)
}

// Write writes the RECORDs of input to the stream files and emits each
// STATE once the records before it are durable (see the package doc).
func (*Connector) Write(ctx context.Context, raw json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	c, err := loadConfig(raw)
	if err != nil {
		return err
	}
	if catalog == nil {
		return configErrorf("write needs a configured catalog")
	}
	return write(ctx, c, catalog, input, emit)
}

// loadConfig reads and validates the config.
func loadConfig(raw []byte) (config, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return config{}, configErrorf("the config is not a JSON object: %v", err)
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
