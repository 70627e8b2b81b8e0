package goairbyte

import (
	"context"

	"github.com/x/goairbyte/source"
)

// Source is a source connector with its config and stream selection; see
// package source for its methods.
type Source = source.Source

// Record is one record read by Source.Records.
type Record = source.Record

// GetSource builds a Source for the connector name (such as
// "source-faker"), as PyAirbyte's get_source. The options are the source
// package's:
//
//	src, err := goairbyte.GetSource(ctx, "source-faker",
//		source.WithDockerImage(""),
//		source.WithConfig(map[string]any{"count": 1000}),
//		source.WithStreams("users"))
//
// Nothing runs until a method needs the connector.
func GetSource(ctx context.Context, name string, opts ...source.Option) (*Source, error) {
	return source.New(ctx, name, opts...)
}
