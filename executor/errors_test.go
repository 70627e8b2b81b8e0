package executor_test

import (
	"strings"
	"testing"

	"github.com/x/goairbyte/executor"
)

// TestConnectorErrorReasonIsBounded: a connector's reason can be as long as
// a protocol line (256 MiB); the error that quotes it gives its head and
// says how much more the log file has, so that one bad message does not
// become a wall of text on a terminal or in every log that prints the error.
func TestConnectorErrorReasonIsBounded(t *testing.T) {
	long := "bad config: " + strings.Repeat("é", 1<<20)
	for name, ce := range map[string]*executor.ConnectorError{
		"trace":  {Message: long},
		"log":    {ErrorLog: long},
		"stderr": {StderrTail: []string{"first", long}},
	} {
		ce.Connector, ce.Command, ce.ExitCode, ce.LogFile = "source-x", executor.VerbRead, 1, "/tmp/source-x.log"
		msg := ce.Error()
		if len(msg) > 10<<10 || !strings.Contains(msg, "bad config: éé") || !strings.Contains(msg, "more bytes") ||
			!strings.HasSuffix(msg, "; the connector's full log is in /tmp/source-x.log") {
			t.Errorf("%s: Error() is %d bytes: %.200q…%q", name, len(msg), msg, msg[max(0, len(msg)-200):])
		}
		if ce.Reason() != long {
			t.Errorf("%s: Reason() must keep the whole reason", name)
		}
	}
}
