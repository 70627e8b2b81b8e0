package goairbyte_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// is holds err to the root sentinel and, when as is not nil, to the root
// type behind as, and logs the error.
func is(t *testing.T, what string, err, sentinel error, as any) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Errorf("%s: got %v, want errors.Is %v", what, err, sentinel)
		return
	}
	if as != nil && !errors.As(err, as) {
		t.Errorf("%s: got %T (%v), want errors.As %T", what, err, err, as)
		return
	}
	t.Logf("%s: %v", what, err)
}

// The sentinels and error types of the root package catch the failures
// they name, provoked for real: a connector process that fails, a config
// that breaks the spec, a DuckDB cache past its memory limit or on a full
// disk, a secret nobody has.
func TestSentinelsThroughTheFacade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := goairbyte.NewEnvironment()
	get := func(t *testing.T, name string, opts ...connector.Option) *goairbyte.Source {
		t.Helper()
		src, err := goairbyte.GetSource(ctx, name, append([]connector.Option{connector.WithEnvironment(env)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}

	t.Run("check failed", func(t *testing.T) {
		t.Parallel()
		src := get(t, "source-checkfailed", connector.WithConfig(map[string]any{}),
			connector.WithLocalExecutable(testenv.BuildBinary(t, "./internal/testconnectors/checkfailed")))
		var ce *connector.CheckFailedError
		is(t, "Check", src.Check(ctx), goairbyte.ErrCheckFailed, &ce)
		if ce != nil && !strings.Contains(ce.Error(), "invalid api key") {
			t.Errorf("the connector's message is lost: %v", ce)
		}
	})

	t.Run("connector exits 1", func(t *testing.T) {
		t.Parallel()
		src := get(t, "source-stderrexit", connector.WithConfig(map[string]any{}),
			connector.WithLocalExecutable(testenv.BuildBinary(t, "./internal/testconnectors/stderrexit")))
		c, err := goairbyte.NewLocalCache(ctx, "exit1", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = src.Read(ctx, source.UseCache(c), source.NoProgress())
		var ce *goairbyte.ConnectorError
		is(t, "Read", err, goairbyte.ErrConnectorFailed, &ce)
		if ce != nil && !strings.Contains(ce.Error(), "connection refused by api.example.com") {
			t.Errorf("the connector's stderr is lost: %v", ce)
		}
	})

	t.Run("config invalid", func(t *testing.T) {
		t.Parallel()
		src := get(t, "source-faker", connector.WithConfig(map[string]any{"count": "many"}))
		var ve *connector.ConfigValidationError
		is(t, "ValidateConfig", src.ValidateConfig(ctx), goairbyte.ErrConfigInvalid, &ve)
		// Check does not validate first: the connector judges, and says
		// FAILED.
		is(t, "Check", src.Check(ctx), goairbyte.ErrCheckFailed, nil)
		c, err := goairbyte.NewLocalCache(ctx, "invalid", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = src.Read(ctx, source.NoProgress(), source.UseCache(c))
		is(t, "Read", err, goairbyte.ErrConfigInvalid, &ve)
	})

	t.Run("no config", func(t *testing.T) {
		t.Parallel()
		src := get(t, "source-faker")
		is(t, "Check", src.Check(ctx), goairbyte.ErrNoConfig, nil)
		_, err := src.AvailableStreams(ctx)
		is(t, "AvailableStreams", err, goairbyte.ErrNoConfig, nil)
	})

	t.Run("invalid option", func(t *testing.T) {
		t.Parallel()
		_, err := goairbyte.GetSource(ctx, "source-faker", connector.WithEnvironment(env),
			connector.WithDockerImage("airbyte/source-faker:6.2.0"), connector.WithLocalExecutable("source-faker"))
		is(t, "GetSource", err, goairbyte.ErrInvalidOption, nil)
		_, err = goairbyte.GetDestination(ctx, "destination-noop", connector.WithEnvironment(env),
			connector.WithStreams("users"))
		is(t, "GetDestination with streams", err, goairbyte.ErrInvalidOption, nil)
	})

	t.Run("incomplete stream", func(t *testing.T) {
		t.Parallel()
		src := get(t, "source-reticent", connector.WithConfig(map[string]any{"mode": "read-nothing"}),
			connector.WithLocalExecutable(testenv.BuildBinary(t, "./internal/testconnectors/reticent")))
		c, err := goairbyte.NewLocalCache(ctx, "incomplete", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = src.Read(ctx, source.UseCache(c), source.NoProgress())
		var ie *goairbyte.IncompleteStreamError
		is(t, "Read", err, goairbyte.ErrIncompleteStream, &ie)
	})

	t.Run("secret not found", func(t *testing.T) {
		t.Parallel()
		_, err := goairbyte.GetSecret(ctx, "GOAIRBYTE_TEST_NO_SUCH_SECRET")
		var nf *goairbyte.SecretNotFoundError
		is(t, "GetSecret", err, goairbyte.ErrSecretNotFound, &nf)
		src := get(t, "source-faker", connector.WithConfig(map[string]any{"count": 5, "seed": "secret_reference::GOAIRBYTE_TEST_NO_SUCH_SECRET"}))
		nf = nil
		is(t, "Check of a config referring to it", src.Check(ctx), goairbyte.ErrSecretNotFound, &nf)
		if nf != nil && nf.Name != "GOAIRBYTE_TEST_NO_SUCH_SECRET" {
			t.Errorf("names %q", nf.Name)
		}
	})

	t.Run("out of memory", func(t *testing.T) {
		t.Parallel()
		c, err := goairbyte.NewLocalCache(ctx, "oom", t.TempDir(), duckdb.WithMemoryLimit("8MB"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = get(t, "source-faker", connector.WithConfig(map[string]any{"count": 100, "seed": 1})).
			Read(ctx, source.UseCache(c), source.NoProgress())
		var oe *cacheerr.OutOfMemoryError
		is(t, "Read", err, goairbyte.ErrOutOfMemory, &oe)
	})
}

// A full disk under the cache file is a *cacheerr.DiskFullError. Not
// parallel: it mounts a small tmpfs (root only; skipped otherwise).
func TestDiskFullThroughTheFacade(t *testing.T) {
	tiny := cachetest.SmallDisk(t)
	ctx := context.Background()
	c, err := goairbyte.NewLocalCache(ctx, "full", tiny)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	src, err := goairbyte.GetSource(ctx, "source-faker", connector.WithEnvironment(goairbyte.NewEnvironment()),
		connector.WithConfig(map[string]any{"count": 50_000, "seed": 1}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Read(ctx, source.UseCache(c), source.NoProgress())
	var de *cacheerr.DiskFullError
	is(t, "Read", err, goairbyte.ErrDiskFull, &de)
}

// A Docker engine that is not there is goairbyte.ErrDockerUnavailable:
// DOCKER_HOST names a socket file that is not there, a socket nobody
// listens on any more (a stopped dockerd), or a closed TCP port. Not
// parallel: it sets DOCKER_HOST.
func TestDockerUnavailableThroughTheFacade(t *testing.T) {
	ctx := context.Background()
	closed := filepath.Join(t.TempDir(), "closed.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: closed, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcp.Close()
	for _, host := range []string{
		"unix://" + filepath.Join(t.TempDir(), "no-docker.sock"),
		"unix://" + closed,
		"tcp://" + tcp.Addr().String(),
	} {
		t.Setenv("DOCKER_HOST", host)
		src, err := goairbyte.GetSource(ctx, "source-faker", connector.WithEnvironment(goairbyte.NewEnvironment()),
			connector.WithDockerImage("airbyte/source-faker:6.2.0"), connector.WithConfig(map[string]any{"count": 5}))
		if err != nil {
			t.Fatal(err)
		}
		checkErr := src.Check(ctx)
		is(t, host+": Check", checkErr, goairbyte.ErrDockerUnavailable, nil)
		_, err = src.AvailableStreams(ctx)
		is(t, host+": AvailableStreams", err, goairbyte.ErrDockerUnavailable, nil)
		for _, err := range []error{checkErr, err} {
			if err != nil && !strings.Contains(err.Error(), "Docker engine at") {
				t.Errorf("%s: %v does not say which Docker engine did not answer", host, err)
			}
		}
	}
}

// blockingSource sends one record, then waits for its context to end or
// release to close.
type blockingSource struct {
	started chan struct{}
	release chan struct{}
}

func (blockingSource) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}
func (blockingSource) Check(context.Context, json.RawMessage) error { return nil }
func (blockingSource) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	return &protocol.Catalog{Streams: []protocol.Stream{{Name: "items", JSONSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}}}}, nil
}
func (b blockingSource) Read(ctx context.Context, _ json.RawMessage, _ *protocol.ConfiguredCatalog, _ json.RawMessage, emit func(*protocol.Message) error) error {
	if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: json.RawMessage(`{"id":1}`), EmittedAt: 1}}); err != nil {
		return err
	}
	close(b.started)
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// A second Read of a source into a cache that a Read of the same source
// is loading is refused at once with a *cacheerr.InUseError.
func TestConcurrentReadInUseThroughTheFacade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, err := goairbyte.NewLocalCache(ctx, "busy", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := blockingSource{started: make(chan struct{}), release: make(chan struct{})}
	src, err := goairbyte.GetSource(ctx, "source-blocking", connector.WithEnvironment(goairbyte.NewEnvironment()),
		connector.WithGoConnector(b), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() {
		_, err := src.Read(ctx, source.UseCache(c), source.NoProgress())
		first <- err
	}()
	<-b.started
	_, err = src.Read(ctx, source.UseCache(c), source.NoProgress())
	var ie *cacheerr.InUseError
	is(t, "the second Read", err, goairbyte.ErrInUse, &ie)
	close(b.release)
	if err := <-first; err != nil {
		t.Fatalf("the first Read: %v", err)
	}
}

// A DuckDB cache file that another process has open is a
// *cacheerr.InUseError in this one.
func TestCacheInUseThroughTheFacade(t *testing.T) {
	if dir := os.Getenv("GOAIRBYTE_INUSE_DIR"); dir != "" {
		c, err := goairbyte.NewLocalCache(context.Background(), "inuse", dir)
		if err == nil {
			c.Close()
		}
		var ie *cacheerr.InUseError
		is(t, "NewLocalCache in the second process", err, goairbyte.ErrInUse, &ie)
		return
	}
	t.Parallel()
	dir := t.TempDir()
	c, err := goairbyte.NewLocalCache(context.Background(), "inuse", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	passInChild(t, "GOAIRBYTE_INUSE_DIR="+dir)
}
