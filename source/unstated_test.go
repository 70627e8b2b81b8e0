package source_test

import (
	"context"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/testconnectors/unstated"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/source"
)

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
			src := unstated.NewSource(t, tc.stated, &log)
			var res *source.ReadResult
			var err error
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
			unstated.CheckWarned(t, log.String(), tc.want, 2)
		})
	}
}
