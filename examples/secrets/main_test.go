package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/x/goairbyte"
)

// TestSecrets runs the example with the secret in the environment: the
// connector gets it, and nothing the example prints contains it.
func TestSecrets(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CI", "true") // never prompt
	const secret = "example-secret-value-4711"
	t.Setenv("FAKER_API_KEY", secret)
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("secrets example: %v\n%s", err, out.String())
	}
	got := out.String()
	if strings.Contains(got, secret) {
		t.Fatalf("the secret leaked into the output:\n%s", got)
	}
	want := `the connection check passed with the resolved config
config as written: api_key = secret_reference::FAKER_API_KEY
level=INFO msg="config as the connector got it" config="map[api_key:**** count:10 seed:42]"
the secret: ****, "****", **** (25 characters; Reveal returns them)
an error message that quotes ****
`
	if got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

// TestSecretsMissing checks that a missing secret is a
// *SecretNotFoundError naming it.
func TestSecretsMissing(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CI", "true")
	t.Setenv("FAKER_API_KEY", "")
	err := run(context.Background(), &bytes.Buffer{})
	var nf *goairbyte.SecretNotFoundError
	if !errors.As(err, &nf) || nf.Name != "FAKER_API_KEY" {
		t.Fatalf("err = %v, want a *SecretNotFoundError for FAKER_API_KEY", err)
	}
}
