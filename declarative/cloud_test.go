package declarative

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/x/goairbyte/internal/publicnet"
)

// TestPublicClientRefusals: given a client that keeps to public HTTPS
// endpoints (package publicnet, what cmd/source-declarative-manifest gives
// the engine with DEPLOYMENT_MODE=cloud, as the Python CDK's entrypoint
// allows only those on Airbyte Cloud), an API on a private address, here
// the loopback, fails the read at once as the CDK's config_error (never
// retried, no request sent), plain http as InvalidSchema; with the plain
// client both are read.
func TestPublicClientRefusals(t *testing.T) {
	t.Parallel()
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
		client           *http.Client
	}{
		{"private https", tlsAPI.URL, privateNetworkMsg, tlsAPI.Client()},
		{"http", plainAPI.URL, "InvalidSchema", plainAPI.Client()},
	} {
		config, _ := json.Marshal(map[string]string{"base_url": tc.base, "api_key": "k"})
		if msgs, err := readRedirectManifest(t, config, WithHTTPClient(tc.client)); err != nil || len(msgs) == 0 {
			t.Fatalf("%s, with the plain client: %v", tc.name, err)
		}
		before := requests.Load()
		msgs, err := readRedirectManifest(t, config, WithHTTPClient(publicnet.Client(tc.client)), withSleep(noSleep))
		all := strings.Join(rawStrings(msgs), "\n")
		if err == nil || !strings.Contains(all, `"failure_type":"config_error"`) || !strings.Contains(all, tc.want) ||
			strings.Contains(all, `"type":"RECORD"`) || requests.Load() != before {
			t.Errorf("%s, public endpoints only: err %v, %d requests, messages:\n%s\nwant a config_error saying %q and no request",
				tc.name, err, requests.Load()-before, all, tc.want)
		}
	}
}
