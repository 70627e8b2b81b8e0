package destination_test

import (
	"context"
	"encoding/json"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// waitingSource sends a record and a state, then waits until the
// destination has the state (or its context ends): a slow source, such as
// one tailing a change log, whose next record may be minutes away.
type waitingSource struct{ gotState <-chan struct{} }

func (waitingSource) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (waitingSource) Check(context.Context, json.RawMessage) error { return nil }

func (waitingSource) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	return &protocol.Catalog{Streams: []protocol.Stream{{Name: "items",
		JSONSchema:         json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}}}}, nil
}

func (s waitingSource) Read(ctx context.Context, _ json.RawMessage, _ *protocol.ConfiguredCatalog, _ json.RawMessage,
	emit func(*protocol.Message) error) error {
	for _, m := range []*protocol.Message{
		{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: json.RawMessage(`{"id":1}`), EmittedAt: 1}},
		{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream, Stream: &protocol.StreamState{
			StreamDescriptor: protocol.StreamDescriptor{Name: "items"}, StreamState: json.RawMessage(`{"id":1}`)}}},
	} {
		if err := emit(m); err != nil {
			return err
		}
	}
	select {
	case <-s.gotState:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// signallingDestination echoes every state, and says when the first came.
type signallingDestination struct {
	once     *sync.Once
	gotState chan<- struct{}
}

func (signallingDestination) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (signallingDestination) Check(context.Context, json.RawMessage) error { return nil }

func (d signallingDestination) Write(_ context.Context, _ json.RawMessage, _ *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	for m, err := range input {
		if err != nil {
			return err
		}
		if m.Type == protocol.TypeState {
			if err := emit(m); err != nil {
				return err
			}
			d.once.Do(func() { close(d.gotState) })
		}
	}
	return nil
}

// TestWriteNoCacheSlowSource: with NoCache, the source's messages waited
// in a 256 KiB buffer until it filled or the source ended, so a slow
// source's states reached the destination only at the end: nothing was
// confirmed meanwhile, and a Write cancelled (or killed) after an hour had
// confirmed nothing. A state now goes to the destination as it comes; here
// the source waits for the destination to have its state, which it never
// got before (the context's deadline is only a guard against that hang).
func TestWriteNoCacheSlowSource(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got := make(chan struct{})
	src, err := source.New(ctx, "source-waiting", connector.WithGoConnector(waitingSource{got}), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	dst, err := destination.New(ctx, "destination-signalling",
		connector.WithGoConnector(signallingDestination{&sync.Once{}, got}), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := dst.Write(ctx, src, destination.NoCache(), destination.NoStateCache())
	if err != nil {
		t.Fatalf("the destination did not get the state while the source waited for it: %v", err)
	}
	if res.RecordsConfirmed["items"] != 1 {
		t.Fatalf("confirmed %v, want 1 item", res.RecordsConfirmed)
	}
}
