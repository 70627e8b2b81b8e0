package destination_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// TestDestinationErrorLogFirst: a destination that fails with its reason in
// an ERROR log message and a useless last stderr line ("}") is reported
// with the log message.
func TestDestinationErrorLogFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dst, err := destination.New(ctx, "destination-reticent",
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./internal/testconnectors/reticent")),
		connector.WithConfig(map[string]any{"mode": "write-errorlog"}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = dst.Write(ctx, newFaker(t, 10, "users"), destination.NoCache(), destination.NoStateCache())
	var ce *executor.ConnectorError
	if !errors.As(err, &ce) || ce.Reason() != "the bucket s3://reports does not exist" ||
		!strings.Contains(err.Error(), "the bucket s3://reports does not exist") || strings.Contains(err.Error(), ": }") {
		t.Fatalf("got %v, want the ERROR log message as the reason", err)
	}
}

// capture is an in-process destination that keeps the messages it is given
// and echoes the states.
type capture struct{ got []*protocol.Message }

func (c *capture) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}
func (c *capture) Check(ctx context.Context, config json.RawMessage) error { return nil }
func (c *capture) Write(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	return echoStates(input, emit, func(m *protocol.Message) { c.got = append(c.got, m) })
}

// TestNoCacheForwardsAsSent: with no cache, messages reach the destination
// with the fields the protocol does not define (a real destination relies
// on one), and a GLOBAL state it echoes confirms each stream's records
// under the stream's name (they were counted under "").
func TestNoCacheForwardsAsSent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, err := source.New(ctx, "source-reticent",
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./internal/testconnectors/reticent")),
		connector.WithConfig(map[string]any{"mode": "read-global"}), connector.WithStreams("items", "events"))
	if err != nil {
		t.Fatal(err)
	}
	c := &capture{}
	dst, err := destination.New(ctx, "destination-capture", connector.WithGoConnector(c), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := dst.Write(ctx, src, destination.NoCache(), destination.NoStateCache())
	if err != nil {
		t.Fatal(err)
	}
	records := 0
	for _, m := range c.got {
		if m.Type == protocol.TypeRecord {
			records++
			if !strings.Contains(string(m.Raw), `"_ab_extra":"keep me"`) || !strings.Contains(string(m.Raw), `"partition":7`) {
				t.Fatalf("the destination got %s (raw %q): the extra fields are gone", m.Record.Data, m.Raw)
			}
		}
	}
	if records != 5 {
		t.Fatalf("the destination got %d records, want 5", records)
	}
	if _, blank := res.RecordsConfirmed[""]; blank || res.RecordsConfirmed["items"] != 3 || res.RecordsConfirmed["events"] != 2 {
		t.Fatalf("confirmed %v, want items 3 and events 2", res.RecordsConfirmed)
	}
}

// TestDestinationIdentity: one destination connector writing to two
// directories from one cache keeps two states (the second used to receive
// nothing), keyed by its name and a fingerprint of its config without
// secrets.
func TestDestinationIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openCache(t)
	rr, err := newFaker(t, 50, "users").Read(ctx, source.UseCache(c))
	if err != nil {
		t.Fatal(err)
	}
	a, b := t.TempDir(), t.TempDir()
	resA, err := newLocalJSON(t, a, nil).Write(ctx, rr)
	if err != nil {
		t.Fatal(err)
	}
	resB, err := newLocalJSON(t, b, nil).Write(ctx, rr)
	if err != nil {
		t.Fatal(err)
	}
	if resB.RecordsSent["users"] != 50 || resA.DestinationKey == resB.DestinationKey ||
		!strings.HasPrefix(resA.DestinationKey, "destination-local-json@") {
		t.Fatalf("second directory: sent %v, keys %q and %q", resB.RecordsSent, resA.DestinationKey, resB.DestinationKey)
	}
	if n, _ := fileIDs(t, b, "users"); n != 50 {
		t.Fatalf("%d lines in the second directory, want 50", n)
	}
	// The same config again is the same destination: nothing new to send.
	again, err := newLocalJSON(t, a, nil).Write(ctx, rr)
	if err != nil || again.TotalSent() != 0 || again.DestinationKey != resA.DestinationKey {
		t.Fatalf("same config: sent %v, key %q, %v", again.RecordsSent, again.DestinationKey, err)
	}
}

// TestNoCacheHoldsBackStatesAfterMalformedLines: with no cache, a STATE
// that follows RECORD lines that did not parse is not forwarded, as Read
// does not commit one: the destination would echo it and the next Write
// would resume after the lost records. The Write says the stream is
// incomplete.
func TestNoCacheHoldsBackStatesAfterMalformedLines(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &capture{}
	res, err := goDestination(t, "destination-capture", c).Write(ctx, malformedSource(t), destination.NoCache(), destination.StateCache(openCache(t)))
	if !errors.Is(err, source.ErrIncompleteStream) {
		t.Fatalf("got %v, want the stream incomplete", err)
	}
	for _, m := range c.got {
		if m.Type == protocol.TypeState && strings.Contains(string(m.State.Stream.StreamState), `"n":5`) {
			t.Fatal("the state after the malformed lines reached the destination")
		}
	}
	st, err := res.State.State(ctx, "items")
	if err != nil || st == nil || string(st.Stream.StreamState) != `{"n":1}` {
		t.Fatalf("stored state %+v (%v), want the one before the malformed lines, {\"n\":1}", st, err)
	}
}

// TestWriteStreamNamedTwice: a stream named twice in Streams is written
// once; it used to be configured twice, which the destination refused.
func TestWriteStreamNamedTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rr, err := newFaker(t, 30).Read(ctx, source.UseCache(openCache(t)), source.Streams("users", "products"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	res, err := newLocalJSON(t, out, nil).Write(ctx, rr, destination.Streams("users", "products", "users"))
	if err != nil {
		t.Fatal(err)
	}
	if res.RecordsSent["users"] != 30 {
		t.Fatalf("sent %v, want 30 users", res.RecordsSent)
	}
	n, ids := fileIDs(t, out, "users")
	if n != 30 {
		t.Fatalf("%d lines, want 30", n)
	}
	wantOnce(t, ids, 30)
}

// catalogBlind is an in-process source of two incremental streams, "a" and
// "b" (cursor and key "id", three records each), that reads both whatever
// the configured catalog says, as some real connectors do; it honours the
// state of each.
type catalogBlind struct{}

func (catalogBlind) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}
func (catalogBlind) Check(context.Context, json.RawMessage) error { return nil }
func (catalogBlind) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	cat := &protocol.Catalog{}
	for _, name := range []string{"a", "b"} {
		cat.Streams = append(cat.Streams, protocol.Stream{Name: name,
			JSONSchema:         json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}}}`),
			SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental},
			DefaultCursorField: []string{"id"}, SourceDefinedPrimaryKey: [][]string{{"id"}}})
	}
	return cat, nil
}
func (catalogBlind) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	states, err := kit.ParseState(state)
	if err != nil {
		return err
	}
	cursors, err := kit.StreamStates(states)
	if err != nil {
		return err
	}
	for _, name := range []string{"a", "b"} {
		var after struct{ ID int64 }
		if raw, ok := cursors[protocol.StreamDescriptor{Name: name}]; ok {
			if err := json.Unmarshal(raw, &after); err != nil {
				return err
			}
		}
		for id := after.ID + 1; id <= 3; id++ {
			if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: name, EmittedAt: 1,
				Data: fmt.Appendf(nil, `{"id":%d,"name":"%s%d"}`, id, name, id)}}); err != nil {
				return err
			}
		}
		if err := emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream, Stream: &protocol.StreamState{
			StreamDescriptor: protocol.StreamDescriptor{Name: name}, StreamState: json.RawMessage(`{"id":3}`)}}}); err != nil {
			return err
		}
	}
	return nil
}

// TestNoCacheSendsOnlyTheStreamsAsked: with no cache, a source that reads
// streams it was not asked for does not get them into the destination, nor
// their states into the destination's state (a destination drops the
// records of a stream its catalog lacks and may still echo the state: the
// next Write that asked for the stream resumed after records never
// written). Read skips them the same way.
func TestNoCacheSendsOnlyTheStreamsAsked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, err := source.New(ctx, "source-catalog-blind", connector.WithGoConnector(catalogBlind{}), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	dst := newLocalJSON(t, out, nil)
	states := openCache(t)
	res, err := dst.Write(ctx, src, destination.NoCache(), destination.StateCache(states), destination.Streams("a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, sentB := res.RecordsSent["b"]; sentB || res.RecordsSent["a"] != 3 {
		t.Errorf("sent %v, want the 3 records of a only", res.RecordsSent)
	}
	if st, err := res.State.State(ctx, "b"); err != nil || st != nil {
		t.Errorf("a state of b, which was not asked for, was stored: %+v, %v", st, err)
	}
	if _, err := dst.Write(ctx, src, destination.NoCache(), destination.StateCache(states), destination.Streams("a", "b")); err != nil {
		t.Fatal(err)
	}
	if n, _ := fileIDs(t, out, "b"); n != 3 {
		t.Fatalf("%d records of b in the destination, want 3", n)
	}
}

// TestNoCacheReplaceNeedsFullRefresh: with no cache, replace (overwrite)
// on a stream read incrementally would replace the destination's table with
// only the records after the state: it is refused, as the cache refuses it,
// until the Write is a full refresh.
func TestNoCacheReplaceNeedsFullRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	out := t.TempDir()
	states := openCache(t)
	src := newFaker(t, 300, "users")
	dst := newLocalJSON(t, out, nil)
	write := func(opts ...destination.WriteOption) (*destination.WriteResult, error) {
		return dst.Write(ctx, src, append([]destination.WriteOption{destination.NoCache(), destination.StateCache(states),
			destination.Strategy(cache.StrategyReplace)}, opts...)...)
	}
	if _, err := write(destination.ForceFullRefresh()); err != nil {
		t.Fatal(err)
	}
	src.SetConfig(fakerConfig(500))
	res, err := write()
	if !errors.Is(err, cache.ErrStrategy) || res.TotalSent() != 0 {
		t.Errorf("incremental replace: sent %v, %v; want a *cacheerr.StrategyError and nothing sent", res.RecordsSent, err)
	}
	if n, _ := fileIDs(t, out, "users"); n != 300 {
		t.Fatalf("%d users in the destination after the refused write, want the 300 it had", n)
	}
	if _, err := write(destination.ForceFullRefresh()); err != nil {
		t.Fatal(err)
	}
	if n, ids := fileIDs(t, out, "users"); n != 500 {
		t.Fatalf("%d users after a full refresh, want 500", n)
	} else {
		wantOnce(t, ids, 500)
	}
}
