package kit

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/x/goairbyte/protocol"
)

// ParseCatalog reads a ConfiguredAirbyteCatalog, the --catalog argument of
// read and write. It must be a JSON object whose configured streams each
// name their stream; everything else (sync modes, unknown streams) is the
// connector's to judge. Errors are config errors (see [ConfigError]).
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
	}
	return &c, nil
}

func catalogErrorf(format string, a ...any) error {
	return ConfigError(fmt.Errorf("invalid configured catalog: "+format+" (pass a ConfiguredAirbyteCatalog as --catalog)", a...))
}
