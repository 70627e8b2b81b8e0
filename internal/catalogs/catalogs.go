// Package catalogs answers the questions the library asks of a connector's
// catalog: its stream names, a stream by name, whether a stream supports a
// sync mode, and whether its schema is open.
package catalogs

import (
	"encoding/json"
	"slices"

	"github.com/x/goairbyte/protocol"
)

// StreamNames lists the catalog's stream names in catalog order.
func StreamNames(c *protocol.Catalog) []string {
	names := make([]string, len(c.Streams))
	for i := range c.Streams {
		names[i] = c.Streams[i].Name
	}
	return names
}

// Find returns the stream called name, or a *protocol.StreamNotFoundError
// whose Where is where.
func Find(c *protocol.Catalog, where, name string) (*protocol.Stream, error) {
	for i := range c.Streams {
		if c.Streams[i].Name == name {
			return &c.Streams[i], nil
		}
	}
	return nil, &protocol.StreamNotFoundError{Where: where, Stream: name, Available: StreamNames(c)}
}

// Supports reports whether the stream supports the sync mode.
func Supports(s *protocol.Stream, mode protocol.SyncMode) bool {
	return slices.Contains(s.SupportedSyncModes, mode)
}

// OpenSchema reports whether a stream's JSON schema is open: it declares
// no top-level property (no "properties", or an empty object) and does
// not say "additionalProperties": false, so that its records may hold any
// field. A schema that does not parse as an object is not open (the cache
// refuses it); an absent one is.
func OpenSchema(schema json.RawMessage) bool {
	if len(schema) == 0 {
		return true
	}
	var s struct {
		Properties           map[string]json.RawMessage `json:"properties"`
		AdditionalProperties json.RawMessage            `json:"additionalProperties"`
	}
	if json.Unmarshal(schema, &s) != nil {
		return false
	}
	return len(s.Properties) == 0 && string(s.AdditionalProperties) != "false"
}
