package destination_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// namespaced is an in-process source of a stream "tags" in namespace
// "east" and a stream "other" in none, two full-refresh records each, as a
// database source's tables are in its schemas.
type namespaced struct{}

func (namespaced) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (namespaced) Check(context.Context, json.RawMessage) error { return nil }

func (namespaced) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	stream := func(name, ns string) protocol.Stream {
		return protocol.Stream{Name: name, Namespace: ns, JSONSchema: json.RawMessage(`{"type":"object","properties":{"tag":{"type":"string"}}}`),
			SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}}
	}
	return &protocol.Catalog{Streams: []protocol.Stream{stream("tags", "east"), stream("other", "")}}, nil
}

func (namespaced) Read(_ context.Context, _ json.RawMessage, catalog *protocol.ConfiguredCatalog, _ json.RawMessage, emit func(*protocol.Message) error) error {
	for _, cs := range catalog.Streams {
		for i := range 2 {
			data := fmt.Appendf(nil, `{"tag":"%s/%s/%d"}`, cs.Stream.Namespace, cs.Stream.Name, i)
			if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: cs.Stream.Name, Namespace: cs.Stream.Namespace, Data: data}}); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestWriteFromCacheKeepsNamespaces: a stream of a namespace is configured
// with it, and Airbyte's destinations find a record's stream by namespace
// and name; from a cache, whose records name the stream only, a Write sent
// east's "tags" records and states with no namespace, which cdkDest (as
// the bulk CDK) refused: "Stream not found: .tags". Now they carry it, as
// the source's did.
func TestWriteFromCacheKeepsNamespaces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, err := source.New(ctx, "source-namespaced", connector.WithGoConnector(namespaced{}), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	rr, err := src.Read(ctx, source.UseCache(openCache(t)), source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	dest := &cdkDest{}
	res, err := goDestination(t, "destination-cdk", dest).Write(ctx, rr, destination.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	dest.mu.Lock()
	got := dest.records
	dest.mu.Unlock()
	if got["east.tags"] != 2 || got[".other"] != 2 || res.TotalConfirmed() != 4 {
		t.Fatalf("records by namespace and stream %v, %d confirmed; want 2 of east.tags and 2 of other, all confirmed", got, res.TotalConfirmed())
	}
}
