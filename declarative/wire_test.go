package declarative

import (
	"regexp"
	"slices"
	"testing"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// The expected values below were printed by Python 3's urllib, json and
// requests, which the CDK uses.

func TestURLJoin(t *testing.T) {
	for _, c := range []struct{ base, ref, want string }{
		{"https://api.x.com/v1/", "users", "https://api.x.com/v1/users"},
		{"https://api.x.com/v1/", "/users", "https://api.x.com/users"},
		{"https://api.x.com/v1/", "https://other.com/a?b=1", "https://other.com/a?b=1"},
		{"https://api.x.com/v1/", "a/../b?x=1", "https://api.x.com/v1/b?x=1"},
		{"https://api.x.com/v1/", "index.php?/api/v2/get_runs/1", "https://api.x.com/v1/index.php?/api/v2/get_runs/1"},
		{"https://api.x.com/v1/", "", "https://api.x.com/v1/"},
		{"https://api.x.com/v1/?q=1", "users", "https://api.x.com/v1/users"},
		{"https://api.x.com", "users", "https://api.x.com/users"},
		{"https://api.x.com/v1/", "./a/./b", "https://api.x.com/v1/a/b"},
		// A relative reference loses the empty segments in the middle of
		// its joined path, not those of its query; an absolute path keeps
		// them (Python 3.11.7's urljoin).
		{"https://api.x.com/v1/", "a//b", "https://api.x.com/v1/a/b"},
		{"https://api.x.com/v1//x/", "y", "https://api.x.com/v1/x/y"},
		{"https://api.x.com/v1/", "a//b/?q=//", "https://api.x.com/v1/a/b/?q=//"},
		{"https://api.x.com/v1/", "/a//b", "https://api.x.com/a//b"},
		{"https://api.x.com/v1/", "a/../../../b", "https://api.x.com/b"},
		{"https://api.paperform.co//v1/", "forms", "https://api.paperform.co/v1/forms"},                             // source-paperform
		{"https://api-ssl.bitly.com/", "v4/groups//G1/bitlinks", "https://api-ssl.bitly.com/v4/groups/G1/bitlinks"}, // source-bitly
		// A url_base without a scheme (a config's domain where the
		// manifest wants a URL) is a path: the request then fails with
		// requests' MissingSchema, naming this URL.
		{"api.x.com/", "items", "api.x.com/items"},
		{"x/", "features?per_page=5", "x/features?per_page=5"},
		{"api.x.com/v1/", "/users", "/users"},
		{"api.x.com/v1/", "a/../b", "api.x.com/v1/b"},
	} {
		if got := urljoin(c.base, c.ref); got != c.want {
			t.Errorf("urljoin(%q, %q) = %q, want %q", c.base, c.ref, got, c.want)
		}
	}
}

func TestURLEncodeAndRequote(t *testing.T) {
	got := urlencode([]entry{{"a", "x y/z"}, {"b", "é&=+"}, {"c", true}, {"n", nil}, {"l", []value{int64(1), int64(2)}}})
	if want := "a=x+y%2Fz&b=%C3%A9%26%3D%2B&c=True&l=1&l=2"; got != want {
		t.Errorf("urlencode = %q, want %q", got, want)
	}
	if got, want := requoteURI("https://x.com/a b/%41%2F|é?q=a%20b&r=~"), "https://x.com/a%20b/A%2F%7C%C3%A9?q=a%20b&r=~"; got != want {
		t.Errorf("requoteURI = %q, want %q", got, want)
	}
	if got, err := prepareURL("https://x.com/a?b=1", "c=2"); err != nil || got != "https://x.com/a?b=1&c=2" {
		t.Errorf("prepareURL = %q, %v, want %q", got, err, "https://x.com/a?b=1&c=2")
	}
}

func TestPyJSON(t *testing.T) {
	d := interpolation.NewDict(5)
	d.Set("a", int64(1))
	d.Set("b", []value{int64(1), 2.5, "é\u2028"})
	d.Set("c", nil)
	d.Set("d", true)
	d.Set("e", "\U0001F600")
	got, err := pyJSON(nil, d)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a": 1, "b": [1, 2.5, "\u00e9\u2028"], "c": null, "d": true, "e": "\ud83d\ude00"}`; string(got) != want {
		t.Errorf("pyJSON = %s, want %s", got, want)
	}
}

func TestParseLinks(t *testing.T) {
	l := parseLinks(`<https://x.com/?page=2>; rel="next", <https://x.com/?page=9>; rel="last"`)
	next, _ := l.Get("next")
	u, _ := next.(*dict).Get("url")
	if u != "https://x.com/?page=2" {
		t.Errorf("next url = %v", u)
	}
	if l.Len() != 2 {
		t.Errorf("%d links, want 2", l.Len())
	}
}

// TestPrepareURL: the URL requests keeps (and the CDK logs) for a URL and
// an encoded query, or the error requests raises. Derived by hand from
// requests 2.34.2's prepare_url and urllib3 2.7.0's parse_url; running them
// (Python 3.11.7) printed the same.
func TestPrepareURL(t *testing.T) {
	for _, c := range []struct{ raw, query, want, err string }{
		// User information escaped as a userinfo (an '@' kept escaped),
		// the host lower-cased.
		{"https://us er:p%40ss é@API.Example.com/v1/items", "page_size=5", "https://us%20er:p%40ss%20%C3%A9@api.example.com/v1/items?page_size=5", ""},
		// The scheme lower-cased, the port's zeros dropped (a default
		// port kept), the dot segments of the whole path removed.
		{"HTTPS://api.example.com:0443/v1/../x/./y", "a=1", "https://api.example.com:443/x/y?a=1", ""},
		{"https://h:0/a", "", "https://h/a", ""},
		{"https://h:/a", "", "https://h/a", ""},
		// The parameters go before the fragment, which is escaped as a
		// query; an empty query or fragment is dropped.
		{"https://h/a#frag[1] %", "page_size=5", "https://h/a?page_size=5#frag%5B1%5D%20%25", ""},
		{"https://h/a?#f", "", "https://h/a#f", ""},
		{"  https://h/a", "", "https://h/a", ""},
		{"https://h", "", "https://h/", ""},
		{"https://h\\x/y", "", "https://h/%5Cx/y", ""},
		{"https://h/a\nb", "", "https://h/a%0Ab", ""},
		// An IPv6 zone's "%25" becomes "%", which requote_uri cannot
		// unquote ("%et"): it escapes every '%' of the URL.
		{"https://[FE80::1%25eth0]/%c3%a9", "", "https://[fe80::1%25eth0]/%25C3%25A9", ""},
		{"https://h/a", "q=%zz", "https://h/a?q=%25zz", ""},
		// Not http: left as it is, parameters and all.
		{"ftp://h/a b", "q=1", "ftp://h/a b", ""},
		{"https://h:70000/a", "", "", "Failed to parse: https://h:70000/a"},
		{"https://*.h/a", "", "", "URL has an invalid label."},
		{"https:///a", "", "", "Invalid URL 'https:///a': No host supplied"},
		{"http.example.com:80/x", "", "", "Invalid URL 'http.example.com:80/x': No scheme supplied. Perhaps you meant https://http.example.com:80/x?"},
	} {
		// Twice: the second from the authority the first split (lastAuthority).
		for pass := range 2 {
			got, err := prepareURL(c.raw, c.query)
			switch {
			case c.err != "" && (err == nil || err.Error() != c.err):
				t.Errorf("pass %d: prepareURL(%q, %q) = %q, %v; want the error %q", pass, c.raw, c.query, got, err, c.err)
			case c.err == "" && (err != nil || got != c.want):
				t.Errorf("pass %d: prepareURL(%q, %q) = %q, %v; want %q", pass, c.raw, c.query, got, err, c.want)
			}
		}
	}
}

// uriRE is urllib3's _URI_RE, which splitURI writes out.
var uriRE = regexp.MustCompile(`(?s)^(?:([a-zA-Z][a-zA-Z0-9+.-]*):)?(?://([^\\/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$`)

// FuzzSplitURI holds splitURI to the regular expression it writes out.
func FuzzSplitURI(f *testing.F) {
	for _, s := range []string{"", "https://api.example.com/v1/a?b=c#d", "//host:80/p", "a:b", "1a:b", "+a:b", ":x", "a+b.c-d://h",
		"http:\\\\host/p", "/x?y?z#w#v", "mailto:me@x", "h://a\\b/c", "x:", "#?", "?#", "//", "http://[::1]:8/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		m := uriRE.FindStringSubmatch(u)
		scheme, authority, path, query, fragment := splitURI(u)
		if got := []string{scheme, authority, path, query, fragment}; !slices.Equal(got, m[1:]) {
			t.Fatalf("splitURI(%q) = %q, the expression gives %q", u, got, m[1:])
		}
	})
}
