package source_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
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

// byNameOnly is an incremental source with a stream "tags" in two
// namespaces, as a database source's table in two schemas: east holds ids
// 10 to 12, west the older ids 1 to 3. It finds its state by the stream's
// name alone, as some connectors do, reads the ids above it, and keeps
// the states it was given, one per read.
type byNameOnly struct {
	mu    sync.Mutex
	given []string
}

var _ kit.Source = (*byNameOnly)(nil)

func (*byNameOnly) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (*byNameOnly) Check(context.Context, json.RawMessage) error { return nil }

func (*byNameOnly) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	yes := true
	stream := func(ns string) protocol.Stream {
		return protocol.Stream{Name: "tags", Namespace: ns, JSONSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"},"tag":{"type":"string"}}}`),
			SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental}, SourceDefinedCursor: &yes,
			DefaultCursorField: []string{"id"}, SourceDefinedPrimaryKey: [][]string{{"id"}}}
	}
	return &protocol.Catalog{Streams: []protocol.Stream{stream("east"), stream("west")}}, nil
}

func (s *byNameOnly) Read(_ context.Context, _ json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage, emit func(*protocol.Message) error) error {
	s.mu.Lock()
	s.given = append(s.given, string(state))
	s.mu.Unlock()
	var states []protocol.State
	if len(state) > 0 {
		if err := json.Unmarshal(state, &states); err != nil {
			return err
		}
	}
	from := 0
	for _, st := range states {
		if st.Stream != nil && st.Stream.StreamDescriptor.Name == "tags" { // the namespace is not looked at
			var cur struct{ ID int }
			if err := json.Unmarshal(st.Stream.StreamState, &cur); err != nil {
				return err
			}
			from = cur.ID
		}
	}
	for _, cs := range catalog.Streams {
		first := map[string]int{"east": 10, "west": 1}[cs.Stream.Namespace]
		last := from
		for id := first; id < first+3; id++ {
			if id <= from {
				continue
			}
			last = id
			data := fmt.Appendf(nil, `{"id":%d,"tag":%q}`, id, cs.Stream.Namespace)
			if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "tags", Namespace: cs.Stream.Namespace, Data: data}}); err != nil {
				return err
			}
		}
		if err := emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream, Stream: &protocol.StreamState{
			StreamDescriptor: protocol.StreamDescriptor{Name: "tags", Namespace: cs.Stream.Namespace}, StreamState: fmt.Appendf(nil, `{"id":%d}`, last)}}}); err != nil {
			return err
		}
	}
	return nil
}

// One cache, east.tags and then west.tags of a source that finds its state
// by name: west's read is refused before the connector starts (before, it
// loaded into east's table and was given east's state, so the source
// skipped all of west's older records and the read succeeded with none of
// them); read in full with replace, west takes the table over with all
// its records and no state of east's given; its next read is given its
// own state; and east is then refused.
func TestAStreamOfAnotherNamespaceIsNotGivenItsState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := &byNameOnly{}
	src, err := source.New(ctx, "source-schemas", connector.WithGoConnector(conn), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	c := openDuckDB(t)
	read := func(ns string, opts ...source.ReadOption) (map[string]int64, error) {
		t.Helper()
		res, err := src.Read(ctx, append([]source.ReadOption{source.UseCache(c), source.NoProgress(), source.Streams(ns + ".tags")}, opts...)...)
		if res == nil {
			return nil, err
		}
		return res.StreamRecords(), err
	}
	given := func(want ...string) {
		t.Helper()
		conn.mu.Lock()
		defer conn.mu.Unlock()
		if strings.Join(conn.given, " ") != strings.Join(want, " ") {
			t.Fatalf("the states the connector was given: %q, want %q", conn.given, want)
		}
	}
	rows := func(want string) {
		t.Helper()
		var got []string
		r, err := c.Query(ctx, `SELECT tag || ':' || CAST(id AS VARCHAR) FROM tags ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for r.Next() {
			var s string
			if err := r.Scan(&s); err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		if strings.Join(got, " ") != want {
			t.Fatalf("the rows of tags: %q, want %s", got, want)
		}
	}
	if n, err := read("east"); err != nil || n["tags"] != 3 {
		t.Fatalf("reading east.tags: %v, %v", n, err)
	}
	n, err := read("west")
	if !errors.Is(err, cache.ErrNameCollision) || !strings.Contains(err.Error(), `namespace "east"`) || !strings.Contains(err.Error(), "replace") {
		t.Fatalf("reading west.tags after east.tags: %v records, %v; want the refusal, naming east and the replace strategy", n, err)
	}
	given("")
	rows("east:10 east:11 east:12")

	if n, err := read("west", source.ForceFullRefresh(), source.Strategy(cache.StrategyReplace)); err != nil || n["tags"] != 3 {
		t.Fatalf("reading west.tags in full with replace: %v, %v", n, err)
	}
	given("", "")
	rows("west:1 west:2 west:3")
	st, err := c.SourceState(ctx, "source-schemas", nil)
	if err != nil || !strings.Contains(string(st), `"namespace":"west"`) || strings.Contains(string(st), "east") {
		t.Fatalf("the state after west took the table over: %s, %v; want west's alone", st, err)
	}
	if n, err := read("west"); err != nil || n["tags"] != 0 {
		t.Fatalf("reading west.tags again: %v, %v", n, err)
	}
	given("", "", string(st))
	if _, err := read("east"); !errors.Is(err, cache.ErrNameCollision) {
		t.Fatalf("reading east.tags after west took the table over: %v; want the refusal", err)
	}
}
