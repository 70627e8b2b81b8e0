package secrets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// leak fails the test when any of secrets appears in out.
func leak(t *testing.T, what, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("%s leaks %q: %s", what, s, out)
		}
	}
}

func TestMaskRegisteredValues(t *testing.T) {
	Register("mask-test-short-key", "mask-test-short-key-and-more", "abc")
	got := Mask("a=mask-test-short-key-and-more b=mask-test-short-key c=abc")
	if got != "a=**** b=**** c=abc" {
		t.Fatalf("Mask = %q", got)
	}
	if b := []byte("plain text"); &maskBytes(b)[0] != &b[0] {
		t.Fatal("MaskBytes copied a line with nothing to mask")
	}
	if got := string(maskBytes([]byte("x mask-test-short-key x"))); got != "x **** x" {
		t.Fatalf("MaskBytes = %q", got)
	}
}

func TestMaskJSONEscapedForms(t *testing.T) {
	secret := `pa"ss\word<&>` + "\n"
	Register(secret)
	for _, html := range []bool{true, false} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(html)
		enc.Encode(map[string]string{"password": secret})
		got := Mask(buf.String())
		if got != `{"password":"****"}`+"\n" {
			t.Errorf("html=%v: %q masked to %q", html, buf.String(), got)
		}
	}
}

func TestMaskError(t *testing.T) {
	s := NewSecretString("mask-error-secret-1")
	base := fmt.Errorf("connector said: token=%s: %w", s.Reveal(), fs.ErrPermission)
	err := MaskError(fmt.Errorf("check failed: %w", base))
	if err.Error() != "check failed: connector said: token=****: permission denied" {
		t.Fatalf("masked error = %q", err)
	}
	if !errors.Is(err, fs.ErrPermission) || errors.Unwrap(err) == nil {
		t.Fatal("MaskError broke the error chain")
	}
	if MaskError(err) != err || MaskError(nil) != nil {
		t.Fatal("MaskError is not idempotent")
	}
	leak(t, "%v of masked error", fmt.Sprintf("%v %+v %s %q", err, err, err, err), s.Reveal())
}

func TestMaskConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			Register(fmt.Sprintf("concurrent-secret-%d", i))
		}()
		go func() {
			defer wg.Done()
			for range 100 {
				Mask("concurrent-secret-1 and concurrent-secret-2")
			}
		}()
	}
	wg.Wait()
	if got := Mask("concurrent-secret-7"); got != masked {
		t.Fatalf("got %q", got)
	}
}

func TestMaskingHandler(t *testing.T) {
	s := NewSecretString("handler-secret-1234")
	raw := s.Reveal()
	type config struct {
		Host     string
		Password string
	}
	for name, mk := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(NewMaskingHandler(mk(&buf))).With("preset", "k="+raw)
		log.Info("connector stderr: password="+raw,
			"line", raw,
			"bytes", []byte(raw),
			"err", fmt.Errorf("auth with %s failed", raw),
			"config", config{Host: "db", Password: raw},
			slog.Group("g", "inner", raw),
			"secret", s)
		log.WithGroup("grp").Warn("again", "v", raw)
		out := buf.String()
		leak(t, name+" handler", out, raw)
		if strings.Count(out, masked) < 8 || !strings.Contains(out, "db") {
			t.Errorf("%s: unexpected output %s", name, out)
		}
	}
}

// TestMaskEncodedForms: the forms in which real connectors print a secret —
// URL-encoded in a query or a path, JSON as Python writes it (non-ASCII as
// \uXXXX), with / escaped, base64 — are masked as the secret is.
func TestMaskEncodedForms(t *testing.T) {
	secret := "pä$$/wörd+🔑 key"
	Register(secret)
	for _, form := range []string{
		"https://api.example.com/v1?token=p%C3%A4%24%24%2Fw%C3%B6rd%2B%F0%9F%94%91+key&x=1", // url.QueryEscape
		"GET /v1/keys/p%C3%A4$$%2Fw%C3%B6rd+%F0%9F%94%91%20key",                             // url.PathEscape
		`{"token": "p\u00e4$$/w\u00f6rd+\ud83d\udd11 key"}`,                                 // Python json.dumps
		`{"token":"pä$$\/wörd+🔑 key"}`,                                                      // / escaped
		`{"token": "p\u00e4$$\/w\u00f6rd+\ud83d\udd11 key"}`,                                // both
		"Authorization: Basic cMOkJCQvd8O2cmQr8J+UkSBrZXk=",                                 // base64
		"cMOkJCQvd8O2cmQr8J-UkSBrZXk",                                                       // base64 URL, unpadded
	} {
		if got := Mask(form); strings.Contains(got, "w\\u00f6rd") || strings.Contains(got, "w%C3%B6rd") ||
			strings.Contains(got, "wörd") || strings.Contains(got, "cMOkJCQvd8O2cmQr8J") {
			t.Errorf("not masked: %s -> %s", form, got)
		}
	}
}

// TestMaskPythonRepr: Python prints a string inside a dict or a %r as its
// repr, with escapes of its own; those forms (written by Python 3.11) are
// masked as the secret is.
func TestMaskPythonRepr(t *testing.T) {
	for secret, printed := range map[string]string{
		`pw"q\zz-repr-1`:     `{'password': 'pw"q\\zz-repr-1'}`,
		`it's-repr-2`:        `{'password': "it's-repr-2"}`,
		`it's "both"-repr-3`: `{'password': 'it\'s "both"-repr-3'}`,
		"t\tb\a\x7f\u00a0é\u200b🔑\U000e0001-repr-4": `'t\tb\x07\x7f\xa0é\u200b🔑\U000e0001-repr-4' does not match '^[a-z]+$'`,
	} {
		Register(secret)
		if got := Mask(printed); strings.Contains(got, "repr-") {
			t.Errorf("%q printed by Python as %s is masked to %s", secret, printed, got)
		}
	}
}
