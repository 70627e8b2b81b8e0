package declarative

import (
	"fmt"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/declarative/internal/manifest"
)

// stateDelegatingStream builds a StateDelegatingStream of the manifest's
// streams as CDK 7.28.2 does (model_to_component_factory.py,
// create_state_delegating_stream): its full_refresh_stream, which spec,
// check and discover see (they have no state) and which a read without a
// state for the stream reads, and its incremental_stream, which a read
// reads when the state it is given has a non-empty state for the stream
// (whatever the stream's sync mode in the catalog). The three names must
// be equal. api_retention_period (the fallback to a full refresh when the
// state's cursor is older) is not built: the unsupported scan lists it.
func (b *builder) stateDelegatingStream(n *manifest.Map, path string, own []manifest.Component) (*stream, error) {
	fr, inc := n.Map("full_refresh_stream"), n.Map("incremental_stream")
	if fr.String("name") != n.String("name") || n.String("name") != inc.String("name") {
		return nil, fmt.Errorf("state_delegating_stream, full_refresh_stream name and incremental_stream must have equal names. Instead has %s, %s and %s.",
			n.String("name"), fr.String("name"), inc.String("name"))
	}
	full, err := b.stream(fr, path+".full_refresh_stream", own, 0)
	if err != nil {
		return nil, fmt.Errorf("full_refresh_stream: %w", err)
	}
	if full.incremental, err = b.stream(inc, path+".incremental_stream", own, 0); err != nil {
		return nil, fmt.Errorf("incremental_stream: %w", err)
	}
	full.path = path
	return full, nil
}

// delegated returns the stream a read reads for st given the read's
// states: a StateDelegatingStream's incremental stream when its state is
// not empty (the CDK's connector_state_manager.get_stream_state).
func delegated(st *stream, states map[string]value) *stream {
	if st.incremental != nil && interpolation.Truthy(states[st.name]) {
		return st.incremental
	}
	return st
}
