package goairbyte

import (
	"context"

	"github.com/x/goairbyte/destination"
)

// Destination is a destination connector with its config; see package
// destination for Write and its options.
type Destination = destination.Destination

// WriteResult is what Destination.Write did.
type WriteResult = destination.WriteResult

// GetDestination builds a Destination for the connector name (such as
// "destination-duckdb"), as PyAirbyte's get_destination. It runs the way
// sources do:
//
//	dst, err := goairbyte.GetDestination(ctx, "destination-local-json",
//		destination.WithDockerImage(""),
//		destination.WithLocalMount("./out"), // host ./out is /local in the container
//		destination.WithConfig(map[string]any{"destination_path": "/local/json"}))
//	res, err := dst.Write(ctx, src)
func GetDestination(ctx context.Context, name string, opts ...destination.Option) (*Destination, error) {
	return destination.New(ctx, name, opts...)
}

// NoopDestination returns a destination that discards every record and
// confirms every state, in process — for measuring sources.
func NoopDestination() *Destination { return destination.Noop() }
