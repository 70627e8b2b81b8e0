package source_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/testenv"
)

// TestDockerLoopbackHint: a connector in a container given a service on
// this machine's localhost (a database or an API a user runs beside the
// program) finds nothing there, since localhost is the container itself;
// its check and its read failed with "connection refused" only. They now
// say what to do (WithHostNetwork), which then works.
func TestDockerLoopbackHint(t *testing.T) {
	t.Parallel()
	cli := testenv.Docker(t)
	const image = "goairbyte-test/dialer:0.1.0"
	testenv.BuildImage(t, cli, "./internal/testconnectors/dialer", image)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer srv.Close()
	ctx := context.Background()
	cfg := map[string]any{"url": srv.URL} // http://127.0.0.1:port
	for _, host := range []string{"127.0.0.1", "localhost"} {
		cfg["url"] = strings.Replace(srv.URL, "127.0.0.1", host, 1)
		src := newSource(t, "source-dialer", connector.WithDockerImage(image), connector.WithConfig(cfg))
		err := src.Check(ctx)
		if !errors.Is(err, connector.ErrCheckFailed) || !strings.Contains(err.Error(), "(connector.WithHostNetwork)") {
			t.Errorf("%s: check: got %v, want ErrCheckFailed with a hint of WithHostNetwork", host, err)
		}
		var n int
		for _, err := range src.Records(ctx, "items") {
			if err == nil {
				n++
				continue
			}
			if !strings.Contains(err.Error(), "(connector.WithHostNetwork)") {
				t.Errorf("%s: read: got %v, want a hint of WithHostNetwork", host, err)
			}
			break
		}
		if n != 0 {
			t.Errorf("%s: read %d records without the host's network", host, n)
		}
		// The hint's advice works.
		src = newSource(t, "source-dialer", connector.WithDockerImage(image), connector.WithHostNetwork(true), connector.WithConfig(cfg))
		if err := src.Check(ctx); err != nil {
			t.Errorf("%s: check on the host's network: %v", host, err)
		}
	}
	// A connector that fails on a host elsewhere gets no such hint.
	cfg["url"] = "http://goairbyte.invalid/"
	src := newSource(t, "source-dialer", connector.WithDockerImage(image), connector.WithConfig(cfg))
	if err := src.Check(ctx); err == nil || strings.Contains(err.Error(), "WithHostNetwork") {
		t.Errorf("check of a host elsewhere: got %v, want a failure without the hint", err)
	}
}
