package source_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// manyStreams is a source of n incremental streams, s00000 and on, as
// database sources have (tens of thousands of tables): its read sends one
// record and one STATE per configured stream.
type manyStreams struct{ n int }

func (manyStreams) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (manyStreams) Check(context.Context, json.RawMessage) error { return nil }

func (m manyStreams) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	c := &protocol.Catalog{Streams: make([]protocol.Stream, m.n)}
	for i := range c.Streams {
		c.Streams[i] = protocol.Stream{Name: streamName(i),
			JSONSchema:              json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"},"u":{"type":"integer"}}}`),
			SupportedSyncModes:      []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental},
			DefaultCursorField:      []string{"u"},
			SourceDefinedPrimaryKey: [][]string{{"id"}}}
	}
	return c, nil
}

func (manyStreams) Read(ctx context.Context, _ json.RawMessage, cat *protocol.ConfiguredCatalog, _ json.RawMessage, emit func(*protocol.Message) error) error {
	for _, s := range cat.Streams {
		rec := &protocol.Record{Stream: s.Stream.Name, Data: json.RawMessage(`{"id":1,"u":2}`), EmittedAt: 1700000000000}
		if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: rec}); err != nil {
			return err
		}
		st := &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: s.Stream.Name}, StreamState: json.RawMessage(`{"u":2}`)}
		if err := emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream, Stream: st}}); err != nil {
			return err
		}
	}
	return nil
}

func streamName(i int) string { return fmt.Sprintf("s%05d", i) }

// BenchmarkSelectManyStreams selects every stream of a catalog of n by
// name and builds the configured catalog of the selection, as a read
// does: the cost per stream (ns/stream) should not grow with n.
func BenchmarkSelectManyStreams(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			src, err := source.New(ctx, "source-many", connector.WithGoConnector(manyStreams{n: n}), connector.WithConfig(map[string]any{}))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := src.DiscoveredCatalog(ctx); err != nil {
				b.Fatal(err)
			}
			names := make([]string, n)
			for i := range names {
				names[i] = streamName(i)
			}
			for b.Loop() {
				if err := src.SelectStreams(ctx, names...); err != nil {
					b.Fatal(err)
				}
				if cat, err := src.ConfiguredCatalog(ctx, nil); err != nil || len(cat.Streams) != n {
					b.Fatal(cat, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/stream")
		})
	}
}
