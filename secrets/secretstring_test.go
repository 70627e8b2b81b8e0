package secrets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretStringNeverPrints(t *testing.T) {
	s := NewSecretString("s3cr3t-value-for-fmt")
	raw := s.Reveal()
	if raw != "s3cr3t-value-for-fmt" {
		t.Fatal("Reveal")
	}
	type exported struct{ Token SecretString }
	type unexported struct{ token SecretString }
	type nested struct {
		Name string
		Auth *exported
		List []SecretString
		Map  map[string]SecretString
	}
	values := []any{s, &s, exported{s}, unexported{s}, &unexported{s},
		nested{"n", &exported{s}, []SecretString{s}, map[string]SecretString{"k": s}}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-8v", "%T %v"} {
		for _, v := range values {
			out := fmt.Sprintf(verb, v)
			leak(t, verb, out, raw)
			// %x of a string would hex-encode the secret; check that too.
			leak(t, verb, out, fmt.Sprintf("%x", raw))
		}
	}
	if got := fmt.Sprintf("%v|%s|%q|%#v", s, s, s, s); got != `****|****|"****"|secrets.SecretString("****")` {
		t.Fatalf("formats = %s", got)
	}
	leak(t, "Sprint", fmt.Sprint(s, &s)+fmt.Sprintln(s), raw)
	if s.String() != masked || s.GoString() != `secrets.SecretString("****")` {
		t.Fatal("String/GoString")
	}

	// The zero value is an empty secret.
	var zero SecretString
	if !zero.IsZero() || zero.Reveal() != "" || fmt.Sprint(zero) != "" {
		t.Fatal("zero value")
	}
}

func TestSecretStringMarshalling(t *testing.T) {
	s := NewSecretString("s3cr3t-value-for-json")
	raw := s.Reveal()
	b, err := json.Marshal(map[string]any{"api_key": s, "nested": struct {
		Key  SecretString `json:"key"`
		Keys []SecretString
	}{s, []SecretString{s}}})
	if err != nil {
		t.Fatal(err)
	}
	leak(t, "json", string(b), raw)
	if !strings.Contains(string(b), `"api_key":"****"`) {
		t.Fatalf("json = %s", b)
	}
	text, _ := s.MarshalText()
	if string(text) != masked {
		t.Fatalf("text = %s", text)
	}

	// Unmarshalling makes a SecretString that is registered for masking.
	var cfg struct {
		Token SecretString `json:"token"`
	}
	if err := json.Unmarshal([]byte(`{"token":"unmarshalled-secret-99"}`), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Token.Reveal() != "unmarshalled-secret-99" || Mask("x unmarshalled-secret-99") != "x ****" {
		t.Fatal("UnmarshalJSON did not register the value")
	}
	if err := json.Unmarshal([]byte(`{"token":42}`), &cfg); err == nil {
		t.Fatal("a number was accepted as a secret")
	}
	var fromText SecretString
	fromText.UnmarshalText([]byte("text-secret-value-1"))
	if Mask("text-secret-value-1") != masked {
		t.Fatal("UnmarshalText did not register the value")
	}
}

func TestSecretStringSlog(t *testing.T) {
	s := NewSecretString("s3cr3t-value-for-slog")
	raw := s.Reveal()
	for name, mk := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		// A plain handler, no masking wrapper: LogValue alone must hold.
		log := slog.New(mk(&buf))
		log.Info("connecting", "password", s, slog.Any("ptr", &s), slog.Group("auth", "token", s))
		log.With("secret", s).Error("failed")
		out := buf.String()
		leak(t, name, out, raw)
		if strings.Count(out, masked) != 4 {
			t.Errorf("%s: %s", name, out)
		}
	}
}

func TestSecretStringInErrors(t *testing.T) {
	s := NewSecretString("s3cr3t-value-for-errors")
	raw := s.Reveal()
	inner := fmt.Errorf("login with %v failed", s)
	outer := fmt.Errorf("check: %w", inner)
	type authError struct{ Token SecretString }
	for _, e := range []error{inner, outer, fmt.Errorf("%+v", authError{s}), errors.Join(outer, inner)} {
		leak(t, "error", e.Error()+fmt.Sprintf("%v %+v %#v", e, e, e), raw)
	}
	// An error built from the revealed value is caught by masking.
	revealed := fmt.Errorf("connector echoed password=%s", s.Reveal())
	leak(t, "MaskError", MaskError(revealed).Error(), raw)
	if Mask(revealed.Error()) != "connector echoed password=****" {
		t.Fatal(Mask(revealed.Error()))
	}
}
