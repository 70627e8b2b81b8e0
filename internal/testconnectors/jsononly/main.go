// Command jsononly is a test connector as strict as the strictest real ones:
// flags must come in the canonical order (read --config C --catalog K
// [--state S]), the config, catalog and state paths must end in .json, and
// the files must be private (0600 in a 0700 directory); anything else exits
// 2. These checks are its own, made before kit.Serve, which accepts any
// order and any path. Its read echoes what it was given as one record:
// arguments, files byte for byte, $TEST_ECHO_ENV and /local/probe.txt when
// there is one.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// files are the paths of the canonical command line.
type files struct{ config, catalog, state string }

// strict checks the command line the way the strictest connectors do.
func strict(args []string) (files, error) {
	var f files
	if len(args) == 0 {
		return f, fmt.Errorf("no command given")
	}
	want := map[string][]string{
		"spec":     nil,
		"check":    {"--config"},
		"discover": {"--config"},
		"read":     {"--config", "--catalog"},
	}
	flags, ok := want[args[0]]
	if !ok {
		return f, fmt.Errorf("unknown command %q", args[0])
	}
	if args[0] == "read" && len(args) == 7 {
		flags = append(flags, "--state")
	}
	if len(args) != 1+2*len(flags) {
		return f, fmt.Errorf("%s: want flags %v in this order, got %v", args[0], flags, args[1:])
	}
	dst := map[string]*string{"--config": &f.config, "--catalog": &f.catalog, "--state": &f.state}
	for i, flag := range flags {
		if args[1+2*i] != flag {
			return f, fmt.Errorf("%s: flag %d must be %s, got %s (canonical order: %v)", args[0], i+1, flag, args[1+2*i], flags)
		}
		p := args[2+2*i]
		if !strings.HasSuffix(p, ".json") {
			return f, fmt.Errorf("file %s: only .json files are accepted", p)
		}
		fi, err := os.Stat(p)
		if err != nil {
			return f, fmt.Errorf("file %s: %v", p, err)
		}
		if fi.Mode().Perm() != 0o600 {
			return f, fmt.Errorf("file %s has mode %v, want 0600", p, fi.Mode().Perm())
		}
		if di, err := os.Stat(filepath.Dir(p)); err != nil || di.Mode().Perm() != 0o700 {
			return f, fmt.Errorf("directory of %s is not 0700", p)
		}
		*dst[flag] = p
	}
	return f, nil
}

type jsonOnly struct {
	base.Items
	files files
}

func (j jsonOnly) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	data := map[string]any{"args": os.Args[1:], "env": os.Getenv("TEST_ECHO_ENV"), "config": config,
		"stream_capable_state": os.Getenv("USE_STREAM_CAPABLE_STATE")}
	if b, err := os.ReadFile("/local/probe.txt"); err == nil {
		data["probe"] = string(b) // a bind mount at /local, in Docker
	}
	// The catalog as the file holds it, not as the kit parsed it.
	raw, err := os.ReadFile(j.files.catalog)
	if err != nil {
		return err
	}
	data["catalog"] = json.RawMessage(raw)
	if state != nil {
		data["state"] = state
	}
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	return emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: b, EmittedAt: time.Now().UnixMilli()}})
}

func main() {
	f, err := strict(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	kit.Serve(jsonOnly{files: f})
}
