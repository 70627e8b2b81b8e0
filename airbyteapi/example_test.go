package airbyteapi_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/x/goairbyte/airbyteapi"
	"github.com/x/goairbyte/cloud"
	"github.com/x/goairbyte/internal/airbytetest"
	"github.com/x/goairbyte/internal/exampleutil"
)

// A client reaches an instance with client credentials (renewing its
// 3-minute tokens itself); cloud, connections and watch work through it,
// and the server's errors match this package's sentinels.
func Example() {
	var v exampleutil.Violations
	srv, err := airbytetest.New(&v, "")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client, err := airbyteapi.New(srv.URL, airbyteapi.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret))
	if err != nil {
		log.Fatal(err)
	}
	ws := cloud.NewWorkspace(client, srv.WorkspaceID)
	_, err = ws.Connection(context.Background(), "0b0c4e2a-7f0e-4d43-9f57-3a1f8e0c2d11")
	fmt.Println("no such connection:", errors.Is(err, airbyteapi.ErrNotFound))
	fmt.Println("API violations:", v.Err())
	// Output:
	// no such connection: true
	// API violations: <nil>
}
