package connector_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/connectors/faker"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/catalogs"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/protocol"
)

// recording is an executor of the caller's: it runs the faker in process
// through package executor and notes the verbs it was asked for.
type recording struct {
	executor.Executor
	mu    sync.Mutex
	verbs []executor.Verb
}

func (r *recording) Run(ctx context.Context, inv executor.Invocation) iter.Seq2[*protocol.Message, error] {
	r.mu.Lock()
	r.verbs = append(r.verbs, inv.Verb)
	r.mu.Unlock()
	return r.Executor.Run(ctx, inv)
}

// WithExecutor runs a connector nothing else knows how to run with the
// caller's executor, for every command.
func TestWithExecutor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inner, err := executor.New("source-mine", executor.Method{Kind: executor.KindInProcess, Connector: faker.New()}, executor.Runtime{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recording{Executor: inner}
	// No registry, no executable of that name: only the executor given
	// can run it.
	c, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-mine", connector.WithEnvironment(offline(t)),
		connector.WithExecutor(rec), connector.WithConfig(map[string]any{"count": 3, "seed": 1}))
	if err != nil {
		t.Fatal(err)
	}
	if core.ConnOf(c).Executor() != executor.Executor(rec) {
		t.Fatalf("the connector runs with %v, not the executor given", core.ConnOf(c).Executor())
	}
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}
	spec, err := c.Spec(ctx)
	if err != nil || !strings.Contains(string(spec.ConnectionSpecification), "records_per_slice") {
		t.Fatalf("spec %v (%v), want the faker's", spec, err)
	}
	var streams []string
	for msg, err := range core.ConnOf(c).Run(ctx, executor.Invocation{Verb: executor.VerbDiscover}) {
		if err != nil {
			t.Fatal(err)
		}
		if msg.Catalog != nil {
			streams = catalogs.StreamNames(msg.Catalog)
		}
	}
	if !slices.Contains(streams, "users") {
		t.Fatalf("catalog %v", streams)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !slices.Contains(rec.verbs, executor.VerbCheck) || !slices.Contains(rec.verbs, executor.VerbDiscover) ||
		!slices.Contains(rec.verbs, executor.VerbSpec) {
		t.Fatalf("the executor ran %v", rec.verbs)
	}
}

// leakyExec fails every run but spec with an error that quotes the config
// it was given, as a careless executor might.
type leakyExec struct{ executor.Executor }

func (l leakyExec) Run(ctx context.Context, inv executor.Invocation) iter.Seq2[*protocol.Message, error] {
	if inv.Verb == executor.VerbSpec {
		return l.Executor.Run(ctx, inv)
	}
	return func(yield func(*protocol.Message, error) bool) {
		yield(nil, fmt.Errorf("my executor failed with config %s", inv.Config))
	}
}

// The errors of an executor given with WithExecutor are masked as the
// library's own executors mask theirs: the secret a reference resolved to
// does not come out.
func TestWithExecutorErrorsAreMasked(t *testing.T) {
	t.Parallel()
	const secret = "withexec-secret-4d2c"
	ctx := context.Background()
	inner, err := executor.New("source-mine", executor.Method{Kind: executor.KindInProcess, Connector: faker.New()}, executor.Runtime{})
	if err != nil {
		t.Fatal(err)
	}
	env := offline(t)
	env.AddSecretManager(vault{"GOAIRBYTE_WITHEXEC_SECRET": secret})
	c, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-mine", connector.WithEnvironment(env),
		connector.WithExecutor(leakyExec{inner}),
		connector.WithConfig(map[string]any{"count": 3, "token": "secret_reference::GOAIRBYTE_WITHEXEC_SECRET"}))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "my executor failed with config {") {
		t.Fatalf("got %v, want the executor's error", err)
	}
	// (The chain under it keeps the executor's own error, for errors.As:
	// secrets.MaskError changes only the text.)
	if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v", err), secret) {
		t.Fatalf("the secret escapes: %v", err)
	}
	t.Log(err)
}

// Kind says what New was asked for, through the faces of package source
// and destination too.
func TestKind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, kind := range []core.Kind{core.KindSource, core.KindDestination} {
		c, err := core.New[*connector.Connector, connector.Option](ctx, kind, "mine", connector.WithEnvironment(offline(t)), connector.WithGoConnector(echoDest{}))
		if kind == core.KindSource {
			// echoDest is no source: it is refused at construction, as a
			// destination registered in process is, not at its first read.
			if !errors.Is(err, connector.ErrInvalidOption) || !strings.Contains(err.Error(), "is a destination, not a source") {
				t.Fatalf("a destination given as a source with WithGoConnector: got %v (kind %v), want an *OptionError", err, core.ConnOf(c).Kind())
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if core.ConnOf(c).Kind() != kind {
			t.Fatalf("Kind %v, want %v", core.ConnOf(c).Kind(), kind)
		}
	}
	src, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "mine", connector.WithEnvironment(offline(t)), connector.WithGoConnector(faker.New()))
	if err != nil || core.ConnOf(src).Kind() != core.KindSource {
		t.Fatalf("source: %v %v", src, err)
	}
}

// WithExecutor(nil) and WithGoConnector(nil) say nothing about how the
// connector runs: they are an *OptionError, as WithHTTPClient(nil) is,
// not silently dropped so that the connector runs some other way (here
// the faker registered in process).
func TestNilWayIsAnOptionError(t *testing.T) {
	t.Parallel()
	env := offline(t)
	env.RegisterConnector("source-faker", func() any { return faker.New() })
	for name, opt := range map[string]connector.Option{
		"WithExecutor":    connector.WithExecutor(nil),
		"WithGoConnector": connector.WithGoConnector(nil),
	} {
		c, err := core.New[*connector.Connector, connector.Option](context.Background(), core.KindSource, "source-faker", connector.WithEnvironment(env), opt)
		var oe *connector.OptionError
		if !errors.As(err, &oe) || oe.Option != name || !strings.Contains(err.Error(), "not nil") {
			t.Errorf("%s(nil): got %v (runs %v), want an *OptionError", name, err, c)
		}
	}
}
