package declarative

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/protocol"
)

// TestCorpusOpenStreamIntoCache reads corpus streams whose schema declares
// no property, and which have a primary key (source-buzzsprout's episodes
// also a cursor), from TestCorpusRead's synthetic API into a DuckDB cache,
// their records given fields of every kind besides the key: the cache
// merges them on the key and gives back each record whole.
func TestCorpusOpenStreamIntoCache(t *testing.T) {
	for _, tc := range []struct{ connector, stream string }{
		{"source-buzzsprout", "episodes"},
		{"source-drip", "broadcasts"},
	} {
		t.Run(tc.connector, func(t *testing.T) {
			t.Parallel()
			records := readOpenStream(t, tc.connector, tc.stream)
			if len(records) == 0 {
				t.Fatal("the read gave no record")
			}
			ctx := context.Background()
			c, err := cache.New(ctx, duckdb.NewConnector(filepath.Join(t.TempDir(), "cache.duckdb")))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			cat := &protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{Stream: records[0].stream, SyncMode: protocol.SyncFullRefresh,
				DestinationSyncMode: protocol.DestinationAppendDedup}}}
			if len(cat.Streams[0].Stream.SourceDefinedPrimaryKey) == 0 {
				t.Fatalf("%s has no primary key: %s", tc.stream, cat.Streams[0].Stream.JSONSchema)
			}
			msgs := func(yield func(*protocol.Message, error) bool) {
				for _, r := range records {
					if !yield(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: tc.stream, Data: r.data, EmittedAt: 1}}, nil) {
						return
					}
				}
			}
			// Auto: merge on the key.
			res, err := c.Load(ctx, cache.LoadRequest{SourceName: tc.connector, Catalog: cat, Messages: msgs})
			if err != nil {
				t.Fatal(err)
			}
			if res.Records[tc.stream] != int64(len(records)) {
				t.Fatalf("%d records loaded, %d read", res.Records[tc.stream], len(records))
			}
			ds, err := c.Dataset(ctx, tc.stream)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for line, err := range ds.RecordLines(ctx, nil) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, canonicalJSON(t, line.Data))
			}
			for _, r := range records {
				want = append(want, canonicalJSON(t, r.data))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("cached:\n%q\nread:\n%q", got, want)
			}
		})
	}
}

// openRecord is a record of an open stream as the engine read it.
type openRecord struct {
	stream protocol.Stream
	data   json.RawMessage
}

// readOpenStream reads one stream of a corpus connector in full from the
// synthetic API, its records given, besides what TestCorpusRead's API
// puts in them (the key and cursor), a nested object, unicode and a null.
func readOpenStream(t *testing.T, name, stream string) []openRecord {
	t.Helper()
	dir := filepath.Join(sharedManifests(t), "corpus", name)
	text, err := os.ReadFile(filepath.Join(dir, "manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	config, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	api := newSynthAPI()
	srv := httptest.NewServer(api)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := &synthConnector{name: name, cancel: cancel, perPath: map[string]int{}}
	client := &http.Client{Transport: &loopbackTransport{addr: srv.Listener.Addr().String(), conn: conn, base: &http.Transport{
		DialContext: (&net.Dialer{}).DialContext,
	}}}
	defer client.CloseIdleConnections()
	fixed := time.Date(2024, 1, 10, 0, 0, 0, 123456000, time.UTC)
	src, err := New(text, WithHTTPClient(client), withSleep(noSleep), WithClock(func() time.Time { return fixed }))
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.learn(src, text, config, fixed); err != nil {
		t.Fatal(err)
	}
	for _, r := range conn.routes {
		if r.stream == stream {
			r.template["title"] = "Zoë — 日本"
			r.template["meta"] = map[string]any{"tags": []any{"a", 1.5, nil}, "ok": true}
			r.template["gone"] = nil
		}
	}
	api.add(conn)
	cat, err := src.Discover(ctx, config)
	if err != nil {
		t.Fatal(err)
	}
	var st *protocol.Stream
	for i := range cat.Streams {
		if cat.Streams[i].Name == stream {
			st = &cat.Streams[i]
		}
	}
	if st == nil {
		t.Fatalf("%s discovers no stream %s", name, stream)
	}
	var out []openRecord
	err = src.Read(ctx, config, &protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{Stream: *st, SyncMode: protocol.SyncFullRefresh}}}, nil,
		func(m *protocol.Message) error {
			if m.Type == protocol.TypeRecord && m.Record.Stream == stream {
				out = append(out, openRecord{stream: *st, data: slices.Clone(m.Record.Data)})
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out {
		var m map[string]any
		if err := json.Unmarshal(r.data, &m); err != nil || m["title"] != "Zoë — 日本" {
			t.Fatalf("the API's record did not come through: %s", r.data)
		}
	}
	return out
}

// canonicalJSON is a JSON text with its keys sorted, to compare texts as
// values.
func canonicalJSON(t *testing.T, text []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(text, &v); err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
