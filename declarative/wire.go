package declarative

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// This file encodes requests byte for byte as Python's requests library
// does for the CDK: query strings and form bodies with urlencode/quote_plus,
// the final URL with prepare_url (urllib3's parse_url, then requote_uri),
// JSON bodies with json.dumps, and URLs joined with urllib's urljoin.

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
// escaped (existing escapes are kept). A '%' followed by two letters or
// digits that are no hex escape ("%zz") makes unquote_unreserved raise
// InvalidURL, and requote_uri then escapes every '%' of the URL, those of
// valid escapes too.
func requoteURI(u string) string {
	if invalidEscape(u) {
		return quote(u, "!#$&'()*+,/:;=?@[]~", false)
	}
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

// URL preparation as requests 2.34.2 does it (PreparedRequest.prepare_url
// over urllib3 2.7.0's parse_url): the URL is split into its parts; for
// http and https the user information, path, query and fragment are each
// percent-encoded where a character is not allowed there
// (_encode_invalid_chars), the path's dot segments are removed
// (_remove_path_dot_segments) and the host is lower-cased; the query
// parameters are added and the whole goes through requote_uri.
var (
	schemeRE = regexp.MustCompile(`^(?:[a-zA-Z][a-zA-Z0-9+-]*:|/)`)

	ipv4Pat      = `(?:[0-9]{1,3}\.){3}[0-9]{1,3}`
	ipv6Pat      = ipv6Pattern()
	zoneIDPat    = `(?:%25|%)(?:[A-Za-z0-9._\-~]|%[a-fA-F0-9]{2})+`
	ipv6AddrzPat = `\[` + ipv6Pat + `(?:` + zoneIDPat + `)?\]`
	hostPortRE   = regexp.MustCompile(`(?s)^((?:[^\[\]%:/?#]|%[a-fA-F0-9]{2})*|` + ipv4Pat + `|` + ipv6AddrzPat + `)(?::0*?(|0|[1-9][0-9]{0,4}))?\n?$`)
	ipv4RE       = regexp.MustCompile(`^` + ipv4Pat + `$`)
	ipv6AddrzRE  = regexp.MustCompile(`^` + ipv6AddrzPat + `$`)
	zoneIDRE     = regexp.MustCompile(`(` + zoneIDPat + `)\]$`)
)

// ipv6Pattern is urllib3's _IPV6_PAT, the nine forms of RFC 3986's
// IPv6address.
func ipv6Pattern() string {
	const hex = `[0-9A-Fa-f]{1,4}`
	ls32 := `(?:` + hex + `:` + hex + `|` + ipv4Pat + `)`
	forms := []string{
		`(?:H:){6}L`, `::(?:H:){5}L`, `(?:H)?::(?:H:){4}L`, `(?:(?:H:)?H)?::(?:H:){3}L`,
		`(?:(?:H:){0,2}H)?::(?:H:){2}L`, `(?:(?:H:){0,3}H)?::H:L`, `(?:(?:H:){0,4}H)?::L`,
		`(?:(?:H:){0,5}H)?::H`, `(?:(?:H:){0,6}H)?::`,
	}
	for i, f := range forms {
		forms[i] = strings.NewReplacer("H", hex, "L", ls32).Replace(f)
	}
	return `(?:` + strings.Join(forms, "|") + `)`
}

// The characters _encode_invalid_chars keeps in each part of a URL.
const (
	unreservedChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-~"
	userinfoChars   = unreservedChars + "!$&'()*+,;=:"
	pathChars       = userinfoChars + "@/"
	queryChars      = pathChars + "?"
)

// prepareURL is the URL requests sends for raw with query (urlencoded
// parameters) added: PreparedRequest.prepare_url. Its errors are requests'
// MissingSchema and InvalidURL, which the CDK raises before sending.
func prepareURL(raw, query string) (string, error) {
	u := strings.TrimLeftFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f })
	// Not http: requests leaves the URL alone (and then finds no adapter).
	if strings.Contains(u, ":") && !(len(u) >= 4 && strings.EqualFold(u[:4], "http")) {
		return u, nil
	}
	src, parsed := u, u
	if !schemeRE.MatchString(parsed) {
		parsed = "//" + parsed
	}
	scheme, authority, path, q, fragment := splitURI(parsed)
	scheme = strings.ToLower(scheme)
	normalize := scheme == "" || scheme == "http" || scheme == "https"
	auth, host, port, err := parseAuthority(authority, normalize)
	if errors.Is(err, errNoAuthority) {
		return "", errString("Failed to parse: " + src)
	} else if err != nil {
		return "", err
	}
	if normalize {
		if path != "" {
			path = encodeInvalidChars(removePathDotSegments(path), pathChars)
		}
		if q != "" {
			q = encodeInvalidChars(q, queryChars)
		}
		if fragment != "" {
			fragment = encodeInvalidChars(fragment, queryChars)
		}
	}
	if path != "" && path[0] != '/' {
		path = "/" + path
	}
	switch {
	case scheme == "":
		return "", errString(fmt.Sprintf("Invalid URL %s: No scheme supplied. Perhaps you meant https://%s?", interpolation.Repr(src), src))
	case host == "":
		return "", errString(fmt.Sprintf("Invalid URL %s: No host supplied", interpolation.Repr(src)))
	case host[0] == '*' || host[0] == '.':
		return "", errString("URL has an invalid label.")
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	if auth != "" {
		b.WriteString(auth)
		b.WriteByte('@')
	}
	b.WriteString(host)
	if port != "" && port != "0" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	if q != "" && query != "" {
		q += "&" + query
	} else if q == "" {
		q = query
	}
	if q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	if fragment != "" {
		b.WriteByte('#')
		b.WriteString(fragment)
	}
	return requoteURI(b.String()), nil
}

// authorityParts is an authority split into its user information, host and
// port, as prepareURL takes them.
type authorityParts struct {
	authority        string
	normalize        bool
	auth, host, port string
}

// lastAuthority is the authority prepareURL split last: a read's requests
// go to one host, and splitting it with hostPortRE took a third of
// prepareURL's time.
var lastAuthority atomic.Pointer[authorityParts]

// errNoAuthority is parseAuthority's error for an authority urllib3 does
// not parse, or whose port is out of range.
var errNoAuthority = errors.New("no authority")

// parseAuthority splits authority into its user information and host
// (both normalised where normalize says so) and port; errNoAuthority when
// urllib3 would not parse it, normalizeHost's error for a host it refuses.
func parseAuthority(authority string, normalize bool) (auth, host, port string, err error) {
	if authority == "" {
		return "", "", "", nil
	}
	if last := lastAuthority.Load(); last != nil && last.authority == authority && last.normalize == normalize {
		return last.auth, last.host, last.port, nil
	}
	hostPort := authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		auth, hostPort = authority[:i], authority[i+1:]
	}
	hp := hostPortRE.FindStringSubmatch(hostPort)
	if hp == nil {
		return "", "", "", errNoAuthority
	}
	host, port = hp[1], hp[2]
	if auth != "" && normalize {
		auth = encodeInvalidChars(auth, userinfoChars)
	}
	if n, err := strconv.Atoi(port); port != "" && (err != nil || n > 65535) {
		return "", "", "", errNoAuthority
	}
	if host != "" && normalize {
		if host, err = normalizeHost(host); err != nil {
			return "", "", "", err
		}
	}
	lastAuthority.Store(&authorityParts{authority, normalize, auth, host, port})
	return auth, host, port, nil
}

// splitURI splits u into its parts as urllib3's _URI_RE does,
// `^(?:([a-zA-Z][a-zA-Z0-9+.-]*):)?(?://([^\\/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$`
// over the whole text, an absent part as "": written out, as the regular
// expression took a few percent of a read's CPU (each request's URL goes
// through it). FuzzSplitURI holds it to the expression.
func splitURI(u string) (scheme, authority, path, query, fragment string) {
	if i := strings.IndexByte(u, ':'); i > 0 && isSchemeName(u[:i]) {
		scheme, u = u[:i], u[i+1:]
	}
	if rest, ok := strings.CutPrefix(u, "//"); ok {
		end := strings.IndexAny(rest, "\\/?#")
		if end < 0 {
			end = len(rest)
		}
		authority, u = rest[:end], rest[end:]
	}
	u, fragment, _ = strings.Cut(u, "#")
	path, query, _ = strings.Cut(u, "?")
	return scheme, authority, path, query, fragment
}

// isSchemeName reports whether s matches [a-zA-Z][a-zA-Z0-9+.-]*.
func isSchemeName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return s != ""
}

// normalizeHost is urllib3's _normalize_host for http(s): an IPv6 address
// lower-cased with its zone's "%25" made "%", a name lower-cased label by
// label, an IPv4 address kept.
func normalizeHost(host string) (string, error) {
	if ipv6AddrzRE.MatchString(host) {
		loc := zoneIDRE.FindStringSubmatchIndex(host)
		if loc == nil {
			return strings.ToLower(host), nil
		}
		start, end := loc[2], loc[3]
		zone := host[start:end]
		if strings.HasPrefix(zone, "%25") && zone != "%25" {
			zone = zone[3:]
		} else {
			zone = zone[1:]
		}
		return strings.ToLower(host[:start]) + "%" + encodeInvalidChars(zone, unreservedChars) + host[end:], nil
	}
	if ipv4RE.MatchString(host) {
		return host, nil
	}
	for i := 0; i < len(host); i++ {
		if host[i] >= utf8.RuneSelf {
			// urllib3 encodes such a label with IDNA 2008, which the
			// engine does not carry: refuse it rather than send it
			// percent-encoded to a host that does not exist.
			return "", errString(fmt.Sprintf("the host name %s is not ASCII: the engine does not IDNA-encode host names; write it in its xn-- form", interpolation.Repr(host)))
		}
	}
	return strings.ToLower(host), nil
}

// encodeInvalidChars is urllib3's _encode_invalid_chars: escapes are
// upper-cased; when every '%' starts one, they are kept, otherwise every '%'
// is escaped too; any other byte outside allowed is escaped.
func encodeInvalidChars(s, allowed string) string {
	escapes, percents := 0, strings.Count(s, "%")
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '%' && isHex(s[i+1]) && isHex(s[i+2]) {
			escapes++
			i += 2
		}
	}
	encoded := escapes == percents
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			if encoded {
				b.WriteByte('%')
			} else {
				b.WriteString("%25")
			}
			b.WriteByte(upperHex[unhex(s[i+1])])
			b.WriteByte(upperHex[unhex(s[i+2])])
			i += 2
			continue
		}
		if c < utf8.RuneSelf && strings.IndexByte(allowed, c) >= 0 {
			b.WriteByte(c)
		} else {
			pct(&b, c)
		}
	}
	return b.String()
}

// removePathDotSegments is urllib3's _remove_path_dot_segments (RFC 3986
// 5.2.4 as urllib3 writes it): "." segments go, ".." removes the segment
// before it.
func removePathDotSegments(path string) string {
	if !strings.Contains(path, ".") {
		return path
	}
	segs := strings.Split(path, "/")
	out := make([]string, 0, len(segs))
	for _, s := range segs {
		switch s {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	if strings.HasPrefix(path, "/") && (len(out) == 0 || out[0] != "") {
		out = append([]string{""}, out...)
	}
	if strings.HasSuffix(path, "/.") || strings.HasSuffix(path, "/..") {
		out = append(out, "")
	}
	return strings.Join(out, "/")
}

// invalidEscape reports whether unquote_unreserved raises InvalidURL on u:
// a '%' is followed by two characters that are letters or digits (Python's
// isalnum) but not two hex digits.
func invalidEscape(u string) bool {
	for i := strings.IndexByte(u, '%'); i >= 0; {
		r1, n1 := utf8.DecodeRuneInString(u[i+1:])
		r2, n2 := utf8.DecodeRuneInString(u[i+1+n1:])
		if n1 > 0 && n2 > 0 && isAlnum(r1) && isAlnum(r2) && !(r1 < utf8.RuneSelf && isHex(byte(r1)) && r2 < utf8.RuneSelf && isHex(byte(r2))) {
			return true
		}
		j := strings.IndexByte(u[i+1:], '%')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }

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
	return origin + removeDotSegments(dropEmptySegments(dir+ref))
}

// dropEmptySegments removes the empty segments between the first and the
// last of the path part of p, as urljoin does for a relative reference
// ("filter out elements that would cause redundant slashes"): "/v1/" and
// "a//b" join to "/v1/a/b", a base "/v1//x/" and "y" to "/v1/x/y".
func dropEmptySegments(p string) string {
	rest := ""
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p, rest = p[:i], p[i:]
	}
	if !strings.Contains(p, "//") {
		return p + rest
	}
	segs := strings.Split(p, "/")
	out := append(make([]string, 0, len(segs)), segs[0])
	for _, s := range segs[1 : len(segs)-1] {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(append(out, segs[len(segs)-1]), "/") + rest
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
