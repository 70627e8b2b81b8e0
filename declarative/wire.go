package declarative

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// This file encodes requests byte for byte as Python's requests library
// does for the CDK: query strings and form bodies with urlencode/quote_plus,
// the final URL with requote_uri, JSON bodies with json.dumps, and URLs
// joined with urllib's urljoin.

const upperHex = "0123456789ABCDEF"

// quote percent-encodes s as urllib.parse.quote with the given safe bytes
// (letters, digits and "_.-~" are always safe); plus turns spaces into "+"
// (quote_plus).
func quote(s string, safe string, plus bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '_', c == '.', c == '-', c == '~':
			b.WriteByte(c)
		case plus && c == ' ':
			b.WriteByte('+')
		case c < utf8.RuneSelf && strings.IndexByte(safe, c) >= 0:
			b.WriteByte(c)
		default:
			pct(&b, c)
		}
	}
	return b.String()
}

// pct writes the percent-escape of c.
func pct(b *strings.Builder, c byte) {
	b.WriteByte('%')
	b.WriteByte(upperHex[c>>4])
	b.WriteByte(upperHex[c&15])
}

// formValue is how urlencode writes one value: str() of it, quote_plus'd.
func formValue(v value) string {
	s, ok := v.(string)
	if !ok {
		s = interpolation.Str(v)
	}
	return quote(s, "", true)
}

// urlencode writes entries as requests does for params and form data:
// None values are dropped, lists give one pair per element.
func urlencode(es []entry) string {
	var b strings.Builder
	add := func(k string, v value) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(quote(k, "", true))
		b.WriteByte('=')
		b.WriteString(formValue(v))
	}
	for _, e := range es {
		switch v := e.val.(type) {
		case nil:
		case []value:
			for _, x := range v {
				if x != nil {
					add(e.key, x)
				}
			}
		case interpolation.Tuple:
			for _, x := range v {
				if x != nil {
					add(e.key, x)
				}
			}
		default:
			add(e.key, v)
		}
	}
	return b.String()
}

// requoteURI is requests.utils.requote_uri: percent-escapes of unreserved
// characters are decoded, then every character outside the safe set is
// escaped (existing escapes are kept).
func requoteURI(u string) string {
	const safe = "!#$%&'()*+,/:;=?@[]~"
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c == '%' && i+2 < len(u) && isHex(u[i+1]) && isHex(u[i+2]) {
			d := unhex(u[i+1])<<4 | unhex(u[i+2])
			if isUnreserved(d) {
				b.WriteByte(d)
			} else {
				b.WriteString(u[i : i+3])
			}
			i += 2
			continue
		}
		if isUnreserved(c) || c < utf8.RuneSelf && strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
		} else {
			pct(&b, c)
		}
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// addQuery appends an encoded query to a URL as requests' prepare_url does.
func addQuery(u, query string) string {
	if query == "" {
		return u
	}
	frag := ""
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u, frag = u[:i], u[i:]
	}
	if i := strings.IndexByte(u, '?'); i >= 0 {
		if i == len(u)-1 {
			return u + query + frag
		}
		return u + "&" + query + frag
	}
	return u + "?" + query + frag
}

// hasScheme reports whether ref starts with a URL scheme ("https:").
func hasScheme(ref string) bool {
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case c == ':' && i > 0:
			return true
		default:
			return false
		}
	}
	return false
}

// urljoin resolves ref against base as urllib.parse.urljoin does for the
// references the CDK makes (absolute URLs, relative paths with queries).
func urljoin(base, ref string) string {
	if ref == "" {
		return base
	}
	if hasScheme(ref) {
		return ref
	}
	schemeEnd := strings.Index(base, "://")
	origin, basePath := base, ""
	if schemeEnd < 0 {
		// No scheme and no host: the whole base is a path (a url_base
		// that is a config's domain, which requests then refuses).
		origin, basePath = "", base
	} else if authEnd := strings.IndexByte(base[schemeEnd+3:], '/'); authEnd >= 0 {
		origin = base[:schemeEnd+3+authEnd]
		basePath = base[schemeEnd+3+authEnd:]
	}
	if strings.HasPrefix(ref, "//") {
		return base[:schemeEnd+1] + ref
	}
	if i := strings.IndexAny(basePath, "?#"); i >= 0 {
		basePath = basePath[:i]
	}
	switch {
	case strings.HasPrefix(ref, "/"):
		return origin + removeDotSegments(ref)
	case strings.HasPrefix(ref, "?"):
		return origin + basePath + ref
	case strings.HasPrefix(ref, "#"):
		return origin + basePath + ref
	}
	dir := basePath[:strings.LastIndexByte(basePath, '/')+1]
	if dir == "" && origin != "" {
		dir = "/"
	}
	return origin + removeDotSegments(dir+ref)
}

// removeDotSegments resolves "." and ".." in the path part of p.
func removeDotSegments(p string) string {
	rest := ""
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p, rest = p[:i], p[i:]
	}
	if !strings.Contains(p, "./") && !strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..") {
		return p + rest
	}
	segs := strings.Split(p, "/")
	var out []string
	for i, s := range segs {
		switch s {
		case ".":
			if i == len(segs)-1 {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if i == len(segs)-1 {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return strings.Join(out, "/") + rest
}

// pyJSON appends v as Python's json.dumps writes it with its defaults:
// ", " and ": " separators, non-ASCII escaped, floats as repr.
func pyJSON(b []byte, v value) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		if v {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errString("Out of range float values are not JSON compliant")
		}
		return append(b, interpolation.Repr(v)...), nil
	case string:
		return pyJSONString(b, v), nil
	case []value:
		return pyJSONList(b, v)
	case interpolation.Tuple:
		return pyJSONList(b, v)
	case *dict:
		b = append(b, '{')
		first := true
		for k, e := range v.All() {
			if !first {
				b = append(b, ", "...)
			}
			first = false
			ks, ok := k.(string)
			if !ok {
				ks = pyJSONKey(k)
			}
			b = pyJSONString(b, ks)
			b = append(b, ": "...)
			var err error
			if b, err = pyJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return append(b, pyJSONString(nil, interpolation.Str(v))...), nil
}

// pyJSONKey is how json.dumps writes a non-string dict key.
func pyJSONKey(k value) string {
	switch k := k.(type) {
	case nil:
		return "null"
	case bool:
		if k {
			return "true"
		}
		return "false"
	}
	return interpolation.Str(k)
}

func pyJSONList(b []byte, l []value) ([]byte, error) {
	b = append(b, '[')
	for i, e := range l {
		if i > 0 {
			b = append(b, ", "...)
		}
		var err error
		if b, err = pyJSON(b, e); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

func pyJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, `\"`...)
		case r == '\\':
			b = append(b, `\\`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\b':
			b = append(b, `\b`...)
		case r == '\f':
			b = append(b, `\f`...)
		case r < 0x20 || (r >= 0x7f && r < 0x10000):
			if r < 0x7f {
				b = append(b, `\u00`...)
				b = append(b, upperHexLower(byte(r)>>4), upperHexLower(byte(r)&15))
			} else if r == 0x7f {
				b = append(b, 0x7f)
			} else {
				b = appendU4(b, r)
			}
		case r >= 0x10000:
			r -= 0x10000
			b = appendU4(b, 0xd800+(r>>10))
			b = appendU4(b, 0xdc00+(r&0x3ff))
		default:
			b = append(b, byte(r))
		}
	}
	return append(b, '"')
}

func upperHexLower(c byte) byte { return "0123456789abcdef"[c] }

func appendU4(b []byte, r rune) []byte {
	return append(b, '\\', 'u', upperHexLower(byte(r>>12)&15), upperHexLower(byte(r>>8)&15), upperHexLower(byte(r>>4)&15), upperHexLower(byte(r)&15))
}

// errString is a plain error message.
type errString string

func (e errString) Error() string { return string(e) }
