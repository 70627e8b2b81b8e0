package secrets

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Masked is what every secret value is replaced by.
const Masked = "****"

// MinMaskLength is the shortest value [Register] accepts for text masking.
// Shorter values ("1", "yes", "abc") occur everywhere in ordinary output;
// replacing them would garble every log line and hide nothing an attacker
// could not guess. A [SecretString] still prints as **** whatever its length.
const MinMaskLength = 4

// masker is the process-wide set of secret values. Mask is on every log path,
// so readers only load an immutable replacer; writers rebuild it under a lock.
type masker struct {
	mu     sync.Mutex
	values map[string]struct{}
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
const precheckLimit = 48

var defaultMasker = &masker{values: map[string]struct{}{}}

// Register adds values to the process-wide set of secrets that [Mask]
// replaces. Values shorter than [MinMaskLength] are ignored. Each value's
// JSON-escaped form is registered too, because configs and protocol messages
// carry secrets inside JSON strings.
func Register(values ...string) {
	defaultMasker.register(values)
}

func (m *masker) register(values []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	added := false
	add := func(v string) {
		if len(v) < MinMaskLength {
			return
		}
		if _, ok := m.values[v]; !ok {
			m.values[v] = struct{}{}
			added = true
		}
	}
	for _, v := range values {
		add(v)
		if esc := jsonEscaped(v, true); esc != v {
			add(esc)
		}
		if esc := jsonEscaped(v, false); esc != v {
			add(esc)
		}
	}
	if !added {
		return
	}
	all := make([]string, 0, len(m.values))
	for v := range m.values {
		all = append(all, v)
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
		pairs = append(pairs, v, Masked)
	}
	m.state.Store(&maskState{values: all, replacer: strings.NewReplacer(pairs...)})
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

// MaskBytes is [Mask] for byte slices, such as a connector's stderr line. It
// returns b itself when nothing needed masking.
func MaskBytes(b []byte) []byte {
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
func MaskError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*maskedError); ok {
		return err
	}
	return &maskedError{err: err}
}

type maskedError struct{ err error }

func (e *maskedError) Error() string { return Mask(e.err.Error()) }
func (e *maskedError) Unwrap() error { return e.err }
