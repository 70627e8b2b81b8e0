package airbyteapi_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/airbytetest"
	"github.com/x/goairbyte/internal/exampleutil"
)

// A client authenticates with client credentials (renewing its 3-minute
// tokens itself) and lists with iterators that page as the loop goes.
func Example() {
	var v exampleutil.Violations
	srv, err := airbytetest.New(&v, "")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, err := airbyteapi.New(srv.URL, airbyteapi.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for ws, err := range c.Workspaces(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("workspace:", ws.Name)
		for d, err := range c.DestinationDefinitions(ctx, ws.ID) {
			if err != nil {
				log.Fatal(err)
			}
			fmt.Println("  destination type:", d.DockerRepository)
		}
	}
	_, err = c.Job(ctx, 42)
	fmt.Println("job 42 not found:", errors.Is(err, airbyteapi.ErrNotFound))
	// Output:
	// workspace: Test workspace
	//   destination type: airbyte/destination-duckdb
	//   destination type: airbyte/destination-postgres
	// job 42 not found: true
}
