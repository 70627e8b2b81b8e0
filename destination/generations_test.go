package destination_test

import (
	"context"
	"encoding/json"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/protocol"
)

// catalogDest is a destination that keeps the configured catalog of each
// Write and echoes every state.
type catalogDest struct {
	mu       sync.Mutex
	catalogs []*protocol.ConfiguredCatalog
}

func (c *catalogDest) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (c *catalogDest) Check(context.Context, json.RawMessage) error { return nil }

func (c *catalogDest) Write(_ context.Context, _ json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	c.mu.Lock()
	c.catalogs = append(c.catalogs, catalog)
	c.mu.Unlock()
	return echoStates(input, emit, nil)
}

// echoStates is the Write of a test destination that echoes every state
// at once, seeing each message first with see (when not nil).
func echoStates(input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error, see func(*protocol.Message)) error {
	for m, err := range input {
		if err != nil {
			return err
		}
		if see != nil {
			see(m)
		}
		if m.Type == protocol.TypeState {
			if err := emit(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestCatalogCarriesGenerations: Airbyte's own destinations refuse a
// configured catalog without generation_id ("You must upgrade your
// platform version to use this connector version"), and a Write sent none.
// Each stream now has the sync id, growing from Write to Write; an
// overwrite stream a new generation that it keeps alone, as a full refresh
// on the platform; the other modes generation 0 and every generation kept.
func TestCatalogCarriesGenerations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openCache(t)
	rr := cachedUsersAndPurchases(t, c)
	rec := &catalogDest{}
	d := goDestination(t, "destination-catalog", rec)
	before := time.Now().UnixMilli()
	writes := []struct {
		name      string
		from      destination.Input
		opts      []destination.WriteOption
		mode      protocol.DestinationSyncMode
		overwrite bool
	}{
		{"replace", rr, []destination.WriteOption{destination.Strategy(cache.StrategyReplace)}, protocol.DestinationOverwrite, true},
		{"replace again", rr, []destination.WriteOption{destination.Strategy(cache.StrategyReplace)}, protocol.DestinationOverwrite, true},
		{"append", rr, []destination.WriteOption{destination.Strategy(cache.StrategyAppend)}, protocol.DestinationAppend, false},
		{"merge, with no cache", newFaker(t, 30, "users"), []destination.WriteOption{destination.Strategy(cache.StrategyMerge), destination.NoCache(), destination.StateCache(c)}, protocol.DestinationAppendDedup, false},
	}
	var last int64
	for i, w := range writes {
		if _, err := d.Write(ctx, w.from, append(w.opts, destination.NoProgress())...); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		cat := rec.catalogs[i]
		if len(cat.Streams) == 0 {
			t.Fatalf("%s: no stream in the catalog", w.name)
		}
		for _, cs := range cat.Streams {
			if cs.SyncID == nil || cs.GenerationID == nil || cs.MinimumGenerationID == nil {
				t.Fatalf("%s: stream %s has sync_id %v, generation_id %v, minimum_generation_id %v; want all three", w.name, cs.Stream.Name, cs.SyncID, cs.GenerationID, cs.MinimumGenerationID)
			}
			id, gen, keep := *cs.SyncID, *cs.GenerationID, *cs.MinimumGenerationID
			if cs.DestinationSyncMode != w.mode || id <= last || id < before || id > time.Now().UnixMilli()+1000 {
				t.Errorf("%s: stream %s in mode %s with sync_id %d (the Write before had %d; the first began at %d)", w.name, cs.Stream.Name, cs.DestinationSyncMode, id, last, before)
			}
			if w.overwrite && (gen != id || keep != id) || !w.overwrite && (gen != 0 || keep != 0) {
				t.Errorf("%s: stream %s has generation %d, keeping from %d (sync id %d)", w.name, cs.Stream.Name, gen, keep, id)
			}
		}
		last = *cat.Streams[0].SyncID
	}
}
