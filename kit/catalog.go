package kit

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/x/goairbyte/protocol"
)

// ParseCatalog reads a ConfiguredAirbyteCatalog, the --catalog argument of
// read and write. It must be a JSON object whose configured streams each
// name their stream, with sync modes of the protocol's enumerations when
// given (as the Python CDK's catalog model holds them); everything else
// (which sync modes a stream supports, unknown streams) is the connector's
// to judge. Errors are config errors (see [ConfigError]).
func ParseCatalog(raw json.RawMessage) (*protocol.ConfiguredCatalog, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, catalogErrorf("it is not a JSON object")
	}
	var c protocol.ConfiguredCatalog
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, catalogErrorf("%v", err)
	}
	for i, s := range c.Streams {
		if s.Stream.Name == "" {
			return nil, catalogErrorf("configured stream %d has no stream name", i+1)
		}
		switch s.SyncMode {
		case "", protocol.SyncFullRefresh, protocol.SyncIncremental:
		default:
			return nil, catalogErrorf("stream %q has sync_mode %q; the protocol's are full_refresh and incremental", s.Stream.Name, s.SyncMode)
		}
		switch s.DestinationSyncMode {
		case "", protocol.DestinationAppend, protocol.DestinationOverwrite, protocol.DestinationAppendDedup,
			protocol.DestinationUpdate, protocol.DestinationSoftDelete:
		default:
			return nil, catalogErrorf("stream %q has destination_sync_mode %q; the protocol's are append, overwrite, append_dedup, update and soft_delete",
				s.Stream.Name, s.DestinationSyncMode)
		}
	}
	return &c, nil
}

func catalogErrorf(format string, a ...any) error {
	return ConfigError(fmt.Errorf("invalid configured catalog: "+format+" (pass a ConfiguredAirbyteCatalog as --catalog)", a...))
}
