package source_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/testconnectors/twoway"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/source"
)

// TestKitSourceWithAnEmptyStream: a kit source that says nothing of how
// its streams end (no STATE, no status), one of them empty, is read into
// DuckDB as the Python CDK's connectors are: the kit ends its streams, so
// the read succeeds, the empty stream's table is replaced by an empty one
// and nobody is told to emit statuses. As a built binary and in process.
func TestKitSourceWithAnEmptyStream(t *testing.T) {
	t.Parallel()
	bin := testenv.BuildBinary(t, "./internal/testconnectors/twoway/source-twoway")
	for name, how := range map[string][]connector.Option{
		"binary":     {connector.WithLocalExecutable(bin), connector.WithLogDir(t.TempDir())},
		"in process": {connector.WithGoConnector(twoway.Connector{})},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := openDuckDB(t)
			var log testenv.Buffer
			read := func(mode string) (*source.ReadResult, error) {
				src, err := source.New(ctx, "source-twoway", append([]connector.Option{connector.WithConfig(map[string]any{"mode": mode}),
					connector.WithLogger(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelWarn})))}, how...)...)
				if err != nil {
					t.Fatal(err)
				}
				return src.Read(ctx, source.UseCache(c), source.NoProgress())
			}
			// Two records in each stream first, ended by a state of
			// "items" only.
			if _, err := read("ok"); err != nil {
				t.Fatal(err)
			}
			res, err := read("quiet")
			if err != nil {
				t.Fatalf("a read with an empty stream: %v", err)
			}
			for stream, want := range map[string]int64{"items": 2, "empty": 0} {
				if n := count(t, ctx, res, stream); n != want {
					t.Errorf("%s: %d rows, want %d", stream, n, want)
				}
			}
			if strings.Contains(log.String(), "level=WARN") {
				t.Errorf("warnings of a kit source's read:\n%s", log.String())
			}
		})
	}
}
