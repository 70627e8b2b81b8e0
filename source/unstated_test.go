package source_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// unstated is a source of two incremental streams with a cursor and no
// key ("events", "clicks": a cache appends them), two records each; the
// config says which streams get a STATE after their records, and a stream
// read with its state gets none.
type unstated struct{}

func (unstated) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","properties":{"stated":{"type":"array","items":{"type":"string"}}}}`)}, nil
}

func (unstated) Check(context.Context, json.RawMessage) error { return nil }

func (unstated) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	schema := json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`)
	yes := true
	modes := []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental}
	cat := &protocol.Catalog{}
	for _, name := range []string{"events", "clicks"} {
		cat.Streams = append(cat.Streams, protocol.Stream{Name: name, JSONSchema: schema, SupportedSyncModes: modes,
			SourceDefinedCursor: &yes, DefaultCursorField: []string{"id"}})
	}
	return cat, nil
}

func (unstated) Read(_ context.Context, raw json.RawMessage, cat *protocol.ConfiguredCatalog, state json.RawMessage, emit func(*protocol.Message) error) error {
	var cfg struct{ Stated []string }
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return err
	}
	var states []protocol.State
	if state != nil {
		if err := json.Unmarshal(state, &states); err != nil {
			return err
		}
	}
	for _, cs := range cat.Streams {
		name := cs.Stream.Name
		ids := []string{"1", "2"}
		for _, st := range states {
			if st.Stream != nil && st.Stream.StreamDescriptor.Name == name {
				ids = nil // its state is past both records
			}
		}
		for _, id := range ids {
			if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: name, Data: json.RawMessage(`{"id":` + id + `}`)}}); err != nil {
				return err
			}
		}
		for _, s := range cfg.Stated {
			if s == name {
				err := emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
					Stream: &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: name}, StreamState: json.RawMessage(`{"id":2}`)}}})
				if err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// TestReadWarnsOfRecordsWithNoState: an incremental stream whose records
// came with no state is read from the start by the next read, and its
// append table gets them all again while both reads succeed. The read
// warns of it, naming the streams, and of none that had a state or were
// read in full (where nothing is expected).
func TestReadWarnsOfRecordsWithNoState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		stated  []string
		opts    []source.ReadOption
		want    string // "" for no warning
		twiceIn []string
	}{
		{name: "one stream", stated: []string{"events"}, want: "stream=clicks", twiceIn: []string{"clicks"}},
		{name: "two streams", stated: []string{}, want: "streams=\"events, clicks\"", twiceIn: []string{"events", "clicks"}},
		{name: "all stated", stated: []string{"events", "clicks"}},
		{name: "full refresh", stated: []string{}, opts: []source.ReadOption{source.ForceFullRefresh()}, twiceIn: []string{"events", "clicks"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := openDuckDB(t)
			var log testenv.Buffer
			src, err := source.New(ctx, "source-unstated", connector.WithGoConnector(unstated{}),
				connector.WithConfig(map[string]any{"stated": tc.stated}),
				connector.WithLogger(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelWarn}))))
			if err != nil {
				t.Fatal(err)
			}
			var res *source.ReadResult
			for range 2 {
				if res, err = src.Read(ctx, append([]source.ReadOption{source.UseCache(c), source.NoProgress()}, tc.opts...)...); err != nil {
					t.Fatal(err)
				}
			}
			// What the warning is about: the records of the streams
			// without a state are in their tables twice.
			for _, stream := range []string{"events", "clicks"} {
				want := int64(2)
				if strings.Contains(strings.Join(tc.twiceIn, " "), stream) {
					want = 4
				}
				if n := count(t, ctx, res, stream); n != want {
					t.Errorf("%s: %d rows, want %d", stream, n, want)
				}
			}
			warned := strings.Count(log.String(), "no state for")
			switch {
			case tc.want == "" && warned > 0:
				t.Errorf("warned of streams that need no state:\n%s", log.String())
			case tc.want != "" && (warned != 2 || !strings.Contains(log.String(), tc.want)):
				t.Errorf("want one warning per read naming %s, got:\n%s", tc.want, log.String())
			}
		})
	}
}
