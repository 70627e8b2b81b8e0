package secrets

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

func TestParseDotenv(t *testing.T) {
	doc := "# credentials for the demo\n" +
		"PLAIN=value\n" +
		"  SPACED  =   spaced value   \n" +
		"export EXPORTED=yes-exported\n" +
		"COMMENTED=abc # not part of it\n" +
		"HASH=abc#def\n" +
		"EMPTY=\n" +
		"DOUBLE=\"a \\\"quoted\\\" \\\\ value\\n second # kept\"\n" +
		"SINGLE='literal \\n $HOME # kept'\n" +
		"MULTI=\"line one\nline two\"  # trailing comment\n" +
		"PEM='-----BEGIN KEY-----\nabc\n-----END KEY-----'\n" +
		"WIN=crlf\r\n" +
		"exportX=not-a-prefix\n" +
		"PLAIN=last wins\n"
	got, err := parseDotenv(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"PLAIN":     "last wins",
		"SPACED":    "spaced value",
		"EXPORTED":  "yes-exported",
		"COMMENTED": "abc",
		"HASH":      "abc#def",
		"EMPTY":     "",
		"DOUBLE":    "a \"quoted\" \\ value\n second # kept",
		"SINGLE":    `literal \n $HOME # kept`,
		"MULTI":     "line one\nline two",
		"PEM":       "-----BEGIN KEY-----\nabc\n-----END KEY-----",
		"WIN":       "crlf",
		"exportX":   "not-a-prefix",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	for doc, wantErr := range map[string]string{
		"A=1\nnot a pair\n":    "line 2",
		"A=1\nB=\"open\nstill": "line 2: the value of B has no closing",
		"K='x' y\n":            "unexpected text",
		"BAD KEY=1\n":          "line 1",
	} {
		if _, err := parseDotenv(strings.NewReader(doc)); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: got %v, want %q", doc, err, wantErr)
		}
	}
}

// mapManager is a real SecretManager backed by a map, as a program's vault
// client would be.
type mapManager struct {
	name   string
	values map[string]string
	calls  []string
	err    error
}

func (m *mapManager) Name() string { return m.name }
func (m *mapManager) Get(_ context.Context, name string) (SecretString, bool, error) {
	m.calls = append(m.calls, name)
	if m.err != nil {
		return SecretString{}, false, m.err
	}
	v, ok := m.values[name]
	if !ok {
		return SecretString{}, false, nil
	}
	return NewSecretString(v), true, nil
}

func TestGetSecretOrder(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CI", "true")
	if err := os.WriteFile(".env", []byte("ORDER_DOTENV=from-dotenv-file\nORDER_ENV=dotenv-loses\nORDER_ALL=dotenv-loses\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ORDER_ENV", "from-environment")
	t.Setenv("ORDER_ALL", "environment-loses")
	perCall := &mapManager{name: "per-call vault", values: map[string]string{"ORDER_ALL": "from-per-call"}}
	// An Environment's managers come after the caller's, in order.
	registered := &mapManager{name: "registered vault", values: map[string]string{"ORDER_ALL": "registered-loses", "ORDER_REG": "from-registered"}}
	ctx := context.Background()

	for name, want := range map[string]string{
		"ORDER_ALL":    "from-per-call",
		"ORDER_REG":    "from-registered",
		"ORDER_ENV":    "from-environment",
		"ORDER_DOTENV": "from-dotenv-file",
	} {
		got, err := GetSecret(ctx, name, WithManager(perCall), WithManager(registered))
		if err != nil || got.Reveal() != want {
			t.Errorf("%s = %q, %v; want %q", name, got.Reveal(), err, want)
		}
		if Mask(want) != masked {
			t.Errorf("%s was not registered for masking", name)
		}
	}
	if len(perCall.calls) != 4 || len(registered.calls) != 3 {
		t.Fatalf("calls: per-call %v, registered %v", perCall.calls, registered.calls)
	}

	// A dotenv file elsewhere.
	other := filepath.Join(t.TempDir(), "prod.env")
	os.WriteFile(other, []byte("export ORDER_OTHER='from other file'\n"), 0o600)
	if got, err := GetSecret(ctx, "ORDER_OTHER", WithDotenvFile(other)); err != nil || got.Reveal() != "from other file" {
		t.Fatalf("WithDotenvFile: %q %v", got.Reveal(), err)
	}

	// A failing manager stops the search with its error, masked.
	broken := &mapManager{name: "broken vault", err: errors.New("vault sealed; last token from-per-call")}
	_, err := GetSecret(ctx, "ORDER_ENV", WithManager(broken))
	if err == nil || !strings.Contains(err.Error(), "broken vault") || strings.Contains(err.Error(), "from-per-call") ||
		!errors.Is(err, broken.err) {
		t.Fatalf("broken manager: %v", err)
	}

	// A malformed .env is an error naming the file and line.
	os.WriteFile(".env", []byte("OK=1\nthis is not dotenv\n"), 0o600)
	_, err = GetSecret(ctx, "ORDER_DOTENV")
	if err == nil || !strings.Contains(err.Error(), ".env") || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("malformed dotenv: %v", err)
	}
}

func TestSecretNotFound(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CI", "1")
	t.Setenv("NOT_FOUND_EMPTY", "")
	for _, name := range []string{"NOT_FOUND_ANYWHERE", "NOT_FOUND_EMPTY"} {
		_, err := GetSecret(context.Background(), name, WithManager(&mapManager{name: "test vault"}))
		var nf *SecretNotFoundError
		if !errors.As(err, &nf) || nf.Name != name {
			t.Fatalf("got %v", err)
		}
		for _, want := range []string{"test vault", "environment variables", "dotenv file .env", "interactive prompt (skipped: CI is set)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
	}
	_, err := GetSecret(context.Background(), "NOT_FOUND_ANYWHERE", WithPrompt(false))
	if err == nil || strings.Contains(err.Error(), "prompt") {
		t.Fatalf("prompt disabled: %v", err)
	}
}

func TestPromptOnTerminal(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CI", "")
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	var question bytes.Buffer
	if _, err := ptmx.Write([]byte("typed-at-the-prompt\n")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := GetSecret(ctx, "PROMPTED_SECRET", withPromptTerminal(tty, &question))
	if err != nil || got.Reveal() != "typed-at-the-prompt" {
		t.Fatalf("prompt: %q %v", got.Reveal(), err)
	}
	if !strings.Contains(question.String(), "Enter secret PROMPTED_SECRET") {
		t.Fatalf("question: %q", question.String())
	}
	if Mask("typed-at-the-prompt") != masked {
		t.Fatal("prompted value not registered")
	}

	// Never in CI, even on a terminal.
	t.Setenv("CI", "true")
	ptmx.Write([]byte("must-not-be-read\n"))
	_, err = GetSecret(ctx, "PROMPTED_SECRET", withPromptTerminal(tty, &question))
	var nf *SecretNotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "CI is set") {
		t.Fatalf("CI prompt: %v", err)
	}
	// Never when the input is not a terminal.
	t.Setenv("CI", "")
	f, _ := os.Open(os.DevNull)
	defer f.Close()
	_, err = GetSecret(ctx, "PROMPTED_SECRET", withPromptTerminal(f, &question))
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "not a terminal") {
		t.Fatalf("non-terminal prompt: %v", err)
	}
}

// TestGetSecretOfAReference: a config's reference given to GetSecret names
// the secret after the prefix, as in the config (PyAirbyte's get_secret
// takes it so too), instead of looking up "secret_reference::NAME".
func TestGetSecretOfAReference(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CI", "1")
	t.Setenv("REFERENCED_TOKEN", "from-the-environment")
	for _, name := range []string{"secret_reference::REFERENCED_TOKEN", "secret_reference:: REFERENCED_TOKEN"} {
		got, err := GetSecret(context.Background(), name)
		if err != nil || got.Reveal() != "from-the-environment" {
			t.Errorf("GetSecret(%q) = %q, %v; want the secret REFERENCED_TOKEN", name, got.Reveal(), err)
		}
	}
	_, err := GetSecret(context.Background(), "secret_reference::MISSING_TOKEN")
	var nf *SecretNotFoundError
	if !errors.As(err, &nf) || nf.Name != "MISSING_TOKEN" {
		t.Fatalf("a missing referenced secret: %v, want a *SecretNotFoundError for MISSING_TOKEN", err)
	}
	if _, err := GetSecret(context.Background(), "secret_reference::"); err == nil {
		t.Fatal("a reference naming nothing was looked up")
	}
}
