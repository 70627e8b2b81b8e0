package source

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/x/goairbyte/internal/catalogs"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/protocol"
	"gopkg.in/yaml.v3"
)

// Document is a record rendered as text, for LLM and search pipelines, as
// PyAirbyte's Document.
type Document struct {
	// ID is the record's primary key (values joined by "-"), "" when the
	// stream has none.
	ID string
	// Content is Markdown: an optional "# title", an optional ```yaml block
	// of the metadata, then the content properties.
	Content string
	// Metadata holds the metadata properties' values.
	Metadata map[string]any
	// LastModified is the record's cursor value when it is a timestamp, the
	// zero time otherwise.
	LastModified time.Time
}

// DocumentOption adjusts how [Source.Documents] and [ReadResult.Documents]
// render records.
type DocumentOption func(*documentSettings)

type documentSettings struct {
	title          string
	content        []string
	metadata       []string
	renderMetadata bool
	records        []RecordOption
}

// TitleProperty renders this property as the document's "# title".
func TitleProperty(name string) DocumentOption {
	return func(d *documentSettings) { d.title = name }
}

// ContentProperties renders these properties as the document's body: one
// without a heading, several under "## Name" headings. Without content
// properties the body is the metadata as YAML.
func ContentProperties(names ...string) DocumentOption {
	return func(d *documentSettings) { d.content = append(d.content, names...) }
}

// MetadataProperties sets the properties kept as metadata; by default every
// property that is neither content nor title.
func MetadataProperties(names ...string) DocumentOption {
	return func(d *documentSettings) { d.metadata = append(d.metadata, names...) }
}

// RenderMetadata also writes the metadata into the content, as a YAML
// block, when there are content properties.
func RenderMetadata() DocumentOption {
	return func(d *documentSettings) { d.renderMetadata = true }
}

// Documents reads a stream as [Source.Records] does and renders each record
// as a Document, as PyAirbyte's get_documents.
func (s *Source) Documents(ctx context.Context, stream string, opts ...DocumentOption) iter.Seq2[Document, error] {
	var ds documentSettings
	for _, o := range opts {
		o(&ds)
	}
	return func(yield func(Document, error) bool) {
		ctx := core.WithOperation(ctx) // one operation, as Records
		c, err := s.DiscoveredCatalog(ctx)
		if err != nil {
			yield(Document{}, err)
			return
		}
		st, err := catalogs.Find(c, s.Name(), stream)
		if err != nil {
			yield(Document{}, err)
			return
		}
		for rec, err := range s.Records(ctx, stream, ds.records...) {
			if err != nil {
				yield(Document{}, err)
				return
			}
			if !yield(ds.render(rec, st.SourceDefinedPrimaryKey, st.DefaultCursorField), nil) {
				return
			}
		}
	}
}

// Documents renders the rows the cache holds for one of the read's streams
// as documents, as PyAirbyte's CachedDataset.to_documents: what
// [Source.Documents] makes of the stream's records, from the cache instead
// of a new read. The fields are the table's columns (named as the cache
// names them; a date-time is RFC 3339 in UTC), or for a stream whose
// schema declares no property the record's own, without the cache's
// _airbyte_raw_id, _airbyte_extracted_at, _airbyte_meta and
// _airbyte_data; the ID and LastModified come from the primary key and
// cursor the read used. A stream the read did not get is a
// *protocol.StreamNotFoundError.
func (r *ReadResult) Documents(ctx context.Context, stream string, opts ...DocumentOption) iter.Seq2[Document, error] {
	var ds documentSettings
	for _, o := range opts {
		o(&ds)
	}
	return func(yield func(Document, error) bool) {
		d, err := r.Stream(ctx, stream)
		if err != nil {
			yield(Document{}, err)
			return
		}
		var pk [][]string
		var cursor []string
		for _, cs := range r.catalog.Streams {
			if cs.Stream.Name == stream {
				pk, cursor = cs.PrimaryKey, cs.CursorField
				if len(cursor) == 0 {
					cursor = cs.Stream.DefaultCursorField
				}
			}
		}
		for row, err := range d.Records(ctx) {
			if err != nil {
				yield(Document{}, err)
				return
			}
			for _, col := range []string{"_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta", "_airbyte_data"} {
				delete(row, col)
			}
			rec := Record{rec: &protocol.Record{Stream: stream}, shape: &recordShape{}, m: row}
			if !yield(ds.render(rec, pk, cursor), nil) {
				return
			}
		}
	}
}

// render builds one document from a record.
func (ds *documentSettings) render(rec Record, pk [][]string, cursor []string) Document {
	metaKeys := ds.metadata
	if len(metaKeys) == 0 {
		for _, k := range slices.Sorted(maps.Keys(rec.fields())) {
			if k != ds.title && !slices.Contains(ds.content, k) {
				metaKeys = append(metaKeys, k)
			}
		}
	}
	meta := make(map[string]any, len(metaKeys))
	for _, k := range metaKeys {
		meta[k], _ = rec.Get(k)
	}
	var b strings.Builder
	if ds.title != "" {
		v, _ := rec.Get(ds.title)
		fmt.Fprintf(&b, "# %s\n\n", text(v))
	}
	if ds.renderMetadata || len(ds.content) == 0 {
		y, _ := yaml.Marshal(meta)
		b.WriteString("```yaml\n")
		b.Write(y)
		b.WriteString("```\n")
	}
	switch len(ds.content) {
	case 0:
	case 1:
		v, _ := rec.Get(ds.content[0])
		b.WriteString(text(v))
	default:
		parts := make([]string, len(ds.content))
		for i, k := range ds.content {
			v, _ := rec.Get(k)
			parts[i] = fmt.Sprintf("## %s\n\n%s\n\n", titleCase(k), text(v))
		}
		b.WriteString(strings.Join(parts, "\n"))
	}
	doc := Document{Content: b.String(), Metadata: meta}
	var ids []string
	for _, path := range pk {
		if v, ok := lookupPath(rec, path); ok {
			ids = append(ids, text(v))
		}
	}
	doc.ID = strings.Join(ids, "-")
	if v, ok := lookupPath(rec, cursor); ok {
		switch x := v.(type) {
		case string:
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				doc.LastModified = t
			}
		case time.Time: // a cache's date-time column
			doc.LastModified = x
		}
	}
	return doc
}

// lookupPath follows a field path (["address", "city"]) into a record.
func lookupPath(rec Record, path []string) (any, bool) {
	if len(path) == 0 {
		return nil, false
	}
	v, ok := rec.Get(path[0])
	for _, p := range path[1:] {
		m, isMap := v.(map[string]any)
		if !ok || !isMap {
			return nil, false
		}
		v, ok = m[p]
	}
	return v, ok
}

// text renders a value as text — in documents, and as the form a secret
// value takes in logs: strings as they are, the rest as JSON, null as
// nothing.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time: // a cache's date-time column, as a connector writes one
		return x.Format(time.RFC3339Nano)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// titleCase turns snake_case into Title Case without lower-casing the rest
// of each word.
func titleCase(name string) string {
	words := strings.Split(name, "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}
