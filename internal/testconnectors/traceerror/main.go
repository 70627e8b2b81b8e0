// Command traceerror is a test connector whose read reports a TRACE ERROR
// (config_error) and exits 0, as some real connectors do. The kit exits 1
// after a read's TRACE ERROR, as the Python CDK does, so its read writes
// the record and the trace itself and exits on its own.
package main

import (
	"context"
	"os"

	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

func read(ctx context.Context, c base.Config, emit func(*protocol.Message) error) error {
	base.WriteRecords(1)
	line, err := protocol.AppendMessage(nil, base.ErrorTrace(protocol.ErrorTrace{Message: "the start date is in the future",
		InternalMessage: "ValueError: start_date", FailureType: protocol.FailureConfig}))
	if err != nil {
		return err
	}
	os.Stdout.Write(line)
	os.Exit(0)
	return nil
}

func main() { kit.Serve(base.Reader(read)) }
