package connections_test

import (
	"context"
	"fmt"
	"log"

	"github.com/x/goairbyte/airbyteapi"
	"github.com/x/goairbyte/connections"
	"github.com/x/goairbyte/internal/airbytetest"
	"github.com/x/goairbyte/internal/exampleutil"
)

// Declarations can be Go values as well as YAML. Here the workspace is
// goairbyte's in-repo Airbyte test server; against Airbyte Cloud, only the
// client changes.
func Example() {
	var v exampleutil.Violations
	srv, err := airbytetest.New(&v, "") // no syncs here, so no faker
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client, _ := airbyteapi.New(srv.URL, airbyteapi.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret))

	decl := &connections.Config{
		Sources:      map[string]connections.Connector{"faker": {Type: "source-faker", Config: map[string]any{"count": 10}}},
		Destinations: map[string]connections.Connector{"lake": {Type: "destination-duckdb", Config: map[string]any{"destination_path": "/data/lake.duckdb"}}},
		Connections: map[string]connections.Connection{"faker-to-lake": {
			Source: "faker", Destination: "lake", Schedule: "0 0 * * * ?",
			Streams: map[string]connections.Stream{"users": {SyncMode: "full_refresh_overwrite"}},
		}},
	}
	r, err := connections.New(client, srv.WorkspaceID, decl)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	plan, err := r.Plan(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(plan)
	if err := r.Apply(ctx, plan); err != nil {
		log.Fatal(err)
	}
	again, _ := r.Plan(ctx)
	fmt.Println("empty after apply:", again.Empty(), v.Err() == nil)
	// Output:
	// + source: faker
	//   + config:
	//     + count: 10
	//   + type: source-faker
	// + destination: lake
	//   + config:
	//     + destination_path: /data/lake.duckdb
	//   + type: destination-duckdb
	// + connection: faker-to-lake
	//   + destination: lake
	//   + namespace: destination
	//   + prefix: ""
	//   + schedule: "0 0 * * * ?"
	//   + source: faker
	//   + status: active
	//   + streams:
	//     + users:
	//       + sync_mode: full_refresh_overwrite
	// empty after apply: true true
}
