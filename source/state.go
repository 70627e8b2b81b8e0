package source

import (
	"encoding/json"
	"slices"

	"github.com/x/goairbyte/protocol"
)

// incrementalState is the --state of a read of catalog: what get returns
// for the streams read incrementally, nil when there are none, with the
// states of the streams read in full taken out of a GLOBAL state.
//
// Each Read is a new sync, and the Airbyte platform deletes the state of
// every full-refresh stream before the first attempt of a sync
// (airbyte-platform, AttemptHandler.updateGenerationAndStateForFirstAttempt
// and getFullRefresh): a source gets back the states of its incremental
// streams only. Airbyte's Python CDK relies on it: a resumable
// full-refresh stream given its last state, {"__ab_full_refresh_sync_complete":
// true}, reads nothing (airbyte-python-cdk, checkpoint_reader.py
// ResumableFullRefreshCheckpointReader and SimpleRetriever.read_records:
// "The platform deletes stream state for full refresh streams before
// starting a new job"), and one given a page token resumes after the
// pages read before; either way its replaced table would lose records. A
// LEGACY state is one blob and goes as it is; a GLOBAL one is re-encoded
// only when it held a state to take out.
func incrementalState(catalog *protocol.ConfiguredCatalog, get func(streams []string) (json.RawMessage, error)) (json.RawMessage, error) {
	var incremental []string
	for _, cs := range catalog.Streams {
		if cs.SyncMode == protocol.SyncIncremental {
			incremental = append(incremental, cs.Stream.Name)
		}
	}
	if len(incremental) == 0 {
		return nil, nil
	}
	raw, err := get(incremental)
	if err != nil || len(raw) == 0 || raw[0] != '[' {
		return raw, err // nothing, an error, or LEGACY data
	}
	var msgs []*protocol.State
	if json.Unmarshal(raw, &msgs) != nil {
		return raw, nil // LEGACY data that is an array
	}
	changed := false
	for _, m := range msgs {
		if m.EffectiveType() != protocol.StateGlobal || m.Global == nil {
			continue
		}
		n := len(m.Global.StreamStates)
		m.Global.StreamStates = slices.DeleteFunc(m.Global.StreamStates, func(s protocol.StreamState) bool {
			return !slices.Contains(incremental, s.StreamDescriptor.Name)
		})
		changed = changed || len(m.Global.StreamStates) != n
	}
	if !changed {
		return raw, nil
	}
	return json.Marshal(msgs)
}
