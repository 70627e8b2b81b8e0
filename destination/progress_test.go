package destination_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/source"
)

// finals collects the final snapshots a listener receives.
type finals struct {
	mu    sync.Mutex
	snaps []progress.Snapshot
}

func (f *finals) listen(s progress.Snapshot) {
	if s.Done {
		f.mu.Lock()
		f.snaps = append(f.snaps, s)
		f.mu.Unlock()
	}
}

// checkWriteProgress checks the one final snapshot against the result: per
// stream, records read (from the source, or taken from the cache), sent
// (written) and confirmed, and the states the destination echoed; and the
// one summary line in out.
func checkWriteProgress(t *testing.T, f *finals, out *bytes.Buffer, res *destination.WriteResult, read map[string]int64, states bool) {
	t.Helper()
	if len(f.snaps) != 1 {
		t.Fatalf("%d final snapshots, want 1: one tracker for the whole Write", len(f.snaps))
	}
	s := f.snaps[0]
	if s.Operation != progress.OpWrite || s.Connector != "destination-local-json" || s.Err != nil {
		t.Fatalf("final snapshot %+v", s)
	}
	for _, st := range s.Streams {
		if st.RecordsRead != read[st.Name] {
			t.Errorf("%s: %d records read, want %d", st.Name, st.RecordsRead, read[st.Name])
		}
		if st.RecordsWritten != res.RecordsSent[st.Name] || st.RecordsWritten == 0 {
			t.Errorf("%s: %d written, the Write sent %d", st.Name, st.RecordsWritten, res.RecordsSent[st.Name])
		}
		if st.RecordsConfirmed != res.RecordsConfirmed[st.Name] || st.RecordsConfirmed != st.RecordsWritten {
			t.Errorf("%s: %d confirmed, the Write confirmed %d of %d", st.Name, st.RecordsConfirmed, res.RecordsConfirmed[st.Name], st.RecordsWritten)
		}
		if states && st.StatesCommitted == 0 {
			t.Errorf("%s: no destination state committed", st.Name)
		}
		if st.TimeToFirstRecord <= 0 {
			t.Errorf("%s: no time to first record", st.Name)
		}
	}
	if len(s.Streams) != len(res.RecordsSent) {
		t.Errorf("streams %+v, sent %v", s.Streams, res.RecordsSent)
	}
	text := out.String()
	if strings.Count(text, "Wrote ") != 1 || strings.Contains(text, "Read ") || strings.Contains(text, "\r") {
		t.Fatalf("want exactly one summary line, of the write, got:\n%q", text)
	}
	if !strings.Contains(text, "Wrote 300 records to destination-local-json") || !strings.Contains(text, "300 confirmed") {
		t.Errorf("summary %q", text)
	}
}

func TestWriteProgress(t *testing.T) {
	t.Setenv("NO_LIVE_PROGRESS", "")
	ctx := context.Background()
	for _, mode := range []string{"cache", "no-cache"} {
		t.Run(mode, func(t *testing.T) {
			src := newFaker(t, 150, "users", "purchases")
			dst := newLocalJSON(t, t.TempDir(), nil)
			var f finals
			var out bytes.Buffer
			opts := []destination.WriteOption{destination.StateCache(openCache(t)),
				destination.WithProgress(progress.WithListener(f.listen), progress.WithOutput(&out))}
			if mode == "cache" {
				opts = append(opts, destination.UseCache(openCache(t)))
			} else {
				opts = append(opts, destination.NoCache())
			}
			res, err := dst.Write(ctx, src, opts...)
			if err != nil {
				t.Fatal(err)
			}
			checkWriteProgress(t, &f, &out, res, map[string]int64{"users": 150, "purchases": 150}, true)
		})
	}
}

// A Write of a ReadResult counts the rows it takes from the cache as read.
func TestWriteProgressFromReadResult(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rr, err := newFaker(t, 150, "users", "purchases").Read(ctx, source.UseCache(openCache(t)), source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	var f finals
	var out bytes.Buffer
	res, err := newLocalJSON(t, t.TempDir(), nil).Write(ctx, rr,
		destination.WithProgress(progress.WithListener(f.listen), progress.WithOutput(&out), progress.WithLiveProgress(false)))
	if err != nil {
		t.Fatal(err)
	}
	checkWriteProgress(t, &f, &out, res, rr.StreamRecords(), true)
}

// A Write of a ReadResult counts, as bytes read, the data of the records it
// takes from the cache, as a read counts a record's data, not the RECORD
// lines it sends: the MB/s of the two mean the same.
func TestWriteFromCacheCountsDataBytes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rr, err := newFaker(t, 150, "users", "purchases").Read(ctx, source.UseCache(openCache(t)), source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	var want int64 // the data of every exported line, decoded
	for _, name := range rr.ProcessedStreams() {
		ds, err := rr.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		for r, err := range ds.After("").RecordLines(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			var m struct {
				Record struct{ Data json.RawMessage }
			}
			if err := json.Unmarshal(r.Line, &m); err != nil {
				t.Fatal(err)
			}
			want += int64(len(m.Record.Data))
		}
	}
	var f finals
	if _, err := newLocalJSON(t, t.TempDir(), nil).Write(ctx, rr,
		destination.WithProgress(progress.WithListener(f.listen), progress.WithRenderer(nil))); err != nil {
		t.Fatal(err)
	}
	if len(f.snaps) != 1 {
		t.Fatalf("%d final snapshots", len(f.snaps))
	}
	if got := f.snaps[0].Total.BytesRead; got != want || want == 0 {
		t.Fatalf("the Write counted %d bytes read from the cache, the records' data is %d bytes", got, want)
	}
}

// With WithTracker the caller's tracker gets the Write's counts, and the
// Write neither finishes it nor makes one of its own from WithProgress:
// the caller finishes it, once.
func TestWriteIntoCallersTracker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var out bytes.Buffer
	var mine, ignored finals
	tr := progress.New(progress.OpWrite, "my-pipeline", progress.WithOutput(&out), progress.WithLiveProgress(false),
		progress.WithListener(mine.listen))
	src := newFaker(t, 150, "users", "purchases")
	res, err := newLocalJSON(t, t.TempDir(), nil).Write(ctx, src, destination.UseCache(openCache(t)),
		destination.StateCache(openCache(t)), destination.WithTracker(tr), destination.WithProgress(progress.WithListener(ignored.listen)))
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || len(mine.snaps) != 0 {
		t.Fatalf("Write finished the caller's tracker: %q", out.String())
	}
	if len(ignored.snaps) != 0 {
		t.Fatalf("Write made a tracker of its own from WithProgress: %+v", ignored.snaps)
	}
	final := tr.Finish(nil)
	if final.Total.RecordsWritten != res.TotalSent() || final.Total.RecordsConfirmed != res.TotalConfirmed() || res.TotalSent() != 300 {
		t.Fatalf("caller's tracker: %+v; the Write sent %d, confirmed %d", final.Total, res.TotalSent(), res.TotalConfirmed())
	}
	for _, st := range final.Streams {
		if st.RecordsWritten != res.RecordsSent[st.Name] || st.RecordsConfirmed != res.RecordsConfirmed[st.Name] || st.StatesCommitted == 0 {
			t.Errorf("%s: %+v; the Write sent %d, confirmed %d", st.Name, st.Stats, res.RecordsSent[st.Name], res.RecordsConfirmed[st.Name])
		}
	}
	if !strings.HasPrefix(out.String(), "Wrote 300 records to my-pipeline") || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("summary %q", out.String())
	}
}
