package goairbyte

import (
	"context"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/connectors/noop"
	"github.com/x/goairbyte/destination"
)

// Destination is a destination connector with its config; see package
// destination for Write and its options.
type Destination = destination.Destination

// GetDestination builds a Destination for the connector name (such as
// "destination-duckdb"), as PyAirbyte's get_destination. It runs the way
// sources do:
//
//	dst, err := goairbyte.GetDestination(ctx, "destination-local-json",
//		connector.WithDockerImage(""),
//		connector.WithLocalMount("./out"), // host ./out is /local in the container
//		connector.WithConfig(map[string]any{"destination_path": "/local/json"}))
//	res, err := dst.Write(ctx, src)
func GetDestination(ctx context.Context, name string, opts ...connector.Option) (*Destination, error) {
	return destination.New(ctx, name, opts...)
}

// NoopDestination returns the destination that discards every record and
// confirms every state, in process — for measuring sources. It is
// GetDestination(ctx, "destination-noop") with an empty config; opts may add
// WithEnvironment.
func NoopDestination(ctx context.Context, opts ...connector.Option) (*Destination, error) {
	return destination.New(ctx, noop.Name, append([]connector.Option{connector.WithConfig(map[string]any{})}, opts...)...)
}
