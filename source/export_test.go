package source

import (
	"context"
	"encoding/json"
	"iter"
	"time"

	"github.com/x/goairbyte/protocol"
)

// What the external tests of this package reach that is not exported.

type (
	CatalogOption  = catalogOption
	Document       = document
	DocumentOption = documentOption
)

var (
	FullRefresh        = catalogFullRefresh
	CursorField        = catalogCursorField
	PrimaryKey         = catalogPrimaryKey
	TitleProperty      = titleProperty
	ContentProperties  = contentProperties
	MetadataProperties = metadataProperties
	RenderMetadata     = renderMetadata
)

func (s *Source) ConfiguredCatalog(ctx context.Context, streams []string, opts ...CatalogOption) (*protocol.ConfiguredCatalog, error) {
	return s.configuredCatalog(ctx, streams, opts...)
}

func (s *Source) DiscoveredCatalog(ctx context.Context) (*protocol.Catalog, error) {
	return s.discoveredCatalog(ctx)
}

func (s *Source) StreamJSONSchema(ctx context.Context, stream string) (json.RawMessage, error) {
	return s.streamJSONSchema(ctx, stream)
}

func (s *Source) Documents(ctx context.Context, stream string, opts ...DocumentOption) iter.Seq2[Document, error] {
	return s.documents(ctx, stream, opts...)
}

func (r *Record) EmittedAt() time.Time { return r.emittedAt() }

func (r *ReadResult) Catalog() *protocol.ConfiguredCatalog { return r.catalog }
