package connector_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/registry"
	"github.com/x/goairbyte/secrets"
)

// echoDest is a destination written in Go whose spec requires a token,
// marked airbyte_secret; check fails unless the token is "good…". A CONTROL
// message in its write input is sent back to rotate the token.
type echoDest struct{}

// halfDest is a destination without its Write.
type halfDest struct{}

func (halfDest) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	return echoDest{}.Spec(ctx)
}

func (halfDest) Check(ctx context.Context, config json.RawMessage) error { return nil }

func (echoDest) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","required":["token"],"properties":{"token":{"type":"string","airbyte_secret":true,"minLength":8}}}`)}, nil
}

func (echoDest) Check(ctx context.Context, config json.RawMessage) error {
	var c struct{ Token string }
	json.Unmarshal(config, &c)
	if !strings.HasPrefix(c.Token, "good") {
		return errors.New("token " + c.Token + " refused")
	}
	return nil
}

func (echoDest) Write(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	for m, err := range input {
		if err != nil {
			return err
		}
		if err := emit(m); err != nil {
			return err
		}
	}
	return nil
}

// offline is an Environment whose registry never reaches the network.
func offline(t *testing.T) *connector.Environment {
	t.Helper()
	env := connector.NewEnvironment()
	env.SetRegistry(registry.NewLoader(registry.WithOffline(true), registry.WithCacheDir("")))
	return env
}

func TestOptionsThatDoNotFit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := offline(t)
	for _, c := range []struct {
		name string
		kind core.Kind
		opts []connector.Option
		want string
	}{
		{"source-x", core.KindSource, []connector.Option{connector.WithLocalExecutable("/bin/true"), connector.WithPipURL("x")},
			"WithLocalExecutable and WithPipURL/WithPython: these are different ways"},
		{"source-x", core.KindSource, []connector.Option{connector.WithLocalExecutable("/bin/true"), connector.WithHostNetwork(true)},
			"WithHostNetwork: it does not apply to a connector run with WithLocalExecutable"},
		{"destination-x", core.KindDestination, []connector.Option{connector.WithPipURL("x"), connector.WithLocalMount("/tmp")},
			"WithLocalMount: it does not apply to a connector run with WithPipURL/WithPython"},
		{"source-x", core.KindSource, []connector.Option{connector.WithDockerImage(""), connector.WithInstallRoot("/tmp")},
			"WithInstallRoot: it does not apply"},
		{"source-x", core.KindSource, []connector.Option{connector.WithGoConnector(echoDest{}), connector.WithVersion("1.0")},
			"WithVersion: it does not apply to a connector run with WithGoConnector"},
		{"destination-x", core.KindDestination, []connector.Option{connector.WithGoConnector(echoDest{}), connector.WithStreams("users")},
			"WithStreams: a destination writes the streams of what it is given"},
		{"source-x", core.KindSource, []connector.Option{connector.WithLocalMount("/tmp"), connector.WithInstallRoot("/tmp")},
			"WithInstallRoot: it does not apply to a connector run with WithDockerImage"},
		{"source-x", core.KindSource, []connector.Option{connector.WithHostNetwork(true), connector.WithPipURL("x")},
			"WithHostNetwork: it does not apply to a connector run with WithPipURL/WithPython"},
		// A variable that is not KEY=VALUE reached the process as it was,
		// and an empty mount directory mounted the working directory.
		{"source-x", core.KindSource, []connector.Option{connector.WithLocalExecutable("/bin/true"), connector.WithEnv("A=1", "TOKEN")},
			"WithEnv: variable 2 of 2 is not KEY=VALUE"},
		{"source-x", core.KindSource, []connector.Option{connector.WithLocalExecutable("/bin/true"), connector.WithEnv("=1")},
			"WithEnv: variable 1 of 1 is not KEY=VALUE"},
		{"source-x", core.KindSource, []connector.Option{connector.WithLocalExecutable("")},
			`WithLocalExecutable: it needs a path or a name on PATH, not ""`},
		{"destination-x", core.KindDestination, []connector.Option{connector.WithDockerImage(""), connector.WithLocalMount("")},
			"WithLocalMount: it needs a directory"},
		// An image that names its tag (or digest) and a version that says
		// another: the image ran, and the pin was ignored.
		{"source-x", core.KindSource, []connector.Option{connector.WithDockerImage("example/source-x:1.0"), connector.WithVersion("2.0")},
			"WithVersion: the image example/source-x:1.0 names its tag; give the version in one place"},
		{"source-x", core.KindSource, []connector.Option{connector.WithDockerImage("example/source-x@sha256:" + strings.Repeat("0", 64)), connector.WithVersion("2.0")},
			"names its digest; give the version in one place"},
		// A value that is no connector: refused as an option, not with the
		// executor's plain error.
		{"source-x", core.KindSource, []connector.Option{connector.WithGoConnector(42)},
			"WithGoConnector: int is neither a kit.Source (Spec, Check, Discover, Read) nor a kit.Destination (Spec, Check, Write)"},
		// One close to a connector is told what is off.
		{"source-x", core.KindSource, []connector.Option{connector.WithGoConnector(halfDest{})},
			"as a kit.Destination, it has no method Write"},
		{"source-faker ", core.KindSource, nil, "a connector name is a single word"},
		{"source\tx", core.KindSource, nil, "a connector name is a single word"},
		{"./source-x", core.KindSource, nil, "not a path or an image"},
		{"airbyte/source-x", core.KindSource, nil, "not a path or an image"},
	} {
		_, err := core.New[*connector.Connector, connector.Option](ctx, c.kind, c.name, append(c.opts, connector.WithEnvironment(env))...)
		var oe *connector.OptionError
		if !errors.As(err, &oe) || !errors.Is(err, connector.ErrInvalidOption) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: got %v, want an *OptionError saying %q", c.name, c.opts, err, c.want)
		}
	}
}

// TestImageTagAndVersionAgreeing: a version that says what the image's
// tag says is no conflict, and a version with an untagged image tags it.
func TestImageTagAndVersionAgreeing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for image, want := range map[string]string{"example/source-x:2.0": "example/source-x:2.0", "example/source-x": "example/source-x:2.0"} {
		c, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, "source-x", connector.WithEnvironment(offline(t)),
			connector.WithDockerImage(image), connector.WithVersion("2.0"))
		if err != nil {
			t.Fatalf("%s with WithVersion(2.0): %v", image, err)
		}
		if got := core.ConnOf(c).Executor().Method().Image; got != want {
			t.Errorf("%s with WithVersion(2.0) runs %s, want %s", image, got, want)
		}
	}
}

// TestEnvironmentsAreSeparate resolves the same name in two Environments:
// one runs it in process, the other has never heard of it.
func TestEnvironmentsAreSeparate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := offline(t), offline(t)
	a.RegisterConnector("destination-echo", func() any { return echoDest{} })

	d, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(a))
	if err != nil {
		t.Fatal(err)
	}
	if core.ConnOf(d).Executor().Method().Kind != executor.KindInProcess || core.ConnOf(d).Env() != a {
		t.Fatalf("resolved to %s in %p, want in process in %p", d, core.ConnOf(d).Env(), a)
	}
	_, err = core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(b))
	var nm *connector.NoMethodError
	if !errors.As(err, &nm) || !errors.Is(err, executor.ErrNotInstalled) {
		t.Fatalf("the other Environment resolved it: %v", err)
	}
	// A version pin is not the in-process build: it resolves elsewhere.
	if _, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(a),
		connector.WithVersion("9.9")); !errors.As(err, &nm) {
		t.Fatalf("pinned: %v", err)
	}
	// The default caches of two Environments are apart too.
	if _, err := core.EnvOf(a).DefaultCache(ctx); !errors.Is(err, connector.ErrNoDefaultCache) {
		t.Fatalf("an Environment with no default cache: %v", err)
	}
}

// TestBuiltInNotRegistered: one of goairbyte's own connectors, in an
// Environment that does not run it in process (a program that does not
// import the root package), with nothing else to run it: the error names
// that import first. A version pin, which no import satisfies, does not.
// Not parallel: it hides Docker and PATH.
func TestBuiltInNotRegistered(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	ctx := context.Background()
	const hint = "the import of package github.com/x/goairbyte, which runs goairbyte's own connectors in process"
	_, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-local-json", connector.WithEnvironment(offline(t)))
	var nm *connector.NoMethodError
	if !errors.As(err, &nm) || len(nm.Needs) == 0 || nm.Needs[0] != hint {
		t.Fatalf("got %v, want a *connector.NoMethodError whose first need is the import", err)
	}
	_, err = core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-local-json", connector.WithEnvironment(offline(t)),
		connector.WithVersion("0.1.0"))
	if !errors.As(err, &nm) || strings.Contains(err.Error(), hint) {
		t.Fatalf("pinned: got %v, want a *connector.NoMethodError without the import", err)
	}
}

// A registered connector that is no connector is reported as the
// registration's fault, naming it, not with the executor's words.
func TestRegisteredNotAConnector(t *testing.T) {
	t.Parallel()
	env := offline(t)
	env.RegisterConnector("source-int", func() any { return 42 })
	_, err := core.New[*connector.Connector, connector.Option](context.Background(), core.KindSource, "source-int", connector.WithEnvironment(env))
	if err == nil || !strings.Contains(err.Error(), "source-int: the connector registered under this name (Environment.RegisterConnector) is int") {
		t.Fatalf("got %v, want an error naming the registration", err)
	}
}

func TestConfigAndSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := offline(t)
	secret := "goodtoken-" + strings.Repeat("7", 12)
	env.AddSecretManager(vault{"CONNECTOR_TEST_TOKEN": secret})
	var changed map[string]any
	d, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(env),
		connector.WithGoConnector(echoDest{}),
		connector.WithConfig(map[string]any{"token": "secret_reference::CONNECTOR_TEST_TOKEN"}),
		connector.WithConfigChangeCallback(func(c map[string]any) { changed = c }))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Check(ctx); err != nil {
		t.Fatalf("check with the resolved token: %v", err)
	}
	if got := d.Config()["token"]; got != "secret_reference::CONNECTOR_TEST_TOKEN" {
		t.Fatalf("Config holds %v, want the reference", got)
	}
	// A CONTROL config from the connector replaces the config; the value
	// that came from the reference becomes the reference again.
	rotated := `{"type":"CONTROL","control":{"type":"CONNECTOR_CONFIG","emitted_at":1,"connectorConfig":{"config":{"token":"` + secret + `","extra":"x"}}}}` + "\n"
	catalog := json.RawMessage(`{"streams":[]}`)
	for _, err := range core.ConnOf(d).Run(ctx, executor.Invocation{Verb: executor.VerbWrite, Catalog: catalog, Stdin: strings.NewReader(rotated)}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if d.Config()["extra"] != "x" || d.Config()["token"] != "secret_reference::CONNECTOR_TEST_TOKEN" || changed["extra"] != "x" {
		t.Fatalf("after the CONTROL message: config %v, callback %v", d.Config(), changed)
	}

	// A failed check carries the connector's message, masked.
	if err := d.SetConfig(`{"token":"badtoken-abcdefgh"}`); err != nil {
		t.Fatal(err)
	}
	err = d.Check(ctx)
	var cf *connector.CheckFailedError
	if !errors.As(err, &cf) || !errors.Is(err, connector.ErrCheckFailed) || strings.Contains(err.Error(), "badtoken-abcdefgh") ||
		!strings.Contains(err.Error(), "token **** refused") {
		t.Fatalf("failed check: %v", err)
	}
	// Validation names the field, never the secret's value.
	d.SetConfig(map[string]any{"token": "short"})
	err = d.ValidateConfig(ctx)
	var ve *connector.ConfigValidationError
	if !errors.As(err, &ve) || !errors.Is(err, connector.ErrConfigInvalid) || ve.Problems[0].Field != "token" ||
		strings.Contains(err.Error(), "short") {
		t.Fatalf("validation: %v", err)
	}
	// It points at the command that prints the spec, not at a Go function.
	if !strings.Contains(err.Error(), "goab spec destination-echo") {
		t.Errorf("validation does not say how to see the spec: %v", err)
	}
	// No config at all, and a config that is not an object.
	e, _ := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(env), connector.WithGoConnector(echoDest{}))
	if err := e.Check(ctx); !errors.Is(err, connector.ErrNoConfig) {
		t.Fatalf("no config: %v", err)
	}
	if err := e.SetConfig("[1,2]"); !errors.Is(err, connector.ErrConfigInvalid) || !strings.Contains(err.Error(), "must be a JSON object") {
		t.Fatalf("an array as config: %v", err)
	}
}

// TestConfigTextThatIsNotJSON: a string or []byte config is the config's
// JSON text. One that is not JSON at all, as a PyAirbyte user's path of a
// config file or the YAML goab takes, is refused saying so and what to do,
// not only that it must be a JSON object.
func TestConfigTextThatIsNotJSON(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo",
		connector.WithEnvironment(offline(t)), connector.WithGoConnector(echoDest{}))
	if err != nil {
		t.Fatal(err)
	}
	const hint = "not a file's path or YAML"
	for _, cfg := range []any{"secrets/config.json", "count: 5\nseed: 1\n", []byte("count: 5\n")} {
		err := e.SetConfig(cfg)
		if !errors.Is(err, connector.ErrConfigInvalid) || !strings.Contains(err.Error(), hint) || !strings.Contains(err.Error(), "os.ReadFile") {
			t.Errorf("SetConfig(%q): %v; want ErrConfigInvalid saying the text is %s and how to read a file", cfg, err, hint)
		}
	}
	// JSON that is no object is told so, as before.
	if err := e.SetConfig("[1,2]"); err == nil || strings.Contains(err.Error(), hint) {
		t.Errorf("SetConfig of a JSON array: %v", err)
	}
}

// TestResolutionOrder: in process first, then PATH.
func TestResolutionOrder(t *testing.T) {
	ctx := context.Background()
	env := offline(t)
	dir := t.TempDir()
	exe := filepath.Join(dir, "destination-echo")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	d, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(env))
	if err != nil {
		t.Fatal(err)
	}
	if core.ConnOf(d).Executor().Method().Kind != executor.KindLocal {
		t.Fatalf("resolved to %s, want the executable on PATH", d)
	}
	env.RegisterConnector("destination-echo", func() any { return echoDest{} })
	d, err = core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(env),
		connector.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if core.ConnOf(d).Executor().Method().Kind != executor.KindInProcess {
		t.Fatalf("resolved to %s, want in process before PATH", d)
	}
}

// vault is a secret manager holding fixed secrets.
type vault map[string]string

func (vault) Name() string { return "test vault" }
func (v vault) Get(_ context.Context, name string) (secrets.SecretString, bool, error) {
	s, ok := v[name]
	return secrets.NewSecretString(s), ok, nil
}

func TestConfigFingerprint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fp := func(cfg map[string]any) string {
		d, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(offline(t)),
			connector.WithGoConnector(echoDest{}), connector.WithConfig(cfg))
		if err != nil {
			t.Fatal(err)
		}
		f, err := core.ConnOf(d).ConfigFingerprint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a := fp(map[string]any{"token": "goodtoken-1", "path": "/a"})
	if b := fp(map[string]any{"token": "goodtoken-2", "path": "/a"}); a != b {
		t.Errorf("a change of secret changed the fingerprint: %s %s", a, b)
	}
	if c := fp(map[string]any{"token": "goodtoken-1", "path": "/b"}); a == c || len(a) != 12 {
		t.Errorf("another path, same fingerprint %s (or a bad one)", a)
	}
}

// TestSecretStringInConfig: a secrets.SecretString in a config struct or
// map reaches the connector as its value (its MarshalJSON prints ****),
// and nowhere else: Config shows a reference.
func TestSecretStringInConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	token := secrets.NewSecretString("goodtoken-" + strings.Repeat("9", 10))
	type Extra struct {
		Note string `json:"note"`
	}
	type config struct {
		Extra
		Token  secrets.SecretString `json:"token"`
		Unused secrets.SecretString `json:"unused,omitempty"`
		Path   string               `json:"path"`
		hidden string
	}
	for _, cfg := range []any{
		config{Extra: Extra{Note: "x"}, Token: token, Path: "/a", hidden: "no"},
		&config{Token: token},
		map[string]any{"token": token, "nested": []any{map[string]secrets.SecretString{"k": token}}},
	} {
		d, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(offline(t)),
			connector.WithGoConnector(echoDest{}), connector.WithConfig(cfg))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Check(ctx); err != nil {
			t.Fatalf("%T: the connector did not get the token: %v", cfg, err)
		}
		b, _ := json.Marshal(d.Config())
		if strings.Contains(string(b), token.Reveal()) || !strings.Contains(string(b), "secret_reference::") {
			t.Fatalf("%T: Config shows %s", cfg, b)
		}
		if _, has := d.Config()["unused"]; has {
			t.Fatalf("%T: omitempty ignored: %s", cfg, b)
		}
	}
}

// TestSecretStringReferenceElsewhere: the reference Config gives for a
// SecretString resolves in its connector only. Given to another one, it is
// a secret not found whose message says what the reference is and what to
// pass instead, not to set an environment variable of that name.
func TestSecretStringReferenceElsewhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	token := secrets.NewSecretString("goodtoken-" + strings.Repeat("8", 10))
	newDest := func(cfg any) *connector.Connector {
		d, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(offline(t)),
			connector.WithGoConnector(echoDest{}), connector.WithConfig(cfg))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	first := newDest(map[string]any{"token": token})
	err := newDest(first.Config()).Check(ctx)
	if !errors.Is(err, secrets.ErrSecretNotFound) || !strings.Contains(err.Error(), "secrets.SecretString") ||
		strings.Contains(err.Error(), "Set the environment variable") {
		t.Fatalf("another connector's SecretString reference: %v; want ErrSecretNotFound saying to pass the SecretString", err)
	}
}

// callOnRead is a reader that runs do before its first Read: a config
// change made while a connector runs.
type callOnRead struct {
	r    io.Reader
	do   func()
	done bool
}

func (c *callOnRead) Read(p []byte) (int, error) {
	if !c.done {
		c.done = true
		c.do()
	}
	return c.r.Read(p)
}

// TestConfigChangeRacingSetConfig: a connector's CONTROL config that comes
// after SetConfig replaced the config during its run still gets its secret
// references put back: they are the run's, not the latest config's (the
// change used to be stored, and passed to the callback, with the secret in
// clear).
func TestConfigChangeRacingSetConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := offline(t)
	secret := "goodtoken-" + strings.Repeat("8", 12)
	env.AddSecretManager(vault{"CONNECTOR_RACE_TOKEN": secret})
	const ref = "secret_reference::CONNECTOR_RACE_TOKEN"
	var changed map[string]any
	d, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(env),
		connector.WithGoConnector(echoDest{}), connector.WithConfig(map[string]any{"token": ref}),
		connector.WithConfigChangeCallback(func(c map[string]any) { changed = c }))
	if err != nil {
		t.Fatal(err)
	}
	rotated := `{"type":"CONTROL","control":{"type":"CONNECTOR_CONFIG","emitted_at":1,"connectorConfig":{"config":{"token":"` + secret + `","extra":"x"}}}}` + "\n"
	stdin := &callOnRead{r: strings.NewReader(rotated), do: func() {
		if err := d.SetConfig(map[string]any{"token": ref, "extra": "set meanwhile"}); err != nil {
			t.Error(err)
		}
	}}
	for _, err := range core.ConnOf(d).Run(ctx, executor.Invocation{Verb: executor.VerbWrite, Catalog: json.RawMessage(`{"streams":[]}`), Stdin: stdin}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := d.Config()["token"]; got != ref {
		t.Errorf("Config holds token %q after the change, want the reference", got)
	}
	if changed == nil || changed["token"] != ref {
		t.Errorf("the callback got token %q, want the reference", changed["token"])
	}
}

// TestKindMismatch asks for a source by the name of a destination, and the
// reverse, among the connectors registered in process and in the registry:
// New refuses it at once, instead of installing a package or pulling an
// image whose first command then fails.
func TestKindMismatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	regFile := filepath.Join(t.TempDir(), "registry.json")
	os.WriteFile(regFile, []byte(`{"sources": [{"dockerRepository": "airbyte/source-remote", "dockerImageTag": "1.0.0", "language": "java"}],
		"destinations": [{"dockerRepository": "airbyte/destination-remote", "dockerImageTag": "1.0.0", "language": "java"}]}`), 0o644)
	env := connector.NewEnvironment()
	env.SetRegistry(registry.NewLoader(registry.WithLocalRegistry(regFile), registry.WithCacheDir("")))
	env.RegisterConnector("destination-echo", func() any { return echoDest{} })
	for _, c := range []struct {
		kind core.Kind
		name string
		want string
	}{
		{core.KindSource, "destination-echo", "destination-echo is a destination, not a source"},
		{core.KindDestination, "source-remote", "source-remote is a source, not a destination"},
		{core.KindSource, "destination-remote", "destination-remote is a destination, not a source"},
	} {
		_, err := core.New[*connector.Connector, connector.Option](ctx, c.kind, c.name, connector.WithEnvironment(env))
		if !errors.Is(err, connector.ErrInvalidOption) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s as a %s: got %v, want an *OptionError saying %q", c.name, c.kind, err, c.want)
		}
	}
	// The right kind still resolves.
	if _, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(env)); err != nil {
		t.Fatal(err)
	}
}

// TestKnobsOfInProcessConnector gives a connector that resolves to one
// registered in process knobs of a process, a container or a virtualenv:
// none has anything to act on, and New says so instead of ignoring them.
func TestKnobsOfInProcessConnector(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := offline(t)
	env.RegisterConnector("destination-echo", func() any { return echoDest{} })
	for _, c := range []struct {
		opt       connector.Option
		want, way string
	}{
		{connector.WithEnv("A=1"), "WithEnv", `WithDockerImage(""), WithPipURL or WithLocalExecutable`},
		{connector.WithLogDir(t.TempDir()), "WithLogDir", `WithDockerImage(""), WithPipURL or WithLocalExecutable`},
		{connector.WithInstallIfMissing(false), "WithInstallIfMissing", `WithDockerImage("") or WithPipURL`},
		{connector.WithInstallRoot(t.TempDir()), "WithInstallRoot", `WithPipURL`},
	} {
		_, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(env), c.opt)
		want := c.want + ": it does not apply to a connector run in process, as registered in its Environment"
		if !errors.Is(err, connector.ErrInvalidOption) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an *OptionError saying %q", c.want, err, want)
		}
		// What to do: PyAirbyte's run_perf_test_reads.py gives its faker
		// install_if_missing=False, which a port gives the faker that runs
		// in process here.
		if err != nil && (!strings.Contains(err.Error(), "drop it, or run Airbyte's build of the connector with ") ||
			!strings.Contains(err.Error(), c.way)) {
			t.Errorf("%s: %v does not say to drop it or run the connector with %s", c.want, err, c.way)
		}
	}
}

// TestInstallIfMissingTrueFitsEveryWay: WithInstallIfMissing(true) is the
// default restated, as PyAirbyte's quickstart writes install_if_missing=True
// for its faker; it asks for nothing a connector with nothing to install
// leaves undone, so a program that passes it to every connector it gets
// (the in-process faker in its tests, images in production) is not refused
// for one that runs in process or from PATH. false, which says the
// connector must be installed already, still is.
func TestInstallIfMissingTrueFitsEveryWay(t *testing.T) {
	ctx := context.Background()
	env := offline(t)
	env.RegisterConnector("destination-echo", func() any { return echoDest{} })
	dir := t.TempDir()
	exe := filepath.Join(dir, "source-onpath")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, c := range []struct {
		name string
		kind core.Kind
		opts []connector.Option
	}{
		{"destination-echo", core.KindDestination, nil},
		{"destination-echo", core.KindDestination, []connector.Option{connector.WithGoConnector(echoDest{})}},
		{"source-onpath", core.KindSource, nil},
		{"source-onpath", core.KindSource, []connector.Option{connector.WithLocalExecutable(exe)}},
	} {
		opts := append([]connector.Option{connector.WithEnvironment(env), connector.WithInstallIfMissing(true)}, c.opts...)
		if _, err := core.New[*connector.Connector, connector.Option](ctx, c.kind, c.name, opts...); err != nil {
			t.Errorf("%s with %d more options: WithInstallIfMissing(true) refused: %v", c.name, len(c.opts), err)
		}
		opts[1] = connector.WithInstallIfMissing(false)
		if _, err := core.New[*connector.Connector, connector.Option](ctx, c.kind, c.name, opts...); !errors.Is(err, connector.ErrInvalidOption) {
			t.Errorf("%s with %d more options: WithInstallIfMissing(false) gave %v, want an *OptionError", c.name, len(c.opts), err)
		}
	}
}

// TestVersionLatestStaysInProcess: WithVersion("latest") pins nothing (as
// the README says, and as PyAirbyte's version="latest" asks for the newest
// there is), so a connector registered in process, the newest build there is
// here, still runs in process; goairbyte's faker went to the Docker image
// goairbyte/source-faker:latest, published nowhere. A pin still resolves
// elsewhere.
func TestVersionLatestStaysInProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := offline(t)
	env.RegisterConnector("destination-echo", func() any { return echoDest{} })
	for _, opts := range [][]connector.Option{nil, {connector.WithGoConnector(echoDest{})}} {
		opts = append([]connector.Option{connector.WithEnvironment(env), connector.WithVersion("latest")}, opts...)
		d, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", opts...)
		if err != nil {
			t.Errorf("WithVersion(latest), %d options: %v", len(opts), err)
			continue
		}
		if k := core.ConnOf(d).Executor().Method().Kind; k != executor.KindInProcess {
			t.Errorf("WithVersion(latest), %d options: runs %s, want in process", len(opts), k)
		}
	}
}

// TestKnobsOfAWayChosenByResolution: with no way given, a connector that
// resolves to an executable on PATH, or to the Docker image its registry
// entry offers, is given a knob of a virtualenv or of installing. Neither
// has anything to act on there, and New says so, as for a connector
// registered in process; it ignored them.
func TestKnobsOfAWayChosenByResolution(t *testing.T) {
	ctx := context.Background()
	env := offline(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "source-onpath"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	refused := func(name string, env *connector.Environment, opt connector.Option, want string) {
		t.Helper()
		_, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, name, connector.WithEnvironment(env), opt)
		var oe *connector.OptionError
		if !errors.As(err, &oe) || !errors.Is(err, connector.ErrInvalidOption) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an *OptionError saying %q", name, err, want)
		}
	}
	accepted := func(name string, env *connector.Environment, opt connector.Option) {
		t.Helper()
		if _, err := core.New[*connector.Connector, connector.Option](ctx, core.KindSource, name, connector.WithEnvironment(env), opt); err != nil {
			t.Errorf("%s: a knob that applies was refused: %v", name, err)
		}
	}
	const onPath = ": it does not apply to a connector run as the executable of its name on PATH"
	refused("source-onpath", env, connector.WithInstallRoot(t.TempDir()), "WithInstallRoot"+onPath)
	refused("source-onpath", env, connector.WithInstallIfMissing(false), "WithInstallIfMissing"+onPath)
	for _, opt := range []connector.Option{connector.WithEnv("A=1"), connector.WithLogDir(t.TempDir()), connector.WithVersion("1.0")} {
		accepted("source-onpath", env, opt)
	}

	// The registry's Docker image is chosen only where an engine answers.
	testenv.Docker(t)
	regFile := filepath.Join(t.TempDir(), "registry.json")
	if err := os.WriteFile(regFile, []byte(`{"sources": [{"dockerRepository": "airbyte/source-remote", "dockerImageTag": "1.0.0", "language": "java"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := connector.NewEnvironment()
	reg.SetRegistry(registry.NewLoader(registry.WithLocalRegistry(regFile), registry.WithCacheDir("")))
	refused("source-remote", reg, connector.WithInstallRoot(t.TempDir()),
		"WithInstallRoot: it does not apply to a connector run in its Docker image, as its registry entry offers")
	for _, opt := range []connector.Option{connector.WithEnv("A=1"), connector.WithLogDir(t.TempDir()), connector.WithInstallIfMissing(false)} {
		accepted("source-remote", reg, opt)
	}
}

// specDest is echoDest with another spec.
type specDest struct {
	echoDest
	spec string
}

func (d specDest) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(d.spec)}, nil
}

// TestConfigFingerprintIsStable pins fingerprints: a destination's state
// is stored under its fingerprint, so a change of how it is computed would
// make every destination's next Write start over. The spec marks secrets
// at the top, in a oneOf branch and in the items of arrays; they are left
// out, and a change of any of them keeps the fingerprint.
func TestConfigFingerprintIsStable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const spec = `{"type":"object","properties":{
		"token":{"type":"string","airbyte_secret":true},
		"auth":{"oneOf":[{"properties":{"method":{"const":"key"},"api_key":{"type":"string","airbyte_secret":true}}}]},
		"apps":{"type":"array","items":{"type":"object","properties":{"app_key":{"type":"string","airbyte_secret":true}}}},
		"keys":{"type":"array","items":{"type":"string","airbyte_secret":true}}}}`
	fp := func(cfg string) string {
		d, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(offline(t)),
			connector.WithGoConnector(specDest{spec: spec}), connector.WithConfig(cfg))
		if err != nil {
			t.Fatal(err)
		}
		f, err := core.ConnOf(d).ConfigFingerprint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, c := range []struct{ cfg, want string }{
		{`{"path":"/a","n":1.50}`, "2024d8e6038a"},
		{`{"token":"t-1","path":"/a","auth":{"method":"key","api_key":"k-1"},"apps":[{"name":"x","app_key":"a-1"}],"keys":["s-1","s-2"]}`, "9b74c45704a4"},
		{`{"keys":["s-9","s-8"],"apps":[{"app_key":"a-2","name":"x"}],"auth":{"api_key":"k-2","method":"key"},"path":"/a","token":"t-2"}`, "9b74c45704a4"},
	} {
		if got := fp(c.cfg); got != c.want {
			t.Errorf("fingerprint of %s = %s, want %s", c.cfg, got, c.want)
		}
	}
}

// TestConfigFingerprintLeavesOutSecretStrings: a SecretString in a field
// the spec does not mark secret is a secret all the same, left out of the
// fingerprint as a marked one is. It used to be hashed as its reference
// into the Connector's vault, whose number follows map order and grows
// with each SetConfig: the same config gave another fingerprint on the
// next SetConfig and in another Connector, and the destination's next
// Write started over.
func TestConfigFingerprintLeavesOutSecretStrings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const spec = `{"type":"object","properties":{"path":{"type":"string"}}}`
	cfg := func() map[string]any {
		return map[string]any{
			"path": "/a", "password": secrets.NewSecretString("pw-1"), "api_key": secrets.NewSecretString("k-1"),
			"app": struct {
				Name   string               `json:"name"`
				Secret secrets.SecretString `json:"secret"`
			}{"x", secrets.NewSecretString("s-1")},
		}
	}
	got := map[string]bool{}
	for range 2 {
		d, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(offline(t)),
			connector.WithGoConnector(specDest{spec: spec}))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if err := d.SetConfig(cfg()); err != nil {
				t.Fatal(err)
			}
			f, err := core.ConnOf(d).ConfigFingerprint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got[f] = true
		}
	}
	if len(got) != 1 {
		t.Fatalf("one config, %d fingerprints: %v", len(got), got)
	}
	// Left out as a marked secret is: the fingerprint is that of the
	// config without the SecretStrings.
	d, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(offline(t)),
		connector.WithGoConnector(specDest{spec: spec}), connector.WithConfig(`{"path":"/a","app":{"name":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	want, err := core.ConnOf(d).ConfigFingerprint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !got[want] {
		t.Errorf("fingerprint %v, want %s as without the SecretStrings", got, want)
	}
}

// TestExecutableOfTheOtherKind runs a source's executable as a destination,
// and a destination's as a source: Check passed (a source answers check as
// a destination does), and only Write's first command failed. When the
// executable's name and its spec agree that it is of the other kind (a
// destination's spec declares its destination sync modes, a source's
// none), Check and ValidateConfig refuse it, saying which it is. Where
// either says otherwise, nothing is refused.
func TestExecutableOfTheOtherKind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := offline(t)
	faker := testenv.BuildBinary(t, "./cmd/source-faker")
	localJSON := testenv.BuildBinary(t, "./cmd/destination-local-json")
	// A destination whose executable is named as a source: its spec says
	// what it is.
	lookalike := filepath.Join(t.TempDir(), "source-lookalike")
	if err := os.Symlink(localJSON, lookalike); err != nil {
		t.Fatal(err)
	}
	fakerConfig := map[string]any{"count": 1}
	jsonConfig := map[string]any{"destination_path": t.TempDir()}
	for _, c := range []struct {
		kind   core.Kind
		name   string
		path   string
		config map[string]any
		want   string // "" for none
	}{
		{core.KindDestination, "destination-mine", faker, fakerConfig, "is a source, not a destination"},
		{core.KindSource, "source-mine", localJSON, jsonConfig, "is a destination, not a source"},
		{core.KindSource, "source-faker", faker, fakerConfig, ""},
		{core.KindDestination, "destination-local-json", localJSON, jsonConfig, ""},
		{core.KindDestination, "destination-lookalike", lookalike, jsonConfig, ""},
	} {
		conn, err := core.New[*connector.Connector, connector.Option](ctx, c.kind, c.name, connector.WithEnvironment(env),
			connector.WithLocalExecutable(c.path), connector.WithConfig(c.config))
		if err != nil {
			t.Fatal(err)
		}
		for verb, err := range map[string]error{"Check": conn.Check(ctx), "ValidateConfig": conn.ValidateConfig(ctx)} {
			switch {
			case c.want == "" && err != nil:
				t.Errorf("%s as a %s: %s: %v", c.path, c.kind, verb, err)
			case c.want != "" && (!errors.Is(err, connector.ErrInvalidOption) || !strings.Contains(err.Error(), c.want)):
				t.Errorf("%s as a %s: %s: got %v, want an *OptionError saying %q", c.path, c.kind, verb, err, c.want)
			}
		}
	}
}

// configSeen is a destination written in Go, echoDest's spec, whose check
// passes any token and keeps every config it is given, as the connector
// received it.
type configSeen struct {
	echoDest
	mu      *sync.Mutex
	configs *[]string
}

func (d configSeen) Check(_ context.Context, config json.RawMessage) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	*d.configs = append(*d.configs, string(config))
	return nil
}

// TestTenantSecretsAreItsOwn: an Environment made by NewEnvironment, a
// tenant's, resolves the references of its configs from its own managers
// only: the server's environment variables and ./.env are not found (the
// connector never runs, nor sees them), while the tenant's vault still
// answers and the DefaultEnvironment, the program's own, still finds both.
func TestTenantSecretsAreItsOwn(t *testing.T) {
	const server, dotenv, tenant = "goodtoken-of-the-server-4b1d", "goodtoken-of-the-dotenv-8e2a", "goodtoken-of-the-tenant-c93f"
	t.Chdir(t.TempDir())
	t.Setenv("CI", "true") // were a prompt asked, it would not hang the test
	t.Setenv("CONNECTOR_TEST_SERVER_TOKEN", server)
	if err := os.WriteFile(".env", []byte("CONNECTOR_TEST_DOTENV_TOKEN="+dotenv+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var mu sync.Mutex
	var configs []string
	check := func(env *connector.Environment, name string) error {
		t.Helper()
		d, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-seen", connector.WithEnvironment(env),
			connector.WithGoConnector(configSeen{mu: &mu, configs: &configs}),
			connector.WithConfig(map[string]any{"token": secrets.ReferencePrefix + name}))
		if err != nil {
			t.Fatal(err)
		}
		return d.Check(ctx)
	}
	seen := func() string {
		mu.Lock()
		defer mu.Unlock()
		s := strings.Join(configs, "\n")
		configs = nil
		return s
	}

	env := offline(t)
	env.AddSecretManager(vault{"TENANT_TOKEN": tenant})
	for _, name := range []string{"CONNECTOR_TEST_SERVER_TOKEN", "CONNECTOR_TEST_DOTENV_TOKEN"} {
		err := check(env, name)
		var nf *secrets.SecretNotFoundError
		if !errors.As(err, &nf) || !errors.Is(err, secrets.ErrSecretNotFound) || nf.Name != name {
			t.Fatalf("a tenant's reference to the server's %s: %v, want a *SecretNotFoundError", name, err)
		}
		for _, want := range []string{"tried: test vault.", "does not read the process's environment variables or .env file", "AddSecretManager", "os.Getenv"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error does not say %q: %v", want, err)
			}
		}
		if strings.Contains(err.Error(), "Set the environment variable") {
			t.Errorf("the error advises what this Environment does not read: %v", err)
		}
		if got := seen(); got != "" {
			t.Fatalf("the connector ran with the config %s", got)
		}
		// GetSecret with the Environment's options finds nothing either.
		if _, err := secrets.GetSecret(ctx, name, env.SecretOptions()...); !errors.As(err, &nf) {
			t.Fatalf("GetSecret(%s) with a tenant's SecretOptions: %v, want a *SecretNotFoundError", name, err)
		}
	}
	if err := check(env, "TENANT_TOKEN"); err != nil {
		t.Fatalf("the tenant's own secret: %v", err)
	}
	if got := seen(); got != `{"token":"`+tenant+`"}` {
		t.Fatalf("the connector saw %s, want the tenant's token", got)
	}
	// An Environment with no manager says that it has none.
	if err := check(offline(t), "CONNECTOR_TEST_SERVER_TOKEN"); !errors.Is(err, secrets.ErrSecretNotFound) ||
		!strings.Contains(err.Error(), "tried: no manager (none was added)") {
		t.Fatalf("an Environment with no manager: %v", err)
	}

	// The program's own Environment reads its variables and .env.
	for name, want := range map[string]string{"CONNECTOR_TEST_SERVER_TOKEN": server, "CONNECTOR_TEST_DOTENV_TOKEN": dotenv} {
		if err := check(connector.DefaultEnvironment(), name); err != nil {
			t.Fatalf("the default Environment's %s: %v", name, err)
		}
		if got := seen(); got != `{"token":"`+want+`"}` {
			t.Fatalf("the connector saw %s, want the value of %s", got, name)
		}
		if s, err := secrets.GetSecret(ctx, name, connector.DefaultEnvironment().SecretOptions()...); err != nil || s.Reveal() != want {
			t.Fatalf("GetSecret(%s) with the default SecretOptions: %v", name, err)
		}
	}
}

// TestRegistryWarnsToTheLoggerOfTheMoment: the registry loader is made on
// the Environment's first use of it, but its warnings go to the logger set
// after that (a server that sets a tenant's logger once its Environment is
// in use), with that logger's attributes.
func TestRegistryWarnsToTheLoggerOfTheMoment(t *testing.T) {
	t.Setenv("AIRBYTE_OFFLINE_MODE", "1")
	t.Setenv("AIRBYTE_LOCAL_REGISTRY", "")
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // no cached registry
	env := connector.NewEnvironment()
	loader := env.Registry()
	var out strings.Builder
	env.SetLogger(slog.New(slog.NewTextHandler(&out, nil)).With("tenant", "acme"))
	if _, err := loader.Available(context.Background(), registry.InstallAny); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "offline mode and no cached connector registry") || !strings.Contains(got, "tenant=acme") {
		t.Fatalf("the registry's warning did not reach the logger set after its first use: %q", got)
	}
}
