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
// read incrementally when it supports that, has a cursor or a primary key,
// and FullRefresh is not given; in full otherwise. Cursor and primary key
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
	index := newStreamIndex(s.Name(), c)
	// An override of a stream the catalog lacks is a typo that would read
	// the stream meant without its key or cursor: say so. One of a stream
	// of the catalog that this read leaves out is kept for later reads.
	for _, o := range []struct {
		what    string
		streams []string
	}{
		{"primary key override (SetPrimaryKey, PrimaryKey)", slices.Sorted(maps.Keys(cs.primaryKey))},
		{"cursor override (SetCursorField, CursorField)", slices.Sorted(maps.Keys(cs.cursor))},
	} {
		if err := index.check(o.streams); err != nil {
			return nil, fmt.Errorf("%s: %w", o.what, err)
		}
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
	// The n-th mention of a name is the n-th stream of that name: every
	// stream, listed by name, configures a name in two namespaces once
	// each, not the first twice.
	mentions := map[string]int{}
	for _, name := range streams {
		st, err := index.find(name, mentions[name])
		if err != nil {
			return nil, err
		}
		mentions[name]++
		cfg := protocol.ConfiguredStream{
			Stream:              *st,
			SyncMode:            protocol.SyncFullRefresh,
			DestinationSyncMode: protocol.DestinationOverwrite,
			PrimaryKey:          st.SourceDefinedPrimaryKey,
		}
		// A stream read incrementally needs something to go by: a cursor,
		// or at least a primary key to merge on. One that offers incremental
		// reads with neither is read in full (a cache could neither append
		// its records once nor replace them for an incremental read).
		_, pkOverride := cs.primaryKey[name]
		_, curOverride := cs.cursor[name]
		tracked := len(st.DefaultCursorField) > 0 || (st.SourceDefinedCursor != nil && *st.SourceDefinedCursor) ||
			len(st.SourceDefinedPrimaryKey) > 0 || pkOverride || curOverride
		if !cs.fullRefresh && catalogs.Supports(st, protocol.SyncIncremental) && tracked || !catalogs.Supports(st, protocol.SyncFullRefresh) {
			cfg.SyncMode = protocol.SyncIncremental
			cfg.DestinationSyncMode = protocol.DestinationAppend
			cfg.CursorField = st.DefaultCursorField
		}
		if cur, ok := cs.cursor[name]; ok {
			cfg.CursorField = cur
		}
		if pk, ok := cs.primaryKey[name]; ok {
			cfg.PrimaryKey = pk
		}
		if cfg.SyncMode == protocol.SyncIncremental && len(cfg.PrimaryKey) > 0 {
			cfg.DestinationSyncMode = protocol.DestinationAppendDedup
		}
		out.Streams = append(out.Streams, cfg)
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

// streamIndex finds the streams of a catalog by name, for the calls that
// look up every selected stream: catalogs.Find scans the catalog,
// which for each of thousands of selected streams (a database source's
// tables) costs their number squared. Measured on 50,000 streams:
// selecting them all by name took 36 s.
type streamIndex struct {
	where  string
	c      *protocol.Catalog
	byName map[string][]*protocol.Stream // in catalog order: a name in several namespaces
}

func newStreamIndex(where string, c *protocol.Catalog) *streamIndex {
	x := &streamIndex{where: where, c: c, byName: make(map[string][]*protocol.Stream, len(c.Streams))}
	for i := range c.Streams {
		x.byName[c.Streams[i].Name] = append(x.byName[c.Streams[i].Name], &c.Streams[i])
	}
	return x
}

// find returns the n-th stream called name (in catalog order), the first
// when there are not that many (as catalogs.Find), or catalogs.Find's
// *StreamNotFoundError.
func (x *streamIndex) find(name string, n int) (*protocol.Stream, error) {
	if sts := x.byName[name]; len(sts) > 0 {
		if n < len(sts) {
			return sts[n], nil
		}
		return sts[0], nil
	}
	return catalogs.Find(x.c, x.where, name)
}

// check returns the *StreamNotFoundError of the first of names that the
// catalog lacks, nil if it has them all.
func (x *streamIndex) check(names []string) error {
	for _, n := range names {
		if _, err := x.find(n, 0); err != nil {
			return err
		}
	}
	return nil
}
