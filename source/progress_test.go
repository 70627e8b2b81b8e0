package source_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// snapshots collects what a progress listener receives.
type snapshots struct {
	mu    sync.Mutex
	all   []progress.Snapshot
	final []progress.Snapshot
}

func (s *snapshots) listen(snap progress.Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all = append(s.all, snap)
	if snap.Done {
		s.final = append(s.final, snap)
	}
}

// A Read into DuckDB reports to a listener, per stream, exactly the records
// it loaded, their bytes, the rows written into the cache, the states
// committed and the stream's status; the summary line is written once on a
// writer that is not a terminal.
func TestReadReportsProgress(t *testing.T) {
	t.Setenv("NO_LIVE_PROGRESS", "")
	ctx := context.Background()
	c := openDuckDB(t)
	src := fakerSource(t, map[string]any{"count": 250, "seed": 3, "records_per_slice": 100},
		connector.WithStreams("users", "purchases"))
	var snaps snapshots
	var out bytes.Buffer
	res, err := src.Read(ctx, source.UseCache(c), source.WithProgress(
		progress.WithListener(snaps.listen), progress.WithOutput(&out)))
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps.final) != 1 {
		t.Fatalf("the listener got %d final snapshots, want 1", len(snaps.final))
	}
	final := snaps.final[0]
	if final.Operation != progress.OpRead || final.Connector != "source-faker" || final.Err != nil {
		t.Fatalf("final snapshot %+v", final)
	}
	if len(final.Streams) != 2 || final.Streams[0].Name != "users" || final.Streams[1].Name != "purchases" {
		t.Fatalf("streams %+v, want users then purchases", final.Streams)
	}
	want := res.StreamRecords()
	for _, st := range final.Streams {
		if st.RecordsRead != want[st.Name] || st.RecordsRead == 0 {
			t.Errorf("%s: %d records read, the read loaded %d", st.Name, st.RecordsRead, want[st.Name])
		}
		if st.RecordsWritten != want[st.Name] {
			t.Errorf("%s: %d records written, the read loaded %d", st.Name, st.RecordsWritten, want[st.Name])
		}
		// Each record's data is a JSON object of a few fields.
		if st.BytesRead < 20*st.RecordsRead {
			t.Errorf("%s: %d bytes for %d records", st.Name, st.BytesRead, st.RecordsRead)
		}
		if st.StatesCommitted == 0 {
			t.Errorf("%s: no state committed", st.Name)
		}
		if st.Status != protocol.StatusComplete {
			t.Errorf("%s: status %q, want COMPLETE", st.Name, st.Status)
		}
		if st.TimeToFirstRecord <= 0 || st.TimeToFirstRecord > final.Elapsed {
			t.Errorf("%s: time to first record %v of %v", st.Name, st.TimeToFirstRecord, final.Elapsed)
		}
	}
	if final.Total.RecordsRead != res.RecordsProcessed() {
		t.Errorf("total %d, read %d", final.Total.RecordsRead, res.RecordsProcessed())
	}

	// The summary line, once, last; plain progress lines (every 5 s) are
	// unlikely in so short a read, but allowed.
	text := out.String()
	if n := strings.Count(text, "Read "); n != 1 || strings.Count(text, "\r") != 0 {
		t.Fatalf("want one summary line and no terminal control, got:\n%q", text)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "Read 500 records from source-faker in ") ||
		!strings.HasSuffix(last, ": users 250, purchases 250") {
		t.Fatalf("summary line %q", last)
	}
}

// NoProgress writes nothing; a listener still gets every snapshot. A read
// that fails still ends with a final snapshot carrying the error.
func TestReadNoProgressAndFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := fakerSource(t, map[string]any{"count": 10})
	var snaps snapshots
	_, err := src.Read(ctx, source.UseCache(openDuckDB(t)), source.Streams("no_such_stream"),
		source.NoProgress(), source.WithProgress(progress.WithListener(snaps.listen)))
	if err == nil {
		t.Fatal("a read of an unknown stream succeeded")
	}
	if len(snaps.final) != 1 || snaps.final[0].Err == nil {
		t.Fatalf("final snapshots %+v, want one with the error", snaps.final)
	}
}

// With WithTracker the caller's tracker gets the counts and Read finishes
// nothing: the caller does.
func TestReadIntoCallersTracker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var out bytes.Buffer
	tr := progress.New(progress.OpRead, "my-pipeline", progress.WithOutput(&out), progress.WithLiveProgress(false))
	src := fakerSource(t, map[string]any{"count": 40}, connector.WithStreams("users"))
	res, err := src.Read(ctx, source.UseCache(openDuckDB(t)), source.WithTracker(tr))
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Fatalf("Read finished the caller's tracker: %q", out.String())
	}
	final := tr.Finish(nil)
	if final.Total.RecordsRead != res.RecordsProcessed() || final.Total.RecordsWritten != 40 {
		t.Fatalf("caller's tracker: %+v, read %d", final.Total, res.RecordsProcessed())
	}
	if !strings.HasPrefix(out.String(), "Read 40 records from my-pipeline") || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("summary %q", out.String())
	}
}

// landingSource emits records of "items", each followed by its state, and
// at the sixth waits until the tracker shows rows of the stream written and
// states committed: a read must report them as the cache commits them, not
// all at the end.
type landingSource struct{ tr *progress.Tracker }

func (landingSource) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}
func (landingSource) Check(context.Context, json.RawMessage) error { return nil }
func (landingSource) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	return &protocol.Catalog{Streams: []protocol.Stream{{Name: "items", JSONSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`),
		SupportedSyncModes:  []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental},
		SourceDefinedCursor: new(true), DefaultCursorField: []string{"id"}}}}, nil // appended: rows count as they commit
}
func (s landingSource) Read(ctx context.Context, _ json.RawMessage, _ *protocol.ConfiguredCatalog, _ json.RawMessage, emit func(*protocol.Message) error) error {
	for i := 1; i <= 10; i++ {
		if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: json.RawMessage(fmt.Sprintf(`{"id":%d}`, i)), EmittedAt: 1}}); err != nil {
			return err
		}
		if err := emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
			Stream: &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: "items"}, StreamState: json.RawMessage(fmt.Sprintf(`{"id":%d}`, i))}}}); err != nil {
			return err
		}
		if i != 6 {
			continue
		}
		// Batches of two: some have committed once the loader has taken
		// these messages. Wait for their report, not for the end. The
		// in-process executor hands messages over as the connector emits
		// (a batch at a time, while the caller keeps up), so the wait
		// emits a LOG line now and then to let the last ones through.
		deadline := time.Now().Add(10 * time.Second)
		for st := items(s.tr); st.RecordsWritten == 0 || st.StatesCommitted == 0; st = items(s.tr) {
			if time.Now().After(deadline) {
				return fmt.Errorf("while the read runs, %d rows reported written and %d states committed", st.RecordsWritten, st.StatesCommitted)
			}
			if err := emit(&protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: protocol.LevelTrace, Message: "waiting"}}); err != nil {
				return err
			}
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

func items(tr *progress.Tracker) progress.StreamSnapshot {
	for _, st := range tr.Snapshot().Streams {
		if st.Name == "items" {
			return st
		}
	}
	return progress.StreamSnapshot{}
}

func TestReadReportsRowsAsTheyLand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, err := cache.New(ctx, duckdb.NewConnector(filepath.Join(t.TempDir(), "landing.duckdb"), duckdb.WithBatchSize(2)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tr := progress.New(progress.OpRead, "source-landing", progress.WithRenderer(nil))
	src, err := source.New(ctx, "source-landing", connector.WithGoConnector(landingSource{tr}), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Read(ctx, source.UseCache(c), source.WithTracker(tr)); err != nil {
		t.Fatal(err)
	}
	final := tr.Finish(nil)
	if got, states := final.Total.RecordsWritten, final.Total.StatesCommitted; got != 10 || states != 10 {
		t.Fatalf("%d rows written and %d states committed in the end, want 10 of each (reported as they landed, and the rest at the end, once)", got, states)
	}
}
