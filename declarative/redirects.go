package declarative

import (
	"errors"
	"net/http"
)

// maxRedirects is how many redirects a request follows, as net/http's default policy.
const maxRedirects = 10

// keptAcrossOrigins are the headers a request keeps when it is redirected to another origin
// (scheme, host or port). Every other header the request carried was set by the manifest —
// its authenticator's (an ApiKeyAuthenticator's X-Api-Key), its request_headers — and may hold
// a secret of the config.
var keptAcrossOrigins = map[string]bool{"Accept": true, "Accept-Encoding": true, "Accept-Language": true, "Content-Type": true, "User-Agent": true}

// guardRedirects returns a copy of c whose redirects to another origin carry none of the
// headers the manifest set, because net/http, as Python's requests, drops only Authorization
// and cookies there: an API that answered 302 to another host received the tenant's X-Api-Key.
// c's own CheckRedirect (or net/http's limit of ten) still decides whether to follow, and
// c's transport, jar and timeout make every request.
func guardRedirects(c *http.Client) *http.Client {
	g := *c
	check := c.CheckRedirect
	g.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if check != nil {
			if err := check(req, via); err != nil {
				return err
			}
		} else if len(via) >= maxRedirects {
			return errors.New("stopped after 10 redirects")
		}
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
			for name := range req.Header {
				if !keptAcrossOrigins[http.CanonicalHeaderKey(name)] {
					delete(req.Header, name)
				}
			}
		}
		return nil
	}
	return &g
}
