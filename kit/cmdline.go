package kit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/x/goairbyte/internal/kitcore"
)

// The commands of the Airbyte protocol's command line.
const (
	cmdSpec     = kitcore.Spec
	cmdCheck    = kitcore.Check
	cmdDiscover = kitcore.Discover
	cmdRead     = kitcore.Read
	cmdWrite    = kitcore.Write
)

// invocation is a parsed command line.
type invocation struct {
	command                string
	config, catalog, state string
}

// usageError is a command line the connector cannot run (exit code 2).
type usageError struct{ reason string }

func (e *usageError) Error() string { return e.reason }

// errHelp is a request for the usage text.
var errHelp = &usageError{"help requested"}

// needs lists the flags each command requires.
var needs = map[string][]string{
	cmdCheck:    {"--config"},
	cmdDiscover: {"--config"},
	cmdRead:     {"--config", "--catalog"},
	cmdWrite:    {"--config", "--catalog"},
}

// parseArgs reads the canonical command line: one command (spec, check,
// discover, read or write, among those the connector has) and the flags
// --config, --catalog and --state, in any order, as "--flag value" or
// "--flag=value", and --debug, which the Python CDK takes. A flag the
// command does not use is accepted and ignored (runners pass --state to
// destinations); an unknown argument, a flag given twice or one without its
// value is a usage error.
func parseArgs(args []string, commands []string) (invocation, error) {
	var inv invocation
	flags := map[string]*string{"--config": &inv.config, "--catalog": &inv.catalog, "--state": &inv.state}
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch a {
		case "-h", "--help", "help":
			return inv, errHelp
		}
		if !strings.HasPrefix(a, "-") {
			if inv.command != "" {
				return inv, &usageError{fmt.Sprintf("unexpected argument %q after the command %q", a, inv.command)}
			}
			if !slices.Contains(commands, a) {
				return inv, &usageError{fmt.Sprintf("unknown command %q (this connector has %s)", a, strings.Join(commands, ", "))}
			}
			inv.command = a
			continue
		}
		name, value, hasValue := strings.Cut(a, "=")
		if name == "--debug" && !hasValue {
			// The Python CDK's entrypoint takes --debug on every command
			// (verbose logs), and people and tools pass it: accepted, and
			// changes nothing here.
			continue
		}
		dst, ok := flags[name]
		if !ok {
			return inv, &usageError{fmt.Sprintf("unknown argument %q", a)}
		}
		if seen[name] {
			return inv, &usageError{fmt.Sprintf("%s given twice", name)}
		}
		seen[name] = true
		if !hasValue {
			if i+1 >= len(args) {
				return inv, &usageError{fmt.Sprintf("%s needs a file name", name)}
			}
			i++
			value = args[i]
		}
		if value == "" {
			return inv, &usageError{fmt.Sprintf("%s needs a file name", name)}
		}
		*dst = value
	}
	if inv.command == "" {
		return inv, &usageError{"no command given"}
	}
	for _, f := range needs[inv.command] {
		if *flags[f] == "" {
			return inv, &usageError{fmt.Sprintf("%s needs %s", inv.command, f)}
		}
	}
	return inv, nil
}

// usage is the usage text for a connector with the given commands.
func usage(program string, commands []string) string {
	lines := map[string]string{
		cmdSpec:     "spec",
		cmdCheck:    "check --config CONFIG.json",
		cmdDiscover: "discover --config CONFIG.json",
		cmdRead:     "read --config CONFIG.json --catalog CATALOG.json [--state STATE.json]",
		cmdWrite:    "write --config CONFIG.json --catalog CATALOG.json < messages",
	}
	var b strings.Builder
	for i, c := range commands {
		if i == 0 {
			b.WriteString("usage: ")
		} else {
			b.WriteString("       ")
		}
		b.WriteString(program + " " + lines[c] + "\n")
	}
	return b.String()
}
