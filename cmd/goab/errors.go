package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/loopback"
	"github.com/x/goairbyte/internal/termsafe"
	"github.com/x/goairbyte/registry"
	"github.com/x/goairbyte/secrets"
	"github.com/x/goairbyte/source"
)

// usageError is a command line goab cannot run: exit status 2.
type usageError struct {
	cmd string // the subcommand, for the --help hint; "" for goab itself
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// errHelpShown says that --help was asked for and printed: exit status 0.
var errHelpShown = errors.New("help shown")

// report prints err as one paragraph on w and returns the exit status for
// it: 0 for nil, 2 for a usage error, 1 for anything else.
func report(w io.Writer, prefix string, err error) int {
	if err == nil || errors.Is(err, errHelpShown) {
		return exitOK
	}
	if errors.Is(err, errChanges) {
		return exitChanges
	}
	var ue *usageError
	if errors.As(err, &ue) {
		hint := "Run 'goab help' for the commands."
		if ue.cmd != "" {
			hint = fmt.Sprintf("Run 'goab %s --help' for its flags and an example.", ue.cmd)
		}
		fmt.Fprintf(w, "%s: %s. %s\n", prefix, termsafe.String(strings.TrimSuffix(paragraph(ue.msg), ".")), hint)
		return exitUsage
	}
	fmt.Fprintf(w, "%s failed: %s\n", prefix, describe(err))
	return exitFailure
}

// describe renders a library error as one paragraph: its message with the
// lines joined (a config validation error lists one field per line), the
// secrets masked, and where the connector's log is when the error knows and
// does not say so already.
func describe(err error) string {
	msg := paragraph(secrets.MaskError(err).Error())
	var ce *executor.ConnectorError
	if errors.As(err, &ce) && ce.LogFile != "" && !strings.Contains(msg, ce.LogFile) {
		msg = strings.TrimSuffix(msg, ".") + ". The connector's full log is in " + ce.LogFile
	}
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return termsafe.String(msg) // a connector's words must not drive the terminal
}

// paragraph joins the lines of a multi-line message: after a line ending
// in ':' with a space, between items with "; ".
func paragraph(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	var b strings.Builder
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if i > 0 && b.Len() > 0 {
			prev := b.String()
			if strings.HasSuffix(prev, ":") || strings.HasSuffix(prev, ";") {
				b.WriteString(" ")
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(l)
	}
	return b.String()
}

// cliError is a library error told to goab's user: its message is the
// library's with the remedies meant for Go callers (options, functions,
// interfaces to implement) replaced by goab's flags and commands. It
// unwraps to the library's error, whose own message stays as it is.
type cliError struct {
	msg string
	err error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.err }

// cliAdvice rewrites, in err's message, the Go remedies of the library's
// errors that goab can meet into goab's; prefix is the flags' prefix of the
// connector at fault ("" or "destination-"). Each known error type in the
// chain is told again from its fields, and its text in the message
// replaced; an error with nothing to rewrite is returned as it is.
func cliAdvice(prefix string, err error) error {
	if err == nil {
		return nil
	}
	flags := goOptionsToFlags(prefix)
	var told [][2]string // library text → goab's
	var sn *secrets.SecretNotFoundError
	if errors.As(err, &sn) {
		// A SecretManager is for Go programs; goab looks in the environment
		// and .env only (and asks on a terminal, which Tried says).
		told = append(told, [2]string{sn.Error(), fmt.Sprintf("secret %q not found; tried: %s. Set the environment variable %s, or add %s=... to a .env file in the working directory",
			sn.Name, strings.Join(sn.Tried, "; "), sn.Name, sn.Name)})
	}
	var nf *registry.NotFoundError
	if errors.As(err, &nf) {
		told = append(told, [2]string{nf.Error(), flags.Replace(nf.Error())})
	}
	var me *registry.ManifestError
	if errors.As(err, &me) {
		told = append(told, [2]string{me.Error(), flags.Replace(me.Error())})
	}
	var ni *executor.NotInstalledError
	if errors.As(err, &ni) && ni.Hint != "" {
		cli := *ni
		cli.Hint = flags.Replace(ni.Hint) // not Err: a pip or Docker message is quoted as it is
		told = append(told, [2]string{ni.Error(), cli.Error()})
	}
	var oe *connector.OptionError
	if errors.As(err, &oe) {
		cli := *oe
		cli.Option, cli.Reason = flags.Replace(oe.Option), flags.Replace(oe.Reason)
		if oe.Option == "destination.Strategy" {
			// A strategy the destination does not support: goab's --strategy.
			words := strings.NewReplacer("cache.StrategyAppend", "--strategy append", "cache.StrategyMerge", "--strategy merge", "cache.StrategyReplace", "--strategy replace")
			cli.Option, cli.Reason = "--strategy", words.Replace(cli.Reason)
		}
		told = append(told, [2]string{oe.Error(), cli.Error()})
	}
	var ns *source.NoStreamsSelectedError
	if errors.As(err, &ns) {
		cli := fmt.Sprintf("%s: no streams to read: its catalog has none", ns.Connector)
		if len(ns.Available) > 0 {
			cli = fmt.Sprintf("%s: no streams selected; name them with --streams (available: %s)", ns.Connector, strings.Join(ns.Available, ", "))
		}
		told = append(told, [2]string{ns.Error(), cli})
	}
	// The default cache's directory cannot be found or made: the library
	// says how a Go program puts it elsewhere, goab says --cache.
	told = append(told, [2]string{"choose its directory with Environment.SetCacheDir, or give the read a cache (source.UseCache)", cacheDirGone},
		[2]string{"choose another directory with Environment.SetCacheDir, or give the read a cache (source.UseCache)", cacheDirUnwritable})
	// airbyteapi's ErrNoConfigAPI names the Go option. It is replaced by
	// its text, not found by errors.Is: a cloud.SyncError quotes it
	// without wrapping it (as why it could not read the failure reasons).
	// Two sources with a stream of one name: goab gives a prefix or
	// another cache by flags, and has no Cache.Load.
	told = append(told, [2]string{"Give one of the sources a table prefix (cache.WithTablePrefix, or table_prefix= in the cache URL) or a cache of its own, " +
		"or, if the table is shared on purpose, load with Cache.Load and LoadRequest.ShareTables (source.Read does not share tables)",
		"Give one of the sources a table prefix (table_prefix= in the --cache URL, such as duckdb:FILE?table_prefix=pfx or postgres://…?table_prefix=pfx) " +
			"or a cache of its own (another --cache, or --schema)"})
	// A write strategy that cannot apply: goab reads in full with
	// --full-refresh, chooses with --strategy, and sets no primary key.
	var se *cacheerr.StrategyError
	if errors.As(err, &se) {
		cli := *se
		cli.Reason = strings.NewReplacer(
			"read in full (source.ForceFullRefresh or destination.ForceFullRefresh; LoadRequest.FullRefresh for Cache.Load) or use merge or append",
			"read in full (--full-refresh) or use --strategy merge or append",
			"set one (Source.SetPrimaryKey of package source, or the configured catalog's primary_key) or use append or replace",
			"goab cannot set one: use --strategy append or replace").Replace(se.Reason)
		told = append(told, [2]string{se.Error(), cli.Error()})
	}
	// A connector in a container that its config sends to localhost.
	told = append(told, [2]string{loopback.Advice, flags.Replace(loopback.Advice)})
	// A failed Write is the failed goab sync.
	told = append(told, [2]string{"; what was not confirmed is sent again by the next Write", "; what was not confirmed is sent again by the next goab sync"})
	told = append(told, [2]string{"use WithConfigAPIURL", "pass its root with --config-api-url (http://host:8000/api/v1 for a self-managed instance)"})
	msg := err.Error()
	for _, t := range told {
		msg = strings.Replace(msg, t[0], t[1], 1)
	}
	if msg == err.Error() {
		return err
	}
	return &cliError{msg: msg, err: err}
}

// goOptionsToFlags maps the connector options the library's messages name
// to the goab flags that set them (with prefix, "" or "destination-"), and
// its advice to get a connector as the other kind, or to list the known
// ones, to goab's commands. Only
// options goab sets are here: a message about another cannot arise.
func goOptionsToFlags(prefix string) *strings.Replacer {
	pairs := []string{
		"get it as a destination (goairbyte.GetDestination)", "goab runs a destination as the --destination of goab sync, and shows or checks it with goab spec, check and validate",
		"get it as a source (goairbyte.GetSource)", "give it as the source: goab sync SOURCE --destination DESTINATION",
		"list the known connectors with AvailableConnectors, or give the connector an explicit executable or Docker image", "goab connectors lists the known ones",
	}
	for _, o := range [][2]string{
		{"WithLocalExecutable(path)", "local-executable PATH"},
		{`WithDockerImage("")`, "docker-image ''"},
		{"WithDockerImage(image)", "docker-image IMAGE"},
		{"WithPipURL(url)", "pip-url REQUIREMENT"},
		{"WithPipURL/WithPython", "pip-url/--" + prefix + "use-python"},
		{"WithLocalExecutable", "local-executable"},
		{"WithDockerImage", "docker-image"},
		{"WithPipURL", "pip-url"},
		{"WithPython", "use-python"},
		{"WithVersion", "version"},
		{"WithHostNetwork", "use-host-network"},
		{"WithLocalMount", "local-mount"},
		{"WithConfig", "config"},
	} {
		pairs = append(pairs, "connector."+o[0], "--"+prefix+o[1], o[0], "--"+prefix+o[1])
	}
	// A source's own: goab takes them without a prefix.
	pairs = append(pairs, "connector.WithManifest", "--manifest PATH_OR_URL", "WithManifest", "--manifest",
		"connector.WithStreams", "--streams", "WithStreams", "--streams")
	return strings.NewReplacer(pairs...)
}
