package destination_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/testconnectors/unstated"
	"github.com/x/goairbyte/internal/testenv"
)

// TestWriteNoCacheWarnsOfRecordsWithNoState: with NoCache, a stream whose
// records came with no state leaves the destination no state to echo for
// it, so the next Write reads it from the start and an append destination
// gets its records again while both Writes succeed. The Write warns of it,
// as a Read does, naming the stream, and of none that had a state.
func TestWriteNoCacheWarnsOfRecordsWithNoState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		stated []string
		want   string // "" for no warning
	}{
		{name: "one stream", stated: []string{"events"}, want: "stream=clicks"},
		{name: "all stated", stated: []string{"events", "clicks"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log testenv.Buffer
			src := unstated.NewSource(t, tc.stated, &log)
			out := t.TempDir()
			dst, states := newLocalJSON(t, out, nil), openCache(t)
			var second *destination.WriteResult
			var err error
			for range 2 {
				if second, err = dst.Write(ctx, src, destination.NoCache(), destination.StateCache(states), destination.NoProgress()); err != nil {
					t.Fatal(err)
				}
			}
			// What the warning is about: the second Write sent the
			// stream without a state again, and the destination holds
			// its records twice.
			for _, stream := range []string{"events", "clicks"} {
				wantSent, wantLines := int64(2), 4
				if slices.Contains(tc.stated, stream) {
					wantSent, wantLines = 0, 2
				}
				b, err := os.ReadFile(filepath.Join(out, "_airbyte_raw_"+stream+".jsonl"))
				if err != nil {
					t.Fatal(err)
				}
				if n := bytes.Count(b, []byte("\n")); second.RecordsSent[stream] != wantSent || n != wantLines {
					t.Errorf("%s: the second write sent %d, the file holds %d lines; want %d and %d", stream, second.RecordsSent[stream], n, wantSent, wantLines)
				}
			}
			unstated.CheckWarned(t, log.String(), tc.want, 2)
		})
	}
}
