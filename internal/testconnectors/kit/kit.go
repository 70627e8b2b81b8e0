// Package kit is the little that the test connectors share: parsing the
// canonical command line and writing protocol messages.
package kit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Args is a parsed command line.
type Args struct {
	Verb                   string
	Config, Catalog, State string
}

// Out is the buffered standard output; Flush it before exiting.
var Out = bufio.NewWriterSize(os.Stdout, 64<<10)

// Fail writes msg to stderr and exits with code.
func Fail(code int, format string, a ...any) {
	Out.Flush()
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(code)
}

// Parse parses os.Args in the canonical order: spec | check --config C |
// discover --config C | read --config C --catalog K [--state S] | write
// --config C --catalog K. Anything else is fatal (exit 2), as it is for the
// strictest real connectors.
func Parse() Args {
	a := os.Args[1:]
	if len(a) == 0 {
		Fail(2, "usage: connector spec|check|discover|read|write [--config C] [--catalog K] [--state S]")
	}
	args := Args{Verb: a[0]}
	want := map[string][]string{
		"spec":     nil,
		"check":    {"--config"},
		"discover": {"--config"},
		"read":     {"--config", "--catalog"},
		"write":    {"--config", "--catalog"},
	}
	flags, ok := want[args.Verb]
	if !ok {
		Fail(2, "unknown command %q", args.Verb)
	}
	if args.Verb == "read" && len(a) == 7 {
		flags = append(flags, "--state")
	}
	if len(a) != 1+2*len(flags) {
		Fail(2, "%s: want flags %v in this order, got %v", args.Verb, flags, a[1:])
	}
	for i, f := range flags {
		if a[1+2*i] != f {
			Fail(2, "%s: flag %d must be %s, got %s (canonical order: %v)", args.Verb, i+1, f, a[1+2*i], flags)
		}
		v := a[2+2*i]
		switch f {
		case "--config":
			args.Config = v
		case "--catalog":
			args.Catalog = v
		case "--state":
			args.State = v
		}
	}
	return args
}

// ReadJSON decodes the JSON file at path into v; failing is fatal.
func ReadJSON(path string, v any) {
	b, err := os.ReadFile(path)
	if err != nil {
		Fail(2, "reading %s: %v", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		Fail(2, "parsing %s: %v", path, err)
	}
}

// Emit writes v as one JSON line.
func Emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		Fail(3, "marshal: %v", err)
	}
	Out.Write(b)
	Out.WriteByte('\n')
}

// Line writes s as it is, plus a newline.
func Line(s string) {
	Out.WriteString(s)
	Out.WriteByte('\n')
}

// Flush flushes Out.
func Flush() { Out.Flush() }

// M is a JSON object.
type M = map[string]any

// Spec emits a minimal SPEC.
func Spec() {
	Emit(M{"type": "SPEC", "spec": M{"connectionSpecification": M{
		"type": "object", "properties": M{"count": M{"type": "integer"}, "password": M{"type": "string", "airbyte_secret": true}},
	}}})
}

// Status emits a CONNECTION_STATUS.
func Status(ok bool, msg string) {
	s := "SUCCEEDED"
	if !ok {
		s = "FAILED"
	}
	Emit(M{"type": "CONNECTION_STATUS", "connectionStatus": M{"status": s, "message": msg}})
}

// Catalog emits a CATALOG with one full-refresh stream "items".
func Catalog() {
	Emit(M{"type": "CATALOG", "catalog": M{"streams": []M{{
		"name":                 "items",
		"json_schema":          M{"type": "object", "properties": M{"id": M{"type": "integer"}}},
		"supported_sync_modes": []string{"full_refresh"},
	}}}})
}

// Record emits a RECORD of stream "items" with emitted_at in milliseconds.
func Record(data M) {
	Emit(M{"type": "RECORD", "record": M{"stream": "items", "data": data, "emitted_at": time.Now().UnixMilli()}})
}

// Log emits a LOG message.
func Log(level, msg string) {
	Emit(M{"type": "LOG", "log": M{"level": level, "message": msg}})
}

// State emits a STREAM state for "items".
func State(cursor int) {
	Emit(M{"type": "STATE", "state": M{"type": "STREAM", "stream": M{
		"stream_descriptor": M{"name": "items"}, "stream_state": M{"cursor": cursor},
	}}})
}

// Config is what the test connectors read from their config.
type Config struct {
	Count    int    `json:"count"`
	Size     int    `json:"size"`
	Password string `json:"password"`
	// DropStates makes echo's write swallow STATE lines: a destination
	// that never confirms anything.
	DropStates bool `json:"drop_states"`
}

// Common handles spec, check and discover the ordinary way and returns the
// parsed arguments and config for the rest.
func Common() (Args, Config) {
	a := Parse()
	var c Config
	if a.Config != "" {
		ReadJSON(a.Config, &c)
	}
	switch a.Verb {
	case "spec":
		Spec()
	case "check":
		Status(true, "")
	case "discover":
		Catalog()
	default:
		return a, c
	}
	Flush()
	os.Exit(0)
	return a, c
}
