package secrets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/x/goairbyte/internal/secretchain"
)

// SecretManager is one source of secrets.
type SecretManager interface {
	// Name says which source this is, for error messages ("vault",
	// "environment variables").
	Name() string
	// Get looks name up. found=false with a nil error means "not here, ask
	// the next source"; a non-nil error stops the search (the source exists
	// but failed) and is returned to the caller.
	Get(ctx context.Context, name string) (value SecretString, found bool, err error)
}

// Option configures one [GetSecret] or [ResolveReferences] call.
type Option func(*options)

type options struct {
	managers []SecretManager
	// managersOnly leaves the built-in sources out of the chain: the
	// option an Environment made by connector.NewEnvironment passes
	// (internal/secretchain is its door).
	managersOnly bool
	dotenvPath   string
	prompt       bool
	promptIn     *os.File
	promptOut    io.Writer
}

// WithManager asks m before the built-in sources (environment variables,
// the .env file, the prompt), after the managers given before it. A
// connector.Environment passes its managers this way (and one made by
// connector.NewEnvironment leaves the built-in sources out).
func WithManager(m SecretManager) Option {
	return func(o *options) { o.managers = append(o.managers, m) }
}

// WithDotenvFile reads secrets from path instead of .env in the working
// directory.
func WithDotenvFile(path string) Option {
	return func(o *options) { o.dotenvPath = path }
}

// WithPrompt enables (the default) or disables the interactive prompt.
func WithPrompt(enabled bool) Option {
	return func(o *options) { o.prompt = enabled }
}

// withPromptTerminal prompts on in (which must be a terminal) and writes the
// question to out, instead of os.Stdin and os.Stderr.
func withPromptTerminal(in *os.File, out io.Writer) Option {
	return func(o *options) { o.promptIn, o.promptOut = in, out }
}

// The managers-only option is for package connector only:
// internal/secretchain is its door.
func init() {
	secretchain.Provide(Option(func(o *options) { o.managersOnly = true }))
}

func buildOptions(opts []Option) *options {
	o := &options{dotenvPath: ".env", prompt: true, promptIn: os.Stdin, promptOut: os.Stderr}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// chain is the ordered list of sources one call asks.
func (o *options) chain() []SecretManager {
	if o.managersOnly {
		return o.managers
	}
	chain := append(append([]SecretManager(nil), o.managers...), envManager{}, dotenvManager{Path: o.dotenvPath})
	if o.prompt {
		chain = append(chain, promptManager{In: o.promptIn, Out: o.promptOut})
	}
	return chain
}

// GetSecret returns the secret called name from the first source that has
// it: custom managers, environment variables, the .env file, then an
// interactive prompt (see the package documentation; with the
// SecretOptions of an Environment made by connector.NewEnvironment, the
// managers only). When none has it, the
// error is a *[SecretNotFoundError]. A config's reference, "secret_reference::NAME",
// names the secret NAME, as in a config (and in PyAirbyte's get_secret).
func GetSecret(ctx context.Context, name string, opts ...Option) (SecretString, error) {
	if ref, ok := strings.CutPrefix(name, ReferencePrefix); ok {
		name = strings.TrimSpace(ref)
	}
	return buildOptions(opts).get(ctx, name)
}

func (o *options) get(ctx context.Context, name string) (SecretString, error) {
	if name == "" {
		return SecretString{}, errors.New("secrets: empty secret name")
	}
	var tried []string
	for _, m := range o.chain() {
		if err := ctx.Err(); err != nil {
			return SecretString{}, err
		}
		v, found, err := m.Get(ctx, name)
		if err != nil {
			return SecretString{}, MaskError(fmt.Errorf("secrets: %s failed to look up %q: %w", m.Name(), name, err))
		}
		if found {
			return v, nil
		}
		tried = append(tried, m.Name())
	}
	return SecretString{}, &SecretNotFoundError{Name: name, Tried: tried, managersOnly: o.managersOnly}
}

// ErrSecretNotFound is the sentinel [SecretNotFoundError] matches.
var ErrSecretNotFound = errors.New("secret not found")

// SecretNotFoundError says that no source had the secret.
type SecretNotFoundError struct {
	Name  string   // the secret asked for, also the environment variable looked up
	Tried []string // the sources asked, in order, with why a source was skipped
	// managersOnly: the chain was an Environment's own managers, with no
	// built-in source (see connector.NewEnvironment).
	managersOnly bool
}

// Is matches ErrSecretNotFound.
func (e *SecretNotFoundError) Is(target error) bool { return target == ErrSecretNotFound }

// Error lists the sources tried and how to provide the secret.
func (e *SecretNotFoundError) Error() string {
	if e.managersOnly {
		tried := "no manager (none was added)"
		if len(e.Tried) > 0 {
			tried = strings.Join(e.Tried, "; ")
		}
		return fmt.Sprintf("secret %q not found; tried: %s. This Environment (made by NewEnvironment) asks its own secret managers only: "+
			"it does not read the process's environment variables or .env file, nor prompt. Give it a SecretManager that has %s with "+
			"AddSecretManager (one of your own that reads os.Getenv gives it the environment variables back)",
			e.Name, tried, e.Name)
	}
	return fmt.Sprintf("secret %q not found; tried: %s. Set the environment variable %s, add %s=... to a .env file in the working directory, or register a SecretManager that has it",
		e.Name, strings.Join(e.Tried, "; "), e.Name, e.Name)
}

// envManager reads secrets from environment variables of the same name.
type envManager struct{}

// Name implements [SecretManager].
func (envManager) Name() string { return "environment variables" }

// Get implements [SecretManager]. An empty variable counts as not set.
func (envManager) Get(_ context.Context, name string) (SecretString, bool, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return SecretString{}, false, nil
	}
	return NewSecretString(v), true, nil
}

// dotenvManager reads secrets from a dotenv file (see [parseDotenv] for the
// syntax). A missing file is not an error: it simply has no secrets.
type dotenvManager struct {
	Path string // ".env" when empty, relative to the working directory
}

func (d dotenvManager) path() string {
	if d.Path == "" {
		return ".env"
	}
	return d.Path
}

// Name implements [SecretManager].
func (d dotenvManager) Name() string { return fmt.Sprintf("dotenv file %s", d.path()) }

// Get implements [SecretManager]. The file is read on each call, so edits
// are seen without restarting.
func (d dotenvManager) Get(_ context.Context, name string) (SecretString, bool, error) {
	f, err := os.Open(d.path())
	if errors.Is(err, os.ErrNotExist) {
		return SecretString{}, false, nil
	}
	if err != nil {
		return SecretString{}, false, err
	}
	defer f.Close()
	vars, err := parseDotenv(f)
	if err != nil {
		return SecretString{}, false, fmt.Errorf("%s: %w", d.path(), err)
	}
	v, ok := vars[name]
	if !ok || v == "" {
		return SecretString{}, false, nil
	}
	return NewSecretString(v), true, nil
}

// promptManager asks the user, without echo. It only prompts when In is a
// terminal and the CI environment variable is unset: a prompt in a pipeline
// or under a test runner would hang forever.
type promptManager struct {
	In  *os.File  // os.Stdin when nil
	Out io.Writer // os.Stderr when nil; receives the question
}

// Name implements [SecretManager].
func (p promptManager) Name() string {
	if reason := p.skipReason(); reason != "" {
		return "interactive prompt (skipped: " + reason + ")"
	}
	return "interactive prompt"
}

func (p promptManager) in() *os.File {
	if p.In == nil {
		return os.Stdin
	}
	return p.In
}

func (p promptManager) skipReason() string {
	if ci, ok := os.LookupEnv("CI"); ok && ci != "" && ci != "0" && !strings.EqualFold(ci, "false") {
		return "CI is set"
	}
	if !term.IsTerminal(int(p.in().Fd())) {
		return "standard input is not a terminal"
	}
	return ""
}

// Get implements [SecretManager]. An empty answer counts as not found.
func (p promptManager) Get(ctx context.Context, name string) (SecretString, bool, error) {
	if p.skipReason() != "" {
		return SecretString{}, false, nil
	}
	out := p.Out
	if out == nil {
		out = os.Stderr
	}
	fmt.Fprintf(out, "Enter secret %s: ", name)
	type answer struct {
		b   []byte
		err error
	}
	// term.ReadPassword cannot be interrupted; the goroutine ends when the
	// user presses enter, but the caller is not kept waiting after ctx ends.
	ch := make(chan answer, 1)
	go func() {
		b, err := term.ReadPassword(int(p.in().Fd()))
		ch <- answer{b, err}
	}()
	select {
	case <-ctx.Done():
		return SecretString{}, false, ctx.Err()
	case a := <-ch:
		fmt.Fprintln(out)
		if a.err != nil {
			return SecretString{}, false, fmt.Errorf("reading from the terminal: %w", a.err)
		}
		if len(a.b) == 0 {
			return SecretString{}, false, nil
		}
		return NewSecretString(string(a.b)), true, nil
	}
}
