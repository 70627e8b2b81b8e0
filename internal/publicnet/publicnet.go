// Package publicnet keeps an HTTP client to public HTTPS endpoints, as
// the Python CDK's entrypoint keeps a connector on Airbyte Cloud, where the
// platform starts every connector with DEPLOYMENT_MODE=cloud
// (airbyte-python-cdk, airbyte_cdk/entrypoint.py,
// _init_internal_request_filter, and utils/is_cloud_environment.py): a
// manifest, which a tenant writes, must not reach the services beside the
// connector (a cloud's metadata endpoint, the platform's own). The binary
// the platform runs (cmd/source-declarative-manifest) reads the variable
// and gives the engine such a client; the library reads no environment
// for it, as a program embedding it may use the name for its own ends.
package publicnet

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
)

// InCloud reports whether DEPLOYMENT_MODE says the process runs on Airbyte
// Cloud (compared without case, as the CDK's casefold).
func InCloud() bool { return strings.EqualFold(os.Getenv("DEPLOYMENT_MODE"), "cloud") }

// ErrPrivateEndpoint is the refusal of a request to a host with a private
// address, the CDK's "Invalid URL endpoint".
var ErrPrivateEndpoint = errors.New("invalid URL endpoint: it belongs to a private network")

// Client returns c with its transport wrapped so that each request, the
// redirects of one and token requests included, is refused unless its
// scheme is https and no address its host resolves to is private, checked
// as the CDK checks them (before the request; a host whose answer changes
// before the connection is made is not caught, there as here). A plain
// http request fails with net/http's words for a scheme it does not
// support ("unsupported protocol scheme"), as requests raises
// InvalidSchema; a private one with ErrPrivateEndpoint.
func Client(c *http.Client) *http.Client {
	p := *c
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	p.Transport = publicEndpoints{next}
	return &p
}

// publicEndpoints refuses a request to anything but a public HTTPS
// endpoint, and sends the others on next.
type publicEndpoints struct{ next http.RoundTripper }

func (p publicEndpoints) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		closeBody(req)
		return nil, fmt.Errorf("unsupported protocol scheme %q: Invalid Protocol Scheme: the endpoint that data is being requested from is using an invalid or insecure protocol %q; valid protocol schemes: https (DEPLOYMENT_MODE=cloud)",
			req.URL.Scheme, req.URL.Scheme)
	}
	host := req.URL.Hostname()
	addrs, err := net.DefaultResolver.LookupNetIP(req.Context(), "ip", host)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	for _, a := range addrs {
		if PrivateAddr(a) {
			closeBody(req)
			return nil, fmt.Errorf("%w: %q (DEPLOYMENT_MODE=cloud)", ErrPrivateEndpoint, host)
		}
	}
	return p.next.RoundTrip(req)
}

// closeBody closes a refused request's body, as a RoundTripper must.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// PrivateAddr is Python's ipaddress is_private, as the CDK's image runs it
// (Python 3.11): the networks of its _private_networks, and an IPv4-mapped
// IPv6 address by its IPv4 one.
func PrivateAddr(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range privateNetworks {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

var privateNetworks = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/29", "192.0.0.170/31", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"::1/128", "::/128", "100::/64", "2001::/23", "2001:db8::/32", "fc00::/7", "fe80::/10",
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()
