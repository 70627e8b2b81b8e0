package declarative

import (
	"sort"
	"strings"
	"sync"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/declarative/internal/manifest"
)

// masker replaces secrets in text before it reaches an error, a log line or
// a TRACE message: the config values the spec marks airbyte_secret and the
// tokens the connector obtains (OAuth, session logins), in their plain,
// URL-encoded (as quote and as a prepared URL's parts) and JSON-escaped
// spellings.
type masker struct {
	mu       sync.RWMutex
	secrets  []string
	replacer *strings.Replacer
}

const maskText = "****"

func (m *masker) add(s string) {
	if m == nil || len(s) < 3 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// A prepared URL spells a secret in its user information, path or
	// query as urllib3 escapes those parts (prepareURL).
	forms := []string{s, quote(s, "", true), quote(s, "", false), strings.Trim(string(pyJSONString(nil, s)), `"`),
		encodeInvalidChars(s, userinfoChars), encodeInvalidChars(s, queryChars)}
	for _, form := range forms {
		found := false
		for _, have := range m.secrets {
			if have == form {
				found = true
				break
			}
		}
		if !found {
			m.secrets = append(m.secrets, form)
		}
	}
	// Longest first, so a secret containing another is masked whole.
	sort.Slice(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
	pairs := make([]string, 0, 2*len(m.secrets))
	for _, s := range m.secrets {
		pairs = append(pairs, s, maskText)
	}
	m.replacer = strings.NewReplacer(pairs...)
}

func (m *masker) text(s string) string {
	if m == nil {
		return s
	}
	m.mu.RLock()
	r := m.replacer
	m.mu.RUnlock()
	if r == nil {
		return s
	}
	return r.Replace(s)
}

// addConfigSecrets adds the config values that spec (the connection
// specification) marks airbyte_secret. It walks the config alongside the
// schema — object values with their properties, array elements with the
// array's items, and every oneOf/anyOf/allOf alternative — as package
// internal/specsecret's Register does for the connectors the library runs. A
// secret object or array is added by each string and number inside it.
func (m *masker) addConfigSecrets(config value, spec *manifest.Map) {
	m.addSpecSecrets(config, spec, 0)
}

// addSpecSecrets is addConfigSecrets at one level; depth guards against
// pathological or self-referencing schemas.
func (m *masker) addSpecSecrets(v value, schema *manifest.Map, depth int) {
	if schema == nil || v == nil || depth > 64 {
		return
	}
	if b, _ := schema.Get("airbyte_secret"); b == true {
		m.addLeaves(v)
		return
	}
	for _, alt := range []string{"oneOf", "anyOf", "allOf"} {
		for _, e := range schema.List(alt) {
			if b, ok := e.(*manifest.Map); ok {
				m.addSpecSecrets(v, b, depth+1)
			}
		}
	}
	switch x := v.(type) {
	case *dict:
		props := schema.Map("properties")
		for _, e := range entries(x) {
			m.addSpecSecrets(e.val, props.Map(e.key), depth+1)
		}
	case []value:
		items := schema.Map("items")
		for _, e := range x {
			m.addSpecSecrets(e, items, depth+1)
		}
	}
}

// addLeaves adds the strings and numbers of a secret value.
func (m *masker) addLeaves(v value) {
	switch x := v.(type) {
	case string:
		m.add(x)
	case *dict:
		for _, e := range entries(x) {
			m.addLeaves(e.val)
		}
	case []value:
		for _, e := range x {
			m.addLeaves(e)
		}
	case nil, bool:
	default:
		m.add(interpolation.Str(x))
	}
}
