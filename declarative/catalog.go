package declarative

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/x/goairbyte/declarative/internal/manifest"
	"github.com/x/goairbyte/protocol"
)

// Discover returns the catalog as the CDK's concurrent source does: each
// stream with its inline schema, full_refresh (and incremental with its
// cursor field when it has a DatetimeBasedCursor), its primary key, and
// is_resumable set for incremental streams. It makes no request. A config
// the spec's config_migrations change is used, not reported (Discover has
// no emit function); a config its validations refuse is its error. Streams
// whose schema loader or cursor the engine does not run make it return an
// *UnsupportedError.
func (s *Source) Discover(ctx context.Context, config json.RawMessage) (*protocol.Catalog, error) {
	var blocking []manifest.Component
	for _, st := range s.streams {
		for _, c := range st.unsupported {
			if isCatalogComponent(c, st.path) {
				blocking = append(blocking, c)
			}
		}
	}
	for _, c := range s.unsupported {
		if strings.HasPrefix(c.Path, "$.dynamic_streams") || strings.HasPrefix(c.Path, "$.spec.config_normalization_rules") {
			blocking = append(blocking, c)
		}
	}
	if len(blocking) > 0 {
		return nil, unsupported(blocking)
	}
	rc, err := s.newReadContext(config)
	if err != nil {
		return nil, err
	}
	// The config's migrations, transformations and validations, as the
	// CDK runs them before it lists the streams. Discover has no emit
	// function: a migrated config is used, not reported.
	if err := s.prepareCall(ctx, rc); err != nil {
		return nil, err
	}
	cat := &protocol.Catalog{Streams: []protocol.Stream{}}
	// The CDK lists the streams it reads concurrently first, then those it
	// reads synchronously.
	ordered := make([]*stream, 0, len(s.streams))
	for _, sync := range []bool{false, true} {
		for _, st := range s.streams {
			if st.synchronous == sync {
				ordered = append(ordered, st)
			}
		}
	}
	for _, st := range ordered {
		if st.buildErr != nil {
			return nil, st.buildErr
		}
		as, err := st.airbyteStream(rc)
		if err != nil {
			return nil, err
		}
		cat.Streams = append(cat.Streams, as)
	}
	return cat, nil
}

// isCatalogComponent reports whether an unsupported component is one the
// catalog needs: the stream's schema loader or incremental sync.
func isCatalogComponent(c manifest.Component, streamPath string) bool {
	for _, p := range []string{streamPath + ".schema_loader", streamPath + ".incremental_sync"} {
		if len(c.Path) >= len(p) && c.Path[:len(p)] == p {
			return true
		}
	}
	return false
}

func (st *stream) airbyteStream(rc *readContext) (protocol.Stream, error) {
	no, yes := false, true
	schema := st.schema
	if schema == nil {
		schema = json.RawMessage(`{}`)
	}
	as := protocol.Stream{
		Name:               st.name,
		JSONSchema:         append(json.RawMessage(nil), schema...),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh},
		IsResumable:        &no,
	}
	if st.cursor != nil {
		field, err := st.cursorFieldName(rc.vars())
		if err != nil {
			return as, err
		}
		as.SourceDefinedCursor = &yes
		as.IsResumable = &yes
		as.SupportedSyncModes = append(as.SupportedSyncModes, protocol.SyncIncremental)
		as.DefaultCursorField = []string{field}
	}
	if len(st.primaryKey) > 0 {
		as.SourceDefinedPrimaryKey = st.primaryKey
	}
	return as, nil
}
