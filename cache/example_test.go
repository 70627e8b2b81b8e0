package cache_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/x/goairbyte/cache"
	_ "github.com/x/goairbyte/cache/duckdb" // serves duckdb: URLs
	"github.com/x/goairbyte/protocol"
)

// Open a cache by URL, load a source's messages into it, and read the
// stream back as a dataset.
func ExampleOpen() {
	ctx := context.Background()
	c, err := cache.Open(ctx, "duckdb::memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	// What a source's read yields: records, then a state.
	catalog := &protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{
		Stream: protocol.Stream{Name: "Users", JSONSchema: json.RawMessage(
			`{"type":"object","properties":{"id":{"type":"integer"},"age":{"type":"integer"}}}`)},
		SyncMode: protocol.SyncIncremental, PrimaryKey: [][]string{{"id"}},
	}}}
	messages := func(yield func(*protocol.Message, error) bool) {
		for i, age := range []int{25, 41, 37} {
			data := fmt.Sprintf(`{"id":%d,"age":%d}`, i+1, age)
			if !yield(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "Users", Data: json.RawMessage(data)}}, nil) {
				return
			}
		}
		yield(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream, Stream: &protocol.StreamState{
			StreamDescriptor: protocol.StreamDescriptor{Name: "Users"}, StreamState: json.RawMessage(`{"id":3}`)}}}, nil)
	}
	res, err := c.Load(ctx, cache.LoadRequest{SourceName: "source-example", Catalog: catalog, Messages: messages})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("loaded", res.Records["Users"], "records")

	users, err := c.Dataset(ctx, "Users")
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := users.Where("age > ?", 30).Count(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n, "users over 30 in", users.QualifiedTableName())

	// The next read of the source resumes from here.
	state, _ := c.SourceState(ctx, "source-example", nil)
	fmt.Println(string(state))
	// Output:
	// loaded 3 records
	// 2 users over 30 in "main"."users"
	// [{"type":"STREAM","stream":{"stream_descriptor":{"name":"Users"},"stream_state":{"id":3}}}]
}
