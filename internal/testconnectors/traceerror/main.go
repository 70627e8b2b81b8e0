// Command traceerror is a test connector whose read reports a TRACE ERROR
// (config_error) and exits 0.
package main

import (
	"context"

	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

func read(ctx context.Context, c base.Config, emit func(*protocol.Message) error) error {
	if err := emit(base.Record(`{"id":1}`)); err != nil {
		return err
	}
	// Reported, yet the read returns nil: exit 0.
	return emit(base.ErrorTrace(protocol.ErrorTrace{Message: "the start date is in the future",
		InternalMessage: "ValueError: start_date", FailureType: protocol.FailureConfig}))
}

func main() { kit.Serve(base.Reader(read)) }
