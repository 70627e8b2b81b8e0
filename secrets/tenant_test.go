package secrets_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/ptytest"
	"github.com/x/goairbyte/secrets"
)

// TestTenantIsNeverPrompted: on a terminal, with CI unset, a secret that an
// Environment made by connector.NewEnvironment (a tenant's) does not have is
// not asked for at the prompt, which belongs to the program: the answer
// typed stays unread, and the default Environment's lookup of the same name
// then prompts and gets it.
func TestTenantIsNeverPrompted(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CI", "")
	term := ptytest.Open(t, 80)
	term.Type(t, "typed-for-the-program-only\n")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a guard against a hang
	defer cancel()
	var question bytes.Buffer
	prompt := secrets.WithPromptTerminal(term.TTY, &question)

	tenant := connector.NewEnvironment()
	_, err := secrets.GetSecret(ctx, "TENANT_PROMPTED_SECRET", append(tenant.SecretOptions(), prompt)...)
	var nf *secrets.SecretNotFoundError
	if !errors.As(err, &nf) || strings.Contains(err.Error(), "interactive prompt") {
		t.Fatalf("a tenant's secret on a terminal: %v, want a *SecretNotFoundError naming no prompt", err)
	}
	if question.Len() > 0 {
		t.Fatalf("a tenant's lookup prompted: %q", question.String())
	}

	got, err := secrets.GetSecret(ctx, "TENANT_PROMPTED_SECRET", append(connector.DefaultEnvironment().SecretOptions(), prompt)...)
	if err != nil || got.Reveal() != "typed-for-the-program-only" {
		t.Fatalf("the default Environment's prompt: %q, %v; want the answer typed", got.Reveal(), err)
	}
	if !strings.Contains(question.String(), "Enter secret TENANT_PROMPTED_SECRET") {
		t.Fatalf("question: %q", question.String())
	}
}
