package goairbyte

import (
	"context"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/source"
)

// Source is a source connector with its config and stream selection; see
// package source for its methods.
type Source = source.Source

// GetSource builds a Source for the connector name (such as
// "source-faker"), as PyAirbyte's get_source. The options are package
// connector's, shared by sources and destinations:
//
//	src, err := goairbyte.GetSource(ctx, "source-faker",
//		connector.WithConfig(map[string]any{"count": 1000}),
//		connector.WithStreams("users"))
//
// With no way of running it given, our own connectors (source-faker,
// destination-local-json, destination-noop, source-declarative-manifest)
// run in process, with nothing to install; a manifest-only connector of
// the registry runs natively from its published manifest; other
// connectors run as PyAirbyte would run them. connector.WithManifest runs
// any declarative manifest natively. Nothing runs until a method needs the
// connector.
func GetSource(ctx context.Context, name string, opts ...connector.Option) (*Source, error) {
	return source.New(ctx, name, opts...)
}
