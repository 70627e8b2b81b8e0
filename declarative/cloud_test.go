package declarative

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

// TestCloudModeRefusesPrivateEndpoints: with DEPLOYMENT_MODE=cloud, as the
// Airbyte platform starts connectors on Airbyte Cloud, a manifest may reach
// public HTTPS endpoints only, as the Python CDK's entrypoint allows
// (_init_internal_request_filter): an API on a private address, here the
// loopback, fails the read at once as a config_error (never retried, no
// request sent), plain http as InvalidSchema, whatever client the engine
// was given; without the variable both are read.
func TestCloudModeRefusesPrivateEndpoints(t *testing.T) {
	var requests atomic.Int64
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte(`{"items": [{"id": 1}]}`))
	})
	tlsAPI := httptest.NewTLSServer(serve)
	defer tlsAPI.Close()
	plainAPI := httptest.NewServer(serve)
	defer plainAPI.Close()
	for _, tc := range []struct {
		name, base, want string
		opts             []Option
	}{
		{"private https", tlsAPI.URL, privateNetworkMsg, []Option{WithHTTPClient(tlsAPI.Client())}},
		{"http", plainAPI.URL, "InvalidSchema", nil},
	} {
		config, _ := json.Marshal(map[string]string{"base_url": tc.base, "api_key": "k"})
		t.Setenv(deploymentModeEnv, "")
		if msgs, err := readRedirectManifest(t, config, tc.opts...); err != nil || len(msgs) == 0 {
			t.Fatalf("%s, not in cloud mode: %v", tc.name, err)
		}
		t.Setenv(deploymentModeEnv, "CLOUD")
		requests.Store(0)
		msgs, err := readRedirectManifest(t, config, append(tc.opts, withSleep(noSleep))...)
		all := strings.Join(rawStrings(msgs), "\n")
		if err == nil || !strings.Contains(all, `"failure_type":"config_error"`) || !strings.Contains(all, tc.want) ||
			strings.Contains(all, `"type":"RECORD"`) || requests.Load() != 0 {
			t.Errorf("%s in cloud mode: err %v, %d requests, messages:\n%s\nwant a config_error saying %q and no request", tc.name, err, requests.Load(), all, tc.want)
		}
	}
}

// TestPrivateAddr holds privateAddr to Python 3.11's ipaddress is_private,
// the values python3 printed for these addresses.
func TestPrivateAddr(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"8.8.8.8": false, "10.1.2.3": true, "127.0.0.1": true, "169.254.169.254": true, "172.16.0.1": true,
		"172.32.0.1": false, "192.168.1.1": true, "100.64.0.1": false, "0.0.0.0": true, "192.0.0.7": true,
		"192.0.0.8": false, "192.0.0.171": true, "192.0.0.172": false, "192.0.2.5": true, "198.18.0.1": true,
		"198.51.100.1": true, "203.0.113.9": true, "240.0.0.1": true, "255.255.255.255": true,
		"::1": true, "::": true, "::2": false, "::ffff:8.8.8.8": false, "::ffff:10.0.0.1": true, "fc00::1": true,
		"fd12::1": true, "fe80::1": true, "fec0::1": false, "2001:db8::1": true, "2001::1": true, "2001:1ff::1": true,
		"2001:200::1": false, "2606:4700:4700::1111": false, "2002::1": false, "64:ff9b::8.8.8.8": false,
		"100::1": true, "100:0:0:1::1": false,
	} {
		if got := privateAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("privateAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}
