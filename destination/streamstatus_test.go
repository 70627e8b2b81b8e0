package destination_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// cdkDest checks its input as Airbyte's destination CDKs do, and fails as
// they fail:
//   - a RECORD, STATE or stream status of a stream (namespace and name)
//     not in the configured catalog is refused, as the bulk CDK's catalog
//     lookup refuses it (airbyte-cdk/bulk/core/load DestinationCatalog);
//   - a RECORD after its stream's terminal status is refused;
//   - an input that ends without a terminal status (COMPLETE or
//     INCOMPLETE) for every configured stream fails with the bulk CDK's
//     message (SyncManager.markInputConsumed).
//
// It echoes every state and keeps, per stream, the statuses it got.
type cdkDest struct {
	mu       sync.Mutex
	statuses map[string][]protocol.StreamStatus // by "namespace.name"
	records  map[string]int64
}

func (c *cdkDest) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (c *cdkDest) Check(context.Context, json.RawMessage) error { return nil }

func (c *cdkDest) Write(_ context.Context, _ json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statuses, c.records = map[string][]protocol.StreamStatus{}, map[string]int64{}
	desc := func(namespace, name string) string { return namespace + "." + name }
	known := map[string]bool{}
	for _, cs := range catalog.Streams {
		known[desc(cs.Stream.Namespace, cs.Stream.Name)] = true
	}
	ended := map[string]bool{}
	for m, err := range input {
		if err != nil {
			return err
		}
		switch {
		case m.Type == protocol.TypeRecord && m.Record != nil:
			d := desc(m.Record.Namespace, m.Record.Stream)
			if !known[d] {
				return fmt.Errorf("Stream not found: %s", d)
			}
			if ended[d] {
				return fmt.Errorf("stream %s received a record after its terminal status", d)
			}
			c.records[d]++
		case m.Type == protocol.TypeState && m.State != nil:
			if m.State.Stream != nil {
				sd := m.State.Stream.StreamDescriptor
				if !known[desc(sd.Namespace, sd.Name)] {
					return fmt.Errorf("Stream not found: %s", desc(sd.Namespace, sd.Name))
				}
			}
			if err := emit(m); err != nil {
				return err
			}
		case m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.StreamStatus != nil:
			st := m.Trace.StreamStatus
			d := desc(st.StreamDescriptor.Namespace, st.StreamDescriptor.Name)
			if !known[d] {
				return fmt.Errorf("a stream status (%s) has been detected for a stream not present in the catalog", d)
			}
			c.statuses[d] = append(c.statuses[d], st.Status)
			if st.Status == protocol.StatusComplete || st.Status == protocol.StatusIncomplete {
				ended[d] = true
			}
		}
	}
	var missing []string
	for d := range known {
		if !ended[d] {
			missing = append(missing, d)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("Input was fully read, but some streams did not receive a terminal stream status message. This likely indicates an error in the source or platform. Streams without a status message: %v", missing)
	}
	return nil
}

// statusesOf returns the statuses each stream got in the last Write.
func (c *cdkDest) statusesOf() map[string][]protocol.StreamStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.statuses
}

// TestWriteEndsStreamsWithStatus: the Airbyte platform ends every stream of
// a sync whose source succeeded with a TRACE STREAM_STATUS COMPLETE, and
// Airbyte's destinations depend on it (the bulk CDK fails without; the
// typing-deduping CDK swaps a refreshed table in only for a COMPLETE
// stream). A Write sent none: each Write below failed at cdkDest with
// "some streams did not receive a terminal stream status message". Now a
// Write from a cache and one with no cache end each stream with one
// COMPLETE, after its records.
func TestWriteEndsStreamsWithStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openCache(t)
	rr := cachedUsersAndPurchases(t, c)
	dest := &cdkDest{}
	d := goDestination(t, "destination-cdk", dest)
	writes := []struct {
		name string
		from destination.Input
		opts []destination.WriteOption
	}{
		{"replace from the cache", rr, []destination.WriteOption{destination.Strategy(cache.StrategyReplace)}},
		{"append from the cache, nothing new", rr, []destination.WriteOption{destination.Strategy(cache.StrategyAppend)}},
		{"with no cache", newFaker(t, 30, "users", "purchases"), []destination.WriteOption{destination.NoCache(), destination.StateCache(c)}},
	}
	for _, w := range writes {
		if _, err := d.Write(ctx, w.from, append(w.opts, destination.NoProgress())...); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		got := dest.statusesOf()
		for _, s := range []string{".users", ".purchases"} {
			if !slices.Equal(got[s], []protocol.StreamStatus{protocol.StatusComplete}) {
				t.Errorf("%s: stream %s got statuses %v, want one COMPLETE", w.name, s, got[s])
			}
		}
	}
}

// TestNoCacheIncompleteStreamEndsIncomplete: with no cache, a source that
// leaves a stream incomplete (its lines did not all parse) has the
// destination told INCOMPLETE, not COMPLETE, so that a real destination
// keeps its table rather than swap in part of the records; the destination
// still ends well, and the Write fails saying the stream is incomplete.
func TestNoCacheIncompleteStreamEndsIncomplete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dest := &cdkDest{}
	_, err := goDestination(t, "destination-cdk", dest).Write(ctx, malformedSource(t), destination.NoCache(), destination.StateCache(openCache(t)), destination.NoProgress())
	if !errors.Is(err, source.ErrIncompleteStream) {
		t.Fatalf("got %v, want the stream incomplete", err)
	}
	if got := dest.statusesOf()[".items"]; !slices.Equal(got, []protocol.StreamStatus{protocol.StatusIncomplete}) {
		t.Fatalf("stream items got statuses %v, want one INCOMPLETE", got)
	}
}

// goDestination runs impl in process as the destination name, with an
// empty config.
func goDestination(t *testing.T, name string, impl any) *destination.Destination {
	t.Helper()
	d, err := destination.New(context.Background(), name, connector.WithGoConnector(impl), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// malformedSource is source-reticent reading stream "items", some of whose
// RECORD lines do not parse: the stream ends incomplete.
func malformedSource(t *testing.T) *source.Source {
	t.Helper()
	src, err := source.New(context.Background(), "source-reticent",
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./internal/testconnectors/reticent")),
		connector.WithConfig(map[string]any{"mode": "read-malformed"}), connector.WithStreams("items"))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// cachedUsersAndPurchases reads 30 records of the faker's users and
// purchases into c.
func cachedUsersAndPurchases(t *testing.T, c *cache.Cache) *source.ReadResult {
	t.Helper()
	rr, err := newFaker(t, 30, "users", "purchases").Read(context.Background(), source.UseCache(c), source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	return rr
}
