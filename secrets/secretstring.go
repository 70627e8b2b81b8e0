package secrets

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// SecretString holds a credential and never shows it: String, GoString,
// every fmt verb, JSON and text marshalling and slog all print ****.
// [SecretString.Reveal] returns the value for the one place that needs it.
//
// The value sits behind a pointer so that even fmt's reflection over a
// struct with an unexported SecretString field prints an address, not the
// secret. The zero value is an empty secret and prints as "".
type SecretString struct {
	p *string
}

// NewSecretString wraps value and registers it for masking (see [Register]).
func NewSecretString(value string) SecretString {
	Register(value)
	return SecretString{p: &value}
}

// Reveal returns the secret value. Call it only where the value leaves the
// process for its rightful destination (a config file for a connector, an
// API call).
func (s SecretString) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// IsZero reports whether the secret is empty.
func (s SecretString) IsZero() bool { return s.Reveal() == "" }

// String returns **** (or "" for an empty secret).
func (s SecretString) String() string {
	if s.IsZero() {
		return ""
	}
	return masked
}

// GoString returns a masked Go-syntax form, for %#v.
func (s SecretString) GoString() string {
	return fmt.Sprintf("secrets.SecretString(%q)", s.String())
}

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s, %q,
// %x, ...) prints the masked form.
func (s SecretString) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, s.GoString())
	case verb == 'q':
		fmt.Fprintf(f, "%q", s.String())
	default:
		fmt.Fprint(f, s.String())
	}
}

// MarshalJSON encodes the masked form, so a config struct holding a
// SecretString can be logged as JSON safely. Use Reveal to write real
// configs.
func (s SecretString) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText returns the masked form.
func (s SecretString) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText takes a secret from text (such as a YAML or env value) and
// registers it for masking.
func (s *SecretString) UnmarshalText(b []byte) error {
	*s = NewSecretString(string(b))
	return nil
}

// UnmarshalJSON takes a secret from a JSON string and registers it for
// masking.
func (s *SecretString) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("secrets: a SecretString must be a JSON string: %w", err)
	}
	*s = NewSecretString(v)
	return nil
}

// LogValue implements slog.LogValuer with the masked form.
func (s SecretString) LogValue() slog.Value { return slog.StringValue(s.String()) }
