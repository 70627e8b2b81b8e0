// Command stderrexit is a test connector that fails the way many real ones
// do: a few records, then a traceback as plain text on stderr and exit 1,
// with no TRACE message. The kit would report the failure properly, so its
// read writes the records itself and exits on its own.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

func read(ctx context.Context, c base.Config, emit func(*protocol.Message) error) error {
	base.WriteRecords(3)
	fmt.Fprintln(os.Stderr, "Traceback (most recent call last):")
	fmt.Fprintln(os.Stderr, `  File "source.py", line 42, in read`)
	fmt.Fprintln(os.Stderr, "requests.exceptions.ConnectionError: connection refused by api.example.com")
	os.Exit(1)
	return nil
}

func main() { kit.Serve(base.Reader(read)) }
