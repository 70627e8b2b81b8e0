package declarative

import (
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
	if got, want := addQuery("https://x.com/a?b=1", "c=2"), "https://x.com/a?b=1&c=2"; got != want {
		t.Errorf("addQuery = %q, want %q", got, want)
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
