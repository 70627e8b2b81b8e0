package destination_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/ptytest"
	"github.com/x/goairbyte/internal/secretstest"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// configNoter notes the config of every command of an in-process
// connector, so that a test sees which secret each run was given.
type configNoter struct {
	mu   sync.Mutex
	seen []string // the configs' "key" fields, one per command run
	key  string
}

func (n *configNoter) note(config json.RawMessage) {
	var m map[string]any
	_ = json.Unmarshal(config, &m)
	v, _ := m[n.key].(string)
	n.mu.Lock()
	n.seen = append(n.seen, v)
	n.mu.Unlock()
}

func (n *configNoter) runs() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.seen...)
}

// tokenSource reads one stream of two records and a state, with a token
// the spec requires.
type tokenSource struct{ *configNoter }

func (tokenSource) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","required":["token"],"properties":{"token":{"type":"string","airbyte_secret":true}}}`)}, nil
}

func (s tokenSource) Check(_ context.Context, config json.RawMessage) error {
	s.note(config)
	return nil
}

func (s tokenSource) Discover(_ context.Context, config json.RawMessage) (*protocol.Catalog, error) {
	s.note(config)
	return &protocol.Catalog{Streams: []protocol.Stream{{Name: "items",
		JSONSchema:         json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}}}}, nil
}

func (s tokenSource) Read(_ context.Context, config json.RawMessage, _ *protocol.ConfiguredCatalog, _ json.RawMessage,
	emit func(*protocol.Message) error) error {
	s.note(config)
	for _, m := range []*protocol.Message{
		{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: json.RawMessage(`{"id":1}`), EmittedAt: 1}},
		{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: json.RawMessage(`{"id":2}`), EmittedAt: 1}},
		{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream, Stream: &protocol.StreamState{
			StreamDescriptor: protocol.StreamDescriptor{Name: "items"}, StreamState: json.RawMessage(`{"n":2}`)}}},
	} {
		if err := emit(m); err != nil {
			return err
		}
	}
	return nil
}

// passwordDestination echoes every state it is given, with a password the
// spec requires.
type passwordDestination struct{ *configNoter }

func (passwordDestination) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","required":["password"],"properties":{"password":{"type":"string","airbyte_secret":true}}}`)}, nil
}

func (d passwordDestination) Check(_ context.Context, config json.RawMessage) error {
	d.note(config)
	return nil
}

func (d passwordDestination) Write(_ context.Context, config json.RawMessage, _ *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	d.note(config)
	return echoStates(input, emit, nil)
}

// TestSecretsResolvedOncePerWrite: one Write asks the secret managers for
// each secret reference of the source's and the destination's configs once,
// through a cache and without one, although it validates each config and
// runs each connector more than once (discover, read, write); a secret both
// configs name is asked once too. The next Write asks again, and its
// connectors get the rotated secrets.
func TestSecretsResolvedOncePerWrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts func(t *testing.T) []destination.WriteOption
	}{
		{"cache", func(t *testing.T) []destination.WriteOption {
			return []destination.WriteOption{destination.UseCache(openCache(t))}
		}},
		{"no cache", func(*testing.T) []destination.WriteOption {
			return []destination.WriteOption{destination.NoCache(), destination.NoStateCache()}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			mgr := secretstest.NewCountingManager(map[string]string{"SRC_TOKEN": "source-token-1", "SHARED": "shared-secret-1",
				"DST_PASSWORD": "dest-password-1"})
			env := connector.NewEnvironment()
			env.AddSecretManager(mgr)
			srcRuns, dstRuns := &configNoter{key: "token"}, &configNoter{key: "password"}
			src, err := source.New(ctx, "source-token", connector.WithEnvironment(env), connector.WithGoConnector(tokenSource{srcRuns}),
				connector.WithConfig(map[string]any{"token": "secret_reference::SRC_TOKEN",
					"extra": map[string]any{"list": []any{"secret_reference::SHARED", "secret_reference::SRC_TOKEN"}}}))
			if err != nil {
				t.Fatal(err)
			}
			dst, err := destination.New(ctx, "destination-password", connector.WithEnvironment(env),
				connector.WithGoConnector(passwordDestination{dstRuns}),
				connector.WithConfig(map[string]any{"password": "secret_reference::DST_PASSWORD", "also": "secret_reference::SHARED"}))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"SRC_TOKEN": 1, "SHARED": 1, "DST_PASSWORD": 1}
			res, err := dst.Write(ctx, src, tc.opts(t)...)
			if err != nil {
				t.Fatal(err)
			}
			if res.TotalSent() != 2 {
				t.Fatalf("sent %v, want 2 records", res.RecordsSent)
			}
			if got := mgr.Counts(); !maps.Equal(got, want) {
				t.Errorf("one Write asked %v, want each secret once: %v", got, want)
			}
			// Rotated: the next Write asks again and hands on the new values.
			mgr.Set("SRC_TOKEN", "source-token-2")
			mgr.Set("DST_PASSWORD", "dest-password-2")
			sr, dr := len(srcRuns.runs()), len(dstRuns.runs())
			if _, err := dst.Write(ctx, src, tc.opts(t)...); err != nil {
				t.Fatal(err)
			}
			for k := range want {
				want[k] = 2
			}
			if got := mgr.Counts(); !maps.Equal(got, want) {
				t.Errorf("two Writes asked %v, want each secret twice: %v", got, want)
			}
			for _, run := range srcRuns.runs()[sr:] {
				if run != "source-token-2" {
					t.Errorf("after the rotation the source ran with %q, want source-token-2 (runs %q)", run, srcRuns.runs())
				}
			}
			for _, run := range dstRuns.runs()[dr:] {
				if run != "dest-password-2" {
					t.Errorf("after the rotation the destination ran with %q, want dest-password-2 (runs %q)", run, dstRuns.runs())
				}
			}
		})
	}
}

// TestSecretPromptedOncePerWrite: a secret only the user can give, named
// by the source's config and the destination's, is asked for once in a
// Write of the program's Environment, on the terminal.
func TestSecretPromptedOncePerWrite(t *testing.T) {
	t.Setenv("CI", "")   // the prompt is never shown in CI
	t.Chdir(t.TempDir()) // and no .env file has the secret
	term := ptytest.Open(t, 100)
	stdin, stderr := os.Stdin, os.Stderr
	os.Stdin, os.Stderr = term.TTY, term.TTY // where the prompt asks
	t.Cleanup(func() { os.Stdin, os.Stderr = stdin, stderr })
	// Typed ahead, so that each prompt there may be gets its answer.
	const answer = "typed-at-the-goairbyte-prompt"
	term.Type(t, strings.Repeat(answer+"\n", 8))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard against a hang
	defer cancel()
	env := connector.DefaultEnvironment() // the program's own: one of NewEnvironment, a tenant's, never prompts
	srcRuns, dstRuns := &configNoter{key: "token"}, &configNoter{key: "password"}
	src, err := source.New(ctx, "source-token", connector.WithEnvironment(env), connector.WithGoConnector(tokenSource{srcRuns}),
		connector.WithConfig(map[string]any{"token": "secret_reference::GOAIRBYTE_PROMPTED_TOKEN"}))
	if err != nil {
		t.Fatal(err)
	}
	dst, err := destination.New(ctx, "destination-password", connector.WithEnvironment(env),
		connector.WithGoConnector(passwordDestination{dstRuns}),
		connector.WithConfig(map[string]any{"password": "secret_reference::GOAIRBYTE_PROMPTED_TOKEN"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Write(ctx, src, destination.NoCache(), destination.NoStateCache()); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(term.TTY, "--- the Write ended")
	out := term.Wait(t, func(out string) bool { return strings.Contains(out, "--- the Write ended") })
	if n := strings.Count(out, "Enter secret GOAIRBYTE_PROMPTED_TOKEN"); n != 1 {
		t.Errorf("the prompt was shown %d times in one Write, want once:\n%q", n, out)
	}
	for _, run := range append(srcRuns.runs(), dstRuns.runs()...) {
		if run != answer {
			t.Errorf("a connector ran with %q, want what was typed", run)
		}
	}
}

// TestSecretsResolvedOncePerWriteFromReadResult: a Write of what a Read
// cached asks for the destination's secrets once (it validates its config
// and runs it) and for none of the source's.
func TestSecretsResolvedOncePerWriteFromReadResult(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mgr := secretstest.NewCountingManager(map[string]string{"SRC_TOKEN": "source-token-1", "DST_PASSWORD": "dest-password-1"})
	env := connector.NewEnvironment()
	env.AddSecretManager(mgr)
	src, err := source.New(ctx, "source-token", connector.WithEnvironment(env), connector.WithGoConnector(tokenSource{&configNoter{key: "token"}}),
		connector.WithConfig(map[string]any{"token": "secret_reference::SRC_TOKEN"}))
	if err != nil {
		t.Fatal(err)
	}
	dst, err := destination.New(ctx, "destination-password", connector.WithEnvironment(env),
		connector.WithGoConnector(passwordDestination{&configNoter{key: "password"}}),
		connector.WithConfig(map[string]any{"password": "secret_reference::DST_PASSWORD"}))
	if err != nil {
		t.Fatal(err)
	}
	rr, err := src.Read(ctx, source.UseCache(openCache(t)), source.NoProgress())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Write(ctx, rr); err != nil {
		t.Fatal(err)
	}
	if got, want := mgr.Counts(), map[string]int{"SRC_TOKEN": 1, "DST_PASSWORD": 1}; !maps.Equal(got, want) {
		t.Errorf("a Read and a Write of its result asked %v, want %v", got, want)
	}
}
