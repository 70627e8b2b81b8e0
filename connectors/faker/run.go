package faker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/x/goairbyte/protocol"
)

const usage = `usage: source-faker spec
       source-faker check --config CONFIG
       source-faker discover --config CONFIG
       source-faker read --config CONFIG --catalog CATALOG [--state STATE]
`

// UsageError reports a command line Run cannot understand.
type UsageError struct {
	Reason string
}

// Error gives the reason followed by the usage text.
func (e *UsageError) Error() string { return "source-faker: " + e.Reason + "\n" + usage }

type invocation struct {
	command                string
	config, catalog, state string
}

// parseArgs accepts the flags in any order, as "--flag value" or
// "--flag=value".
func parseArgs(args []string) (invocation, error) {
	var inv invocation
	if len(args) == 0 {
		return inv, &UsageError{"no command given"}
	}
	inv.command = args[0]
	switch inv.command {
	case "spec", "check", "discover", "read":
	default:
		return inv, &UsageError{fmt.Sprintf("unknown command %q", inv.command)}
	}
	flags := map[string]*string{"--config": &inv.config, "--catalog": &inv.catalog, "--state": &inv.state}
	for i := 1; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		dst, ok := flags[name]
		if !ok {
			return inv, &UsageError{fmt.Sprintf("unknown argument %q", args[i])}
		}
		if !hasValue {
			if i+1 >= len(args) {
				return inv, &UsageError{fmt.Sprintf("%s needs a file name", name)}
			}
			i++
			value = args[i]
		}
		*dst = value
	}
	need := map[string][]string{"check": {"--config"}, "discover": {"--config"}, "read": {"--config", "--catalog"}}
	for _, f := range need[inv.command] {
		if *flags[f] == "" {
			return inv, &UsageError{fmt.Sprintf("%s needs %s", inv.command, f)}
		}
	}
	return inv, nil
}

// Run runs the connector with the command-line arguments args (without the
// program name, e.g. {"read", "--config", "c.json", "--catalog", "k.json"})
// and returns the process exit code. Protocol messages go to stdout, human
// diagnostics to stderr; stdin is not read (sources take no input) and is
// there so every connector of ours has the same entry point.
//
// As real connectors do, a failed check is a CONNECTION_STATUS FAILED with
// exit code 0; a bad config, catalog or state during discover or read is a
// TRACE ERROR with failure_type config_error and exit code 1; a command line
// that cannot be parsed exits with 2.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	inv, err := parseArgs(args)
	if err != nil {
		fmt.Fprint(stderr, err)
		return 2
	}
	out := &output{w: stdout, buf: make([]byte, 0, writeBuffer)}
	switch inv.command {
	case "spec":
		spec := Spec()
		out.message(&protocol.Message{Type: protocol.TypeSpec, Spec: &spec})
	case "check":
		status := &protocol.ConnectionStatus{Status: protocol.StatusSucceeded}
		if _, err := loadConfig(inv.config); err != nil {
			status = &protocol.ConnectionStatus{Status: protocol.StatusFailed, Message: err.Error()}
		}
		out.message(&protocol.Message{Type: protocol.TypeConnectionStatus, ConnectionStatus: status})
	case "discover":
		if _, err := loadConfig(inv.config); err != nil {
			return fail(out, stderr, err)
		}
		catalog := Catalog()
		out.message(&protocol.Message{Type: protocol.TypeCatalog, Catalog: &catalog})
	case "read":
		cfg, err := loadConfig(inv.config)
		if err != nil {
			return fail(out, stderr, err)
		}
		catalog, err := loadCatalog(inv.catalog)
		if err != nil {
			return fail(out, stderr, err)
		}
		var state []byte
		if inv.state != "" {
			if state, err = os.ReadFile(inv.state); err != nil {
				return fail(out, stderr, &StateError{Reason: err.Error()})
			}
		}
		if err := out.flush(); err != nil {
			return fail(out, stderr, err)
		}
		if err := Read(ctx, stdout, cfg, catalog, state); err != nil {
			return fail(out, stderr, err)
		}
	}
	if err := out.flush(); err != nil {
		fmt.Fprintf(stderr, "source-faker: writing to stdout: %v\n", err)
		return 1
	}
	return 0
}

// fail reports err as a TRACE ERROR (config_error for anything the caller
// can fix in its files) and returns exit code 1.
func fail(out *output, stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "source-faker: %v\n", err)
	var ce *ConfigError
	var se *StateError
	var sn *StreamNotFoundError
	var cat *catalogError
	ft := protocol.FailureSystem
	if errors.As(err, &ce) || errors.As(err, &se) || errors.As(err, &sn) || errors.As(err, &cat) {
		ft = protocol.FailureConfig
	}
	if out.err != nil || errors.Is(err, context.Canceled) {
		return 1 // stdout is gone or the caller gave up: nobody reads a trace
	}
	out.message(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{
		Type: protocol.TraceError, EmittedAt: nowMillis(),
		Error: &protocol.ErrorTrace{Message: err.Error(), InternalMessage: fmt.Sprintf("%T", err), FailureType: ft},
	}})
	_ = out.flush()
	return 1
}

func loadConfig(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, &ConfigError{Problems: []ConfigProblem{{Reason: "cannot read the config file: " + err.Error()}}}
	}
	return ParseConfig(raw)
}

// catalogError reports a configured catalog that cannot be read or parsed.
type catalogError struct{ err error }

func (e *catalogError) Error() string {
	return "invalid configured catalog: " + e.err.Error() + " (pass the ConfiguredAirbyteCatalog JSON as --catalog)"
}
func (e *catalogError) Unwrap() error { return e.err }

func loadCatalog(path string) (protocol.ConfiguredCatalog, error) {
	var c protocol.ConfiguredCatalog
	raw, err := os.ReadFile(path)
	if err != nil {
		return c, &catalogError{err}
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, &catalogError{err}
	}
	return c, nil
}
