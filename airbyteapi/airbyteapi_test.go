package airbyteapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/x/goairbyte/airbyteapi"
	"github.com/x/goairbyte/cloud"
)

// New passes its options on: one that cannot work fails New, as two ways
// to authenticate do, and the ones given shape the requests.
func TestNewPassesItsOptionsOn(t *testing.T) {
	for name, opts := range map[string][]airbyteapi.Option{
		"no secret":   {airbyteapi.WithClientCredentials("id", "")},
		"no token":    {airbyteapi.WithBearerToken("")},
		"nil client":  {airbyteapi.WithHTTPClient(nil)},
		"bad retry":   {airbyteapi.WithRetry(airbyteapi.RetryPolicy{})},
		"bad config":  {airbyteapi.WithConfigAPIURL("")},
		"two secrets": {airbyteapi.WithBearerToken("t"), airbyteapi.WithClientCredentials("id", "secret")},
	} {
		if c, err := airbyteapi.New(airbyteapi.CloudURL, opts...); err == nil {
			t.Errorf("%s: New gave %v, want an error", name, c)
		}
	}
	if _, err := airbyteapi.New("not a URL"); err == nil {
		t.Error("New accepted a relative URL")
	}

	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		http.Error(w, `{"message": "no such connection"}`, http.StatusNotFound)
	}))
	defer srv.Close()
	client, err := airbyteapi.New(srv.URL, airbyteapi.WithBearerToken("tok-5d1e"), airbyteapi.WithHTTPClient(srv.Client()),
		airbyteapi.WithRetry(airbyteapi.RetryPolicy{MaxAttempts: 1, BaseDelay: 1, MaxDelay: 1}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cloud.NewWorkspace(client, "ws").Connection(context.Background(), "c1")
	if !errors.Is(err, airbyteapi.ErrNotFound) || strings.Contains(err.Error(), "tok-5d1e") {
		t.Errorf("got %v, want an error matching ErrNotFound, without the token", err)
	}
	if len(auth) != 1 || auth[0] != "Bearer tok-5d1e" {
		t.Errorf("the server saw Authorization %q, want one request with the bearer token", auth)
	}
}
