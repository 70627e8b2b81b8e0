package source_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// twoNamespaces is a source whose catalog has a stream "tags" in two
// namespaces, as a database source's has a table of one name in two
// schemas, besides a stream "other".
type twoNamespaces struct{}

var _ kit.Source = twoNamespaces{}

func (twoNamespaces) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (twoNamespaces) Check(context.Context, json.RawMessage) error { return nil }

func (twoNamespaces) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	stream := func(name, ns string) protocol.Stream {
		return protocol.Stream{Name: name, Namespace: ns, JSONSchema: json.RawMessage(`{"type":"object","properties":{"tag":{"type":"string"}}}`),
			SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}}
	}
	return &protocol.Catalog{Streams: []protocol.Stream{stream("tags", "east"), stream("tags", "west"), stream("other", "")}}, nil
}

func (twoNamespaces) Read(_ context.Context, _ json.RawMessage, catalog *protocol.ConfiguredCatalog, _ json.RawMessage, emit func(*protocol.Message) error) error {
	for _, cs := range catalog.Streams {
		data := fmt.Appendf(nil, `{"tag":%q}`, cs.Stream.Namespace+"/"+cs.Stream.Name)
		if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: cs.Stream.Name, Namespace: cs.Stream.Namespace, Data: data}}); err != nil {
			return err
		}
	}
	return nil
}

// A source with a stream of one name in two namespaces: reading all its
// streams configures each of the two (it configured the first twice, and a
// destination written through NoCache was sent it twice), and a cache,
// which keeps one table per stream name, refuses them naming both
// namespaces and what to do; the other streams read as usual.
func TestAStreamNameInTwoNamespaces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, err := source.New(ctx, "source-namespaces", connector.WithGoConnector(twoNamespaces{}), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := src.ConfiguredCatalog(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, cs := range cat.Streams {
		got = append(got, cs.Stream.Namespace+"/"+cs.Stream.Name)
	}
	if want := "east/tags west/tags /other"; strings.Join(got, " ") != want {
		t.Errorf("configured streams %q, want %q", got, want)
	}
	c := openDuckDB(t)
	_, err = src.Read(ctx, source.UseCache(c), source.NoProgress())
	if !errors.Is(err, cache.ErrNameCollision) || !strings.Contains(err.Error(), `in namespaces "east" and "west"`) ||
		!strings.Contains(err.Error(), `source.Streams with "east.tags" or "west.tags"`) {
		t.Fatalf("reading both: %v", err)
	}
	res, err := src.Read(ctx, source.UseCache(c), source.NoProgress(), source.Streams("other"))
	if err != nil {
		t.Fatal(err)
	}
	if n := res.StreamRecords()["other"]; n != 1 {
		t.Errorf("other: %d records, want 1", n)
	}
}

// A stream name in two namespaces selects neither: the error names each
// as namespace.name, which selects it for every call that takes a stream
// (AvailableStreams lists them so), and the records and the cache's table
// go by the stream's name. Before, the name selected the first namespace's
// silently, and the second could not be read into a cache at all.
func TestSelectAStreamByNamespace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, err := source.New(ctx, "source-namespaces", connector.WithGoConnector(twoNamespaces{}), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	names, err := src.AvailableStreams(ctx)
	if err != nil || strings.Join(names, " ") != "east.tags west.tags other" {
		t.Fatalf("AvailableStreams = %q, %v; want east.tags west.tags other", names, err)
	}
	ambiguous := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), `2 streams are called "tags"`) || !strings.Contains(err.Error(), `"east.tags", "west.tags"`) {
			t.Errorf("%s: %v, want an error naming east.tags and west.tags", what, err)
		}
	}
	ambiguous("SelectStreams(tags)", src.SelectStreams(ctx, "tags"))
	_, err = src.Read(ctx, source.UseCache(openDuckDB(t)), source.NoProgress(), source.Streams("tags"))
	ambiguous("Read of tags", err)
	for _, err := range src.Records(ctx, "tags") {
		ambiguous("Records(tags)", err)
		break
	}

	var got []string
	for rec, err := range src.Records(ctx, "west.tags") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec.Stream()+" "+string(rec.Raw()))
	}
	if want := `tags {"tag":"west/tags"}`; strings.Join(got, "|") != want {
		t.Errorf("Records(west.tags) = %q, want %q", got, want)
	}

	src.SetPrimaryKey("east.tags", []string{"tag"})
	cat, err := src.ConfiguredCatalog(ctx, []string{"east.tags", "other"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Streams) != 2 || cat.Streams[0].Stream.Namespace != "east" || fmt.Sprint(cat.Streams[0].PrimaryKey) != "[[tag]]" {
		t.Errorf("the catalog of east.tags and other: %+v", cat.Streams)
	}

	for _, ns := range []string{"east", "west"} {
		c := openDuckDB(t)
		res, err := src.Read(ctx, source.UseCache(c), source.NoProgress(), source.Streams(ns+".tags"))
		if err != nil {
			t.Fatalf("reading %s.tags: %v", ns, err)
		}
		if fmt.Sprint(res.ProcessedStreams()) != "[tags]" || res.StreamRecords()["tags"] != 1 {
			t.Errorf("reading %s.tags: streams %v, records %v", ns, res.ProcessedStreams(), res.StreamRecords())
		}
		for _, name := range []string{"tags", ns + ".tags"} {
			ds, err := res.Stream(ctx, name)
			if err != nil {
				t.Fatalf("the read's stream %s: %v", name, err)
			}
			for row, err := range ds.Records(ctx) {
				if err != nil || row["tag"] != ns+"/tags" {
					t.Errorf("the table of %s.tags holds %v (%v)", ns, row["tag"], err)
				}
			}
		}
	}
}
