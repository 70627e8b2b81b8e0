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
// URL-encoded and JSON-escaped spellings.
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
	for _, form := range []string{s, quote(s, "", true), quote(s, "", false), strings.Trim(string(pyJSONString(nil, s)), `"`)} {
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

// secretPaths lists the config paths the spec marks airbyte_secret,
// through nested objects and oneOf/anyOf/allOf alternatives.
func secretPaths(spec *manifest.Map) [][]string {
	var out [][]string
	var walk func(schema *manifest.Map, path []string)
	walk = func(schema *manifest.Map, path []string) {
		if schema == nil {
			return
		}
		if b, _ := schema.Get("airbyte_secret"); b == true {
			out = append(out, append([]string(nil), path...))
		}
		if props := schema.Map("properties"); props != nil {
			for _, k := range props.Keys() {
				walk(props.Map(k), append(path, k))
			}
		}
		for _, alt := range []string{"oneOf", "anyOf", "allOf"} {
			for _, e := range schema.List(alt) {
				if m, ok := e.(*manifest.Map); ok {
					walk(m, path)
				}
			}
		}
	}
	walk(spec, nil)
	return out
}

// addConfigSecrets adds the config's values at the secret paths.
func (m *masker) addConfigSecrets(config value, paths [][]string) {
	for _, p := range paths {
		if v, ok := pathGet(config, p); ok && v != nil {
			if s, isStr := v.(string); isStr {
				m.add(s)
			} else {
				m.add(interpolation.Str(v))
			}
		}
	}
}
