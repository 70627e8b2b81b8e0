package goairbyte_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/secrets"
)

func TestGetSecretFacade(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CI", "true")
	t.Setenv("FACADE_SECRET", "facade-secret-value")
	s, err := goairbyte.GetSecret(context.Background(), "FACADE_SECRET")
	if err != nil || s.Reveal() != "facade-secret-value" || fmt.Sprint(s) != "****" {
		t.Fatalf("GetSecret = %v, %v", s, err)
	}
	if secrets.Mask("x facade-secret-value") != "x ****" {
		t.Fatal("not registered for masking")
	}
	_, err = goairbyte.GetSecret(context.Background(), "FACADE_MISSING")
	var nf *goairbyte.SecretNotFoundError
	if !errors.As(err, &nf) || nf.Name != "FACADE_MISSING" {
		t.Fatalf("missing: %v", err)
	}
}
