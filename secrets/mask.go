package secrets

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/x/goairbyte/internal/masklease"
)

// masked is what every secret value is replaced by.
const masked = "****"

// minMaskLength is the shortest value [Register] accepts for text masking.
// Shorter values ("1", "yes", "abc") occur everywhere in ordinary output;
// replacing them would garble every log line and hide nothing an attacker
// could not guess. A [SecretString] still prints as **** whatever its length.
const minMaskLength = 4

// masker is the process-wide set of secret values. Mask is on every log path,
// so readers only load an immutable replacer; writers rebuild it under a lock.
//
// A value is masked for good ([Register]) or while it is held (lease, for
// the access tokens our clients renew every few minutes: see package
// internal/masklease). A form is masked while it is in values or at least
// one lease holds it; leases are counted, so releasing one never unmasks a
// form that is registered for good or held by another.
type masker struct {
	mu     sync.Mutex
	values map[string]struct{} // registered for good
	leased map[string]int      // form → how many live leases hold it
	state  atomic.Pointer[maskState]
}

// maskState is an immutable snapshot of the secrets.
type maskState struct {
	values   []string // longest first
	replacer *strings.Replacer
}

// precheckLimit bounds the number of secrets for which Mask first looks for
// each one with strings.Contains (vectorised, a few ns per secret) before
// running the replacer, whose trie walk costs ~5 ns per byte. Lines that
// contain no secret — almost all — are then returned untouched. With many
// secrets the replacer alone is cheaper.
const precheckLimit = 128

var defaultMasker = &masker{values: map[string]struct{}{}}

// The lease is for our own packages only: internal/masklease is its door.
func init() { masklease.Provide(defaultMasker.lease) }

// Register adds values to the process-wide set of secrets that [Mask]
// replaces. Values shorter than 4 bytes are ignored. The forms in
// which connectors print a secret are registered too:
// JSON-escaped (Go's and Python's, which escapes non-ASCII as \uXXXX and
// may escape / as \/), inside a Python repr, URL-encoded (query and path)
// and base64.
func Register(values ...string) {
	defaultMasker.register(values)
}

func (m *masker) register(values []string) {
	forms := maskForms(values)
	m.mu.Lock()
	defer m.mu.Unlock()
	added := false
	for _, f := range forms {
		if _, ok := m.values[f]; !ok {
			m.values[f] = struct{}{}
			added = added || m.leased[f] == 0
		}
	}
	if added {
		m.rebuild()
	}
}

// lease masks values, as register does, until release is called.
func (m *masker) lease(values []string) (release func()) {
	forms := maskForms(values)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leased == nil {
		m.leased = map[string]int{}
	}
	added := false
	for _, f := range forms {
		if _, ok := m.values[f]; !ok && m.leased[f] == 0 {
			added = true
		}
		m.leased[f]++
	}
	if added {
		m.rebuild()
	}
	var once sync.Once
	return func() { once.Do(func() { m.release(forms) }) }
}

// release drops one lease on each of forms, which a lease holds.
func (m *masker) release(forms []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	removed := false
	for _, f := range forms {
		if m.leased[f]--; m.leased[f] > 0 {
			continue
		}
		delete(m.leased, f)
		if _, ok := m.values[f]; !ok {
			removed = true
		}
	}
	if removed {
		m.rebuild()
	}
}

// maskForms are the distinct forms of values that are long enough to mask.
func maskForms(values []string) []string {
	var forms []string
	for _, v := range values {
		if len(v) < minMaskLength {
			continue
		}
		for _, f := range encodedForms(v) {
			if len(f) >= minMaskLength && !slices.Contains(forms, f) {
				forms = append(forms, f)
			}
		}
	}
	return forms
}

// rebuild publishes a new snapshot of the masked forms; m.mu is held.
func (m *masker) rebuild() {
	all := make([]string, 0, len(m.values)+len(m.leased))
	for v := range m.values {
		all = append(all, v)
	}
	for v := range m.leased {
		if _, ok := m.values[v]; !ok {
			all = append(all, v)
		}
	}
	if len(all) == 0 {
		m.state.Store(nil)
		return
	}
	// strings.Replacer tries the old strings in argument order at each
	// position: longest first, so a secret that contains another one is
	// masked whole rather than leaving its tail visible.
	slices.SortFunc(all, func(a, b string) int {
		if d := len(b) - len(a); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(all))
	for _, v := range all {
		pairs = append(pairs, v, masked)
	}
	m.state.Store(&maskState{values: all, replacer: strings.NewReplacer(pairs...)})
}

// encodedForms are v and the forms in which a connector may print it:
// inside a JSON string (Go's escaping with and without HTML escapes,
// Python's json.dumps with its default ensure_ascii, and with / escaped as
// \/), inside a Python repr (a dict printed whole, a jsonschema error
// quoting the value), URL-encoded as a query value or a path segment, and
// base64 (standard and URL-safe, padded or not).
func encodedForms(v string) []string {
	forms := []string{v, jsonEscaped(v, true), jsonEscaped(v, false), asciiJSONEscaped(v), pythonRepr(v),
		url.QueryEscape(v), url.PathEscape(v),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.URLEncoding.EncodeToString([]byte(v)),
		base64.RawStdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))}
	for _, f := range forms[1:4] {
		if strings.Contains(f, "/") {
			forms = append(forms, strings.ReplaceAll(f, "/", `\/`))
		}
	}
	return forms
}

// asciiJSONEscaped is v inside a JSON string as Python's json.dumps writes
// it by default: every non-ASCII character as \uXXXX (UTF-16 surrogate
// pairs beyond the BMP), lower-case hex.
func asciiJSONEscaped(v string) string {
	var b strings.Builder
	for _, r := range jsonEscaped(v, false) {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		for _, u := range utf16.Encode([]rune{r}) {
			fmt.Fprintf(&b, `\u%04x`, u)
		}
	}
	return b.String()
}

// pythonRepr is v between the quotes of Python's repr(v), as Python 3
// prints a string inside a dict or list, or a %r: backslashes doubled, the
// quote repr chose (' unless v holds ' and no ") escaped, \t \n \r, other
// control characters as \xhh, non-printable characters as \xhh, \uhhhh
// or \Uhhhhhhhh; printable non-ASCII characters stay as they are.
func pythonRepr(v string) string {
	quote := '\''
	if strings.ContainsRune(v, '\'') && !strings.ContainsRune(v, '"') {
		quote = '"'
	}
	var b strings.Builder
	for _, r := range v {
		switch {
		case r == quote || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < utf8.RuneSelf || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	return b.String()
}

// jsonEscaped is v as it appears between the quotes of a JSON string, with
// or without HTML escaping (encoding/json escapes <, > and & by default).
func jsonEscaped(v string, html bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(v); err != nil {
		return v
	}
	s := strings.TrimSuffix(b.String(), "\n")
	return s[1 : len(s)-1]
}

// Mask returns s with every registered secret value replaced by ****.
// It is safe for concurrent use and costs one atomic load when no secret is
// registered.
func Mask(s string) string {
	return defaultMasker.state.Load().mask(s)
}

func (st *maskState) mask(s string) string {
	if st == nil {
		return s
	}
	if len(st.values) <= precheckLimit {
		found := false
		for _, v := range st.values {
			if len(v) <= len(s) && strings.Contains(s, v) {
				found = true
				break
			}
		}
		if !found {
			return s
		}
	}
	return st.replacer.Replace(s)
}

// maskBytes is [Mask] for byte slices, such as a connector's stderr line. It
// returns b itself when nothing needed masking.
func maskBytes(b []byte) []byte {
	st := defaultMasker.state.Load()
	if st == nil {
		return b
	}
	// The conversion does not copy when the result is only compared.
	if m := st.mask(string(b)); m != string(b) {
		return []byte(m)
	}
	return b
}

// MaskError returns err with its message masked. The result still unwraps
// to err, so errors.Is and errors.As see the original chain; only the text
// changes. A nil error stays nil.
//
// The message is masked now, once: it is what was secret while err was
// made. A value masked only while its connector lived (its config's
// secrets, released once the Connector is gone) stays masked in an error
// kept longer. An error MaskError returned is returned as it is, unless a
// value masked since appears in its message.
func MaskError(err error) error {
	if err == nil {
		return nil
	}
	if m, ok := err.(*maskedError); ok {
		if msg := Mask(m.msg); msg != m.msg {
			return &maskedError{err: m.err, msg: msg}
		}
		return err
	}
	return &maskedError{err: err, msg: Mask(err.Error())}
}

type maskedError struct {
	err error
	msg string // err's message, masked when the error was wrapped
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }
