// Package catalogs answers the questions the library asks of a connector's
// catalog: its stream names, a stream by name, and whether a stream
// supports a sync mode.
package catalogs

import (
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
