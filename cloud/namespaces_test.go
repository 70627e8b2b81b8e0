package cloud

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// usersInTwoSchemas is a source whose catalog has a stream "users" in two
// namespaces, as a database source's has a table of one name in two
// schemas, and "products" in none.
type usersInTwoSchemas struct{}

func (usersInTwoSchemas) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}

func (usersInTwoSchemas) Check(context.Context, json.RawMessage) error { return nil }

func (usersInTwoSchemas) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	stream := func(name, ns string) protocol.Stream {
		return protocol.Stream{Name: name, Namespace: ns, JSONSchema: json.RawMessage(`{"type":"object"}`),
			SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}}
	}
	return &protocol.Catalog{Streams: []protocol.Stream{stream("users", "east"), stream("users", "west"), stream("products", "")}}, nil
}

func (usersInTwoSchemas) Read(context.Context, json.RawMessage, *protocol.ConfiguredCatalog, json.RawMessage, func(*protocol.Message) error) error {
	return nil
}

// A stream selected as namespace.name reaches the connection as its name
// and namespace: Airbyte's catalog has no stream called "west.users".
func TestDeployedStreamsKeepTheirNamespace(t *testing.T) {
	srv, ws := testWorkspace(t)
	ctx := context.Background()
	src, err := source.New(ctx, "source-faker", connector.WithGoConnector(usersInTwoSchemas{}),
		connector.WithConfig(map[string]any{}), connector.WithStreams("west.users", "products"))
	if err != nil {
		t.Fatal(err)
	}
	deployed, err := ws.DeploySource(ctx, "two schemas", src)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := ws.DeployDestination(ctx, "warehouse", "destination-duckdb", map[string]any{"destination_path": t.TempDir() + "/w.duckdb"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.DeployConnection(ctx, "two schemas to duckdb", deployed, dst); err != nil {
		t.Fatal(err)
	}
	bodies := srv.Bodies("POST /connections")
	if len(bodies) != 1 {
		t.Fatalf("%d connection creations", len(bodies))
	}
	var sent struct {
		Configurations struct {
			Streams []struct{ Name, Namespace string }
		}
	}
	if err := json.Unmarshal(bodies[0], &sent); err != nil {
		t.Fatal(err)
	}
	want := []struct{ Name, Namespace string }{{"users", "west"}, {"products", ""}}
	if got := sent.Configurations.Streams; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("the connection was sent streams %+v, want %+v (%s)", got, want, bodies[0])
	}
}
