package source_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/source"
)

// reticent is the test connector that keeps its reasons out of the
// protocol's error messages, in the given mode.
func reticent(t *testing.T, mode string) *source.Source {
	t.Helper()
	return newSource(t, "source-reticent",
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./internal/testconnectors/reticent")),
		connector.WithConfig(map[string]any{"mode": mode}))
}

// TestReasonsOutsideTheProtocol: a connector that fails with its reason
// only in an ERROR log message or on stderr, or answers read with
// CONNECTION_STATUS FAILED, or fails its check with no message, gets a
// typed error that carries that reason.
func TestReasonsOutsideTheProtocol(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct{ mode, want string }{
		{"discover-log", "the API key was rejected by api.example.com (401)"},
		{"discover-stderr", "ConnectionError: cannot reach api.example.com"},
	} {
		_, err := reticent(t, c.mode).Discover(ctx)
		var ce *executor.ConnectorError
		if !errors.As(err, &ce) || ce.Missing != "CATALOG" || ce.Reason() != c.want ||
			!strings.Contains(err.Error(), "without a CATALOG message") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want a *ConnectorError missing the CATALOG with reason %q", c.mode, err, c.want)
		}
	}

	_, err := reticent(t, "read-status-failed").Read(ctx, source.UseCache(openDuckDB(t)))
	var ce *executor.ConnectorError
	if !errors.As(err, &ce) || ce.Message != "invalid api key" || ce.FailureType != "config_error" {
		t.Errorf("read answered with CONNECTION_STATUS FAILED: got %v", err)
	}

	err = reticent(t, "check-empty").Check(ctx)
	var cf *connector.CheckFailedError
	if !errors.As(err, &cf) || cf.Message != "401 Unauthorized: the token expired on 2024-01-01" {
		t.Errorf("check FAILED with no message: got %v", err)
	}
}

// TestIncrementalWithoutCursorOrKey: a stream that offers incremental reads
// but has neither a cursor nor a primary key is read in full by the
// default Read (it used to fail: auto picked replace, then refused replace
// for an incremental read).
func TestIncrementalWithoutCursorOrKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := reticent(t, "plain")
	cat, err := src.ConfiguredCatalog(ctx, []string{"events"})
	if err != nil || cat.Streams[0].SyncMode != "full_refresh" {
		t.Fatalf("configured %+v, %v; want full_refresh", cat, err)
	}
	res, err := src.Read(ctx, source.UseCache(openDuckDB(t)))
	if err != nil || res.StreamRecords()["events"] != 1 {
		t.Fatalf("read: %v %v", res, err)
	}
	// With a primary key given, it is still read in full, as a source has
	// no cursor to read it by, and merged (TestReadKeyedStreamWithoutCursor).
	cat, err = src.ConfiguredCatalog(ctx, []string{"events"}, source.PrimaryKey("events", []string{"id"}))
	if err != nil || cat.Streams[0].SyncMode != "full_refresh" || cat.Streams[0].DestinationSyncMode != "append_dedup" {
		t.Fatalf("with a key: %+v, %v", cat, err)
	}
}

// TestKeyOverridesReachRead: SetPrimaryKey and SetCursorField apply to Read
// (and so to destination Writes, which read through the same catalog).
func TestKeyOverridesReachRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := reticent(t, "plain")
	src.SetPrimaryKey("events", []string{"id"})
	src.SetCursorField("events", "id")
	c := openDuckDB(t)
	res, err := src.Read(ctx, source.UseCache(c), source.Streams("events"))
	if err != nil {
		t.Fatal(err)
	}
	cs := res.Catalog().Streams[0]
	if cs.SyncMode != "incremental" || len(cs.PrimaryKey) != 1 || cs.PrimaryKey[0][0] != "id" || cs.CursorField[0] != "id" {
		t.Fatalf("the read's catalog does not carry the overrides: %+v", cs)
	}
	src.SetPrimaryKey("events")
	src.SetCursorField("events")
	cat, _ := src.ConfiguredCatalog(ctx, []string{"events"})
	if cat.Streams[0].SyncMode != "full_refresh" {
		t.Fatalf("cleared overrides still apply: %+v", cat.Streams[0])
	}
}

// TestMalformedLines: RECORD lines that do not parse are counted, the stream
// ends incomplete and no state after them is committed, so the next read
// asks for the lost records again; TolerateMalformed accepts such a read.
func TestMalformedLines(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := reticent(t, "read-malformed")
	c := openDuckDB(t)
	res, err := src.Read(ctx, source.UseCache(c), source.Streams("items"))
	var ie *source.IncompleteStreamError
	if !errors.As(err, &ie) || ie.Stream != "items" || ie.Malformed != 3 || !errors.Is(err, source.ErrIncompleteStream) {
		t.Fatalf("got %v, want the stream incomplete with 3 malformed lines", err)
	}
	if res.MalformedLines()["items"] != 3 || res.StreamRecords()["items"] != 2 {
		t.Fatalf("malformed %v, records %v", res.MalformedLines(), res.StreamRecords())
	}
	state, err := c.SourceState(ctx, src.Name(), []string{"items"})
	if err != nil || !strings.Contains(string(state), `"n":1`) {
		t.Fatalf("committed state %s (%v); want the one before the malformed lines", state, err)
	}

	res, err = src.Read(ctx, source.UseCache(c), source.Streams("items"), source.TolerateMalformed())
	if err != nil || res.MalformedLines()["items"] != 3 {
		t.Fatalf("tolerated: %v %v", res.MalformedLines(), err)
	}
	if state, _ := c.SourceState(ctx, src.Name(), []string{"items"}); !strings.Contains(string(state), `"n":5`) {
		t.Fatalf("tolerated read committed %s, want the last state", state)
	}
}

// TestReadOfNothingKeepsTheTables: a connector that exits 0 having sent
// nothing does not replace the tables of a full refresh with empty ones:
// the cache keeps them and the read reports the streams incomplete.
func TestReadOfNothingKeepsTheTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openDuckDB(t)
	if _, err := reticent(t, "").Read(ctx, source.UseCache(c)); err != nil {
		t.Fatal(err)
	}
	res, err := reticent(t, "read-nothing").Read(ctx, source.UseCache(c))
	var ie *source.IncompleteStreamError
	// The message says how a connector marks a stream done, and that the
	// Python CDK and the kit do it: a connector written without either
	// that emits no state for an empty full-refresh stream meets this
	// error first.
	if !errors.As(err, &ie) || ie.Status != "" || !strings.Contains(err.Error(), "sent nothing") ||
		!strings.Contains(err.Error(), "a connector marks a stream done, an empty one too, with a STATE of it or a TRACE STREAM_STATUS COMPLETE, "+
			"as the Python CDK and goairbyte's kit do") {
		t.Fatalf("got %v, want an *IncompleteStreamError for a stream that got nothing, saying how a connector marks it done", err)
	}
	for _, stream := range []string{"items", "events"} {
		if n := count(t, ctx, res, stream); n != 1 {
			t.Errorf("%s: %d rows, want the 1 row of the first read kept", stream, n)
		}
	}
}
