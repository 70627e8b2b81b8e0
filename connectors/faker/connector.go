package faker

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// Connector is source-faker: a kit.Source. Its zero value is ready to use
// and holds no state, so one value serves any number of concurrent calls.
type Connector struct{}

// New returns the faker connector, to serve (kit.Serve(faker.New())) or to
// call in process.
func New() *Connector { return &Connector{} }

// Spec returns source-faker's specification: the options count, seed,
// records_per_slice, always_updated and parallelism.
func (*Connector) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return spec(), nil
}

// Check succeeds for every config that satisfies the spec: the faker needs
// nothing outside the process.
func (*Connector) Check(_ context.Context, config json.RawMessage) error {
	_, err := parseConfig(config)
	return err
}

// Discover returns the three streams, products, users and purchases.
func (*Connector) Discover(_ context.Context, config json.RawMessage) (*protocol.Catalog, error) {
	if _, err := parseConfig(config); err != nil {
		return nil, err
	}
	return catalog(), nil
}

// Read emits the read of the catalog's streams (see the package doc) through
// emit. state is the --state file's content, in any form kit.ParseState
// accepts, or nil. A bad config, state or stream is a config error (see
// kit.FailureType).
func (*Connector) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	cfg, err := parseConfig(config)
	if err != nil {
		return err
	}
	if catalog == nil {
		return kit.ConfigError(errors.New("source-faker: read needs a configured catalog"))
	}
	cursors, err := parseState(state)
	if err != nil {
		return err
	}
	return read(ctx, cfg, catalog, cursors, emit)
}
