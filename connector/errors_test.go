package connector_test

import (
	"strings"
	"testing"

	"github.com/x/goairbyte/connector"
)

// TestCheckFailedMessageIsBounded: the connector's explanation of a failed
// check is quoted by the error up to 8 KiB; the field keeps all of it.
func TestCheckFailedMessageIsBounded(t *testing.T) {
	long := "bad key: " + strings.Repeat("x", 1<<20)
	e := &connector.CheckFailedError{Connector: "source-x", Message: long}
	msg := e.Error()
	if len(msg) > 10<<10 || !strings.HasPrefix(msg, "source-x: connection check failed: bad key: xx") ||
		!strings.HasSuffix(msg, " more bytes); fix what it names (the config, most often) and check again") {
		t.Fatalf("Error() is %d bytes: %.200q…", len(msg), msg)
	}
}
