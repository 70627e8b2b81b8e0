package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/termsafe"
	"github.com/x/goairbyte/secrets"
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
