package destination

import (
	"encoding/json"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// TestOverridesOfOpenStreams: a key or cursor given for a stream whose
// schema declares no property may name any field, as the cache takes it;
// a schema that declares none and forbids others has no field to name.
func TestOverridesOfOpenStreams(t *testing.T) {
	for schema, ok := range map[string]bool{
		`{"type":"object","additionalProperties":true,"properties":{}}`: true,
		`{"type":"object"}`: true,
		`{"type":"object","additionalProperties":false,"properties":{}}`: false,
		`{"type":"object","properties":{"name":{"type":"string"}}}`:      false,
	} {
		cs := protocol.ConfiguredStream{Stream: protocol.Stream{Name: "s", JSONSchema: json.RawMessage(schema)},
			PrimaryKey: [][]string{{"id"}}, CursorField: []string{"at"}}
		if err := checkOverrides(&cs, "merge"); (err == nil) != ok {
			t.Errorf("%s: %v", schema, err)
		}
	}
}
