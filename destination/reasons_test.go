package destination_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
)

// TestDestinationErrorLogFirst: a destination that fails with its reason in
// an ERROR log message and a useless last stderr line ("}") is reported
// with the log message.
func TestDestinationErrorLogFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dst, err := destination.New(ctx, "destination-reticent",
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./internal/testconnectors/reticent")),
		connector.WithConfig(map[string]any{"mode": "write-errorlog"}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = dst.Write(ctx, newFaker(t, 10, "users"), destination.NoCache(), destination.NoStateCache())
	var ce *executor.ConnectorError
	if !errors.As(err, &ce) || ce.Reason() != "the bucket s3://reports does not exist" ||
		!strings.Contains(err.Error(), "the bucket s3://reports does not exist") || strings.Contains(err.Error(), ": }") {
		t.Fatalf("got %v, want the ERROR log message as the reason", err)
	}
}
