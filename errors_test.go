package goairbyte_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// fakerSource is the in-process faker with a small config, in an
// Environment of its own.
func fakerSource(t *testing.T, opts ...connector.Option) *goairbyte.Source {
	t.Helper()
	src, err := goairbyte.GetSource(context.Background(), "source-faker", append([]connector.Option{
		connector.WithEnvironment(goairbyte.NewEnvironment()),
		connector.WithConfig(map[string]any{"count": 5, "seed": 1}),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// wantNotFound holds err to a *protocol.StreamNotFoundError for stream
// that matches goairbyte.ErrStreamNotFound.
func wantNotFound(t *testing.T, what string, err error, stream string) {
	t.Helper()
	var nf *protocol.StreamNotFoundError
	if !errors.Is(err, goairbyte.ErrStreamNotFound) || !errors.As(err, &nf) || nf.Stream != stream {
		t.Errorf("%s: got %v, want a *protocol.StreamNotFoundError for %q matching goairbyte.ErrStreamNotFound", what, err, stream)
		return
	}
	t.Logf("%s: %v", what, err)
}

// errors.Is(err, goairbyte.ErrStreamNotFound) holds on every path that
// looks a stream up by name and does not find it: in the source's
// catalog, in a read's result, in the cache, and in what a destination is
// asked to write (package source tests the paths it does not export).
func TestStreamNotFoundEverywhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, err := goairbyte.NewLocalCache(ctx, "notfound", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// The source's catalog.
	src := fakerSource(t)
	for _, err := range src.Records(ctx, "nope") {
		wantNotFound(t, "Records", err, "nope")
		break
	}
	wantNotFound(t, "SelectStreams", src.SelectStreams(ctx, "users", "nope"), "nope")
	_, err = src.Read(ctx, source.UseCache(c), source.NoProgress(), source.Streams("nope"))
	wantNotFound(t, "Read with source.Streams", err, "nope")
	// A key or cursor override for a stream the catalog lacks (a typo)
	// would read the stream without the key it was meant to merge on.
	keyed := fakerSource(t)
	keyed.SetPrimaryKey("usres", []string{"id"})
	_, err = keyed.Read(ctx, source.UseCache(c), source.NoProgress(), source.Streams("users"))
	wantNotFound(t, "Read after SetPrimaryKey", err, "usres")
	keyed.SetPrimaryKey("usres")
	keyed.SetCursorField("usres", "updated_at")
	_, err = keyed.Read(ctx, source.UseCache(c), source.NoProgress(), source.Streams("users"))
	wantNotFound(t, "Read after SetCursorField", err, "usres")
	keyed.SetCursorField("usres")

	// A selection made before the config is known is checked when it is.
	early, err := goairbyte.GetSource(ctx, "source-faker", connector.WithEnvironment(goairbyte.NewEnvironment()),
		connector.WithStreams("nope"))
	if err != nil {
		t.Fatal(err)
	}
	if err := early.SetConfig(map[string]any{"count": 5, "seed": 1}); err != nil {
		t.Fatal(err)
	}
	_, err = early.SelectedStreams(ctx)
	wantNotFound(t, "SelectedStreams of connector.WithStreams", err, "nope")
	_, err = early.Read(ctx, source.UseCache(c), source.NoProgress())
	wantNotFound(t, "Read of connector.WithStreams", err, "nope")

	// A read's result and the cache.
	res, err := src.Read(ctx, source.UseCache(c), source.NoProgress(), source.Streams("users"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = res.Stream(ctx, "nope")
	wantNotFound(t, "ReadResult.Stream", err, "nope")
	// products is a stream of the source, but not of this read.
	_, err = res.Stream(ctx, "products")
	wantNotFound(t, "ReadResult.Stream of a stream not read", err, "products")
	_, err = c.Dataset(ctx, "nope")
	wantNotFound(t, "Cache.Dataset", err, "nope")

	// What a destination is asked to write.
	dst, err := goairbyte.NoopDestination(ctx, connector.WithEnvironment(goairbyte.NewEnvironment()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = dst.Write(ctx, res, destination.Streams("nope"), destination.NoProgress())
	wantNotFound(t, "Write of a ReadResult", err, "nope")
	_, err = dst.Write(ctx, src, destination.Streams("nope"), destination.UseCache(c), destination.NoProgress())
	wantNotFound(t, "Write of a Source through a cache", err, "nope")
	_, err = dst.Write(ctx, src, destination.Streams("nope"), destination.NoCache(), destination.StateCache(c), destination.NoProgress())
	wantNotFound(t, "Write of a Source with no cache", err, "nope")

	// A dataset whose table was dropped by hand since.
	users, err := res.Stream(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecSQL(ctx, "DROP TABLE "+users.QualifiedTableName()); err != nil {
		t.Fatal(err)
	}
	_, err = users.Count(ctx)
	wantNotFound(t, "Dataset.Count of a dropped table", err, "users")
	_, err = users.Columns(ctx)
	wantNotFound(t, "Dataset.Columns of a dropped table", err, "users")
	for _, err := range users.Records(ctx) {
		wantNotFound(t, "Dataset.Records of a dropped table", err, "users")
		break
	}
	for _, err := range users.RecordLines(ctx, nil) {
		wantNotFound(t, "Dataset.RecordLines of a dropped table", err, "users")
		break
	}
	_, err = res.Stream(ctx, "users")
	wantNotFound(t, "ReadResult.Stream of a dropped table", err, "users")
	_, err = dst.Write(ctx, res, destination.NoProgress())
	wantNotFound(t, "Write of a ReadResult whose table was dropped", err, "users")

	// The error names what there is.
	var nf *protocol.StreamNotFoundError
	if _, err := res.Stream(ctx, "nope"); !errors.As(err, &nf) || !slices.Contains(nf.Available, "users") {
		t.Errorf("available streams: %v", err)
	}
}
