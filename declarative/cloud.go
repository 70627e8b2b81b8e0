package declarative

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
)

// On Airbyte Cloud the platform starts every connector with
// DEPLOYMENT_MODE=cloud, and the Python CDK's entrypoint then lets its
// connectors send requests to public HTTPS endpoints only (airbyte-python-cdk,
// airbyte_cdk/entrypoint.py, _init_internal_request_filter, and
// utils/is_cloud_environment.py): a manifest, which a tenant writes, must not
// reach the services beside the connector (a cloud's metadata endpoint, the
// platform's own). The engine does the same when the variable says cloud,
// whichever client it was given: each request, redirects and token requests
// included, is refused unless its scheme is https and no address its host
// resolves to is private, checked as the CDK checks them (before the
// request; a host whose answer changes before the connection is made is
// not caught, there as here).
const (
	deploymentModeEnv = "DEPLOYMENT_MODE"
	cloudMode         = "cloud"
)

// inCloud reports whether the platform says the connector runs on Airbyte
// Cloud (compared without case, as the CDK's casefold).
func inCloud() bool { return strings.EqualFold(os.Getenv(deploymentModeEnv), cloudMode) }

// publicOnly returns c with its transport wrapped in publicEndpoints.
func publicOnly(c *http.Client) *http.Client {
	p := *c
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	p.Transport = publicEndpoints{next}
	return &p
}

// publicEndpoints refuses a request to anything but a public HTTPS
// endpoint, and sends the others on next. Its errors are classified by
// transportResolution: the scheme's as requests' InvalidSchema (the CDK's
// filter raises it), the private network's as the CDK's config_error.
type publicEndpoints struct{ next http.RoundTripper }

func (p publicEndpoints) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		closeBody(req)
		return nil, fmt.Errorf("unsupported protocol scheme %q: Invalid Protocol Scheme: the endpoint that data is being requested from is using an invalid or insecure protocol %q; valid protocol schemes: https (%s=%s)",
			req.URL.Scheme, req.URL.Scheme, deploymentModeEnv, cloudMode)
	}
	host := req.URL.Hostname()
	addrs, err := net.DefaultResolver.LookupNetIP(req.Context(), "ip", host)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	for _, a := range addrs {
		if privateAddr(a) {
			closeBody(req)
			return nil, fmt.Errorf("%s: %q %s", privateNetworkText, host, privateNetworkReason)
		}
	}
	return p.next.RoundTrip(req)
}

// The words of the CDK's refusal of a private endpoint; transportResolution
// finds privateNetworkReason in the error.
const (
	privateNetworkText   = "Invalid URL endpoint"
	privateNetworkReason = "belongs to a private network"
	privateNetworkMsg    = "Invalid URL endpoint: The endpoint that data is being requested from belongs to a private network. Source connectors only support requesting data from public API endpoints."
)

// closeBody closes a refused request's body, as a RoundTripper must.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// privateAddr is Python's ipaddress is_private, as the CDK's image runs it
// (Python 3.11): the networks of its _private_networks, and an IPv4-mapped
// IPv6 address by its IPv4 one.
func privateAddr(a netip.Addr) bool {
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
