package source

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/x/goairbyte/internal/catalogs"
	"github.com/x/goairbyte/protocol"
)

// CatalogOption adjusts how [Source.ConfiguredCatalog] configures streams.
type CatalogOption func(*catalogSettings)

type catalogSettings struct {
	fullRefresh bool
	cursor      map[string][]string
	primaryKey  map[string][][]string
}

// FullRefresh reads every stream in full, even those that support
// incremental reads.
func FullRefresh() CatalogOption {
	return func(c *catalogSettings) { c.fullRefresh = true }
}

// CursorField overrides the cursor of a stream (a path into its records,
// usually one field name).
func CursorField(stream string, path ...string) CatalogOption {
	return func(c *catalogSettings) {
		if c.cursor == nil {
			c.cursor = map[string][]string{}
		}
		c.cursor[stream] = path
	}
}

// PrimaryKey overrides the primary key of a stream: one path per key
// column, usually []string{"id"}.
func PrimaryKey(stream string, key ...[]string) CatalogOption {
	return func(c *catalogSettings) {
		if c.primaryKey == nil {
			c.primaryKey = map[string][][]string{}
		}
		c.primaryKey[stream] = key
	}
}

// ConfiguredCatalog builds the catalog a read passes to the connector for
// the given streams, or the selected ones when streams is empty, or every
// stream when none is selected or streams holds "*" (as Read). A stream is
// read incrementally when it supports that, has a cursor (its own or one
// set), and FullRefresh is not given; in full otherwise. A keyed stream
// read in full for want of a cursor is deduplicated (append_dedup) rather
// than overwritten. Cursor and primary key
// are the source's defaults unless overridden, by SetPrimaryKey and
// SetCursorField or by the options; an override of a stream the catalog
// does not have is a *protocol.StreamNotFoundError, as an unknown stream
// in streams is.
func (s *Source) ConfiguredCatalog(ctx context.Context, streams []string, opts ...CatalogOption) (*protocol.ConfiguredCatalog, error) {
	var cs catalogSettings
	s.mu.Lock()
	for stream, key := range s.primaryKeys {
		PrimaryKey(stream, key...)(&cs)
	}
	for stream, path := range s.cursors {
		CursorField(stream, path...)(&cs)
	}
	s.mu.Unlock()
	for _, o := range opts {
		o(&cs)
	}
	c, err := s.DiscoveredCatalog(ctx)
	if err != nil {
		return nil, err
	}
	index := catalogs.NewIndex(c, s.Name())
	// An override of a stream the catalog lacks is a typo that would read
	// the stream meant without its key or cursor: say so. One of a stream
	// of the catalog that this read leaves out is kept for later reads.
	// Overrides are kept by the stream they select, whichever name (name
	// or namespace.name) they and the selection use.
	pkOf, err := overridesByStream(index, "primary key override (SetPrimaryKey, PrimaryKey)", cs.primaryKey)
	if err != nil {
		return nil, err
	}
	cursorOf, err := overridesByStream(index, "cursor override (SetCursorField, CursorField)", cs.cursor)
	if err != nil {
		return nil, err
	}
	if len(streams) == 0 {
		if streams, err = s.SelectedStreams(ctx); err != nil {
			return nil, err
		}
	}
	if len(streams) == 0 || slices.Contains(streams, "*") {
		// Nothing selected, or "*": every stream, as Read reads them.
		streams = catalogs.StreamNames(c)
	}
	if len(streams) == 0 {
		return nil, &NoStreamsSelectedError{Connector: s.Name()}
	}
	out := &protocol.ConfiguredCatalog{Streams: make([]protocol.ConfiguredStream, 0, len(streams))}
	configured := make(map[*protocol.Stream]bool, len(streams))
	for _, name := range streams {
		st, err := index.Find(name)
		if err != nil {
			return nil, err
		}
		if configured[st] {
			continue // named twice (as name and as namespace.name)
		}
		configured[st] = true
		cfg := protocol.ConfiguredStream{
			Stream:              *st,
			SyncMode:            protocol.SyncFullRefresh,
			DestinationSyncMode: protocol.DestinationOverwrite,
			PrimaryKey:          st.SourceDefinedPrimaryKey,
		}
		// A stream read incrementally needs a cursor: the source's own (a
		// default cursor field, or one it says it defines) or one set. One
		// that offers incremental reads without is read in full, a primary
		// key or not: the Java CDK fails such a read ("No cursor field
		// specified for stream attempting to do incremental.",
		// airbytehq/airbyte IncrementalUtils.getCursorField), the bulk CDK
		// refuses it or reads it in full (InvalidIncrementalSyncMode,
		// airbyte-cdk/bulk CatalogValidationFailure), and the platform does
		// not configure it ("No default cursor field for stream",
		// airbyte-platform ConnectionConfigurationProblem.missingCursorField).
		// Its database tables are such streams, in a source's standard mode.
		pk, pkOverride := pkOf[st]
		cur, curOverride := cursorOf[st]
		hasCursor := len(st.DefaultCursorField) > 0 || (st.SourceDefinedCursor != nil && *st.SourceDefinedCursor) || curOverride
		if !cs.fullRefresh && catalogs.Supports(st, protocol.SyncIncremental) && hasCursor || !catalogs.Supports(st, protocol.SyncFullRefresh) {
			cfg.SyncMode = protocol.SyncIncremental
			cfg.DestinationSyncMode = protocol.DestinationAppend
			cfg.CursorField = st.DefaultCursorField
		}
		if curOverride {
			cfg.CursorField = cur
		}
		if pkOverride {
			cfg.PrimaryKey = pk
		}
		// A keyed stream is deduplicated by its key, read in full only for
		// want of a cursor too: a destination keeps one row per key.
		if len(cfg.PrimaryKey) > 0 && (cfg.SyncMode == protocol.SyncIncremental || !cs.fullRefresh && !hasCursor) {
			cfg.DestinationSyncMode = protocol.DestinationAppendDedup
		}
		out.Streams = append(out.Streams, cfg)
	}
	return out, nil
}

// configuredNames lists the names of c's streams: those a read's records,
// states and cache tables go by, whichever name (or namespace.name)
// selected them.
func configuredNames(c *protocol.ConfiguredCatalog) []string {
	names := make([]string, len(c.Streams))
	for i := range c.Streams {
		names[i] = c.Streams[i].Stream.Name
	}
	return names
}

// overridesByStream keys overrides (what they are, for the error) by the
// stream each name selects in index. The names go in sorted order, so that
// of two naming one stream (its name and its namespace.name), the one that
// wins does not depend on the map's order.
func overridesByStream[V any](index *catalogs.Index, what string, byName map[string]V) (map[*protocol.Stream]V, error) {
	out := make(map[*protocol.Stream]V, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		st, err := index.Find(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out[st] = byName[name]
	}
	return out, nil
}

// StreamJSONSchema returns the JSON schema of a stream's records.
func (s *Source) StreamJSONSchema(ctx context.Context, stream string) (json.RawMessage, error) {
	c, err := s.DiscoveredCatalog(ctx)
	if err != nil {
		return nil, err
	}
	st, err := catalogs.Find(c, s.Name(), stream)
	if err != nil {
		return nil, err
	}
	return st.JSONSchema, nil
}
