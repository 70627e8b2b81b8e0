package destination

import (
	"context"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/core"
)

// Destination is one Airbyte destination connector with its config. It
// embeds the *connector.Connector that runs it, so Spec, Check, Config,
// SetConfig, ValidateConfig, Install and the rest are its methods; this
// type adds Write. Its methods are safe for concurrent use.
type Destination struct {
	*connector.Connector
	// core is the Connector's machinery: running its commands.
	core core.Conn
}

// New builds a Destination for the connector name (such as
// "destination-duckdb"); see package connector for how the options decide
// the way it runs. It starts no process.
func New(ctx context.Context, name string, opts ...connector.Option) (*Destination, error) {
	c, err := core.New[*connector.Connector](ctx, core.KindDestination, name, opts...)
	if err != nil {
		return nil, err
	}
	return &Destination{Connector: c, core: core.ConnOf(c)}, nil
}
