package destination

import (
	"context"

	"github.com/x/goairbyte/connector"
)

// Destination is one Airbyte destination connector with its config. It
// embeds the *connector.Connector that runs it, so Spec, Check, Config,
// SetConfig, ValidateConfig, Install and the rest are its methods; this
// type adds Write. Its methods are safe for concurrent use.
type Destination struct {
	*connector.Connector
}

// New builds a Destination for the connector name (such as
// "destination-duckdb"); see connector.New for how the options decide the
// way it runs. It starts no process.
func New(ctx context.Context, name string, opts ...connector.Option) (*Destination, error) {
	c, err := connector.New(ctx, connector.KindDestination, name, opts...)
	if err != nil {
		return nil, err
	}
	return &Destination{Connector: c}, nil
}
